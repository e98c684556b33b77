//! `Layout`: the comparable content of the `inet podsg` table (sets, maps,
//! chains) that a compiled rule set asks for and that the kernel is read
//! back into.

use crate::chains::{
    base_chains, cell_rules, cell_sets, entry_rules, member_dispatch_rules, members_in_rules, side_rules,
};
use crate::element::{Element, Field, ranges};
use crate::names::{
    COUNTED, FROM_POD, FROM_UNCHECKED, LOG_DENIED, MEMBERS, MEMBERS_IN, Side, TO_POD, entry_chain, member_dispatch,
    source_set,
};
use podsg_model::dataplane::{Allowances, CellKey, InterfacePolicy, NodeRuleset};
use podsg_model::group::SgId;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;

/// `meta nfproto` values.
const NFPROTO_IPV4: u32 = 2;
const NFPROTO_IPV6: u32 = 10;

/// What a set's elements are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetKind {
    /// Single addresses (a hash: members, a pod's own addresses).
    Addr { v6: bool },
    /// Address ranges (an rbtree: the networks of rules).
    Ranges { v6: bool },
    /// Interface and address pairs (a hash: the pods' own addresses).
    Sources { v6: bool },
    /// Interfaces, each with a counter (a hash: pods' counted connections).
    Counted,
    /// Interfaces (a hash: pods whose refused connections are logged).
    Interfaces,
}

/// What a verdict map is keyed on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapKind {
    Interface,
    /// The IP family (`meta nfproto`: 2 IPv4, 10 IPv6).
    Family,
    /// Addresses; only read back, from tables of earlier versions (whose
    /// members went to their sides through one such map), so that an
    /// upgrade replaces them.
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
            SetKind::Sources { v6: false } => "type ifname . ipv4_addr;",
            SetKind::Sources { v6: true } => "type ifname . ipv6_addr;",
            SetKind::Counted => "type ifname; counter;",
            SetKind::Interfaces => "type ifname;",
        }
    }
}

impl MapKind {
    pub fn declaration(self) -> &'static str {
        match self {
            MapKind::Interface => "type ifname : verdict;",
            MapKind::Family => "type nf_proto : verdict;",
            MapKind::Addr { v6: false } => "type ipv4_addr : verdict;",
            MapKind::Addr { v6: true } => "type ipv6_addr : verdict;",
            MapKind::Ports => "type inet_proto . inet_service : verdict; flags interval;",
            MapKind::Icmp { v6: false } => "type icmp_type . icmp_code : verdict; flags interval;",
            MapKind::Icmp { v6: true } => "type icmpv6_type . icmpv6_code : verdict; flags interval;",
        }
    }
}

/// Where a map element sends the packet. The chain name is shared: 100,000
/// members that jump to one chain hold one name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    Jump(Arc<str>),
    Goto(Arc<str>),
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
    pub elements: BTreeSet<Element>,
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

fn cell_element(key: &CellKey) -> Element {
    let n = |(lo, hi): (u8, u8)| Field::Num(lo.into(), hi.into());
    match *key {
        CellKey::Ports { protocols, ports } => Element::pair(n(protocols), Field::Num(ports.0.into(), ports.1.into())),
        CellKey::Icmp { types, codes, .. } => Element::pair(n(types), n(codes)),
    }
}

/// The part of a table that group membership fills: a set of member
/// addresses (of a cell, or of the external members of a member side).
/// Everything else in a table follows from rules, pods and the mode.
#[derive(Clone, Debug)]
pub struct Fill<'a> {
    pub set: String,
    pub v6: bool,
    pub hosts: &'a BTreeSet<IpAddr>,
}

impl Fill<'_> {
    pub fn kind(&self) -> SetKind {
        SetKind::Addr { v6: self.v6 }
    }

    /// The set's elements, in element order (a BTreeSet of addresses of one
    /// family iterates in it).
    pub fn elements(&self) -> impl Iterator<Item = Element> + '_ {
        self.hosts.iter().filter(|a| a.is_ipv6() == self.v6).map(|a| Element::one(Field::Addr(*a)))
    }
}

