//! Flow accounting for people: which pod each counted interface is, and
//! which groups and rules each counted cell and side chain stands for, so
//! that the dataplane's counters and refusal logs can be said as "Pod
//! shop/db, ingress, sg-0db ingress[0]: tcp 5432".

use podsg_model::dataplane::{CellKey, NodeRuleset};
use podsg_model::group::{Direction, Ports, Protocol, SecurityGroup, SgId};
use podsg_nft::{Counters, side_chains};
use std::collections::BTreeMap;
use std::fmt::Write;

/// A counted cell: whose rules and which packets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CellLabel {
    pub direction: &'static str,
    pub groups: String,
    /// `tcp 5432`, `udp 1000-2000`, `icmp type 8 code 0`, `all`.
    pub cell: String,
    /// The group rules that make the cell: `sg-0db ingress[0]`, ...
    pub rules: String,
}

/// Whose refused connections are logged, besides pods annotated
/// `podsg.io/log-denied: "true"` (and never a pod annotated `"false"`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogDenied {
    /// Every pod's.
    pub all: bool,
    /// Pods that carry any of these groups.
    pub groups: std::collections::BTreeSet<SgId>,
}

/// The pod annotation that switches refusal logs on or off for one pod.
pub const LOG_DENIED_ANNOTATION: &str = "podsg.io/log-denied";

