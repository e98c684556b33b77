//! From one layout to another: what to create, which elements to change,
//! what to remove, ordered so that packets see one atomic switch.
//!
//! 1. `create` (an nft script): new sets with their elements, new maps with
//!    their entries, new chains with their rules. Nothing refers to them
//!    yet, so no packet sees them, and `nft` declares elements of new
//!    objects without reading the table.
//! 2. `elements` (one netlink batch): every element deleted and added in
//!    existing sets and maps, the hooks of new pods and cells included.
//!    This is the one visible step, and it is one transaction.
//! 3. `hooks` (an nft script): strict mode's base chains, added or removed
//!    when the enforcing mode changes.
//! 4. `remove` (an nft script): objects nothing refers to any more.
//!
//! A table that cannot be brought to the desired one in place (missing,
//! or with chains whose rules are not podsg's) is replaced whole, atomically.

use crate::chains::hook;
use crate::encode::{map_element, set_element};
use crate::layout::{Layout, Map, Set};
use crate::names::{MEMBERS_IN, TABLE, chain_rank};
use crate::netlink::ElementChange;
use std::fmt::Write;

/// The changes from one layout to another.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub create: String,
    pub elements: Vec<ElementChange>,
    pub hooks: String,
    pub remove: String,
    pub summary: Changes,
}

/// What a plan does, counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Sets, maps and chains created or removed.
    pub created: usize,
    pub removed: usize,
    /// Elements added and deleted in sets and maps that stay.
    pub added: usize,
    pub deleted: usize,
    /// Base chains added or removed (an enforcing-mode change).
    pub hooks: usize,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        *self == Changes::default()
    }

    /// Only elements changed: no object was created or removed.
    pub fn elements_only(&self) -> bool {
        self.created == 0 && self.removed == 0 && self.hooks == 0
    }
}

impl std::fmt::Display for Changes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} elements added, {} deleted; {} objects created, {} removed",
            self.added, self.deleted, self.created, self.removed
        )?;
        if self.hooks > 0 {
            write!(f, "; {} base chains changed", self.hooks)?;
        }
        Ok(())
    }
}

fn elements_text<T: ToString>(items: impl IntoIterator<Item = T>) -> String {
    items.into_iter().map(|e| e.to_string()).collect::<Vec<_>>().join(", ")
}

fn declare_set(out: &mut String, name: &str, set: &Set, with_elements: bool) {
    let t = format!("inet {TABLE}");
    if set.elements.is_empty() || !with_elements {
        writeln!(out, "add set {t} {name} {{ {} }}", set.kind.declaration()).unwrap();
    } else {
        let elements = elements_text(&set.elements);
        writeln!(out, "add set {t} {name} {{ {} elements = {{ {elements} }}; }}", set.kind.declaration()).unwrap();
    }
}

fn declare_map(out: &mut String, name: &str, map: &Map, with_elements: bool) {
    let t = format!("inet {TABLE}");
    if map.entries.is_empty() || !with_elements {
        writeln!(out, "add map {t} {name} {{ {} }}", map.kind.declaration()).unwrap();
    } else {
        let entries = elements_text(map.entries.iter().map(|(k, v)| format!("{k} : {v}")));
        writeln!(out, "add map {t} {name} {{ {} elements = {{ {entries} }}; }}", map.kind.declaration()).unwrap();
    }
}

/// Declares the given objects of `layout`: sets, then empty chains, then
/// maps (which go to chains), then the chains' rules (which use all of
/// them); base chains last, so that nothing is hooked before it is whole.
/// Without `with_elements` sets and maps are declared empty (their elements
/// then travel by netlink, much faster than `nft` parses them).
fn declare(layout: &Layout, sets: &[&String], maps: &[&String], chains: &[&String], with_elements: bool) -> String {
    let t = format!("inet {TABLE}");
    let mut out = String::new();
    for name in sets {
        declare_set(&mut out, name, &layout.sets[*name], with_elements);
    }
    let (bases, regular): (Vec<&String>, Vec<&String>) = chains.iter().partition(|c| hook(c).is_some());
    for c in &regular {
        writeln!(out, "add chain {t} {c}").unwrap();
    }
    for name in maps {
        declare_map(&mut out, name, &layout.maps[*name], with_elements);
    }
    for c in &regular {
        for rule in &layout.chains[*c] {
            writeln!(out, "add rule {t} {c} {rule}").unwrap();
        }
    }
    out.push_str(&declare_bases(layout, &bases));
    out
}

