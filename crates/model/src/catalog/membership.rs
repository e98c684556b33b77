//! Who carries each group: the membership index. The node backend turns it
//! into one set of member addresses per group; `check` and `explain` use it
//! to say what a group reference covers.

use super::Catalog;
use crate::group::SgId;
use crate::resolve::GroupSource;
use crate::workload::WorkloadKey;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Member {
    /// A pod, or every pod of a workload (addresses known only for pods with a status).
    Workload { workload: WorkloadKey, addresses: Vec<IpAddr> },
    /// An external address declared in the group's `members`.
    External { address: IpAddr, name: Option<String> },
    /// A node's own addresses (the default groups).
    Node { name: String, addresses: Vec<IpAddr> },
}

impl Member {
    pub fn addresses(&self) -> &[IpAddr] {
        match self {
            Member::Workload { addresses, .. } | Member::Node { addresses, .. } => addresses,
            Member::External { address, .. } => std::slice::from_ref(address),
        }
    }
}

/// Group -> members, for every group of the catalog (also those with none).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Membership(BTreeMap<SgId, Vec<Member>>);

impl Membership {
    pub fn members(&self, group: &SgId) -> &[Member] {
        self.0.get(group).map(Vec::as_slice).unwrap_or_default()
    }

    /// The known addresses of a group's members: what a reference to it matches.
    pub fn addresses(&self, group: &SgId) -> BTreeSet<IpAddr> {
        self.members(group).iter().flat_map(|m| m.addresses().iter().copied()).collect()
    }

    pub fn groups(&self) -> impl Iterator<Item = (&SgId, &[Member])> {
        self.0.iter().map(|(g, m)| (g, m.as_slice()))
    }
}

impl Catalog {
    pub fn membership(&self) -> Membership {
        let mut index: BTreeMap<SgId, Vec<Member>> = self.groups.keys().map(|g| (g.clone(), Vec::new())).collect();
        let mut add = |group: &SgId, member: Member| match index.get_mut(group) {
            Some(members) => members.push(member),
            None => index.entry(group.clone()).or_default().push(member),
        };
        for w in &self.workloads {
            let r = self.resolve(w);
            // hostNetwork pods use the node's address, which the node entry covers.
            if r.source == GroupSource::HostNetwork {
                continue;
            }
            for g in &r.groups {
                add(g, Member::Workload { workload: w.key(), addresses: w.addresses.clone() });
            }
        }
        for g in self.groups.values() {
            for m in &g.members {
                add(&g.id, Member::External { address: m.address, name: m.name.clone() });
            }
        }
        for node in &self.nodes {
            for g in &self.settings.default_group_ids {
                add(g, Member::Node { name: node.name.clone(), addresses: node.addresses.clone() });
            }
        }
        Membership(index)
    }
}
