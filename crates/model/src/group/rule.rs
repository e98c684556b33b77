use super::{Protocol, SgId};
use ipnet::IpNet;
use serde::Serialize;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Ingress,
    Egress,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        })
    }
}

/// What part of a protocol a rule covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Ports {
    /// The whole protocol (`-1`, or protocols without ports).
    Any,
    /// TCP or UDP destination ports, inclusive.
    Range { from: u16, to: u16 },
    /// ICMP type and code; `None` is EC2's `-1`, any.
    Icmp { icmp_type: Option<u8>, code: Option<u8> },
}

/// Whom a rule allows: an address range, or every member of a group.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase", untagged)]
pub enum Peer {
    Cidr {
        cidr: IpNet,
        #[serde(skip_serializing_if = "Option::is_none")]
        description: Option<String>,
    },
    Group {
        #[serde(rename = "groupId")]
        id: SgId,
        #[serde(skip_serializing_if = "Option::is_none")]
        description: Option<String>,
    },
}

/// One EC2 IpPermission: a protocol, its ports, and the peers it allows.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Rule {
    pub protocol: Protocol,
    pub ports: Ports,
    pub peers: Vec<Peer>,
}

impl Rule {
    /// EC2's default egress rule: all traffic to every IPv4 and IPv6 address.
    pub fn default_egress() -> Rule {
        Rule {
            protocol: Protocol::All,
            ports: Ports::Any,
            peers: vec![
                Peer::Cidr { cidr: "0.0.0.0/0".parse().unwrap(), description: None },
                Peer::Cidr { cidr: "::/0".parse().unwrap(), description: None },
            ],
        }
    }

    /// The traffic part of the rule, e.g. `tcp 5432`, `udp 53-54`, `icmp type 8`, `all traffic`.
    pub fn traffic(&self) -> String {
        match (self.protocol, self.ports) {
            (Protocol::All, _) => "all traffic".to_string(),
            (p, Ports::Range { from: 0, to: 65535 }) => format!("{p} all ports"),
            (p, Ports::Range { from, to }) if from == to => format!("{p} {from}"),
            (p, Ports::Range { from, to }) => format!("{p} {from}-{to}"),
            (p, Ports::Icmp { icmp_type: None, .. }) => format!("{p} all types"),
            (p, Ports::Icmp { icmp_type: Some(t), code: None }) => format!("{p} type {t}"),
            (p, Ports::Icmp { icmp_type: Some(t), code: Some(c) }) => format!("{p} type {t} code {c}"),
            (p, Ports::Any) => format!("protocol {p}"),
        }
    }

    /// `tcp 5432 from sg-1, 10.0.0.0/16` (ingress) or `… to …` (egress).
    pub fn describe(&self, direction: Direction) -> String {
        let word = match direction {
            Direction::Ingress => "from",
            Direction::Egress => "to",
        };
        let peers: Vec<String> = self.peers.iter().map(Peer::to_string).collect();
        format!("{} {word} {}", self.traffic(), peers.join(", "))
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::Cidr { cidr, .. } => write!(f, "{cidr}"),
            Peer::Group { id, .. } => write!(f, "{id}"),
        }
    }
}
