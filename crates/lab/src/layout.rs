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

pub fn pod_cidr(i: usize) -> ipnet::Ipv4Net {
    ipnet::Ipv4Net::new(Ipv4Addr::new(10, 244, i as u8, 0), 24).expect("valid prefix")
}

pub fn external_netns(address: Ipv4Addr) -> String {
    format!("{PREFIX}ext-{}", address.to_string().replace('.', "-"))
}

pub fn pod_netns(namespace: &str, name: &str) -> String {
    format!("{PREFIX}pod-{namespace}-{name}")
}
