//! Driving the kernel to the compiled rule set: read back, compare, and
//! apply the smallest atomic change (or, when the table's structure is not
//! what podsg made, replace the whole table atomically).

use crate::error::Result;
use crate::kernel::parse_table;
use crate::layout::{Layout, MODE_CHAINS, TABLE};
use crate::nft::Nft;
use crate::render::{full_script, update_script};
use podsg_model::dataplane::NodeRuleset;
use std::fmt;

/// One way the kernel differs from the rule set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Drift {
    NoTable,
    Chain { name: String, expected: Option<usize>, found: Option<usize> },
    Set { name: String, missing: usize, extra: usize, exists: bool },
    MapEntry { map: String, interface: String, expected: Option<String>, found: Option<String> },
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Drift::NoTable => write!(f, "table inet {TABLE} is missing"),
            Drift::Chain { name, expected: None, .. } => write!(f, "chain {name} should not exist"),
            Drift::Chain { name, found: None, .. } => write!(f, "chain {name} is missing"),
            Drift::Chain { name, expected: Some(e), found: Some(n) } => {
                write!(f, "chain {name} has {n} rules, expected {e}")
            }
            Drift::Set { name, exists: false, .. } => write!(f, "set {name} is missing"),
            Drift::Set { name, missing, extra, .. } => {
                write!(f, "set {name}: {missing} elements missing, {extra} unexpected")
            }
            Drift::MapEntry { map, interface, expected, found } => {
                write!(f, "map {map}: interface {interface} jumps to {found:?}, expected {expected:?}")
            }
        }
    }
}

/// Every difference between the kernel's table and the desired one.
pub fn drift(current: Option<&Layout>, desired: &Layout) -> Vec<Drift> {
    let Some(current) = current else { return vec![Drift::NoTable] };
    let mut out = Vec::new();
    let names = current.chains.keys().chain(desired.chains.keys()).collect::<std::collections::BTreeSet<_>>();
    for name in names {
        let (e, f) = (desired.chains.get(name).copied(), current.chains.get(name).copied());
        if e != f {
            out.push(Drift::Chain { name: name.clone(), expected: e, found: f });
        }
    }
    for (name, want) in &desired.sets {
        match current.sets.get(name) {
            None => out.push(Drift::Set { name: name.clone(), missing: want.len(), extra: 0, exists: false }),
            Some(have) if have != want => out.push(Drift::Set {
                name: name.clone(),
                missing: want.difference(have).count(),
                extra: have.difference(want).count(),
                exists: true,
            }),
            Some(_) => {}
        }
    }
    for (map, want) in &desired.maps {
        let have = current.maps.get(map);
        let keys =
            want.keys().chain(have.into_iter().flat_map(|h| h.keys())).collect::<std::collections::BTreeSet<_>>();
        for k in keys {
            let (e, f) = (want.get(k).cloned(), have.and_then(|h| h.get(k)).cloned());
            if e != f {
                out.push(Drift::MapEntry { map: map.clone(), interface: k.clone(), expected: e, found: f });
            }
        }
    }
    out
}

/// What a sync did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncReport {
    /// The kernel already matched.
    InSync,
    /// Element-level changes, one transaction.
    Updated { script: String },
    /// The whole table was (re)created, one transaction.
    Replaced { reason: String },
}

/// Whether the kernel's table can be brought to `desired` in place: every
/// chain both have has the same rules, and the chains only one of them has
/// are per-interface chains or strict mode's base chains, which podsg adds
/// and removes in place. (Replacing the whole table is atomic for rules, but
/// re-registering the forward hook has been seen to cost a new connection
/// its SYN, so it is kept for creating and repairing the table.)
fn incremental(current: &Layout, desired: &Layout) -> Result<(), String> {
    let per_interface = |name: &str| name.starts_with("eg_") || name.starts_with("in_") || MODE_CHAINS.contains(&name);
    for (name, n) in &current.chains {
        match desired.chains.get(name) {
            Some(m) if m != n => return Err(format!("chain {name} has {n} rules, expected {m}")),
            None if !per_interface(name) => return Err(format!("chain {name} is not podsg's")),
            _ => {}
        }
    }
    match desired.chains.keys().find(|name| !current.chains.contains_key(*name) && !per_interface(name)) {
        Some(name) => Err(format!("chain {name} is missing")),
        None => Ok(()),
    }
}

/// The node's dataplane, over some way of running nft.
///
/// It remembers the layout it last applied and plans the next change from
/// it, so that a change costs what it changes, not a read of the whole
/// table. The kernel is read back when nothing is remembered, when a
/// transaction fails (the kernel was not as remembered: read, plan again,
/// retry once), on `check`, and on `repair`.
pub struct Dataplane<N: Nft> {
    nft: N,
    applied: std::sync::Mutex<Option<Layout>>,
}

impl<N: Nft> Dataplane<N> {
    pub fn new(nft: N) -> Self {
        Dataplane { nft, applied: std::sync::Mutex::new(None) }
    }

    fn remember(&self, layout: Option<Layout>) {
        *self.applied.lock().unwrap_or_else(|e| e.into_inner()) = layout;
    }

    /// The table as the kernel has it.
    pub fn current(&self) -> Result<Option<Layout>> {
        match self.nft.list()? {
            Some(json) => parse_table(&json),
            None => Ok(None),
        }
    }

    /// How the kernel differs from the rule set (empty: enforced as asked).
    pub fn check(&self, ruleset: &NodeRuleset) -> Result<Vec<Drift>> {
        let current = self.current()?;
        let found = drift(current.as_ref(), &Layout::desired(ruleset));
        self.remember(if found.is_empty() { current } else { None });
        Ok(found)
    }

    /// Brings the kernel to the rule set in one transaction.
    pub fn sync(&self, ruleset: &NodeRuleset) -> Result<SyncReport> {
        let desired = Layout::desired(ruleset);
        let remembered = self.applied.lock().unwrap_or_else(|e| e.into_inner()).take();
        let from_memory = remembered.is_some();
        let current = match remembered {
            Some(layout) => Some(layout),
            None => self.current()?,
        };
        match self.apply(current.as_ref(), &desired, ruleset) {
            Ok(report) => {
                self.remember(Some(desired));
                Ok(report)
            }
            Err(_) if from_memory => {
                let current = self.current()?;
                let report = self.apply(current.as_ref(), &desired, ruleset)?;
                self.remember(Some(desired));
                Ok(report)
            }
            Err(e) => Err(e),
        }
    }

    /// Forgets what was applied and syncs from what the kernel has: repairs
    /// any change made behind podsg's back.
    pub fn repair(&self, ruleset: &NodeRuleset) -> Result<SyncReport> {
        self.remember(None);
        self.sync(ruleset)
    }

    fn apply(&self, current: Option<&Layout>, desired: &Layout, ruleset: &NodeRuleset) -> Result<SyncReport> {
        let plan = match current {
            None => Err("no table".to_string()),
            Some(current) => incremental(current, desired),
        };
        match plan {
            Ok(()) => match update_script(current.expect("checked"), desired) {
                None => Ok(SyncReport::InSync),
                Some(script) => {
                    self.nft.apply(&script)?;
                    Ok(SyncReport::Updated { script })
                }
            },
            Err(reason) => {
                self.nft.apply(&full_script(desired, ruleset.mode))?;
                Ok(SyncReport::Replaced { reason })
            }
        }
    }

    /// Removes the table (and with it all enforcement).
    pub fn remove(&self) -> Result<()> {
        self.remember(None);
        self.nft.apply(&format!("add table inet {TABLE}\ndelete table inet {TABLE}\n"))
    }
}
