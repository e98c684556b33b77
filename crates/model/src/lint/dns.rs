//! "The security group must allow outbound communication to the cluster
//! security group (for CoreDNS) over TCP port 53. The cluster security group
//! must also allow inbound TCP port 53 communication from all security groups
//! associated to pods." (EKS user guide; TKE says UDP and TCP.)

use super::denial;
use crate::catalog::{Catalog, workload_ref};
use crate::diagnostic::Diagnostic;
use crate::flow::Service;
use crate::settings::EnforcingMode;
use crate::verdict::{Decision, Engine, Role};
use crate::workload::Workload;

/// The workloads serving the cluster DNS: ClusterConfig `clusterDNS`, or the
/// kube-system pods and workloads labelled `k8s-app: kube-dns`.
pub fn dns_servers(catalog: &Catalog) -> Vec<&Workload> {
    if !catalog.settings.cluster_dns.is_empty() {
        return catalog
            .workloads
            .iter()
            .filter(|w| catalog.settings.cluster_dns.iter().any(|t| *t == format!("{}/{}", w.namespace, w.name)))
            .collect();
    }
    catalog
        .workloads
        .iter()
        .filter(|w| w.namespace == "kube-system" && w.labels.get("k8s-app").map(String::as_str) == Some("kube-dns"))
        .collect()
}

pub fn unreachable_dns(catalog: &Catalog, mode: EnforcingMode) -> Vec<Diagnostic> {
    let servers = dns_servers(catalog);
    let restricted: Vec<&Workload> = catalog
        .workloads
        .iter()
        .filter(|w| !servers.iter().any(|s| s.key() == w.key()))
        .filter(|w| catalog.resolve(w).is_restricted())
        .collect();
    if servers.is_empty() {
        if restricted.is_empty() {
            return Vec::new();
        }
        return vec![Diagnostic::note(
            "no cluster DNS found (kube-system pods or workloads labelled k8s-app: kube-dns, or ClusterConfig spec.clusterDNS): DNS reachability not checked",
        )];
    }
    let engine = Engine::new(&catalog.groups, mode);
    let mut out = Vec::new();
    for w in restricted {
        let src = catalog.workload_endpoint(w);
        if !matches!(src.role, Role::Pod { restricted: true, .. }) {
            continue;
        }
        for server in &servers {
            let dst = catalog.workload_endpoint(server);
            let mut denied = Vec::new();
            for service in [Service::Udp(53), Service::Tcp(53)] {
                let v = engine.verdict(&src, &dst, service);
                match v.verdict {
                    Decision::Deny => denied.push(format!("{service} ({})", denial(catalog, &v))),
                    Decision::Unknown => out.push(catalog.about(
                        workload_ref(w),
                        Diagnostic::note(format!(
                            "whether it reaches the cluster DNS {}/{} on {service} depends on addresses not in the manifests",
                            server.namespace, server.name
                        )),
                    )),
                    Decision::Allow => {}
                }
            }
            if !denied.is_empty() {
                out.push(catalog.about(
                    workload_ref(w),
                    Diagnostic::warning(format!(
                        "cannot reach the cluster DNS {}/{} on {}: name lookups will fail",
                        server.namespace,
                        server.name,
                        denied.join(" and ")
                    )),
                ));
            }
        }
    }
    out
}