impl Layout {
    /// The table a compiled rule set asks for.
    pub fn desired(ruleset: &NodeRuleset) -> Layout {
        let (mut layout, fills) = Layout::apart(ruleset);
        layout.fill(&fills);
        layout
    }

    /// Puts what membership gives into the declared sets.
    pub fn fill(&mut self, fills: &[Fill<'_>]) {
        for fill in fills {
            self.sets.get_mut(&fill.set).expect("filled sets are declared").elements = fill.elements().collect();
        }
    }

    /// The table without what membership fills (those sets are declared,
    /// empty), and the fills: while the structure stays, a
    /// membership change is a change of fills only.
    pub fn apart(ruleset: &NodeRuleset) -> (Layout, Vec<Fill<'_>>) {
        let mut layout = Layout::default();
        let mut fills = Vec::new();
        for (name, _, rules) in base_chains(ruleset.mode) {
            layout.chains.insert(name.to_string(), rules);
        }
        layout.chains.insert(MEMBERS_IN.to_string(), members_in_rules());
        // Pods that carry the same groups share their sides and entry chain:
        // a pod whose groups the node already has is only elements.
        let mut checks_egress: BTreeSet<&[SgId]> = BTreeSet::new();
        layout.chains.insert(FROM_UNCHECKED.to_string(), entry_rules(None));
        for (groups, p) in &ruleset.pods {
            // EC2's default egress (all traffic everywhere) needs no lookup.
            if !p.egress.allows_everything() {
                let side = Side::Egress(groups);
                layout.side(side, &p.egress, &mut fills);
                layout.chains.insert(entry_chain(Some(side)), entry_rules(Some(side)));
                checks_egress.insert(groups.as_slice());
            }
            layout.side(Side::Ingress(groups), &p.ingress, &mut fills);
        }
        let mut from_pod = BTreeMap::new();
        let mut to_pod = BTreeMap::new();
        let mut sources = [BTreeSet::new(), BTreeSet::new()];
        for (interface, p) in &ruleset.interfaces {
            let name = || Element::one(Field::Name(interface.clone()));
            let carried = p.carried();
            let egress = carried.as_deref().filter(|g| checks_egress.contains(*g)).map(Side::Egress);
            from_pod.insert(name(), Verdict::Jump(entry_chain(egress).into()));
            if let Some(groups) = &carried {
                to_pod.insert(name(), Verdict::Jump(Side::Ingress(groups).chain().into()));
            }
            for a in &p.addresses {
                sources[usize::from(a.is_ipv6())]
                    .insert(Element::pair(Field::Name(interface.clone()), Field::Addr(*a)));
            }
        }
        for (v6, elements) in [false, true].into_iter().zip(sources) {
            layout.sets.insert(source_set(v6).to_string(), Set { kind: SetKind::Sources { v6 }, elements });
        }
        let interfaces = |only: &dyn Fn(&InterfacePolicy) -> bool| -> BTreeSet<Element> {
            ruleset
                .interfaces
                .iter()
                .filter(|(_, p)| only(p))
                .map(|(i, _)| Element::one(Field::Name(i.clone())))
                .collect()
        };
        for (name, _, _) in COUNTED {
            layout.sets.insert(name.to_string(), Set { kind: SetKind::Counted, elements: interfaces(&|_| true) });
        }
        layout
            .sets
            .insert(LOG_DENIED.to_string(), Set { kind: SetKind::Interfaces, elements: interfaces(&|p| p.log_denied) });
        let mut sides = Vec::new();
        for (groups, policy) in &ruleset.members {
            let side = Side::Members(groups);
            layout.side(side, &policy.ingress, &mut fills);
            for v6 in [false, true] {
                layout.declare(Fill { set: side.member_set(v6), v6, hosts: &policy.addresses }, &mut fills);
            }
            sides.push(side);
        }
        // Without member sides, no dispatch chain: `members` is empty.
        let mut families = BTreeMap::new();
        if !sides.is_empty() {
            let names: Vec<String> = sides.iter().map(|s| s.chain()).collect();
            let dispatch = member_dispatch(names.iter().map(String::as_str));
            layout.chains.insert(dispatch.clone(), member_dispatch_rules(&sides));
            let to_dispatch: Arc<str> = dispatch.into();
            for f in [NFPROTO_IPV4, NFPROTO_IPV6] {
                families.insert(Element::one(Field::Num(f, f)), Verdict::Goto(to_dispatch.clone()));
            }
        }
        for (name, kind, entries) in [
            (FROM_POD, MapKind::Interface, from_pod),
            (TO_POD, MapKind::Interface, to_pod),
            (MEMBERS, MapKind::Family, families),
        ] {
            layout.maps.insert(name.to_string(), Map { kind, entries });
        }
        (layout, fills)
    }

    /// A set that membership fills: declared empty here, filled by `fill`
    /// or refilled from what the kernel holds.
    fn declare<'a>(&mut self, fill: Fill<'a>, fills: &mut Vec<Fill<'a>>) {
        self.sets.insert(fill.set.clone(), Set { kind: fill.kind(), elements: BTreeSet::new() });
        fills.push(fill);
    }

