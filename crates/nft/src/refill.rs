//! A membership change on a table whose structure stays: the element
//! changes that bring each filled set to its new content, found by one walk
//! over sorted contents, without building a new table.

use crate::element::Element;
use crate::encode::set_element;
use crate::layout::{Fill, Layout};
use crate::netlink::ElementChange;
use crate::plan::{Changes, Plan};
use std::borrow::Cow;
use std::cmp::Ordering;

/// What is in `have` and not in `want`, and the reverse: one merge walk
/// over two sorted sequences.
fn difference<T: Ord>(have: impl Iterator<Item = T>, want: impl Iterator<Item = T>) -> (Vec<T>, Vec<T>) {
    let (mut gone, mut added) = (Vec::new(), Vec::new());
    let (mut have, mut want) = (have.peekable(), want.peekable());
    loop {
        match (have.peek(), want.peek()) {
            (Some(h), Some(w)) => match h.cmp(w) {
                Ordering::Less => gone.extend(have.next()),
                Ordering::Greater => added.extend(want.next()),
                Ordering::Equal => {
                    have.next();
                    want.next();
                }
            },
            (Some(_), None) => gone.extend(have.next()),
            (None, Some(_)) => added.extend(want.next()),
            (None, None) => return (gone, added),
        }
    }
}

