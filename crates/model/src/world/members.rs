//! Member addresses per group, counted: a pod, an external member and a
//! node may share an address, and it stays a member until the last of them
//! goes.

use super::Changes;
use crate::fast_hash::FxHashMap;
use crate::group::SgId;
use std::collections::BTreeSet;
use std::net::IpAddr;

#[derive(Clone, Debug, Default)]
pub(super) struct Members(FxHashMap<SgId, FxHashMap<IpAddr, u32>>);

impl Members {
    /// `before` pairs stop being members, `after` pairs become members;
    /// pairs in both are left alone. As multisets: a pair held twice before
    /// and once after loses one count.
    pub fn replace(&mut self, before: &[(SgId, IpAddr)], after: &[(SgId, IpAddr)], changes: &mut Changes) {
        let mut added: Vec<&(SgId, IpAddr)> = after.iter().collect();
        for pair in before {
            match added.iter().position(|p| *p == pair) {
                Some(i) => {
                    added.swap_remove(i);
                }
                None => self.remove(&pair.0, pair.1, changes),
            }
        }
        for (g, a) in added {
            self.add(g, *a, changes);
        }
    }

    fn add(&mut self, group: &SgId, address: IpAddr, changes: &mut Changes) {
        let addresses = match self.0.get_mut(group) {
            Some(addresses) => addresses,
            None => self.0.entry(group.clone()).or_default(),
        };
        let count = addresses.entry(address).or_insert(0);
        *count += 1;
        if *count == 1 {
            changes.address(group, address, true);
        }
    }

    fn remove(&mut self, group: &SgId, address: IpAddr, changes: &mut Changes) {
        let Some(addresses) = self.0.get_mut(group) else { return };
        let Some(count) = addresses.get_mut(&address) else { return };
        *count -= 1;
        if *count == 0 {
            addresses.remove(&address);
            if addresses.is_empty() {
                self.0.remove(group);
            }
            changes.address(group, address, false);
        }
    }

    pub fn count(&self, group: &SgId) -> usize {
        self.0.get(group).map_or(0, |a| a.len())
    }

    pub fn of(&self, group: &SgId) -> BTreeSet<IpAddr> {
        self.0.get(group).map(|a| a.keys().copied().collect()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_held_twice_stays_a_member_until_both_holders_go() {
        let (g, a) = (SgId::parse("sg-0a1b2c3d").unwrap(), "10.0.0.1".parse().unwrap());
        let pair = (g.clone(), a);
        let mut members = Members::default();
        let mut changes = Changes::default();
        members.replace(&[], &[pair.clone(), pair.clone()], &mut changes);
        assert!(changes.members[&g].added.contains(&a));
        let mut changes = Changes::default();
        members.replace(&[pair.clone(), pair.clone()], std::slice::from_ref(&pair), &mut changes);
        assert!(changes.is_empty(), "one holder left: still a member");
        assert!(members.of(&g).contains(&a));
        let mut changes = Changes::default();
        members.replace(&[pair], &[], &mut changes);
        assert!(changes.members[&g].removed.contains(&a));
        assert!(members.of(&g).is_empty());
    }
}
