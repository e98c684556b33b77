//! Where the node's desired state comes from: a source pushes changes
//! (objects applied and deleted), and the agent acts on what they change.
//! One trait, so that the same agent runs on manifest files (lab mode,
//! watched with inotify) and on the Kubernetes API.

mod files;

pub use files::ManifestFiles;

use podsg_model::group::SgId;
use podsg_model::world::InputChange;
use std::collections::BTreeSet;

pub trait Source: Send {
    /// Blocks until the source has changes; the first call returns
    /// everything it holds. `None` when the source ends.
    fn next(&mut self) -> Option<Vec<InputChange>>;

    /// Tells the source which groups' members the agent needs now (those
    /// its pods' rules name). `true` when the source must fetch some of
    /// them first: its next report brings them, and the agent enforces
    /// only after it. A source that holds every member ignores this.
    fn want_members(&mut self, _groups: &BTreeSet<SgId>) -> bool {
        false
    }
}
