//! The objects podsg reads, exactly as they are written in manifests
//! (serde types, no validation). `crate::validate` turns them into the
//! checked domain types (`crate::group`, `crate::policy`, `crate::workload`,
//! `crate::node`, `crate::settings`).

mod config;
mod core;
mod meta;
mod policy;
mod security_group;
mod service;
mod workload;

pub use config::{ClusterConfig, ClusterConfigSpec};
pub use core::{NamespaceManifest, NodeAddress, NodeManifest, NodeStatus, ServiceAccountManifest};
pub use meta::{ObjectMeta, OwnerReference};
pub use policy::{
    LabelSelectorRequirementSpec, LabelSelectorSpec, SecurityGroupIdsSpec, SecurityGroupPolicy,
    SecurityGroupPolicySpec, ServiceAccountSelectorSpec,
};
pub use security_group::{
    IpPermission, IpRange, Ipv6Range, MemberSpec, OutsideSpec, PrefixListId, ProtocolSpec, SecurityGroupManifest,
    SecurityGroupSpec, UserIdGroupPair,
};
pub use service::{ServiceManifest, ServicePortSpec, ServiceSpec};
pub use workload::{
    ContainerPort, ContainerSpec, IntOrString, PodIp, PodManifest, PodSpec, PodStatus, PodTemplate, ProbePort,
    ProbeSpec, WorkloadManifest, WorkloadSpec,
};

/// API groups whose `SecurityGroupPolicy` podsg accepts: EKS's and Tencent TKE's.
pub const SGP_API_VERSIONS: [&str; 2] = ["vpcresources.k8s.aws/v1beta1", "vpcresources.tke.cloud.tencent.com/v1beta1"];
/// podsg's own API group.
pub const PODSG_API_VERSION: &str = "podsg.io/v1alpha1";

/// One recognised object.
#[derive(Clone, Debug)]
pub enum Object {
    SecurityGroupPolicy(SecurityGroupPolicy),
    SecurityGroup(SecurityGroupManifest),
    ClusterConfig(ClusterConfig),
    Pod(PodManifest),
    /// A controller with a pod template (Deployment, StatefulSet, ...).
    Workload(WorkloadManifest),
    Namespace(NamespaceManifest),
    ServiceAccount(ServiceAccountManifest),
    Node(NodeManifest),
    Service(ServiceManifest),
}
