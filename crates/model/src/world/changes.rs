//! What one change to the world did: the pods whose groups changed, the
//! groups whose member addresses or rules changed. Controller and agent act
//! on this and on nothing else.

use crate::group::SgId;
use crate::workload::WorkloadKey;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Pods (and workload templates) whose resolved groups changed, came or
    /// went.
    pub pods: BTreeMap<WorkloadKey, PodChange>,
    /// Groups whose set of member addresses changed.
    pub members: BTreeMap<SgId, AddressDelta>,
    /// Groups whose definition (rules, members, existence) changed.
    pub groups: BTreeSet<SgId>,
}

/// A pod's groups before and after (`None`: not in the world).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodChange {
    pub before: Option<Vec<SgId>>,
    pub after: Option<Vec<SgId>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddressDelta {
    pub added: BTreeSet<IpAddr>,
    pub removed: BTreeSet<IpAddr>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.pods.is_empty() && self.members.is_empty() && self.groups.is_empty()
    }

    /// Records a pod's groups before and after; a pod that ends as it began
    /// within one change is no change.
    pub(super) fn pod(&mut self, key: WorkloadKey, before: Option<Vec<SgId>>, after: Option<Vec<SgId>>) {
        use std::collections::btree_map::Entry;
        match self.pods.entry(key) {
            Entry::Occupied(mut e) => {
                e.get_mut().after = after;
                if e.get().before == e.get().after {
                    e.remove();
                }
            }
            Entry::Vacant(e) => {
                if before != after {
                    e.insert(PodChange { before, after });
                }
            }
        }
    }

    /// `more`, which came after, folded in: the two as one change.
    pub fn then(&mut self, more: Changes) {
        for (key, change) in more.pods {
            let before = self.pods.remove(&key).map_or(change.before, |c| c.before);
            self.pod(key, before, change.after);
        }
        for (group, delta) in more.members {
            for a in delta.removed {
                self.address(&group, a, false);
            }
            for a in delta.added {
                self.address(&group, a, true);
            }
        }
        self.groups.extend(more.groups);
    }

    /// An address became a member of `group` (`added`) or stopped being one.
    pub(super) fn address(&mut self, group: &SgId, address: IpAddr, added: bool) {
        let delta = match self.members.get_mut(group) {
            Some(delta) => delta,
            None => self.members.entry(group.clone()).or_default(),
        };
        let (to, from) =
            if added { (&mut delta.added, &mut delta.removed) } else { (&mut delta.removed, &mut delta.added) };
        if !from.remove(&address) {
            to.insert(address);
        }
        if delta.added.is_empty() && delta.removed.is_empty() {
            self.members.remove(group);
        }
    }
}
