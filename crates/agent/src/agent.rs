//! The agent's work: CNI requests and reconciliation, over the node's
//! attachments, its address allocator, its desired state and its dataplane.

use crate::attachments::{Record, Store};
use crate::error::Error;
use crate::ipam::{Allocator, IpamError};
use crate::node_view::NodeView;
use ipnet::Ipv4Net;
use podsg_cni::agent_protocol::{Attachment, AttachmentRef, Request, Response};
use podsg_cni::error::{CniError, Code};
use podsg_cni::result::{CniResult, Interface, IpConfig, Route};
use podsg_model::dataplane::NodeRuleset;
use podsg_model::group::SgId;
use podsg_model::settings::EnforcingMode;
use podsg_model::world::InputChange;
use podsg_netns::wire::{self, GATEWAY};
use podsg_nft::{Dataplane, Nft, SyncReport};
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
    /// Attachments and the address allocator live here.
    pub state_dir: PathBuf,
    /// Overrides the ClusterConfig's enforcing mode.
    pub mode: Option<EnforcingMode>,
    /// The node's network namespace (a path), where the host ends of pod
    /// interfaces go; `None`: the agent's own.
    pub node_netns: Option<String>,
}

pub struct Agent<N: Nft> {
    config: AgentConfig,
    /// The desired state, as the source last reported it.
    view: NodeView,
    /// Whether the source has reported everything once.
    synced: bool,
    /// Whether the view learned changes the kernel does not have yet.
    unenforced: bool,
    dataplane: Dataplane<N>,
    /// The pod address allocator (standalone mode), when the node has a range.
    ipam: Option<Allocator>,
    store: Store,
    /// The node's network namespace, where host ends of pod interfaces live.
    node_netns: String,
}

fn err(code: Code, msg: impl Into<String>, details: impl Into<String>) -> CniError {
    CniError::new(code, msg, details)
}

fn io(e: std::io::Error) -> CniError {
    err(Code::Io, "agent state I/O failed", e.to_string())
}

fn ipam(e: IpamError) -> CniError {
    match e {
        IpamError::Exhausted(range) => {
            err(Code::AddressesExhausted, "no free pod address", format!("the node's pod range {range} is full"))
        }
        e @ (IpamError::Taken { .. } | IpamError::Unusable { .. }) => {
            err(Code::InvalidConfig, "the requested address cannot be given", e.to_string())
        }
        other => err(Code::Io, "address allocation failed", other.to_string()),
    }
}

fn dataplane(e: podsg_nft::Error) -> CniError {
    err(Code::Dataplane, "the dataplane could not be programmed", e.to_string())
}

fn wiring(e: podsg_netns::Error) -> CniError {
    err(Code::Io, "the pod interface could not be set up", e.to_string())
}

