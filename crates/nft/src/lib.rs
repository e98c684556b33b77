//! The node dataplane in nftables: one table, `inet podsg`, owned by podsg.
//!
//! Every datum that changes lives in a set or a map: pod interfaces, pod
//! addresses for anti-spoofing, external members, and per side (a pod's
//! egress or ingress, a member's ingress) its cells and their peers.
//! Chains are fixed templates. A packet's first lookup finds its cell, the
//! next its peer, so the cost of a new connection does not grow with the
//! rules or members; membership changes are element updates sent over
//! netlink, so their cost does not grow with the table. Every visible
//! change is one transaction: atomic.

mod chains;
mod counters;
mod element;
mod encode;
mod error;
mod kernel;
mod layout;
mod names;
mod netlink;
mod nflog;
mod nft;
mod plan;
mod refill;
mod sync;

pub use counters::{Counters, Counts, parse_counters};
pub use element::{Element, Field};
pub use error::{Error, Result};
pub use kernel::parse_table;
pub use layout::{Fill, Layout, Map, MapKind, Set, SetKind, SideChain, Verdict, side_chains};
pub use names::{LOG_GROUP, Side, TABLE};
pub use netlink::ElementChange;
pub use nflog::{LogReader, Refused, parse as parse_nflog};
pub use nft::{Nft, NftCli};
pub use plan::{Changes, Plan, full_script, plan};
pub use sync::{Dataplane, Drift, SyncReport, drift};
