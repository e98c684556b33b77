//! SecurityGroupPolicy, as EKS defines it (`vpcresources.k8s.aws/v1beta1`)
//! and as Tencent's TKE serves it (`vpcresources.tke.cloud.tencent.com`):
//! one spec, two API groups. The schema refuses, even on a cluster without
//! podsg's webhook, what can never be valid: no selector, no group or more
//! than 16, an ID that is not `sg-` and lowercase letters and digits (EC2's
//! hex and Tencent's alphanumerics alike), an unknown operator, values with
//! `Exists`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The resource in one API group: the same spec, status and columns in
/// each, written once.
macro_rules! security_group_policy {
    ($group:tt, $doc:tt) => {
        // The spec is the model's own manifest type: its schema (and the
        // validation it carries) is derived there, behind the `schema` feature.
        /// Who gets which groups: the pods of this namespace that the selectors
        /// match (both, when both are given) carry `securityGroups`.
        #[derive(kube::CustomResource, Clone, Debug, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
        #[kube(
                    group = $group,
                    version = "v1beta1",
                    kind = "SecurityGroupPolicy",
                    doc = $doc,
                    namespaced,
                    shortname = "sgp",
                    status = "crate::crd::SecurityGroupPolicyStatus",
                    printcolumn = r#"{"name":"Selector","type":"string","jsonPath":".status.selector"}"#,
                    printcolumn = r#"{"name":"Groups","type":"string","jsonPath":".spec.securityGroups.groupIds"}"#,
                    printcolumn = r#"{"name":"Pods","type":"integer","jsonPath":".status.matchedPods"}"#,
                    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
                )]
        #[serde(transparent)]
        #[schemars(transparent)]
        pub struct SecurityGroupPolicySpec(pub podsg_model::api::SecurityGroupPolicySpec);
    };
}

security_group_policy!(
    "vpcresources.k8s.aws",
    "Security groups for the pods of a namespace that a selector matches (EKS's SecurityGroupPolicy)."
);

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
    security_group_policy!(
        "vpcresources.tke.cloud.tencent.com",
        "Security groups for the pods of a namespace that a selector matches (TKE's SecurityGroupPolicy)."
    );
}
