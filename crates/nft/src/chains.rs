//! The rules of every chain: fixed templates that refer to sets and maps by
//! name, so that what changes at run time is only elements.
//!
//! A packet from a pod: `forward` -> `from_pod` (its interface) -> the
//! pod's entry chain (anti-spoofing) -> `jump` its egress side chain -> one
//! map lookup on (ICMP type, code) or (protocol, port) -> `goto` that cell
//! -> one lookup per peer set: `return` (allowed) or `drop`. Back in the
//! entry chain, `goto members_in` checks external members' ingress the same
//! way; then `forward` looks the out interface up in `to_pod` for the
//! receiving pod's ingress side. Every lookup is a hash, an rbtree over a
//! cell's networks, or a small interval map over the cells.

use crate::names::{
    EGRESS_ALLOWED, EGRESS_DENIED, FROM_POD, INGRESS_ALLOWED, INGRESS_DENIED, LOG_DENIED, LOG_GROUP, LOG_RATE, MEMBERS,
    MEMBERS_IN, Side, TO_POD, cell_set, source_set,
};
use podsg_model::dataplane::Peers;
use podsg_model::settings::EnforcingMode;

const CONNTRACK: [&str; 2] = ["ct state established,related accept", "ct state invalid drop"];

/// Base chains: `(name, hook, rules)`. `input` and `output` only in strict
/// mode, where traffic between a pod and its own node is checked.
pub fn base_chains(mode: EnforcingMode) -> Vec<(&'static str, &'static str, Vec<String>)> {
    let rules = |extra: &[&str]| CONNTRACK.iter().chain(extra).map(|s| s.to_string()).collect::<Vec<_>>();
    let from = format!("iifname vmap @{FROM_POD}");
    let to = format!("oifname vmap @{TO_POD}");
    // Past the sides, a new connection is allowed: its pods' counters count it.
    let sent = format!("iifname @{EGRESS_ALLOWED}");
    let received = format!("oifname @{INGRESS_ALLOWED}");
    let mut chains = vec![("forward", "forward", rules(&[&from, &to, &sent, &received]))];
    if mode == EnforcingMode::Strict {
        chains.push(("input", "input", rules(&[&from, &sent])));
        // The node's own neighbour discovery and multicast listener reports
        // on a pod's link: never forwarded (hop limits 255 and 1), never
        // a connection, so not the pod's groups' to refuse.
        let link = [
            "meta l4proto ipv6-icmp icmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept",
            "meta l4proto ipv6-icmp icmpv6 type { mld-listener-query, mld-listener-report, mld-listener-done, mld2-listener-report } ip6 hoplimit 1 accept",
        ];
        chains.push(("output", "output", rules(&[link[0], link[1], &to, &received])));
    }
    chains
}

/// Where a side refuses a new connection: the pod's counter counts it,
/// the pod's refusals are logged if it asked (rate-limited, to the NFLOG
/// group the agent reads, prefixed with the side's chain), then the drop.
pub fn deny_rules(side: Side) -> Vec<String> {
    let (pod, counted) = match side {
        Side::Egress(_) | Side::Members(_) => ("iifname", EGRESS_DENIED),
        Side::Ingress(_) => ("oifname", INGRESS_DENIED),
    };
    vec![
        format!("{pod} @{counted}"),
        format!(
            "{pod} @{LOG_DENIED} limit rate {LOG_RATE}/second burst {} packets log prefix \"{}\" group {LOG_GROUP}",
            2 * LOG_RATE,
            side.chain()
        ),
        "drop".to_string(),
    ]
}

/// A base chain's hook, by name.
pub fn hook(name: &str) -> Option<&'static str> {
    base_chains(EnforcingMode::Strict).into_iter().find(|(n, _, _)| *n == name).map(|(_, hook, _)| hook)
}

/// Traffic from pods to external members meets the members' ingress here,
/// on the source node: through the `members` map (keyed on the family, so
/// that it holds two entries) to the current dispatch chain.
pub fn members_in_rules() -> Vec<String> {
    vec![format!("meta nfproto vmap @{MEMBERS}")]
}

/// A dispatch chain: per member side, its members' addresses (hash sets)
/// `goto` its chain; a destination in none is no external member.
///
/// Why sets and not one map from address to side: the kernel validates the
/// whole ruleset graph after any change that adds a jump or goto element,
/// walking every element of every verdict map (about 19 ms with 100,000
/// entries). In plain sets a member change costs microseconds; the price is
/// one hash lookup per member side, and member sides are the distinct sets
/// of groups that external members carry, not the members.
pub fn member_dispatch_rules(sides: &[Side]) -> Vec<String> {
    sides
        .iter()
        .flat_map(|side| {
            [
                format!("ip daddr @{} goto {}", side.member_set(false), side.chain()),
                format!("ip6 daddr @{} goto {}", side.member_set(true), side.chain()),
            ]
        })
        .collect()
}

/// An entry chain: the pod's own addresses only, its groups' egress (when
/// they restrict it), then the members' ingress.
pub fn entry_rules(egress: Option<Side>) -> Vec<String> {
    let mut rules = vec![
        // Neighbour discovery to the node, from link-local addresses.
        "meta l4proto ipv6-icmp icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } accept"
            .to_string(),
        format!("meta nfproto ipv4 iifname . ip saddr != @{} drop", source_set(false)),
        format!("meta nfproto ipv6 iifname . ip6 saddr != @{} drop", source_set(true)),
    ];
    if let Some(side) = egress {
        rules.push(format!("jump {}", side.chain()));
    }
    rules.push(format!("goto {MEMBERS_IN}"));
    rules
}

/// A side chain: find the packet's cell (ICMP by type and code first, then
/// every packet by protocol and port); a packet in no cell is dropped.
pub fn side_rules(side: Side) -> Vec<String> {
    vec![
        format!("meta l4proto icmp icmp type . icmp code vmap @{}", side.icmp_map(false)),
        format!("meta l4proto ipv6-icmp icmpv6 type . icmpv6 code vmap @{}", side.icmp_map(true)),
        format!("meta l4proto . th dport vmap @{}", side.port_map()),
    ]
    .into_iter()
    .chain(deny_rules(side))
    .collect()
}

/// The peer sets a cell has: members when its rules name groups, networks
/// of each family its rules name. Fixed by the rules, not by membership.
pub fn cell_sets(cell: &str, peers: &Peers) -> Vec<(String, bool, bool)> {
    let mut sets = Vec::new();
    if peers.groups {
        sets.push((cell_set(cell, false, false), false, false));
        sets.push((cell_set(cell, false, true), false, true));
    }
    for v6 in [false, true] {
        if peers.has_nets(v6) {
            sets.push((cell_set(cell, true, v6), true, v6));
        }
    }
    sets
}

/// A cell chain: the peer in one of its sets returns (allowed, counted:
/// what each of the cell's rules allows), else the side's refusal.
pub fn cell_rules(side: Side, cell: &str, peers: &Peers) -> Vec<String> {
    let field = if side.peer_is_destination() { "daddr" } else { "saddr" };
    let mut rules: Vec<String> = cell_sets(cell, peers)
        .into_iter()
        .map(|(set, _, v6)| format!("{} {field} @{set} counter return", if v6 { "ip6" } else { "ip" }))
        .collect();
    rules.extend(deny_rules(side));
    rules
}
