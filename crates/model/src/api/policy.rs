use super::ObjectMeta;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `vpcresources.k8s.aws/v1beta1` `SecurityGroupPolicy`, field for field as EKS
/// defines it. Unknown fields in `spec` are rejected: a misspelt selector must
/// not silently select nothing.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityGroupPolicy {
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    pub spec: SecurityGroupPolicySpec,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecurityGroupPolicySpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_selector: Option<LabelSelectorSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_selector: Option<ServiceAccountSelectorSpec>,
    pub security_groups: SecurityGroupIdsSpec,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecurityGroupIdsSpec {
    #[serde(default)]
    pub group_ids: Vec<String>,
}

/// EKS's service-account selector: a label selector over the pod's service
/// account, and optionally the names it must have.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceAccountSelectorSpec {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelSelectorRequirementSpec>,
    /// The service account's name must be one of these (EKS's `matchNames`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_names: Option<Vec<String>>,
}

/// A Kubernetes `LabelSelector` as written.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelSelectorSpec {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelSelectorRequirementSpec>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LabelSelectorRequirementSpec {
    pub key: String,
    pub operator: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}
