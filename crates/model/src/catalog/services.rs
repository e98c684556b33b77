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
        let mut c = Catalog {
            workloads: vec![
                mk_pod("ns", "web-1", &[("app", "web")]),
                mk_pod("ns", "web-2", &[("app", "web")]),
                mk_pod("ns", "db", &[("app", "db")]),
                mk_pod("other", "web-3", &[("app", "web")]),
                mk_pod("ns", "db-svc", &[("app", "db")]),
            ],
            ..Default::default()
        };
        c.index_workloads();
        let svc = |name: &str, app: &str, ip: Option<&str>| KubeService {
            namespace: "ns".into(),
            name: name.into(),
            kind: ServiceKind::ClusterIP,
            selector: Some(crate::fixtures::labels(&[("app", app)])),
            cluster_ips: ip.map_or(ClusterIps::Allocated, |ip| ClusterIps::Fixed(vec![ip.parse().unwrap()])),
            ports: vec![ServicePort {
                name: None,
                protocol: L4Protocol::Tcp,
                port: 80,
                target: TargetPort::Number(80),
            }],
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
        assert!(
            named(c.flow_target("service/ns/nope")).starts_with("error service/ns/nope: not found (no Service ns/nope")
        );
        assert!(named(c.flow_target("nope.ns.svc.cluster.local")).starts_with("error"));
    }

    #[test]
    fn backends_are_the_selected_pods_of_its_namespace() {
        let c = catalog();
        let names: Vec<String> = c.backends(c.service("ns", "web").unwrap()).iter().map(|w| w.name.clone()).collect();
        assert_eq!(names, ["web-1", "web-2"]);
    }
}

/// A connection to a Service port, as each backend sees it after
/// kube-proxy's translation.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceFlow {
    pub decision: ServiceDecision,
    pub backends: Vec<BackendFlow>,
}

#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendFlow {
    pub backend: Endpoint,
    /// The backend's port; `None`: it has no container port of the target
    /// port's name, so kube-proxy never sends this port to it.
    pub port: Option<u16>,
    pub verdict: Option<crate::verdict::Verdict>,
}

/// What a client sees connecting to a Service port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ServiceDecision {
    /// Every backend allows it.
    Allow,
    /// No backend allows it.
    Deny,
    /// Some backends allow it and some do not: connections succeed or
    /// fail by the backend kube-proxy picks.
    Mixed,
    /// Some backend's answer depends on something podsg does not know.
    Unknown,
    /// No pod serves the port: kube-proxy refuses the connection.
    NoBackends,
    /// The Service has no selector: its endpoints are not in the manifests.
    EndpointsElsewhere,
}

impl Catalog {
    /// The verdict of a connection from `from` to each backend of `s` on
    /// Service port `port`.
    pub fn service_flow(
        &self,
        engine: &crate::verdict::Engine,
        from: &Endpoint,
        s: &KubeService,
        port: &crate::kube_service::ServicePort,
    ) -> ServiceFlow {
        use crate::flow::Service;
        use crate::verdict::Decision;
        if s.selector.is_none() {
            return ServiceFlow { decision: ServiceDecision::EndpointsElsewhere, backends: Vec::new() };
        }
        let backends: Vec<BackendFlow> = self
            .backends(s)
            .into_iter()
            .map(|w| {
                let target = KubeService::target_port(port, w);
                let backend = self.workload_endpoint(w);
                let verdict = target.map(|p| {
                    let service = match port.protocol {
                        crate::workload::L4Protocol::Tcp => Service::Tcp(p),
                        crate::workload::L4Protocol::Udp => Service::Udp(p),
                        // Security groups match SCTP by protocol number only.
                        crate::workload::L4Protocol::Sctp => Service::Other(132),
                    };
                    engine.verdict(from, &backend, service)
                });
                BackendFlow { backend, port: target, verdict }
            })
            .collect();
        let decisions: Vec<Decision> = backends.iter().filter_map(|b| b.verdict.as_ref().map(|v| v.verdict)).collect();
        let decision = if decisions.is_empty() {
            ServiceDecision::NoBackends
        } else if decisions.contains(&Decision::Unknown) {
            ServiceDecision::Unknown
        } else if decisions.iter().all(|d| *d == Decision::Allow) {
            ServiceDecision::Allow
        } else if decisions.contains(&Decision::Allow) {
            ServiceDecision::Mixed
        } else {
            ServiceDecision::Deny
        };
        ServiceFlow { decision, backends }
    }
}

