//! The statuses the controller writes: on each SGP how many pods it
//! selects, a summary of its selectors and whether its groups exist
//! (`GroupsResolved`); on each SecurityGroup its rule and member counts and
//! who names it. Written only when they differ from what the API server
//! shows.

use super::state::State;
use super::writes::Write;
use crate::crd::{Condition, SecurityGroupPolicyStatus, SecurityGroupStatus};
use podsg_model::group::SgId;
use podsg_model::policy::Policy;
use podsg_model::workload::WorkloadKind;

impl State {
    pub(super) fn plan_policy(&self, namespace: &str, name: &str) -> Vec<Write> {
        let id = (namespace.to_string(), name.to_string());
        let mut writes = Vec::new();
        if let Some(seen) = self.policies.get(&id) {
            let status = match (&seen.invalid, self.world.policies().policy(namespace, name)) {
                (Some(why), _) => self.refused(seen.status.as_ref(), "Invalid", why),
                (None, Some(policy)) => self.policy_status(policy, seen.status.as_ref()),
                (None, None) => return writes,
            };
            if seen.status.as_ref() != Some(&status) {
                writes.push(Write::PolicyStatus { api: seen.api, namespace: id.0.clone(), name: id.1.clone(), status });
            }
        }
        if let Some((api, _, observed)) = self.shadowed.get(&id) {
            let first = self.policies.get(&id).map_or("the other API group", |p| p.api.group());
            let why = format!("a SecurityGroupPolicy {namespace}/{name} in {first} is in force; rename one of them");
            let status = self.refused(observed.as_ref(), "Shadowed", &why);
            if observed.as_ref() != Some(&status) {
                writes.push(Write::PolicyStatus { api: *api, namespace: id.0, name: id.1, status });
            }
        }
        writes
    }

    fn policy_status(
        &self,
        policy: &Policy,
        observed: Option<&SecurityGroupPolicyStatus>,
    ) -> SecurityGroupPolicyStatus {
        let matched = self
            .world
            .in_namespace(&policy.namespace)
            .filter(|(w, r)| w.kind == WorkloadKind::Pod && r.policies().contains(&policy.name))
            .count();
        let missing = self.world.policy_missing_groups(policy);
        let condition = if missing.is_empty() {
            self.condition(observed, "True", "GroupsExist", "every group exists".into())
        } else {
            let messages: Vec<String> = missing.iter().map(|d| d.message.clone()).collect();
            self.condition(observed, "False", "GroupNotFound", messages.join("; "))
        };
        SecurityGroupPolicyStatus {
            matched_pods: Some(u32::try_from(matched).unwrap_or(u32::MAX)),
            selector: Some(selector_summary(policy)),
            conditions: vec![condition],
        }
    }

    /// The status of an SGP that is not in force.
    fn refused(
        &self,
        observed: Option<&SecurityGroupPolicyStatus>,
        reason: &str,
        why: &str,
    ) -> SecurityGroupPolicyStatus {
        SecurityGroupPolicyStatus {
            matched_pods: Some(0),
            selector: None,
            conditions: vec![self.condition(observed, "False", reason, why.to_string())],
        }
    }

    /// `GroupsResolved`, keeping its transition time while its status holds.
    fn condition(
        &self,
        observed: Option<&SecurityGroupPolicyStatus>,
        status: &str,
        reason: &str,
        message: String,
    ) -> Condition {
        let previous = observed.and_then(|s| s.conditions.iter().find(|c| c.type_ == GROUPS_RESOLVED));
        let since = match previous {
            Some(c) if c.status == status => c.last_transition_time.clone(),
            _ => None,
        };
        Condition {
            type_: GROUPS_RESOLVED.into(),
            status: status.into(),
            reason: Some(reason.into()),
            message: Some(message),
            last_transition_time: Some(since.unwrap_or_else(self.now)),
        }
    }

    pub(super) fn plan_group(&self, id: &SgId) -> Option<Write> {
        let observed = self.groups.get(id)?;
        let group = self.world.group(id)?;
        let count = |n: usize| Some(u32::try_from(n).unwrap_or(u32::MAX));
        let mut referenced_by: Vec<String> = self
            .world
            .referrers(id)
            .map(|r| match (&r.object.namespace, r.object.kind.as_str()) {
                (Some(ns), _) => format!("{ns}/{}", r.object.name),
                (None, "SecurityGroup") => r.object.name.clone(),
                (None, kind) => format!("{kind}/{}", r.object.name),
            })
            .collect();
        referenced_by.sort();
        referenced_by.dedup();
        let status = SecurityGroupStatus {
            ingress_rules: count(group.ingress.len()),
            egress_rules: count(group.egress.len()),
            members: count(self.world.member_count(id)),
            referenced_by,
        };
        (observed.as_ref() != Some(&status)).then(|| Write::GroupStatus { name: id.to_string(), status })
    }
}

pub const GROUPS_RESOLVED: &str = "GroupsResolved";

/// What `kubectl get sgp` shows in its Selector column.
fn selector_summary(policy: &Policy) -> String {
    let mut parts = Vec::new();
    if let Some(s) = &policy.pod_selector {
        parts.push(format!("pods: {s}"));
    }
    if let Some(s) = &policy.service_account_selector {
        parts.push(format!("service accounts: {s}"));
    }
    if !policy.service_account_names.is_empty() {
        parts.push(format!("service account names: {}", policy.service_account_names.join(",")));
    }
    parts.join("; ")
}
