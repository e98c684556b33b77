//! `podsg lab up | apply | status | exec | down`: one file per command, the
//! helpers they share here.

mod apply;
mod down;
mod inspect;
mod observe;
mod servers;
mod up;

pub use apply::apply;
pub use down::down;
pub use inspect::{Destination, destination, exec, status, target};
pub use observe::{logs, metrics};
pub use up::up;

use crate::daemons;
use crate::error::{Error, Result, io};
use crate::layout::{
    BRIDGE, PREFIX, UNDERLAY, external_netns, node_address, node_address6, node_name, node_netns, pod_cidr, pod_cidr6,
    root,
};
use crate::pods::{self, Planned};
use crate::progress::Step;
use crate::spec::{CheckKind, LabFiles};
use crate::state::{ExternalState, LabState, NodeState, PodState, ServiceState};
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

pub(super) fn current() -> PathBuf {
    root().join("current")
}

/// Copies the manifests into a new snapshot and points `current` at it in
/// one rename, so that agents never read a half-copied or half-edited set.
pub(super) fn snapshot(dir: &Path, generation: u64) -> Result<()> {
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
pub(super) fn attach_underlay(netns: &str, port: &str, address: Ipv4Addr) -> Result<()> {
    ip_in(UNDERLAY, &["link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", netns])?;
    ip_in(UNDERLAY, &["link", "set", port, "master", BRIDGE, "up"])?;
    ip_in(netns, &["addr", "add", &format!("{address}/32"), "dev", "eth0"])?;
    ip_in(netns, &["link", "set", "eth0", "up"])?;
    Ok(())
}

pub(super) fn onlink(netns: &str, peer: Ipv4Addr) -> Result<()> {
    ip_in(netns, &["route", "replace", &format!("{peer}/32"), "dev", "eth0", "scope", "link"])?;
    Ok(())
}

/// An external member's namespace: its IPv4 address, names, IPv6 addresses.
pub(super) type MemberHost = (Ipv4Addr, Vec<String>, Vec<std::net::Ipv6Addr>);

/// Named members and where they are. A member's IPv6 address lives beside
/// the IPv4 address of a member of the same name (dual-stack labs only).
pub(super) fn members(catalog: &Catalog, ipv6: bool) -> Result<Vec<MemberHost>> {
    let mut out: Vec<MemberHost> = Vec::new();
    let all: Vec<&podsg_model::group::Member> = catalog.groups.values().flat_map(|g| &g.members).collect();
    for m in &all {
        let IpAddr::V4(a) = m.address else { continue };
        match out.iter_mut().find(|(x, _, _)| *x == a) {
            Some((_, names, _)) => names.extend(m.name.clone().filter(|n| !names.contains(n))),
            None => out.push((a, m.name.clone().into_iter().collect(), Vec::new())),
        }
    }
    for m in &all {
        let IpAddr::V6(a) = m.address else { continue };
        if !ipv6 {
            return Err(Error::Manifests(format!(
                "member {a}: an IPv6 member needs a dual-stack lab (LabSpec dualStack: true)"
            )));
        }
        let home = m.name.as_ref().and_then(|n| out.iter_mut().find(|(_, names, _)| names.contains(n)));
        let Some((_, _, six)) = home else {
            return Err(Error::Manifests(format!(
                "member {a}: the lab puts an IPv6 member beside the IPv4 member of the same name; name it as one of those"
            )));
        };
        if !six.contains(&a) {
            six.push(a);
        }
    }
    Ok(out)
}

pub(super) fn wait_for(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) -> Result<()> {
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
pub(super) fn dns_pods<'a>(catalog: &Catalog, planned: &'a [Planned]) -> Vec<&'a Planned> {
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
pub(super) fn dns_states(state: &LabState, catalog: &Catalog, planned: &[Planned]) -> Vec<PodState> {
    dns_pods(catalog, planned).iter().filter_map(|p| state.pod(&p.namespace, &p.name).cloned()).collect()
}

/// Every pod resolves names through the cluster DNS, when there is one.
pub(super) fn resolve_through_dns(state: &LabState) -> Result<()> {
    if let Some(server) = state.dns {
        for p in &state.pods {
            daemons::write_resolv(&p.netns, &p.namespace, server)?;
        }
    }
    Ok(())
}

/// Services as the running pods make them: cluster IPs, every node's
/// translation to the ready backends, and the names the DNS answers.
/// Run after pods came or went, before the DNS is (re)loaded.
pub(super) fn sync_services(
    state: &mut LabState,
    catalog: &Catalog,
    files: &LabFiles,
    planned: &[Planned],
) -> Result<()> {
    let range = match files.spec.service_cidr {
        Some(r) => r,
        None => crate::services::DEFAULT_RANGE.parse().expect("a valid range"),
    };
    state.services = crate::services::allocate(catalog, &state.services, range)?;
    let rules = crate::kube_proxy::ruleset(&crate::services::proxied(catalog, planned, state));
    let path = root().join("kube-proxy.nft");
    std::fs::write(&path, rules).map_err(io(path.display().to_string()))?;
    // Cluster IPs are routed out of the node, as by a node's default route:
    // what kube-proxy does not translate meets its reject in `forward`.
    let mut routes = vec![range.to_string()];
    routes.extend(
        state
            .services
            .iter()
            .filter_map(|s| s.cluster_ip)
            .filter(|ip| !range.contains(ip))
            .map(|ip| format!("{ip}/32")),
    );
    for n in &state.nodes {
        for r in &routes {
            ip_in(&n.netns, &["route", "replace", r, "dev", "eth0"])?;
        }
        let out = Netns::existing(&n.netns).exec("nft", &["-f", &path.display().to_string()])?;
        if !out.status.success() {
            return Err(Error::Step(format!(
                "the Service rules on {} ({}): {}",
                n.name,
                path.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
    }
    let mut names: Vec<(String, IpAddr)> =
        state.externals.iter().flat_map(|e| e.names.iter().map(move |n| (n.clone(), IpAddr::V4(e.address)))).collect();
    names.extend(crate::services::dns_names(catalog, planned, state));
    daemons::write_hosts(&names)?;
    daemons::reload_dns(state)?;
    // Pods reach the DNS at the kube-dns Service, as kubelet tells them, when there is one.
    let kube_dns = state.services.iter().find(|s| s.namespace == "kube-system" && s.name == "kube-dns");
    let dns_pods = dns_states(state, catalog, planned);
    state.dns = match kube_dns.and_then(|s| s.cluster_ip) {
        Some(ip) if !dns_pods.is_empty() => Some(IpAddr::V4(ip)),
        _ => dns_pods.first().and_then(|p| p.address),
    };
    resolve_through_dns(state)
}
