use crate::labels::Labels;
use serde::Serialize;
use std::fmt;
use std::net::IpAddr;

/// A pod, or a controller's pod template standing for all of its pods.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Workload {
    /// `Pod`, `Deployment`, `StatefulSet`, ...
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// The pod's labels (for a controller: its template's).
    pub labels: Labels,
    pub service_account: String,
    pub host_network: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
    /// From `status.podIPs`/`status.podIP`; empty when not known.
    pub addresses: Vec<IpAddr>,
    pub probes: Vec<Probe>,
    /// How many pods it stands for (1 for a Pod; `spec.replicas` of a controller).
    pub replicas: u32,
    /// The controller that made it (`ReplicaSet`, name), from ownerReferences.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<(String, String)>,
}

impl Workload {
    pub fn key(&self) -> WorkloadKey {
        WorkloadKey { namespace: self.namespace.clone(), name: self.name.clone(), kind: self.kind.clone() }
    }
}

/// `Kind/namespace/name`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct WorkloadKey {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl fmt::Display for WorkloadKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.kind, self.namespace, self.name)
    }
}

/// A kubelet probe that connects to the pod, and the port it connects to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    pub container: String,
    /// `livenessProbe`, `readinessProbe` or `startupProbe`.
    pub probe: String,
    /// `tcpSocket`, `httpGet` or `grpc`.
    pub handler: String,
    pub port: u16,
}
