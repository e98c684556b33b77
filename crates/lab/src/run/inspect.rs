use super::*;
use crate::spec::Family;

/// The namespace and address of a target: a pod or workload, a member name, or an address.
pub fn target(state: &LabState, to: &str) -> Option<(String, IpAddr)> {
    target_in(state, to, Family::Ipv4)
}

/// `target`, with the address of one family (a pod's or member's IPv6
/// address in a dual-stack lab).
pub fn target_in(state: &LabState, to: &str, family: Family) -> Option<(String, IpAddr)> {
    let v6 = family == Family::Ipv6;
    if let Some(p) = state.pods_of(to).first() {
        let address = if v6 { p.address6.map(IpAddr::V6) } else { p.address };
        return Some((p.netns.clone(), address?));
    }
    let ip: Option<IpAddr> = to.parse().ok();
    let ext = state.externals.iter().find(|e| {
        e.names.iter().any(|n| n == to)
            || ip == Some(IpAddr::V4(e.address))
            || e.addresses6.iter().any(|a| ip == Some(IpAddr::V6(*a)))
    });
    if let Some(e) = ext {
        return match (ip, v6) {
            (Some(ip), _) => Some((e.netns.clone(), ip)),
            (None, false) => Some((e.netns.clone(), IpAddr::V4(e.address))),
            (None, true) => e.addresses6.first().map(|a| (e.netns.clone(), IpAddr::V6(*a))),
        };
    }
    let ip = ip?;
    state
        .pods
        .iter()
        .find(|p| p.address == Some(ip) || p.address6.map(IpAddr::V6) == Some(ip))
        .map(|p| (p.netns.clone(), ip))
}

/// Where a check's connection goes, as its client names it.
pub enum Destination<'a> {
    /// A Service: its cluster IP (`None`: headless) and the Service.
    Service(&'a ServiceState),
    /// A pod, member or address: the namespace that has it and the address.
    At(String, IpAddr),
}

/// What `to` means to a pod of `client_namespace`: a pod or workload first
/// (as `podsg explain` reads `NAMESPACE/NAME`), then a Service, then a
/// member or an address.
pub fn destination<'a>(
    state: &'a LabState,
    to: &str,
    client_namespace: &str,
    family: Family,
) -> Option<Destination<'a>> {
    if !state.pods_of(to).is_empty() {
        return target_in(state, to, family).map(|(netns, address)| Destination::At(netns, address));
    }
    if let Some(s) = crate::services::find(state, to, client_namespace) {
        return Some(Destination::Service(s));
    }
    target_in(state, to, family).map(|(netns, address)| Destination::At(netns, address))
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
        let address = match p.address6 {
            Some(a6) => format!("{address} {a6}"),
            None => address,
        };
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
    if !state.services.is_empty() {
        out.push_str("\nservices:\n");
        for s in &state.services {
            let ip = s.cluster_ip.map(|a| a.to_string()).unwrap_or_else(|| "None (headless)".into());
            out.push_str(&format!("  {:<36} {ip}\n", s.id()));
        }
    }
    out.push_str(&format!(
        "\ncluster DNS: {}\nprocesses:\n",
        state.dns.map(|a| a.to_string()).unwrap_or_else(|| "none".into())
    ));
    for p in &state.processes {
        out.push_str(&format!("  {:<8} {:<40} {}\n", p.pid, p.what, if alive(p.pid) { "running" } else { "exited" }));
    }
    Ok(out)
}

/// Runs a command in a pod's (or member's, or node's) namespace.
pub fn exec(what: &str, command: &[String]) -> Result<i32> {
    let state = LabState::load()?.ok_or_else(|| Error::Usage("no lab is up: run podsg lab up DIR first".into()))?;
    let netns = match state.pods_of(what).first() {
        Some(p) => p.netns.clone(),
        None => match (state.nodes.iter().find(|n| n.name == what), target(&state, what)) {
            (Some(n), _) => n.netns.clone(),
            (None, Some((netns, _))) => netns,
            (None, None) => {
                return Err(Error::Usage(format!(
                    "{what}: no pod, workload, member or node of this name in the lab (podsg lab status lists them)"
                )));
            }
        },
    };
    let (program, args) = command.split_first().ok_or_else(|| Error::Usage("a command is required after --".into()))?;
    let status = std::process::Command::new("ip")
        .args(["netns", "exec", &netns, program])
        .args(args)
        .status()
        .map_err(io(program.clone()))?;
    Ok(status.code().unwrap_or(1))
}
