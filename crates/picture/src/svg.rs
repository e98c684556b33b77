//! The graph as SVG: group boxes listing their carriers, CIDRs as pills,
//! rule edges as curves with their labels, a group that allows itself as a
//! loop beside its box. Every node and edge has a `<title>` (shown on
//! hover) and `data-` attributes naming what it is.

use crate::graph::{Graph, NodeKind};
use crate::layout::{Placed, layout};
use std::fmt::Write;

const CHAR_WIDTH: f64 = 7.0;
const LINE_HEIGHT: f64 = 16.0;
const PADDING: f64 = 8.0;

/// Escapes text for XML content and attribute values.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The size of a box holding `lines`.
fn size(lines: &[String]) -> (f64, f64) {
    let longest = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0) as f64;
    (longest * CHAR_WIDTH + 2.0 * PADDING, lines.len() as f64 * LINE_HEIGHT + 2.0 * PADDING - 4.0)
}

/// Lays the graph out and draws it.
pub fn render(graph: &Graph) -> String {
    // A group that allows itself gets room for its loop and label beside it.
    let beside: Vec<f64> = (0..graph.nodes.len())
        .map(|i| {
            let label = graph.edges.iter().find(|e| e.from == i && e.to == i).map(|e| e.labels.join(", "));
            label.map_or(0.0, |l| LOOP + l.chars().count() as f64 * CHAR_WIDTH)
        })
        .collect();
    let sizes: Vec<(f64, f64)> = graph.nodes.iter().map(|n| size(&n.lines())).collect();
    let spaced: Vec<(f64, f64)> = sizes.iter().zip(&beside).map(|((w, h), extra)| (w + extra, *h)).collect();
    let edges: Vec<(usize, usize)> = graph.edges.iter().map(|e| (e.from, e.to)).collect();
    let mut placed = layout(&spaced, &edges);
    // The box itself keeps its own width, at the left of its room; lines
    // to and from it meet its middle.
    for (i, ((r, (w, _)), extra)) in placed.nodes.iter_mut().zip(&sizes).zip(&beside).enumerate() {
        if *extra > 0.0 {
            let old_center = r.center_x();
            r.w = *w;
            let new_center = r.center_x();
            for (e, path) in graph.edges.iter().zip(placed.edges.iter_mut()) {
                if let (Some(first), true) = (path.first_mut(), e.from == i) {
                    first.0 += new_center - old_center;
                }
                if let (Some(last), true) = (path.last_mut(), e.to == i) {
                    last.0 += new_center - old_center;
                }
            }
        }
    }
    draw(graph, &placed)
}

/// The width of a self-loop beside its box, before its label.
const LOOP: f64 = 44.0;

