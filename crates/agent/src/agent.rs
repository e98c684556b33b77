//! The agent's work: CNI requests and the desired state's changes, over the
//! node's attachments, its address allocator, its view of the world and a
//! backend that enforces.

use crate::attachments::{Record, Store};
use crate::backend::{Backend, VethNft};
use crate::error::{Error, Result};
use crate::flows::{FlowLabels, LogDenied};
use crate::ipam::Allocator;
use crate::naming::host_interface;
use crate::node_view::NodeView;
use ipnet::{Ipv4Net, Ipv6Net};
use podsg_cni::agent_protocol::{Attachment, AttachmentRef, Request, Response};
use podsg_cni::result::CniResult;
use podsg_model::dataplane::NodeRuleset;
use podsg_model::group::SgId;
use podsg_model::settings::EnforcingMode;
use podsg_model::world::InputChange;
use podsg_nft::{Nft, SyncReport};
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct AgentConfig {
    pub node_name: String,
    /// The node's own address: the source of its traffic to pods, a member of the default groups.
    pub node_address: Ipv4Addr,
    /// The node's pod range, which pod addresses come from in standalone
    /// mode; `None` when the node has none (chained mode only).
    pub pod_cidr: Option<Ipv4Net>,
    /// The node's IPv6 pod range: pods are dual-stack when it is given.
    pub pod_cidr6: Option<Ipv6Net>,
    /// Attachments and the address allocator live here.
    pub state_dir: PathBuf,
    /// Overrides the ClusterConfig's enforcing mode.
    pub mode: Option<EnforcingMode>,
    /// The node's network namespace (a path), where the host ends of pod
    /// interfaces go; `None`: the agent's own.
    pub node_netns: Option<String>,
    /// Whose refused new connections are logged.
    pub log_denied: LogDenied,
}

pub struct Agent<B: Backend> {
    config: AgentConfig,
    /// The desired state, as the source last reported it.
    view: NodeView,
    /// Whether the source has reported everything once.
    synced: bool,
    /// Whether the view learned changes the backend does not have yet.
    unenforced: bool,
    backend: B,
    /// The pod address allocators (standalone mode): one per family the
    /// node has a range of, IPv4 first.
    ipam: Vec<Allocator>,
    store: Store,
}

impl<N: Nft> Agent<VethNft<N>> {
    /// The node backend: veths and the node's nftables, through `nft`.
    pub fn new(config: AgentConfig, nft: N) -> std::io::Result<Self> {
        let node_netns = config.node_netns.clone().unwrap_or_else(|| format!("/proc/{}/ns/net", std::process::id()));
        if config.pod_cidr6.is_some() {
            // Dual-stack pods: the node routes their IPv6 too.
            podsg_netns::wire::forward_ipv6(&node_netns).map_err(|e| std::io::Error::other(e.to_string()))?;
        }
        let backend = VethNft::new(nft, node_netns, config.node_address);
        Agent::with_backend(config, backend)
    }
}

impl<B: Backend> Agent<B> {
    pub fn with_backend(config: AgentConfig, backend: B) -> std::io::Result<Self> {
        let mut ipam = Vec::new();
        let allocator = |dir: &str, range: ipnet::IpNet| {
            Allocator::new(config.state_dir.join(dir), range, vec![IpAddr::V4(config.node_address)])
                .map_err(|e| std::io::Error::other(e.to_string()))
        };
        if let Some(range) = config.pod_cidr {
            ipam.push(allocator("ipam", range.into())?);
        }
        if let Some(range) = config.pod_cidr6 {
            ipam.push(allocator("ipam6", range.into())?);
        }
        let store = Store::new(config.state_dir.join("attachments"))?;
        let mut view = NodeView::new(&config.node_name, IpAddr::V4(config.node_address));
        for r in store.records() {
            view.set_local(&r.pod_namespace, &r.pod_name, Some(r.addresses.clone()));
        }
        Ok(Agent { config, view, synced: false, unenforced: false, backend, ipam, store })
    }

    /// Takes a batch of changes from the source and brings the kernel to
    /// the desired state; the first batch is everything the source holds.
    pub fn take(&mut self, batch: Vec<InputChange>) -> Result<SyncReport> {
        self.learn(batch);
        self.enforce()
    }

