//! Rules -> disjoint cells.
//!
//! A rule allows `protocols x ports x peers` (or, for ICMP, `types x codes x
//! peers`). The dataplane finds a packet's cell with one lookup on
//! `(protocol, port)` or `(type, code)` and then the peer with one lookup in
//! that cell's address sets, so that neither a new connection nor an update
//! costs more with more peers, rules or members.
//!
//! Cells are cut from the rules alone, never from their peers: a membership
//! change only changes the addresses inside cells, which the dataplane does
//! with element updates. The protocol axis is cut into elementary intervals
//! at every rule's bounds, each piece's port axis likewise, and neighbouring
//! pieces covered by the same rules are merged back.
//!
//! An ICMP (or ICMPv6) packet is looked up by type and code first: where
//! rules for that ICMP version exist, they cut ICMP cells, which rules for
//! all protocols join as "any type, any code", so an ICMP cell decides alone.
//! An ICMP packet in no ICMP cell meets only the rules for all protocols,
//! which is what its port cell (protocol 1 or 58) holds.

use crate::group::{Direction, Peer, Ports, Protocol, Rule, SecurityGroup, SgId};
use ipnet::IpNet;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

const ICMP: u8 = 1;
const ICMPV6: u8 = 58;

/// Which packets a cell holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum CellKey {
    /// Non-ICMP packets of these protocols to these destination ports. For
    /// protocols without ports the range is the whole 0-65535 (the dataplane
    /// reads the transport header's port field whatever it holds).
    Ports { protocols: (u8, u8), ports: (u16, u16) },
    /// ICMP (`v6: false`) or ICMPv6 messages of these types and codes.
    Icmp { v6: bool, types: (u8, u8), codes: (u8, u8) },
}

/// The peers a cell allows: group members as single addresses (changing
/// with membership), CIDRs from the rules as aggregated, disjoint networks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Peers {
    /// Some rule of the cell names a group: the cell has sets of members,
    /// even while they are empty (so that membership never changes structure).
    pub groups: bool,
    pub hosts: BTreeSet<IpAddr>,
    pub nets: Vec<IpNet>,
}

impl Peers {
    pub fn contains(&self, peer: IpAddr) -> bool {
        self.hosts.contains(&peer) || self.nets.iter().any(|n| n.contains(&peer))
    }

    /// Whether the cell needs a set of networks of this family (IPv6 or not).
    pub fn has_nets(&self, v6: bool) -> bool {
        self.nets.iter().any(|n| n.addr().is_ipv6() == v6)
    }
}

/// Everything one side (an interface's egress or ingress, or an external
/// member's ingress) allows: disjoint port cells and, per ICMP version,
/// disjoint ICMP cells, each with its peers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Allowances {
    pub cells: BTreeMap<CellKey, Peers>,
}

impl Allowances {
    /// Whether a packet passes (what the kernel computes): its one cell, then
    /// its peer. `icmp` is the type and code of an ICMP or ICMPv6 packet.
    pub fn allows(&self, protocol: u8, port: u16, icmp: Option<(u8, u8)>, peer: IpAddr) -> bool {
        let inside = |(lo, hi): (u8, u8), v: u8| lo <= v && v <= hi;
        let icmp_cell = icmp.and_then(|(t, c)| {
            self.cells.iter().find(|(key, _)| match **key {
                CellKey::Icmp { v6, types, codes } => {
                    protocol == if v6 { ICMPV6 } else { ICMP } && inside(types, t) && inside(codes, c)
                }
                CellKey::Ports { .. } => false,
            })
        });
        let found = icmp_cell.or_else(|| {
            self.cells.iter().find(|(key, _)| match **key {
                CellKey::Ports { protocols, ports } => {
                    inside(protocols, protocol) && ports.0 <= port && port <= ports.1
                }
                CellKey::Icmp { .. } => false,
            })
        });
        found.is_some_and(|(_, peers)| peers.contains(peer))
    }

