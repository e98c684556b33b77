//! Builders for tests and benchmarks: `mk_pod`, `mk_policy`, `mk_group`, in
//! the style of linkerd's policy-controller tests. Pure, small, always built.

use crate::group::{Peer, Ports, Protocol, Rule, SecurityGroup, SgId};
use crate::labels::{Labels, Selector};
use crate::policy::Policy;
use crate::workload::{Workload, WorkloadKind};

pub fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

pub fn sg(id: &str) -> SgId {
    SgId::parse(id).expect("fixture group IDs are valid")
}

pub fn mk_pod(namespace: &str, name: &str, pairs: &[(&str, &str)]) -> Workload {
    Workload {
        kind: WorkloadKind::Pod,
        namespace: namespace.into(),
        name: name.into(),
        labels: labels(pairs),
        annotations: Default::default(),
        service_account: "default".into(),
        host_network: false,
        node_name: None,
        addresses: Vec::new(),
        probes: Vec::new(),
        ports: Vec::new(),
        replicas: 1,
        owner: None,
    }
}

/// An SGP selecting pods whose labels include all of `pairs`.
pub fn mk_policy(namespace: &str, name: &str, pairs: &[(&str, &str)], groups: &[&str]) -> Policy {
    Policy {
        namespace: namespace.into(),
        name: name.into(),
        pod_selector: Some(Selector::new(pairs.iter().map(|(k, v)| Selector::equals(k, v)).collect())),
        service_account_selector: None,
        service_account_names: Vec::new(),
        group_ids: groups.iter().map(|g| sg(g)).collect(),
    }
}

pub fn mk_group(id: &str, ingress: Vec<Rule>, egress: Option<Vec<Rule>>) -> SecurityGroup {
    let mut g = SecurityGroup::new(sg(id));
    g.ingress = ingress;
    if let Some(egress) = egress {
        g.egress = egress;
        g.default_egress = false;
    }
    g
}

pub fn tcp_from_group(port: u16, group: &str) -> Rule {
    Rule {
        protocol: Protocol::TCP,
        ports: Ports::Range { from: port, to: port },
        peers: vec![Peer::Group { id: sg(group), description: None }],
    }
}

pub fn all_from_cidr(cidr: &str) -> Rule {
    Rule {
        protocol: Protocol::All,
        ports: Ports::Any,
        peers: vec![Peer::Cidr { cidr: cidr.parse().expect("fixture CIDR"), description: None }],
    }
}

/// A catalog from one YAML text that must load without a diagnostic.
pub fn catalog_of(yaml: &str) -> crate::catalog::Catalog {
    let decoded = crate::decode::decode(yaml, "world.yaml", crate::decode::Format::Yaml);
    assert!(decoded.diagnostics.is_empty(), "{:?}", decoded.diagnostics);
    crate::catalog::Catalog::build(decoded.objects).expect("the world loads").catalog
}

/// The rule set of one node that runs every pod of `c`, each behind the
/// interface `pg<name>`: what an agent computes.
pub fn all_on_one_node(c: &crate::catalog::Catalog) -> crate::dataplane::NodeRuleset {
    use crate::dataplane::{LocalPod, NodeRuleset, PodGroups};
    let resolved: Vec<(String, String, Vec<std::net::IpAddr>, Vec<SgId>)> = c
        .workloads
        .iter()
        .map(|w| (format!("pg{}", w.name), w.key().to_string(), w.addresses.clone(), c.resolve(w).groups))
        .collect();
    let local: Vec<LocalPod> = resolved
        .iter()
        .map(|(interface, pod, addresses, groups)| LocalPod {
            interface,
            pod,
            addresses,
            groups: PodGroups::of(groups),
            log_denied: false,
        })
        .collect();
    let membership = c.membership();
    NodeRuleset::compile(&c.groups, &|g| membership.addresses(g), c.settings.enforcing_mode, &local)
}
