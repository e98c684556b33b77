//! Layouts to nft scripts: a whole table (created or replaced atomically), or
//! the element-level update from one layout to another.

use crate::element::Element;
use crate::layout::{
    FROM_POD, Layout, MEMBERS_IN, TABLE, TO_POD, base_chain, base_chains, egress_rules, ingress_rules,
    members_in_rules, set_type,
};
use podsg_model::settings::EnforcingMode;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

fn elements(set: &BTreeSet<Element>) -> String {
    set.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

fn map_elements(map: &BTreeMap<String, String>) -> String {
    map.iter().map(|(k, v)| format!("\"{k}\" : jump {v}")).collect::<Vec<_>>().join(", ")
}

/// The rules of a non-base chain, from its name.
fn chain_rules(name: &str, layout: &Layout) -> Vec<String> {
    if name == MEMBERS_IN {
        return members_in_rules();
    }
    let interface_of = |map: &str| {
        layout.maps.get(map).and_then(|m| m.iter().find(|(_, chain)| *chain == name)).map(|(i, _)| i.clone())
    };
    if let Some(interface) = interface_of(TO_POD) {
        return ingress_rules(&interface);
    }
    if let Some(interface) = interface_of(FROM_POD) {
        let restricted = layout.maps.get(TO_POD).is_some_and(|m| m.contains_key(&interface));
        return egress_rules(&interface, restricted);
    }
    Vec::new()
}

/// Replaces the whole table in one transaction: no packet sees half of it.
pub fn full_script(layout: &Layout, mode: EnforcingMode) -> String {
    let mut s = String::new();
    // `add` then `delete`: works whether or not the table exists.
    writeln!(s, "add table inet {TABLE}\ndelete table inet {TABLE}\ntable inet {TABLE} {{").unwrap();
    for (name, set) in &layout.sets {
        let ty = set_type(name).expect("layout sets have known types");
        if set.is_empty() {
            writeln!(s, "  set {name} {{ {ty} }}").unwrap();
        } else {
            writeln!(s, "  set {name} {{ {ty} elements = {{ {} }} }}", elements(set)).unwrap();
        }
    }
    let bases: Vec<&str> = base_chains(mode).iter().map(|(n, _, _)| *n).collect();
    // Chains before the maps that jump to them; members_in before the chains that go to it.
    let mut regular: Vec<&String> = layout.chains.keys().filter(|c| !bases.contains(&c.as_str())).collect();
    regular.sort_by_key(|c| c.as_str() != MEMBERS_IN);
    for name in regular {
        writeln!(s, "  chain {name} {{").unwrap();
        for rule in chain_rules(name, layout) {
            writeln!(s, "    {rule}").unwrap();
        }
        writeln!(s, "  }}").unwrap();
    }
    for (name, map) in &layout.maps {
        if map.is_empty() {
            writeln!(s, "  map {name} {{ type ifname : verdict; }}").unwrap();
        } else {
            writeln!(s, "  map {name} {{ type ifname : verdict; elements = {{ {} }} }}", map_elements(map)).unwrap();
        }
    }
    for (name, hook, rules) in base_chains(mode) {
        writeln!(s, "  chain {name} {{\n    type filter hook {hook} priority filter; policy accept;").unwrap();
        for rule in rules {
            writeln!(s, "    {rule}").unwrap();
        }
        writeln!(s, "  }}").unwrap();
    }
    s.push_str("}\n");
    s
}

/// The element-level changes from `current` to `desired`, when both have the
/// same base structure; `None` when there is nothing to do.
pub fn update_script(current: &Layout, desired: &Layout) -> Option<String> {
    let t = format!("inet {TABLE}");
    let mut s = String::new();
    let gone_chains: Vec<&String> = current.chains.keys().filter(|c| !desired.chains.contains_key(*c)).collect();
    let new_chains: Vec<&String> = desired.chains.keys().filter(|c| !current.chains.contains_key(*c)).collect();
    // 1. Unhook interfaces that go or change.
    for (map, entries) in &current.maps {
        let wanted = desired.maps.get(map);
        let gone: Vec<&String> =
            entries.iter().filter(|(k, v)| wanted.and_then(|w| w.get(*k)) != Some(v)).map(|(k, _)| k).collect();
        if !gone.is_empty() {
            let keys: Vec<String> = gone.iter().map(|k| format!("\"{k}\"")).collect();
            writeln!(s, "delete element {t} {map} {{ {} }}", keys.join(", ")).unwrap();
        }
    }
    // 2. Their chains, then their sets.
    for c in &gone_chains {
        writeln!(s, "delete chain {t} {c}").unwrap();
    }
    for name in current.sets.keys().filter(|n| !desired.sets.contains_key(*n)) {
        writeln!(s, "delete set {t} {name}").unwrap();
    }
    // 3. Elements: deletions first, so that re-cut boxes never overlap.
    for (name, have) in &current.sets {
        if let Some(want) = desired.sets.get(name) {
            let gone: BTreeSet<Element> = have.difference(want).cloned().collect();
            if !gone.is_empty() {
                writeln!(s, "delete element {t} {name} {{ {} }}", elements(&gone)).unwrap();
            }
        }
    }
    for (name, want) in &desired.sets {
        match current.sets.get(name) {
            None => {
                let ty = set_type(name).expect("layout sets have known types");
                writeln!(s, "add set {t} {name} {{ {ty} }}").unwrap();
                if !want.is_empty() {
                    writeln!(s, "add element {t} {name} {{ {} }}", elements(want)).unwrap();
                }
            }
            Some(have) => {
                let new: BTreeSet<Element> = want.difference(have).cloned().collect();
                if !new.is_empty() {
                    writeln!(s, "add element {t} {name} {{ {} }}", elements(&new)).unwrap();
                }
            }
        }
    }
    // 4. New chains, then hook them up; base chains (strict mode's) last.
    let (new_bases, new_chains): (Vec<&String>, Vec<&String>) =
        new_chains.into_iter().partition(|c| base_chain(c).is_some());
    for c in &new_chains {
        writeln!(s, "add chain {t} {c}").unwrap();
        for rule in chain_rules(c, desired) {
            writeln!(s, "add rule {t} {c} {rule}").unwrap();
        }
    }
    for (map, entries) in &desired.maps {
        let have = current.maps.get(map);
        let new: BTreeMap<String, String> = entries
            .iter()
            .filter(|(k, v)| have.and_then(|h| h.get(*k)) != Some(v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !new.is_empty() {
            writeln!(s, "add element {t} {map} {{ {} }}", map_elements(&new)).unwrap();
        }
    }
    for c in &new_bases {
        let (hook, rules) = base_chain(c).expect("partitioned on it");
        writeln!(s, "add chain {t} {c} {{ type filter hook {hook} priority filter; policy accept; }}").unwrap();
        for rule in rules {
            writeln!(s, "add rule {t} {c} {rule}").unwrap();
        }
    }
    (!s.is_empty()).then_some(s)
}
