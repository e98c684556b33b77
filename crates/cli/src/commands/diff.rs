//! `podsg diff OLD NEW`: the flows a change newly allows and newly
//! denies, for a pull request. The model's verdict engine decides every
//! flow; this file reads the two sides and prints.

use crate::args::{DiffArgs, DiffOutput, Output};
use crate::output::{print_data, print_text};
use podsg_model::flow_diff::{Change, FlowChange, FlowDiff, diff};
use podsg_model::{Catalog, Diagnostic};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn run(args: &DiffArgs) -> u8 {
    let (old, new) = match (side("OLD", &args.old), side("NEW", &args.new)) {
        (Ok(old), Ok(new)) => (old, new),
        (old, new) => {
            let problems: Vec<Diagnostic> = [old.err(), new.err()].into_iter().flatten().flatten().collect();
            match args.output {
                DiffOutput::Text | DiffOutput::Markdown => print_text(&problems),
                DiffOutput::Json | DiffOutput::Yaml => {
                    let summary = json!({"errors": problems.len()});
                    crate::output::Report::new(&problems, Some(false), summary).print(structured(args.output));
                }
            }
            return 2;
        }
    };
    let d = diff(&old, &new);
    match args.output {
        DiffOutput::Text => print_plain(&d),
        DiffOutput::Markdown => print_markdown(&d, &args.old, &args.new),
        DiffOutput::Json | DiffOutput::Yaml => print_data(
            structured(args.output),
            &json!({
                "newlyAllowed": d.of(Change::NewlyAllowed).collect::<Vec<_>>(),
                "newlyDenied": d.of(Change::NewlyDenied).collect::<Vec<_>>(),
                "unknown": d.of(Change::Unknown).collect::<Vec<_>>(),
                "added": d.added,
                "removed": d.removed,
                "summary": summary(&d),
            }),
        ),
    }
    u8::from(args.fail_on_new_allow && d.of(Change::NewlyAllowed).next().is_some())
}

fn structured(o: DiffOutput) -> Output {
    if o == DiffOutput::Yaml { Output::Yaml } else { Output::Json }
}

fn summary(d: &FlowDiff) -> serde_json::Value {
    json!({
        "newlyAllowed": d.of(Change::NewlyAllowed).count(),
        "newlyDenied": d.of(Change::NewlyDenied).count(),
        "unknown": d.of(Change::Unknown).count(),
        "pairsCompared": d.pairs,
        "probes": d.probes,
    })
}

/// One side: a directory or file, or `git:REV:PATH` read from the
/// repository of the current directory. Errors name the side.
fn side(which: &str, source: &str) -> Result<Catalog, Vec<Diagnostic>> {
    let bad = |text: String| Diagnostic::error("", None, format!("{which} {source}: {text}"));
    let checkout = match source.strip_prefix("git:") {
        Some(spec) => Some(checkout(spec).map_err(|e| vec![bad(e)])?),
        None => None,
    };
    let path = checkout.as_ref().map_or_else(|| PathBuf::from(source), |(_, path, _)| path.clone());
    if !path.exists() {
        return Err(vec![bad("no such file or directory".into())]);
    }
    match podsg_manifests::load(&[path]) {
        Ok((loaded, _)) => Ok(loaded.catalog),
        Err(problems) => Err(problems
            .iter()
            .filter(|d| d.is_error())
            .map(|d| {
                // Files of a revision are named as git names them, not by the temporary copy.
                let text = match &checkout {
                    Some((dir, _, rev)) => {
                        d.to_string().replace(&format!("{}/", dir.path().display()), &format!("{rev}:"))
                    }
                    None => d.to_string(),
                };
                bad(text)
            })
            .collect()),
    }
}

