//! The lab's kube-proxy: Service traffic translated on every node as
//! kube-proxy's nftables mode does it, in a table of its own.
//!
//! A packet to a cluster IP and Service port is DNATed in `prerouting` (from
//! pods) or `output` (from the node), at priority -100 (dstnat), to one ready backend picked at random,
//! before podsg's filter (hook `forward`, priority `filter`) sees it: the
//! backend's groups decide on the backend's own address and port, as on a
//! real cluster. A pod that reaches itself through its Service is
//! masqueraded (hairpin) after the filter judged it. A cluster IP on a port
//! without ready backends is refused with an ICMP error, as kube-proxy does.

use podsg_model::workload::L4Protocol;
use std::fmt::Write;
use std::net::Ipv4Addr;

pub const TABLE: &str = "podsg-lab-proxy";
/// The mark of connections to masquerade (kube-proxy's own bit).
const MASQUERADE_MARK: u32 = 0x4000;

/// One cluster IP and its ports' ready backends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proxied {
    /// `namespace/name`.
    pub service: String,
    pub ip: Ipv4Addr,
    pub ports: Vec<ProxiedPort>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxiedPort {
    pub protocol: L4Protocol,
    pub port: u16,
    /// Ready backends: address and port.
    pub backends: Vec<(Ipv4Addr, u16)>,
}

fn proto(p: L4Protocol) -> &'static str {
    match p {
        L4Protocol::Tcp => "tcp",
        L4Protocol::Udp => "udp",
        L4Protocol::Sctp => "sctp",
    }
}

/// Chain names: Kubernetes names have no `_`, so these are unique.
fn service_chain(service: &str, p: &ProxiedPort) -> String {
    format!("svc_{}_{}_{}", service.replace('/', "_"), proto(p.protocol), p.port)
}

/// The whole table, replacing the previous one in one transaction.
pub fn ruleset(services: &[Proxied]) -> String {
    let mut out = String::new();
    let t = TABLE;
    // Create-then-delete makes the delete succeed on the first run too.
    writeln!(out, "add table ip {t}\ndelete table ip {t}\ntable ip {t} {{").unwrap();
    let mut map = Vec::new();
    let mut ips = Vec::new();
    let mut chains = String::new();
    for s in services {
        ips.push(s.ip.to_string());
        for p in s.ports.iter().filter(|p| !p.backends.is_empty()) {
            let chain = service_chain(&s.service, p);
            map.push(format!("{} . {} . {} : goto {chain}", s.ip, proto(p.protocol), p.port));
            let picks: Vec<String> = (0..p.backends.len()).map(|i| format!("{i} : goto {chain}_ep{i}")).collect();
            writeln!(
                chains,
                "  chain {chain} {{\n    numgen random mod {} vmap {{ {} }}\n  }}",
                p.backends.len(),
                picks.join(", ")
            )
            .unwrap();
            for (i, (address, port)) in p.backends.iter().enumerate() {
                writeln!(
                    chains,
                    "  chain {chain}_ep{i} {{\n    ip saddr {address} meta mark set meta mark | {MASQUERADE_MARK:#x}\n    meta l4proto {} dnat to {address}:{port}\n  }}",
                    proto(p.protocol)
                )
                .unwrap();
            }
        }
    }
    let elements = |items: &[String]| {
        if items.is_empty() { String::new() } else { format!("\n    elements = {{ {} }}", items.join(", ")) }
    };
    writeln!(
        out,
        "  map services {{\n    type ipv4_addr . inet_proto . inet_service : verdict{}\n  }}",
        elements(&map)
    )
    .unwrap();
    writeln!(out, "  set cluster_ips {{\n    type ipv4_addr{}\n  }}", elements(&ips)).unwrap();
    for (name, hook) in [("prerouting", "prerouting"), ("output", "output")] {
        writeln!(
            out,
            "  chain nat_{name} {{\n    type nat hook {hook} priority -100; policy accept;\n    ip daddr . meta l4proto . th dport vmap @services\n  }}"
        )
        .unwrap();
    }
    writeln!(
        out,
        "  chain nat_postrouting {{\n    type nat hook postrouting priority 100; policy accept;\n    meta mark & {MASQUERADE_MARK:#x} == {MASQUERADE_MARK:#x} masquerade\n  }}"
    )
    .unwrap();
    // What is still addressed to a cluster IP here was not translated: a
    // port without ready backends, or one the Service does not have.
    for (name, hook) in [("forward", "forward"), ("output", "output")] {
        writeln!(
            out,
            "  chain filter_{name} {{\n    type filter hook {hook} priority -10; policy accept;\n    ip daddr @cluster_ips reject\n  }}"
        )
        .unwrap();
    }
    out.push_str(&chains);
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn each_port_picks_one_ready_backend_and_translates_to_its_port() {
        let text = ruleset(&[Proxied {
            service: "my-namespace/my-app".into(),
            ip: a("10.96.0.11"),
            ports: vec![
                ProxiedPort {
                    protocol: L4Protocol::Tcp,
                    port: 80,
                    backends: vec![(a("10.244.1.2"), 8080), (a("10.244.2.2"), 9090)],
                },
                ProxiedPort { protocol: L4Protocol::Udp, port: 53, backends: vec![] },
            ],
        }]);
        for expected in [
            "add table ip podsg-lab-proxy\ndelete table ip podsg-lab-proxy\ntable ip podsg-lab-proxy {",
            "elements = { 10.96.0.11 . tcp . 80 : goto svc_my-namespace_my-app_tcp_80 }",
            "numgen random mod 2 vmap { 0 : goto svc_my-namespace_my-app_tcp_80_ep0, 1 : goto svc_my-namespace_my-app_tcp_80_ep1 }",
            "ip saddr 10.244.2.2 meta mark set meta mark | 0x4000\n    meta l4proto tcp dnat to 10.244.2.2:9090",
            "type nat hook prerouting priority -100;",
            "type nat hook output priority -100;",
            "meta mark & 0x4000 == 0x4000 masquerade",
            "set cluster_ips {\n    type ipv4_addr\n    elements = { 10.96.0.11 }",
            "type filter hook forward priority -10; policy accept;\n    ip daddr @cluster_ips reject",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
        assert!(!text.contains("udp . 53"), "a port without backends is not translated:\n{text}");
    }

    #[test]
    fn no_services_is_an_empty_table() {
        let text = ruleset(&[]);
        assert!(
            text.contains("map services {\n    type ipv4_addr . inet_proto . inet_service : verdict\n  }"),
            "{text}"
        );
        assert!(!text.contains("elements"), "{text}");
    }
}
