use super::{Checked, Findings, required_name, selector::compile};
use crate::api::SecurityGroupPolicy;
use crate::group::SgId;
use crate::lint::EKS_GROUPS_PER_INTERFACE;
use crate::policy::Policy;

/// The EKS SecurityGroupPolicy CRD's `maxItems` for `groupIds`.
pub const MAX_GROUP_IDS: usize = 16;

pub fn policy(m: &SecurityGroupPolicy) -> Checked<Policy> {
    let mut f = Findings::default();
    let name = required_name(&m.metadata.name, &mut f, "the policy's name");
    let namespace = m.metadata.namespace();
    let spec = &m.spec;
    if spec.pod_selector.is_none() && spec.service_account_selector.is_none() {
        f.error(
            "spec",
            None,
            "one of podSelector or serviceAccountSelector is required (podSelector: {} selects every pod in the namespace)",
        );
    }
    let pod_selector = spec.pod_selector.as_ref().map(|s| compile(s, "spec.podSelector", &mut f));
    let service_account_selector =
        spec.service_account_selector.as_ref().map(|s| compile(s, "spec.serviceAccountSelector", &mut f));
    let ids = &spec.security_groups.group_ids;
    if ids.is_empty() {
        f.error("spec.securityGroups.groupIds", Some("[]".into()), "at least one security group ID is required");
    }
    if ids.len() > MAX_GROUP_IDS {
        f.error(
            "spec.securityGroups.groupIds",
            None,
            format!("{} security group IDs; the SecurityGroupPolicy CRD allows at most {MAX_GROUP_IDS}", ids.len()),
        );
    } else if ids.len() > EKS_GROUPS_PER_INTERFACE {
        f.warning(
            "spec.securityGroups.groupIds",
            None,
            format!(
                "{} security group IDs; EC2's default quota is {EKS_GROUPS_PER_INTERFACE} per network interface \
                 (the aws backend fails to attach more unless the quota is raised)",
                ids.len()
            ),
        );
    }
    let mut seen: Vec<(usize, SgId)> = Vec::new();
    for (i, raw) in ids.iter().enumerate() {
        let path = format!("spec.securityGroups.groupIds[{i}]");
        match SgId::parse(raw) {
            Err(why) => f.error(path, Some(raw.clone()), why),
            Ok(id) => match seen.iter().find(|(_, g)| *g == id) {
                Some((first, _)) => {
                    f.error(path, Some(raw.clone()), format!("duplicate security group ID (also groupIds[{first}])"))
                }
                None => seen.push((i, id)),
            },
        }
    }
    let group_ids = seen.into_iter().map(|(_, id)| id).collect();
    f.finish(|| Policy { namespace, name, pod_selector, service_account_selector, group_ids })
}
