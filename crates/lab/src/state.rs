//! What a running lab is made of, saved as JSON so that later commands (and
//! `lab down` after a crash) know it.

use crate::error::{Result, io};
use crate::layout::root;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LabState {
    /// The manifests directory the lab was made from.
    pub source: PathBuf,
    /// Snapshot generation of the manifests the agents read.
    pub generation: u64,
    pub nodes: Vec<NodeState>,
    pub pods: Vec<PodState>,
    pub externals: Vec<ExternalState>,
    pub processes: Vec<Process>,
    /// The cluster DNS address pods resolve through.
    pub dns: Option<IpAddr>,
    /// Services and their cluster IPs, kept across `lab apply`.
    #[serde(default)]
    pub services: Vec<ServiceState>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceState {
    pub namespace: String,
    pub name: String,
    /// `None`: headless (the name resolves to the ready backends).
    pub cluster_ip: Option<Ipv4Addr>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NodeState {
    pub name: String,
    pub netns: String,
    pub address: Ipv4Addr,
    pub pod_cidr: String,
    pub socket: PathBuf,
    /// Dual-stack labs: the node's IPv6 address and pod range.
    #[serde(default)]
    pub address6: Option<std::net::Ipv6Addr>,
    #[serde(default)]
    pub pod_cidr6: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodState {
    pub namespace: String,
    pub name: String,
    /// `Kind/name` of the workload that owns it, if any.
    pub owner: Option<String>,
    pub node: usize,
    pub netns: String,
    pub container_id: String,
    pub address: Option<IpAddr>,
    /// The address its manifest names, asked of the CNI plugin.
    #[serde(default)]
    pub requested: Option<Ipv4Addr>,
    /// Its IPv6 address, in a dual-stack lab.
    #[serde(default)]
    pub address6: Option<std::net::Ipv6Addr>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExternalState {
    pub address: Ipv4Addr,
    pub names: Vec<String>,
    pub netns: String,
    /// Its IPv6 addresses (members of the same name), in a dual-stack lab.
    #[serde(default)]
    pub addresses6: Vec<std::net::Ipv6Addr>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Process {
    pub pid: u32,
    pub what: String,
    pub netns: String,
}

fn path() -> PathBuf {
    root().join("state.json")
}

impl ServiceState {
    /// `NAME.NAMESPACE.svc.cluster.local`.
    pub fn fqdn(&self) -> String {
        format!("{}.{}.svc.{}", self.name, self.namespace, podsg_model::kube_service::CLUSTER_DOMAIN)
    }
}

impl LabState {
    /// Pod `namespace/name`, when it runs.
    pub fn pod(&self, namespace: &str, name: &str) -> Option<&PodState> {
        self.pods.iter().find(|s| s.namespace == namespace && s.name == name)
    }

    pub fn load() -> Result<Option<LabState>> {
        match std::fs::read(path()) {
            Ok(bytes) => Ok(Some(
                serde_json::from_slice(&bytes).map_err(|e| crate::Error::Step(format!("{}: {e}", path().display())))?,
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(path().display().to_string())(e)),
        }
    }

    pub fn save(&self) -> Result<()> {
        let staged = path().with_extension("json.tmp");
        std::fs::write(&staged, serde_json::to_vec_pretty(self).expect("state serializes"))
            .map_err(io(staged.display().to_string()))?;
        std::fs::rename(&staged, path()).map_err(io(path().display().to_string()))
    }

    /// The pods a target names: a pod by name, or every pod of a workload.
    pub fn pods_of(&self, target: &str) -> Vec<&PodState> {
        let Some((ns, name)) = target.split_once('/') else { return Vec::new() };
        let exact: Vec<&PodState> = self.pods.iter().filter(|p| p.namespace == ns && p.name == name).collect();
        if !exact.is_empty() {
            return exact;
        }
        self.pods
            .iter()
            .filter(|p| {
                p.namespace == ns && p.owner.as_deref().and_then(|o| o.split_once('/')).map(|(_, n)| n) == Some(name)
            })
            .collect()
    }
}
