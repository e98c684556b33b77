//! Who reaches whom: every pod or workload and external member to every
//! other, on the ports their own rules mention, with the rules that decide.
//! The verdict engine decides each; this only picks the questions, as
//! `flow_diff` does, for `podsg graph --matrix`.

use crate::catalog::Catalog;
use crate::flow::Service;
use crate::flow_diff::probes;
use crate::group::{Ports, Protocol, Rule};
use crate::settings::EnforcingMode;
use crate::verdict::{Decision, Endpoint, Engine};
use serde::Serialize;

/// One service asked of one pair.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Asked {
    /// `tcp/5432`, `tcp/1000-1010`, `icmp type 8 code 0`, `tcp/all`.
    pub service: String,
    pub decision: Decision,
    pub egress: String,
    pub ingress: String,
}

/// What a cell says as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Reach {
    /// Everything asked is allowed.
    Allow,
    /// Some of it.
    Partial,
    /// Nothing.
    Deny,
    /// Some answer depends on what the manifests do not say.
    Unknown,
    /// Not asked (an endpoint to itself that is not a pod).
    None,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cell {
    pub reach: Reach,
    pub asked: Vec<Asked>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Matrix {
    /// Rows and columns alike: pods and workloads, then members.
    pub endpoints: Vec<Endpoint>,
    /// `cells[from][to]`.
    pub cells: Vec<Vec<Cell>>,
}

pub fn matrix(catalog: &Catalog, mode: EnforcingMode) -> Matrix {
    let engine = Engine::new(&catalog.groups, mode);
    let mut endpoints: Vec<Endpoint> = catalog.workloads.iter().map(|w| catalog.workload_endpoint(w)).collect();
    let mut addresses: Vec<std::net::IpAddr> =
        catalog.groups.values().flat_map(|g| &g.members).map(|m| m.address).collect();
    addresses.sort();
    addresses.dedup();
    endpoints.extend(addresses.into_iter().map(|a| catalog.address_endpoint(a)));
    let cells = endpoints
        .iter()
        .enumerate()
        .map(|(i, s)| {
            endpoints
                .iter()
                .enumerate()
                .map(|(j, d)| {
                    if i == j && !s.is_pod() {
                        Cell { reach: Reach::None, asked: Vec::new() }
                    } else {
                        cell(catalog, &engine, s, d)
                    }
                })
                .collect()
        })
        .collect();
    Matrix { endpoints, cells }
}

/// The pair's own rules: the source's egress, the destination's ingress.
fn rules<'a>(catalog: &'a Catalog, s: &Endpoint, d: &Endpoint) -> Vec<&'a Rule> {
    let egress = s.groups.iter().filter_map(|g| catalog.groups.get(g)).flat_map(|g| &g.egress);
    let ingress = d.groups.iter().filter_map(|g| catalog.groups.get(g)).flat_map(|g| &g.ingress);
    egress.chain(ingress).collect()
}

/// A rule about some ports (or ICMP types, or one other protocol), not a
/// whole protocol or all traffic.
fn names_ports(r: &Rule) -> bool {
    match (r.protocol, r.ports) {
        (Protocol::All, _) => false,
        (_, Ports::Range { from, to }) => from > 1 || to < 65535,
        (Protocol::ICMP | Protocol::ICMPV6, Ports::Icmp { icmp_type, .. }) => icmp_type.is_some(),
        // TCP or UDP without a range, ICMP of every type: the whole protocol.
        (Protocol::Number(_), _) => !r.protocol.has_ports() && !r.protocol.is_icmp(),
    }
}

