//! Which files a set of paths names: files as given, directories walked
//! (sorted, hidden entries skipped, symlinks followed but never round a
//! loop).

use crate::sources::STDIN;
use podsg_model::Diagnostic;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// The files `load` would read, for noticing changes.
pub fn files(paths: &[PathBuf]) -> Vec<PathBuf> {
    collect(paths, &mut Vec::new())
}

pub(crate) fn collect(paths: &[PathBuf], problems: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let mut walk = Walk::default();
    for path in paths {
        if path.as_os_str() == STDIN {
            walk.files.push(path.clone());
            continue;
        }
        let before = walk.files.len();
        match walk.path(path, true) {
            Ok(()) if walk.files.len() == before && path.is_dir() => problems.push(Diagnostic::error(
                "",
                None,
                format!("{}: no .yaml, .yml or .json files in this directory", path.display()),
            )),
            Ok(()) => {}
            Err(e) => problems.push(Diagnostic::error("", None, format!("{}: {e}", path.display()))),
        }
    }
    problems.append(&mut walk.problems);
    walk.files
}

#[derive(Default)]
struct Walk {
    files: Vec<PathBuf>,
    /// Directories being walked, by their real path: meeting one again is a loop.
    open: HashSet<PathBuf>,
    /// Directories walked already (two links to one directory read it once).
    done: HashSet<PathBuf>,
    problems: Vec<Diagnostic>,
}

impl Walk {
    fn path(&mut self, path: &Path, named: bool) -> std::io::Result<()> {
        let meta = std::fs::metadata(path)?;
        if !meta.is_dir() {
            if named || is_manifest(path) {
                self.files.push(path.to_path_buf());
            }
            return Ok(());
        }
        let real = std::fs::canonicalize(path)?;
        if self.open.contains(&real) {
            self.problems.push(Diagnostic::warning(format!(
                "{}: a symbolic link loop (back to {}); not followed",
                path.display(),
                real.display()
            )));
            return Ok(());
        }
        if !self.done.insert(real.clone()) {
            return Ok(());
        }
        self.open.insert(real.clone());
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(path)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
        entries.sort();
        for entry in entries {
            let hidden = entry.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
            if hidden {
                continue;
            }
            if let Err(e) = self.path(&entry, false) {
                self.problems.push(Diagnostic::error("", None, format!("{}: {e}", entry.display())));
            }
        }
        self.open.remove(&real);
        Ok(())
    }
}

fn is_manifest(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}