    /// One side: its chain, its three maps, and per cell a chain and sets.
    fn side<'a>(&mut self, side: Side, allowed: &'a Allowances, fills: &mut Vec<Fill<'a>>) {
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
            maps[map].2.insert(cell_element(key), Verdict::Goto(cell.as_str().into()));
            for (set, networks, v6) in cell_sets(&cell, peers) {
                if networks {
                    let elements = ranges(&peers.nets)
                        .into_iter()
                        .filter(|(lo, _)| lo.is_ipv6() == v6)
                        .map(|(lo, hi)| Element::one(Field::Addrs(lo, hi)))
                        .collect();
                    self.sets.insert(set, Set { kind: SetKind::Ranges { v6 }, elements });
                } else {
                    self.declare(Fill { set, v6, hosts: &peers.hosts }, fills);
                }
            }
            self.chains.insert(cell.clone(), cell_rules(side, &cell, peers));
        }
        for (name, kind, entries) in maps {
            self.maps.insert(name, Map { kind, entries });
        }
    }
}

/// A side chain of a rule set, for reading its counters and logs back:
/// whose rules it holds and its cell chains.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SideChain {
    pub chain: String,
    /// `egress` (pods' egress rules), `ingress` (pods' ingress rules) or
    /// `member-ingress` (external members' ingress, checked on their behalf).
    pub direction: &'static str,
    pub groups: Vec<SgId>,
    /// Cell chains and the packets each holds.
    pub cells: Vec<(String, CellKey)>,
}

/// Every side chain the table of `ruleset` has, in table order.
pub fn side_chains(ruleset: &NodeRuleset) -> Vec<SideChain> {
    let mut out = Vec::new();
    let mut add = |side: Side, direction: &'static str, groups: &[SgId], allowed: &Allowances| {
        let cells = allowed.cells.iter().map(|(key, peers)| (side.cell(key, peers), *key)).collect();
        out.push(SideChain { chain: side.chain(), direction, groups: groups.to_vec(), cells });
    };
    for (groups, p) in &ruleset.pods {
        if !p.egress.allows_everything() {
            add(Side::Egress(groups), "egress", groups, &p.egress);
        }
        add(Side::Ingress(groups), "ingress", groups, &p.ingress);
    }
    for (groups, policy) in &ruleset.members {
        add(Side::Members(groups), "member-ingress", groups, &policy.ingress);
    }
    out
}
