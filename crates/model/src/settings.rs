use crate::group::SgId;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// How much of a pod's traffic its groups govern.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EnforcingMode {
    /// Every packet to or from a pod is checked, node-to-pod included (EKS default).
    #[default]
    Strict,
    /// Traffic between a pod and its own node is not checked.
    Standard,
}

impl FromStr for EnforcingMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "strict" => Ok(EnforcingMode::Strict),
            "standard" => Ok(EnforcingMode::Standard),
            _ => Err("must be strict or standard".into()),
        }
    }
}

impl fmt::Display for EnforcingMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EnforcingMode::Strict => "strict",
            EnforcingMode::Standard => "standard",
        })
    }
}

/// Which pods a change of SGP or labels reaches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppliesTo {
    /// Running pods are re-evaluated at once (podsg default).
    #[default]
    AllPods,
    /// Only pods created afterwards (EKS behaviour).
    NewPods,
}

impl FromStr for AppliesTo {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "all-pods" => Ok(AppliesTo::AllPods),
            "new-pods" => Ok(AppliesTo::NewPods),
            _ => Err("must be all-pods or new-pods".into()),
        }
    }
}

/// Cluster-wide settings (the ClusterConfig object, or the defaults).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// Groups of pods no SGP selects and of node addresses. Empty: those pods
    /// are not restricted (the shipped default, which changes nothing).
    pub default_group_ids: Vec<SgId>,
    pub enforcing_mode: EnforcingMode,
    pub sgp_applies_to: AppliesTo,
    /// `namespace/name` of the workloads serving the cluster DNS; empty means
    /// "find kube-system pods labelled k8s-app=kube-dns".
    #[serde(rename = "clusterDNS")]
    pub cluster_dns: Vec<String>,
}
