//! What a change to the manifests does to connectivity: the flows it newly
//! allows and newly denies, between pods, workloads, external members and
//! nodes, each with the rules that decide it before and after. The verdict
//! engine answers every question; this module only chooses the questions:
//! the pairs of endpoints the change touches, on the ports their rules
//! mention (`probes`), one endpoint per class of alike endpoints (`classes`).

mod classes;
mod probes;

pub use probes::{Probe, ServiceKey, probes};

use crate::catalog::Catalog;
use crate::group::SgId;
use crate::verdict::{Decision, Endpoint, Engine, Verdict};
use classes::Class;
use serde::Serialize;
use std::collections::BTreeSet;

/// How a flow's verdict changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Change {
    /// Denied before (or one end did not exist), allowed after.
    NewlyAllowed,
    /// Allowed before, denied after.
    NewlyDenied,
    /// Before or after, the answer depends on what the manifests do not say.
    Unknown,
}

/// One side's answer, for people: the verdict and what decided each side.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    pub verdict: Decision,
    pub egress: String,
    pub ingress: String,
}

/// A changed flow: from every endpoint of `from` to every one of `to`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlowChange {
    pub change: Change,
    pub from: Vec<String>,
    pub to: Vec<String>,
    /// `tcp/5432`, `tcp/8000-8080`, `icmp type 8 code 0`.
    pub service: String,
    /// `None`: an end did not exist before.
    pub before: Option<Answer>,
    pub after: Answer,
}

#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlowDiff {
    pub changes: Vec<FlowChange>,
    /// Endpoints only before (their flows are gone, not denied).
    pub removed: Vec<String>,
    /// Endpoints only after.
    pub added: Vec<String>,
    /// Pairs of endpoint classes the change could touch, and the probes asked.
    pub pairs: usize,
    pub probes: usize,
}

impl FlowDiff {
    pub fn of(&self, change: Change) -> impl Iterator<Item = &FlowChange> {
        self.changes.iter().filter(move |c| c.change == change)
    }
}

/// The flows whose verdict differs between `old` and `new`.
pub fn diff(old: &Catalog, new: &Catalog) -> FlowDiff {
    let before_engine = Engine::new(&old.groups, old.settings.enforcing_mode);
    let after_engine = Engine::new(&new.groups, new.settings.enforcing_mode);
    let classes = classes::classes(old, new);
    let everything_changed = old.settings.enforcing_mode != new.settings.enforcing_mode;
    let changed_groups = changed_groups(old, new);
    let touched: Vec<bool> = classes.iter().map(|c| everything_changed || touched(c, &changed_groups)).collect();
    let mut out = FlowDiff::default();
    for c in &classes {
        match (&c.before, &c.after) {
            (Some(_), None) => out.removed.extend(c.ids.iter().cloned()),
            (None, Some(_)) => out.added.extend(c.ids.iter().cloned()),
            _ => {}
        }
    }
    for (i, s) in classes.iter().enumerate() {
        for (j, d) in classes.iter().enumerate() {
            if !(touched[i] || touched[j]) || s.after.is_none() || d.after.is_none() {
                continue;
            }
            // Kubelet and members are not their own peers; pods of one workload are.
            if i == j && s.ids.len() == 1 && !s.after.as_ref().is_some_and(Endpoint::is_pod) {
                continue;
            }
            out.pairs += 1;
            compare(s, d, (old, new), (&before_engine, &after_engine), &mut out);
        }
    }
    out.changes.sort_by(|a, b| (a.change, &a.from, &a.to).cmp(&(b.change, &b.from, &b.to)));
    out
}

/// Groups whose rules or members differ, or that exist on one side only.
fn changed_groups(old: &Catalog, new: &Catalog) -> BTreeSet<SgId> {
    let ids: BTreeSet<&SgId> = old.groups.keys().chain(new.groups.keys()).collect();
    ids.into_iter().filter(|id| old.groups.get(*id) != new.groups.get(*id)).cloned().collect()
}

