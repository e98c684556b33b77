//! Compile security-group semantics to a dataplane-neutral rule set: for
//! each pod interface and direction (and each external member's ingress),
//! disjoint cells of (protocol, port) or (ICMP type, code), each with the
//! peers it allows. A packet needs one lookup for its cell and one for its
//! peer, whatever the number of rules and members.

mod cells;
mod ruleset;

pub use cells::{Allowances, CellKey, Peers, allowances};
pub use ruleset::{InterfacePolicy, LocalPod, MemberPolicy, NodeRuleset, PodGroups, PodPolicy};