/// The graph, and below it a matrix: rows and columns numbered, each
/// cell coloured by its tone, and the deciding rules listed by cell number.
pub fn render_with_table(graph: &Graph, t: &crate::table::Table) -> String {
    let drawing = render(graph);
    let (gw, gh) = dims(&drawing);
    let label_w = t.rows.iter().map(|r| r.chars().count() + 5).max().unwrap_or(0) as f64 * CHAR_WIDTH;
    let col_w: Vec<f64> = (0..t.columns.len())
        .map(|j| {
            let longest = t.cells.iter().map(|r| r[j].text.chars().count()).max().unwrap_or(0).max(3);
            longest as f64 * CHAR_WIDTH + 2.0 * PADDING
        })
        .collect();
    let row_h = LINE_HEIGHT + 8.0;
    let top = gh + 30.0;
    let mut body = String::new();
    writeln!(body, r#"<text x="20" y="{:.1}" class="title">{}</text>"#, top - 8.0, escape(&t.caption)).unwrap();
    let mut x = 20.0 + label_w;
    for (j, w) in col_w.iter().enumerate() {
        writeln!(body, r#"<text x="{:.1}" y="{:.1}" class="title">{}</text>"#, x + PADDING, top + row_h - 8.0, j + 1)
            .unwrap();
        x += w;
    }
    let mut notes: Vec<String> = Vec::new();
    for (i, (name, row)) in t.rows.iter().zip(&t.cells).enumerate() {
        let y = top + row_h * (i + 1) as f64;
        writeln!(body, r#"<text x="20" y="{:.1}">{}. {}</text>"#, y + row_h - 8.0, i + 1, escape(name)).unwrap();
        let mut x = 20.0 + label_w;
        for (c, w) in row.iter().zip(&col_w) {
            let fill = match c.tone {
                crate::table::Tone::Allow => "#c8efc8",
                crate::table::Tone::Deny => "#f6c4c4",
                crate::table::Tone::Partial => "#fbe3a6",
                crate::table::Tone::Unknown => "#ddd",
                crate::table::Tone::Failed => "#e0464f",
                crate::table::Tone::Empty => "#fafafa",
            };
            write!(body, r##"<g class="cell"><rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{row_h:.1}" fill="{fill}" stroke="#bbb"/>"##).unwrap();
            if c.tone != crate::table::Tone::Empty {
                notes.push(c.details.clone());
                write!(
                    body,
                    r#"<title>{}</title><text x="{:.1}" y="{:.1}">{}</text>"#,
                    escape(&c.details),
                    x + PADDING,
                    y + row_h - 8.0,
                    escape(&c.text)
                )
                .unwrap();
            }
            body.push_str("</g>\n");
            x += w;
        }
    }
    let mut y = top + row_h * (t.rows.len() + 1) as f64 + 24.0;
    let mut widest = 20.0 + label_w + col_w.iter().sum::<f64>();
    for (n, note) in notes.iter().enumerate() {
        for (k, line) in note.lines().enumerate() {
            let text = if k == 0 { format!("{}. {line}", n + 1) } else { format!("    {line}") };
            widest = widest.max(40.0 + text.chars().count() as f64 * CHAR_WIDTH);
            writeln!(body, r#"<text x="20" y="{y:.1}" font-size="11">{}</text>"#, escape(&text)).unwrap();
            y += LINE_HEIGHT;
        }
    }
    let (width, height) = (gw.max(widest), y + 20.0);
    let inner = drawing.split_once('>').map(|(_, rest)| rest).unwrap_or("").trim_end().trim_end_matches("</svg>");
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="podsg-graph" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif" font-size="12">{inner}{body}</svg>
"#
    )
}

/// The width and height an SVG of `render` says it has.
fn dims(svg: &str) -> (f64, f64) {
    let attr = |name: &str| -> f64 {
        svg.split_once(&format!(" {name}=\""))
            .and_then(|(_, r)| r.split_once('"'))
            .and_then(|(v, _)| v.parse().ok())
            .unwrap_or(0.0)
    };
    (attr("width"), attr("height"))
}

/// A smooth path through points (Catmull-Rom as cubic Béziers).
fn path(points: &[(f64, f64)]) -> String {
    let mut d = format!("M{:.1},{:.1}", points[0].0, points[0].1);
    for i in 0..points.len() - 1 {
        let p0 = if i == 0 { points[0] } else { points[i - 1] };
        let (p1, p2) = (points[i], points[i + 1]);
        let p3 = if i + 2 < points.len() { points[i + 2] } else { p2 };
        let c1 = (p1.0 + (p2.0 - p0.0) / 6.0, p1.1 + (p2.1 - p0.1) / 6.0);
        let c2 = (p2.0 - (p3.0 - p1.0) / 6.0, p2.1 - (p3.1 - p1.1) / 6.0);
        // The ends leave and enter their boxes vertically.
        let c1 = if i == 0 { (p1.0, p1.1 + (p2.1 - p1.1) / 2.0) } else { c1 };
        let c2 = if i + 2 == points.len() { (p2.0, p2.1 - (p2.1 - p1.1) / 2.0) } else { c2 };
        write!(d, " C{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}", c1.0, c1.1, c2.0, c2.1, p2.0, p2.1).unwrap();
    }
    d
}

fn draw(graph: &Graph, p: &Placed) -> String {
    let (width, height) = (p.width, p.height);
    let mut out = String::new();
    writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="podsg-graph" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif" font-size="12">"#
    )
    .unwrap();
    out.push_str(
        r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>
<style>.node rect{stroke:#345;stroke-width:1.2}.group rect{fill:#eef4fb}.outside rect{fill:#f3f3f3;stroke-dasharray:4 3}.cidr rect{fill:#fff6e0;stroke:#a80}.edge path{fill:none;stroke:#555;stroke-width:1.3}.edge text{fill:#222;paint-order:stroke;stroke:#fff;stroke-width:4px}.title{font-weight:bold}</style>
"##,
    );
    for (i, e) in graph.edges.iter().enumerate() {
        let label = e.labels.join(", ");
        let (from, to) = (graph.nodes[e.from].id(), graph.nodes[e.to].id());
        let tip = format!("{from} -> {to}: {label}");
        write!(
            out,
            r#"<g class="edge" data-from="{}" data-to="{}"><title>{}</title>"#,
            escape(from),
            escape(to),
            escape(&tip)
        )
        .unwrap();
        let (d, at) = if e.from == e.to {
            let r = p.nodes[e.from];
            let (x, y) = (r.x + r.w, r.y + r.h / 2.0);
            (
                format!(
                    "M{x:.1},{:.1} C{:.1},{:.1} {:.1},{:.1} {x:.1},{:.1}",
                    y - 8.0,
                    x + 36.0,
                    y - 26.0,
                    x + 36.0,
                    y + 26.0,
                    y + 8.0
                ),
                (x + 40.0, y + 4.0),
            )
        } else {
            let pts = &p.edges[i];
            let mid = pts.len() / 2;
            let at = if pts.len().is_multiple_of(2) {
                ((pts[mid - 1].0 + pts[mid].0) / 2.0, (pts[mid - 1].1 + pts[mid].1) / 2.0)
            } else {
                pts[mid]
            };
            (path(pts), at)
        };
        let anchor = if e.from == e.to { "start" } else { "middle" };
        writeln!(
            out,
            r#"<path d="{d}" marker-end="url(#arrow)"/><text x="{:.1}" y="{:.1}" text-anchor="{anchor}">{}</text></g>"#,
            at.0,
            at.1,
            escape(&label)
        )
        .unwrap();
    }
    for (node, r) in graph.nodes.iter().zip(&p.nodes) {
        let lines = node.lines();
        let (class, data) = match &node.kind {
            NodeKind::Group { id, outside: true, .. } => {
                ("node group outside", format!(r#"data-group="{}""#, escape(id)))
            }
            NodeKind::Group { id, .. } => ("node group", format!(r#"data-group="{}""#, escape(id))),
            NodeKind::Cidr(c) => ("node cidr", format!(r#"data-cidr="{}""#, escape(c))),
        };
        let radius = if matches!(node.kind, NodeKind::Cidr(_)) { r.h / 2.0 } else { 6.0 };
        write!(
            out,
            r#"<g class="{class}" {data}><title>{}</title><rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="{radius:.1}"/>"#,
            escape(&lines.join("\n")),
            r.x,
            r.y,
            r.w,
            r.h
        )
        .unwrap();
        for (k, line) in lines.iter().enumerate() {
            let class = if k == 0 { r#" class="title""# } else { "" };
            write!(
                out,
                r#"<text x="{:.1}" y="{:.1}"{class}>{}</text>"#,
                r.x + PADDING,
                r.y + PADDING + 8.0 + k as f64 * LINE_HEIGHT,
                escape(line)
            )
            .unwrap();
        }
        out.push_str("</g>\n");
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Edge, Node};

    fn group(id: &str, carriers: &[&str]) -> Node {
        Node {
            kind: NodeKind::Group {
                id: id.into(),
                name: None,
                carriers: carriers.iter().map(|s| s.to_string()).collect(),
                default_egress: true,
                outside: false,
            },
        }
    }

    #[test]
    fn the_drawing_parses_and_shows_every_group_edge_and_label() {
        let g = Graph {
            nodes: vec![
                group("sg-0a", &["Pod/ns/<a&b>"]),
                group("sg-0b", &[]),
                Node { kind: NodeKind::Cidr("10.0.0.0/8".into()) },
            ],
            edges: vec![
                Edge { from: 1, to: 0, labels: vec!["tcp 80".into(), "tcp 443".into()] },
                Edge { from: 0, to: 0, labels: vec!["all traffic".into()] },
                Edge { from: 2, to: 1, labels: vec!["udp 53".into()] },
            ],
        };
        let svg = render(&g);
        let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
        let groups: Vec<&str> = doc.descendants().filter_map(|n| n.attribute("data-group")).collect();
        assert_eq!(groups, ["sg-0a", "sg-0b"]);
        let edges: Vec<(&str, &str, String)> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("edge"))
            .map(|n| {
                let label = n.descendants().filter(|t| t.has_tag_name("text")).filter_map(|t| t.text()).collect();
                (n.attribute("data-from").unwrap(), n.attribute("data-to").unwrap(), label)
            })
            .collect();
        assert_eq!(
            edges,
            [
                ("sg-0b", "sg-0a", "tcp 80, tcp 443".to_string()),
                ("sg-0a", "sg-0a", "all traffic".to_string()),
                ("10.0.0.0/8", "sg-0b", "udp 53".to_string())
            ]
        );
        assert!(doc.descendants().any(|n| n.text() == Some("Pod/ns/<a&b>")), "text is escaped and read back");
    }

    #[test]
    fn a_matrix_below_the_drawing_parses_and_numbers_its_cells() {
        use crate::table::{Cell, Table, Tone};
        let g = Graph { nodes: vec![group("sg-0a", &["Pod/ns/a"])], edges: vec![] };
        let t = Table {
            caption: "reach".into(),
            rows: vec!["a".into(), "b".into()],
            columns: vec!["a".into(), "b".into()],
            cells: vec![
                vec![
                    Cell::empty(),
                    Cell { text: "tcp/80 ✓".into(), tone: Tone::Allow, details: "a -> b: allowed by x".into() },
                ],
                vec![
                    Cell { text: "tcp/80 ✗".into(), tone: Tone::Deny, details: "b -> a: denied\nno rule".into() },
                    Cell::empty(),
                ],
            ],
        };
        let svg = render_with_table(&g, &t);
        let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
        let cells: Vec<String> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("cell"))
            .filter_map(|n| {
                n.descendants().find(|t| t.has_tag_name("title")).and_then(|t| t.text()).map(str::to_string)
            })
            .collect();
        assert_eq!(cells, ["a -> b: allowed by x", "b -> a: denied\nno rule"]);
        let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
        assert!(texts.contains(&"1. a -> b: allowed by x") && texts.contains(&"    no rule"), "{texts:?}");
        assert_eq!(doc.descendants().filter(|n| n.attribute("data-group").is_some()).count(), 1);
    }
}