fn cell(catalog: &Catalog, engine: &Engine, s: &Endpoint, d: &Endpoint) -> Cell {
    let rules = rules(catalog, s, d);
    let mut services: Vec<(String, Service)> = probes(rules.iter().copied())
        .into_iter()
        .map(|p| (p, p.service.service()))
        // The ports a rule names; whole protocols and the stretches between
        // rules are one question below.
        .filter(|(_, service)| rules.iter().any(|r| names_ports(r) && r.covers(*service)))
        .map(|(p, service)| {
            let text = match service {
                Service::Tcp(a) | Service::Udp(a) if p.last_port != a => {
                    format!("{}/{a}-{}", if matches!(service, Service::Tcp(_)) { "tcp" } else { "udp" }, p.last_port)
                }
                other => other.to_string(),
            };
            (text, service)
        })
        .collect();
    // "Every TCP port" when nothing names ports, or when the destination
    // takes whole protocols from someone (egress is all traffic by default,
    // so it alone does not count).
    let whole_ingress =
        d.groups.iter().filter_map(|g| catalog.groups.get(g)).flat_map(|g| &g.ingress).any(|r| !names_ports(r));
    if services.is_empty() || whole_ingress {
        services.push(("all".into(), Service::Every(Protocol::TCP)));
    }
    let asked: Vec<Asked> = services
        .into_iter()
        .map(|(text, service)| {
            let v = engine.verdict(s, d, service);
            Asked { service: text, decision: v.verdict, egress: v.egress.summary(), ingress: v.ingress.summary() }
        })
        .collect();
    let all = |d: Decision| asked.iter().all(|a| a.decision == d);
    let reach = if asked.iter().any(|a| a.decision == Decision::Unknown) {
        Reach::Unknown
    } else if all(Decision::Allow) {
        Reach::Allow
    } else if all(Decision::Deny) {
        Reach::Deny
    } else {
        Reach::Partial
    };
    Cell { reach, asked }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::catalog_of;

    #[test]
    fn the_handbooks_green_pod_reaches_the_database_and_red_does_not() {
        let text: String = [
            "00-cluster.yaml",
            "10-security-groups.yaml",
            "20-security-group-policy.yaml",
            "30-green-pod.yaml",
            "31-red-pod.yaml",
            "40-coredns.yaml",
        ]
        .iter()
        .map(|f| {
            std::fs::read_to_string(format!("{}/../../examples/handbook/{f}", env!("CARGO_MANIFEST_DIR"))).unwrap()
        })
        .collect::<Vec<_>>()
        .join("\n---\n");
        let c = catalog_of(&text);
        let m = matrix(&c, EnforcingMode::Strict);
        let at = |id: &str| m.endpoints.iter().position(|e| e.id == id).unwrap_or_else(|| panic!("{id}"));
        let (green, red, rds) = (
            at("Deployment/networking/green-pod"),
            at("Deployment/networking/red-pod"),
            at("member/rds-ekslab.internal"),
        );
        let to_rds = &m.cells[green][rds];
        assert_eq!(to_rds.reach, Reach::Allow, "{to_rds:?}");
        assert_eq!(to_rds.asked.iter().map(|a| a.service.as_str()).collect::<Vec<_>>(), ["tcp/5432"]);
        assert!(
            to_rds.asked[0].ingress.starts_with("allowed by sg-0c4d8e2f6a1b39703 (RDS_SG) ingress[0]"),
            "{to_rds:?}"
        );
        assert_eq!(m.cells[red][rds].reach, Reach::Deny, "RDS_SG takes 5432 from POD_SG only: {:?}", m.cells[red][rds]);
        assert_eq!(m.cells[red][rds].asked[0].service, "tcp/5432");
        let coredns = at("Deployment/kube-system/coredns");
        let dns = &m.cells[green][coredns];
        assert_eq!(
            dns.asked.iter().map(|a| (a.service.as_str(), a.decision)).collect::<Vec<_>>(),
            [("tcp/53", Decision::Allow), ("udp/53", Decision::Allow), ("all", Decision::Deny)]
        );
        assert_eq!(dns.reach, Reach::Partial, "green may only ask the DNS: {dns:?}");
        let node_group = &m.cells[red][coredns];
        assert_eq!(node_group.reach, Reach::Allow, "the node group takes all traffic from itself: {node_group:?}");
        assert_eq!(node_group.asked.last().unwrap().service, "all");
        assert_eq!(m.cells[rds][rds].reach, Reach::None);
        // Red carries the node group, whose DNS rules take 53 from POD_SG: on any pod of it.
        assert_eq!(m.cells[green][red].reach, Reach::Partial, "{:?}", m.cells[green][red]);
    }
}
