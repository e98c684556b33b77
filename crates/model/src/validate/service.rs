use super::{Checked, Findings, required_name};
use crate::api::{IntOrString, ServiceManifest};
use crate::kube_service::{ClusterIps, KubeService, ServiceKind, ServicePort, TargetPort};
use crate::workload::L4Protocol;
use std::collections::HashSet;
use std::net::IpAddr;

/// A Service, checked as the API server checks it.
pub fn service(m: &ServiceManifest) -> Checked<KubeService> {
    let mut f = Findings::default();
    let name = required_name(&m.metadata.name, &mut f, "the Service's name");
    if !name.is_empty() && !is_dns1035_label(&name) {
        f.error("metadata.name", Some(name.clone()), DNS1035);
    }
    let spec = &m.spec;
    let kind = match spec.kind.as_deref() {
        None | Some("") => ServiceKind::ClusterIP,
        Some(k) => ServiceKind::parse(k).unwrap_or_else(|| {
            let kinds: Vec<&str> = ServiceKind::ALL.iter().map(|k| k.as_str()).collect();
            f.error("spec.type", Some(k.to_string()), format!("must be one of {}", kinds.join(", ")));
            ServiceKind::ClusterIP
        }),
    };
    if let Some(selector) = &spec.selector {
        super::workload::labels(selector, "spec.selector", &mut f);
    }
    let cluster_ips = cluster_ips(spec.cluster_ip.as_deref(), &spec.cluster_ips, &mut f);
    if cluster_ips == ClusterIps::Headless && kind != ServiceKind::ClusterIP && kind != ServiceKind::ExternalName {
        f.error("spec.clusterIP", Some("None".into()), format!("may not be None for type {}", kind.as_str()));
    }
    let external_name = spec.external_name.clone().filter(|n| !n.is_empty());
    if kind == ServiceKind::ExternalName {
        match &external_name {
            None => f.error("spec.externalName", None, "is required for type ExternalName"),
            Some(n) => {
                if let Some(why) = crate::labels::validate_dns_subdomain(n.trim_end_matches('.')) {
                    f.error("spec.externalName", Some(n.clone()), why);
                }
            }
        }
    }
    let ports = ports(m, kind, &cluster_ips, &mut f);
    f.finish(|| KubeService {
        namespace: m.metadata.namespace(),
        name,
        kind,
        selector: spec.selector.clone().filter(|s| !s.is_empty()),
        cluster_ips,
        ports,
        external_name,
    })
}

const DNS1035: &str = "must be a lowercase RFC 1035 label: at most 63 lowercase letters, digits and '-', starting with a letter and ending with a letter or digit";

/// A DNS label: at most 63 lowercase letters, digits and '-', ending with
/// a letter or digit and starting with a letter (RFC 1035) or either (RFC 1123).
fn is_label(s: &str, letter_first: bool) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && (b[0].is_ascii_lowercase() || (!letter_first && b[0].is_ascii_digit()))
        && (b[b.len() - 1].is_ascii_lowercase() || b[b.len() - 1].is_ascii_digit())
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

fn is_dns1035_label(s: &str) -> bool {
    is_label(s, true)
}

fn is_dns1123_label(s: &str) -> bool {
    is_label(s, false)
}

/// Kubernetes `IsValidPortName`: an IANA service name.
fn port_name_problem(s: &str) -> Option<&'static str> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 15 {
        return Some("must be 1 to 15 characters (an IANA service name)");
    }
    if !b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-') {
        return Some("must contain only lowercase letters, digits and '-' (an IANA service name)");
    }
    if !b.iter().any(u8::is_ascii_lowercase) {
        return Some("must contain at least one letter (an IANA service name)");
    }
    if s.contains("--") || s.starts_with('-') || s.ends_with('-') {
        return Some("must not begin or end with '-' or contain '--' (an IANA service name)");
    }
    None
}

fn cluster_ips(single: Option<&str>, listed: &[String], f: &mut Findings) -> ClusterIps {
    let first = single.filter(|s| !s.is_empty()).or(listed.first().map(String::as_str));
    if let (Some(a), Some(b)) = (single.filter(|s| !s.is_empty()), listed.first())
        && a != b
    {
        f.error("spec.clusterIPs[0]", Some(b.clone()), format!("must be the same as spec.clusterIP ({a})"));
    }
    match first {
        None => ClusterIps::Allocated,
        Some("None") => {
            if listed.len() > 1 {
                f.error("spec.clusterIPs", Some(listed.join(", ")), "a headless Service has one entry, None");
            }
            ClusterIps::Headless
        }
        Some(_) => {
            let texts: Vec<(String, &str)> = if listed.is_empty() {
                vec![("spec.clusterIP".into(), first.expect("some"))]
            } else {
                listed.iter().enumerate().map(|(i, s)| (format!("spec.clusterIPs[{i}]"), s.as_str())).collect()
            };
            let mut ips: Vec<IpAddr> = Vec::new();
            for (path, text) in texts {
                match text.parse::<IpAddr>() {
                    Ok(ip) => ips.push(ip),
                    Err(_) => f.error(path, Some(text.into()), "must be an IP address, None, or empty (allocated)"),
                }
            }
            if ips.len() > 2 || (ips.len() == 2 && ips[0].is_ipv4() == ips[1].is_ipv4()) {
                f.error("spec.clusterIPs", Some(listed.join(", ")), "holds at most one IPv4 and one IPv6 address");
            }
            ClusterIps::Fixed(ips)
        }
    }
}

