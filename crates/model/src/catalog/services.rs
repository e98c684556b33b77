//! Services in the catalog: finding one by the names people use, and the
//! pods it forwards to.

use super::{Catalog, TargetError};
use crate::kube_service::{CLUSTER_DOMAIN, KubeService};
use crate::verdict::Endpoint;
use crate::workload::Workload;
use std::net::IpAddr;

/// What a flow's destination names: one endpoint, or a Service whose
/// backends each decide with their own groups.
#[derive(Debug)]
pub enum FlowTarget<'a> {
    Endpoint(Endpoint),
    Service(&'a KubeService),
}

impl Catalog {
    pub fn service(&self, namespace: &str, name: &str) -> Option<&KubeService> {
        self.services.iter().find(|s| s.namespace == namespace && s.name == name)
    }

    /// The Service that has `ip` as a cluster IP.
    pub fn service_at(&self, ip: IpAddr) -> Option<&KubeService> {
        self.services.iter().find(|s| s.has_address(ip))
    }

    /// The pods (and workloads standing for their pods) a Service forwards to.
    pub fn backends(&self, s: &KubeService) -> Vec<&Workload> {
        self.workloads.iter().filter(|w| s.selects(w)).collect()
    }

    /// A destination: `service/NAMESPACE/NAME`, `NAMESPACE/NAME` of a
    /// Service when no pod or workload has that name, a Service's cluster
    /// IP or DNS name (`NAME.NAMESPACE.svc[.cluster.local]`), else whatever
    /// `endpoint` finds.
    pub fn flow_target(&self, target: &str) -> Result<FlowTarget<'_>, TargetError> {
        let parts: Vec<&str> = target.split('/').collect();
        if let [kind, ns, name] = parts.as_slice()
            && (kind.eq_ignore_ascii_case("service") || kind.eq_ignore_ascii_case("svc"))
        {
            return self.service(ns, name).map(FlowTarget::Service).ok_or_else(|| TargetError::NotFound {
                target: target.into(),
                hint: format!(" (no Service {ns}/{name} in the manifests)"),
            });
        }
        if let Ok(ip) = target.parse::<IpAddr>()
            && let Some(s) = self.service_at(ip)
        {
            return Ok(FlowTarget::Service(s));
        }
        let dns = target.trim_end_matches('.');
        let short = dns.strip_suffix(&format!(".{CLUSTER_DOMAIN}")).unwrap_or(dns);
        if let Some(rest) = short.strip_suffix(".svc")
            && let Some((name, ns)) = rest.split_once('.')
        {
            return self.service(ns, name).map(FlowTarget::Service).ok_or_else(|| TargetError::NotFound {
                target: target.into(),
                hint: format!(" (no Service {ns}/{name} in the manifests)"),
            });
        }
        if let [ns, name] = parts.as_slice()
            && !self.workloads.iter().any(|w| w.namespace == *ns && w.name == *name)
            && let Some(s) = self.service(ns, name)
        {
            return Ok(FlowTarget::Service(s));
        }
        self.endpoint(target).map(FlowTarget::Endpoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::mk_pod;
    use crate::kube_service::{ClusterIps, ServiceKind, ServicePort, TargetPort};
    use crate::workload::L4Protocol;

    fn catalog() -> Catalog {
        let mut c = Catalog::default();
        c.workloads = vec![
            mk_pod("ns", "web-1", &[("app", "web")]),
            mk_pod("ns", "web-2", &[("app", "web")]),
            mk_pod("ns", "db", &[("app", "db")]),
            mk_pod("other", "web-3", &[("app", "web")]),
            mk_pod("ns", "db-svc", &[("app", "db")]),
        ];
        c.index_workloads();
        let svc = |name: &str, app: &str, ip: Option<&str>| KubeService {
            namespace: "ns".into(),
            name: name.into(),
            kind: ServiceKind::ClusterIP,
            selector: Some(crate::fixtures::labels(&[("app", app)])),
            cluster_ips: ip.map_or(ClusterIps::Allocated, |ip| ClusterIps::Fixed(vec![ip.parse().unwrap()])),
            ports: vec![ServicePort { name: None, protocol: L4Protocol::Tcp, port: 80, target: TargetPort::Number(80) }],
            external_name: None,
        };
        c.services = vec![svc("web", "web", Some("10.96.0.20")), svc("db-svc", "db", None)];
        c
    }

    fn named(t: Result<FlowTarget<'_>, TargetError>) -> String {
        match t {
            Ok(FlowTarget::Service(s)) => format!("service {}", s.id()),
            Ok(FlowTarget::Endpoint(e)) => format!("endpoint {}", e.id),
            Err(e) => format!("error {e}"),
        }
    }

    #[test]
    fn a_service_is_found_by_every_name_people_use() {
        let c = catalog();
        for t in ["ns/web", "service/ns/web", "svc/ns/web", "10.96.0.20", "web.ns.svc", "web.ns.svc.cluster.local."] {
            assert_eq!(named(c.flow_target(t)), "service ns/web", "{t}");
        }
        // A pod of the same name is what NS/NAME means; the kind form reaches the Service.
        assert_eq!(named(c.flow_target("ns/db-svc")), "endpoint Pod/ns/db-svc");
        assert_eq!(named(c.flow_target("service/ns/db-svc")), "service ns/db-svc");
        assert!(named(c.flow_target("service/ns/nope")).starts_with("error service/ns/nope: not found (no Service ns/nope"));
        assert!(named(c.flow_target("nope.ns.svc.cluster.local")).starts_with("error"));
    }

    #[test]
    fn backends_are_the_selected_pods_of_its_namespace() {
        let c = catalog();
        let names: Vec<String> =
            c.backends(c.service("ns", "web").unwrap()).iter().map(|w| w.name.clone()).collect();
        assert_eq!(names, ["web-1", "web-2"]);
    }
}
