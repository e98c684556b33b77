//! Where the node's desired state comes from: one trait, so that the same
//! agent runs on manifest files (lab mode) and on the Kubernetes API.

use podsg_model::Loaded;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;

pub trait DesiredState: Send + Sync {
    /// The cluster as it should be. Invalid objects are left out and reported
    /// in the diagnostics; references to missing groups are kept (their pods
    /// fail closed).
    fn load(&self) -> Loaded;
    /// Changes whenever `load` may return something new; cheap.
    fn fingerprint(&self) -> u64;
}

/// Manifest files and directories (lab mode).
pub struct ManifestFiles {
    pub paths: Vec<PathBuf>,
}

impl DesiredState for ManifestFiles {
    fn load(&self) -> Loaded {
        podsg_manifests::load_lenient(&self.paths)
    }

    fn fingerprint(&self) -> u64 {
        let mut h = DefaultHasher::new();
        for file in podsg_manifests::files(&self.paths) {
            file.hash(&mut h);
            if let Ok(meta) = std::fs::metadata(&file) {
                meta.len().hash(&mut h);
                meta.modified().ok().hash(&mut h);
            }
        }
        h.finish()
    }
}