#[cfg(test)]
mod flow_tests {
    use super::*;
    use crate::fixtures::{mk_group, mk_pod, mk_policy, tcp_from_group};
    use crate::kube_service::{ClusterIps, ServiceKind, ServicePort, TargetPort};
    use crate::settings::EnforcingMode;
    use crate::verdict::Engine;
    use crate::workload::{ContainerPortInfo, L4Protocol};

    /// Clients in sg-0c; web-a takes 8080 from them, web-b takes nothing.
    fn catalog(target: TargetPort) -> (Catalog, KubeService) {
        let client = mk_pod("ns", "client", &[("app", "client")]);
        let mut a = mk_pod("ns", "web-a", &[("app", "web"), ("v", "a")]);
        a.ports = vec![ContainerPortInfo { name: Some("http".into()), port: 8080, protocol: L4Protocol::Tcp }];
        let mut b = mk_pod("ns", "web-b", &[("app", "web"), ("v", "b")]);
        b.ports = vec![ContainerPortInfo { name: Some("http".into()), port: 9090, protocol: L4Protocol::Tcp }];
        let mut c = Catalog { workloads: vec![client, a, b], ..Default::default() };
        c.index_workloads();
        for g in [
            mk_group("sg-0c", vec![], None),
            mk_group("sg-0a", vec![tcp_from_group(8080, "sg-0c")], None),
            mk_group("sg-0b", vec![], None),
        ] {
            c.groups.insert(g.id.clone(), g);
        }
        c.index.apply_policy(mk_policy("ns", "client", &[("app", "client")], &["sg-0c"]));
        c.index.apply_policy(mk_policy("ns", "a", &[("v", "a")], &["sg-0a"]));
        c.index.apply_policy(mk_policy("ns", "b", &[("v", "b")], &["sg-0b"]));
        let s = KubeService {
            namespace: "ns".into(),
            name: "web".into(),
            kind: ServiceKind::ClusterIP,
            selector: Some(crate::fixtures::labels(&[("app", "web")])),
            cluster_ips: ClusterIps::Allocated,
            ports: vec![ServicePort { name: None, protocol: L4Protocol::Tcp, port: 80, target }],
            external_name: None,
        };
        (c, s)
    }

    fn flow(c: &Catalog, s: &KubeService) -> ServiceFlow {
        let engine = Engine::new(&c.groups, EnforcingMode::Strict);
        let from = c.endpoint("ns/client").unwrap();
        c.service_flow(&engine, &from, s, &s.ports[0])
    }

    #[test]
    fn each_backend_decides_on_its_own_port_with_its_own_groups() {
        let (c, s) = catalog(TargetPort::Name("http".into()));
        let f = flow(&c, &s);
        assert_eq!(f.decision, ServiceDecision::Mixed);
        let seen: Vec<(String, Option<u16>, String)> = f
            .backends
            .iter()
            .map(|b| (b.backend.id.clone(), b.port, b.verdict.as_ref().unwrap().verdict.to_string()))
            .collect();
        assert_eq!(
            seen,
            [("Pod/ns/web-a".into(), Some(8080), "allow".into()), ("Pod/ns/web-b".into(), Some(9090), "deny".into())]
        );
    }

    #[test]
    fn no_serving_backend_and_no_selector_are_said_apart() {
        let (c, s) = catalog(TargetPort::Name("grpc".into()));
        let f = flow(&c, &s);
        assert_eq!(f.decision, ServiceDecision::NoBackends);
        assert!(f.backends.iter().all(|b| b.port.is_none() && b.verdict.is_none()));
        let (c, s) = catalog(TargetPort::Number(8080));
        assert_eq!(flow(&c, &KubeService { selector: None, ..s }).decision, ServiceDecision::EndpointsElsewhere);
        let (mut c, s) = catalog(TargetPort::Number(8080));
        let g = mk_group("sg-0b", vec![tcp_from_group(8080, "sg-0c")], None);
        c.groups.insert(g.id.clone(), g);
        assert_eq!(flow(&c, &s).decision, ServiceDecision::Allow);
    }
}