fn ports(m: &ServiceManifest, kind: ServiceKind, ips: &ClusterIps, f: &mut Findings) -> Vec<ServicePort> {
    let spec = &m.spec;
    if spec.ports.is_empty() && kind != ServiceKind::ExternalName && *ips != ClusterIps::Headless {
        f.error("spec.ports", None, "is required: a Service that is not headless needs at least one port");
    }
    let mut out = Vec::new();
    let mut names = HashSet::new();
    let mut seen = HashSet::new();
    for (i, p) in spec.ports.iter().enumerate() {
        let at = |field: &str| format!("spec.ports[{i}].{field}");
        let name = p.name.clone().filter(|n| !n.is_empty());
        match &name {
            None if spec.ports.len() > 1 => {
                f.error(at("name"), None, "is required when a Service has more than one port")
            }
            None => {}
            Some(n) => {
                if !is_dns1123_label(n) {
                    f.error(
                        at("name"),
                        Some(n.clone()),
                        "must be a lowercase RFC 1123 label: at most 63 lowercase letters, digits and '-'",
                    );
                }
                if !names.insert(n.clone()) {
                    f.error(at("name"), Some(n.clone()), "is used by another port of this Service");
                }
            }
        }
        let port = u16::try_from(p.port).ok().filter(|n| *n > 0);
        if port.is_none() {
            f.error(at("port"), Some(p.port.to_string()), "must be between 1 and 65535");
        }
        let protocol = L4Protocol::parse(p.protocol.as_deref());
        if protocol.is_none() {
            f.error(at("protocol"), p.protocol.clone(), L4Protocol::RULE);
        }
        let target = match &p.target_port {
            None => port.map(TargetPort::Number),
            Some(IntOrString::Int(0)) => port.map(TargetPort::Number),
            Some(IntOrString::Int(n)) => match u16::try_from(*n).ok().filter(|n| *n > 0) {
                Some(n) => Some(TargetPort::Number(n)),
                None => {
                    f.error(
                        at("targetPort"),
                        Some(n.to_string()),
                        "must be between 1 and 65535, or a container port's name",
                    );
                    None
                }
            },
            Some(IntOrString::String(s)) => match s.parse::<u16>() {
                // kubectl writes "8080" for a number given as a string.
                Ok(n) if n > 0 => Some(TargetPort::Number(n)),
                _ => match port_name_problem(s) {
                    None => Some(TargetPort::Name(s.clone())),
                    Some(why) => {
                        f.error(at("targetPort"), Some(s.clone()), why);
                        None
                    }
                },
            },
        };
        if let (Some(port), Some(protocol), Some(target)) = (port, protocol, target) {
            if !seen.insert((port, protocol)) {
                f.error(at("port"), Some(port.to_string()), format!("{port}/{protocol} is listed twice"));
            }
            out.push(ServicePort { name, protocol, port, target });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::typed_node;

    fn check(yaml: &str) -> Checked<KubeService> {
        let node = crate::decode::document(yaml).expect("yaml");
        service(&typed_node::<ServiceManifest>(&node).expect("shape"))
    }

    fn errors(yaml: &str) -> Vec<String> {
        match check(yaml) {
            Ok(_) => Vec::new(),
            Err(ds) => ds.iter().filter(|d| d.is_error()).map(|d| format!("{}: {}", d.path, d.message)).collect(),
        }
    }

    #[test]
    fn the_tke_walkthroughs_service_reads_as_written() {
        let (s, warnings) = check(
            "metadata: {name: my-app, namespace: my-namespace, labels: {app: my-app}}\nspec:\n  selector: {app: my-app}\n  ports:\n  - {protocol: TCP, port: 80, targetPort: 80}\n",
        )
        .expect("valid");
        assert!(warnings.is_empty());
        assert_eq!(s.id(), "my-namespace/my-app");
        assert_eq!(s.kind, ServiceKind::ClusterIP);
        assert_eq!(s.cluster_ips, ClusterIps::Allocated);
        assert_eq!(
            s.ports,
            vec![ServicePort { name: None, protocol: L4Protocol::Tcp, port: 80, target: TargetPort::Number(80) }]
        );
    }

    #[test]
    fn defaults_and_spellings_the_api_server_accepts() {
        let (s, _) = check(
            "metadata: {name: dns}\nspec:\n  clusterIP: 10.96.0.10\n  clusterIPs: [10.96.0.10, 'fd00::a']\n  selector: {}\n  ports:\n  - {name: dns, port: 53, protocol: UDP}\n  - {name: dns-tcp, port: 53, targetPort: dns-tcp}\n  - {name: metrics, port: 9153, targetPort: '9153'}\n",
        )
        .expect("valid");
        assert_eq!(s.namespace, "default");
        assert_eq!(s.selector, None, "an empty selector is no selector");
        assert_eq!(s.cluster_ips, ClusterIps::Fixed(vec!["10.96.0.10".parse().unwrap(), "fd00::a".parse().unwrap()]));
        let targets: Vec<String> = s.ports.iter().map(ToString::to_string).collect();
        assert_eq!(targets, ["53/UDP", "53/TCP -> dns-tcp", "9153/TCP"]);
        let (h, _) = check("metadata: {name: db}\nspec: {clusterIP: None, selector: {app: db}}\n").expect("valid");
        assert_eq!(h.cluster_ips, ClusterIps::Headless);
        let (e, _) =
            check("metadata: {name: ext}\nspec: {type: ExternalName, externalName: db.example.com}\n").expect("valid");
        assert_eq!(e.external_name.as_deref(), Some("db.example.com"));
    }

    #[test]
    fn every_mistake_names_its_field() {
        assert_eq!(
            errors("metadata: {name: My_App}\nspec: {ports: [{port: 80}]}\n"),
            [format!("metadata.name: {DNS1035}")]
        );
        assert_eq!(
            errors("metadata: {name: a}\nspec: {type: Internal, ports: [{port: 80}]}\n"),
            ["spec.type: must be one of ClusterIP, NodePort, LoadBalancer, ExternalName"]
        );
        assert_eq!(
            errors("metadata: {name: a}\nspec: {}\n"),
            ["spec.ports: is required: a Service that is not headless needs at least one port"]
        );
        assert_eq!(
            errors("metadata: {name: a}\nspec:\n  ports:\n  - {port: 0, protocol: tcp, targetPort: 70000}\n"),
            [
                "spec.ports[0].port: must be between 1 and 65535",
                "spec.ports[0].protocol: must be TCP, UDP or SCTP",
                "spec.ports[0].targetPort: must be between 1 and 65535, or a container port's name",
            ]
        );
        assert_eq!(
            errors(
                "metadata: {name: a}\nspec:\n  ports:\n  - {port: 80, targetPort: http--x}\n  - {name: b, port: 81, targetPort: '1234567890123456'}\n"
            ),
            [
                "spec.ports[0].name: is required when a Service has more than one port",
                "spec.ports[0].targetPort: must not begin or end with '-' or contain '--' (an IANA service name)",
                "spec.ports[1].targetPort: must be 1 to 15 characters (an IANA service name)",
            ]
        );
        assert_eq!(
            errors("metadata: {name: a}\nspec:\n  ports:\n  - {name: x, port: 80}\n  - {name: x, port: 80}\n"),
            [
                "spec.ports[1].name: is used by another port of this Service",
                "spec.ports[1].port: 80/TCP is listed twice"
            ]
        );
        assert_eq!(
            errors("metadata: {name: a}\nspec: {clusterIP: 10.0.0.300, ports: [{port: 1}]}\n"),
            ["spec.clusterIP: must be an IP address, None, or empty (allocated)"]
        );
        assert_eq!(
            errors("metadata: {name: a}\nspec: {clusterIP: 10.0.0.1, clusterIPs: [10.0.0.2], ports: [{port: 1}]}\n"),
            ["spec.clusterIPs[0]: must be the same as spec.clusterIP (10.0.0.1)"]
        );
        assert_eq!(
            errors("metadata: {name: a}\nspec: {type: NodePort, clusterIP: None, ports: [{port: 1}]}\n"),
            ["spec.clusterIP: may not be None for type NodePort"]
        );
        assert_eq!(
            errors("metadata: {name: a}\nspec: {type: ExternalName}\n"),
            ["spec.externalName: is required for type ExternalName"]
        );
        assert_eq!(errors("metadata: {name: a}\nspec: {selector: {'app name': x}, ports: [{port: 1}]}\n").len(), 1);
    }
}
