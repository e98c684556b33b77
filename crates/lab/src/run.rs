//! `podsg lab up | apply | status | exec | down`.

use crate::error::{Error, Result, io};
use crate::layout::{BRIDGE, PREFIX, UNDERLAY, external_netns, node_address, node_name, node_netns, pod_cidr, root};
use crate::pods::{self, Planned};
use crate::progress::Step;
use crate::services;
use crate::spec::{CheckKind, LabFiles};
use crate::state::{ExternalState, LabState, NodeState, PodState};
use podsg_model::catalog::Catalog;
use podsg_netns::{Netns, ip, ip_in};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Clone, Debug, Default)]
pub struct LabOptions {
    /// `apply`: cut established connections that the new rules no longer allow.
    pub revoke_established: bool,
}

pub struct Lab;

/// The checked manifests of a directory, or every error in it.
pub fn load(dir: &Path) -> Result<Catalog> {
    match podsg_manifests::load(&[dir.to_path_buf()]) {
        Ok((loaded, _)) => Ok(loaded.catalog),
        Err(problems) => {
            let errors: Vec<String> = problems.iter().filter(|d| d.is_error()).map(|d| format!("error: {d}")).collect();
            Err(Error::Manifests(format!("{}\nnothing was changed", errors.join("\n"))))
        }
    }
}

fn current() -> PathBuf {
    root().join("current")
}

/// Copies the manifests into a new snapshot and points `current` at it in
/// one rename, so that agents never read a half-copied or half-edited set.
fn snapshot(dir: &Path, generation: u64) -> Result<()> {
    let target = root().join("snapshots").join(generation.to_string());
    for file in podsg_manifests::files(&[dir.to_path_buf()]) {
        let relative = file.strip_prefix(dir).unwrap_or(&file);
        let dest = target.join(relative);
        std::fs::create_dir_all(dest.parent().expect("has a parent")).map_err(io(dest.display().to_string()))?;
        std::fs::copy(&file, &dest).map_err(io(file.display().to_string()))?;
    }
    let link = root().join(".current.tmp");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&target, &link).map_err(io("snapshot link"))?;
    std::fs::rename(&link, current()).map_err(io("snapshot link"))
}

/// Attaches a namespace to the underlay bridge with `address` as its own /32.
fn attach_underlay(netns: &str, port: &str, address: Ipv4Addr) -> Result<()> {
    ip_in(UNDERLAY, &["link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", netns])?;
    ip_in(UNDERLAY, &["link", "set", port, "master", BRIDGE, "up"])?;
    ip_in(netns, &["addr", "add", &format!("{address}/32"), "dev", "eth0"])?;
    ip_in(netns, &["link", "set", "eth0", "up"])?;
    Ok(())
}

fn onlink(netns: &str, peer: Ipv4Addr) -> Result<()> {
    ip_in(netns, &["route", "replace", &format!("{peer}/32"), "dev", "eth0", "scope", "link"])?;
    Ok(())
}

/// Named members and where they are: (address, names).
fn members(catalog: &Catalog) -> Result<Vec<(Ipv4Addr, Vec<String>)>> {
    let mut out: Vec<(Ipv4Addr, Vec<String>)> = Vec::new();
    for m in catalog.groups.values().flat_map(|g| &g.members) {
        let IpAddr::V4(a) = m.address else {
            return Err(Error::Manifests(format!("member {}: the lab runs IPv4 only", m.address)));
        };
        match out.iter_mut().find(|(x, _)| *x == a) {
            Some((_, names)) => names.extend(m.name.clone().filter(|n| !names.contains(n))),
            None => out.push((a, m.name.clone().into_iter().collect())),
        }
    }
    Ok(out)
}

