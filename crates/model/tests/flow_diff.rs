//! `flow_diff::diff` against the obvious way (every pair of endpoints on
//! every port, before and after), and its promise to reviewers: a change
//! that only adds rules never newly denies anything.

use podsg_model::Catalog;
use podsg_model::fixtures::{mk_pod, mk_policy};
use podsg_model::flow::Service;
use podsg_model::flow_diff::{Change, diff};
use podsg_model::group::{Member, Rule, SecurityGroup, SgId};
use podsg_model::settings::EnforcingMode;
use podsg_model::verdict::{Decision, Endpoint, Engine};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

mod common;
use common::{ADDRESSES, GROUPS, arb_mode, arb_rule, arb_world};

/// Pods with an app label each, some with addresses; SGPs by app.
#[derive(Clone, Debug)]
struct Scene {
    pods: Vec<(u8, Option<&'static str>)>,
    /// app -> groups
    policies: Vec<(u8, Vec<usize>)>,
    members: Vec<(usize, &'static str)>,
    defaults: Vec<usize>,
    mode: EnforcingMode,
}

fn arb_scene() -> impl Strategy<Value = Scene> {
    (
        prop::collection::vec((0u8..3, prop::option::of(prop::sample::select(&ADDRESSES[..3]))), 1..5),
        prop::collection::vec((0u8..3, prop::sample::subsequence((0..GROUPS.len()).collect::<Vec<_>>(), 0..=2)), 0..3),
        prop::collection::vec((0..GROUPS.len(), prop::sample::select(&["10.9.0.1", "10.9.0.2", "fd00::9"][..])), 0..3),
        prop::sample::subsequence((0..GROUPS.len()).collect::<Vec<_>>(), 0..=1),
        arb_mode(),
    )
        .prop_map(|(pods, policies, members, defaults, mode)| Scene { pods, policies, members, defaults, mode })
}

fn catalog(world: &BTreeMap<SgId, SecurityGroup>, s: &Scene) -> Catalog {
    let mut groups = world.clone();
    for (g, a) in &s.members {
        let group = groups.get_mut(&common::sg(*g)).unwrap();
        let m = Member { address: a.parse().unwrap(), name: None };
        if !group.members.contains(&m) {
            group.members.push(m);
        }
    }
    let workloads = s
        .pods
        .iter()
        .enumerate()
        .map(|(i, (app, address))| {
            let mut p = mk_pod("ns", &format!("p{i}"), &[("app", &format!("a{app}"))]);
            p.addresses = address.iter().map(|a| a.parse().unwrap()).collect();
            p
        })
        .collect();
    let mut c = Catalog::default();
    c.groups = groups;
    c.workloads = workloads;
    c.settings.enforcing_mode = s.mode;
    c.settings.default_group_ids = s.defaults.iter().map(|g| common::sg(*g)).collect();
    c.index.set_default_groups(c.settings.default_group_ids.clone());
    for (i, (app, gs)) in s.policies.iter().enumerate() {
        let ids: Vec<&str> = gs.iter().map(|g| GROUPS[*g]).collect();
        c.index.apply_policy(mk_policy("ns", &format!("sgp{i}"), &[("app", &format!("a{app}"))], &ids));
    }
    c
}

fn endpoints(c: &Catalog) -> BTreeMap<String, Endpoint> {
    let mut out: BTreeMap<String, Endpoint> = BTreeMap::new();
    for w in &c.workloads {
        let e = c.workload_endpoint(w);
        out.insert(e.id.clone(), e);
    }
    let members: BTreeSet<std::net::IpAddr> = c.groups.values().flat_map(|g| &g.members).map(|m| m.address).collect();
    for a in members {
        let e = c.address_endpoint(a);
        out.insert(e.id.clone(), e);
    }
    let node = c.node_endpoint(None);
    out.insert(node.id.clone(), node);
    out
}

/// Every service the random rules can tell apart: TCP and UDP ports 1 to
/// 100 and one above, ICMP echo and types 0 and 8, protocol 47.
fn services() -> Vec<Service> {
    let mut out: Vec<Service> = (1..=101).flat_map(|p| [Service::Tcp(p), Service::Udp(p)]).collect();
    out.extend(
        [0u8, 8].into_iter().flat_map(|t| (0..2).map(move |c| Service::Icmp { v6: false, icmp_type: t, code: c })),
    );
    out.push(Service::Other(47));
    out
}

fn classify(before: Option<Decision>, after: Decision) -> Option<Change> {
    match (before, after) {
        (b, a) if b == Some(a) => None,
        (Some(Decision::Unknown), _) | (_, Decision::Unknown) => Some(Change::Unknown),
        (None | Some(Decision::Deny), Decision::Allow) => Some(Change::NewlyAllowed),
        (Some(Decision::Allow), Decision::Deny) => Some(Change::NewlyDenied),
        _ => None,
    }
}

/// (from, to, service, change), the obvious way.
fn brute_force(old: &Catalog, new: &Catalog) -> BTreeSet<(String, String, String, Change)> {
    let (eb, ea) = (endpoints(old), endpoints(new));
    let (before, after) =
        (Engine::new(&old.groups, old.settings.enforcing_mode), Engine::new(&new.groups, new.settings.enforcing_mode));
    let mut out = BTreeSet::new();
    for (s, sa) in &ea {
        for (d, da) in &ea {
            if s == d && !sa.is_pod() {
                continue;
            }
            for service in services() {
                let b = eb.get(s).zip(eb.get(d)).map(|(sb, db)| before.decide(sb, db, service));
                if let Some(change) = classify(b, after.decide(sa, da, service)) {
                    out.insert((s.clone(), d.clone(), service.to_string(), change));
                }
            }
        }
    }
    out
}

/// The diff's changes, one line per endpoint pair and service, within what
/// `services` asks (a stretch reaching 65535 is asked at 101).
fn expanded(old: &Catalog, new: &Catalog) -> BTreeSet<(String, String, String, Change)> {
    let d = diff(old, new);
    let ids = endpoints(new);
    let mut out = BTreeSet::new();
    for c in &d.changes {
        let services: Vec<String> = match c.service.split_once('/') {
            Some((proto, ports)) => {
                let (a, b) = ports.split_once('-').unwrap_or((ports, ports));
                let (a, b): (u32, u32) = (a.parse().unwrap(), b.parse().unwrap());
                (a..=b.min(101)).map(|p| format!("{proto}/{p}")).collect()
            }
            None => vec![c.service.clone()],
        };
        for s in &c.from {
            for t in &c.to {
                if s == t && !ids[s].is_pod() {
                    continue;
                }
                for service in &services {
                    out.insert((s.clone(), t.clone(), service.clone(), c.change));
                }
            }
        }
    }
    out
}

/// The diff asks every TCP and UDP port and ICMP echo, and the other ICMP
/// types and protocols only where a rule names them; brute force asks all
/// of them. Compare what both always ask.
fn comparable(set: BTreeSet<(String, String, String, Change)>) -> BTreeSet<(String, String, String, Change)> {
    set.into_iter()
        .filter(|(_, _, s, _)| s.starts_with("tcp/") || s.starts_with("udp/") || s == "icmp type 8 code 0")
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn the_diff_is_what_every_pair_on_every_port_says(
        w1 in arb_world(), w2 in arb_world(), s1 in arb_scene(), s2 in arb_scene(), same_scene in any::<bool>()
    ) {
        let old = catalog(&w1, &s1);
        let new = catalog(&w2, if same_scene { &s1 } else { &s2 });
        prop_assert_eq!(comparable(expanded(&old, &new)), comparable(brute_force(&old, &new)));
    }

    #[test]
    fn a_change_that_only_adds_rules_never_newly_denies(
        w in arb_world(),
        s in arb_scene(),
        added in prop::collection::vec((0..GROUPS.len(), any::<bool>(), arb_rule()), 1..4),
    ) {
        let old = catalog(&w, &s);
        let mut more = w.clone();
        for (g, ingress, rule) in added {
            let group = more.get_mut(&common::sg(g)).unwrap();
            let rules: &mut Vec<Rule> = if ingress { &mut group.ingress } else { &mut group.egress };
            rules.push(rule);
        }
        let new = catalog(&more, &s);
        let d = diff(&old, &new);
        prop_assert!(d.of(Change::NewlyDenied).next().is_none(), "{:#?}", d.changes);
        // And nothing at all when nothing changed.
        prop_assert!(diff(&old, &old).changes.is_empty());
    }
}
