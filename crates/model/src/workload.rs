use crate::labels::Labels;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

/// What a workload is: a pod, or a controller whose pod template stands
/// for its pods. Variants in name order, as keys sort.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum WorkloadKind {
    DaemonSet,
    Deployment,
    Job,
    Pod,
    ReplicaSet,
    StatefulSet,
}

impl WorkloadKind {
    pub const ALL: [WorkloadKind; 6] = [
        WorkloadKind::DaemonSet,
        WorkloadKind::Deployment,
        WorkloadKind::Job,
        WorkloadKind::Pod,
        WorkloadKind::ReplicaSet,
        WorkloadKind::StatefulSet,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::DaemonSet => "DaemonSet",
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::Job => "Job",
            WorkloadKind::Pod => "Pod",
            WorkloadKind::ReplicaSet => "ReplicaSet",
            WorkloadKind::StatefulSet => "StatefulSet",
        }
    }

    /// By its name, in any case (`deployment` on a command line).
    pub fn parse(name: &str) -> Option<WorkloadKind> {
        Self::ALL.into_iter().find(|k| k.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A pod, or a controller's pod template standing for all of its pods.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Workload {
    pub kind: WorkloadKind,
    pub namespace: String,
    pub name: String,
    /// The pod's labels (for a controller: its template's).
    pub labels: Labels,
    /// The pod's annotations (for a controller: its template's): the
    /// controller's `vpc.amazonaws.com/pod-eni` is read back from them.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    pub service_account: String,
    pub host_network: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
    /// From `status.podIPs`/`status.podIP`; empty when not known.
    pub addresses: Vec<IpAddr>,
    pub probes: Vec<Probe>,
    /// Its containers' ports (a Service's named target port is looked up here).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ContainerPortInfo>,
    /// How many pods it stands for (1 for a Pod; `spec.replicas` of a controller).
    pub replicas: u32,
    /// The controller that made it (`ReplicaSet`, name), from ownerReferences.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<(String, String)>,
}

impl Workload {
    pub fn key(&self) -> WorkloadKey {
        WorkloadKey { namespace: self.namespace.clone(), name: self.name.clone(), kind: self.kind }
    }
}

/// `Kind/namespace/name`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct WorkloadKey {
    pub kind: WorkloadKind,
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

/// The transport protocols of container and Service ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum L4Protocol {
    #[serde(rename = "TCP")]
    Tcp,
    #[serde(rename = "UDP")]
    Udp,
    #[serde(rename = "SCTP")]
    Sctp,
}

impl L4Protocol {
    pub const RULE: &'static str = "must be TCP, UDP or SCTP";

    /// As Kubernetes spells it; absent is TCP.
    pub fn parse(s: Option<&str>) -> Option<L4Protocol> {
        match s {
            None | Some("TCP") => Some(L4Protocol::Tcp),
            Some("UDP") => Some(L4Protocol::Udp),
            Some("SCTP") => Some(L4Protocol::Sctp),
            Some(_) => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            L4Protocol::Tcp => "TCP",
            L4Protocol::Udp => "UDP",
            L4Protocol::Sctp => "SCTP",
        }
    }

    /// The IP protocol, as security group rules name it.
    pub fn ip_protocol(self) -> crate::group::Protocol {
        match self {
            L4Protocol::Tcp => crate::group::Protocol::TCP,
            L4Protocol::Udp => crate::group::Protocol::UDP,
            L4Protocol::Sctp => crate::group::Protocol::Number(132),
        }
    }
}

impl fmt::Display for L4Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A container port, as `spec.containers[].ports[]` declares it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPortInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub port: u16,
    pub protocol: L4Protocol,
}