    /// Whether every packet from or to every peer passes (EC2's default
    /// egress rule): then the dataplane need not look at all.
    pub fn allows_everything(&self) -> bool {
        let everywhere = |p: &Peers| {
            p.nets.iter().any(|n| n.prefix_len() == 0 && n.addr().is_ipv4())
                && p.nets.iter().any(|n| n.prefix_len() == 0 && n.addr().is_ipv6())
        };
        let all = CellKey::Ports { protocols: (0, 255), ports: (0, 65535) };
        self.cells.len() == 1 && self.cells.get(&all).is_some_and(everywhere)
    }
}

/// A rule with its peers resolved.
struct Resolved<'a> {
    rule: &'a Rule,
    groups: bool,
    hosts: Vec<IpAddr>,
    nets: Vec<IpNet>,
}

/// The cells that `groups`' rules in `direction` allow, group references
/// resolved through `members` (the known addresses of each group).
pub fn allowances(
    groups: &[SgId],
    all: &BTreeMap<SgId, SecurityGroup>,
    direction: Direction,
    members: &dyn Fn(&SgId) -> BTreeSet<IpAddr>,
) -> Allowances {
    let mut rules = Vec::new();
    // A group that does not exist allows nothing (fail closed).
    for g in groups.iter().filter_map(|id| all.get(id)) {
        for rule in g.rules(direction) {
            let mut r = Resolved { rule, groups: false, hosts: Vec::new(), nets: Vec::new() };
            for p in &rule.peers {
                match p {
                    Peer::Cidr { cidr, .. } => r.nets.push(*cidr),
                    Peer::Group { id, .. } => {
                        r.groups = true;
                        r.hosts.extend(members(id));
                    }
                }
            }
            if !rule.peers.is_empty() {
                rules.push(r);
            }
        }
    }
    let mut cells = BTreeMap::new();
    port_cells(&rules, &mut cells);
    icmp_cells(&rules, false, &mut cells);
    icmp_cells(&rules, true, &mut cells);
    Allowances { cells }
}

/// The inclusive interval a rule covers on the protocol axis.
fn protocol_span(r: &Rule) -> (u16, u16) {
    match r.protocol {
        Protocol::All => (0, 255),
        Protocol::Number(n) => (u16::from(n), u16::from(n)),
    }
}

fn port_span(r: &Rule) -> (u16, u16) {
    match r.ports {
        Ports::Range { from, to } => (from, to),
        _ => (0, 65535),
    }
}

/// `(type, code)` spans of an ICMP rule; a rule for all protocols covers
/// every type and code.
fn icmp_spans(r: &Rule) -> ((u16, u16), (u16, u16)) {
    match r.ports {
        Ports::Icmp { icmp_type: Some(t), code: Some(c) } => ((t.into(), t.into()), (c.into(), c.into())),
        Ports::Icmp { icmp_type: Some(t), code: None } => ((t.into(), t.into()), (0, 255)),
        _ => ((0, 255), (0, 255)),
    }
}

/// Cuts `spans` (inclusive, within `0..=max`) into elementary pieces: every
/// piece lies wholly inside or wholly outside each span. Returns each covered
/// piece with the indices of the spans covering it.
fn pieces(spans: &[(u16, u16)], max: u16) -> Vec<((u16, u16), Vec<usize>)> {
    let mut cuts: BTreeSet<u32> = BTreeSet::new();
    for &(lo, hi) in spans {
        cuts.insert(u32::from(lo));
        cuts.insert(u32::from(hi) + 1);
    }
    cuts.insert(u32::from(max) + 1);
    let cuts: Vec<u32> = cuts.into_iter().collect();
    let mut out = Vec::new();
    for w in cuts.windows(2) {
        let (lo, hi) = (w[0] as u16, (w[1] - 1) as u16);
        let covering: Vec<usize> =
            spans.iter().enumerate().filter(|(_, (a, b))| *a <= lo && hi <= *b).map(|(i, _)| i).collect();
        if !covering.is_empty() {
            out.push(((lo, hi), covering));
        }
    }
    out
}

/// Merges neighbouring pieces that carry the same content.
fn merge<T: PartialEq>(pieces: Vec<((u16, u16), T)>) -> Vec<((u16, u16), T)> {
    let mut out: Vec<((u16, u16), T)> = Vec::new();
    for (span, content) in pieces {
        if let Some((last, prev)) = out.last_mut()
            && u32::from(last.1) + 1 == u32::from(span.0)
            && *prev == content
        {
            last.1 = span.1;
            continue;
        }
        out.push((span, content));
    }
    out
}

