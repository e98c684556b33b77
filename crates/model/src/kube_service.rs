//! Kubernetes Services: which pods a Service sends a port's traffic to.
//! podsg reads them to explain a connection made to a Service (each backend
//! decides with its own groups, after kube-proxy's translation) and the lab
//! translates them as kube-proxy does.

use crate::labels::Labels;
use crate::workload::{ContainerPortInfo, L4Protocol, Workload};
use serde::Serialize;
use std::fmt;
use std::net::IpAddr;

/// The cluster domain pods' resolvers search.
pub const CLUSTER_DOMAIN: &str = "cluster.local";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ServiceKind {
    ClusterIP,
    NodePort,
    LoadBalancer,
    ExternalName,
}

impl ServiceKind {
    pub const ALL: [ServiceKind; 4] =
        [ServiceKind::ClusterIP, ServiceKind::NodePort, ServiceKind::LoadBalancer, ServiceKind::ExternalName];

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceKind::ClusterIP => "ClusterIP",
            ServiceKind::NodePort => "NodePort",
            ServiceKind::LoadBalancer => "LoadBalancer",
            ServiceKind::ExternalName => "ExternalName",
        }
    }

    pub fn parse(s: &str) -> Option<ServiceKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The virtual addresses of a Service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ClusterIps {
    /// Not written in the manifest: the cluster (or the lab) allocates one.
    Allocated,
    /// `clusterIP: None`: the name resolves to the backends themselves.
    Headless,
    Fixed(Vec<IpAddr>),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TargetPort {
    Number(u16),
    /// A container port's name: each backend may map it to another number.
    Name(String),
}

impl fmt::Display for TargetPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetPort::Number(n) => write!(f, "{n}"),
            TargetPort::Name(n) => f.write_str(n),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePort {
    pub name: Option<String>,
    pub protocol: L4Protocol,
    pub port: u16,
    pub target: TargetPort,
}

impl fmt::Display for ServicePort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.port, self.protocol)?;
        if self.target != TargetPort::Number(self.port) {
            write!(f, " -> {}", self.target)?;
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KubeService {
    pub namespace: String,
    pub name: String,
    pub kind: ServiceKind,
    /// `None`: no selector (or an empty one, which the API stores as none):
    /// the Service's endpoints are written by someone else.
    pub selector: Option<Labels>,
    pub cluster_ips: ClusterIps,
    pub ports: Vec<ServicePort>,
    pub external_name: Option<String>,
}

impl KubeService {
    /// `namespace/name`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// Its name in the cluster DNS: `NAME.NAMESPACE.svc.cluster.local`.
    pub fn fqdn(&self) -> String {
        format!("{}.{}.svc.{CLUSTER_DOMAIN}", self.name, self.namespace)
    }

    /// Whether `w`'s pods are its endpoints (when they are ready).
    pub fn selects(&self, w: &Workload) -> bool {
        !w.host_network && self.selects_labels(&w.namespace, &w.labels)
    }

    /// Whether a pod of `namespace` with `labels` matches the selector.
    pub fn selects_labels(&self, namespace: &str, labels: &Labels) -> bool {
        let Some(selector) = &self.selector else { return false };
        namespace == self.namespace && selector.iter().all(|(k, v)| labels.get(k).is_some_and(|x| x == v))
    }

    /// The port of `w` that a Service port's traffic goes to; `None` when a
    /// named target port is not among its containers' ports (kube-proxy
    /// leaves such a pod out of that port's endpoints).
    pub fn target_port(port: &ServicePort, w: &Workload) -> Option<u16> {
        Self::target_port_in(port, &w.ports)
    }

    /// `target_port` among a pod's container ports.
    pub fn target_port_in(port: &ServicePort, ports: &[ContainerPortInfo]) -> Option<u16> {
        match &port.target {
            TargetPort::Number(n) => Some(*n),
            TargetPort::Name(name) => ports
                .iter()
                .find(|p| p.name.as_deref() == Some(name.as_str()) && p.protocol == port.protocol)
                .map(|p| p.port),
        }
    }

    /// The Service port a connection to `port`/`protocol` uses.
    pub fn port(&self, protocol: L4Protocol, port: u16) -> Option<&ServicePort> {
        self.ports.iter().find(|p| p.protocol == protocol && p.port == port)
    }

    /// Whether an address is one of its fixed cluster IPs.
    pub fn has_address(&self, ip: IpAddr) -> bool {
        matches!(&self.cluster_ips, ClusterIps::Fixed(ips) if ips.contains(&ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::mk_pod;

    fn svc(selector: &[(&str, &str)], target: TargetPort) -> KubeService {
        KubeService {
            namespace: "ns".into(),
            name: "web".into(),
            kind: ServiceKind::ClusterIP,
            selector: Some(crate::fixtures::labels(selector)),
            cluster_ips: ClusterIps::Allocated,
            ports: vec![ServicePort { name: None, protocol: L4Protocol::Tcp, port: 80, target }],
            external_name: None,
        }
    }

    #[test]
    fn selects_by_every_label_in_its_own_namespace_only() {
        let s = svc(&[("app", "web"), ("tier", "front")], TargetPort::Number(8080));
        assert!(s.selects(&mk_pod("ns", "a", &[("app", "web"), ("tier", "front"), ("x", "y")])));
        assert!(!s.selects(&mk_pod("ns", "b", &[("app", "web")])));
        assert!(!s.selects(&mk_pod("other", "c", &[("app", "web"), ("tier", "front")])));
        let mut host = mk_pod("ns", "d", &[("app", "web"), ("tier", "front")]);
        host.host_network = true;
        assert!(!s.selects(&host), "hostNetwork pods are endpoints on the node's address, not the pod's");
        let none = KubeService { selector: None, ..s };
        assert!(!none.selects(&mk_pod("ns", "a", &[("app", "web"), ("tier", "front")])));
    }

    #[test]
    fn a_named_target_port_is_each_backends_own_container_port() {
        let s = svc(&[("app", "web")], TargetPort::Name("http".into()));
        let mut a = mk_pod("ns", "a", &[("app", "web")]);
        a.ports = vec![ContainerPortInfo { name: Some("http".into()), port: 8080, protocol: L4Protocol::Tcp }];
        let mut b = mk_pod("ns", "b", &[("app", "web")]);
        b.ports = vec![ContainerPortInfo { name: Some("http".into()), port: 9090, protocol: L4Protocol::Tcp }];
        let mut udp = mk_pod("ns", "c", &[("app", "web")]);
        udp.ports = vec![ContainerPortInfo { name: Some("http".into()), port: 8080, protocol: L4Protocol::Udp }];
        let p = &s.ports[0];
        assert_eq!(KubeService::target_port(p, &a), Some(8080));
        assert_eq!(KubeService::target_port(p, &b), Some(9090));
        assert_eq!(KubeService::target_port(p, &udp), None, "the name must be a port of the same protocol");
        assert_eq!(KubeService::target_port(p, &mk_pod("ns", "d", &[])), None);
    }

    #[test]
    fn names_and_ports_print_as_kubectl_does() {
        let s = svc(&[], TargetPort::Number(8080));
        assert_eq!(s.fqdn(), "web.ns.svc.cluster.local");
        assert_eq!(s.ports[0].to_string(), "80/TCP -> 8080");
        assert_eq!(svc(&[], TargetPort::Number(80)).ports[0].to_string(), "80/TCP");
    }
}
