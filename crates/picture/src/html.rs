//! A page that stands alone (no scripts, no outside files): a title, the
//! graph's SVG, a legend, and tables.

use crate::svg::escape;
use std::fmt::Write;

pub enum Section {
    /// An SVG drawing, inline.
    Drawing(String),
    /// An HTML table (from `table::render`).
    Table(String),
    /// A paragraph of text.
    Text(String),
}

const STYLE: &str = "body{font-family:sans-serif;margin:24px;color:#222}h1{font-size:20px}\
.matrix{border-collapse:collapse;font-size:12px;margin:16px 0}.matrix td,.matrix th{border:1px solid #bbb;padding:4px 6px;vertical-align:top}\
.matrix th.row{text-align:left;white-space:nowrap}.matrix th.column{white-space:nowrap}\
.allow{background:#c8efc8}.deny{background:#f6c4c4}.partial{background:#fbe3a6}.unknown{background:#ddd}.failed{background:#e0464f;color:#fff}\
.empty{background:#fafafa}.legend span{display:inline-block;padding:2px 8px;margin-right:6px;border:1px solid #bbb}\
.details{font-size:11px;color:#444}svg{max-width:100%;height:auto;border:1px solid #ddd;background:#fff}";

pub fn page(title: &str, sections: &[Section]) -> String {
    let mut out = String::new();
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>\n<h1>{}</h1>",
        escape(title),
        escape(title)
    )
    .unwrap();
    for s in sections {
        match s {
            Section::Drawing(svg) => writeln!(out, "<figure>{svg}</figure>").unwrap(),
            Section::Table(t) => {
                out.push_str("<p class=\"legend\"><span class=\"allow\">allowed</span><span class=\"partial\">some allowed</span><span class=\"deny\">denied</span><span class=\"unknown\">unknown</span><span class=\"failed\">expectation failed</span></p>\n");
                out.push_str(t);
            }
            Section::Text(p) => writeln!(out, "<p>{}</p>", escape(p)).unwrap(),
        }
    }
    out.push_str("</body></html>\n");
    out
}