fn touched(c: &Class, changed: &BTreeSet<SgId>) -> bool {
    let same = match (&c.before, &c.after) {
        (Some(b), Some(a)) => b.role == a.role && b.groups == a.groups && b.addresses == a.addresses,
        _ => false,
    };
    !same || [&c.before, &c.after].into_iter().flatten().any(|e| e.groups.iter().any(|g| changed.contains(g)))
}

/// The probes of one pair of classes: its source's egress rules and its
/// destination's ingress rules, before and after, and every protocol whole
/// (so that a side with no rules at all is asked too).
fn pair_probes(s: &Class, d: &Class, catalogs: (&Catalog, &Catalog)) -> Vec<Probe> {
    let everything = crate::group::Rule::default_egress();
    let mut rules = vec![&everything];
    for c in [catalogs.0, catalogs.1] {
        let groups = |e: &Option<Endpoint>| e.as_ref().map(|e| e.groups.clone()).unwrap_or_default();
        for g in groups(&s.before).iter().chain(&groups(&s.after)).filter_map(|id| c.groups.get(id)) {
            rules.extend(&g.egress);
        }
        for g in groups(&d.before).iter().chain(&groups(&d.after)).filter_map(|id| c.groups.get(id)) {
            rules.extend(&g.ingress);
        }
    }
    probes::probes(rules.into_iter())
}

fn compare(s: &Class, d: &Class, catalogs: (&Catalog, &Catalog), engines: (&Engine, &Engine), out: &mut FlowDiff) {
    let (sa, da) = (s.after.as_ref().expect("present after"), d.after.as_ref().expect("present after"));
    let both_before = s.before.as_ref().zip(d.before.as_ref());
    let mut last: Option<(FlowChange, Probe)> = None;
    for probe in pair_probes(s, d, catalogs) {
        out.probes += 1;
        let service = probe.service.service();
        let before = both_before.map(|(sb, db)| engines.0.decide(sb, db, service));
        let after = engines.1.decide(sa, da, service);
        let change = match (before, after) {
            (b, a) if b == Some(a) => None,
            (Some(Decision::Unknown), _) | (_, Decision::Unknown) => Some(Change::Unknown),
            (None | Some(Decision::Deny), Decision::Allow) => Some(Change::NewlyAllowed),
            (None, Decision::Deny) => None,
            (Some(Decision::Allow), Decision::Deny) => Some(Change::NewlyDenied),
            _ => None,
        };
        let Some(change) = change else {
            out.changes.extend(last.take().map(|(c, _)| c));
            continue;
        };
        let answer =
            |v: Verdict| Answer { verdict: v.verdict, egress: v.egress.summary(), ingress: v.ingress.summary() };
        let flow = FlowChange {
            change,
            from: s.ids.clone(),
            to: d.ids.clone(),
            service: String::new(),
            before: both_before.map(|(sb, db)| answer(engines.0.verdict(sb, db, service))),
            after: answer(engines.1.verdict(sa, da, service)),
        };
        // A stretch that continues the last one with the same answers joins it.
        last = match last.take() {
            Some((mut open, first)) if joins(&open, &flow, first, probe) => {
                open.service = span(first, probe);
                Some((open, first))
            }
            previous => {
                out.changes.extend(previous.map(|(c, _)| c));
                Some((FlowChange { service: span(probe, probe), ..flow }, probe))
            }
        };
    }
    out.changes.extend(last.map(|(c, _)| c));
}

fn joins(open: &FlowChange, next: &FlowChange, first: Probe, probe: Probe) -> bool {
    let same_protocol = matches!(
        (first.service, probe.service),
        (ServiceKey::Tcp(_), ServiceKey::Tcp(_)) | (ServiceKey::Udp(_), ServiceKey::Udp(_))
    );
    same_protocol && open.change == next.change && open.before == next.before && open.after == next.after
}

/// `tcp/80`, `tcp/80-90` from the first probe to the last of a run.
fn span(first: Probe, last: Probe) -> String {
    let (name, from) = match first.service {
        ServiceKey::Tcp(p) => ("tcp", p),
        ServiceKey::Udp(p) => ("udp", p),
        other => return other.service().to_string(),
    };
    if last.last_port == from { format!("{name}/{from}") } else { format!("{name}/{from}-{}", last.last_port) }
}
