//! Loading a text as `podsg check` does, for tests of messages: every phase
//! that can run, each diagnostic placed at its line and column.

use podsg_model::decode::{Format, decode, locate};
use podsg_model::{Catalog, Diagnostic};

/// Every diagnostic of loading `text` as the file `t.yaml`.
pub fn diagnostics(text: &str) -> Vec<Diagnostic> {
    let decoded = decode(text, "t.yaml", Format::Yaml);
    let mut all = decoded.diagnostics;
    match Catalog::build_knowing(decoded.objects, decoded.unreadable) {
        Ok(loaded) => all.extend(loaded.diagnostics),
        Err(errors) => all.extend(errors),
    }
    locate(text, "t.yaml", &mut all);
    all
}
