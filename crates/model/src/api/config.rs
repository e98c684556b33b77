use super::ObjectMeta;
use serde::{Deserialize, Serialize};

/// `podsg.io/v1alpha1` `ClusterConfig`: cluster-wide settings. At most one.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterConfig {
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: ClusterConfigSpec,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterConfigSpec {
    /// Groups carried by pods that no SGP selects and by node addresses (the
    /// EKS "node security group"). Empty: such pods are not restricted.
    #[serde(default)]
    pub default_group_ids: Vec<String>,
    /// `strict` (default) or `standard`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforcing_mode: Option<String>,
    /// `all-pods` (default: changes re-evaluate running pods) or `new-pods` (EKS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sgp_applies_to: Option<String>,
    /// Workloads (`namespace/name`) serving the cluster DNS. Default: the pods
    /// and workloads in kube-system labelled `k8s-app: kube-dns`.
    #[serde(default, rename = "clusterDNS", skip_serializing_if = "Vec::is_empty")]
    pub cluster_dns: Vec<String>,
}
