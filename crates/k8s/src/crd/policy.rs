//! SecurityGroupPolicy, as EKS defines it (`vpcresources.k8s.aws/v1beta1`)
//! and as Tencent's TKE serves it (`vpcresources.tke.cloud.tencent.com`):
//! one spec, two API groups. The schema refuses, even on a cluster without
//! podsg's webhook, what can never be valid: no selector, no group or more
//! than 16, an ID that is not `sg-` and lowercase letters and digits (EC2's
//! hex and Tencent's alphanumerics alike), an unknown operator, values with
//! `Exists`.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Who gets which groups: the pods of this namespace that the selectors
/// match (both, when both are given) carry `securityGroups`.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[kube(
    group = "vpcresources.k8s.aws",
    doc = "Security groups for the pods of a namespace that a selector matches (EKS's SecurityGroupPolicy).",
    version = "v1beta1",
    kind = "SecurityGroupPolicy",
    namespaced,
    shortname = "sgp",
    status = "SecurityGroupPolicyStatus",
    printcolumn = r#"{"name":"Selector","type":"string","jsonPath":".status.selector"}"#,
    printcolumn = r#"{"name":"Groups","type":"string","jsonPath":".spec.securityGroups.groupIds"}"#,
    printcolumn = r#"{"name":"Pods","type":"integer","jsonPath":".status.matchedPods"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
// The rule twice: as CEL for the API server's message, and as `anyOf` for
// validators that do not run CEL.
#[schemars(extend(
    "x-kubernetes-validations" = [{
        "rule": "has(self.podSelector) || has(self.serviceAccountSelector)",
        "message": "podSelector or serviceAccountSelector is required"
    }],
    "anyOf" = [{"required": ["podSelector"]}, {"required": ["serviceAccountSelector"]}]
))]
pub struct SecurityGroupPolicySpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_selector: Option<LabelSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_selector: Option<ServiceAccountSelector>,
    pub security_groups: GroupIds,
}

/// A standard label selector; `{}` selects every pod of the namespace.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<Requirement>,
}

/// Matches the labels of the pod's ServiceAccount object, and with
/// `matchNames` its name.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAccountSelector {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<Requirement>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_names: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{
    "rule": "(self.operator in ['In', 'NotIn']) == (has(self.values) && size(self.values) > 0)",
    "message": "In and NotIn take one or more values; Exists and DoesNotExist take none"
}]))]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum Operator {
    #[default]
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupIds {
    /// One to 16 security group IDs (EC2's default quota is 5 per
    /// interface; `podsg check` warns above it).
    #[schemars(length(min = 1, max = 16), inner(regex(pattern = r"^sg-[0-9a-z]+$")))]
    pub group_ids: Vec<String>,
}

/// What the controller found: how many pods the policy selects, a summary
/// of its selectors for `kubectl get sgp`, and whether its groups exist.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecurityGroupPolicyStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched_pods: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// A status condition, as Kubernetes writes them (`GroupsResolved`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
}

/// The same resource in Tencent's TKE API group (seed 004's manifests).
pub mod tke {
    use kube::CustomResource;
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    /// Who gets which groups: the pods of this namespace that the selectors
    /// match (both, when both are given) carry `securityGroups`.
    #[derive(CustomResource, Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
    #[kube(
        group = "vpcresources.tke.cloud.tencent.com",
        doc = "Security groups for the pods of a namespace that a selector matches (TKE's SecurityGroupPolicy).",
        version = "v1beta1",
        kind = "SecurityGroupPolicy",
        namespaced,
        shortname = "sgp",
        status = "super::SecurityGroupPolicyStatus",
        printcolumn = r#"{"name":"Selector","type":"string","jsonPath":".status.selector"}"#,
        printcolumn = r#"{"name":"Groups","type":"string","jsonPath":".spec.securityGroups.groupIds"}"#,
        printcolumn = r#"{"name":"Pods","type":"integer","jsonPath":".status.matchedPods"}"#,
        printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
    )]
    #[serde(transparent)]
    #[schemars(transparent)]
    pub struct SecurityGroupPolicySpec(pub super::SecurityGroupPolicySpec);
}
