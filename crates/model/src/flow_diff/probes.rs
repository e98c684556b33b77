//! The services a pair of endpoints is probed on: the verdict of a flow
//! changes only where a rule of the groups involved starts or ends, so one
//! port per stretch between those boundaries stands for the whole stretch.

use crate::flow::Service;
use crate::group::{Ports, Protocol, Rule};
use std::collections::BTreeSet;

/// A probe: the service checked, and for TCP/UDP the last port of the
/// stretch it stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Probe {
    pub service: ServiceKey,
    pub last_port: u16,
}

/// `Service` with an order, for stable output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ServiceKey {
    Tcp(u16),
    Udp(u16),
    Icmp { v6: bool, icmp_type: u8, code: u8 },
    Other(u8),
}

impl ServiceKey {
    pub fn service(self) -> Service {
        match self {
            ServiceKey::Tcp(p) => Service::Tcp(p),
            ServiceKey::Udp(p) => Service::Udp(p),
            ServiceKey::Icmp { v6, icmp_type, code } => Service::Icmp { v6, icmp_type, code },
            ServiceKey::Other(n) => Service::Other(n),
        }
    }
}

/// Every stretch of ports and every ICMP type and protocol that `rules`
/// mention. A rule for all protocols mentions TCP, UDP and ICMP echo.
pub fn probes<'a>(rules: impl Iterator<Item = &'a Rule>) -> Vec<Probe> {
    let mut tcp: BTreeSet<u32> = BTreeSet::new();
    let mut udp: BTreeSet<u32> = BTreeSet::new();
    let mut others: BTreeSet<ServiceKey> = BTreeSet::new();
    let bounds = |set: &mut BTreeSet<u32>, from: u16, to: u16| {
        set.insert(u32::from(from.max(1)));
        set.insert(u32::from(to) + 1);
    };
    for r in rules {
        match (r.protocol, r.ports) {
            (Protocol::All, _) => {
                bounds(&mut tcp, 1, 65535);
                bounds(&mut udp, 1, 65535);
                others.insert(ServiceKey::Icmp { v6: false, icmp_type: 8, code: 0 });
                others.insert(ServiceKey::Icmp { v6: true, icmp_type: 128, code: 0 });
            }
            (Protocol::TCP, Ports::Range { from, to }) => bounds(&mut tcp, from, to),
            (Protocol::UDP, Ports::Range { from, to }) => bounds(&mut udp, from, to),
            (Protocol::TCP, _) => bounds(&mut tcp, 1, 65535),
            (Protocol::UDP, _) => bounds(&mut udp, 1, 65535),
            (p @ (Protocol::ICMP | Protocol::ICMPV6), ports) => {
                let v6 = p == Protocol::ICMPV6;
                let echo = if v6 { 128 } else { 8 };
                let (icmp_type, code) = match ports {
                    Ports::Icmp { icmp_type, code } => (icmp_type.unwrap_or(echo), code.unwrap_or(0)),
                    _ => (echo, 0),
                };
                others.insert(ServiceKey::Icmp { v6, icmp_type, code });
            }
            (Protocol::Number(n), _) => {
                others.insert(ServiceKey::Other(n));
            }
        }
    }
    let stretches = |set: &BTreeSet<u32>, make: fn(u16) -> ServiceKey| -> Vec<Probe> {
        let points: Vec<u32> = set.iter().copied().filter(|p| *p <= 65536).collect();
        points.windows(2).map(|w| Probe { service: make(w[0] as u16), last_port: (w[1] - 1) as u16 }).collect()
    };
    let mut out = stretches(&tcp, ServiceKey::Tcp);
    out.extend(stretches(&udp, ServiceKey::Udp));
    out.extend(others.into_iter().map(|service| Probe { service, last_port: 0 }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::Peer;

    fn rule(protocol: Protocol, ports: Ports) -> Rule {
        Rule { protocol, ports, peers: vec![Peer::Cidr { cidr: "0.0.0.0/0".parse().unwrap(), description: None }] }
    }

    fn shown(p: &[Probe]) -> Vec<String> {
        p.iter()
            .map(|p| match p.service {
                ServiceKey::Tcp(a) => format!("tcp {a}-{}", p.last_port),
                ServiceKey::Udp(a) => format!("udp {a}-{}", p.last_port),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn overlapping_ranges_cut_the_ports_at_every_boundary() {
        let rules = [
            rule(Protocol::TCP, Ports::Range { from: 80, to: 90 }),
            rule(Protocol::TCP, Ports::Range { from: 85, to: 85 }),
            rule(Protocol::UDP, Ports::Range { from: 53, to: 53 }),
            rule(Protocol::ICMP, Ports::Icmp { icmp_type: Some(3), code: None }),
            rule(Protocol::Number(47), Ports::Any),
        ];
        assert_eq!(
            shown(&probes(rules.iter())),
            [
                "tcp 80-84",
                "tcp 85-85",
                "tcp 86-90",
                "udp 53-53",
                "Icmp { v6: false, icmp_type: 3, code: 0 }",
                "Other(47)"
            ]
        );
    }

    #[test]
    fn all_traffic_and_whole_protocols_reach_the_last_port() {
        let rules = [rule(Protocol::All, Ports::Any), rule(Protocol::TCP, Ports::Range { from: 0, to: 22 })];
        assert_eq!(
            shown(&probes(rules.iter())),
            [
                "tcp 1-22",
                "tcp 23-65535",
                "udp 1-65535",
                "Icmp { v6: false, icmp_type: 8, code: 0 }",
                "Icmp { v6: true, icmp_type: 128, code: 0 }"
            ]
        );
        assert!(probes([].iter()).is_empty());
    }
}
