//! What a connection asks for: a protocol and its port, or ICMP type and code.

use crate::group::{Ports, Protocol, Rule};
use serde::{Serialize, Serializer};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    Tcp(u16),
    Udp(u16),
    Icmp {
        v6: bool,
        icmp_type: u8,
        code: u8,
    },
    /// Another IP protocol (by number); it has no ports.
    Other(u8),
}

impl Service {
    /// An ICMP echo reply: it never opens a connection; conntrack lets it
    /// through only as the reply to a tracked echo request the other way.
    pub fn only_a_reply(self) -> bool {
        matches!(self, Service::Icmp { v6: false, icmp_type: 0, .. } | Service::Icmp { v6: true, icmp_type: 129, .. })
    }

    pub fn protocol(self) -> Protocol {
        match self {
            Service::Tcp(_) => Protocol::TCP,
            Service::Udp(_) => Protocol::UDP,
            Service::Icmp { v6: false, .. } => Protocol::ICMP,
            Service::Icmp { v6: true, .. } => Protocol::ICMPV6,
            Service::Other(n) => Protocol::Number(n),
        }
    }

    /// Builds a service from a protocol and a port (for ICMP: type, with `code`).
    pub fn new(protocol: Protocol, port: Option<u32>, code: Option<u32>) -> Result<Service, String> {
        let byte = |v: u32, what: &str| u8::try_from(v).map_err(|_| format!("{what} must be 0-255"));
        match protocol {
            Protocol::All => Err("a flow has one protocol; -1/all is only for rules".into()),
            Protocol::TCP | Protocol::UDP if code.is_some() => {
                Err(format!("an ICMP code is only for icmp and icmpv6, not {protocol}"))
            }
            Protocol::TCP | Protocol::UDP => {
                let port = port.ok_or_else(|| format!("{protocol} needs a port (1-65535)"))?;
                let port = u16::try_from(port).ok().filter(|p| *p > 0).ok_or("port must be 1-65535")?;
                Ok(if protocol == Protocol::TCP { Service::Tcp(port) } else { Service::Udp(port) })
            }
            Protocol::ICMP | Protocol::ICMPV6 => Ok(Service::Icmp {
                v6: protocol == Protocol::ICMPV6,
                // Echo request, what ping sends, unless told otherwise.
                icmp_type: byte(port.unwrap_or(8), "ICMP type")?,
                code: byte(code.unwrap_or(0), "ICMP code")?,
            }),
            Protocol::Number(n) => match (port, code) {
                (Some(_), _) => Err(format!("protocol {n} has no ports; leave --port out")),
                (_, Some(_)) => Err(format!("an ICMP code is only for icmp and icmpv6, not protocol {n}")),
                (None, None) => Ok(Service::Other(n)),
            },
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Service::Tcp(p) => write!(f, "tcp/{p}"),
            Service::Udp(p) => write!(f, "udp/{p}"),
            Service::Icmp { v6, icmp_type, code } => {
                write!(f, "{} type {icmp_type} code {code}", if *v6 { "icmpv6" } else { "icmp" })
            }
            Service::Other(n) => write!(f, "protocol {n}"),
        }
    }
}

impl Serialize for Service {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Rule {
    /// Whether the rule's protocol and ports cover the service (peers aside).
    pub fn covers(&self, service: Service) -> bool {
        if self.protocol != Protocol::All && self.protocol != service.protocol() {
            return false;
        }
        match (self.ports, service) {
            (Ports::Any, _) => true,
            (Ports::Range { from, to }, Service::Tcp(p) | Service::Udp(p)) => (from..=to).contains(&p),
            (Ports::Icmp { icmp_type, code }, Service::Icmp { icmp_type: t, code: c, .. }) => {
                icmp_type.is_none_or(|x| x == t) && code.is_none_or(|x| x == c)
            }
            // A protocol match with ports of another kind cannot happen for
            // checked rules; refuse rather than allow.
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::Peer;

    fn rule(protocol: Protocol, ports: Ports) -> Rule {
        Rule { protocol, ports, peers: vec![Peer::Cidr { cidr: "0.0.0.0/0".parse().unwrap(), description: None }] }
    }

    #[test]
    fn coverage() {
        let tcp_range = rule(Protocol::TCP, Ports::Range { from: 5000, to: 6000 });
        assert!(tcp_range.covers(Service::Tcp(5432)));
        assert!(tcp_range.covers(Service::Tcp(5000)) && tcp_range.covers(Service::Tcp(6000)));
        assert!(!tcp_range.covers(Service::Tcp(4999)));
        assert!(!tcp_range.covers(Service::Udp(5432)), "tcp rule does not cover udp");
        let all = rule(Protocol::All, Ports::Any);
        assert!(all.covers(Service::Udp(53)) && all.covers(Service::Other(47)));
        let echo = rule(Protocol::ICMP, Ports::Icmp { icmp_type: Some(8), code: None });
        assert!(echo.covers(Service::Icmp { v6: false, icmp_type: 8, code: 0 }));
        assert!(!echo.covers(Service::Icmp { v6: false, icmp_type: 0, code: 0 }));
        assert!(!echo.covers(Service::Icmp { v6: true, icmp_type: 8, code: 0 }), "icmp is not icmpv6");
        let gre = rule(Protocol::Number(47), Ports::Any);
        assert!(gre.covers(Service::Other(47)) && !gre.covers(Service::Tcp(47)));
    }

    #[test]
    fn building() {
        assert_eq!(Service::new(Protocol::TCP, Some(5432), None), Ok(Service::Tcp(5432)));
        assert!(Service::new(Protocol::TCP, None, None).is_err());
        assert!(Service::new(Protocol::UDP, Some(70000), None).is_err());
        assert!(Service::new(Protocol::All, None, None).is_err());
        assert_eq!(Service::new(Protocol::ICMP, None, None), Ok(Service::Icmp { v6: false, icmp_type: 8, code: 0 }));
        assert!(Service::new(Protocol::Number(47), Some(1), None).is_err());
    }
}
