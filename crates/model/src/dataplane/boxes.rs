//! Rules -> disjoint boxes.
//!
//! A rule allows a box `protocols x ports x peers`. The union of many such
//! boxes overlaps, and the kernel's concatenated interval sets refuse
//! overlapping elements, so the union is re-cut: the protocol axis into
//! elementary intervals, each piece's port axis likewise, and each cell's
//! peers aggregated (a prefix covered by another is dropped, so the rest are
//! disjoint). Neighbouring pieces that allow the same are merged back.

use crate::group::{Direction, Peer, Ports, Protocol, Rule, SecurityGroup, SgId};
use ipnet::IpNet;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// Packets of these protocols and destination ports from/to these peers pass.
/// For protocols without ports the port range is the whole 0-65535 (the
/// dataplane reads the transport header's port field whatever it holds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct PortBox {
    pub protocols: (u8, u8),
    pub ports: (u16, u16),
    pub peer: IpNet,
}

/// ICMP (IPv4 peers) or ICMPv6 (IPv6 peers) messages of these types and codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct IcmpBox {
    pub types: (u8, u8),
    pub codes: (u8, u8),
    pub peer: IpNet,
}

/// Everything one side (an interface's egress or ingress) allows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Allowances {
    pub ports: BTreeSet<PortBox>,
    pub icmp: BTreeSet<IcmpBox>,
}

impl Allowances {
    /// Whether a packet falls in one of the boxes (what the kernel computes).
    pub fn allows(&self, protocol: u8, port: u16, icmp: Option<(u8, u8)>, peer: IpAddr) -> bool {
        let inside = |(lo, hi): (u8, u8), v: u8| lo <= v && v <= hi;
        if self
            .ports
            .iter()
            .any(|b| inside(b.protocols, protocol) && b.ports.0 <= port && port <= b.ports.1 && b.peer.contains(&peer))
        {
            return true;
        }
        match icmp {
            Some((t, c)) => {
                self.icmp.iter().any(|b| inside(b.types, t) && inside(b.codes, c) && b.peer.contains(&peer))
            }
            None => false,
        }
    }
}

/// A rule with its peers resolved to networks.
struct Resolved<'a> {
    rule: &'a Rule,
    peers: Vec<IpNet>,
}

/// The boxes that `groups`' rules in `direction` allow, group references
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
            let mut peers = Vec::new();
            for p in &rule.peers {
                match p {
                    Peer::Cidr { cidr, .. } => peers.push(*cidr),
                    Peer::Group { id, .. } => peers.extend(members(id).into_iter().map(IpNet::from)),
                }
            }
            if !peers.is_empty() {
                rules.push(Resolved { rule, peers });
            }
        }
    }
    let (icmp, ports): (Vec<Resolved>, Vec<Resolved>) = rules.into_iter().partition(|r| r.rule.protocol.is_icmp());
    Allowances { ports: port_boxes(&ports), icmp: icmp_boxes(&icmp) }
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

/// `(type, code)` spans of an ICMP rule; `None` is all.
fn icmp_spans(r: &Rule) -> ((u16, u16), (u16, u16)) {
    match r.ports {
        Ports::Icmp { icmp_type: Some(t), code: Some(c) } => ((t.into(), t.into()), (c.into(), c.into())),
        Ports::Icmp { icmp_type: Some(t), code: None } => ((t.into(), t.into()), (0, 255)),
        _ => ((0, 255), (0, 255)),
    }
}

/// Cuts `spans` (inclusive, within `0..=max`) into elementary pieces: every
/// piece lies wholly inside or wholly outside each span. Returns each piece
/// with the indices of the spans that cover it; uncovered pieces are left out.
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
/// (protocol, or ICMP type) and an `inner` span (port, or ICMP code), each
/// axis running from 0 to its max. Yields `(outer, inner, disjoint peers)`.
type Cell = ((u16, u16), (u16, u16), Vec<IpNet>);

fn cells(rules: &[&Resolved], outer: &[(u16, u16)], outer_max: u16, inner: &[(u16, u16)], inner_max: u16) -> Vec<Cell> {
    let outer_pieces: Vec<_> = pieces(outer, outer_max)
        .into_iter()
        .map(|(span, covering)| {
            let inner_spans: Vec<(u16, u16)> = covering.iter().map(|&i| inner[i]).collect();
            let inner_pieces = pieces(&inner_spans, inner_max)
                .into_iter()
                .map(|(ispan, icovering)| {
                    let nets: Vec<IpNet> =
                        icovering.iter().flat_map(|&j| rules[covering[j]].peers.iter().copied()).collect();
                    (ispan, IpNet::aggregate(&nets))
                })
                .collect();
            (span, merge(inner_pieces))
        })
        .collect();
    merge(outer_pieces)
        .into_iter()
        .flat_map(|(o, inners)| inners.into_iter().map(move |(i, nets)| (o, i, nets)))
        .collect()
}

fn port_boxes(rules: &[Resolved]) -> BTreeSet<PortBox> {
    let refs: Vec<&Resolved> = rules.iter().collect();
    let protocols: Vec<(u16, u16)> = rules.iter().map(|r| protocol_span(r.rule)).collect();
    let ports: Vec<(u16, u16)> = rules.iter().map(|r| port_span(r.rule)).collect();
    let mut out = BTreeSet::new();
    for (p, q, nets) in cells(&refs, &protocols, 255, &ports, 65535) {
        for peer in nets {
            out.insert(PortBox { protocols: (p.0 as u8, p.1 as u8), ports: q, peer });
        }
    }
    out
}

fn icmp_boxes(rules: &[Resolved]) -> BTreeSet<IcmpBox> {
    let mut out = BTreeSet::new();
    // ICMP carries IPv4 peers only, ICMPv6 IPv6 peers only.
    for (protocol, v6) in [(Protocol::ICMP, false), (Protocol::ICMPV6, true)] {
        let family: Vec<Resolved> = rules
            .iter()
            .filter(|r| r.rule.protocol == protocol)
            .map(|r| Resolved {
                rule: r.rule,
                peers: r.peers.iter().copied().filter(|n| matches!(n, IpNet::V6(_)) == v6).collect(),
            })
            .filter(|r| !r.peers.is_empty())
            .collect();
        let refs: Vec<&Resolved> = family.iter().collect();
        let (types, codes): (Vec<_>, Vec<_>) = family.iter().map(|r| icmp_spans(r.rule)).unzip();
        for (t, c, nets) in cells(&refs, &types, 255, &codes, 255) {
            for peer in nets {
                out.insert(IcmpBox { types: (t.0 as u8, t.1 as u8), codes: (c.0 as u8, c.1 as u8), peer });
            }
        }
    }
    out
}