    /// Takes a batch into the view only: the source has more to bring
    /// (members it is fetching) before the kernel should change.
    pub fn learn(&mut self, batch: Vec<InputChange>) {
        let changes = self.view.take(batch);
        self.unenforced |= !changes.is_empty() || self.view.log_switched() || !self.synced;
    }

    /// Brings the kernel to what the view has learned.
    pub fn enforce(&mut self) -> Result<SyncReport> {
        if !self.unenforced {
            return Ok(SyncReport::InSync);
        }
        self.unenforced = false;
        self.synced = true;
        self.reconcile()
    }

    /// The groups whose members this node needs (see `Source::want_members`).
    pub fn wanted_groups(&self) -> BTreeSet<SgId> {
        self.view.wanted_groups()
    }

    /// Whether the desired state has pod `namespace/name`, and the kernel
    /// has everything learned so far (its peers included).
    pub fn knows_pod(&self, namespace: &str, name: &str) -> bool {
        !self.unenforced && self.view.has_pod(namespace, name)
    }

    /// Serves one CNI request; errors become CNI errors here, and only here.
    pub fn handle(&mut self, request: Request) -> Response {
        let result = match request {
            Request::Add(a) => self.add(&a).map(Some),
            Request::Del(a) => self.del(&a.container_id, &a.ifname).map(|_| None),
            Request::Check(a) => self.check(&a).map(|_| None),
            Request::Gc { valid } => self.gc(&valid).map(|_| None),
            Request::Status => self.backend.ready().map(|_| None),
        };
        match result {
            Ok(r) => Response::Ok(r),
            Err(e) => Response::Error(e.to_cni()),
        }
    }

    /// The rule set of every attachment against the current desired state.
    fn ruleset(&mut self) -> NodeRuleset {
        let records = self.store.records();
        self.view.ruleset(&records, self.config.mode, &self.config.log_denied)
    }

    /// Brings the enforcement to the desired state of every attachment.
    pub fn reconcile(&mut self) -> Result<SyncReport> {
        let ruleset = self.ruleset();
        self.backend.enforce(&ruleset)
    }

    /// What the dataplane's counters and refusal logs mean: derived from the
    /// rule set when asked (a scrape, a logged refusal), not on every
    /// reconcile, so that a CNI ADD does not pay for it.
    pub fn flow_labels(&mut self) -> FlowLabels {
        let ruleset = self.ruleset();
        FlowLabels::of(&ruleset, self.view.groups())
    }

    /// The dataplane's counters as Prometheus text, labelled.
    pub fn flow_metrics(&mut self) -> Result<String> {
        let counters = self.backend.counters()?;
        Ok(crate::flows::render(&self.flow_labels(), &counters))
    }

    /// Repairs changes made behind podsg's back: cheap unless something
    /// moved, or `full`.
    pub fn repair(&mut self, full: bool) -> Result<SyncReport> {
        let ruleset = self.ruleset();
        self.backend.repair(&ruleset, full)
    }

