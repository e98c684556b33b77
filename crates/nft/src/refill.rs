//! Planning a change without building the member sets anew: the sets that
//! membership fills (100,000 members, perhaps) are brought from what the
//! table holds to what the rule set asks by one merge walk each, and only
//! the rest of the table (chains, maps, CIDR sets: small) is built and
//! compared. A membership change costs a walk; a pod or rule change costs
//! the walk and a plan of the structure, not a copy of every member set.

use crate::element::Element;
use crate::encode::set_element;
use crate::layout::{Fill, Layout};
use crate::netlink::ElementChange;
use crate::plan::{Changes, Plan, plan};
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

/// Brings each filled set that `current` has (of the same kind) to its
/// fill, in place, and returns the element changes for the kernel and the
/// sets it brought.
fn refill(current: &mut Layout, fills: &[Fill<'_>]) -> (Vec<ElementChange>, Changes, Vec<String>) {
    let mut summary = Changes::default();
    let (mut changes, mut refilled) = (Vec::new(), Vec::new());
    for fill in fills {
        let Some(set) = current.sets.get_mut(&fill.set).filter(|s| s.kind == fill.kind()) else { continue };
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
            changes.push(change(true, &gone));
        }
        if !added.is_empty() {
            changes.push(change(false, &added));
        }
        for e in &gone {
            set.elements.remove(e);
        }
        set.elements.extend(added);
        refilled.push(fill.set.clone());
    }
    (changes, summary, refilled)
}

/// The plan from `current` (`None`: no table) to `structure` filled with
/// `fills` (both from `Layout::apart`), and that desired table, which is
/// also what a replacement installs when the plan says why it cannot be
/// done in place. Element changes come as `plan` orders them: every
/// deletion, then every addition.
pub fn plan_filled(current: Option<Layout>, structure: Layout, fills: &[Fill<'_>]) -> (Result<Plan, String>, Layout) {
    let mut desired = structure;
    let Some(mut current) = current else {
        desired.fill(fills);
        return (plan(None, &desired), desired);
    };
    let (refills, counted, refilled) = refill(&mut current, fills);
    let done: std::collections::HashSet<&str> = refilled.iter().map(String::as_str).collect();
    let rest: Vec<Fill> = fills.iter().filter(|f| !done.contains(f.set.as_str())).cloned().collect();
    desired.fill(&rest);
    // The refilled sets now hold what is wanted: move them into the desired
    // table, out of the comparison.
    let mut kept = Vec::new();
    for name in &refilled {
        let have = current.sets.get_mut(name).expect("refilled sets exist");
        kept.push((name, std::mem::take(&mut have.elements)));
    }
    let planned = plan(Some(&current), &desired);
    for (name, elements) in kept {
        desired.sets.get_mut(name).expect("filled sets are declared").elements = elements;
    }
    let planned = planned.map(|mut p| {
        let (deletes, adds): (Vec<_>, Vec<_>) = refills.into_iter().chain(p.elements).partition(|c| c.delete);
        p.elements = deletes.into_iter().chain(adds).collect();
        p.summary.added += counted.added;
        p.summary.deleted += counted.deleted;
        p
    });
    (planned, desired)
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
        ruleset_with(groups, hosts, members, "sg-4")
    }

    /// The same, with pod `b` carrying `b_groups` (sg-3 is `a`'s).
    fn ruleset_with(groups: [bool; 3], hosts: &[Vec<&str>], members: &[Vec<&str>; 2], b_groups: &str) -> NodeRuleset {
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
            log_denied: false,
        };
        let sides = |offset: usize| PodPolicy { egress: cells(offset), ingress: cells(offset + 1) };
        let second: Vec<&str> = members[1].iter().filter(|a| !members[0].contains(a)).copied().collect();
        let policy = |picked: &[&str]| MemberPolicy { addresses: addresses(picked), ingress: cells(2) };
        NodeRuleset {
            mode: EnforcingMode::Strict,
            interfaces: [
                ("a".to_string(), pod("a", "10.1.0.2", "sg-3")),
                ("b".to_string(), pod("b", "10.1.0.3", b_groups)),
            ]
            .into(),
            pods: [(id("sg-3"), sides(0)), (id(b_groups), sides(if b_groups == "sg-3" { 0 } else { 3 }))].into(),
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

    fn arb_ruleset() -> impl Strategy<Value = NodeRuleset> {
        (any::<[bool; 3]>(), arb_hosts(), arb_members(), prop::sample::select(&["sg-3", "sg-4", "sg-5"][..]))
            .prop_map(|(groups, hosts, members, b)| ruleset_with(groups, &hosts, &members, b))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Refilling the member sets and planning the rest is planning the
        /// whole table: the same table, the same element changes (deletions
        /// before additions), the same objects made and removed, the same
        /// refusal to change in place.
        #[test]
        fn refilling_is_planning(a in arb_ruleset(), b in arb_ruleset(), fresh in any::<bool>()) {
            let current = (!fresh).then(|| Layout::desired(&a));
            let want = Layout::desired(&b);
            let (structure, fills) = Layout::apart(&b);
            let (planned, desired) = plan_filled(current.clone(), structure, &fills);
            prop_assert_eq!(&desired, &want);
            match (planned, plan(current.as_ref(), &want)) {
                (Ok(p), Ok(full)) => {
                    prop_assert_eq!(p.summary, full.summary);
                    prop_assert_eq!(normalised(&p.elements), normalised(&full.elements));
                    prop_assert_eq!((&p.create, &p.hooks, &p.remove), (&full.create, &full.hooks, &full.remove));
                    let first_add = p.elements.iter().position(|c| !c.delete).unwrap_or(p.elements.len());
                    prop_assert!(p.elements[first_add..].iter().all(|c| !c.delete));
                }
                (Err(x), Err(y)) => prop_assert_eq!(x, y),
                (x, y) => prop_assert!(false, "{:?} / {:?}", x.map(|p| p.summary), y.map(|p| p.summary)),
            }
        }
    }

    fn refilled(before: &NodeRuleset, after: &NodeRuleset) -> (Plan, Layout) {
        let (structure, fills) = Layout::apart(after);
        let (planned, desired) = plan_filled(Some(Layout::desired(before)), structure, &fills);
        (planned.unwrap(), desired)
    }

    #[test]
    fn an_unchanged_membership_changes_nothing() {
        let r = ruleset(
            [true, false, true],
            &[vec!["10.0.0.1"], vec!["fd00::1", "10.0.0.2"]],
            &[vec!["10.0.0.3"], vec!["fd00::2"]],
        );
        assert!(refilled(&r, &r).0.summary.is_empty());
    }

    #[test]
    fn a_member_that_changes_groups_moves_between_sets() {
        let before = ruleset([true; 3], &[vec![]], &[vec!["10.0.0.3"], vec![]]);
        let after = ruleset([true; 3], &[vec![]], &[vec![], vec!["10.0.0.3"]]);
        let (p, desired) = refilled(&before, &after);
        assert!(p.create.is_empty() && p.remove.is_empty());
        let objects: Vec<(&str, bool)> = p.elements.iter().map(|c| (c.object.as_str(), c.delete)).collect();
        let side = |id: &str| Side::Members(&[SgId::parse(id).unwrap()]).member_set(false);
        let (from, to) = (side("sg-1"), side("sg-2"));
        assert_eq!(objects, vec![(from.as_str(), true), (to.as_str(), false)]);
        assert_eq!((p.summary.added, p.summary.deleted), (1, 1));
        assert_eq!(desired, Layout::desired(&after));
    }
}
