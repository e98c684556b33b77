//! The shape of the `inet podsg` table: names, set types, chain templates,
//! and `Layout`, the comparable content (sets, maps, chains) that the
//! compiled rule set asks for and that the kernel is read back into.

use crate::element::{Element, Field};
use ipnet::IpNet;
use podsg_model::dataplane::{Allowances, IcmpBox, NodeRuleset, PortBox};
use podsg_model::settings::EnforcingMode;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// The table podsg owns, in the `inet` family.
pub const TABLE: &str = "podsg";

pub const FROM_POD: &str = "from_pod";
pub const TO_POD: &str = "to_pod";
pub const MEMBERS_IN: &str = "members_in";

/// What the kernel holds (or must hold) in the table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    /// Set name -> elements.
    pub sets: BTreeMap<String, BTreeSet<Element>>,
    /// Verdict map name -> interface -> chain it jumps to.
    pub maps: BTreeMap<String, BTreeMap<String, String>>,
    /// Chain name -> number of rules.
    pub chains: BTreeMap<String, usize>,
}

/// A name safe for nft identifiers, unique per interface name: the name
/// itself when it is plain, else `x` and its bytes in hex.
pub fn suffix(interface: &str) -> String {
    if !interface.is_empty() && interface.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        interface.to_string()
    } else {
        format!("x{}", interface.bytes().map(|b| format!("{b:02x}")).collect::<String>())
    }
}

pub fn egress_chain(interface: &str) -> String {
    format!("eg_{}", suffix(interface))
}

pub fn ingress_chain(interface: &str) -> String {
    format!("in_{}", suffix(interface))
}

/// Per-interface sets, by prefix: what they hold and their nft type.
pub const INTERFACE_SETS: [(&str, &str); 10] = [
    ("eg4", "type inet_proto . inet_service . ipv4_addr; flags interval;"),
    ("eg6", "type inet_proto . inet_service . ipv6_addr; flags interval;"),
    ("egi4", "type icmp_type . icmp_code . ipv4_addr; flags interval;"),
    ("egi6", "type icmpv6_type . icmpv6_code . ipv6_addr; flags interval;"),
    ("in4", "type inet_proto . inet_service . ipv4_addr; flags interval;"),
    ("in6", "type inet_proto . inet_service . ipv6_addr; flags interval;"),
    ("ini4", "type icmp_type . icmp_code . ipv4_addr; flags interval;"),
    ("ini6", "type icmpv6_type . icmpv6_code . ipv6_addr; flags interval;"),
    ("src4", "type ipv4_addr;"),
    ("src6", "type ipv6_addr;"),
];

/// Table-wide sets: external members and what may reach them.
pub const GLOBAL_SETS: [(&str, &str); 6] = [
    ("members4", "type ipv4_addr;"),
    ("members6", "type ipv6_addr;"),
    ("xin4", "type ipv4_addr . inet_proto . inet_service . ipv4_addr; flags interval;"),
    ("xin6", "type ipv6_addr . inet_proto . inet_service . ipv6_addr; flags interval;"),
    ("xini4", "type ipv4_addr . icmp_type . icmp_code . ipv4_addr; flags interval;"),
    ("xini6", "type ipv6_addr . icmpv6_type . icmpv6_code . ipv6_addr; flags interval;"),
];

/// The declaration of a set by its name.
pub fn set_type(name: &str) -> Option<&'static str> {
    let prefix = name.split('_').next().unwrap_or(name);
    INTERFACE_SETS.iter().chain(&GLOBAL_SETS).find(|(p, _)| *p == prefix || *p == name).map(|(_, t)| *t)
}

pub fn interface_set(prefix: &str, interface: &str) -> String {
    format!("{prefix}_{}", suffix(interface))
}

const CONNTRACK: [&str; 2] = ["ct state established,related accept", "ct state invalid drop"];

