use super::{Checked, Findings, required_name, selector::compile};
use crate::api::{LabelSelectorSpec, SecurityGroupPolicy};
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
    let sa = spec.service_account_selector.as_ref();
    let service_account_selector = sa.map(|s| {
        let labels =
            LabelSelectorSpec { match_labels: s.match_labels.clone(), match_expressions: s.match_expressions.clone() };
        compile(&labels, "spec.serviceAccountSelector", &mut f)
    });
    let service_account_names = sa.and_then(|s| s.match_names.clone()).unwrap_or_default();
    if sa.is_some_and(|s| s.match_names.as_ref().is_some_and(Vec::is_empty)) {
        f.error(
            "spec.serviceAccountSelector.matchNames",
            Some("[]".into()),
            "must name at least one service account, or be left out",
        );
    }
    for (i, name) in service_account_names.iter().enumerate() {
        if let Some(why) = crate::labels::validate_dns_subdomain(name) {
            f.error(format!("spec.serviceAccountSelector.matchNames[{i}]"), Some(name.clone()), why);
        }
    }
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
    f.finish(|| Policy { namespace, name, pod_selector, service_account_selector, service_account_names, group_ids })
}
