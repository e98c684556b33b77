//! A from x to matrix as an HTML table: each cell coloured by what it says,
//! with its details on hover (`title`) and in a list below the table for
//! readers without a mouse.

use crate::svg::escape;
use podsg_model::reachability::{Matrix, Reach};
use podsg_model::verdict::Decision;
use std::fmt::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Allow,
    Deny,
    Partial,
    Unknown,
    /// An expectation that did not hold (lab).
    Failed,
    Empty,
}

impl Tone {
    fn class(self) -> &'static str {
        match self {
            Tone::Allow => "allow",
            Tone::Deny => "deny",
            Tone::Partial => "partial",
            Tone::Unknown => "unknown",
            Tone::Failed => "failed",
            Tone::Empty => "empty",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    pub tone: Tone,
    /// Shown on hover and in the details list.
    pub details: String,
}

impl Cell {
    pub fn empty() -> Cell {
        Cell { text: String::new(), tone: Tone::Empty, details: String::new() }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub caption: String,
    pub rows: Vec<String>,
    pub columns: Vec<String>,
    /// `cells[row][column]`.
    pub cells: Vec<Vec<Cell>>,
}

/// The reachability of every pair, each cell listing its services.
pub fn reachability(m: &Matrix) -> Table {
    let names: Vec<String> = m.endpoints.iter().map(|e| e.id.clone()).collect();
    let cells = m
        .cells
        .iter()
        .enumerate()
        .map(|(i, row)| {
            row.iter()
                .enumerate()
                .map(|(j, c)| {
                    let tone = match c.reach {
                        Reach::Allow => Tone::Allow,
                        Reach::Deny => Tone::Deny,
                        Reach::Partial => Tone::Partial,
                        Reach::Unknown => Tone::Unknown,
                        Reach::None => return Cell::empty(),
                    };
                    let mark = |d: Decision| match d {
                        Decision::Allow => "✓",
                        Decision::Deny => "✗",
                        Decision::Unknown => "?",
                    };
                    let text = c
                        .asked
                        .iter()
                        .map(|a| format!("{} {}", a.service, mark(a.decision)))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let details = c
                        .asked
                        .iter()
                        .map(|a| {
                            format!(
                                "{} {} -> {} {}: egress {}; ingress {}",
                                names[i], a.service, names[j], a.decision, a.egress, a.ingress
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n");
                    Cell { text, tone, details }
                })
                .collect()
        })
        .collect();
    Table {
        caption: "Reachability on the ports the rules name: ✓ allowed, ✗ denied, ? unknown".into(),
        rows: names.clone(),
        columns: names,
        cells,
    }
}

pub fn render(t: &Table) -> String {
    let mut out = String::from("<table class=\"matrix\">\n");
    writeln!(out, "<caption>{}</caption>", escape(&t.caption)).unwrap();
    out.push_str("<tr><th class=\"corner\">from \\ to</th>");
    for c in &t.columns {
        write!(out, "<th class=\"column\"><span>{}</span></th>", escape(c)).unwrap();
    }
    out.push_str("</tr>\n");
    let mut notes = Vec::new();
    for (r, row) in t.rows.iter().zip(&t.cells) {
        write!(out, "<tr><th class=\"row\">{}</th>", escape(r)).unwrap();
        for c in row {
            if c.tone == Tone::Empty {
                out.push_str("<td class=\"empty\"></td>");
                continue;
            }
            notes.push(c.details.clone());
            write!(
                out,
                "<td class=\"{}\" title=\"{}\">{}<sup>{}</sup></td>",
                c.tone.class(),
                escape(&c.details),
                escape(&c.text),
                notes.len()
            )
            .unwrap();
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n<ol class=\"details\">\n");
    for n in notes {
        writeln!(out, "<li>{}</li>", escape(&n).replace('\n', "<br>")).unwrap();
    }
    out.push_str("</ol>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_carry_their_tone_text_and_details() {
        let t = Table {
            caption: "c".into(),
            rows: vec!["a".into()],
            columns: vec!["b".into(), "<c>".into()],
            cells: vec![vec![
                Cell { text: "tcp/80 ✓".into(), tone: Tone::Allow, details: "a tcp/80 -> b allow: \"x\"".into() },
                Cell::empty(),
            ]],
        };
        let html = render(&t);
        assert!(html.contains("<td class=\"allow\" title=\"a tcp/80 -&gt; b allow: &quot;x&quot;\">tcp/80 ✓<sup>1</sup></td><td class=\"empty\"></td>"), "{html}");
        assert!(html.contains("<th class=\"column\"><span>&lt;c&gt;</span></th>"), "{html}");
        assert!(html.contains("<li>a tcp/80 -&gt; b allow: &quot;x&quot;</li>"), "{html}");
    }
}
