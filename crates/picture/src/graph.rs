//! What the picture shows: each group (with the pods, workloads, members
//! and nodes that carry it), each CIDR a rule names, and an edge per pair
//! of them that rules connect, labelled with what the rules allow.

use podsg_model::Catalog;
use podsg_model::group::{Peer, SecurityGroup};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeKind {
    Group { id: String, name: Option<String>, carriers: Vec<String>, default_egress: bool, outside: bool },
    Cidr(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub kind: NodeKind,
}

impl Node {
    /// The lines drawn in its box: title first.
    pub fn lines(&self) -> Vec<String> {
        match &self.kind {
            NodeKind::Group { id, name, carriers, default_egress, outside } => {
                let mut lines = vec![match name {
                    Some(n) => format!("{n} ({id})"),
                    None => id.clone(),
                }];
                if *outside {
                    lines.push("declared outside: rules not known".into());
                }
                lines.extend(carriers.iter().cloned());
                if carriers.is_empty() && !*outside {
                    lines.push("carried by nothing here".into());
                }
                if *default_egress {
                    lines.push("egress: all (EC2 default)".into());
                }
                lines
            }
            NodeKind::Cidr(c) => vec![c.clone()],
        }
    }

    pub fn id(&self) -> &str {
        match &self.kind {
            NodeKind::Group { id, .. } => id,
            NodeKind::Cidr(c) => c,
        }
    }
}

/// Traffic that rules allow from `from`'s carriers to `to`'s: an ingress
/// rule of `to` naming `from`, or an egress rule of `from` naming `to`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    /// `tcp 5432`, `egress tcp 443`, one per rule, in rule order.
    pub labels: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

impl Graph {
    pub fn of(catalog: &Catalog) -> Graph {
        let mut carriers: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for w in &catalog.workloads {
            let e = catalog.workload_endpoint(w);
            for g in &e.groups {
                let who = match w.replicas {
                    1 => e.id.clone(),
                    n => format!("{} ({n} pods)", e.id),
                };
                carriers.entry(g.to_string()).or_default().push(who);
            }
        }
        for g in catalog.settings.default_group_ids.iter() {
            carriers.entry(g.to_string()).or_default().push("nodes (the default groups)".into());
        }
        for g in catalog.groups.values() {
            for m in &g.members {
                let who = match &m.name {
                    Some(n) => format!("member {n} ({})", m.address),
                    None => format!("member {}", m.address),
                };
                carriers.entry(g.id.to_string()).or_default().push(who);
            }
        }
        let mut graph = Graph::default();
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        for g in catalog.groups.values() {
            index.insert(g.id.to_string(), graph.nodes.len());
            graph.nodes.push(Node {
                kind: NodeKind::Group {
                    id: g.id.to_string(),
                    name: g.name.clone(),
                    carriers: carriers.remove(g.id.as_str()).unwrap_or_default(),
                    default_egress: g.default_egress,
                    outside: g.outside,
                },
            });
        }
        let mut edges: BTreeMap<(usize, usize), Vec<String>> = BTreeMap::new();
        for g in catalog.groups.values() {
            let me = index[g.id.as_str()];
            add_rules(&mut graph, &mut index, &mut edges, g, me);
        }
        graph.edges = edges.into_iter().map(|((from, to), labels)| Edge { from, to, labels }).collect();
        graph
    }
}

fn add_rules(
    graph: &mut Graph,
    index: &mut BTreeMap<String, usize>,
    edges: &mut BTreeMap<(usize, usize), Vec<String>>,
    g: &SecurityGroup,
    me: usize,
) {
    let mut peer = |graph: &mut Graph, p: &Peer| -> usize {
        let key = p.to_string();
        *index.entry(key.clone()).or_insert_with(|| {
            graph.nodes.push(Node { kind: NodeKind::Cidr(key) });
            graph.nodes.len() - 1
        })
    };
    for r in &g.ingress {
        for p in &r.peers {
            let from = peer(graph, p);
            edges.entry((from, me)).or_default().push(r.traffic());
        }
    }
    // EC2's default egress rule is drawn as a note in the box, not as edges.
    if !g.default_egress {
        for r in &g.egress {
            for p in &r.peers {
                let to = peer(graph, p);
                edges.entry((me, to)).or_default().push(format!("egress {}", r.traffic()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use podsg_model::fixtures::catalog_of;

    #[test]
    fn groups_carry_their_pods_and_members_and_rules_become_labelled_edges() {
        let c = catalog_of(
            "apiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata: {name: sg-0a}\nspec: {groupName: web, ingress: [{ipProtocol: tcp, fromPort: 80, toPort: 80, userIdGroupPairs: [{groupId: sg-0b}]}, {ipProtocol: tcp, fromPort: 443, toPort: 443, userIdGroupPairs: [{groupId: sg-0b}], ipRanges: [{cidrIp: 10.0.0.0/8}]}]}\n---\napiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata: {name: sg-0b}\nspec: {egress: [{ipProtocol: udp, fromPort: 53, toPort: 53, ipRanges: [{cidrIp: 10.0.0.0/8}]}], members: [{address: 10.1.1.1, name: db}]}\n---\napiVersion: vpcresources.k8s.aws/v1beta1\nkind: SecurityGroupPolicy\nmetadata: {name: p, namespace: ns}\nspec: {podSelector: {matchLabels: {app: web}}, securityGroups: {groupIds: [sg-0a]}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: ns}\nspec: {replicas: 3, template: {metadata: {labels: {app: web}}}}\n",
        );
        let g = Graph::of(&c);
        let ids: Vec<&str> = g.nodes.iter().map(Node::id).collect();
        assert_eq!(ids, ["sg-0a", "sg-0b", "10.0.0.0/8"]);
        assert_eq!(g.nodes[0].lines(), ["web (sg-0a)", "Deployment/ns/web (3 pods)", "egress: all (EC2 default)"]);
        assert_eq!(g.nodes[1].lines(), ["sg-0b", "member db (10.1.1.1)"]);
        let edges: Vec<(&str, &str, Vec<String>)> =
            g.edges.iter().map(|e| (ids[e.from], ids[e.to], e.labels.clone())).collect();
        assert_eq!(
            edges,
            [
                ("sg-0b", "sg-0a", vec!["tcp 80".to_string(), "tcp 443".to_string()]),
                ("sg-0b", "10.0.0.0/8", vec!["egress udp 53".to_string()]),
                ("10.0.0.0/8", "sg-0a", vec!["tcp 443".to_string()]),
            ]
        );
    }
}
