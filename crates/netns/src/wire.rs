//! A routed veth between a node and a pod, as podsg's CNI plugin builds it:
//! the pod has its address as a /32 and a default route via a link-local
//! gateway that is the node's end of the veth (a permanent neighbour entry,
//! so the pod never ARPs for it); the node routes the /32 to the veth and
//! uses its own address as the source of what it sends to pods. A
//! dual-stack pod also has an IPv6 address as a /128 and a default route
//! via `fe80::1`, again a permanent neighbour, and the node a permanent
//! neighbour for the pod's address: no neighbour discovery either way.
//!
//! Namespaces are given by path (`/run/netns/NAME`, `/proc/PID/ns/net`), as
//! CNI gives them.

use crate::enter::{Anchor, ip_at, ip_batch_at, run_in};
use crate::ip::{Error, Result};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::process::Command;

/// The gateway every pod routes through (like Calico's).
pub const GATEWAY: Ipv4Addr = Ipv4Addr::new(169, 254, 1, 1);
/// The IPv6 gateway of dual-stack pods: a link-local address, the node's end.
pub const GATEWAY6: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);

/// What `attach` made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attached {
    pub host_mac: String,
    pub pod_mac: String,
}

/// Locally administered unicast MAC addresses for both ends, derived from
/// the host interface's name: known without asking the kernel.
pub fn macs(host_if: &str) -> Attached {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in host_if.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let b = h.to_be_bytes();
    let mac = |first: u8| format!("{first:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", b[3], b[4], b[5], b[6], b[7]);
    Attached { host_mac: mac(0x0e), pod_mac: mac(0x0a) }
}

/// A routed veth between a node and a pod, both namespaces by path.
#[derive(Clone, Copy, Debug)]
pub struct PodLink<'a> {
    pub node: &'a str,
    pub pod: &'a str,
    /// The interface's name in the pod (CNI_IFNAME).
    pub ifname: &'a str,
    /// The node's end.
    pub host_if: &'a str,
    /// The pod's address.
    pub address: Ipv4Addr,
    /// The node's own address: the source of what it sends to the pod.
    pub node_address: Ipv4Addr,
    /// The pod's IPv6 address, when it is dual-stack.
    pub address6: Option<Ipv6Addr>,
}

impl PodLink<'_> {
    /// Makes the link in three `ip` runs: the pair, the pod's end, the node's end.
    pub fn attach(&self) -> Result<Attached> {
        let attached = macs(self.host_if);
        let pod = Anchor::new(self.pod)?;
        let tid = pod.tid.to_string();
        let create = ["link", "add", self.host_if, "address", &attached.host_mac, "type", "veth", "peer", "name"];
        let peer = [self.ifname, "address", &attached.pod_mac, "netns", &tid];
        ip_at(self.node, &[&create[..], &peer[..]].concat())?;
        drop(pod);
        let result = self.configure(&attached);
        if result.is_err() {
            // Deleting one end deletes the pair.
            let _ = ip_at(self.node, &["link", "del", self.host_if]);
        }
        result.map(|_| attached)
    }

    fn configure(&self, macs: &Attached) -> Result<()> {
        let (gw, ifname, address) = (GATEWAY, self.ifname, self.address);
        let mut pod = vec![
            format!("addr add {address}/32 dev {ifname}"),
            format!("link set {ifname} up"),
            format!("route add {gw} dev {ifname} scope link"),
            format!("route add default via {gw} dev {ifname}"),
            // The pod never ARPs for the gateway: it is the node's end of the veth.
            format!("neigh replace {gw} lladdr {} dev {ifname} nud permanent", macs.host_mac),
        ];
        let host_if = self.host_if;
        let mut node = vec![
            format!("link set {host_if} up"),
            format!("route replace {address}/32 dev {host_if} scope link src {}", self.node_address),
        ];
        if let Some(a6) = self.address6 {
            pod.extend([
                format!("addr add {a6}/128 dev {ifname} nodad"),
                format!("neigh replace {GATEWAY6} lladdr {} dev {ifname} nud permanent", macs.host_mac),
                format!("route add default via {GATEWAY6} dev {ifname}"),
            ]);
            node.extend([
                format!("route replace {a6}/128 dev {host_if}"),
                format!("neigh replace {a6} lladdr {} dev {host_if} nud permanent", macs.pod_mac),
            ]);
        }
        ip_batch_at(self.pod, &pod)?;
        ip_batch_at(self.node, &node)
    }
}

/// Whether iproute2 said the link does not exist. A veth whose namespace
/// is being deleted vanishes asynchronously, so both wordings occur.
fn gone(stderr: &str) -> bool {
    stderr.contains("Cannot find device") || stderr.contains("No such device") || stderr.contains("does not exist")
}

/// Removes the node's end (and so the pair). Absent already: fine.
pub fn detach(node_path: &str, host_if: &str) -> Result<()> {
    match ip_at(node_path, &["link", "del", host_if]) {
        Err(Error::Ip { stderr, .. }) if gone(&stderr) => Ok(()),
        other => other.map(|_| ()),
    }
}

pub fn mac_at(path: &str, interface: &str) -> Result<String> {
    let out = ip_at(path, &["-o", "link", "show", interface])?;
    out.split_whitespace()
        .skip_while(|w| *w != "link/ether")
        .nth(1)
        .map(str::to_string)
        .ok_or_else(|| Error::Thread(format!("no MAC address on {interface}")))
}

/// The global addresses (IPv4 and IPv6, with their prefix lengths) on an
/// interface inside the namespace at `path`.
pub fn addresses_at(path: &str, interface: &str) -> Result<Vec<String>> {
    let out = ip_at(path, &["-o", "addr", "show", "dev", interface, "scope", "global"])?;
    Ok(out
        .lines()
        .filter_map(|l| l.split_whitespace().skip_while(|w| *w != "inet" && *w != "inet6").nth(1))
        .map(str::to_string)
        .collect())
}

/// Whether a link exists in the namespace at `path`.
pub fn link_exists(path: &str, interface: &str) -> Result<bool> {
    match ip_at(path, &["link", "show", interface]) {
        Ok(_) => Ok(true),
        Err(Error::Ip { stderr, .. }) if stderr.contains("does not exist") || stderr.contains("Cannot find device") => {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// Makes a namespace a router with an address of its own (on `lo`).
pub fn router(path: &str, address: Ipv4Addr) -> Result<()> {
    ip_at(path, &["addr", "add", &format!("{address}/32"), "dev", "lo"])?;
    sysctl_at(path, "net.ipv4.ip_forward=1")
}

/// Makes a namespace route IPv6 too (for dual-stack pods).
pub fn forward_ipv6(path: &str) -> Result<()> {
    sysctl_at(path, "net.ipv6.conf.all.forwarding=1")
}

fn sysctl_at(path: &str, setting: &str) -> Result<()> {
    let setting = setting.to_string();
    let out = run_in(path, move || Command::new("sysctl").args(["-qw", &setting]).output())?
        .map_err(|source| Error::Io { what: "sysctl".into(), source })?;
    if !out.status.success() {
        return Err(Error::Thread(format!("sysctl: {}", String::from_utf8_lossy(&out.stderr))));
    }
    Ok(())
}