impl LogDenied {
    pub fn applies(&self, annotations: &BTreeMap<String, String>, groups: &[SgId]) -> bool {
        match annotations.get(LOG_DENIED_ANNOTATION).map(String::as_str) {
            Some("true") => true,
            Some("false") => false,
            _ => self.all || groups.iter().any(|g| self.groups.contains(g)),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowLabels {
    /// Host interface -> `Pod/namespace/name`.
    pub pods: BTreeMap<String, String>,
    /// Side chain -> direction and groups.
    pub sides: BTreeMap<String, (&'static str, Vec<SgId>)>,
    pub cells: BTreeMap<String, CellLabel>,
}

impl FlowLabels {
    pub fn of(ruleset: &NodeRuleset, groups: &BTreeMap<SgId, SecurityGroup>) -> FlowLabels {
        let mut out = FlowLabels::default();
        for (interface, p) in &ruleset.interfaces {
            out.pods.insert(interface.clone(), p.pod.clone());
        }
        for side in side_chains(ruleset) {
            let direction = if side.direction == "egress" { Direction::Egress } else { Direction::Ingress };
            let ids = side.groups.iter().map(SgId::as_str).collect::<Vec<_>>().join(",");
            for (chain, key) in &side.cells {
                let label = CellLabel {
                    direction: side.direction,
                    groups: ids.clone(),
                    cell: cell_text(key),
                    rules: rules_of(key, &side.groups, groups, direction).join(", "),
                };
                out.cells.insert(chain.clone(), label);
            }
            out.sides.insert(side.chain, (side.direction, side.groups));
        }
        out
    }
}

fn protocol_name(p: u8) -> String {
    match p {
        1 => "icmp".into(),
        6 => "tcp".into(),
        17 => "udp".into(),
        58 => "icmpv6".into(),
        n => format!("protocol {n}"),
    }
}

/// A cell's packets as rules say them.
pub fn cell_text(key: &CellKey) -> String {
    let span = |(a, b): (u32, u32)| if a == b { a.to_string() } else { format!("{a}-{b}") };
    match *key {
        CellKey::Ports { protocols: (0, 255), ports: (0, 65535) } => "all".into(),
        CellKey::Ports { protocols: (a, b), ports } => {
            let protocols = if a == b { protocol_name(a) } else { format!("protocols {a}-{b}") };
            if ports == (0, 65535) {
                protocols
            } else {
                format!("{protocols} {}", span((ports.0.into(), ports.1.into())))
            }
        }
        CellKey::Icmp { v6, types, codes } => format!(
            "{} type {} code {}",
            if v6 { "icmpv6" } else { "icmp" },
            span((types.0.into(), types.1.into())),
            span((codes.0.into(), codes.1.into()))
        ),
    }
}

/// The rules of `ids` in `direction` whose traffic holds the cell's (cells
/// refine the rules' regions, so a rule that overlaps a cell covers it).
fn rules_of(key: &CellKey, ids: &[SgId], groups: &BTreeMap<SgId, SecurityGroup>, direction: Direction) -> Vec<String> {
    let mut out = Vec::new();
    for id in ids {
        let Some(g) = groups.get(id) else { continue };
        let rules = match direction {
            Direction::Egress => &g.egress,
            Direction::Ingress => &g.ingress,
        };
        for (i, r) in rules.iter().enumerate() {
            let overlaps = match (*key, r.protocol, r.ports) {
                (_, Protocol::All, _) => true,
                (CellKey::Ports { protocols: (a, b), ports: (c, d) }, Protocol::Number(p), ports) => {
                    (a..=b).contains(&p)
                        && match ports {
                            Ports::Range { from, to } => from <= d && c <= to,
                            Ports::Any | Ports::Icmp { .. } => true,
                        }
                }
                (CellKey::Icmp { v6, types, codes }, p, ports) => {
                    p == if v6 { Protocol::ICMPV6 } else { Protocol::ICMP }
                        && match ports {
                            Ports::Icmp { icmp_type, code } => {
                                icmp_type.is_none_or(|t| (types.0..=types.1).contains(&t))
                                    && code.is_none_or(|c| (codes.0..=codes.1).contains(&c))
                            }
                            _ => true,
                        }
                }
            };
            if overlaps {
                out.push(format!("{id} {direction}[{i}]"));
            }
        }
    }
    out
}

/// A label value as Prometheus' text format writes it.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The counters as Prometheus text, labelled.
pub fn render(labels: &FlowLabels, counters: &Counters) -> String {
    let mut out = String::new();
    out.push_str("# HELP podsg_agent_pod_new_connections New connections of each pod interface the dataplane let through or refused, by direction.\n# TYPE podsg_agent_pod_new_connections counter\n");
    for (interface, c) in &counters.interfaces {
        let pod = labels.pods.get(interface).map(String::as_str).unwrap_or("");
        for (direction, result, n) in [
            ("egress", "allowed", c.egress_allowed),
            ("egress", "denied", c.egress_denied),
            ("ingress", "allowed", c.ingress_allowed),
            ("ingress", "denied", c.ingress_denied),
        ] {
            writeln!(
                out,
                "podsg_agent_pod_new_connections_total{{pod=\"{}\",interface=\"{}\",direction=\"{direction}\",result=\"{result}\"}} {n}",
                escape(pod),
                escape(interface)
            )
            .unwrap();
        }
    }
    out.push_str("# HELP podsg_agent_rule_allowed_connections New connections each cell of a set of groups' rules allowed (all pods on this node that carry those groups), with the rules that make the cell.\n# TYPE podsg_agent_rule_allowed_connections counter\n");
    for (chain, n) in &counters.cells {
        let Some(l) = labels.cells.get(chain) else { continue };
        writeln!(
            out,
            "podsg_agent_rule_allowed_connections_total{{direction=\"{}\",groups=\"{}\",cell=\"{}\",rules=\"{}\"}} {n}",
            l.direction,
            escape(&l.groups),
            escape(&l.cell),
            escape(&l.rules)
        )
        .unwrap();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use podsg_model::fixtures::catalog_of;
    use podsg_nft::Counts;

    #[test]
    fn cells_are_said_as_rules_say_them() {
        let ports = |p: (u8, u8), r: (u16, u16)| cell_text(&CellKey::Ports { protocols: p, ports: r });
        assert_eq!(ports((6, 6), (5432, 5432)), "tcp 5432");
        assert_eq!(ports((17, 17), (1000, 2000)), "udp 1000-2000");
        assert_eq!(ports((6, 6), (0, 65535)), "tcp");
        assert_eq!(ports((0, 255), (0, 65535)), "all");
        assert_eq!(ports((47, 47), (0, 65535)), "protocol 47");
        assert_eq!(cell_text(&CellKey::Icmp { v6: false, types: (8, 8), codes: (0, 255) }), "icmp type 8 code 0-255");
    }

    #[test]
    fn counters_are_labelled_with_pods_groups_and_the_rules_of_each_cell() {
        let c = catalog_of(
            "apiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata: {name: sg-0db}\nspec: {ingress: [{ipProtocol: tcp, fromPort: 5432, toPort: 5432, userIdGroupPairs: [{groupId: sg-0app}]}, {ipProtocol: tcp, fromPort: 5000, toPort: 6000, ipRanges: [{cidrIp: 10.0.0.0/8}]}]}\n---\napiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata: {name: sg-0app}\nspec: {}\n",
        );
        let ids = vec![SgId::parse("sg-0db").unwrap()];
        let members = |_: &SgId| Default::default();
        let local = [podsg_model::dataplane::LocalPod {
            interface: "pg0a",
            pod: "Pod/shop/db",
            addresses: &[],
            groups: podsg_model::dataplane::PodGroups::Groups(&ids),
            log_denied: false,
        }];
        let ruleset = NodeRuleset::compile(&c.groups, &members, c.settings.enforcing_mode, &local);
        let labels = FlowLabels::of(&ruleset, &c.groups);
        let cell = labels
            .cells
            .iter()
            .find(|(_, l)| l.cell == "tcp 5432")
            .map(|(chain, l)| (chain.clone(), l.clone()))
            .unwrap();
        assert_eq!(cell.1.rules, "sg-0db ingress[0], sg-0db ingress[1]", "5432 is in both rules' ranges");
        let wide = labels.cells.values().find(|l| l.cell == "tcp 5000-5431").unwrap();
        assert_eq!(
            (wide.direction, wide.groups.as_str(), wide.rules.as_str()),
            ("ingress", "sg-0db", "sg-0db ingress[1]")
        );
        let counters = Counters {
            interfaces: BTreeMap::from([(
                "pg0a".to_string(),
                Counts { ingress_allowed: 4, ingress_denied: 2, ..Counts::default() },
            )]),
            cells: BTreeMap::from([(cell.0, 4)]),
        };
        let text = render(&labels, &counters);
        assert!(text.contains("podsg_agent_pod_new_connections_total{pod=\"Pod/shop/db\",interface=\"pg0a\",direction=\"ingress\",result=\"denied\"} 2\n"), "{text}");
        assert!(text.contains("podsg_agent_rule_allowed_connections_total{direction=\"ingress\",groups=\"sg-0db\",cell=\"tcp 5432\",rules=\"sg-0db ingress[0], sg-0db ingress[1]\"} 4\n"), "{text}");
    }
}
