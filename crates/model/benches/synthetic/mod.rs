//! A synthetic cluster for the model's benchmarks, deterministic so that
//! runs compare: pods spread over namespaces, SGPs selecting by app label
//! (some with a tier expression), by service-account team, or everything;
//! groups whose rules reference other groups or CIDRs.
#![allow(dead_code)]

use podsg_model::group::{Member, Peer, Ports, Protocol, Rule, SecurityGroup, SgId};
use podsg_model::labels::{Labels, Operator, Requirement, Selector};
use podsg_model::node::Node;
use podsg_model::policy::Policy;
use podsg_model::workload::{Workload, WorkloadKind};
use std::net::{IpAddr, Ipv4Addr};

pub struct Sizes {
    pub pods: usize,
    pub policies: usize,
    pub groups: usize,
    pub namespaces: usize,
    pub nodes: usize,
}

/// `(namespace, name, labels)` of a service account.
pub type Account = (String, String, Labels);

pub struct Cluster {
    pub policies: Vec<Policy>,
    pub pods: Vec<Workload>,
    pub accounts: Vec<Account>,
    pub groups: Vec<SecurityGroup>,
    pub nodes: Vec<Node>,
}

/// A small deterministic generator (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

pub fn sg(i: usize) -> SgId {
    SgId::parse(&format!("sg-{i:017x}")).unwrap()
}

pub fn address(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, (i >> 16) as u8, (i >> 8) as u8, i as u8))
}

pub fn namespace(i: usize) -> String {
    format!("ns-{i}")
}

/// One SGP per namespace selects every pod (an empty selector), one in ten
/// select by service account labels (a team), the rest `app=app-N`, a fifth
/// of those with a `tier in (web, db)` expression. Pods carry app, tier and
/// version labels and one of 40 service accounts.
pub fn cluster(s: &Sizes, rng: &mut Rng) -> Cluster {
    let apps_per_ns = (s.policies / s.namespaces).max(1);
    let teams = (apps_per_ns / 10).max(1);
    let policies = (0..s.policies)
        .map(|i| {
            let groups = (0..1 + rng.below(3)).map(|_| sg(rng.below(s.groups))).collect();
            let (pod_selector, sa_selector) = match i % 100 {
                _ if i < s.namespaces => (Some(Selector::everything()), None),
                1..=10 => {
                    (None, Some(Selector::new(vec![Selector::equals("team", &format!("team-{}", rng.below(teams)))])))
                }
                11..=30 => (
                    Some(Selector::new(vec![
                        Selector::equals("app", &format!("app-{}", rng.below(apps_per_ns))),
                        Requirement { key: "tier".into(), operator: Operator::In(["web".into(), "db".into()].into()) },
                    ])),
                    None,
                ),
                _ => (
                    Some(Selector::new(vec![Selector::equals("app", &format!("app-{}", rng.below(apps_per_ns)))])),
                    None,
                ),
            };
            Policy {
                namespace: namespace(i % s.namespaces),
                name: format!("sgp-{i}"),
                pod_selector,
                service_account_selector: sa_selector,
                service_account_names: Vec::new(),
                group_ids: groups,
            }
        })
        .collect();
    let tiers = ["web", "db", "cache"];
    let pods = (0..s.pods)
        .map(|i| Workload {
            kind: WorkloadKind::Pod,
            namespace: namespace(i % s.namespaces),
            name: format!("pod-{i}"),
            labels: [
                ("app".to_string(), format!("app-{}", rng.below(apps_per_ns * 2))),
                ("tier".to_string(), tiers[rng.below(3)].to_string()),
                ("version".to_string(), format!("v{}", rng.below(5))),
            ]
            .into(),
            annotations: Default::default(),
            service_account: format!("sa-{}", rng.below(40)),
            host_network: false,
            node_name: Some(format!("node-{}", i % s.nodes.max(1))),
            addresses: vec![address(i)],
            probes: Vec::new(),
            ports: Vec::new(),
            replicas: 1,
            owner: None,
        })
        .collect();
    let accounts = (0..s.namespaces)
        .flat_map(|n| {
            (0..40).map(move |a| {
                (namespace(n), format!("sa-{a}"), Labels::from([("team".to_string(), format!("team-{}", a % teams))]))
            })
        })
        .collect();
    let groups = (0..s.groups).map(|i| group(i, s.groups, rng)).collect();
    let nodes = (0..s.nodes)
        .map(|i| Node {
            name: format!("node-{i}"),
            addresses: vec![IpAddr::V4(Ipv4Addr::new(172, 16, (i >> 8) as u8, i as u8))],
        })
        .collect();
    Cluster { policies, pods, accounts, groups, nodes }
}

/// A group with three ingress rules, half by group reference, half by CIDR,
/// and one external member in ten.
pub fn group(i: usize, groups: usize, rng: &mut Rng) -> SecurityGroup {
    let mut g = SecurityGroup::new(sg(i));
    g.ingress = (0..3)
        .map(|_| {
            let port = 1000 + rng.below(100) as u16;
            let peer = if rng.below(2) == 0 {
                Peer::Group { id: sg(rng.below(groups)), description: None }
            } else {
                Peer::Cidr { cidr: format!("10.{}.0.0/16", rng.below(4)).parse().unwrap(), description: None }
            };
            Rule { protocol: Protocol::TCP, ports: Ports::Range { from: port, to: port + 10 }, peers: vec![peer] }
        })
        .collect();
    if i.is_multiple_of(10) {
        g.members = vec![Member { address: IpAddr::V4(Ipv4Addr::new(192, 168, (i >> 8) as u8, i as u8)), name: None }];
    }
    g
}
