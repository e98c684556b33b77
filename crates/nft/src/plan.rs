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

fn declare_set(out: &mut String, name: &str, set: &Set) {
    let t = format!("inet {TABLE}");
    if set.elements.is_empty() {
        writeln!(out, "add set {t} {name} {{ {} }}", set.kind.declaration()).unwrap();
    } else {
        let elements = elements_text(&set.elements);
        writeln!(out, "add set {t} {name} {{ {} elements = {{ {elements} }}; }}", set.kind.declaration()).unwrap();
    }
}

fn declare_map(out: &mut String, name: &str, map: &Map) {
    let t = format!("inet {TABLE}");
    if map.entries.is_empty() {
        writeln!(out, "add map {t} {name} {{ {} }}", map.kind.declaration()).unwrap();
    } else {
        let entries = elements_text(map.entries.iter().map(|(k, v)| format!("{k} : {v}")));
        writeln!(out, "add map {t} {name} {{ {} elements = {{ {entries} }}; }}", map.kind.declaration()).unwrap();
    }
}

/// Declares the given objects of `layout`: sets, then empty chains, then
/// maps (which go to chains), then the chains' rules (which use all of
/// them); base chains last, so that nothing is hooked before it is whole.
fn declare(layout: &Layout, sets: &[&String], maps: &[&String], chains: &[&String]) -> String {
    let t = format!("inet {TABLE}");
    let mut out = String::new();
    for name in sets {
        declare_set(&mut out, name, &layout.sets[*name]);
    }
    let (bases, regular): (Vec<&String>, Vec<&String>) = chains.iter().partition(|c| hook(c).is_some());
    for c in &regular {
        writeln!(out, "add chain {t} {c}").unwrap();
    }
    for name in maps {
        declare_map(&mut out, name, &layout.maps[*name]);
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
    s.push_str(&declare(layout, &sets, &maps, &chains));
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

/// The changes from `current` to `desired`, or why the table must be
/// replaced instead.
pub fn plan(current: &Layout, desired: &Layout) -> Result<Plan, String> {
    in_place(current, desired)?;
    let mut summary = Changes::default();
    let new_sets: Vec<&String> = desired.sets.keys().filter(|n| !current.sets.contains_key(*n)).collect();
    let new_maps: Vec<&String> = desired.maps.keys().filter(|n| !current.maps.contains_key(*n)).collect();
    let new_chains: Vec<&String> = desired.chains.keys().filter(|n| !current.chains.contains_key(*n)).collect();
    let (new_bases, new_chains): (Vec<&String>, Vec<&String>) = new_chains.into_iter().partition(|c| hook(c).is_some());
    summary.created = new_sets.len() + new_maps.len() + new_chains.len();
    let create = declare(desired, &new_sets, &new_maps, &new_chains);

    // Deletions first, so that a range re-cut never overlaps its old self.
    let mut deletes = Vec::new();
    let mut adds = Vec::new();
    for (name, want) in &desired.sets {
        let Some(have) = current.sets.get(name) else { continue };
        let gone: Vec<_> = have.elements.difference(&want.elements).flat_map(|e| set_element(have.kind, e)).collect();
        let added: Vec<_> = want.elements.difference(&have.elements).flat_map(|e| set_element(want.kind, e)).collect();
        summary.deleted += have.elements.difference(&want.elements).count();
        summary.added += want.elements.difference(&have.elements).count();
        if !gone.is_empty() {
            deletes.push(ElementChange { object: name.clone(), delete: true, elements: gone });
        }
        if !added.is_empty() {
            adds.push(ElementChange { object: name.clone(), delete: false, elements: added });
        }
    }
    for (name, want) in &desired.maps {
        let Some(have) = current.maps.get(name) else { continue };
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
