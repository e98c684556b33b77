//! Driving the kernel to the compiled rule set: plan from what was applied
//! (or read back), apply the smallest change, and notice cheaply whether
//! anyone else touched the table.

use crate::error::Result;
use crate::kernel::parse_table;
use crate::layout::Layout;
use crate::names::TABLE;
use crate::nft::Nft;
use crate::plan::{Changes, Plan, full_script};
use crate::refill::plan_filled;
use podsg_model::dataplane::NodeRuleset;
use std::collections::BTreeSet;
use std::fmt;
use std::sync::Mutex;

/// One way the kernel differs from the rule set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Drift {
    NoTable,
    Chain {
        name: String,
        expected: Option<usize>,
        found: Option<usize>,
    },
    Set {
        name: String,
        missing: usize,
        extra: usize,
        exists: bool,
    },
    Map {
        name: String,
        missing: usize,
        extra: usize,
        exists: bool,
    },
    /// A set or map podsg does not want (`what` says which).
    Unwanted {
        what: &'static str,
        name: String,
    },
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
            Drift::Map { name, exists: false, .. } => write!(f, "map {name} is missing"),
            Drift::Set { name, missing, extra, .. } => {
                write!(f, "set {name}: {missing} elements missing, {extra} unexpected")
            }
            Drift::Map { name, missing, extra, .. } => {
                write!(f, "map {name}: {missing} entries missing or different, {extra} unexpected")
            }
            Drift::Unwanted { what, name } => write!(f, "{what} {name} should not exist"),
        }
    }
}

/// Every difference between the kernel's table and the desired one.
pub fn drift(current: Option<&Layout>, desired: &Layout) -> Vec<Drift> {
    let Some(current) = current else { return vec![Drift::NoTable] };
    let mut out = Vec::new();
    let names: BTreeSet<&String> = current.chains.keys().chain(desired.chains.keys()).collect();
    for name in names {
        let (e, f) = (desired.chains.get(name).map(Vec::len), current.chains.get(name).map(Vec::len));
        if e != f {
            out.push(Drift::Chain { name: name.clone(), expected: e, found: f });
        }
    }
    for (name, want) in &desired.sets {
        match current.sets.get(name) {
            None => out.push(Drift::Set { name: name.clone(), missing: want.elements.len(), extra: 0, exists: false }),
            Some(have) if have != want => out.push(Drift::Set {
                name: name.clone(),
                missing: want.elements.difference(&have.elements).count(),
                extra: have.elements.difference(&want.elements).count(),
                exists: true,
            }),
            Some(_) => {}
        }
    }
    for name in current.sets.keys().filter(|n| !desired.sets.contains_key(*n)) {
        out.push(Drift::Unwanted { what: "set", name: name.clone() });
    }
    for (name, want) in &desired.maps {
        match current.maps.get(name) {
            None => out.push(Drift::Map { name: name.clone(), missing: want.entries.len(), extra: 0, exists: false }),
            Some(have) if have != want => out.push(Drift::Map {
                name: name.clone(),
                missing: want.entries.iter().filter(|(k, v)| have.entries.get(*k) != Some(*v)).count(),
                extra: have.entries.keys().filter(|k| !want.entries.contains_key(*k)).count(),
                exists: true,
            }),
            Some(_) => {}
        }
    }
    for name in current.maps.keys().filter(|n| !desired.maps.contains_key(*n)) {
        out.push(Drift::Unwanted { what: "map", name: name.clone() });
    }
    out
}

/// What a sync did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncReport {
    /// The kernel already matched.
    InSync,
    /// Changed in place: new objects, one atomic element batch, old objects gone.
    Updated(Changes),
    /// There was no table: it was made whole, then hooked in.
    Created(Changes),
    /// The whole table was (re)created, one transaction.
    Replaced { reason: String },
}

impl fmt::Display for SyncReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyncReport::InSync => f.write_str("kernel already in sync"),
            SyncReport::Updated(changes) => write!(f, "{changes}"),
            SyncReport::Created(changes) => write!(f, "table created: {changes}"),
            SyncReport::Replaced { reason } => write!(f, "table replaced ({reason})"),
        }
    }
}

/// What this dataplane last applied, and the namespace's nf_tables
/// generation right after: while the generation stays, nobody has changed
/// any table, so the kernel still holds exactly `layout`.
struct Applied {
    layout: Layout,
    generation: Option<u32>,
}

/// The node's dataplane, over some way of talking to nftables.
///
/// It remembers the layout it last applied and plans the next change from
/// it, so that a change costs what it changes, not a read of the whole
/// table. The kernel is read back when nothing is remembered, when a change
/// fails (the kernel was not as remembered: read, plan again, retry once),
/// on `check`, and on `repair` when the generation moved.
pub struct Dataplane<N: Nft> {
    nft: N,
    applied: Mutex<Option<Applied>>,
}