/// Base chains: `(name, hook, rules)`. `input` and `output` only in strict
/// mode, where traffic between a pod and its own node is checked.
pub fn base_chains(mode: EnforcingMode) -> Vec<(&'static str, &'static str, Vec<String>)> {
    let rules = |extra: &[&str]| CONNTRACK.iter().chain(extra).map(|s| s.to_string()).collect::<Vec<_>>();
    let mut chains = vec![("forward", "forward", rules(&["iifname vmap @from_pod", "oifname vmap @to_pod"]))];
    if mode == EnforcingMode::Strict {
        chains.push(("input", "input", rules(&["iifname vmap @from_pod"])));
        chains.push(("output", "output", rules(&["oifname vmap @to_pod"])));
    }
    chains
}

/// The base chains only strict mode has: added and removed in place when the
/// mode changes, so that a mode change never replaces the table.
pub const MODE_CHAINS: [&str; 2] = ["input", "output"];

/// A base chain's hook and rules, by name.
pub fn base_chain(name: &str) -> Option<(&'static str, Vec<String>)> {
    base_chains(EnforcingMode::Strict).into_iter().find(|(n, _, _)| *n == name).map(|(_, hook, rules)| (hook, rules))
}

/// Traffic from pods to external members meets the members' ingress here,
/// on the source node.
pub fn members_in_rules() -> Vec<String> {
    [
        "ip daddr . meta l4proto . th dport . ip saddr @xin4 return",
        "meta l4proto icmp ip daddr . icmp type . icmp code . ip saddr @xini4 return",
        "ip6 daddr . meta l4proto . th dport . ip6 saddr @xin6 return",
        "meta l4proto ipv6-icmp ip6 daddr . icmpv6 type . icmpv6 code . ip6 saddr @xini6 return",
        "ip daddr @members4 drop",
        "ip6 daddr @members6 drop",
    ]
    .map(String::from)
    .to_vec()
}

/// A pod's egress: its own addresses only, then its groups' egress rules
/// (restricted pods), then the members' ingress.
pub fn egress_rules(interface: &str, restricted: bool) -> Vec<String> {
    let s = suffix(interface);
    let mut rules = vec![
        // Neighbour discovery to the node, from link-local addresses.
        "meta l4proto ipv6-icmp icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } accept"
            .to_string(),
        format!("meta nfproto ipv4 ip saddr != @src4_{s} drop"),
        format!("meta nfproto ipv6 ip6 saddr != @src6_{s} drop"),
    ];
    if restricted {
        rules.extend([
            format!("meta l4proto . th dport . ip daddr @eg4_{s} goto {MEMBERS_IN}"),
            format!("meta l4proto icmp icmp type . icmp code . ip daddr @egi4_{s} goto {MEMBERS_IN}"),
            format!("meta l4proto . th dport . ip6 daddr @eg6_{s} goto {MEMBERS_IN}"),
            format!("meta l4proto ipv6-icmp icmpv6 type . icmpv6 code . ip6 daddr @egi6_{s} goto {MEMBERS_IN}"),
            "drop".to_string(),
        ]);
    } else {
        rules.push(format!("goto {MEMBERS_IN}"));
    }
    rules
}

/// A restricted pod's ingress: its groups' ingress rules.
pub fn ingress_rules(interface: &str) -> Vec<String> {
    let s = suffix(interface);
    vec![
        format!("meta l4proto . th dport . ip saddr @in4_{s} accept"),
        format!("meta l4proto icmp icmp type . icmp code . ip saddr @ini4_{s} accept"),
        format!("meta l4proto . th dport . ip6 saddr @in6_{s} accept"),
        format!("meta l4proto ipv6-icmp icmpv6 type . icmpv6 code . ip6 saddr @ini6_{s} accept"),
        "drop".to_string(),
    ]
}

fn range8(r: (u8, u8)) -> Field {
    Field::Range(r.0.into(), r.1.into())
}

