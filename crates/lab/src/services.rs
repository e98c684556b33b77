//! Kubernetes Services in the lab: cluster IPs, the ready backends each
//! port translates to (`kube_proxy`), and the names the cluster DNS answers.

use crate::error::{Error, Result};
use crate::kube_proxy::{Proxied, ProxiedPort};
use crate::pods::Planned;
use crate::state::{LabState, ServiceState};
use podsg_model::catalog::Catalog;
use podsg_model::kube_service::{CLUSTER_DOMAIN, ClusterIps, KubeService, ServiceKind};
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};

/// kubeadm's Service range.
pub const DEFAULT_RANGE: &str = "10.96.0.0/16";
/// Allocation starts above the addresses clusters reserve (`.1` is the
/// `kubernetes` Service, `.10` kube-dns).
const FIRST_ALLOCATED: u32 = 11;

/// Every Service's cluster IP: the manifest's, else the one it had, else
/// the next free address of `range`.
pub fn allocate(catalog: &Catalog, previous: &[ServiceState], range: ipnet::Ipv4Net) -> Result<Vec<ServiceState>> {
    let mut taken: BTreeSet<Ipv4Addr> = BTreeSet::new();
    let mut out: Vec<ServiceState> = Vec::new();
    let mut pending = Vec::new();
    for s in &catalog.services {
        match s.kind {
            ServiceKind::ExternalName => {
                return Err(Error::Manifests(format!(
                    "Service {}: type ExternalName is not supported by the lab (its DNS has no upstream for the CNAME {}); remove the Service or use one with a selector",
                    s.id(),
                    s.external_name.as_deref().unwrap_or_default()
                )));
            }
            ServiceKind::NodePort | ServiceKind::LoadBalancer => eprintln!(
                "lab: Service {} is of type {}: the lab serves its cluster IP, not node ports or load balancers",
                s.id(),
                s.kind.as_str()
            ),
            ServiceKind::ClusterIP => {}
        }
        if s.selector.is_none() {
            eprintln!(
                "lab: Service {} has no selector: the lab writes no endpoints for it, so it refuses connections",
                s.id()
            );
        }
        let state = |ip| ServiceState { namespace: s.namespace.clone(), name: s.name.clone(), cluster_ip: ip };
        match &s.cluster_ips {
            ClusterIps::Headless => out.push(state(None)),
            ClusterIps::Fixed(ips) => {
                let v4 = ips.iter().find_map(|a| match a {
                    IpAddr::V4(a) => Some(*a),
                    IpAddr::V6(_) => None,
                });
                let Some(ip) = v4 else {
                    return Err(Error::Manifests(format!(
                        "Service {}: spec.clusterIPs has no IPv4 address; the lab's Services are IPv4",
                        s.id()
                    )));
                };
                if !taken.insert(ip) {
                    return Err(Error::Manifests(format!("Service {}: cluster IP {ip} is another Service's", s.id())));
                }
                out.push(state(Some(ip)));
            }
            ClusterIps::Allocated => pending.push(s),
        }
    }
    for s in pending {
        let before = previous
            .iter()
            .find(|p| p.namespace == s.namespace && p.name == s.name)
            .and_then(|p| p.cluster_ip)
            .filter(|ip| range.contains(ip) && !taken.contains(ip));
        let ip = match before {
            Some(ip) => ip,
            None => range
                .hosts()
                .skip(FIRST_ALLOCATED as usize - 1)
                .find(|ip| {
                    !taken.contains(ip)
                        && !previous
                            .iter()
                            .any(|p| p.cluster_ip == Some(*ip) && (p.namespace != s.namespace || p.name != s.name))
                })
                .ok_or_else(|| Error::Manifests(format!("Service {}: the Service range {range} is full", s.id())))?,
        };
        taken.insert(ip);
        out.push(ServiceState { namespace: s.namespace.clone(), name: s.name.clone(), cluster_ip: Some(ip) });
    }
    out.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    Ok(out)
}

/// The pods of `planned` a Service selects that run with an address.
fn ready<'a>(s: &KubeService, planned: &'a [Planned], state: &LabState) -> Vec<(&'a Planned, Ipv4Addr)> {
    planned
        .iter()
        .filter(|p| s.selects_labels(&p.namespace, &p.labels))
        .filter_map(|p| match state.pod(&p.namespace, &p.name)?.address? {
            IpAddr::V4(a) => Some((p, a)),
            IpAddr::V6(_) => None,
        })
        .collect()
}

/// What each node translates: every cluster IP's ports and their ready backends.
pub fn proxied(catalog: &Catalog, planned: &[Planned], state: &LabState) -> Vec<Proxied> {
    state
        .services
        .iter()
        .filter_map(|st| {
            let ip = st.cluster_ip?;
            let s = catalog.service(&st.namespace, &st.name)?;
            let backends = ready(s, planned, state);
            let ports = s
                .ports
                .iter()
                .map(|port| ProxiedPort {
                    protocol: port.protocol,
                    port: port.port,
                    backends: backends
                        .iter()
                        .filter_map(|(p, a)| KubeService::target_port_in(port, &p.ports).map(|t| (*a, t)))
                        .collect(),
                })
                .collect();
            Some(Proxied { service: st.id(), ip, ports })
        })
        .collect()
}