impl<N: Nft> Dataplane<N> {
    pub fn new(nft: N) -> Self {
        Dataplane { nft, applied: Mutex::new(None) }
    }

    fn remember(&self, layout: Option<Layout>) {
        let applied = layout.map(|layout| Applied { layout, generation: self.nft.generation().ok() });
        *self.applied.lock().unwrap_or_else(|e| e.into_inner()) = applied;
    }

    fn forget(&self) {
        self.remember(None);
    }

    /// The table as the kernel has it.
    pub fn current(&self) -> Result<Option<Layout>> {
        match self.nft.list()? {
            Some(json) => parse_table(&json),
            None => Ok(None),
        }
    }

    /// Whether nothing in the namespace's nf_tables was committed since this
    /// dataplane's last change: then the kernel holds exactly what it applied.
    /// One netlink request, whatever the size of the table.
    pub fn unchanged(&self) -> bool {
        let applied = self.applied.lock().unwrap_or_else(|e| e.into_inner());
        match applied.as_ref().and_then(|a| a.generation) {
            Some(g) => self.nft.generation().ok() == Some(g),
            None => false,
        }
    }

    /// How the kernel differs from the rule set (empty: enforced as asked).
    /// Compares with what was applied while the generation has not moved,
    /// else reads the table back.
    pub fn check(&self, ruleset: &NodeRuleset) -> Result<Vec<Drift>> {
        let desired = Layout::desired(ruleset);
        if self.unchanged() {
            let applied = self.applied.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(a) = applied.as_ref() {
                return Ok(drift(Some(&a.layout), &desired));
            }
        }
        let current = self.current()?;
        let found = drift(current.as_ref(), &desired);
        self.remember(if found.is_empty() { current } else { None });
        Ok(found)
    }

    /// Like `check`, but always reads the table back.
    pub fn check_kernel(&self, ruleset: &NodeRuleset) -> Result<Vec<Drift>> {
        self.forget();
        self.check(ruleset)
    }

    /// Brings the kernel to the rule set. The member sets are refilled from
    /// what the kernel holds (one walk each), the rest is planned: a
    /// membership change builds no new table (`refill.rs`).
    pub fn sync(&self, ruleset: &NodeRuleset) -> Result<SyncReport> {
        let remembered = self.applied.lock().unwrap_or_else(|e| e.into_inner()).take().map(|a| a.layout);
        let from_memory = remembered.is_some();
        let current = match remembered {
            Some(layout) => Some(layout),
            None => self.current()?,
        };
        match self.apply(current, ruleset) {
            Ok((report, desired)) => {
                self.remember(Some(desired));
                Ok(report)
            }
            // The kernel was not as remembered: read it back, plan again.
            Err(_) if from_memory => {
                let (report, desired) = self.apply(self.current()?, ruleset)?;
                self.remember(Some(desired));
                Ok(report)
            }
            Err(e) => Err(e),
        }
    }

    /// Forgets what was applied and syncs from what the kernel has.
    pub fn full_repair(&self, ruleset: &NodeRuleset) -> Result<SyncReport> {
        self.forget();
        self.sync(ruleset)
    }

    /// Brings the kernel from `current` to the rule set; returns what it did
    /// and the table the kernel now holds.
    fn apply(&self, current: Option<Layout>, ruleset: &NodeRuleset) -> Result<(SyncReport, Layout)> {
        let fresh = current.is_none();
        let (structure, fills) = Layout::apart(ruleset);
        let (planned, desired) = plan_filled(current, structure, &fills);
        let report = match planned {
            Ok(p) if p.summary.is_empty() => SyncReport::InSync,
            Ok(p) => {
                self.execute(&p)?;
                if fresh { SyncReport::Created(p.summary) } else { SyncReport::Updated(p.summary) }
            }
            Err(reason) => {
                self.nft.apply(&full_script(&desired))?;
                SyncReport::Replaced { reason }
            }
        };
        Ok((report, desired))
    }

    fn execute(&self, p: &Plan) -> Result<()> {
        if !p.create.is_empty() {
            self.nft.apply(&p.create)?;
        }
        if !p.elements.is_empty() {
            self.nft.elements(&p.elements)?;
        }
        if !p.hooks.is_empty() {
            self.nft.apply(&p.hooks)?;
        }
        if !p.remove.is_empty() {
            self.nft.apply(&p.remove)?;
        }
        Ok(())
    }

    /// Whether nf_tables answers (one netlink request).
    /// What the table counted.
    pub fn counters(&self) -> Result<crate::counters::Counters> {
        crate::counters::parse_counters(&self.nft.list_counters()?)
    }

    pub fn ready(&self) -> Result<()> {
        self.nft.generation().map(|_| ())
    }

    /// Removes the table (and with it all enforcement).
    pub fn remove(&self) -> Result<()> {
        self.forget();
        self.nft.apply(&format!("add table inet {TABLE}\ndelete table inet {TABLE}\n"))
    }
}
