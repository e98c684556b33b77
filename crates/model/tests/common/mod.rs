//! Random worlds for property tests: small universes, so that random choices collide often.
#![allow(dead_code)]

use podsg_model::flow::Service;
use podsg_model::group::{Peer, Ports, Protocol, Rule, SecurityGroup, SgId};
use podsg_model::labels::{Labels, Operator, Requirement, Selector};
use podsg_model::policy::Policy;
use podsg_model::settings::EnforcingMode;
use podsg_model::verdict::{Endpoint, Role};
use proptest::prelude::*;
use proptest::sample::subsequence;
use std::collections::{BTreeMap, BTreeSet};

pub const GROUPS: [&str; 4] = ["sg-00", "sg-01", "sg-02", "sg-03"];
pub const ADDRESSES: [&str; 4] = ["10.0.1.5", "10.0.2.7", "192.168.1.1", "fd00::5"];
pub const CIDRS: [&str; 6] = ["10.0.0.0/8", "10.0.1.0/24", "0.0.0.0/0", "192.168.0.0/16", "::/0", "fd00::/8"];

pub fn sg(i: usize) -> SgId {
    SgId::parse(GROUPS[i]).unwrap()
}

pub fn arb_peer() -> impl Strategy<Value = Peer> {
    prop_oneof![
        prop::sample::select(&CIDRS[..]).prop_map(|c| Peer::Cidr { cidr: c.parse().unwrap(), description: None }),
        (0..GROUPS.len()).prop_map(|i| Peer::Group { id: sg(i), description: None }),
    ]
}

pub fn arb_rule() -> impl Strategy<Value = Rule> {
    let ports = (0u16..100, 0u16..100).prop_map(|(a, b)| Ports::Range { from: a.min(b), to: a.max(b) });
    let kind = prop_oneof![
        Just((Protocol::All, Ports::Any)),
        ports.clone().prop_map(|p| (Protocol::TCP, p)),
        ports.prop_map(|p| (Protocol::UDP, p)),
        (prop::option::of(prop::sample::select(&[0u8, 8][..])), prop::option::of(0u8..2))
            // EC2: type -1 (all) goes with code -1.
            .prop_map(|(icmp_type, code)| (Protocol::ICMP, Ports::Icmp { icmp_type, code: icmp_type.and(code) })),
    ];
    (kind, prop::collection::vec(arb_peer(), 1..=2)).prop_map(|((protocol, ports), peers)| Rule {
        protocol,
        ports,
        peers,
    })
}

pub fn arb_group(i: usize) -> impl Strategy<Value = SecurityGroup> {
    (prop::collection::vec(arb_rule(), 0..3), prop::option::of(prop::collection::vec(arb_rule(), 0..3))).prop_map(
        move |(ingress, egress)| {
            let mut g = SecurityGroup::new(sg(i));
            g.ingress = ingress;
            if let Some(e) = egress {
                g.egress = e;
                g.default_egress = false;
            }
            g
        },
    )
}

pub fn arb_world() -> impl Strategy<Value = BTreeMap<SgId, SecurityGroup>> {
    (0..GROUPS.len())
        .map(arb_group)
        .collect::<Vec<_>>()
        .prop_map(|gs| gs.into_iter().map(|g| (g.id.clone(), g)).collect())
}

pub fn arb_endpoint(id: &'static str) -> impl Strategy<Value = Endpoint> {
    let role = prop_oneof![
        4 => prop::sample::select(&["node-1", "node-2"][..]).prop_map(|n| Role::Pod { node: Some(n.into()), restricted: true }),
        1 => Just(Role::Pod { node: None, restricted: false }),
        1 => Just(Role::Node { name: Some("node-1".into()) }),
        1 => Just(Role::Member),
        1 => Just(Role::External),
    ];
    (
        role,
        prop::option::of(prop::sample::select(&ADDRESSES[..])),
        subsequence((0..GROUPS.len()).collect::<Vec<_>>(), 0..=2),
    )
        .prop_map(move |(role, address, groups)| {
            let groups = match role {
                Role::Pod { restricted: false, .. } | Role::External => vec![],
                _ => groups.into_iter().map(sg).collect(),
            };
            let role = match role {
                Role::Pod { node, .. } => Role::Pod { node, restricted: !groups.is_empty() },
                other => other,
            };
            Endpoint {
                id: id.into(),
                role,
                addresses: address.map(|a| a.parse().unwrap()).into_iter().collect(),
                groups,
                why: String::new(),
            }
        })
}

pub fn arb_service() -> impl Strategy<Value = Service> {
    prop_oneof![
        (0u16..100).prop_map(Service::Tcp),
        (0u16..100).prop_map(Service::Udp),
        prop::sample::select(&[0u8, 8][..]).prop_map(|t| Service::Icmp { v6: false, icmp_type: t, code: 0 }),
        Just(Service::Other(47)),
    ]
}

pub fn arb_mode() -> impl Strategy<Value = EnforcingMode> {
    prop_oneof![Just(EnforcingMode::Strict), Just(EnforcingMode::Standard)]
}

pub const KEYS: [&str; 3] = ["app", "tier", "team"];
pub const VALUES: [&str; 3] = ["a", "b", "c"];

pub fn arb_labels() -> impl Strategy<Value = Labels> {
    prop::collection::btree_map(prop::sample::select(&KEYS[..]), prop::sample::select(&VALUES[..]), 0..=3)
        .prop_map(|m| m.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

pub fn arb_requirement() -> impl Strategy<Value = Requirement> {
    let values =
        || subsequence(&VALUES[..], 1..=2).prop_map(|v| v.into_iter().map(String::from).collect::<BTreeSet<_>>());
    let op = prop_oneof![
        values().prop_map(Operator::In),
        values().prop_map(Operator::NotIn),
        Just(Operator::Exists),
        Just(Operator::DoesNotExist),
    ];
    (prop::sample::select(&KEYS[..]), op).prop_map(|(k, operator)| Requirement { key: k.into(), operator })
}

pub fn arb_selector() -> impl Strategy<Value = Selector> {
    prop::collection::vec(arb_requirement(), 0..=2).prop_map(Selector::new)
}

pub fn arb_policy(name: String) -> impl Strategy<Value = Policy> {
    (
        prop::sample::select(&["ns1", "ns2"][..]),
        prop::option::of(arb_selector()),
        prop::option::of(arb_selector()),
        subsequence((0..GROUPS.len()).collect::<Vec<_>>(), 1..=3).prop_shuffle(),
        subsequence(vec!["default", "sa1", "sa2"], 0..=2),
    )
        .prop_map(move |(ns, pod, sa, groups, names)| Policy {
            namespace: ns.into(),
            name: name.clone(),
            // At least one selector, as validation requires.
            pod_selector: if pod.is_none() && sa.is_none() { Some(Selector::everything()) } else { pod },
            // matchNames belong to the service-account selector.
            service_account_names: if sa.is_some() {
                names.into_iter().map(str::to_string).collect()
            } else {
                Vec::new()
            },
            service_account_selector: sa,
            group_ids: groups.into_iter().map(sg).collect(),
        })
}
