use super::down::sweep;
use super::*;

pub fn up(dir: &Path) -> Result<()> {
    if let Some(state) = LabState::load()? {
        return Err(Error::Usage(format!(
            "a lab is already up (from {}): run podsg lab down first",
            state.source.display()
        )));
    }
    let catalog = load(dir)?;
    let files = LabFiles::read(dir)?;
    sweep()?;
    std::fs::create_dir_all(root()).map_err(io(root().display().to_string()))?;
    let mut state = LabState {
        source: dir.canonicalize().map_err(io(dir.display().to_string()))?,
        generation: 1,
        ..Default::default()
    };
    snapshot(dir, 1)?;
    state.save()?;
    let result = build(&mut state, &catalog, &files);
    state.save()?;
    result
}

fn build(state: &mut LabState, catalog: &Catalog, files: &LabFiles) -> Result<()> {
    let nodes = usize::from(files.spec.nodes.unwrap_or(2).max(1));
    let step = Step::start(format!("underlay, {nodes} nodes and the external members"));
    Netns::create(UNDERLAY)?.keep();
    ip_in(UNDERLAY, &["link", "add", BRIDGE, "type", "bridge"])?;
    ip_in(UNDERLAY, &["link", "set", BRIDGE, "up"])?;
    let ipv6 = files.spec.ipv6();
    // Per namespace on the underlay: its IPv4 address and its IPv6 ones.
    let mut hosts: Vec<(String, Ipv4Addr, Vec<std::net::Ipv6Addr>)> = Vec::new();
    for i in 1..=nodes {
        let ns = Netns::create(&node_netns(i))?;
        ns.sysctl("net.ipv4.ip_forward", "1")?;
        if ipv6.is_some() {
            ns.sysctl("net.ipv6.conf.all.forwarding", "1")?;
        }
        let ns = ns.keep();
        attach_underlay(&ns, &format!("ul{i}"), node_address(i))?;
        let address6 = ipv6.map(|r| node_address6(r, i));
        let sock = root().join("nodes").join(node_name(i)).join("agent.sock");
        state.nodes.push(NodeState {
            name: node_name(i),
            netns: ns.clone(),
            address: node_address(i),
            pod_cidr: pod_cidr(i).to_string(),
            socket: sock,
            address6,
            pod_cidr6: ipv6.map(|r| pod_cidr6(r, i).to_string()),
        });
        hosts.push((ns, node_address(i), address6.into_iter().collect()));
    }
    for (k, (address, names, addresses6)) in members(catalog, ipv6.is_some())?.into_iter().enumerate() {
        if hosts.iter().any(|(_, a, _)| *a == address) {
            return Err(Error::Manifests(format!("member {address} has a lab node's address")));
        }
        let ns = Netns::create(&external_netns(address))?.keep();
        attach_underlay(&ns, &format!("ux{k}"), address)?;
        state.externals.push(ExternalState { address, names, netns: ns.clone(), addresses6: addresses6.clone() });
        hosts.push((ns, address, addresses6));
    }
    for (ns, _, own6) in &hosts {
        for a in own6 {
            ip_in(ns, &["addr", "add", &format!("{a}/128"), "dev", "eth0", "nodad"])?;
        }
    }
    for (ns, own, _) in &hosts {
        for (_, peer, peer6) in hosts.iter().filter(|(_, a, _)| a != own) {
            onlink(ns, *peer)?;
            for p in peer6 {
                ip_in(ns, &["route", "replace", &format!("{p}/128"), "dev", "eth0"])?;
            }
        }
        for n in state.nodes.iter().filter(|n| n.address != *own) {
            ip_in(ns, &["route", "replace", &n.pod_cidr, "via", &n.address.to_string(), "dev", "eth0", "onlink"])?;
            if let (Some(range), Some(via)) = (&n.pod_cidr6, n.address6) {
                ip_in(ns, &["route", "replace", range, "via", &via.to_string(), "dev", "eth0"])?;
            }
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
            // Inside the node: `podsg lab metrics` reads it there.
            "--metrics-listen".into(),
            format!("{}:{}", n.address, crate::layout::METRICS_PORT),
        ])
        .chain(files.spec.log_denied.then(|| "--log-denied".to_string()))
        .chain(n.pod_cidr6.iter().flat_map(|r| ["--pod-cidr6".to_string(), r.clone()]))
        .collect();
        std::fs::create_dir_all(pods::cluster_dir()).map_err(io("cluster"))?;
        pods::publish(&[], state)?;
        daemons::daemon(state, &n.netns, &format!("agent-{}", n.name), &exe, &args)?;
    }
    for n in &state.nodes {
        wait_for(&format!("agent on {}", n.name), Duration::from_secs(20), || n.socket.exists())?;
    }
    state.save()?;
    step.done();

    let planned = pods::plan(catalog, nodes)?;
    let step = Step::start(format!("{} pods, wired by the CNI plugin", planned.len()));
    add_pods(state, &planned)?;
    step.done();

    services(state, catalog, files, &planned)?;

    let step = Step::start("waiting for every node to enforce every pod's groups");
    converge(state)?;
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

pub(super) fn add_pods(state: &mut LabState, planned: &[Planned]) -> Result<()> {
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
        let (address, address6) = pods::add(state, p)?;
        if let Some(s) = state.pods.iter_mut().find(|s| s.container_id == p.container_id) {
            s.address = Some(address);
            s.address6 = address6;
        }
        route(state, p.node, address, true)?;
        let also = address6.map(|a| format!(" and {a}")).unwrap_or_default();
        eprintln!("lab:   {}/{} on {} at {address}{also}", p.namespace, p.name, node_name(p.node));
    }
    pods::publish(planned, state)?;
    state.save()
}

/// A pod address outside its node's pod range (one its manifest named)
/// is routed to its node from every other node and external member.
pub(super) fn route(state: &LabState, node: usize, address: IpAddr, add: bool) -> Result<()> {
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
    let step = Step::start("Services and the cluster DNS");
    let hosts = daemons::write_hosts(&[])?;
    let dns = dns_states(state, catalog, planned);
    for p in &dns {
        daemons::start_dns(state, &p.netns, p.address.expect("added pods have addresses"), &hosts)?;
    }
    sync_services(state, catalog, files, planned)?;
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
        daemons::start_postgres(state, &e.netns, e.address, &e.addresses6, &pg.password, &pg.sql)?;
        step.done();
    }

    super::servers::expectation_servers(state, catalog, planned, files, &dns)?;
    Ok(())
}

/// Until every node's kernel enforces what its agent was asked (CNI CHECK passes everywhere).
pub(super) fn converge(state: &LabState) -> Result<()> {
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
