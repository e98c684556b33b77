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
        // A pod holds a handful of pairs: a scan is fastest. A group's
        // external members or a slice may hold 100,000: count them.
        if before.len().saturating_mul(after.len()) > 4096 {
            return self.replace_counted(before, after, changes);
        }
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

    /// As `replace`, in time linear in the pairs.
    fn replace_counted(&mut self, before: &[(SgId, IpAddr)], after: &[(SgId, IpAddr)], changes: &mut Changes) {
        let mut net: FxHashMap<&(SgId, IpAddr), i64> = FxHashMap::default();
        for pair in after {
            *net.entry(pair).or_default() += 1;
        }
        for pair in before {
            *net.entry(pair).or_default() -= 1;
        }
        for ((g, a), n) in net {
            for _ in n..0 {
                self.remove(g, *a, changes);
            }
            for _ in 0..n {
                self.add(g, *a, changes);
            }
        }
    }

    /// As `replace`, for addresses of one group (a group's external
    /// members, a slice): counted by address alone, without building or
    /// hashing (group, address) pairs: a 100,000-member group is edited in
    /// milliseconds.
    pub fn replace_addresses(&mut self, group: &SgId, before: &[IpAddr], after: &[IpAddr], changes: &mut Changes) {
        let mut net: FxHashMap<IpAddr, i64> = FxHashMap::default();
        net.reserve(after.len());
        for a in after {
            *net.entry(*a).or_default() += 1;
        }
        for a in before {
            *net.entry(*a).or_default() -= 1;
        }
        for (a, n) in net {
            for _ in n..0 {
                self.remove(group, a, changes);
            }
            for _ in 0..n {
                self.add(group, a, changes);
            }
        }
    }

    /// A pod's groups changed from `before` to `after` (its addresses did
    /// not): as `replace` with every (group, address) pair, without
    /// building the pairs. Both lists are counted as multisets too.
    pub fn regroup(&mut self, before: &[SgId], after: &[SgId], addresses: &[IpAddr], changes: &mut Changes) {
        let mut added: Vec<&SgId> = after.iter().collect();
        for group in before {
            match added.iter().position(|g| *g == group) {
                Some(i) => {
                    added.swap_remove(i);
                }
                None => addresses.iter().for_each(|a| self.remove(group, *a, changes)),
            }
        }
        for group in added {
            addresses.iter().for_each(|a| self.add(group, *a, changes));
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

    pub fn groups(&self) -> impl Iterator<Item = &SgId> {
        self.0.keys()
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

    #[test]
    fn large_replacements_count_as_small_ones_do() {
        let ids: Vec<SgId> = ["sg-01", "sg-02"].iter().map(|g| SgId::parse(g).unwrap()).collect();
        let pair =
            |i: u32| (ids[(i % 2) as usize].clone(), IpAddr::V4(std::net::Ipv4Addr::from((10u32 << 24) + i % 150)));
        let before: Vec<(SgId, IpAddr)> = (0..300).map(pair).collect();
        let after: Vec<(SgId, IpAddr)> = (100..400).map(pair).collect();
        let (mut scanned, mut counted) = (Members::default(), Members::default());
        let (mut by_scan, mut by_count) = (Changes::default(), Changes::default());
        for (m, c) in [(&mut scanned, &mut by_scan), (&mut counted, &mut by_count)] {
            m.replace(&[], &before[..50], c);
            m.replace_counted(&[], &before[50..], c);
        }
        assert_eq!(by_scan, by_count);
        let (mut by_scan, mut by_count) = (Changes::default(), Changes::default());
        // The small path, pair by pair, against the counted one.
        for (b, a) in before.chunks(3).zip(after.chunks(3)) {
            scanned.replace(b, a, &mut by_scan);
        }
        counted.replace_counted(&before, &after, &mut by_count);
        assert_eq!(by_scan, by_count);
        for id in &ids {
            assert_eq!(scanned.of(id), counted.of(id));
        }
    }

    #[test]
    fn regrouping_is_replacing_every_pair() {
        let ids: Vec<SgId> = ["sg-01", "sg-02", "sg-03"].iter().map(|g| SgId::parse(g).unwrap()).collect();
        let addresses: Vec<IpAddr> = ["10.0.0.1", "10.0.0.2"].iter().map(|a| a.parse().unwrap()).collect();
        let pairs = |groups: &[SgId]| -> Vec<(SgId, IpAddr)> {
            groups.iter().flat_map(|g| addresses.iter().map(move |a| (g.clone(), *a))).collect()
        };
        let lists: Vec<Vec<SgId>> = vec![
            vec![],
            vec![ids[0].clone()],
            vec![ids[0].clone(), ids[1].clone()],
            vec![ids[1].clone(), ids[0].clone(), ids[0].clone()],
            vec![ids[2].clone()],
        ];
        for start in &lists {
            for before in &lists {
                for after in &lists {
                    let (mut by_pairs, mut by_groups) = (Members::default(), Members::default());
                    let mut ignored = Changes::default();
                    for m in [&mut by_pairs, &mut by_groups] {
                        m.replace(&[], &pairs(start), &mut ignored);
                        m.replace(&[], &pairs(before), &mut ignored);
                    }
                    let (mut want, mut got) = (Changes::default(), Changes::default());
                    by_pairs.replace(&pairs(before), &pairs(after), &mut want);
                    by_groups.regroup(before, after, &addresses, &mut got);
                    assert_eq!(got, want, "{start:?} + {before:?} -> {after:?}");
                    for id in &ids {
                        assert_eq!(by_groups.of(id), by_pairs.of(id));
                    }
                }
            }
        }
    }
}
