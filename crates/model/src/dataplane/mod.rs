//! Compile security-group semantics to a dataplane-neutral rule set: for
//! each pod interface and direction, the set of (protocol, port, peer) boxes
//! it allows, disjoint so that a kernel interval set can hold them and a
//! packet needs one lookup, whatever the number of rules and members.

mod boxes;
mod ruleset;

pub use boxes::{Allowances, IcmpBox, PortBox, allowances};
pub use ruleset::{InterfacePolicy, LocalPod, NodeRuleset, PodGroups};
