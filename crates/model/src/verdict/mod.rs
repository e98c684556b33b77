//! Would this flow pass, and which rules let it? The verdict engine answers
//! with the node backend's semantics: the source's egress rules and the
//! destination's ingress rules must both allow a new connection; replies of
//! an allowed connection pass (conntrack).

mod conntrack;
mod endpoint;
mod engine;

pub use conntrack::{Conntrack, Packet, PacketVerdict};
pub use endpoint::{Endpoint, Role};
pub use engine::{Decision, Enforcer, Engine, RuleMatch, SideVerdict, Verdict};
