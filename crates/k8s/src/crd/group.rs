//! SecurityGroup (`podsg.io/v1alpha1`, cluster-scoped): EC2's rule model,
//! so that `aws ec2 describe-security-groups` output imports unchanged. The
//! spec is the model's own manifest type, not a copy of it.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A security group; its name is the ID that SGPs list.
#[derive(CustomResource, Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[kube(
    group = "podsg.io",
    version = "v1alpha1",
    kind = "SecurityGroup",
    doc = "A security group: stateful allow rules in EC2's model; pods carry it through SecurityGroupPolicies.",
    status = "SecurityGroupStatus",
    printcolumn = r#"{"name":"Group name","type":"string","jsonPath":".spec.groupName"}"#,
    printcolumn = r#"{"name":"Ingress","type":"integer","jsonPath":".status.ingressRules"}"#,
    printcolumn = r#"{"name":"Egress","type":"integer","jsonPath":".status.egressRules"}"#,
    printcolumn = r#"{"name":"Members","type":"integer","jsonPath":".status.members"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(transparent)]
#[schemars(transparent)]
pub struct SecurityGroupSpec(pub podsg_model::api::SecurityGroupSpec);

/// What the controller found: rule and member counts for `kubectl get`,
/// and who references the group.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecurityGroupStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress_rules: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egress_rules: Option<u32>,
    /// Member addresses: pods, external members, nodes for default groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<u32>,
    /// `namespace/name` of the SGPs and the IDs of the groups that name it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub referenced_by: Vec<String>,
}
