//! A routed veth between a node namespace and a pod (or endpoint) namespace,
//! as podsg's CNI plugin builds it: the pod has its address as a /32 and a
//! default route via a link-local gateway; the node routes the /32 to the veth.

use crate::ip::Result;
use crate::namespace::Netns;
use std::net::Ipv4Addr;

/// The gateway every pod routes through (like Calico's).
pub const GATEWAY: Ipv4Addr = Ipv4Addr::new(169, 254, 1, 1);

/// Connects `pod` to `node`: `host_if` on the node side, `eth0` in the pod.
/// `node_address` is the node's own address, the source of its traffic to pods.
pub fn routed_veth(node: &Netns, pod: &Netns, host_if: &str, address: Ipv4Addr, node_address: Ipv4Addr) -> Result<()> {
    node.ip(&["link", "add", host_if, "type", "veth", "peer", "name", "eth0", "netns", pod.name()])?;
    let mac = mac_of(node, host_if)?;
    node.ip(&["link", "set", host_if, "up"])?;
    let addr = format!("{address}/32");
    pod.ip(&["addr", "add", &addr, "dev", "eth0"])?;
    pod.ip(&["link", "set", "eth0", "up"])?;
    let gw = GATEWAY.to_string();
    pod.ip(&["route", "add", &gw, "dev", "eth0", "scope", "link"])?;
    pod.ip(&["route", "add", "default", "via", &gw, "dev", "eth0"])?;
    // The pod never needs to ARP for the gateway: it is the node's veth.
    pod.ip(&["neigh", "replace", &gw, "lladdr", &mac, "dev", "eth0", "nud", "permanent"])?;
    node.ip(&["route", "replace", &addr, "dev", host_if, "scope", "link", "src", &node_address.to_string()])?;
    Ok(())
}

pub fn mac_of(ns: &Netns, interface: &str) -> Result<String> {
    let out = ns.ip(&["-o", "link", "show", interface])?;
    out.split_whitespace()
        .skip_while(|w| *w != "link/ether")
        .nth(1)
        .map(str::to_string)
        .ok_or_else(|| crate::ip::Error::Thread(format!("no MAC address on {interface}")))
}

/// Makes `ns` a router with an address of its own (on `lo`).
pub fn router(ns: &Netns, address: Ipv4Addr) -> Result<()> {
    ns.ip(&["addr", "add", &format!("{address}/32"), "dev", "lo"])?;
    ns.sysctl("net.ipv4.ip_forward", "1")?;
    Ok(())
}
