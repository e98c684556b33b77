//! Where manifest text comes from: files, or standard input (read once and
//! kept, since it cannot be read again to place problems found later).

use podsg_model::Diagnostic;
use podsg_model::decode;
use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

/// The name standard input is given in paths and diagnostics.
pub const STDIN: &str = "-";

#[derive(Debug, Default)]
pub struct Sources {
    stdin: Option<String>,
    /// How many files (standard input counts as one) were read.
    pub files: usize,
}

impl Sources {
    pub fn text(&mut self, path: &Path) -> std::io::Result<String> {
        if path.as_os_str() != STDIN {
            return std::fs::read_to_string(path);
        }
        if self.stdin.is_none() {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            self.stdin = Some(text);
        }
        Ok(self.stdin.clone().unwrap_or_default())
    }

    /// Places diagnostics found after decoding (validation, references,
    /// lints) at the line and column of their field, reading each file
    /// that has some once more.
    pub fn locate(&self, diagnostics: &mut [Diagnostic]) {
        let files: BTreeSet<String> = diagnostics.iter().filter_map(decode::to_place).map(|o| o.file.clone()).collect();
        for file in files {
            let text = if file == STDIN { self.stdin.clone() } else { std::fs::read_to_string(&file).ok() };
            if let Some(text) = text {
                decode::locate(&text, &file, diagnostics);
            }
        }
    }
}
