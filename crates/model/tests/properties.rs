//! Properties of selectors, the policy index and the verdict engine, over
//! random worlds: small universes so that random choices collide often.

use podsg_model::flow::Service;
use podsg_model::group::SgId;
use podsg_model::labels::{Labels, Operator, Requirement, Selector};
use podsg_model::policy::Policy;
use podsg_model::resolve::{GroupSource, PodFacts, PolicyIndex};
use podsg_model::verdict::{Conntrack, Decision, Endpoint, Engine, Packet, Role};
use proptest::prelude::*;
use proptest::sample::subsequence;
use std::collections::{BTreeMap, BTreeSet};

mod common;
use common::{
    GROUPS, KEYS, VALUES, arb_endpoint, arb_labels, arb_mode, arb_policy, arb_requirement, arb_rule, arb_selector,
    arb_service, arb_world, sg,
};

fn arb_policies() -> impl Strategy<Value = Vec<Policy>> {
    (0..8usize).prop_flat_map(|n| (0..n).map(|i| arb_policy(format!("p{i}"))).collect::<Vec<_>>())
}

#[derive(Clone, Debug)]
struct Pod {
    namespace: &'static str,
    labels: Labels,
    service_account: &'static str,
}

fn arb_pod() -> impl Strategy<Value = Pod> {
    (prop::sample::select(&["ns1", "ns2"][..]), arb_labels(), prop::sample::select(&["default", "sa1", "sa2"][..]))
        .prop_map(|(namespace, labels, service_account)| Pod { namespace, labels, service_account })
}

fn facts(p: &Pod) -> PodFacts<'_> {
    PodFacts { namespace: p.namespace, labels: &p.labels, service_account: p.service_account, host_network: false }
}

/// Resolution the slow, obvious way: every policy of the namespace, by name.
fn brute_force(policies: &[Policy], sa_labels: &BTreeMap<&str, Labels>, pod: &Pod) -> Vec<SgId> {
    let none = Labels::new();
    let sa = sa_labels.get(pod.service_account).unwrap_or(&none);
    let mut selected: Vec<&Policy> = policies
        .iter()
        .filter(|p| p.namespace == pod.namespace && p.selects(&pod.labels, pod.service_account, sa))
        .collect();
    selected.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out: Vec<SgId> = Vec::new();
    for p in selected {
        for g in &p.group_ids {
            if !out.contains(g) {
                out.push(g.clone());
            }
        }
    }
    out
}

