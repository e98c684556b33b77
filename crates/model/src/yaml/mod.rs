//! YAML as Kubernetes reads it. Reading keeps every position (so every
//! problem has a line and column), refuses what would silently lose data
//! (keys written twice, YAML bombs, runaway nesting) and types scalars as
//! kubectl does (YAML 1.1 booleans included). Writing quotes every string a
//! YAML 1.1 or 1.2 reader could take for something else.
//!
//! Why not serde_yaml: it is unmaintained and deprecated by its author, it
//! keeps the last of two equal keys, its values carry no positions, and it
//! types scalars as YAML 1.2 (so `yes` is a string to it but a boolean to
//! kubectl). saphyr-parser supplies the events and their positions; it is
//! maintained, YAML 1.2 test-suite compliant, pure Rust without unsafe
//! dependencies, and bounds its own recursion. The block YAML that kubectl
//! prints is read several times faster by a line reader of podsg's own
//! (`block`), held by tests to give saphyr-parser's events exactly.

mod block;
mod de;
mod node;
mod read;
mod scalar;
mod write;

pub(crate) use block::is_item_start;
pub use de::{Error, Unknown, from_node};
pub use node::{Entry, Mark, Node, Scalar, Typed, Value};
pub use read::{MAX_ALIASED_NODES, MAX_DEPTH, Problem, Unit, read, read_items, read_whole};
pub use scalar::{needs_quotes, resolve};
pub use write::to_yaml;

/// The UTF-8 byte-order mark some editors write first.
pub fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}