fn declare_bases(layout: &Layout, bases: &[&String]) -> String {
    let t = format!("inet {TABLE}");
    let mut out = String::new();
    for c in bases {
        let hook = hook(c).expect("base chains have hooks");
        writeln!(out, "add chain {t} {c} {{ type filter hook {hook} priority filter; policy accept; }}").unwrap();
        for rule in &layout.chains[*c] {
            writeln!(out, "add rule {t} {c} {rule}").unwrap();
        }
    }
    out
}

/// Replaces the whole table in one transaction: no packet sees half of it.
pub fn full_script(layout: &Layout) -> String {
    // `add` then `delete`: works whether or not the table exists.
    let mut s = format!("add table inet {TABLE}\ndelete table inet {TABLE}\nadd table inet {TABLE}\n");
    let sets: Vec<&String> = layout.sets.keys().collect();
    let maps: Vec<&String> = layout.maps.keys().collect();
    let chains: Vec<&String> = layout.chains.keys().collect();
    s.push_str(&declare(layout, &sets, &maps, &chains, true));
    s
}

/// Why `current` cannot be brought to `desired` in place, if it cannot.
fn in_place(current: &Layout, desired: &Layout) -> Result<(), String> {
    for (name, rules) in &current.chains {
        if let Some(want) = desired.chains.get(name)
            && want.len() != rules.len()
        {
            return Err(format!("chain {name} has {} rules, expected {}", rules.len(), want.len()));
        }
    }
    for name in ["forward", MEMBERS_IN] {
        if !current.chains.contains_key(name) {
            return Err(format!("chain {name} is missing"));
        }
    }
    for (name, set) in &current.sets {
        if let Some(want) = desired.sets.get(name)
            && want.kind != set.kind
        {
            return Err(format!("set {name} is of another type"));
        }
    }
    for (name, map) in &current.maps {
        if let Some(want) = desired.maps.get(name)
            && want.kind != map.kind
        {
            return Err(format!("map {name} is of another type"));
        }
    }
    Ok(())
}

