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
        say!("{}: {d}", label(d.severity));
    }
}

fn label(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// Errors all; warnings and notes in bulk summarised: the first few of each
/// kind (the same message about different objects), then how many more.
pub fn print_summarised(diagnostics: &[Diagnostic]) {
    const EACH: usize = 3;
    let mut seen: std::collections::HashMap<(Severity, &str), usize> = std::collections::HashMap::new();
    for d in diagnostics {
        let n = seen.entry((d.severity, kind_of(&d.message))).or_default();
        *n += 1;
        if d.is_error() || *n <= EACH {
            say!("{}: {d}", label(d.severity));
        }
    }
    let mut hidden: Vec<((Severity, &str), usize)> =
        seen.into_iter().filter(|((s, _), n)| *s != Severity::Error && *n > EACH).collect();
    hidden.sort();
    for ((severity, kind), n) in hidden {
        say!(
            "{}: … and {} more like \"{kind}…\" (--verbose or --output json lists them all)",
            label(severity),
            n - EACH
        );
    }
}

/// What makes messages alike: their words up to the first detail that
/// names an object, a port or a group.
fn kind_of(message: &str) -> &str {
    let end = message
        .char_indices()
        .find(|&(i, c)| c.is_ascii_digit() || c == '/' || message[i..].starts_with("sg-"))
        .map_or(message.len(), |(i, _)| i);
    let cut = message[..end].rfind(' ').unwrap_or(end);
    message[..cut].trim_end()
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
