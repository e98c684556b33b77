//! Printing diagnostics for people (text) and programs (JSON).

use podsg_model::{Diagnostic, Severity};
use serde_json::json;
use std::io::Write;

/// Writes to standard output. When the reader has gone (`podsg import aws
/// big.json | head -1`), the program ends quietly, as Unix tools do; any
/// other output error ends it with a message. Only for the offline
/// commands: the agent must outlive clients that hang up.
pub fn emit(args: std::fmt::Arguments) {
    if let Err(e) = std::io::stdout().lock().write_fmt(args) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("podsg: cannot write the output: {e}");
        std::process::exit(1);
    }
}

/// `println!` through `emit`.
macro_rules! say {
    ($($t:tt)*) => { $crate::output::emit(format_args!("{}\n", format_args!($($t)*))) };
}

/// `print!` through `emit`.
macro_rules! say_raw {
    ($($t:tt)*) => { $crate::output::emit(format_args!($($t)*)) };
}

pub fn print_text(diagnostics: &[Diagnostic]) {
    for d in diagnostics {
        let label = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        };
        say!("{label}: {d}");
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
    say!("{}", serde_json::to_string_pretty(value).expect("JSON values serialize"));
}
