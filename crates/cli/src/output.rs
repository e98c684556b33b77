//! Printing diagnostics for people (text) and programs (JSON).

use podsg_model::{Diagnostic, Severity};
use serde_json::json;

pub fn print_text(diagnostics: &[Diagnostic]) {
    for d in diagnostics {
        let label = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        };
        println!("{label}: {d}");
    }
}

pub fn count(diagnostics: &[Diagnostic], severity: Severity) -> usize {
    diagnostics.iter().filter(|d| d.severity == severity).count()
}

/// `{"errors": [...], "warnings": [...], "notes": [...]}` with each
/// diagnostic's fields and its one-line `text`.
pub fn json_by_severity(diagnostics: &[Diagnostic]) -> serde_json::Value {
    let of = |s: Severity| -> Vec<serde_json::Value> {
        diagnostics
            .iter()
            .filter(|d| d.severity == s)
            .map(|d| {
                let mut v = serde_json::to_value(d).expect("diagnostics serialize");
                v["text"] = json!(d.to_string());
                v
            })
            .collect()
    };
    json!({"errors": of(Severity::Error), "warnings": of(Severity::Warning), "notes": of(Severity::Note)})
}

pub fn print_json(value: &serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(value).expect("JSON values serialize"));
}
