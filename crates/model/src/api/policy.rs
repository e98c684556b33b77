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

/// Who gets which groups: the pods of this namespace that the selectors
/// match (both, when both are given) carry `securityGroups`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
// The rule twice in the CRD: as CEL for the API server's message, and as
// `anyOf` for validators that do not run CEL.
#[cfg_attr(feature = "schema", schemars(extend(
    "x-kubernetes-validations" = [{
        "rule": "has(self.podSelector) || has(self.serviceAccountSelector)",
        "message": "podSelector or serviceAccountSelector is required"
    }],
    "anyOf" = [{"required": ["podSelector"]}, {"required": ["serviceAccountSelector"]}]
)))]
pub struct SecurityGroupPolicySpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_selector: Option<LabelSelectorSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_selector: Option<ServiceAccountSelectorSpec>,
    pub security_groups: SecurityGroupIdsSpec,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
// Read with a default here (so that `check` names the missing list), but
// required by the CRD.
#[cfg_attr(feature = "schema", schemars(extend("required" = ["groupIds"])))]
pub struct SecurityGroupIdsSpec {
    /// One to 16 security group IDs (EC2's default quota is 5 per
    /// interface; `podsg check` warns above it).
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = 16), inner(regex(pattern = r"^sg-[0-9a-z]+$"))))]
    pub group_ids: Vec<String>,
}

/// EKS's service-account selector: a label selector over the pod's service
/// account, and optionally the names it must have.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelSelectorSpec {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelSelectorRequirementSpec>,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", schemars(extend("x-kubernetes-validations" = [{
    "rule": "(self.operator in ['In', 'NotIn']) == (has(self.values) && size(self.values) > 0)",
    "message": "In and NotIn take one or more values; Exists and DoesNotExist take none"
}])))]
pub struct LabelSelectorRequirementSpec {
    pub key: String,
    #[cfg_attr(feature = "schema", schemars(extend("enum" = ["In", "NotIn", "Exists", "DoesNotExist"])))]
    pub operator: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}