/// `REV:PATH` written out of git into a temporary directory: the
/// directory, where PATH is in it, and REV.
fn checkout(spec: &str) -> Result<(tempfile::TempDir, PathBuf, String), String> {
    let (rev, path) = spec.split_once(':').ok_or("expected git:REV:PATH, e.g. git:main:examples/handbook")?;
    let git = |args: &[&str]| -> Result<Vec<u8>, String> {
        let out = Command::new("git").args(args).output().map_err(|e| format!("git: {e}"))?;
        if out.status.success() {
            Ok(out.stdout)
        } else {
            Err(format!("git {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
        }
    };
    let listed = git(&["ls-tree", "-r", "--full-name", "--name-only", rev, "--", path])?;
    let files: Vec<&str> = std::str::from_utf8(&listed).map_err(|e| e.to_string())?.lines().collect();
    if files.is_empty() {
        return Err(format!("{path} is not in {rev}"));
    }
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    for f in &files {
        let text = git(&["show", &format!("{rev}:{f}")])?;
        let dest = dir.path().join(f);
        std::fs::create_dir_all(dest.parent().unwrap_or(dir.path())).map_err(|e| e.to_string())?;
        std::fs::write(&dest, text).map_err(|e| e.to_string())?;
    }
    let prefix = git(&["rev-parse", "--show-prefix"])?;
    let inside = Path::new(String::from_utf8_lossy(&prefix).trim()).join(path);
    let root = dir.path().join(inside);
    Ok((dir, root, rev.to_string()))
}

const SHOWN: usize = 3;

/// `a, b, c and 4 more`.
fn names(ids: &[String]) -> String {
    let shown = ids.iter().take(SHOWN).map(String::as_str).collect::<Vec<_>>().join(", ");
    match ids.len() {
        n if n > SHOWN => format!("{shown} and {} more", n - SHOWN),
        _ => shown,
    }
}

fn heading(c: Change) -> &'static str {
    match c {
        Change::NewlyAllowed => "Newly allowed",
        Change::NewlyDenied => "Newly denied",
        Change::Unknown => "Depends on what the manifests do not say",
    }
}

fn print_plain(d: &FlowDiff) {
    for c in [Change::NewlyAllowed, Change::NewlyDenied, Change::Unknown] {
        let flows: Vec<&FlowChange> = d.of(c).collect();
        if flows.is_empty() {
            continue;
        }
        say!("{} ({}):", heading(c), flows.len());
        for f in flows {
            say!("  {} -> {} {}", names(&f.from), names(&f.to), f.service);
            match &f.before {
                Some(b) => say!("    before: {}; egress {}; ingress {}", b.verdict, b.egress, b.ingress),
                None => say!("    before: one end did not exist"),
            }
            say!("    after:  {}; egress {}; ingress {}", f.after.verdict, f.after.egress, f.after.ingress);
        }
    }
    if !d.added.is_empty() {
        say!("added: {}", names(&d.added));
    }
    if !d.removed.is_empty() {
        say!("removed (their flows are gone): {}", names(&d.removed));
    }
    say!(
        "{} newly allowed, {} newly denied, {} unknown ({} pairs of endpoint classes compared, {} probes)",
        d.of(Change::NewlyAllowed).count(),
        d.of(Change::NewlyDenied).count(),
        d.of(Change::Unknown).count(),
        d.pairs,
        d.probes
    );
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

fn print_markdown(d: &FlowDiff, old: &str, new: &str) {
    say!("### podsg diff `{old}` → `{new}`\n");
    say!(
        "**{}** newly allowed, **{}** newly denied, **{}** unknown\n",
        d.of(Change::NewlyAllowed).count(),
        d.of(Change::NewlyDenied).count(),
        d.of(Change::Unknown).count()
    );
    for c in [Change::NewlyAllowed, Change::NewlyDenied, Change::Unknown] {
        let flows: Vec<&FlowChange> = d.of(c).collect();
        if flows.is_empty() {
            continue;
        }
        say!("#### {} ({})\n", heading(c), flows.len());
        say!("| from | to | service | before | after |");
        say!("|---|---|---|---|---|");
        for f in flows {
            let before = match &f.before {
                Some(b) => format!("{}: egress {}; ingress {}", b.verdict, b.egress, b.ingress),
                None => "one end did not exist".into(),
            };
            let after = format!("{}: egress {}; ingress {}", f.after.verdict, f.after.egress, f.after.ingress);
            say!(
                "| {} | {} | `{}` | {} | {} |",
                cell(&names(&f.from)),
                cell(&names(&f.to)),
                f.service,
                cell(&before),
                cell(&after)
            );
        }
        say!("");
    }
}
