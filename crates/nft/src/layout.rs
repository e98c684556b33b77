//! `Layout`: the comparable content of the `inet podsg` table (sets, maps,
//! chains) that a compiled rule set asks for and that the kernel is read
//! back into.

use crate::chains::{base_chains, cell_rules, cell_sets, entry_rules, members_in_rules, side_rules};
use crate::element::{Element, Field, ranges};
use crate::names::{FROM_POD, MEMBERS_IN, MEMBERS4, MEMBERS6, Side, TO_POD, entry_chain, source_set};
use podsg_model::dataplane::{Allowances, CellKey, NodeRuleset};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// What a set's elements are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetKind {
    /// Single addresses (a hash: members, a pod's own addresses).
    Addr { v6: bool },
    /// Address ranges (an rbtree: the networks of rules).
    Ranges { v6: bool },
}

/// What a verdict map is keyed on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapKind {
    Interface,
    Addr {
        v6: bool,
    },
    /// Protocol and destination port ranges.
    Ports,
    /// ICMP (or ICMPv6) type and code ranges.
    Icmp {
        v6: bool,
    },
}

impl SetKind {
    pub fn declaration(self) -> &'static str {
        match self {
            SetKind::Addr { v6: false } => "type ipv4_addr;",
            SetKind::Addr { v6: true } => "type ipv6_addr;",
            SetKind::Ranges { v6: false } => "type ipv4_addr; flags interval;",
            SetKind::Ranges { v6: true } => "type ipv6_addr; flags interval;",
        }
    }
}

impl MapKind {
    pub fn declaration(self) -> &'static str {
        match self {
            MapKind::Interface => "type ifname : verdict;",
            MapKind::Addr { v6: false } => "type ipv4_addr : verdict;",
            MapKind::Addr { v6: true } => "type ipv6_addr : verdict;",
            MapKind::Ports => "type inet_proto . inet_service : verdict; flags interval;",
            MapKind::Icmp { v6: false } => "type icmp_type . icmp_code : verdict; flags interval;",
            MapKind::Icmp { v6: true } => "type icmpv6_type . icmpv6_code : verdict; flags interval;",
        }
    }
}

/// Where a map element sends the packet.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    Jump(String),
    Goto(String),
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Jump(c) => write!(f, "jump {c}"),
            Verdict::Goto(c) => write!(f, "goto {c}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Set {
    pub kind: SetKind,
    pub elements: std::collections::BTreeSet<Element>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Map {
    pub kind: MapKind,
    pub entries: BTreeMap<Element, Verdict>,
}

/// What the kernel holds (or must hold) in the table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    pub sets: BTreeMap<String, Set>,
    pub maps: BTreeMap<String, Map>,
    /// Chain name -> its rules. Read back from the kernel, only their
    /// number is known (each rule is an empty string).
    pub chains: BTreeMap<String, Vec<String>>,
}

fn addr_set(v6: bool, addresses: impl IntoIterator<Item = IpAddr>) -> Set {
    let elements = addresses.into_iter().filter(|a| a.is_ipv6() == v6).map(|a| Element::one(Field::Addr(a))).collect();
    Set { kind: SetKind::Addr { v6 }, elements }
}

fn cell_element(key: &CellKey) -> Element {
    let n = |(lo, hi): (u8, u8)| Field::Num(lo.into(), hi.into());
    match *key {
        CellKey::Ports { protocols, ports } => Element::pair(n(protocols), Field::Num(ports.0.into(), ports.1.into())),
        CellKey::Icmp { types, codes, .. } => Element::pair(n(types), n(codes)),
    }
}

impl Layout {
    /// The table a compiled rule set asks for.
    pub fn desired(ruleset: &NodeRuleset) -> Layout {
        let mut layout = Layout::default();
        for (name, _, rules) in base_chains(ruleset.mode) {
            layout.chains.insert(name.to_string(), rules);
        }
        layout.chains.insert(MEMBERS_IN.to_string(), members_in_rules());
        let mut from_pod = BTreeMap::new();
        let mut to_pod = BTreeMap::new();
        for (interface, p) in &ruleset.interfaces {
            // EC2's default egress (all traffic everywhere) needs no lookup.
            let check_egress = p.restricted && !p.egress.allows_everything();
            let entry = entry_chain(interface, check_egress);
            layout.chains.insert(entry.clone(), entry_rules(interface, check_egress));
            from_pod.insert(Element::one(Field::Name(interface.clone())), Verdict::Jump(entry));
            for v6 in [false, true] {
                layout.sets.insert(source_set(interface, v6), addr_set(v6, p.addresses.iter().copied()));
            }
            if check_egress {
                layout.side(Side::Egress(interface), &p.egress);
            }
            if p.restricted {
                layout.side(Side::Ingress(interface), &p.ingress);
                to_pod.insert(
                    Element::one(Field::Name(interface.clone())),
                    Verdict::Jump(Side::Ingress(interface).chain()),
                );
            }
        }
        let mut members = [BTreeMap::new(), BTreeMap::new()];
        for (groups, policy) in &ruleset.members {
            let side = Side::Members(groups);
            layout.side(side, &policy.ingress);
            for member in &policy.addresses {
                members[usize::from(member.is_ipv6())]
                    .insert(Element::one(Field::Addr(*member)), Verdict::Jump(side.chain()));
            }
        }
        let [members4, members6] = members;
        for (name, kind, entries) in [
            (FROM_POD, MapKind::Interface, from_pod),
            (TO_POD, MapKind::Interface, to_pod),
            (MEMBERS4, MapKind::Addr { v6: false }, members4),
            (MEMBERS6, MapKind::Addr { v6: true }, members6),
        ] {
            layout.maps.insert(name.to_string(), Map { kind, entries });
        }
        layout
    }

    /// One side: its chain, its three maps, and per cell a chain and sets.
    fn side(&mut self, side: Side, allowed: &Allowances) {
        self.chains.insert(side.chain(), side_rules(side));
        let mut maps = [
            (side.port_map(), MapKind::Ports, BTreeMap::new()),
            (side.icmp_map(false), MapKind::Icmp { v6: false }, BTreeMap::new()),
            (side.icmp_map(true), MapKind::Icmp { v6: true }, BTreeMap::new()),
        ];
        for (key, peers) in &allowed.cells {
            let cell = side.cell(key, peers);
            let map = match key {
                CellKey::Ports { .. } => 0,
                CellKey::Icmp { v6, .. } => 1 + usize::from(*v6),
            };
            maps[map].2.insert(cell_element(key), Verdict::Goto(cell.clone()));
            for (set, networks, v6) in cell_sets(&cell, peers) {
                let set = if networks {
                    let elements = ranges(&peers.nets)
                        .into_iter()
                        .filter(|(lo, _)| lo.is_ipv6() == v6)
                        .map(|(lo, hi)| Element::one(Field::Addrs(lo, hi)))
                        .collect();
                    (set, Set { kind: SetKind::Ranges { v6 }, elements })
                } else {
                    (set, addr_set(v6, peers.hosts.iter().copied()))
                };
                self.sets.insert(set.0, set.1);
            }
            self.chains.insert(cell.clone(), cell_rules(side, &cell, peers));
        }
        for (name, kind, entries) in maps {
            self.maps.insert(name, Map { kind, entries });
        }
    }
}
