//! The graph in Graphviz's DOT language, for those who lay it out with
//! their own tools (`podsg graph --format dot | dot -Tpng`).

use crate::graph::{Graph, NodeKind};
use std::fmt::Write;

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

pub fn render(graph: &Graph) -> String {
    let mut out = String::from(
        "digraph podsg {\n  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#eef4fb\", fontname=\"sans-serif\", fontsize=11];\n  edge [fontname=\"sans-serif\", fontsize=10];\n",
    );
    for n in &graph.nodes {
        let label = n.lines().join("\\n");
        let style = match n.kind {
            NodeKind::Cidr(_) => ", shape=oval, fillcolor=\"#fff6e0\"",
            NodeKind::Group { outside: true, .. } => ", style=\"rounded,dashed\"",
            NodeKind::Group { .. } => "",
        };
        writeln!(out, "  {} [label={}{style}];", quote(n.id()), quote(&label).replace("\\\\n", "\\n")).unwrap();
    }
    for e in &graph.edges {
        writeln!(
            out,
            "  {} -> {} [label={}];",
            quote(graph.nodes[e.from].id()),
            quote(graph.nodes[e.to].id()),
            quote(&e.labels.join(", "))
        )
        .unwrap();
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Edge, Node};

    #[test]
    fn every_node_and_edge_is_a_statement() {
        let g = Graph {
            nodes: vec![
                Node {
                    kind: NodeKind::Group {
                        id: "sg-0a".into(),
                        name: Some("web \"x\"".into()),
                        carriers: vec!["Pod/ns/a".into()],
                        default_egress: false,
                        outside: false,
                    },
                },
                Node { kind: NodeKind::Cidr("10.0.0.0/8".into()) },
            ],
            edges: vec![Edge { from: 1, to: 0, labels: vec!["tcp 80".into()] }],
        };
        assert_eq!(
            render(&g),
            "digraph podsg {\n  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#eef4fb\", fontname=\"sans-serif\", fontsize=11];\n  edge [fontname=\"sans-serif\", fontsize=10];\n  \"sg-0a\" [label=\"web \\\"x\\\" (sg-0a)\\nPod/ns/a\"];\n  \"10.0.0.0/8\" [label=\"10.0.0.0/8\", shape=oval, fillcolor=\"#fff6e0\"];\n  \"10.0.0.0/8\" -> \"sg-0a\" [label=\"tcp 80\"];\n}\n"
        );
    }
}
