//! The node backend: pods' rules in the node's nftables table, matched by
//! the pod's interface on the node: a routed veth podsg makes
//! (standalone), or the previous plugin's host interface (chained).

use super::Backend;
use crate::attachments::Record;
use crate::error::{Error, Result};
use crate::naming::is_host_interface;
use podsg_cni::result::{CniResult, Interface, IpConfig, Route};
use podsg_model::dataplane::NodeRuleset;
use podsg_netns::wire::{self, GATEWAY, GATEWAY6};
use podsg_nft::{Dataplane, Nft, SyncReport};
use std::net::{IpAddr, Ipv4Addr};

pub struct VethNft<N: Nft> {
    dataplane: Dataplane<N>,
    /// The node's network namespace (a path), where host ends live.
    node_netns: String,
    /// The node's own address: the source of its traffic to pods.
    node_address: Ipv4Addr,
}

impl<N: Nft> VethNft<N> {
    pub fn new(nft: N, node_netns: String, node_address: Ipv4Addr) -> VethNft<N> {
        VethNft { dataplane: Dataplane::new(nft), node_netns, node_address }
    }
}

impl<N: Nft> Backend for VethNft<N> {
    fn attach(&mut self, record: &Record) -> Result<()> {
        if record.chained {
            return Ok(());
        }
        let netns = record.netns.as_deref().ok_or(Error::NoNetns)?;
        let v4 = record.addresses.iter().find_map(|a| match a {
            IpAddr::V4(a) => Some(*a),
            IpAddr::V6(_) => None,
        });
        let address6 = record.addresses.iter().find_map(|a| match a {
            IpAddr::V6(a) => Some(*a),
            IpAddr::V4(_) => None,
        });
        let address = v4.ok_or(Error::NoPodRange)?;
        let link = wire::PodLink {
            node: &self.node_netns,
            pod: netns,
            ifname: &record.ifname,
            host_if: &record.host_interface,
            address,
            node_address: self.node_address,
            address6,
        };
        link.attach()?;
        Ok(())
    }

    fn detach(&mut self, record: Option<&Record>, container_id: &str, ifname: &str) -> Result<()> {
        if record.is_some_and(|r| r.chained) {
            return Ok(());
        }
        let host = record
            .map(|r| r.host_interface.clone())
            .unwrap_or_else(|| crate::naming::host_interface(container_id, ifname));
        Ok(wire::detach(&self.node_netns, &host)?)
    }

    fn enforce(&mut self, ruleset: &NodeRuleset) -> Result<SyncReport> {
        Ok(self.dataplane.sync(ruleset)?)
    }

    fn repair(&mut self, ruleset: &NodeRuleset, full: bool) -> Result<SyncReport> {
        if !full && self.dataplane.unchanged() {
            return Ok(SyncReport::InSync);
        }
        Ok(self.dataplane.full_repair(ruleset)?)
    }

    fn check(&mut self, record: &Record, netns: &str, ruleset: &NodeRuleset) -> Result<()> {
        if !record.chained {
            if !wire::link_exists(&self.node_netns, &record.host_interface)? {
                return Err(Error::InterfaceMissing { host_interface: record.host_interface.clone() });
            }
            let have = wire::addresses_at(netns, &record.ifname)?;
            for address in &record.addresses {
                let prefix = if address.is_ipv6() { 128 } else { 32 };
                if !have.contains(&format!("{address}/{prefix}")) {
                    return Err(Error::AddressMissing {
                        address: address.to_string(),
                        ifname: record.ifname.clone(),
                        have,
                    });
                }
            }
        }
        let drift = self.dataplane.check(ruleset)?;
        if !drift.is_empty() {
            return Err(Error::Drift(drift.iter().map(ToString::to_string).collect()));
        }
        Ok(())
    }

    fn result(&self, r: &Record, prev: Option<&CniResult>) -> CniResult {
        if r.chained {
            return prev.cloned().unwrap_or_default();
        }
        // Interfaces get their MAC addresses from their names (`wire::macs`),
        // so a repeated ADD answers the same without asking the kernel.
        let netns = r.netns.clone().unwrap_or_default();
        let wire::Attached { host_mac, pod_mac } = wire::macs(&r.host_interface);
        CniResult {
            cni_version: String::new(),
            interfaces: vec![
                Interface { name: r.host_interface.clone(), mac: host_mac, sandbox: String::new() },
                Interface { name: r.ifname.clone(), mac: pod_mac, sandbox: netns },
            ],
            ips: r
                .addresses
                .iter()
                .map(|a| match a {
                    IpAddr::V4(_) => {
                        IpConfig { address: format!("{a}/32"), gateway: GATEWAY.to_string(), interface: Some(1) }
                    }
                    IpAddr::V6(_) => {
                        IpConfig { address: format!("{a}/128"), gateway: GATEWAY6.to_string(), interface: Some(1) }
                    }
                })
                .collect(),
            routes: std::iter::once(Route { dst: "0.0.0.0/0".into(), gw: GATEWAY.to_string() })
                .chain(
                    r.addresses
                        .iter()
                        .any(IpAddr::is_ipv6)
                        .then(|| Route { dst: "::/0".into(), gw: GATEWAY6.to_string() }),
                )
                .collect(),
            dns: serde_json::Value::Object(Default::default()),
        }
    }

    fn collect_garbage(&mut self, records: &[&Record]) -> Result<()> {
        let owned: std::collections::HashSet<&str> = records.iter().map(|r| r.host_interface.as_str()).collect();
        let links = podsg_netns::enter::ip_at(&self.node_netns, &["-o", "link", "show"])?;
        for name in links
            .lines()
            .filter_map(|l| l.split(':').nth(1))
            .map(|n| n.trim().split('@').next().unwrap_or("").to_string())
        {
            if is_host_interface(&name) && !owned.contains(name.as_str()) {
                wire::detach(&self.node_netns, &name)?;
            }
        }
        Ok(())
    }

    fn ready(&self) -> Result<()> {
        self.dataplane.ready().map_err(|e| Error::NotAvailable(e.to_string()))
    }

    fn counters(&self) -> Result<podsg_nft::Counters> {
        self.dataplane.counters().map_err(|e| Error::NotAvailable(e.to_string()))
    }
}
