//! Names and addresses of the lab's pieces. Everything the lab makes starts
//! with `pglab-`, so that `lab down` can find it even after a crash.

use std::net::Ipv4Addr;
use std::path::PathBuf;

pub const PREFIX: &str = "pglab-";
pub const UNDERLAY: &str = "pglab-net";
pub const BRIDGE: &str = "br0";

/// Where the lab keeps its state (a tmpfs, like the namespaces it describes).
pub fn root() -> PathBuf {
    std::env::var_os("PODSG_LAB_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/run/podsg-lab"))
}

/// Where each node's agent serves its metrics, on the node's address.
pub const METRICS_PORT: u16 = 9842;

pub fn node_name(i: usize) -> String {
    format!("node{i}")
}

pub fn node_netns(i: usize) -> String {
    format!("{PREFIX}node{i}")
}

/// Nodes sit in the handbook's private subnet.
pub fn node_address(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 3, 10 + i as u8)
}

/// A node's IPv6 address: in the first /64 of the lab's IPv6 range.
pub fn node_address6(range: ipnet::Ipv6Net, i: usize) -> std::net::Ipv6Addr {
    let base = u128::from(range.network());
    std::net::Ipv6Addr::from(base + 10 + i as u128)
}

/// Node N's IPv6 pod range: the Nth /64 of the lab's IPv6 range.
pub fn pod_cidr6(range: ipnet::Ipv6Net, i: usize) -> ipnet::Ipv6Net {
    let base = u128::from(range.network());
    ipnet::Ipv6Net::new(std::net::Ipv6Addr::from(base + ((i as u128) << 64)), 64).expect("valid prefix")
}

pub fn pod_cidr(i: usize) -> ipnet::Ipv4Net {
    ipnet::Ipv4Net::new(Ipv4Addr::new(10, 244, i as u8, 0), 24).expect("valid prefix")
}

pub fn external_netns(address: Ipv4Addr) -> String {
    format!("{PREFIX}ext-{}", address.to_string().replace('.', "-"))
}

pub fn pod_netns(namespace: &str, name: &str) -> String {
    format!("{PREFIX}pod-{namespace}-{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_come_from_the_labs_range() {
        let range: ipnet::Ipv6Net = "fd00:10::/48".parse().unwrap();
        assert_eq!(node_address6(range, 1).to_string(), "fd00:10::b");
        assert_eq!(pod_cidr6(range, 1).to_string(), "fd00:10:0:1::/64");
        assert_eq!(pod_cidr6(range, 2).to_string(), "fd00:10:0:2::/64");
        assert!(!pod_cidr6(range, 1).contains(&node_address6(range, 1)), "the underlay /64 is apart");
        assert!(range.contains(&pod_cidr6(range, 200).network()));
    }
}