/// The names the cluster DNS answers for Services: `NAME.NAMESPACE.svc.cluster.local`
/// (pods' search paths make `NAME` and `NAME.NAMESPACE` find it), to the
/// cluster IP, or for a headless Service to each ready backend.
pub fn dns_names(catalog: &Catalog, planned: &[Planned], state: &LabState) -> Vec<(String, IpAddr)> {
    let mut out = Vec::new();
    for st in &state.services {
        let Some(s) = catalog.service(&st.namespace, &st.name) else { continue };
        match st.cluster_ip {
            Some(ip) => out.push((s.fqdn(), IpAddr::V4(ip))),
            None => out.extend(ready(s, planned, state).into_iter().map(|(_, a)| (s.fqdn(), IpAddr::V4(a)))),
        }
    }
    out
}

impl ServiceState {
    pub fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// The Service a name means to a pod of `namespace`, as its resolver's
/// search path finds it: `NAME`, `NAME.NAMESPACE`, `NAME.NAMESPACE.svc[.cluster.local]`,
/// `NAMESPACE/NAME`, or a cluster IP.
pub fn find<'a>(state: &'a LabState, name: &str, namespace: &str) -> Option<&'a ServiceState> {
    let by = |ns: &str, n: &str| state.services.iter().find(|s| s.namespace == ns && s.name == n);
    if let Ok(ip) = name.parse::<Ipv4Addr>() {
        return state.services.iter().find(|s| s.cluster_ip == Some(ip));
    }
    if let Some((ns, n)) = name.split_once('/') {
        return by(ns, n);
    }
    let name = name.trim_end_matches('.');
    let name = name.strip_suffix(&format!(".{CLUSTER_DOMAIN}")).unwrap_or(name);
    let name = name.strip_suffix(".svc").unwrap_or(name);
    match name.split_once('.') {
        None => by(namespace, name),
        Some((n, ns)) if !ns.contains('.') => by(ns, n),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use podsg_model::fixtures::catalog_of;

    const SERVICES: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: ns}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: kube-dns, namespace: kube-system}\nspec: {clusterIP: 10.96.0.10, selector: {k8s-app: kube-dns}, ports: [{name: dns, port: 53, protocol: UDP}, {name: dns-tcp, port: 53}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: ns}\nspec: {clusterIP: None, selector: {app: db}}\n";

    fn range() -> ipnet::Ipv4Net {
        DEFAULT_RANGE.parse().unwrap()
    }

    #[test]
    fn cluster_ips_are_the_manifests_then_kept_then_the_next_free() {
        let c = catalog_of(SERVICES);
        let first = allocate(&c, &[], range()).unwrap();
        let seen: Vec<(String, Option<String>)> =
            first.iter().map(|s| (s.id(), s.cluster_ip.map(|a| a.to_string()))).collect();
        assert_eq!(
            seen,
            [
                ("kube-system/kube-dns".into(), Some("10.96.0.10".into())),
                ("ns/db".into(), None),
                ("ns/web".into(), Some("10.96.0.11".into())),
            ]
        );
        // Kept across an apply that adds a Service before it.
        let more = format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: api, namespace: ns}}\nspec: {{selector: {{app: api}}, ports: [{{port: 8080}}]}}\n---\n{SERVICES}"
        );
        let again = allocate(&catalog_of(&more), &first, range()).unwrap();
        let ip = |id: &str| again.iter().find(|s| s.id() == id).and_then(|s| s.cluster_ip).unwrap().to_string();
        assert_eq!(ip("ns/web"), "10.96.0.11");
        assert_eq!(ip("ns/api"), "10.96.0.12");
    }

    #[test]
    fn what_the_lab_cannot_serve_is_refused_by_name() {
        let external = "apiVersion: v1\nkind: Service\nmetadata: {name: ext, namespace: ns}\nspec: {type: ExternalName, externalName: db.example.com}\n";
        let e = allocate(&catalog_of(external), &[], range()).unwrap_err().to_string();
        assert!(e.starts_with("Service ns/ext: type ExternalName is not supported by the lab"), "{e}");
        let v6 = "apiVersion: v1\nkind: Service\nmetadata: {name: six, namespace: ns}\nspec: {clusterIP: 'fd00::1', ports: [{port: 1}]}\n";
        let e = allocate(&catalog_of(v6), &[], range()).unwrap_err().to_string();
        assert!(e.contains("no IPv4 address"), "{e}");
        let twice = "apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: ns}\nspec: {clusterIP: 10.96.0.5, ports: [{port: 1}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: b, namespace: ns}\nspec: {clusterIP: 10.96.0.5, ports: [{port: 1}]}\n";
        let e = allocate(&catalog_of(twice), &[], range()).unwrap_err().to_string();
        assert_eq!(e, "Service ns/b: cluster IP 10.96.0.5 is another Service's");
    }

    #[test]
    fn names_resolve_as_a_pods_search_path_finds_them() {
        let state = LabState { services: allocate(&catalog_of(SERVICES), &[], range()).unwrap(), ..Default::default() };
        let found = |name: &str, ns: &str| find(&state, name, ns).map(ServiceState::id);
        assert_eq!(found("web", "ns").as_deref(), Some("ns/web"));
        assert_eq!(found("web", "other"), None, "a bare name is the client's namespace's");
        for name in
            ["web.ns", "web.ns.svc", "web.ns.svc.cluster.local", "web.ns.svc.cluster.local.", "ns/web", "10.96.0.11"]
        {
            assert_eq!(found(name, "other").as_deref(), Some("ns/web"), "{name}");
        }
        assert_eq!(found("rds.example.com", "ns"), None);
    }
}