/// Brings `applied` (which must have the structure the fills were made
/// with: `Layout::apart` of the new rule set equals its own) to the fills,
/// and returns the element changes the kernel needs for the same: deletions
/// first, then additions, as `plan` orders them.
pub fn refill(applied: &mut Layout, fills: &[Fill<'_>]) -> Plan {
    let mut summary = Changes::default();
    let (mut deletes, mut adds) = (Vec::new(), Vec::new());
    for fill in fills {
        let set = applied.sets.get_mut(&fill.set).expect("the structure declares every filled set");
        // Both sides sorted as elements: the kernel's side as it is, the
        // wanted one in address order, which is element order.
        let (gone, added) = difference(set.elements.iter().map(Cow::Borrowed), fill.elements().map(Cow::Owned));
        let gone: Vec<Element> = gone.into_iter().map(Cow::into_owned).collect();
        let added: Vec<Element> = added.into_iter().map(Cow::into_owned).collect();
        summary.deleted += gone.len();
        summary.added += added.len();
        let change = |delete, elements: &[Element]| ElementChange {
            object: fill.set.clone(),
            delete,
            elements: elements.iter().flat_map(|e| set_element(set.kind, e)).collect(),
        };
        if !gone.is_empty() {
            deletes.push(change(true, &gone));
        }
        if !added.is_empty() {
            adds.push(change(false, &added));
        }
        for e in &gone {
            set.elements.remove(e);
        }
        set.elements.extend(added);
    }
    deletes.extend(adds);
    Plan { elements: deletes, summary, ..Plan::default() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::Side;
    use crate::plan::plan;
    use podsg_model::dataplane::{Allowances, CellKey, InterfacePolicy, MemberPolicy, NodeRuleset, Peers, PodPolicy};
    use podsg_model::group::SgId;
    use podsg_model::settings::EnforcingMode;
    use proptest::prelude::*;
    use proptest::sample::subsequence;
    use std::collections::BTreeSet;
    use std::net::IpAddr;

    const POOL: [&str; 8] =
        ["10.0.0.1", "10.0.0.2", "10.0.9.9", "192.168.0.1", "fd00::1", "fd00::2", "2001:db8::7", "10.0.0.3"];
    const CELLS: [CellKey; 3] = [
        CellKey::Ports { protocols: (6, 6), ports: (5432, 5432) },
        CellKey::Ports { protocols: (17, 17), ports: (53, 53) },
        CellKey::Icmp { v6: false, types: (8, 8), codes: (0, 255) },
    ];

    fn addresses(picked: &[&str]) -> BTreeSet<IpAddr> {
        picked.iter().map(|a| a.parse().unwrap()).collect()
    }

    /// Two pods (whose cells name groups or not) and two member policies,
    /// with the members drawn from `hosts` (per cell) and `members` (per
    /// policy, disjoint, as the compiler makes them).
    fn ruleset(groups: [bool; 3], hosts: &[Vec<&str>], members: &[Vec<&str>; 2]) -> NodeRuleset {
        let cells = |offset: usize| Allowances {
            cells: CELLS
                .iter()
                .enumerate()
                .map(|(i, k)| {
                    let peers = Peers {
                        groups: groups[i],
                        hosts: if groups[i] { addresses(&hosts[(i + offset) % hosts.len()]) } else { BTreeSet::new() },
                        nets: vec!["172.16.0.0/12".parse().unwrap()],
                    };
                    (*k, peers)
                })
                .collect(),
        };
        let id = |s: &str| vec![SgId::parse(s).unwrap()];
        let pod = |name: &str, address: &str, groups: &str| InterfacePolicy {
            interface: name.to_string(),
            pod: format!("Pod/ns/{name}"),
            addresses: vec![address.parse().unwrap()],
            groups: id(groups),
            restricted: true,
        };
        let sides = |offset: usize| PodPolicy { egress: cells(offset), ingress: cells(offset + 1) };
        let second: Vec<&str> = members[1].iter().filter(|a| !members[0].contains(a)).copied().collect();
        let policy = |picked: &[&str]| MemberPolicy { addresses: addresses(picked), ingress: cells(2) };
        NodeRuleset {
            mode: EnforcingMode::Strict,
            interfaces: [
                ("a".to_string(), pod("a", "10.1.0.2", "sg-3")),
                ("b".to_string(), pod("b", "10.1.0.3", "sg-4")),
            ]
            .into(),
            pods: [(id("sg-3"), sides(0)), (id("sg-4"), sides(3))].into(),
            members: [(id("sg-1"), policy(&members[0])), (id("sg-2"), policy(&second))].into(),
        }
    }

    fn arb_hosts() -> impl Strategy<Value = Vec<Vec<&'static str>>> {
        prop::collection::vec(subsequence(&POOL[..], 0..=POOL.len()), 6)
    }

    fn arb_members() -> impl Strategy<Value = [Vec<&'static str>; 2]> {
        (subsequence(&POOL[..], 0..=4), subsequence(&POOL[..], 0..=4)).prop_map(|(a, b)| [a, b])
    }

    /// Element changes in a comparable order: per object, deletions first.
    fn normalised(elements: &[ElementChange]) -> Vec<(bool, String, Vec<Vec<u8>>)> {
        let mut out: Vec<_> = elements
            .iter()
            .map(|c| {
                let mut keys: Vec<Vec<u8>> =
                    c.elements.iter().map(|e| [e.key.clone(), format!("{e:?}").into_bytes()].concat()).collect();
                keys.sort();
                (!c.delete, c.object.clone(), keys)
            })
            .collect();
        out.sort();
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Refilling gives the table a full build gives, with the element
        /// changes a full plan makes, deletions before additions.
        #[test]
        fn refilling_is_planning_a_membership_change(
            groups in any::<[bool; 3]>(), before in arb_hosts(), after in arb_hosts(),
            members_before in arb_members(), members_after in arb_members(),
        ) {
            let (a, b) = (ruleset(groups, &before, &members_before), ruleset(groups, &after, &members_after));
            let (structure_a, _) = Layout::apart(&a);
            let (structure_b, fills) = Layout::apart(&b);
            prop_assume!(structure_a == structure_b);
            let mut applied = Layout::desired(&a);
            prop_assert!(applied.has_structure(&structure_b, &fills));
            let refilled = refill(&mut applied, &fills);
            prop_assert_eq!(&applied, &Layout::desired(&b));
            let planned = plan(Some(&Layout::desired(&a)), &Layout::desired(&b)).unwrap();
            prop_assert!(planned.summary.elements_only());
            prop_assert_eq!(refilled.summary, planned.summary);
            prop_assert_eq!(normalised(&refilled.elements), normalised(&planned.elements));
            let first_add = refilled.elements.iter().position(|c| !c.delete).unwrap_or(refilled.elements.len());
            prop_assert!(refilled.elements[first_add..].iter().all(|c| !c.delete));
        }
    }

    #[test]
    fn only_membership_keeps_the_structure() {
        let hosts = [vec!["10.0.0.1"], vec!["fd00::1"]];
        let members = [vec!["10.0.0.3"], vec![]];
        let applied = Layout::desired(&ruleset([true, true, false], &hosts, &members));
        let other_members = ruleset([true, true, false], &[vec!["10.0.9.9"]], &[vec![], vec!["10.0.0.2"]]);
        let (structure, fills) = Layout::apart(&other_members);
        assert!(applied.has_structure(&structure, &fills));
        // A cell whose rules stop naming groups loses its member sets.
        let other_rules = ruleset([true, false, false], &hosts, &members);
        let (structure, fills) = Layout::apart(&other_rules);
        assert!(!applied.has_structure(&structure, &fills));
        // A pod's own address is structure, not membership.
        let mut moved = other_members.clone();
        moved.interfaces.get_mut("a").unwrap().addresses = vec!["10.1.0.9".parse().unwrap()];
        let (structure, fills) = Layout::apart(&moved);
        assert!(!applied.has_structure(&structure, &fills));
    }

    #[test]
    fn an_unchanged_membership_changes_nothing() {
        let r = ruleset(
            [true, false, true],
            &[vec!["10.0.0.1"], vec!["fd00::1", "10.0.0.2"]],
            &[vec!["10.0.0.3"], vec!["fd00::2"]],
        );
        let mut applied = Layout::desired(&r);
        let (_, fills) = Layout::apart(&r);
        assert!(refill(&mut applied, &fills).summary.is_empty());
    }

    #[test]
    fn a_member_that_changes_groups_moves_between_sets() {
        let before = ruleset([true; 3], &[vec![]], &[vec!["10.0.0.3"], vec![]]);
        let after = ruleset([true; 3], &[vec![]], &[vec![], vec!["10.0.0.3"]]);
        let mut applied = Layout::desired(&before);
        let (_, fills) = Layout::apart(&after);
        let p = refill(&mut applied, &fills);
        let objects: Vec<(&str, bool)> = p.elements.iter().map(|c| (c.object.as_str(), c.delete)).collect();
        let side = |id: &str| Side::Members(&[SgId::parse(id).unwrap()]).member_set(false);
        let (from, to) = (side("sg-1"), side("sg-2"));
        assert_eq!(objects, vec![(from.as_str(), true), (to.as_str(), false)]);
        assert_eq!((p.summary.added, p.summary.deleted), (1, 1));
        assert_eq!(applied, Layout::desired(&after));
    }
}
