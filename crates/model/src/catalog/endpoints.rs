//! Naming the ends of a flow: `NS/NAME`, `KIND/NS/NAME`, a member's name,
//! `node[/NAME]`, or an IP address.

use super::Catalog;
use crate::group::SgId;
use crate::resolve::GroupSource;
use crate::verdict::{Endpoint, Role};
use crate::workload::{Workload, WorkloadKind};
use std::net::IpAddr;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    #[error(
        "{target}: not found{hint}; expected NAMESPACE/NAME of a pod or workload, KIND/NAMESPACE/NAME, the name of a SecurityGroup member, node or node/NAME, or an IP address"
    )]
    NotFound { target: String, hint: String },
    #[error("{target} is ambiguous: it names {candidates}; write KIND/NAMESPACE/NAME")]
    Ambiguous { target: String, candidates: String },
}

impl Catalog {
    /// Finds the endpoint a target names.
    pub fn endpoint(&self, target: &str) -> Result<Endpoint, TargetError> {
        if target == "node" {
            return Ok(self.node_endpoint(None));
        }
        if let Some(name) = target.strip_prefix("node/") {
            return Ok(self.node_endpoint(Some(name)));
        }
        if let Ok(ip) = target.parse::<IpAddr>() {
            return Ok(self.address_endpoint(ip));
        }
        let parts: Vec<&str> = target.split('/').collect();
        let found: Vec<&Workload> = match parts.as_slice() {
            [ns, name] => {
                let named: Vec<&Workload> =
                    self.workloads.iter().filter(|w| w.namespace == *ns && w.name == *name).collect();
                if named.is_empty()
                    && let Some(controller) = self.controller_of_pod_name(ns, name)
                {
                    let mut e = self.workload_endpoint(controller);
                    e.why =
                        format!("pod {name} is not in the manifests; its {} stands for it: {}", controller.kind, e.why);
                    return Ok(e);
                }
                named
            }
            [kind, ns, name] => self
                .workloads
                .iter()
                .filter(|w| WorkloadKind::parse(kind) == Some(w.kind) && w.namespace == *ns && w.name == *name)
                .collect(),
            [name] => return self.member_by_name(name).ok_or_else(|| self.not_found(target)),
            _ => vec![],
        };
        match found.as_slice() {
            [] => Err(self.not_found(target)),
            [w] => Ok(self.workload_endpoint(w)),
            many => Err(TargetError::Ambiguous {
                target: target.into(),
                candidates: many.iter().map(|w| w.key().to_string()).collect::<Vec<_>>().join(" and "),
            }),
        }
    }

    pub fn workload_endpoint(&self, w: &Workload) -> Endpoint {
        let r = self.resolve(w);
        let mut why = match &r.source {
            GroupSource::Policies(names) => format!("selected by SecurityGroupPolicy {}", names.join(", ")),
            GroupSource::Default => "no SecurityGroupPolicy selects it: it carries the default groups".into(),
            GroupSource::Unrestricted => {
                "no SecurityGroupPolicy selects it and no default groups are configured".into()
            }
            GroupSource::HostNetwork => "hostNetwork: it uses the node's address and the node's groups".into(),
            GroupSource::Kept(names) => {
                let now = match names.as_slice() {
                    [] => "no SecurityGroupPolicy selects it now".to_string(),
                    names => format!("SecurityGroupPolicy {} selects it now", names.join(", ")),
                };
                format!("sgpAppliesTo is new-pods: it keeps the groups recorded when it was first selected ({now})")
            }
        };
        if let Some(sa) = &r.unknown_service_account {
            why.push_str(&format!(
                " (ServiceAccount {sa} is not in the manifests; serviceAccountSelectors saw no labels)"
            ));
        }
        let role = match r.source {
            GroupSource::HostNetwork => Role::Node { name: w.node_name.clone() },
            _ => Role::Pod { node: w.node_name.clone(), restricted: r.is_restricted() },
        };
        Endpoint { id: w.key().to_string(), role, addresses: w.addresses.clone(), groups: r.groups, why }
    }

