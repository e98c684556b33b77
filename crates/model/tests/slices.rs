//! Member slices against the plain set of members: after any sequence of
//! changes the published slices (the writes, applied one after another)
//! hold exactly the members, each once, none over capacity and none
//! empty; an address that did not change keeps its slice; and slices read
//! back after a restart need no write.

use podsg_model::group::SgId;
use podsg_model::slices::{SliceWrite, Slices, parse_slice_name, slice_name};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

const GROUPS: [&str; 2] = ["sg-0a", "sg-0b"];

fn address(i: u8) -> IpAddr {
    IpAddr::from([10, 0, 0, i])
}

/// One change: a group, the addresses added and those removed.
fn arb_change() -> impl Strategy<Value = (usize, BTreeSet<u8>, BTreeSet<u8>)> {
    (0..GROUPS.len(), prop::collection::btree_set(0..24u8, 0..8), prop::collection::btree_set(0..24u8, 0..8))
}

/// What an API server holds: slice name -> addresses.
type Published = BTreeMap<String, BTreeSet<IpAddr>>;

fn publish(published: &mut Published, writes: &[SliceWrite]) {
    for w in writes {
        match w {
            SliceWrite::Put { addresses, .. } => published.insert(w.name(), addresses.clone()),
            SliceWrite::Delete { .. } => published.remove(&w.name()),
        };
    }
}

fn check(
    published: &Published,
    members: &BTreeMap<usize, BTreeSet<IpAddr>>,
    capacity: usize,
) -> Result<(), TestCaseError> {
    for (g, name) in GROUPS.iter().enumerate() {
        let mut seen = BTreeSet::new();
        for (slice, addresses) in published.range(format!("{name}-")..format!("{name}.")) {
            prop_assert!(!addresses.is_empty(), "{slice} is empty");
            prop_assert!(addresses.len() <= capacity, "{slice} holds {}", addresses.len());
            for a in addresses {
                prop_assert!(seen.insert(*a), "{a} in two slices of {name}");
            }
        }
        prop_assert_eq!(&seen, &members.get(&g).cloned().unwrap_or_default(), "{}'s members", name);
    }
    Ok(())
}

/// Where each address of each group is published.
fn placement(published: &Published) -> BTreeMap<(String, IpAddr), String> {
    let mut out = BTreeMap::new();
    for (slice, addresses) in published {
        let group = slice.rsplit_once('-').unwrap().0.to_string();
        for a in addresses {
            out.insert((group.clone(), *a), slice.clone());
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn published_slices_hold_exactly_the_members(
        changes in prop::collection::vec(arb_change(), 1..30),
        capacity in 1..6usize,
        new_capacity in 1..6usize,
    ) {
        let ids: Vec<SgId> = GROUPS.iter().map(|g| SgId::parse(g).unwrap()).collect();
        let mut slices = Slices::new(capacity);
        let mut published = Published::new();
        let mut members: BTreeMap<usize, BTreeSet<IpAddr>> = BTreeMap::new();
        for (g, added, removed) in changes {
            // A change never adds and removes the same address.
            let added: BTreeSet<IpAddr> = added.difference(&removed).map(|i| address(*i)).collect();
            let removed: BTreeSet<IpAddr> = removed.iter().map(|i| address(*i)).collect();
            let before = placement(&published);
            let writes = slices.change(&ids[g], &added, &removed);
            let names: BTreeSet<String> = writes.iter().map(SliceWrite::name).collect();
            prop_assert_eq!(names.len(), writes.len(), "one write per slice");
            prop_assert!(writes.len() <= added.len() + removed.len(), "a write per slice a changed address is in");
            publish(&mut published, &writes);
            let set = members.entry(g).or_default();
            set.retain(|a| !removed.contains(a));
            set.extend(&added);
            check(&published, &members, capacity)?;
            let after = placement(&published);
            for ((group, a), slice) in &before {
                if after.contains_key(&(group.clone(), *a)) {
                    prop_assert_eq!(&after[&(group.clone(), *a)], slice, "{} stays where it was", a);
                }
            }
            for w in &writes {
                prop_assert!(
                    slices.of(&ids[g]).any(|(i, s)| matches!(w, SliceWrite::Put { index, addresses, .. } if *index == i && addresses == s))
                        || matches!(w, SliceWrite::Delete { .. }),
                    "{} is published as held", w.name()
                );
            }
        }

        // A restarted controller reads the slices back: nothing to write.
        let mut restored = Slices::new(capacity);
        for (slice, addresses) in &published {
            let (group, index) = slice.rsplit_once('-').unwrap();
            restored.restore(&SgId::parse(group).unwrap(), index.parse().unwrap(), addresses.iter().copied());
        }
        for (g, id) in ids.iter().enumerate() {
            let want = members.get(&g).cloned().unwrap_or_default();
            prop_assert_eq!(restored.reconcile(id, &want), vec![], "{} after a restart", id);
        }

        // With another capacity, reconciling cuts what is over it.
        let mut recut = Slices::new(new_capacity);
        for (slice, addresses) in &published {
            let (group, index) = slice.rsplit_once('-').unwrap();
            recut.restore(&SgId::parse(group).unwrap(), index.parse().unwrap(), addresses.iter().copied());
        }
        for (g, id) in ids.iter().enumerate() {
            let want = members.get(&g).cloned().unwrap_or_default();
            let writes = recut.reconcile(id, &want);
            publish(&mut published, &writes);
        }
        check(&published, &members, new_capacity)?;
    }
}

#[test]
fn a_slice_name_has_one_spelling() {
    let g = SgId::parse("sg-0a7f3c9e2b1d48502").unwrap();
    assert_eq!(parse_slice_name(&slice_name(&g, 12)), Some((g, 12)));
    for other in ["sg-0a-01", "sg-0a-", "sg-0a-x", "sg-0a", "web-1", "sg-0a--1", "sg-0a-+1"] {
        assert_eq!(parse_slice_name(other), None, "{other}");
    }
}

#[test]
fn a_new_member_fills_the_fullest_slice_with_room() {
    let g = SgId::parse("sg-0a").unwrap();
    let mut slices = Slices::new(3);
    let all: BTreeSet<IpAddr> = (1..=5).map(address).collect();
    let writes = slices.change(&g, &all, &BTreeSet::new());
    assert_eq!(writes.iter().map(SliceWrite::name).collect::<Vec<_>>(), ["sg-0a-0", "sg-0a-1"]);
    // Slice 0 is full, slice 1 has two: a sixth goes to slice 1.
    let writes = slices.change(&g, &[address(6)].into(), &BTreeSet::new());
    assert_eq!(writes, [SliceWrite::Put { group: g.clone(), index: 1, addresses: [4, 5, 6].map(address).into() }]);
    // Emptying slice 0 deletes it; its number is given again first.
    let writes = slices.change(&g, &BTreeSet::new(), &[1, 2, 3].map(address).into());
    assert_eq!(writes, [SliceWrite::Delete { group: g.clone(), index: 0 }]);
    let writes = slices.change(&g, &[address(7)].into(), &BTreeSet::new());
    assert_eq!(writes, [SliceWrite::Put { group: g.clone(), index: 0, addresses: [address(7)].into() }]);
    assert_eq!(slices.count(), 2);
}
