//! Positions for problems found after decoding (validation, references,
//! lints): they name an object's origin and a field path; the file is read
//! again, one object at a time, to find where that field is written.
//! Nothing is kept in memory for this between decoding and reporting.

use crate::diagnostic::{Diagnostic, Origin};
use crate::yaml::{self, Mark, Node, Unit};
use std::collections::HashMap;

/// The origin of a diagnostic whose field is still to be found. One
/// without a field needs nothing: its origin is its object's position.
pub fn to_place(d: &Diagnostic) -> Option<&Origin> {
    d.origin.as_ref().filter(|o| o.at.line > 0 && d.position.is_none() && !d.path.is_empty())
}

/// Gives every diagnostic about an object read from `text` (as `file`)
/// that names a field the position of that field.
pub fn locate(text: &str, file: &str, diagnostics: &mut [Diagnostic]) {
    let mut wanted: HashMap<Mark, Vec<usize>> = HashMap::new();
    for (i, d) in diagnostics.iter().enumerate() {
        if let Some(origin) = to_place(d)
            && origin.file == file
        {
            wanted.entry(origin.at).or_default().push(i);
        }
    }
    if wanted.is_empty() {
        return;
    }
    let mut found = |node: &Node| {
        if let Some(indexes) = wanted.get(&node.at) {
            for &i in indexes {
                let d = &mut diagnostics[i];
                d.position = Some(node.locate(&d.path));
            }
        }
    };
    // The text decoded before: a reading error here was reported then.
    let _ = yaml::read(yaml::strip_bom(text), |unit| match unit {
        Unit::Document { node, .. } | Unit::Item { node, .. } => found(&node),
    });
}