/// Two-axis decomposition shared by ports and ICMP: per rule an `outer` span
/// (protocol, or ICMP type) and an `inner` span (port, or ICMP code). Yields
/// `(outer, inner, indices of the covering rules)`; pieces merge only when
/// the same rules cover them, so peers play no part in the structure.
type Cell = ((u16, u16), (u16, u16), Vec<usize>);

fn cut(outer: &[(u16, u16)], outer_max: u16, inner: &[(u16, u16)], inner_max: u16) -> Vec<Cell> {
    let outer_pieces: Vec<_> = pieces(outer, outer_max)
        .into_iter()
        .map(|(span, covering)| {
            let inner_spans: Vec<(u16, u16)> = covering.iter().map(|&i| inner[i]).collect();
            let inner_pieces: Vec<_> = pieces(&inner_spans, inner_max)
                .into_iter()
                .map(|(ispan, icovering)| (ispan, icovering.iter().map(|&j| covering[j]).collect::<Vec<usize>>()))
                .collect();
            (span, merge(inner_pieces))
        })
        .collect();
    merge(outer_pieces)
        .into_iter()
        .flat_map(|(o, inners)| inners.into_iter().map(move |(i, rules)| (o, i, rules)))
        .collect()
}

/// The peers of the rules `covering`, keeping only one address family when
/// `family` says so (`Some(v6)`), for ICMP rules of one IP version.
fn peers_of(rules: &[&Resolved], covering: &[usize], family: impl Fn(&Resolved, bool) -> bool) -> Peers {
    let mut peers = Peers::default();
    let mut hosts = Vec::new();
    let mut nets = Vec::new();
    for &i in covering {
        let r = rules[i];
        peers.groups |= r.groups;
        hosts.extend(r.hosts.iter().copied().filter(|a| family(r, a.is_ipv6())));
        nets.extend(r.nets.iter().copied().filter(|n| family(r, n.addr().is_ipv6())));
    }
    // Sorted first, the set is built in one pass rather than by 100,000 inserts.
    hosts.sort_unstable();
    hosts.dedup();
    peers.hosts = hosts.into_iter().collect();
    peers.nets = IpNet::aggregate(&nets);
    peers
}

fn port_cells(rules: &[Resolved], out: &mut BTreeMap<CellKey, Peers>) {
    let refs: Vec<&Resolved> = rules.iter().filter(|r| !r.rule.protocol.is_icmp()).collect();
    let protocols: Vec<(u16, u16)> = refs.iter().map(|r| protocol_span(r.rule)).collect();
    let ports: Vec<(u16, u16)> = refs.iter().map(|r| port_span(r.rule)).collect();
    for (p, q, covering) in cut(&protocols, 255, &ports, 65535) {
        let key = CellKey::Ports { protocols: (p.0 as u8, p.1 as u8), ports: q };
        out.insert(key, peers_of(&refs, &covering, |_, _| true));
    }
}

fn icmp_cells(rules: &[Resolved], v6: bool, out: &mut BTreeMap<CellKey, Peers>) {
    let protocol = if v6 { Protocol::ICMPV6 } else { Protocol::ICMP };
    // Without rules for this ICMP version its packets meet their port cell.
    if !rules.iter().any(|r| r.rule.protocol == protocol) {
        return;
    }
    // ICMP rules carry their own family's peers; rules for all protocols all.
    let refs: Vec<&Resolved> =
        rules.iter().filter(|r| r.rule.protocol == protocol || r.rule.protocol == Protocol::All).collect();
    let (types, codes): (Vec<_>, Vec<_>) = refs.iter().map(|r| icmp_spans(r.rule)).unzip();
    for (t, c, covering) in cut(&types, 255, &codes, 255) {
        let peers = peers_of(&refs, &covering, |r, peer_v6| r.rule.protocol == Protocol::All || peer_v6 == v6);
        let key = CellKey::Icmp { v6, types: (t.0 as u8, t.1 as u8), codes: (c.0 as u8, c.1 as u8) };
        out.insert(key, peers);
    }
}
