//! Cluster-level objects: ClusterConfig, Namespace, ServiceAccount, Node.

use super::workload::labels;
use super::{Checked, Findings, required_name};
use crate::api::{ClusterConfig, NamespaceManifest, NodeManifest, ServiceAccountManifest};
use crate::group::SgId;
use crate::labels::Labels;
use crate::node::Node;
use crate::settings::Settings;
use std::net::IpAddr;

pub fn cluster_config(m: &ClusterConfig) -> Checked<Settings> {
    let mut f = Findings::default();
    let spec = &m.spec;
    let mut default_group_ids = Vec::new();
    for (i, raw) in spec.default_group_ids.iter().enumerate() {
        match SgId::parse(raw) {
            Ok(id) if default_group_ids.contains(&id) => {
                f.error(format!("spec.defaultGroupIds[{i}]"), Some(raw.clone()), "duplicate security group ID")
            }
            Ok(id) => default_group_ids.push(id),
            Err(why) => f.error(format!("spec.defaultGroupIds[{i}]"), Some(raw.clone()), why),
        }
    }
    let enforcing_mode = optional(&spec.enforcing_mode, "spec.enforcingMode", &mut f);
    let sgp_applies_to = optional(&spec.sgp_applies_to, "spec.sgpAppliesTo", &mut f);
    for (i, target) in spec.cluster_dns.iter().enumerate() {
        let ok = matches!(target.split_once('/'), Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains('/'));
        if !ok {
            f.error(
                format!("spec.clusterDNS[{i}]"),
                Some(target.clone()),
                "must be namespace/name of a pod or workload",
            );
        }
    }
    f.finish(|| Settings { default_group_ids, enforcing_mode, sgp_applies_to, cluster_dns: spec.cluster_dns.clone() })
}

/// An optional setting: its default when absent, an error when unparsable.
fn optional<T: std::str::FromStr<Err = String> + Default>(value: &Option<String>, path: &str, f: &mut Findings) -> T {
    match value.as_deref().map(str::parse) {
        None => T::default(),
        Some(Ok(v)) => v,
        Some(Err(why)) => {
            f.error(path, value.clone(), why);
            T::default()
        }
    }
}

/// A namespace and its labels.
pub fn namespace(m: &NamespaceManifest) -> Checked<(String, Labels)> {
    let mut f = Findings::default();
    let name = required_name(&m.metadata.name, &mut f, "the namespace's name");
    labels(&m.metadata.labels, "metadata.labels", &mut f);
    f.finish(|| (name, m.metadata.labels.clone()))
}

/// A service account: `(namespace, name, labels)`. Its labels are what
/// `serviceAccountSelector` matches.
pub fn service_account(m: &ServiceAccountManifest) -> Checked<(String, String, Labels)> {
    let mut f = Findings::default();
    let name = required_name(&m.metadata.name, &mut f, "the service account's name");
    let namespace = m.metadata.namespace();
    labels(&m.metadata.labels, "metadata.labels", &mut f);
    f.finish(|| (namespace, name, m.metadata.labels.clone()))
}

pub fn node(m: &NodeManifest) -> Checked<Node> {
    let mut f = Findings::default();
    let name = required_name(&m.metadata.name, &mut f, "the node's name");
    let mut addresses = Vec::new();
    for (i, a) in m.status.addresses.iter().enumerate() {
        if a.kind != "InternalIP" {
            continue;
        }
        match a.address.parse::<IpAddr>() {
            Ok(ip) => addresses.push(ip),
            Err(_) => f.error(format!("status.addresses[{i}].address"), Some(a.address.clone()), "not an IP address"),
        }
    }
    f.finish(|| Node { name, addresses })
}