fn wait_for(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) -> Result<()> {
    let start = Instant::now();
    while !ready() {
        if start.elapsed() > timeout {
            return Err(Error::Step(format!(
                "{what}: not ready after {}s; see {}",
                timeout.as_secs(),
                root().join("logs").display()
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// The kube-dns pods: `ClusterConfig` `clusterDNS`, else kube-system pods labelled `k8s-app: kube-dns`.
fn dns_pods<'a>(catalog: &Catalog, planned: &'a [Planned]) -> Vec<&'a Planned> {
    planned
        .iter()
        .filter(|p| {
            let owner_name = p
                .owner
                .as_deref()
                .and_then(|o| o.split_once('/'))
                .map(|(_, n)| n.to_string())
                .unwrap_or(p.name.clone());
            if catalog.settings.cluster_dns.is_empty() {
                p.namespace == "kube-system" && p.labels.get("k8s-app").map(String::as_str) == Some("kube-dns")
            } else {
                catalog.settings.cluster_dns.iter().any(|t| *t == format!("{}/{}", p.namespace, owner_name))
            }
        })
        .collect()
}

/// The running kube-dns pods.
fn dns_states(state: &LabState, catalog: &Catalog, planned: &[Planned]) -> Vec<PodState> {
    dns_pods(catalog, planned).iter().filter_map(|p| state.pod(&p.namespace, &p.name).cloned()).collect()
}

/// Every pod resolves names through the cluster DNS, when there is one.
fn resolve_through_dns(state: &LabState) -> Result<()> {
    if let Some(server) = state.dns {
        for p in &state.pods {
            services::write_resolv(&p.netns, server)?;
        }
    }
    Ok(())
}

impl Lab {
    pub fn up(dir: &Path) -> Result<()> {
        if let Some(state) = LabState::load()? {
            return Err(Error::Usage(format!(
                "a lab is already up (from {}): run podsg lab down first",
                state.source.display()
            )));
        }
        let catalog = load(dir)?;
        let files = LabFiles::read(dir)?;
        Lab::sweep()?;
        std::fs::create_dir_all(root()).map_err(io(root().display().to_string()))?;
        let mut state = LabState {
            source: dir.canonicalize().map_err(io(dir.display().to_string()))?,
            generation: 1,
            ..Default::default()
        };
        snapshot(dir, 1)?;
        state.save()?;
        let result = Lab::build(&mut state, &catalog, &files);
        state.save()?;
        result
    }

    fn build(state: &mut LabState, catalog: &Catalog, files: &LabFiles) -> Result<()> {
        let nodes = usize::from(files.spec.nodes.unwrap_or(2).max(1));
        let step = Step::start(format!("underlay, {nodes} nodes and the external members"));
        Netns::create(UNDERLAY)?.keep();
        ip_in(UNDERLAY, &["link", "add", BRIDGE, "type", "bridge"])?;
        ip_in(UNDERLAY, &["link", "set", BRIDGE, "up"])?;
        let mut hosts: Vec<(String, Ipv4Addr)> = Vec::new();
        for i in 1..=nodes {
            let ns = Netns::create(&node_netns(i))?;
            ns.sysctl("net.ipv4.ip_forward", "1")?;
            let ns = ns.keep();
            attach_underlay(&ns, &format!("ul{i}"), node_address(i))?;
            let sock = root().join("nodes").join(node_name(i)).join("agent.sock");
            state.nodes.push(NodeState {
                name: node_name(i),
                netns: ns.clone(),
                address: node_address(i),
                pod_cidr: pod_cidr(i).to_string(),
                socket: sock,
            });
            hosts.push((ns, node_address(i)));
        }
        for (k, (address, names)) in members(catalog)?.into_iter().enumerate() {
            if hosts.iter().any(|(_, a)| *a == address) {
                return Err(Error::Manifests(format!("member {address} has a lab node's address")));
            }
            let ns = Netns::create(&external_netns(address))?.keep();
            attach_underlay(&ns, &format!("ux{k}"), address)?;
            state.externals.push(ExternalState { address, names, netns: ns.clone() });
            hosts.push((ns, address));
        }
        for (ns, own) in &hosts {
            for (_, peer) in hosts.iter().filter(|(_, a)| a != own) {
                onlink(ns, *peer)?;
            }
            for n in state.nodes.iter().filter(|n| n.address != *own) {
                ip_in(ns, &["route", "replace", &n.pod_cidr, "via", &n.address.to_string(), "dev", "eth0", "onlink"])?;
            }
        }
        state.save()?;
        step.done();

        let step = Step::start("node agents");
        let exe = std::env::current_exe().map_err(io("current executable"))?.display().to_string();
        for (i, n) in state.nodes.clone().iter().enumerate() {
            let dir = root().join("nodes").join(&n.name);
            let args: Vec<String> = [
                "agent",
                "--node-name",
                &n.name,
                "--node-address",
                &n.address.to_string(),
                "--pod-cidr",
                &pod_cidr(i + 1).to_string(),
            ]
            .iter()
            .map(|s| s.to_string())
            .chain([
                "--state-dir".into(),
                dir.join("state").display().to_string(),
                "--socket".into(),
                n.socket.display().to_string(),
            ])
            .chain([
                "--manifests".into(),
                current().display().to_string(),
                "--manifests".into(),
                pods::cluster_dir().display().to_string(),
            ])
            .collect();
            std::fs::create_dir_all(pods::cluster_dir()).map_err(io("cluster"))?;
            pods::publish(&[], state)?;
            services::daemon(state, &n.netns, &format!("agent-{}", n.name), &exe, &args)?;
        }
        for n in &state.nodes {
            wait_for(&format!("agent on {}", n.name), Duration::from_secs(20), || n.socket.exists())?;
        }
        state.save()?;
        step.done();

        let planned = pods::plan(catalog, nodes)?;
        let step = Step::start(format!("{} pods, wired by the CNI plugin", planned.len()));
        Lab::add_pods(state, &planned)?;
        step.done();

        Lab::services(state, catalog, files, &planned)?;

        let step = Step::start("waiting for every node to enforce every pod's groups");
        Lab::converge(state)?;
        step.done();
        eprintln!(
            "lab: up: {} nodes, {} pods, {} external members; run podsg lab check {}",
            state.nodes.len(),
            state.pods.len(),
            state.externals.len(),
            state.source.display()
        );
        Ok(())
    }

    fn add_pods(state: &mut LabState, planned: &[Planned]) -> Result<()> {
        let new: Vec<PodState> = planned
            .iter()
            .filter(|p| !state.pods.iter().any(|s| s.namespace == p.namespace && s.name == p.name))
            .map(pods::new_pod)
            .collect();
        for p in &new {
            Netns::create(&p.netns)?.keep();
            state.pods.push(p.clone());
        }
        pods::publish(planned, state)?;
        state.save()?;
        // Pods with an address of their own first, so that no node hands it out before.
        let mut new = new;
        new.sort_by_key(|p| p.requested.is_none());
        for p in &new {
            let address = pods::add(state, p)?;
            if let Some(s) = state.pods.iter_mut().find(|s| s.container_id == p.container_id) {
                s.address = Some(address);
            }
            Lab::route(state, p.node, address, true)?;
            eprintln!("lab:   {}/{} on {} at {address}", p.namespace, p.name, node_name(p.node));
        }
        pods::publish(planned, state)?;
        state.save()
    }

    /// A pod address outside its node's pod range (one its manifest named)
    /// is routed to its node from every other node and external member.
    fn route(state: &LabState, node: usize, address: IpAddr, add: bool) -> Result<()> {
        let home = &state.nodes[node - 1];
        let in_range = home.pod_cidr.parse::<ipnet::IpNet>().is_ok_and(|r| r.contains(&address));
        if in_range {
            return Ok(());
        }
        let others = state.nodes.iter().filter(|n| n.name != home.name).map(|n| &n.netns);
        for ns in others.chain(state.externals.iter().map(|e| &e.netns)) {
            let prefix = format!("{address}/32");
            if add {
                ip_in(ns, &["route", "replace", &prefix, "via", &home.address.to_string(), "dev", "eth0", "onlink"])?;
            } else {
                let _ = ip_in(ns, &["route", "del", &prefix]);
            }
        }
        Ok(())
    }

    fn services(state: &mut LabState, catalog: &Catalog, files: &LabFiles, planned: &[Planned]) -> Result<()> {
        let step = Step::start("cluster DNS");
        let named: Vec<(String, IpAddr)> = state
            .externals
            .iter()
            .flat_map(|e| e.names.iter().map(move |n| (n.clone(), IpAddr::V4(e.address))))
            .collect();
        let hosts = services::write_hosts(&named)?;
        let dns = dns_states(state, catalog, planned);
        for p in &dns {
            services::start_dns(state, &p.netns, p.address.expect("added pods have addresses"), &hosts)?;
        }
        state.dns = dns.first().and_then(|p| p.address);
        resolve_through_dns(state)?;
        step.done();

        for pg in &files.spec.postgres {
            let Some(e) = state
                .externals
                .iter()
                .find(|e| e.names.contains(&pg.member) || e.address.to_string() == pg.member)
                .cloned()
            else {
                return Err(Error::Manifests(format!(
                    "LabSpec postgres member {}: no SecurityGroup member has this name or address",
                    pg.member
                )));
            };
            let step = Step::start(format!("PostgreSQL on {} ({})", pg.member, e.address));
            services::start_postgres(state, &e.netns, e.address, &pg.password, &pg.sql)?;
            step.done();
        }

        Lab::echo_servers(state, files, &dns)?;
        Ok(())
    }

    /// Echo servers for every connection the expectations probe, unless a real
    /// service (PostgreSQL, the DNS) answers there; each started once.
    fn echo_servers(state: &mut LabState, files: &LabFiles, dns: &[PodState]) -> Result<()> {
        let step = Step::start("echo servers for the expectations");
        for e in files.expectations.iter().filter(|e| e.check == CheckKind::Connect) {
            let (Some(port), protocol) = (e.port, e.protocol.as_deref().unwrap_or("tcp")) else { continue };
            let Some((netns, address)) = Lab::target(state, &e.to) else { continue };
            let serves_postgres = files.spec.postgres.iter().any(|pg| pg.member == e.to) && port == 5432;
            let serves_dns = dns.iter().any(|d| d.netns == netns) && port == 53;
            let udp = protocol == "udp";
            let what = services::echo_name(address, port, udp);
            if serves_postgres || serves_dns || state.processes.iter().any(|p| p.what == what) {
                continue;
            }
            services::start_echo(state, &netns, address, port, udp)?;
        }
        state.save()?;
        step.done();
        Ok(())
    }

    /// The namespace and address of a target: a pod or workload, a member name, or an address.
    pub fn target(state: &LabState, to: &str) -> Option<(String, IpAddr)> {
        if let Some(p) = state.pods_of(to).first() {
            return Some((p.netns.clone(), p.address?));
        }
        let ext = state.externals.iter().find(|e| e.names.iter().any(|n| n == to) || e.address.to_string() == to);
        if let Some(e) = ext {
            return Some((e.netns.clone(), IpAddr::V4(e.address)));
        }
        let ip: IpAddr = to.parse().ok()?;
        state.pods.iter().find(|p| p.address == Some(ip)).map(|p| (p.netns.clone(), ip))
    }

    /// Until every node's kernel enforces what its agent was asked (CNI CHECK passes everywhere).
    fn converge(state: &LabState) -> Result<()> {
        for p in &state.pods {
            let mut last = String::new();
            wait_for(&format!("{}/{} enforced", p.namespace, p.name), Duration::from_secs(20), || {
                match pods::cni(state, p, "CHECK") {
                    Ok(_) => true,
                    Err(e) => {
                        last = e.to_string();
                        false
                    }
                }
            })
            .map_err(|e| Error::Step(format!("{e} (last CHECK: {last})")))?;
        }
        Ok(())
    }

    pub fn apply(dir: &Path, options: &LabOptions) -> Result<()> {
        let mut state =
            LabState::load()?.ok_or_else(|| Error::Usage("no lab is up: run podsg lab up DIR first".into()))?;
        let catalog = load(dir)?;
        let files = LabFiles::read(dir)?;
        let planned = pods::plan(&catalog, state.nodes.len())?;
        let step = Step::start("applying the manifests");
        let gone: Vec<PodState> = state
            .pods
            .iter()
            .filter(|s| !planned.iter().any(|p| p.namespace == s.namespace && p.name == s.name))
            .cloned()
            .collect();
        for p in &gone {
            pods::cni(&state, p, "DEL")?;
            if let Some(a) = p.address {
                Lab::route(&state, p.node, a, false)?;
            }
            let _ = ip(&["netns", "del", &p.netns]);
            let _ = std::fs::remove_dir_all(PathBuf::from("/etc/netns").join(&p.netns));
            state.pods.retain(|s| s.container_id != p.container_id);
            eprintln!("lab:   removed {}/{}", p.namespace, p.name);
        }
        state.generation += 1;
        snapshot(dir, state.generation)?;
        state.source = dir.canonicalize().map_err(io(dir.display().to_string()))?;
        Lab::add_pods(&mut state, &planned)?;
        resolve_through_dns(&state)?;
        let dns = dns_states(&state, &catalog, &planned);
        Lab::echo_servers(&mut state, &files, &dns)?;
        step.done();
        let step = Step::start("waiting for every node to enforce the change");
        Lab::converge(&state)?;
        step.done();
        if options.revoke_established {
            let step = Step::start("cutting established connections the rules no longer allow");
            for n in &state.nodes {
                // Flushed connections are judged again by the rules at their next packet.
                let out = Netns::existing(&n.netns).exec("conntrack", &["-F"])?;
                if !out.status.success() {
                    return Err(Error::Step(format!(
                        "conntrack -F on {}: {}",
                        n.name,
                        String::from_utf8_lossy(&out.stderr)
                    )));
                }
            }
            step.done();
        }
        state.save()
    }

    pub fn status() -> Result<String> {
        let Some(state) = LabState::load()? else { return Ok("no lab is up\n".into()) };
        let alive = |pid: u32| PathBuf::from(format!("/proc/{pid}")).exists();
        let mut out =
            format!("lab from {} (manifests generation {})\n\nnodes:\n", state.source.display(), state.generation);
        for n in &state.nodes {
            let agent = state
                .processes
                .iter()
                .find(|p| p.what == format!("agent-{}", n.name))
                .map(|p| alive(p.pid))
                .unwrap_or(false);
            out.push_str(&format!(
                "  {:<8} {:<12} pods {:<16} agent {}\n",
                n.name,
                n.address,
                n.pod_cidr,
                if agent { "running" } else { "DOWN" }
            ));
        }
        out.push_str("\npods:\n");
        for p in &state.pods {
            let address = p.address.map(|a| a.to_string()).unwrap_or_else(|| "-".into());
            out.push_str(&format!(
                "  {:<36} {:<8} {:<14} {}\n",
                format!("{}/{}", p.namespace, p.name),
                node_name(p.node),
                address,
                p.owner.clone().unwrap_or_default()
            ));
        }
        out.push_str("\nexternal members:\n");
        for e in &state.externals {
            out.push_str(&format!("  {:<14} {}\n", e.address, e.names.join(", ")));
        }
        out.push_str(&format!(
            "\ncluster DNS: {}\nprocesses:\n",
            state.dns.map(|a| a.to_string()).unwrap_or_else(|| "none".into())
        ));
        for p in &state.processes {
            out.push_str(&format!(
                "  {:<8} {:<40} {}\n",
                p.pid,
                p.what,
                if alive(p.pid) { "running" } else { "exited" }
            ));
        }
        Ok(out)
    }

    /// Runs a command in a pod's (or member's, or node's) namespace.
    pub fn exec(target: &str, command: &[String]) -> Result<i32> {
        let state = LabState::load()?.ok_or_else(|| Error::Usage("no lab is up: run podsg lab up DIR first".into()))?;
        let netns = match state.pods_of(target).first() {
            Some(p) => p.netns.clone(),
            None => match (state.nodes.iter().find(|n| n.name == target), Lab::target(&state, target)) {
                (Some(n), _) => n.netns.clone(),
                (None, Some((netns, _))) => netns,
                (None, None) => {
                    return Err(Error::Usage(format!(
                        "{target}: no pod, workload, member or node of this name in the lab (podsg lab status lists them)"
                    )));
                }
            },
        };
        let (program, args) =
            command.split_first().ok_or_else(|| Error::Usage("a command is required after --".into()))?;
        let status = std::process::Command::new("ip")
            .args(["netns", "exec", &netns, program])
            .args(args)
            .status()
            .map_err(io(program.clone()))?;
        Ok(status.code().unwrap_or(1))
    }

    /// Removes everything the lab made, also when its state is lost.
    pub fn down() -> Result<()> {
        let step = Step::start("removing the lab");
        if let Some(state) = LabState::load().ok().flatten() {
            for p in &state.processes {
                let _ = std::process::Command::new("kill").arg(p.pid.to_string()).status();
            }
        }
        Lab::sweep()?;
        step.done();
        Ok(())
    }

    /// Kills what runs in the lab's namespaces, deletes them and the lab's files.
    fn sweep() -> Result<()> {
        let listing = ip(&["netns", "list"])?;
        let namespaces: Vec<String> = listing
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|n| n.starts_with(PREFIX))
            .map(String::from)
            .collect();
        for round in 0..2 {
            let mut left = false;
            for ns in &namespaces {
                let pids = ip(&["netns", "pids", ns]).unwrap_or_default();
                for pid in pids.split_whitespace() {
                    left = true;
                    let signal = if round == 0 { "-TERM" } else { "-KILL" };
                    let _ = std::process::Command::new("kill").args([signal, pid]).status();
                }
            }
            if left && round == 0 {
                std::thread::sleep(Duration::from_millis(500));
            }
        }
        for ns in &namespaces {
            ip(&["netns", "del", ns])?;
        }
        if let Ok(entries) = std::fs::read_dir("/etc/netns") {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().starts_with(PREFIX) {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        match std::fs::remove_dir_all(root()) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(root().display().to_string())(e)),
            _ => Ok(()),
        }
    }
}