    fn add(&mut self, a: &Attachment) -> Result<CniResult> {
        let (Some(namespace), Some(name)) = (a.pod_namespace.clone(), a.pod_name.clone()) else {
            return Err(Error::PodNotNamed);
        };
        if let Some(existing) = self.store.get(&a.container_id, &a.ifname) {
            return Ok(self.backend.result(existing, a.prev_result.as_ref()));
        }
        // Resolve first: a pod whose groups cannot be resolved gets nothing at all.
        self.view.groups_of(&namespace, &name)?;
        let (host_interface, addresses, chained) = match &a.prev_result {
            Some(prev) => {
                let host = prev.host_interface().ok_or(Error::NoHostInterface)?;
                let addresses = prev
                    .ips
                    .iter()
                    .map(|ip| ip.address.parse::<ipnet::IpNet>().map(|n| n.addr()))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| Error::PrevResultAddress(e.to_string()))?;
                (host.name.clone(), addresses, true)
            }
            None => {
                let owner = Record::owner(&a.container_id, &a.ifname);
                if !self.ipam.first().is_some_and(|a| a.is_ipv4()) {
                    return Err(Error::NoPodRange);
                }
                let mut addresses = Vec::new();
                for allocator in &mut self.ipam {
                    let address = match a.requested_ip {
                        Some(wanted) if allocator.is_ipv4() => allocator.claim(&owner, IpAddr::V4(wanted)),
                        _ => allocator.allocate(&owner),
                    };
                    match address {
                        Ok(address) => addresses.push(address),
                        Err(e) => {
                            // Nothing half given: the other family's address goes back.
                            for allocator in &mut self.ipam {
                                let _ = allocator.release(&owner);
                            }
                            return Err(e.into());
                        }
                    }
                }
                (host_interface(&a.container_id, &a.ifname), addresses, false)
            }
        };
        let record = Record {
            container_id: a.container_id.clone(),
            ifname: a.ifname.clone(),
            netns: a.netns.clone(),
            pod_namespace: namespace,
            pod_name: name,
            host_interface,
            addresses,
            chained,
        };
        self.store.save(&record)?;
        self.view.set_local(&record.pod_namespace, &record.pod_name, Some(record.addresses.clone()));
        // Rules first (they match the interface by name, so they hold
        // before it exists), then the interface: the pod is never up
        // without its rules.
        let attached = self.reconcile().and_then(|_| self.backend.attach(&record));
        match attached {
            Ok(()) => Ok(self.backend.result(&record, a.prev_result.as_ref())),
            Err(e) => {
                // Leave nothing behind.
                let _ = self.del(&record.container_id, &record.ifname);
                Err(e)
            }
        }
    }

    /// Removes everything of an attachment; what is already gone is fine.
    fn del(&mut self, container_id: &str, ifname: &str) -> Result<()> {
        self.release(container_id, ifname)?;
        self.reconcile().map(|_| ())
    }

    /// Frees an attachment's interface, addresses and record (rules follow at
    /// the next reconcile).
    fn release(&mut self, container_id: &str, ifname: &str) -> Result<()> {
        let record = self.store.get(container_id, ifname).cloned();
        self.backend.detach(record.as_ref(), container_id, ifname)?;
        for allocator in &mut self.ipam {
            allocator.release(&Record::owner(container_id, ifname))?;
        }
        self.store.remove(container_id, ifname)?;
        if let Some(r) = record {
            // The pod's addresses are its other attachments', if any.
            let addresses = self.store.of_pod(&r.pod_namespace, &r.pod_name).next().map(|o| o.addresses.clone());
            self.view.set_local(&r.pod_namespace, &r.pod_name, addresses);
        }
        Ok(())
    }

    fn check(&mut self, a: &Attachment) -> Result<()> {
        let record = self.store.get(&a.container_id, &a.ifname).cloned().ok_or_else(|| Error::UnknownAttachment {
            container_id: a.container_id.clone(),
            ifname: a.ifname.clone(),
        })?;
        self.view.groups_of(&record.pod_namespace, &record.pod_name)?;
        let netns = a.netns.clone().or(record.netns.clone()).unwrap_or_default();
        let ruleset = self.ruleset();
        self.backend.check(&record, &netns, &ruleset)
    }

    /// Removes every attachment, address and interface no valid attachment owns.
    fn gc(&mut self, valid: &[AttachmentRef]) -> Result<()> {
        let is_valid = |cid: &str, ifname: &str| valid.iter().any(|v| v.container_id == cid && v.ifname == ifname);
        let stale: Vec<(String, String)> = self
            .store
            .records()
            .iter()
            .filter(|r| !is_valid(&r.container_id, &r.ifname))
            .map(|r| (r.container_id.clone(), r.ifname.clone()))
            .collect();
        for (container_id, ifname) in stale {
            self.release(&container_id, &ifname)?;
        }
        let owners: BTreeSet<String> =
            self.store.records().iter().map(|r| Record::owner(&r.container_id, &r.ifname)).collect();
        for allocator in &mut self.ipam {
            for (_, owner) in allocator.list()? {
                if !owners.contains(&owner) {
                    allocator.release(&owner)?;
                }
            }
        }
        self.backend.collect_garbage(&self.store.records())?;
        self.reconcile().map(|_| ())
    }
}
