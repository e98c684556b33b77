//! Endpoints that every rule treats alike, as one class: the same role,
//! the same groups, and addresses in the same CIDRs of every rule. A
//! flow's verdict depends on nothing else, so one member of a class
//! stands for all of it, before and after the change.

use crate::catalog::Catalog;
use crate::group::Peer;
use crate::verdict::Endpoint;
use ipnet::IpNet;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

/// An endpoint as it is before and after (`None`: it does not exist there).
#[derive(Clone, Debug)]
pub struct Class {
    pub before: Option<Endpoint>,
    pub after: Option<Endpoint>,
    /// The ids of the endpoints it stands for, in order.
    pub ids: Vec<String>,
}

/// Every pod or workload, every external member, and `node` (kubelet on
/// the other end's node), by id.
pub fn endpoints(c: &Catalog) -> BTreeMap<String, Endpoint> {
    let mut out = BTreeMap::new();
    for w in &c.workloads {
        let e = c.workload_endpoint(w);
        out.insert(e.id.clone(), e);
    }
    let addresses: BTreeSet<IpAddr> = c.groups.values().flat_map(|g| &g.members).map(|m| m.address).collect();
    for a in addresses {
        let e = c.address_endpoint(a);
        out.insert(e.id.clone(), e);
    }
    let node = c.node_endpoint(None);
    out.insert(node.id.clone(), node);
    out
}

/// Every CIDR that a rule of either side names.
fn cidrs(old: &Catalog, new: &Catalog) -> Vec<IpNet> {
    let all: BTreeSet<IpNet> = [old, new]
        .iter()
        .flat_map(|c| c.groups.values())
        .flat_map(|g| g.ingress.iter().chain(&g.egress))
        .flat_map(|r| &r.peers)
        .filter_map(|p| match p {
            Peer::Cidr { cidr, .. } => Some(*cidr),
            Peer::Group { .. } => None,
        })
        .collect();
    all.into_iter().collect()
}

/// What rules can see of an endpoint: everything but its id and the
/// explanation, with addresses as the CIDRs that hold them.
fn shape(e: &Endpoint, cidrs: &[IpNet]) -> String {
    let seen: BTreeSet<Vec<usize>> = e
        .addresses
        .iter()
        .map(|a| cidrs.iter().enumerate().filter(|(_, c)| c.contains(a)).map(|(i, _)| i).collect())
        .collect();
    let families: BTreeSet<bool> = e.addresses.iter().map(IpAddr::is_ipv6).collect();
    format!("{:?}|{:?}|{:?}|{:?}|{}", e.role, e.groups, seen, families, e.addresses.is_empty())
}

/// The endpoints of both sides, in classes.
pub fn classes(old: &Catalog, new: &Catalog) -> Vec<Class> {
    let cidrs = cidrs(old, new);
    let mut before = endpoints(old);
    let mut after = endpoints(new);
    let ids: BTreeSet<String> = before.keys().chain(after.keys()).cloned().collect();
    let mut by_key: HashMap<(Option<String>, Option<String>), usize> = HashMap::new();
    let mut out: Vec<Class> = Vec::new();
    for id in ids {
        let (b, a) = (before.remove(&id), after.remove(&id));
        let key = (b.as_ref().map(|e| shape(e, &cidrs)), a.as_ref().map(|e| shape(e, &cidrs)));
        match by_key.get(&key) {
            Some(&i) => out[i].ids.push(id),
            None => {
                by_key.insert(key, out.len());
                out.push(Class { before: b, after: a, ids: vec![id] });
            }
        }
    }
    out
}
