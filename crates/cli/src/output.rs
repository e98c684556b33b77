//! Printing diagnostics for people (text) and programs (JSON, YAML).

use podsg_model::{Diagnostic, Severity};
use std::io::Write;

/// Writes to standard output. When the reader has gone (`podsg import aws
/// big.json | head -1`), the program ends quietly, as Unix tools do; any
/// other output error ends it with a message. Only for the offline
/// commands: the agent must outlive clients that hang up.
pub fn emit(args: std::fmt::Arguments) {
    if let Err(e) = std::io::stdout().lock().write_fmt(args) {
        output_failed(e.kind(), &e);
    }
}

/// `value` as pretty JSON and a line break, written as it is serialized
/// (never as one string in memory), through `emit`'s rules.
pub fn emit_json(value: &impl serde::Serialize) {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let written = serde_json::to_writer_pretty(&mut out, value)
        .map_err(|e| (e.io_error_kind().unwrap_or(std::io::ErrorKind::Other), e.to_string()))
        .and_then(|()| out.write_all(b"\n").and_then(|()| out.flush()).map_err(|e| (e.kind(), e.to_string())));
    if let Err((kind, e)) = written {
        output_failed(kind, &e);
    }
}

fn output_failed(kind: std::io::ErrorKind, e: &dyn std::fmt::Display) -> ! {
    if kind == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("podsg: cannot write the output: {e}");
    std::process::exit(1);
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

/// One diagnostic in JSON: its fields, its one-line `text`, and `line` and
/// `column` always where known (the object's, when no field has one).
#[derive(serde::Serialize)]
struct Shown<'a> {
    #[serde(flatten)]
    diagnostic: &'a Diagnostic,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    object_at: Option<podsg_model::yaml::Mark>,
    text: Text<'a>,
}

/// A diagnostic's one-line text, formatted as it is written.
struct Text<'a>(&'a Diagnostic);

impl serde::Serialize for Text<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self.0)
    }
}

/// `{"errors": [...], "warnings": [...], "notes": [...], "summary": {...}}`
/// (and `ok` when given), written without building a JSON tree of every
/// diagnostic: 50,000 warnings would take hundreds of megabytes.
#[derive(serde::Serialize)]
pub struct Report<'a> {
    errors: Vec<Shown<'a>>,
    warnings: Vec<Shown<'a>>,
    notes: Vec<Shown<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ok: Option<bool>,
    summary: serde_json::Value,
}

impl<'a> Report<'a> {
    pub fn new(diagnostics: &'a [Diagnostic], ok: Option<bool>, summary: serde_json::Value) -> Self {
        let of = |s: Severity| -> Vec<Shown<'a>> {
            diagnostics
                .iter()
                .filter(|d| d.severity == s)
                .map(|d| Shown {
                    diagnostic: d,
                    object_at: d.origin.as_ref().map(|o| o.at).filter(|at| d.position.is_none() && at.line > 0),
                    text: Text(d),
                })
                .collect()
        };
        Report { errors: of(Severity::Error), warnings: of(Severity::Warning), notes: of(Severity::Note), ok, summary }
    }

    pub fn print(&self, format: crate::args::Output) {
        print_data(format, self);
    }
}

/// Structured output: pretty JSON, or YAML (the same tree, as kubectl
/// prints `-o yaml`). Text output never comes here.
pub fn print_data(format: crate::args::Output, value: &impl serde::Serialize) {
    match format {
        crate::args::Output::Yaml => match podsg_model::yaml::to_yaml(value) {
            Ok(text) => emit(format_args!("{text}")),
            Err(e) => output_failed(std::io::ErrorKind::Other, &e),
        },
        _ => emit_json(value),
    }
}