    /// A node's own address; `None`: the node the other end runs on.
    pub fn node_endpoint(&self, name: Option<&str>) -> Endpoint {
        let addresses = name
            .and_then(|n| self.nodes.iter().find(|node| node.name == n))
            .map(|node| node.addresses.clone())
            .unwrap_or_default();
        Endpoint {
            id: match name {
                Some(n) => format!("node/{n}"),
                None => "node".into(),
            },
            role: Role::Node { name: name.map(str::to_string) },
            addresses,
            groups: self.settings.default_group_ids.clone(),
            why: "node addresses carry the default groups".into(),
        }
    }

    /// The groups that list `address` as a member, in ID order.
    fn member_groups(&self, address: IpAddr) -> Vec<SgId> {
        self.groups.values().filter(|g| g.members.iter().any(|m| m.address == address)).map(|g| g.id.clone()).collect()
    }

    fn member_endpoint(&self, address: IpAddr, name: Option<&str>) -> Option<Endpoint> {
        let groups = self.member_groups(address);
        if groups.is_empty() {
            return None;
        }
        let labels: Vec<String> = groups.iter().map(|g| self.group_label(g)).collect();
        Some(Endpoint {
            id: match name {
                Some(n) => format!("member/{n}"),
                None => format!("member/{address}"),
            },
            role: Role::Member,
            addresses: vec![address],
            groups,
            why: format!("external member of {}", labels.join(", ")),
        })
    }

    /// The controller a pod name as `kubectl get pods` prints it comes
    /// from: `NAME-HASH-XXXXX` (Deployment), `NAME-XXXXX` (DaemonSet, Job,
    /// ReplicaSet), `NAME-0` (StatefulSet).
    fn controller_of_pod_name(&self, namespace: &str, pod: &str) -> Option<&Workload> {
        let one = pod.rsplit_once('-').map(|(p, _)| p)?;
        let two = one.rsplit_once('-').map(|(p, _)| p);
        use WorkloadKind::*;
        let controllers = [Deployment, StatefulSet, DaemonSet, Job, ReplicaSet];
        [two, Some(one)]
            .into_iter()
            .flatten()
            .find_map(|name| controllers.iter().find_map(|kind| self.workload(*kind, namespace, name)))
    }

    /// Not found, with the closest names there are.
    fn not_found(&self, target: &str) -> TargetError {
        let names: Vec<String> = self
            .workloads
            .iter()
            .map(|w| format!("{}/{}", w.namespace, w.name))
            .chain(self.groups.values().flat_map(|g| &g.members).filter_map(|m| m.name.clone()))
            .collect();
        let hint = match crate::suggest::closest(target, names.iter().map(String::as_str)) {
            Some(name) => format!(" (did you mean {name}?)"),
            None => String::new(),
        };
        TargetError::NotFound { target: target.into(), hint }
    }

    fn member_by_name(&self, name: &str) -> Option<Endpoint> {
        let address = self.groups.values().flat_map(|g| &g.members).find(|m| m.name.as_deref() == Some(name))?.address;
        self.member_endpoint(address, Some(name))
    }

    /// Whatever owns an address: a pod, a member, a node, or nothing known.
    pub fn address_endpoint(&self, ip: IpAddr) -> Endpoint {
        if let Some(w) = self.workloads.iter().find(|w| w.addresses.contains(&ip)) {
            return self.workload_endpoint(w);
        }
        let name = self.groups.values().flat_map(|g| &g.members).find(|m| m.address == ip).and_then(|m| m.name.clone());
        if let Some(e) = self.member_endpoint(ip, name.as_deref()) {
            return e;
        }
        if let Some(node) = self.nodes.iter().find(|n| n.addresses.contains(&ip)) {
            return self.node_endpoint(Some(&node.name));
        }
        Endpoint {
            id: format!("address/{ip}"),
            role: Role::External,
            addresses: vec![ip],
            groups: Vec::new(),
            why: "an address no pod, member or node has".into(),
        }
    }
}
