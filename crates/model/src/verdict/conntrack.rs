//! Stateful replies, modelled as the kernel does it: the first packet of a
//! connection is judged by the rules and, when allowed, tracked; later packets
//! of it in either direction pass as `established` without a rule. This is
//! the model the nftables dataplane implements with `ct state`.

use super::{Decision, Endpoint, Engine, Verdict};
use crate::flow::Service;
use std::collections::HashSet;

const ICMP_ECHO_REQUEST: u8 = 8;
const ICMP_ECHO_REPLY: u8 = 0;
const ICMPV6_ECHO_REQUEST: u8 = 128;
const ICMPV6_ECHO_REPLY: u8 = 129;

/// One packet between two endpoints.
#[derive(Clone, Copy, Debug)]
pub enum Packet {
    Tcp { sport: u16, dport: u16 },
    Udp { sport: u16, dport: u16 },
    Icmp { v6: bool, icmp_type: u8, code: u8, id: u16 },
    Other(u8),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PacketVerdict {
    /// Part of a tracked connection (either direction): passes.
    Established,
    /// First packet of a connection, judged by the rules.
    New(Box<Verdict>),
    /// A reply to nothing, such as an echo reply without a request: dropped.
    Invalid,
}

impl PacketVerdict {
    pub fn passes(&self) -> bool {
        match self {
            PacketVerdict::Established => true,
            PacketVerdict::New(v) => v.verdict == Decision::Allow,
            PacketVerdict::Invalid => false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Tuple {
    src: String,
    dst: String,
    protocol: u8,
    a: u16,
    b: u16,
}

impl Tuple {
    fn reversed(&self) -> Tuple {
        Tuple { src: self.dst.clone(), dst: self.src.clone(), protocol: self.protocol, a: self.b, b: self.a }
    }
}

/// The connection table of one (modelled) dataplane.
#[derive(Clone, Debug, Default)]
pub struct Conntrack {
    flows: HashSet<Tuple>,
}

impl Conntrack {
    pub fn new() -> Self {
        Self::default()
    }

    /// Judges one packet from `src` to `dst`, tracking it when it opens an
    /// allowed connection.
    pub fn packet(&mut self, engine: &Engine<'_>, src: &Endpoint, dst: &Endpoint, packet: Packet) -> PacketVerdict {
        let tuple = |protocol, a, b| Tuple { src: src.id.clone(), dst: dst.id.clone(), protocol, a, b };
        let (key, service) = match packet {
            Packet::Tcp { sport, dport } => (tuple(6, sport, dport), Service::Tcp(dport)),
            Packet::Udp { sport, dport } => (tuple(17, sport, dport), Service::Udp(dport)),
            Packet::Icmp { v6, icmp_type, code, id } => {
                let protocol = if v6 { 58 } else { 1 };
                let reply = if v6 { ICMPV6_ECHO_REPLY } else { ICMP_ECHO_REPLY };
                let request = if v6 { ICMPV6_ECHO_REQUEST } else { ICMP_ECHO_REQUEST };
                if icmp_type == reply {
                    // Only ever a reply: it belongs to the request going the other way.
                    let original = Tuple { src: dst.id.clone(), dst: src.id.clone(), protocol, a: id, b: 0 };
                    return if self.flows.contains(&original) {
                        PacketVerdict::Established
                    } else {
                        PacketVerdict::Invalid
                    };
                }
                let key = if icmp_type == request {
                    tuple(protocol, id, 0)
                } else {
                    tuple(protocol, u16::from(icmp_type), 0)
                };
                (key, Service::Icmp { v6, icmp_type, code })
            }
            Packet::Other(n) => (tuple(n, 0, 0), Service::Other(n)),
        };
        if self.flows.contains(&key) || self.flows.contains(&key.reversed()) {
            return PacketVerdict::Established;
        }
        let verdict = engine.verdict(src, dst, service);
        if verdict.verdict == Decision::Allow {
            self.flows.insert(key);
        }
        PacketVerdict::New(Box::new(verdict))
    }
}
