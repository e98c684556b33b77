//! Member slices: how a group's member addresses are published to the node
//! agents (docs/membership.md). Like EndpointSlices, a group's addresses
//! are cut into objects of at most `capacity` addresses, so that one
//! member coming or going rewrites one small object, and an agent watches
//! only the slices of the groups it needs.
//!
//! The assignment is sticky: an address stays in its slice until it goes,
//! a new one fills the fullest slice that has room (so that slices stay
//! few and full), and a slice that empties is deleted. Slice numbers are
//! reused smallest first, so names stay short and stable.

use crate::fast_hash::FxHashMap;
use crate::group::SgId;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// What EndpointSlices hold by default: small enough that a change costs
/// a few kilobytes per watcher, large enough that a 50,000-member group is
/// 500 objects.
pub const DEFAULT_CAPACITY: usize = 100;

/// One write of a slice, as the API server would receive it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SliceWrite {
    /// Create or replace slice `index` of `group` with these addresses.
    Put { group: SgId, index: u32, addresses: BTreeSet<IpAddr> },
    /// Delete slice `index` of `group`.
    Delete { group: SgId, index: u32 },
}

impl SliceWrite {
    /// The slice's object name: the group ID and its number.
    pub fn name(&self) -> String {
        let (SliceWrite::Put { group, index, .. } | SliceWrite::Delete { group, index }) = self;
        slice_name(group, *index)
    }

    pub fn index(&self) -> u32 {
        let (SliceWrite::Put { index, .. } | SliceWrite::Delete { index, .. }) = self;
        *index
    }
}

pub fn slice_name(group: &SgId, index: u32) -> String {
    format!("{group}-{index}")
}

/// The group and number a slice's name gives (`None` for a name no slice
/// has).
pub fn parse_slice_name(name: &str) -> Option<(SgId, u32)> {
    let (group, index) = name.rsplit_once('-')?;
    let number: u32 = index.parse().ok()?;
    // One spelling per slice: `sg-1-01` is not slice 1.
    if number.to_string() != index {
        return None;
    }
    Some((SgId::parse(group).ok()?, number))
}

/// Every group's slices.
#[derive(Clone, Debug)]
pub struct Slices {
    capacity: usize,
    groups: FxHashMap<SgId, GroupSlices>,
}

#[derive(Clone, Debug, Default)]
struct GroupSlices {
    slices: BTreeMap<u32, BTreeSet<IpAddr>>,
    /// Which slice holds each address.
    at: FxHashMap<IpAddr, u32>,
}

impl Slices {
    pub fn new(capacity: usize) -> Slices {
        assert!(capacity > 0, "a slice holds at least one address");
        Slices { capacity, groups: FxHashMap::default() }
    }

    /// The slices as they are (read back from the API server after a
    /// restart), so that the next changes move as little as possible.
    /// Addresses held twice are kept in the first slice that has them.
    pub fn restore(&mut self, group: &SgId, index: u32, addresses: impl IntoIterator<Item = IpAddr>) {
        let g = self.groups.entry(group.clone()).or_default();
        let slice = g.slices.entry(index).or_default();
        for a in addresses {
            if let std::collections::hash_map::Entry::Vacant(e) = g.at.entry(a) {
                e.insert(index);
                slice.insert(a);
            }
        }
        if slice.is_empty() {
            g.slices.remove(&index);
        }
    }

    /// The group's addresses changed: the writes that publish it, one per
    /// slice touched.
    pub fn change(&mut self, group: &SgId, added: &BTreeSet<IpAddr>, removed: &BTreeSet<IpAddr>) -> Vec<SliceWrite> {
        let capacity = self.capacity;
        let g = self.groups.entry(group.clone()).or_default();
        let mut touched = BTreeSet::new();
        for a in removed {
            if let Some(index) = g.at.remove(a) {
                g.slices.get_mut(&index).map(|s| s.remove(a));
                touched.insert(index);
            }
        }
        for a in added {
            if g.at.contains_key(a) {
                continue;
            }
            let index = g.place(capacity);
            g.slices.entry(index).or_default().insert(*a);
            g.at.insert(*a, index);
            touched.insert(index);
        }
        let writes = touched.into_iter().map(|index| g.write(group, index)).collect();
        if g.slices.is_empty() {
            self.groups.remove(group);
        }
        writes
    }

    /// Brings the group's slices to exactly `members` (after a restart, or
    /// a relist): the same as the change from what the slices hold. A
    /// slice restored over capacity (written with another capacity) gives
    /// its excess to other slices.
    pub fn reconcile(&mut self, group: &SgId, members: &BTreeSet<IpAddr>) -> Vec<SliceWrite> {
        let capacity = self.capacity;
        let mut cut = BTreeSet::new();
        if let Some(g) = self.groups.get_mut(group) {
            for (index, slice) in g.slices.iter_mut().filter(|(_, s)| s.len() > capacity) {
                let excess: Vec<IpAddr> = slice.iter().skip(capacity).copied().collect();
                for a in excess {
                    slice.remove(&a);
                    g.at.remove(&a);
                }
                cut.insert(*index);
            }
        }
        let held: BTreeSet<IpAddr> = self.groups.get(group).map(|g| g.at.keys().copied().collect()).unwrap_or_default();
        let added = members.difference(&held).copied().collect();
        let removed = held.difference(members).copied().collect();
        let mut writes = self.change(group, &added, &removed);
        let written: BTreeSet<u32> = writes.iter().map(SliceWrite::index).collect();
        if let Some(g) = self.groups.get_mut(group) {
            writes.extend(cut.difference(&written).map(|index| g.write(group, *index)).collect::<Vec<_>>());
        }
        writes
    }

    /// Slice `index` of `group`, if it holds any address.
    pub fn get(&self, group: &SgId, index: u32) -> Option<&BTreeSet<IpAddr>> {
        self.groups.get(group)?.slices.get(&index)
    }

    /// The groups that have slices.
    pub fn groups(&self) -> impl Iterator<Item = &SgId> {
        self.groups.keys()
    }

    /// The group's slices: number and addresses.
    pub fn of(&self, group: &SgId) -> impl Iterator<Item = (u32, &BTreeSet<IpAddr>)> {
        self.groups.get(group).into_iter().flat_map(|g| g.slices.iter().map(|(i, s)| (*i, s)))
    }

    /// How many slices there are, over every group.
    pub fn count(&self) -> usize {
        self.groups.values().map(|g| g.slices.len()).sum()
    }
}

impl GroupSlices {
    /// Where a new address goes: the fullest slice with room, else the
    /// smallest free number.
    fn place(&self, capacity: usize) -> u32 {
        let with_room = self
            .slices
            .iter()
            .filter(|(_, s)| s.len() < capacity)
            .max_by_key(|(i, s)| (s.len(), std::cmp::Reverse(**i)));
        match with_room {
            Some((index, _)) => *index,
            None => (0..).find(|i| !self.slices.contains_key(i)).expect("a free number"),
        }
    }

    /// The write that publishes slice `index` as it is now.
    fn write(&mut self, group: &SgId, index: u32) -> SliceWrite {
        match self.slices.get(&index) {
            Some(s) if !s.is_empty() => SliceWrite::Put { group: group.clone(), index, addresses: s.clone() },
            _ => {
                self.slices.remove(&index);
                SliceWrite::Delete { group: group.clone(), index }
            }
        }
    }
}
