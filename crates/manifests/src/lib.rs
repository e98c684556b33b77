//! Reading manifests from files and directories into a catalog.

use podsg_model::decode::{self, Decoded, Format};
use podsg_model::{Catalog, Diagnostic, Loaded};
use std::path::{Path, PathBuf};

const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// Every manifest under `paths`, loaded as one catalog. On failure, every
/// problem found (with warnings and notes) is returned.
pub fn load(paths: &[PathBuf]) -> Result<(Loaded, usize), Vec<Diagnostic>> {
    let (objects, mut problems, files) = read(paths);
    if problems.iter().any(Diagnostic::is_error) {
        return Err(problems);
    }
    match Catalog::build(objects) {
        Ok(mut loaded) => {
            problems.append(&mut loaded.diagnostics);
            loaded.diagnostics = problems;
            Ok((loaded, files))
        }
        Err(mut errors) => {
            problems.append(&mut errors);
            Err(problems)
        }
    }
}

/// As `load`, for a running node: what can be used is used, and every
/// problem is in the diagnostics (see `Catalog::build_lenient`).
pub fn load_lenient(paths: &[PathBuf]) -> Loaded {
    let (objects, mut problems, _) = read(paths);
    let mut loaded = Catalog::build_lenient(objects);
    problems.append(&mut loaded.diagnostics);
    loaded.diagnostics = problems;
    loaded
}

/// Decodes every manifest file under `paths`.
fn read(paths: &[PathBuf]) -> (Vec<Decoded>, Vec<Diagnostic>, usize) {
    let mut problems = Vec::new();
    let mut files = Vec::new();
    for path in paths {
        match collect(path, &mut files) {
            Ok(0) if path.is_dir() => problems.push(Diagnostic::error(
                "",
                None,
                format!("{}: no .yaml, .yml or .json files in this directory", path.display()),
            )),
            Ok(_) => {}
            Err(e) => problems.push(Diagnostic::error("", None, format!("{}: {e}", path.display()))),
        }
    }
    let mut objects: Vec<Decoded> = Vec::new();
    for file in &files {
        let name = file.display().to_string();
        match std::fs::read_to_string(file) {
            Ok(text) => {
                let decoded = decode::decode(&text, &name, Format::of_path(&name));
                objects.extend(decoded.objects);
                problems.extend(decoded.diagnostics);
            }
            Err(e) => problems.push(Diagnostic::error("", None, format!("{name}: {e}"))),
        }
    }
    (objects, problems, files.len())
}

/// The files `load` would read, for noticing changes.
pub fn files(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in paths {
        let _ = collect(path, &mut out);
    }
    out
}

/// Adds the manifest files at `path` (recursively, sorted, hidden entries
/// skipped); returns how many it added.
fn collect(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<usize> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_dir() {
        out.push(path.to_path_buf());
        return Ok(1);
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    entries.sort();
    let mut added = 0;
    for entry in entries {
        let hidden = entry.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if entry.is_dir() {
            added += collect(&entry, out)?;
        } else if entry.extension().and_then(|e| e.to_str()).is_some_and(|e| EXTENSIONS.contains(&e)) {
            out.push(entry);
            added += 1;
        }
    }
    Ok(added)
}