fn index_of(policies: &[Policy], sas: &BTreeMap<&str, Labels>) -> PolicyIndex {
    let mut index = PolicyIndex::new();
    for p in policies {
        index.apply_policy(p.clone());
    }
    for ns in ["ns1", "ns2"] {
        for (name, labels) in sas {
            index.apply_service_account(ns, name, labels.clone());
        }
    }
    index
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn match_labels_subset_matches(labels in arb_labels(), extra in arb_labels()) {
        let mut superset = extra.clone();
        superset.extend(labels.clone());
        let s = Selector::new(labels.iter().map(|(k, v)| Selector::equals(k, v)).collect());
        prop_assert!(s.matches(&superset));
    }

    #[test]
    fn adding_a_requirement_never_widens_a_selector(s in arb_selector(), r in arb_requirement(), labels in arb_labels()) {
        let mut narrower = s.clone();
        narrower.requirements.push(r);
        prop_assert!(!narrower.matches(&labels) || s.matches(&labels));
    }

    #[test]
    fn operators_complement_each_other(key in prop::sample::select(&KEYS[..]), values in subsequence(&VALUES[..], 1..=2), labels in arb_labels()) {
        let set: BTreeSet<String> = values.into_iter().map(String::from).collect();
        let req = |operator| Requirement { key: key.into(), operator };
        let present = labels.contains_key(key);
        prop_assert_eq!(req(Operator::Exists).matches(&labels), !req(Operator::DoesNotExist).matches(&labels));
        if present {
            prop_assert_eq!(req(Operator::In(set.clone())).matches(&labels), !req(Operator::NotIn(set)).matches(&labels));
        } else {
            prop_assert!(!req(Operator::In(set.clone())).matches(&labels) && req(Operator::NotIn(set)).matches(&labels));
        }
    }

    /// The label index finds exactly what scanning every policy finds, also
    /// after policies are deleted and re-applied in another order.
    #[test]
    fn index_resolution_equals_brute_force(
        policies in arb_policies(),
        pods in prop::collection::vec(arb_pod(), 1..10),
        sa1 in arb_labels(), sa2 in arb_labels(),
        delete in prop::collection::vec(any::<bool>(), 8),
    ) {
        let sas: BTreeMap<&str, Labels> = [("sa1", sa1), ("sa2", sa2)].into_iter().collect();
        let mut index = index_of(&policies, &sas);
        for pod in &pods {
            prop_assert_eq!(index.resolve(facts(pod)).groups, brute_force(&policies, &sas, pod));
        }
        let kept: Vec<Policy> = policies.iter().zip(&delete).filter(|(_, d)| !**d).map(|(p, _)| p.clone()).collect();
        for (p, d) in policies.iter().zip(&delete) {
            if *d {
                index.delete_policy(&p.namespace, &p.name);
            }
        }
        for p in kept.iter().rev() {
            index.apply_policy(p.clone());
        }
        for pod in &pods {
            prop_assert_eq!(index.resolve(facts(pod)).groups, brute_force(&kept, &sas, pod));
        }
    }

    /// The order in which SGPs arrive does not change what a pod carries.
    #[test]
    fn union_is_order_independent(policies in arb_policies(), pods in prop::collection::vec(arb_pod(), 1..10), seed in any::<u64>()) {
        let sas = BTreeMap::new();
        let forward = index_of(&policies, &sas);
        let mut shuffled = policies.clone();
        let n = shuffled.len().max(1);
        shuffled.rotate_left((seed as usize) % n);
        shuffled.reverse();
        let backward = index_of(&shuffled, &sas);
        for pod in &pods {
            prop_assert_eq!(forward.resolve(facts(pod)), backward.resolve(facts(pod)));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Rules only allow: one more rule in any group never removes an allowed flow.
    #[test]
    fn adding_a_rule_never_removes_an_allowed_flow(
        world in arb_world(), src in arb_endpoint("src"), dst in arb_endpoint("dst"), service in arb_service(),
        mode in arb_mode(), group in 0..GROUPS.len(), ingress in any::<bool>(), rule in arb_rule(),
    ) {
        let before = Engine::new(&world, mode).verdict(&src, &dst, service).verdict;
        let mut wider = world.clone();
        let g = wider.get_mut(&sg(group)).unwrap();
        if ingress { g.ingress.push(rule) } else { g.egress.push(rule) }
        let after = Engine::new(&wider, mode).verdict(&src, &dst, service).verdict;
        prop_assert!(before != Decision::Allow || after == Decision::Allow, "{before:?} -> {after:?}");
    }

    /// One more group on either end never removes an allowed flow.
    #[test]
    fn adding_a_group_never_removes_an_allowed_flow(
        world in arb_world(), src in arb_endpoint("src"), dst in arb_endpoint("dst"), service in arb_service(),
        mode in arb_mode(), group in 0..GROUPS.len(), to_source in any::<bool>(),
    ) {
        let engine = Engine::new(&world, mode);
        let before = engine.verdict(&src, &dst, service).verdict;
        let (mut s, mut d) = (src.clone(), dst.clone());
        // Only an end that already carries groups (a restricted one) can gain one.
        let target = match (to_source, s.groups.is_empty(), d.groups.is_empty()) {
            (true, false, _) | (false, false, true) => &mut s,
            (_, _, false) => &mut d,
            (_, true, true) => return Ok(()),
        };
        if !target.groups.contains(&sg(group)) {
            target.groups.push(sg(group));
        }
        let after = engine.verdict(&s, &d, service).verdict;
        prop_assert!(before != Decision::Allow || after == Decision::Allow, "{before:?} -> {after:?}");
    }

    /// The fast decision and the explained verdict never disagree.
    #[test]
    fn decide_agrees_with_verdict(
        world in arb_world(), src in arb_endpoint("src"), dst in arb_endpoint("dst"), service in arb_service(), mode in arb_mode(),
    ) {
        let engine = Engine::new(&world, mode);
        prop_assert_eq!(engine.decide(&src, &dst, service), engine.verdict(&src, &dst, service).verdict);
    }

    /// The order of an endpoint's groups does not change the verdict.
    #[test]
    fn group_order_does_not_matter(
        world in arb_world(), src in arb_endpoint("src"), dst in arb_endpoint("dst"), service in arb_service(), mode in arb_mode(),
    ) {
        let engine = Engine::new(&world, mode);
        let before = engine.verdict(&src, &dst, service).verdict;
        let (mut s, mut d) = (src.clone(), dst.clone());
        s.groups.reverse();
        d.groups.reverse();
        prop_assert_eq!(before, engine.verdict(&s, &d, service).verdict);
    }

    /// A connection allowed one way has its replies allowed, and a reply
    /// without its connection is judged as a new flow (nothing leaks in).
    #[test]
    fn replies_of_allowed_flows_pass(
        world in arb_world(), src in arb_endpoint("src"), dst in arb_endpoint("dst"), mode in arb_mode(),
        sport in 1024u16..1100, dport in 0u16..100, proto in 0..3u8, id in any::<u16>(),
    ) {
        let engine = Engine::new(&world, mode);
        let (first, reply) = match proto {
            0 => (Packet::Tcp { sport, dport }, Packet::Tcp { sport: dport, dport: sport }),
            1 => (Packet::Udp { sport, dport }, Packet::Udp { sport: dport, dport: sport }),
            _ => (Packet::Icmp { v6: false, icmp_type: 8, code: 0, id }, Packet::Icmp { v6: false, icmp_type: 0, code: 0, id }),
        };
        let mut ct = Conntrack::new();
        let opened = ct.packet(&engine, &src, &dst, first).passes();
        let replied = ct.packet(&engine, &dst, &src, reply).passes();
        if opened {
            prop_assert!(replied, "reply of an allowed connection was dropped");
            prop_assert!(ct.packet(&engine, &src, &dst, first).passes(), "next packet of the connection was dropped");
        } else {
            // Nothing was tracked, so the "reply" passed only if the rules allow it as new.
            let as_new = match reply {
                Packet::Tcp { dport, .. } => engine.verdict(&dst, &src, Service::Tcp(dport)).verdict == Decision::Allow,
                Packet::Udp { dport, .. } => engine.verdict(&dst, &src, Service::Udp(dport)).verdict == Decision::Allow,
                _ => false, // an echo reply without a request is invalid
            };
            prop_assert_eq!(replied, as_new);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    /// A pod no SGP selects behaves exactly as a pod selected into the default groups.
    #[test]
    fn unselected_pod_behaves_as_the_default_groups(
        world in arb_world(), defaults in subsequence((0..GROUPS.len()).collect::<Vec<_>>(), 1..=2),
        peer in arb_endpoint("peer"), service in arb_service(), mode in arb_mode(), labels in arb_labels(),
    ) {
        let defaults: Vec<SgId> = defaults.into_iter().map(sg).collect();
        let mut index = PolicyIndex::new();
        index.set_default_groups(defaults.clone());
        let pod = Pod { namespace: "ns1", labels, service_account: "default" };
        let unselected = index.resolve(facts(&pod));
        prop_assert_eq!(&unselected.source, &GroupSource::Default);
        index.apply_policy(Policy {
            namespace: "ns1".into(), name: "defaults".into(), pod_selector: Some(Selector::everything()),
            service_account_selector: None, service_account_names: Vec::new(), group_ids: defaults.clone(),
        });
        let selected = index.resolve(facts(&pod));
        let endpoint = |groups: Vec<SgId>| Endpoint {
            id: "pod".into(), role: Role::Pod { node: Some("node-1".into()), restricted: true },
            addresses: vec!["10.0.1.5".parse().unwrap()], groups, why: String::new(),
        };
        let (a, b) = (endpoint(unselected.groups), endpoint(selected.groups));
        let engine = Engine::new(&world, mode);
        prop_assert_eq!(engine.verdict(&a, &peer, service).verdict, engine.verdict(&b, &peer, service).verdict);
        prop_assert_eq!(engine.verdict(&peer, &a, service).verdict, engine.verdict(&peer, &b, service).verdict);
    }
}