/// The node's end of a pod interface: `pg` and 11 hex digits of a hash of
/// the attachment, so that DEL finds it even without a record.
pub fn host_interface(container_id: &str, ifname: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in container_id.bytes().chain([b'/']).chain(ifname.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("pg{:011x}", h & 0xfff_ffff_ffff)
}

/// Why a pod gets no network, as a CNI error.
fn unresolved(e: Error) -> CniError {
    err(Code::GroupsUnresolved, e.to_string(), e.consequence())
}

/// Whether a link name is one `host_interface` makes.
fn is_host_interface(name: &str) -> bool {
    name.len() == 13 && name.starts_with("pg") && name[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

impl<N: Nft> Agent<N> {
    pub fn new(config: AgentConfig, nft: N) -> std::io::Result<Self> {
        let ipam = config
            .pod_cidr
            .map(|range| Allocator::new(config.state_dir.join("ipam"), range, vec![config.node_address]))
            .transpose()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let store = Store::new(config.state_dir.join("attachments"))?;
        let node_netns = config.node_netns.clone().unwrap_or_else(|| format!("/proc/{}/ns/net", std::process::id()));
        let mut view = NodeView::new(&config.node_name, IpAddr::V4(config.node_address));
        for r in store.all()? {
            view.set_local(&r.pod_namespace, &r.pod_name, Some(r.addresses.clone()));
        }
        Ok(Agent {
            config,
            view,
            synced: false,
            unenforced: false,
            dataplane: Dataplane::new(nft),
            ipam,
            store,
            node_netns,
        })
    }

    /// Takes a batch of changes from the source and brings the kernel to
    /// the desired state; the first batch is everything the source holds.
    pub fn take(&mut self, batch: Vec<InputChange>) -> Result<SyncReport, CniError> {
        self.learn(batch);
        self.enforce()
    }

    /// Takes a batch into the view only: the source has more to bring
    /// (members it is fetching) before the kernel should change.
    pub fn learn(&mut self, batch: Vec<InputChange>) {
        let changes = self.view.take(batch);
        self.unenforced |= !changes.is_empty() || !self.synced;
    }

    /// Brings the kernel to what the view has learned.
    pub fn enforce(&mut self) -> Result<SyncReport, CniError> {
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

    pub fn handle(&mut self, request: Request) -> Response {
        let result = match request {
            Request::Add(a) => self.add(&a).map(Some),
            Request::Del(a) => self.del(&a.container_id, &a.ifname).map(|_| None),
            Request::Check(a) => self.check(&a).map(|_| None),
            Request::Gc { valid } => self.gc(&valid).map(|_| None),
            Request::Status => self.status().map(|_| None),
        };
        match result {
            Ok(r) => Response::Ok(r),
            Err(e) => Response::Error(e),
        }
    }

    /// The rule set for these records against the current desired state.
    fn ruleset(&self, records: &[Record]) -> NodeRuleset {
        self.view.ruleset(records, self.config.mode)
    }

    /// Brings the kernel to the desired state of every attachment.
    pub fn reconcile(&mut self) -> Result<SyncReport, CniError> {
        let ruleset = self.desired_ruleset()?;
        self.dataplane.sync(&ruleset).map_err(dataplane)
    }

    /// Repairs changes made behind podsg's back: checks the kernel's
    /// nf_tables generation (cheap) and reads the table back only when it
    /// moved, or always with `full`.
    pub fn repair(&mut self, full: bool) -> Result<SyncReport, CniError> {
        if !full && self.dataplane.unchanged() {
            return Ok(SyncReport::InSync);
        }
        let ruleset = self.desired_ruleset()?;
        self.dataplane.full_repair(&ruleset).map_err(dataplane)
    }

    /// The rule set of every attachment against the current desired state.
    fn desired_ruleset(&mut self) -> Result<NodeRuleset, CniError> {
        let records = self.store.all().map_err(io)?;
        Ok(self.ruleset(&records))
    }

    fn add(&mut self, a: &Attachment) -> Result<CniResult, CniError> {
        let (Some(namespace), Some(name)) = (a.pod_namespace.clone(), a.pod_name.clone()) else {
            return Err(err(
                Code::InvalidEnvironment,
                "CNI_ARGS must name the pod",
                "K8S_POD_NAMESPACE and K8S_POD_NAME are required",
            ));
        };
        if let Some(existing) = self.store.get(&a.container_id, &a.ifname).map_err(io)? {
            return self.result(&existing, a.prev_result.as_ref());
        }
        // Resolve first: a pod whose groups cannot be resolved gets nothing at all.
        self.view.groups_of(&namespace, &name).map_err(unresolved)?;
        let owner = Record::owner(&a.container_id, &a.ifname);
        let (host_interface, addresses, chained) = match &a.prev_result {
            Some(prev) => {
                let host = prev.host_interface().ok_or_else(|| {
                    err(
                        Code::InvalidConfig,
                        "prevResult has no host-side interface",
                        "chained mode needs the previous plugin's host interface (one without a sandbox)",
                    )
                })?;
                let addresses = prev
                    .ips
                    .iter()
                    .map(|ip| ip.address.parse::<ipnet::IpNet>().map(|n| n.addr()))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| err(Code::Decode, "prevResult has an invalid address", e.to_string()))?;
                (host.name.clone(), addresses, true)
            }
            None => {
                let allocator = self.ipam.as_mut().ok_or_else(|| {
                    err(
                        Code::InvalidConfig,
                        "this node has no pod address range",
                        "standalone mode gives pods addresses from the agent's --pod-cidr or the Node's spec.podCIDR; \
                         set one, or chain podsg after the cluster's CNI",
                    )
                })?;
                let address = match a.requested_ip {
                    Some(wanted) => allocator.claim(&owner, wanted),
                    None => allocator.allocate(&owner),
                }
                .map_err(ipam)?;
                (host_interface(&a.container_id, &a.ifname), vec![IpAddr::V4(address)], false)
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
        self.store.save(&record).map_err(io)?;
        self.view.set_local(&record.pod_namespace, &record.pod_name, Some(record.addresses.clone()));
        match self.enforce_then_wire(&record) {
            Ok(()) => self.result(&record, a.prev_result.as_ref()),
            Err(e) => {
                // Leave nothing behind.
                let _ = self.del(&record.container_id, &record.ifname);
                Err(e)
            }
        }
    }

    /// Rules first (they match the interface by name, so they hold before it
    /// exists), then the interface: the pod is never up without its rules.
    fn enforce_then_wire(&mut self, record: &Record) -> Result<(), CniError> {
        let records = self.store.all().map_err(io)?;
        let ruleset = self.ruleset(&records);
        self.dataplane.sync(&ruleset).map_err(dataplane)?;
        if record.chained {
            return Ok(());
        }
        let netns = record
            .netns
            .as_deref()
            .ok_or_else(|| err(Code::InvalidEnvironment, "CNI_NETNS is not set", "ADD needs it"))?;
        let IpAddr::V4(address) = record.addresses[0] else { unreachable!("the allocator hands out IPv4") };
        let link = wire::PodLink {
            node: &self.node_netns,
            pod: netns,
            ifname: &record.ifname,
            host_if: &record.host_interface,
            address,
            node_address: self.config.node_address,
        };
        link.attach().map_err(wiring)?;
        Ok(())
    }

    fn result(&self, r: &Record, prev: Option<&CniResult>) -> Result<CniResult, CniError> {
        // Interfaces get their MAC addresses from their names (see `wire::macs`).
        if r.chained {
            return Ok(prev.cloned().unwrap_or_default());
        }
        let netns = r.netns.clone().unwrap_or_default();
        let wire::Attached { host_mac, pod_mac } = wire::macs(&r.host_interface);
        Ok(CniResult {
            cni_version: String::new(),
            interfaces: vec![
                Interface { name: r.host_interface.clone(), mac: host_mac, sandbox: String::new() },
                Interface { name: r.ifname.clone(), mac: pod_mac, sandbox: netns },
            ],
            ips: r
                .addresses
                .iter()
                .map(|a| IpConfig { address: format!("{a}/32"), gateway: GATEWAY.to_string(), interface: Some(1) })
                .collect(),
            routes: vec![Route { dst: "0.0.0.0/0".into(), gw: GATEWAY.to_string() }],
            dns: serde_json::Value::Object(Default::default()),
        })
    }

    /// Removes everything of an attachment; what is already gone is fine.
    fn del(&mut self, container_id: &str, ifname: &str) -> Result<(), CniError> {
        self.release(container_id, ifname)?;
        self.reconcile().map(|_| ())
    }

    /// Frees an attachment's interface, addresses and record (rules follow at
    /// the next reconcile).
    fn release(&mut self, container_id: &str, ifname: &str) -> Result<(), CniError> {
        let record = self.store.get(container_id, ifname).map_err(io)?;
        let chained = record.as_ref().is_some_and(|r| r.chained);
        if !chained {
            let host = record
                .as_ref()
                .map(|r| r.host_interface.clone())
                .unwrap_or_else(|| host_interface(container_id, ifname));
            wire::detach(&self.node_netns, &host).map_err(wiring)?;
        }
        if let Some(allocator) = &mut self.ipam {
            allocator.release(&Record::owner(container_id, ifname)).map_err(ipam)?;
        }
        self.store.remove(container_id, ifname).map_err(io)?;
        if let Some(r) = record {
            // The pod's addresses are its other attachments', if any.
            let addresses = self.store.of_pod(&r.pod_namespace, &r.pod_name).next().map(|o| o.addresses.clone());
            self.view.set_local(&r.pod_namespace, &r.pod_name, addresses);
        }
        Ok(())
    }

    fn check(&mut self, a: &Attachment) -> Result<(), CniError> {
        let record = self.store.get(&a.container_id, &a.ifname).map_err(io)?.ok_or_else(|| {
            err(
                Code::UnknownContainer,
                "no podsg attachment for this container",
                format!("{} on {}", a.container_id, a.ifname),
            )
        })?;
        let records = self.store.all().map_err(io)?;
        self.view.groups_of(&record.pod_namespace, &record.pod_name).map_err(unresolved)?;
        if !record.chained {
            if !wire::link_exists(&self.node_netns, &record.host_interface).map_err(wiring)? {
                return Err(err(
                    Code::Io,
                    "the pod's interface is missing",
                    format!("host interface {}", record.host_interface),
                ));
            }
            let netns = a.netns.clone().or(record.netns.clone()).unwrap_or_default();
            let have = wire::addresses_at(&netns, &a.ifname).map_err(wiring)?;
            for address in &record.addresses {
                if !have.contains(&format!("{address}/32")) {
                    return Err(err(
                        Code::Io,
                        "the pod's address is missing",
                        format!("{address}/32 on {} (has {})", a.ifname, have.join(", ")),
                    ));
                }
            }
        }
        let drift = self.dataplane.check(&self.ruleset(&records)).map_err(dataplane)?;
        if !drift.is_empty() {
            let what: Vec<String> = drift.iter().map(ToString::to_string).collect();
            return Err(err(Code::Dataplane, "the pod's rules are not all in place", what.join("; ")));
        }
        Ok(())
    }

    /// Removes every attachment, address and interface no valid attachment owns.
    fn gc(&mut self, valid: &[AttachmentRef]) -> Result<(), CniError> {
        let is_valid = |cid: &str, ifname: &str| valid.iter().any(|v| v.container_id == cid && v.ifname == ifname);
        for r in self.store.all().map_err(io)? {
            if !is_valid(&r.container_id, &r.ifname) {
                self.release(&r.container_id, &r.ifname)?;
            }
        }
        let records = self.store.all().map_err(io)?;
        let owners: Vec<String> = records.iter().map(|r| Record::owner(&r.container_id, &r.ifname)).collect();
        if let Some(allocator) = &mut self.ipam {
            for (_, owner) in allocator.list().map_err(ipam)? {
                if !owners.contains(&owner) {
                    allocator.release(&owner).map_err(ipam)?;
                }
            }
        }
        let links = podsg_netns::wire::ip_at(&self.node_netns, &["-o", "link", "show"]).map_err(wiring)?;
        for name in links
            .lines()
            .filter_map(|l| l.split(':').nth(1))
            .map(|n| n.trim().split('@').next().unwrap_or("").to_string())
        {
            if is_host_interface(&name) && !records.iter().any(|r| r.host_interface == name) {
                wire::detach(&self.node_netns, &name).map_err(wiring)?;
            }
        }
        self.reconcile().map(|_| ())
    }

    fn status(&mut self) -> Result<(), CniError> {
        self.dataplane.ready().map_err(|e| err(Code::NotAvailable, "the dataplane cannot be reached", e.to_string()))
    }
}
