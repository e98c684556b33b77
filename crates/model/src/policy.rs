use crate::group::SgId;
use crate::labels::Selector;
use serde::Serialize;

/// A checked SecurityGroupPolicy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    pub namespace: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_selector: Option<Selector>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account_selector: Option<Selector>,
    /// `serviceAccountSelector.matchNames`: empty when any name will do.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub service_account_names: Vec<String>,
    pub group_ids: Vec<SgId>,
}

impl Policy {
    /// Whether `other` selects exactly the pods this one selects (the same
    /// SGP with, at most, other groups).
    pub fn same_selection(&self, other: &Policy) -> bool {
        self.namespace == other.namespace
            && self.name == other.name
            && self.pod_selector == other.pod_selector
            && self.service_account_selector == other.service_account_selector
            && self.service_account_names == other.service_account_names
    }

    /// Whether the policy selects a pod with these labels whose service
    /// account has this name and these labels. Both selectors must match
    /// when both are given.
    pub fn selects(
        &self,
        pod_labels: &crate::labels::Labels,
        sa_name: &str,
        sa_labels: &crate::labels::Labels,
    ) -> bool {
        self.pod_selector.as_ref().is_none_or(|s| s.matches(pod_labels))
            && self.service_account_selector.as_ref().is_none_or(|s| s.matches(sa_labels))
            && (self.service_account_names.is_empty() || self.service_account_names.iter().any(|n| n == sa_name))
    }
}
