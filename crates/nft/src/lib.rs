//! The node dataplane in nftables: one table, `inet podsg`, owned by podsg.
//!
//! Every datum that changes lives in a set or a map (allowed boxes per pod
//! interface, pod addresses for anti-spoofing, the interface verdict maps,
//! external members); chains are fixed templates. So a membership change is
//! a few element updates, a new pod a few new sets and chains, and the kernel
//! state can be read back and compared element by element. Every change is
//! one `nft -f` transaction: atomic.

mod element;
mod error;
mod kernel;
mod layout;
mod nft;
mod render;
mod sync;

pub use element::{Element, Field};
pub use error::{Error, Result};
pub use kernel::parse_table;
pub use layout::{Layout, TABLE};
pub use nft::{Nft, NftCli};
pub use render::{full_script, update_script};
pub use sync::{Dataplane, Drift, SyncReport, drift};