/// The changes from `current` (`None`: there is no table) to `desired`, or
/// why the table must be replaced instead. Without a table, the table is
/// made whole before its base chains hook it in.
pub fn plan(current: Option<&Layout>, desired: &Layout) -> Result<Plan, String> {
    let empty = Layout::default();
    if let Some(current) = current {
        in_place(current, desired)?;
    }
    let fresh = current.is_none();
    let current = current.unwrap_or(&empty);
    let mut summary = Changes::default();
    let new_sets: Vec<&String> = desired.sets.keys().filter(|n| !current.sets.contains_key(*n)).collect();
    let new_maps: Vec<&String> = desired.maps.keys().filter(|n| !current.maps.contains_key(*n)).collect();
    let new_chains: Vec<&String> = desired.chains.keys().filter(|n| !current.chains.contains_key(*n)).collect();
    let (new_bases, new_chains): (Vec<&String>, Vec<&String>) = new_chains.into_iter().partition(|c| hook(c).is_some());
    summary.created = new_sets.len() + new_maps.len() + new_chains.len();
    let mut create = declare(desired, &new_sets, &new_maps, &new_chains, false);
    if fresh {
        create.insert_str(0, &format!("add table inet {TABLE}\n"));
    }

    // Deletions first, so that a range re-cut never overlaps its old self.
    let mut deletes = Vec::new();
    let mut adds = Vec::new();
    let nothing = Set { kind: crate::layout::SetKind::Addr { v6: false }, elements: Default::default() };
    for (name, want) in &desired.sets {
        let have = current.sets.get(name).unwrap_or(&nothing);
        if have.elements == want.elements {
            continue;
        }
        let gone: Vec<_> = have.elements.difference(&want.elements).collect();
        let added: Vec<_> = want.elements.difference(&have.elements).collect();
        summary.deleted += gone.len();
        summary.added += added.len();
        if !gone.is_empty() {
            let elements = gone.into_iter().flat_map(|e| set_element(have.kind, e)).collect();
            deletes.push(ElementChange { object: name.clone(), delete: true, elements });
        }
        if !added.is_empty() {
            let elements = added.into_iter().flat_map(|e| set_element(want.kind, e)).collect();
            adds.push(ElementChange { object: name.clone(), delete: false, elements });
        }
    }
    let no_entries = Map { kind: crate::layout::MapKind::Interface, entries: Default::default() };
    for (name, want) in &desired.maps {
        let have = current.maps.get(name).unwrap_or(&no_entries);
        if have.entries == want.entries {
            continue;
        }
        let gone: Vec<_> = have.entries.iter().filter(|(k, v)| want.entries.get(*k) != Some(*v)).collect();
        let added: Vec<_> = want.entries.iter().filter(|(k, v)| have.entries.get(*k) != Some(*v)).collect();
        summary.deleted += gone.len();
        summary.added += added.len();
        if !gone.is_empty() {
            let elements = gone.into_iter().map(|(k, v)| map_element(have.kind, k, v)).collect();
            deletes.push(ElementChange { object: name.clone(), delete: true, elements });
        }
        if !added.is_empty() {
            let elements = added.into_iter().map(|(k, v)| map_element(want.kind, k, v)).collect();
            adds.push(ElementChange { object: name.clone(), delete: false, elements });
        }
    }
    deletes.extend(adds);

    let t = format!("inet {TABLE}");
    let gone_chains: Vec<&String> = current.chains.keys().filter(|c| !desired.chains.contains_key(*c)).collect();
    let (gone_bases, mut gone_chains): (Vec<&String>, Vec<&String>) =
        gone_chains.into_iter().partition(|c| hook(c).is_some());
    let mut hooks = declare_bases(desired, &new_bases);
    for c in &gone_bases {
        writeln!(hooks, "delete chain {t} {c}").unwrap();
    }
    summary.hooks = new_bases.len() + gone_bases.len();

    gone_chains.sort_by_key(|c| chain_rank(c));
    let gone_maps: Vec<&String> = current.maps.keys().filter(|m| !desired.maps.contains_key(*m)).collect();
    let gone_sets: Vec<&String> = current.sets.keys().filter(|s| !desired.sets.contains_key(*s)).collect();
    summary.removed = gone_chains.len() + gone_maps.len() + gone_sets.len();
    let mut remove = String::new();
    let (first, cells): (Vec<&String>, Vec<&String>) = gone_chains.into_iter().partition(|c| chain_rank(c) < 2);
    for c in first {
        writeln!(remove, "delete chain {t} {c}").unwrap();
    }
    for m in gone_maps {
        writeln!(remove, "delete map {t} {m}").unwrap();
    }
    for c in cells {
        writeln!(remove, "delete chain {t} {c}").unwrap();
    }
    for s in gone_sets {
        writeln!(remove, "delete set {t} {s}").unwrap();
    }
    Ok(Plan { create, elements: deletes, hooks, remove, summary })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::Side;
    use podsg_model::dataplane::{Allowances, CellKey, InterfacePolicy, NodeRuleset, Peers, PodPolicy};
    use podsg_model::group::SgId;
    use podsg_model::settings::EnforcingMode;

    const CELL: CellKey = CellKey::Ports { protocols: (6, 6), ports: (5432, 5432) };

    fn sg(id: &str) -> Vec<SgId> {
        vec![SgId::parse(id).unwrap()]
    }

    /// The members' set of the tcp/5432 cell of the ingress of `sg-0a`.
    fn a_members() -> String {
        let peers = Peers { groups: true, ..Peers::default() };
        format!("{}_h4", Side::Ingress(&sg("sg-0a")).cell(&CELL, &peers))
    }

    /// Pod `a` (group sg-0a) takes tcp/5432 from `members`; pod `b` carries
    /// sg-0b (which allows nothing) or is not restricted.
    fn ruleset(members: &[&str], b_restricted: bool) -> NodeRuleset {
        let hosts = members.iter().map(|m| m.parse().unwrap()).collect();
        let ingress = Allowances { cells: [(CELL, Peers { groups: true, hosts, nets: Vec::new() })].into() };
        let pod = |name: &str, address: &str, groups: Vec<SgId>, restricted: bool| InterfacePolicy {
            interface: name.to_string(),
            pod: format!("Pod/ns/{name}"),
            addresses: vec![address.parse().unwrap()],
            groups,
            restricted,
            log_denied: false,
        };
        let b_groups = if b_restricted { sg("sg-0b") } else { Vec::new() };
        let mut pods = vec![(sg("sg-0a"), PodPolicy { egress: Allowances::default(), ingress })];
        if b_restricted {
            pods.push((sg("sg-0b"), PodPolicy::default()));
        }
        NodeRuleset {
            mode: EnforcingMode::Strict,
            interfaces: [
                ("a".to_string(), pod("a", "10.1.0.2", sg("sg-0a"), true)),
                ("b".to_string(), pod("b", "10.1.0.3", b_groups, b_restricted)),
            ]
            .into(),
            pods: pods.into_iter().collect(),
            members: Default::default(),
        }
    }

    fn layout(members: &[&str], b_restricted: bool) -> Layout {
        Layout::desired(&ruleset(members, b_restricted))
    }

    #[test]
    fn nothing_to_do_between_equal_layouts() {
        let l = layout(&["10.1.0.3"], true);
        assert!(plan(Some(&l), &l).unwrap().summary.is_empty());
    }

    #[test]
    fn a_membership_change_is_one_batch_of_elements() {
        let p = plan(Some(&layout(&["10.1.0.3", "10.9.0.1"], true)), &layout(&["10.1.0.3", "10.9.0.2"], true)).unwrap();
        assert!(p.summary.elements_only(), "{}", p.summary);
        assert_eq!((p.summary.added, p.summary.deleted), (1, 1));
        assert!(p.create.is_empty() && p.remove.is_empty() && p.hooks.is_empty());
        let objects: Vec<(&str, bool)> = p.elements.iter().map(|c| (c.object.as_str(), c.delete)).collect();
        assert_eq!(objects, vec![(a_members().as_str(), true), (a_members().as_str(), false)]);
    }

    #[test]
    fn a_pod_with_groups_the_node_has_is_only_elements() {
        let mut more = ruleset(&[], true);
        let mut c = more.interfaces["a"].clone();
        (c.interface, c.addresses) = ("c".into(), vec!["10.1.0.9".parse().unwrap()]);
        more.interfaces.insert("c".into(), c);
        let p = plan(Some(&layout(&[], true)), &Layout::desired(&more)).unwrap();
        assert!(p.summary.elements_only() && p.create.is_empty(), "{}", p.create);
        let objects: Vec<&str> = p.elements.iter().map(|c| c.object.as_str()).collect();
        // Its counters are there before it is hooked in.
        assert_eq!(objects, vec!["eg_no", "eg_ok", "in_no", "in_ok", "sources4", "from_pod", "to_pod"]);
    }

    #[test]
    fn structure_is_made_before_and_removed_after_the_switch() {
        let p = plan(Some(&layout(&[], true)), &layout(&[], false)).unwrap();
        // Pods without restrictions share the entry chain that exists.
        assert!(p.create.is_empty(), "{}", p.create);
        // The switch: b's interface now jumps to the unchecked entry chain.
        let switched: Vec<&str> = p.elements.iter().map(|c| c.object.as_str()).collect();
        assert_eq!(switched, vec!["from_pod", "to_pod", "from_pod"]);
        // What referred to others goes first: entry chain, side chains, their
        // maps, then sets; base chains and a's sides stay.
        let removed: Vec<&str> = p.remove.lines().map(|l| l.rsplit(' ').next().unwrap()).collect();
        let position = |name: &str| removed.iter().position(|r| *r == name).unwrap_or_else(|| panic!("{name}"));
        let egress = Side::Egress(&sg("sg-0b")).chain();
        assert!(position(&crate::names::entry_chain(Some(Side::Egress(&sg("sg-0b"))))) < position(&egress));
        assert!(position(&egress) < position(&format!("{egress}_p")));
        assert!(removed.iter().all(|r| r.contains(&egress[3..])), "{removed:?}");
        assert_eq!(p.summary.removed, removed.len());
    }

    #[test]
    fn a_new_table_is_whole_before_it_is_hooked_in() {
        let want = layout(&["10.1.0.3"], true);
        let p = plan(None, &want).unwrap();
        assert!(p.create.starts_with("add table inet podsg\n"));
        assert!(!p.create.contains("hook"), "nothing is hooked in while the table is being made");
        assert!(!p.create.contains("elements"), "elements travel by netlink");
        let filled: Vec<&str> = p.elements.iter().map(|c| c.object.as_str()).collect();
        assert!(filled.contains(&a_members().as_str()) && filled.contains(&"from_pod"), "{filled:?}");
        assert!(p.elements.iter().all(|c| !c.delete));
        assert!(p.hooks.contains("hook forward") && p.hooks.contains("hook input"), "{}", p.hooks);
    }

    #[test]
    fn a_table_that_is_not_podsgs_is_replaced() {
        let want = layout(&[], true);
        let mut tampered = want.clone();
        let side = Side::Ingress(&sg("sg-0a")).chain();
        tampered.chains.get_mut(&side).unwrap().pop();
        assert_eq!(plan(Some(&tampered), &want).unwrap_err(), format!("chain {side} has 5 rules, expected 6"));
        let mut gone = want.clone();
        gone.chains.remove("forward");
        assert_eq!(plan(Some(&gone), &want).unwrap_err(), "chain forward is missing");
    }

    #[test]
    fn a_mode_change_adds_and_removes_base_chains_in_place() {
        let strict = layout(&[], true);
        let mut standard_rs = ruleset(&[], true);
        standard_rs.mode = EnforcingMode::Standard;
        let standard = Layout::desired(&standard_rs);
        let p = plan(Some(&strict), &standard).unwrap();
        assert_eq!(p.hooks, "delete chain inet podsg input\ndelete chain inet podsg output\n");
        let back = plan(Some(&standard), &strict).unwrap();
        assert!(back.hooks.contains("add chain inet podsg input { type filter hook input priority filter;"));
        assert_eq!(back.summary.hooks, 2);
    }
}
