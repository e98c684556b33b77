//! What one node enforces: per pod interface its addresses and the groups
//! it carries; per set of groups that pods of the node carry, their egress
//! and ingress allowances (one however many pods carry it); and the ingress
//! of every external member (checked on the source node on its behalf).

use super::{Allowances, allowances};
use crate::group::{Direction, SecurityGroup, SgId};
use crate::settings::EnforcingMode;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// A pod interface on this node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InterfacePolicy {
    /// The host side of the pod's interface (e.g. the veth name).
    pub interface: String,
    /// For people and logs: `Pod/ns/name`.
    pub pod: String,
    /// The pod's own addresses; anything else it sends is spoofed and dropped.
    pub addresses: Vec<IpAddr>,
    pub groups: Vec<SgId>,
    /// It carries groups (or should, and they cannot be resolved), so its
    /// egress and ingress are checked. Every pod is anti-spoofed and meets
    /// external members' ingress either way.
    pub restricted: bool,
    /// Its refused new connections are logged (rate-limited).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub log_denied: bool,
}

impl InterfacePolicy {
    /// The key of its allowances in `NodeRuleset::pods`: its groups, sorted
    /// (none for a pod whose groups cannot be resolved: it is allowed
    /// nothing); `None` when it is not restricted.
    pub fn carried(&self) -> Option<Vec<SgId>> {
        self.restricted.then(|| sorted(&self.groups))
    }
}

fn sorted(groups: &[SgId]) -> Vec<SgId> {
    let mut key = groups.to_vec();
    key.sort();
    key.dedup();
    key
}

/// What pods that carry one set of groups may send and receive.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PodPolicy {
    pub egress: Allowances,
    pub ingress: Allowances,
}

impl PodPolicy {
    /// The allowances of pods that carry `ids` (sorted).
    pub fn of(
        ids: &[SgId],
        groups: &BTreeMap<SgId, SecurityGroup>,
        members: &dyn Fn(&SgId) -> BTreeSet<IpAddr>,
    ) -> PodPolicy {
        PodPolicy {
            egress: allowances(ids, groups, Direction::Egress, members),
            ingress: allowances(ids, groups, Direction::Ingress, members),
        }
    }

    /// The groups its allowances depend on: those it is for (their rules)
    /// and those their rules name (their members).
    pub fn depends_on(ids: &[SgId], groups: &BTreeMap<SgId, SecurityGroup>) -> BTreeSet<SgId> {
        let named = ids.iter().filter_map(|id| groups.get(id)).flat_map(|g| g.referenced_groups().cloned());
        ids.iter().cloned().chain(named).collect()
    }
}

/// External members that carry the same groups, and what may reach them:
/// one policy however many members share it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MemberPolicy {
    pub addresses: BTreeSet<IpAddr>,
    pub ingress: Allowances,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NodeRuleset {
    pub mode: EnforcingMode,
    /// Every pod interface of the node, by name.
    pub interfaces: BTreeMap<String, InterfacePolicy>,
    /// Restricted pods' allowances by the groups they carry (sorted); the
    /// empty set of groups holds those of pods whose groups cannot be
    /// resolved: nothing.
    pub pods: BTreeMap<Vec<SgId>, PodPolicy>,
    /// External members by the groups they carry (sorted).
    pub members: BTreeMap<Vec<SgId>, MemberPolicy>,
}

/// A pod on this node as the compiler needs it.
#[derive(Clone, Debug)]
pub struct LocalPod<'a> {
    pub interface: &'a str,
    pub pod: &'a str,
    pub addresses: &'a [IpAddr],
    pub groups: PodGroups<'a>,
    /// Log its refused new connections.
    pub log_denied: bool,
}

/// What a local pod carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodGroups<'a> {
    /// No SGP and no default groups: nothing is checked.
    Unrestricted,
    Groups(&'a [SgId]),
    /// Its groups cannot be resolved (a group does not exist): it is
    /// restricted and allowed nothing. Fail closed.
    Unresolved,
}

impl<'a> PodGroups<'a> {
    /// `Unrestricted` for an empty list.
    pub fn of(groups: &'a [SgId]) -> Self {
        if groups.is_empty() { PodGroups::Unrestricted } else { PodGroups::Groups(groups) }
    }
}

impl NodeRuleset {
    /// `members` gives the addresses that carry a group (a catalog's
    /// membership, or a world's member index).
    pub fn compile(
        groups: &BTreeMap<SgId, SecurityGroup>,
        members: &dyn Fn(&SgId) -> BTreeSet<IpAddr>,
        mode: EnforcingMode,
        local: &[LocalPod<'_>],
    ) -> NodeRuleset {
        NodeRuleset::compile_with(groups, members, mode, local, &mut |ids| PodPolicy::of(ids, groups, members))
    }

    /// `compile`, taking each set of groups' allowances from `policy` (a
    /// caller that keeps them between compilations computes only those a
    /// change touched).
    pub fn compile_with(
        groups: &BTreeMap<SgId, SecurityGroup>,
        members: &dyn Fn(&SgId) -> BTreeSet<IpAddr>,
        mode: EnforcingMode,
        local: &[LocalPod<'_>],
        policy: &mut dyn FnMut(&[SgId]) -> PodPolicy,
    ) -> NodeRuleset {
        let interfaces: BTreeMap<String, InterfacePolicy> = local
            .iter()
            .map(|p| {
                let carried: &[SgId] = match p.groups {
                    PodGroups::Groups(g) => g,
                    PodGroups::Unrestricted | PodGroups::Unresolved => &[],
                };
                let policy = InterfacePolicy {
                    interface: p.interface.to_string(),
                    pod: p.pod.to_string(),
                    addresses: p.addresses.to_vec(),
                    groups: carried.to_vec(),
                    restricted: p.groups != PodGroups::Unrestricted,
                    log_denied: p.log_denied,
                };
                (p.interface.to_string(), policy)
            })
            .collect();
        // Once per set of groups, however many pods carry it. A group that
        // does not exist allows nothing, and the empty set allows nothing.
        let pods = interfaces
            .values()
            .filter_map(InterfacePolicy::carried)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .map(|ids| {
                let policy = policy(&ids);
                (ids, policy)
            })
            .collect();
        // Members by address, then by the groups they carry: borrowed, so
        // that 100,000 members cost no copies of group IDs, and sorted, so
        // that grouping is one pass.
        let mut carried: Vec<(IpAddr, &SgId)> =
            groups.values().flat_map(|g| g.members.iter().map(move |m| (m.address, &g.id))).collect();
        carried.sort_unstable();
        carried.dedup();
        let mut by_groups: BTreeMap<Vec<&SgId>, Vec<IpAddr>> = BTreeMap::new();
        let mut ids: Vec<&SgId> = Vec::new();
        for run in carried.chunk_by(|a, b| a.0 == b.0) {
            ids.clear();
            ids.extend(run.iter().map(|(_, id)| *id));
            match by_groups.get_mut(ids.as_slice()) {
                Some(addresses) => addresses.push(run[0].0),
                None => {
                    by_groups.insert(ids.clone(), vec![run[0].0]);
                }
            }
        }
        let members = by_groups
            .into_iter()
            .map(|(ids, addresses)| {
                let ids: Vec<SgId> = ids.into_iter().cloned().collect();
                let ingress = allowances(&ids, groups, Direction::Ingress, members);
                (ids, MemberPolicy { addresses: addresses.into_iter().collect(), ingress })
            })
            .collect();
        NodeRuleset { mode, interfaces, pods, members }
    }
}
