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
    /// Every port (tcp, udp) or every type and code (icmp, icmpv6) of a
    /// protocol, as EC2 writes `-1`: allowed only by rules that open all of it.
    Every(Protocol),
}

impl Service {
    /// An ICMP echo reply: it never opens a connection; conntrack lets it
    /// through only as the reply to a tracked echo request the other way.
    pub fn only_a_reply(self) -> bool {
        matches!(self, Service::Icmp { v6: false, icmp_type: 0, .. } | Service::Icmp { v6: true, icmp_type: 129, .. })
    }

    pub fn protocol(self) -> Protocol {
        match self {
            Service::Every(p) => p,
            Service::Tcp(_) => Protocol::TCP,
            Service::Udp(_) => Protocol::UDP,
            Service::Icmp { v6: false, .. } => Protocol::ICMP,
            Service::Icmp { v6: true, .. } => Protocol::ICMPV6,
            Service::Other(n) => Protocol::Number(n),
        }
    }

    /// Builds a service from a protocol and a port (for ICMP: type, with
    /// `code`); port `-1` is every port (or type), as EC2 writes it.
    pub fn new(protocol: Protocol, port: Option<i64>, code: Option<i64>) -> Result<Service, String> {
        let byte = |v: i64, what: &str| u8::try_from(v).map_err(|_| format!("{what} must be 0-255, or -1 for all"));
        let every = port == Some(-1) && code.is_none_or(|c| c == -1);
        match protocol {
            Protocol::All => Err("a flow has one protocol; -1/all is only for rules".into()),
            Protocol::TCP | Protocol::UDP | Protocol::ICMP | Protocol::ICMPV6 if every => Ok(Service::Every(protocol)),
            Protocol::ICMP | Protocol::ICMPV6 if code == Some(-1) => {
                Err("an ICMP code of -1 (all) needs the type -1 too (--port -1), as in EC2".into())
            }
            Protocol::TCP | Protocol::UDP if code.is_some() => {
                Err(format!("an ICMP code is only for icmp and icmpv6, not {protocol}"))
            }
            Protocol::TCP | Protocol::UDP => {
                let port = port.ok_or_else(|| format!("{protocol} needs a port (1-65535)"))?;
                let port = u16::try_from(port).ok().filter(|p| *p > 0).ok_or("port must be 1-65535, or -1 for all")?;
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
            Service::Every(p) if p.is_icmp() => write!(f, "{p} all types"),
            Service::Every(p) => write!(f, "{p}/all ports"),
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
            // Port 0 is not a port a connection uses: 1-65535 is all of them.
            (Ports::Range { from, to }, Service::Every(_)) => from <= 1 && to == 65535,
            (Ports::Icmp { icmp_type, code }, Service::Every(_)) => icmp_type.is_none() && code.is_none(),
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
        assert_eq!(Service::new(Protocol::TCP, Some(-1), None), Ok(Service::Every(Protocol::TCP)));
        assert_eq!(Service::new(Protocol::ICMP, Some(-1), Some(-1)), Ok(Service::Every(Protocol::ICMP)));
        assert!(Service::new(Protocol::ICMP, Some(8), Some(-1)).is_err());
        assert!(Service::new(Protocol::TCP, Some(-2), None).is_err());
        assert_eq!(Service::Every(Protocol::TCP).to_string(), "tcp/all ports");
        assert_eq!(Service::Every(Protocol::ICMP).to_string(), "icmp all types");
    }

    #[test]
    fn every_port_is_covered_only_by_rules_that_open_all_of_it() {
        let all = Service::Every(Protocol::TCP);
        assert!(rule(Protocol::TCP, Ports::Range { from: 0, to: 65535 }).covers(all));
        assert!(rule(Protocol::TCP, Ports::Range { from: 1, to: 65535 }).covers(all));
        assert!(rule(Protocol::All, Ports::Any).covers(all));
        assert!(!rule(Protocol::TCP, Ports::Range { from: 80, to: 80 }).covers(all));
        assert!(!rule(Protocol::UDP, Ports::Range { from: 0, to: 65535 }).covers(all));
        let icmp = Service::Every(Protocol::ICMP);
        assert!(rule(Protocol::ICMP, Ports::Icmp { icmp_type: None, code: None }).covers(icmp));
        assert!(!rule(Protocol::ICMP, Ports::Icmp { icmp_type: Some(8), code: None }).covers(icmp));
        assert!(!icmp.only_a_reply());
    }
}