fn port_element(b: &PortBox) -> Element {
    Element(vec![range8(b.protocols), Field::Range(b.ports.0.into(), b.ports.1.into()), Field::Net(b.peer)])
}

fn icmp_element(b: &IcmpBox) -> Element {
    Element(vec![range8(b.types), range8(b.codes), Field::Net(b.peer)])
}

fn host(a: IpAddr) -> Field {
    Field::Net(IpNet::from(a))
}

/// Splits allowances into the four sets of one direction, by address family.
fn family_sets(
    a: &Allowances,
    prefix4: &str,
    prefix6: &str,
    icmp4: &str,
    icmp6: &str,
    interface: &str,
    out: &mut BTreeMap<String, BTreeSet<Element>>,
) {
    let mut sets: [BTreeSet<Element>; 4] = Default::default();
    for b in &a.ports {
        sets[usize::from(b.peer.addr().is_ipv6())].insert(port_element(b));
    }
    for b in &a.icmp {
        sets[2 + usize::from(b.peer.addr().is_ipv6())].insert(icmp_element(b));
    }
    for (prefix, set) in [prefix4, prefix6, icmp4, icmp6].into_iter().zip(sets) {
        out.insert(interface_set(prefix, interface), set);
    }
}

impl Layout {
    /// The table a compiled rule set asks for.
    pub fn desired(ruleset: &NodeRuleset) -> Layout {
        let mut layout = Layout::default();
        for (name, _, rules) in base_chains(ruleset.mode) {
            layout.chains.insert(name.to_string(), rules.len());
        }
        layout.chains.insert(MEMBERS_IN.to_string(), members_in_rules().len());
        let mut from_pod = BTreeMap::new();
        let mut to_pod = BTreeMap::new();
        for (interface, p) in &ruleset.interfaces {
            let restricted = p.restricted;
            layout.chains.insert(egress_chain(interface), egress_rules(interface, restricted).len());
            from_pod.insert(interface.clone(), egress_chain(interface));
            for (prefix, v6) in [("src4", false), ("src6", true)] {
                let own = p.addresses.iter().filter(|a| a.is_ipv6() == v6).map(|a| Element(vec![host(*a)])).collect();
                layout.sets.insert(interface_set(prefix, interface), own);
            }
            if restricted {
                layout.chains.insert(ingress_chain(interface), ingress_rules(interface).len());
                to_pod.insert(interface.clone(), ingress_chain(interface));
                family_sets(&p.egress, "eg4", "eg6", "egi4", "egi6", interface, &mut layout.sets);
                family_sets(&p.ingress, "in4", "in6", "ini4", "ini6", interface, &mut layout.sets);
            }
        }
        layout.maps.insert(FROM_POD.to_string(), from_pod);
        layout.maps.insert(TO_POD.to_string(), to_pod);
        let mut global: [BTreeSet<Element>; 6] = Default::default();
        for (member, a) in &ruleset.members {
            let v6 = usize::from(member.is_ipv6());
            global[v6].insert(Element(vec![host(*member)]));
            for b in &a.ports {
                if b.peer.addr().is_ipv6() == member.is_ipv6() {
                    let mut e = port_element(b).0;
                    e.insert(0, host(*member));
                    global[2 + v6].insert(Element(e));
                }
            }
            for b in &a.icmp {
                if b.peer.addr().is_ipv6() == member.is_ipv6() {
                    let mut e = icmp_element(b).0;
                    e.insert(0, host(*member));
                    global[4 + v6].insert(Element(e));
                }
            }
        }
        for ((name, _), set) in GLOBAL_SETS.iter().zip(global) {
            layout.sets.insert(name.to_string(), set);
        }
        layout
    }

    /// The interfaces this layout has chains for.
    pub fn interfaces(&self) -> BTreeSet<String> {
        self.maps.get(FROM_POD).map(|m| m.keys().cloned().collect()).unwrap_or_default()
    }
}
