//! Reading manifests from files, directories and standard input into a
//! catalog, with every problem placed at its file, line and column.

mod sources;
mod walk;

pub use sources::{STDIN, Sources};
pub use walk::files;

use podsg_model::decode::{self, DecodedFile, Format};
use podsg_model::{Catalog, Diagnostic, Loaded};
use std::path::PathBuf;

/// Every manifest under `paths` (`-` is standard input), loaded as one
/// catalog. On failure, every problem found by every phase that could run
/// (a file that does not parse does not hide reference errors in the
/// others) is returned, with warnings and notes.
pub fn load(paths: &[PathBuf]) -> Result<(Loaded, Sources), Vec<Diagnostic>> {
    let (decoded, sources) = read(paths);
    let DecodedFile { objects, unreadable, diagnostics: mut problems } = decoded;
    let decode_failed = problems.iter().any(Diagnostic::is_error);
    let result = match Catalog::build_knowing(objects, unreadable) {
        Ok(mut loaded) if !decode_failed => {
            problems.append(&mut loaded.diagnostics);
            loaded.diagnostics = problems;
            sources.locate(&mut loaded.diagnostics);
            return Ok((loaded, sources));
        }
        Ok(mut loaded) => {
            problems.append(&mut loaded.diagnostics);
            problems
        }
        Err(mut errors) => {
            problems.append(&mut errors);
            problems
        }
    };
    let mut problems = result;
    sources.locate(&mut problems);
    Err(problems)
}

/// As `load`, for a running node: what can be used is used, and every
/// problem is in the diagnostics (see `Catalog::build_lenient`).
pub fn load_lenient(paths: &[PathBuf]) -> Loaded {
    let (decoded, sources) = read(paths);
    let mut loaded = Catalog::build_lenient(decoded.objects);
    let mut problems = decoded.diagnostics;
    problems.append(&mut loaded.diagnostics);
    sources.locate(&mut problems);
    loaded.diagnostics = problems;
    loaded
}

/// Decodes every manifest under `paths`.
fn read(paths: &[PathBuf]) -> (DecodedFile, Sources) {
    let mut out = DecodedFile::default();
    let files = walk::collect(paths, &mut out.diagnostics);
    let mut sources = Sources::default();
    for file in &files {
        let name = file.display().to_string();
        match sources.text(file) {
            Ok(text) => {
                let decoded = decode::decode(&text, &name, Format::of_path(&name));
                out.objects.extend(decoded.objects);
                out.unreadable.extend(decoded.unreadable);
                out.diagnostics.extend(decoded.diagnostics);
            }
            Err(e) => out.diagnostics.push(Diagnostic::error("", None, format!("{name}: {e}"))),
        }
    }
    sources.files = files.len();
    (out, sources)
}
