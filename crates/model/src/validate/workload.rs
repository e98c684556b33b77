use super::{Checked, Findings, required_name};
use crate::api::{IntOrString, ObjectMeta, PodManifest, PodSpec, ProbeSpec, WorkloadManifest};
use crate::labels::{Labels, validate_label_key, validate_label_value};
use crate::workload::{ContainerPortInfo, L4Protocol, Probe, Workload, WorkloadKind};
use std::net::IpAddr;

/// A Pod: its labels, service account, addresses and probes.
pub fn pod(m: &PodManifest) -> Checked<Workload> {
    let mut f = Findings::default();
    let mut addresses: Vec<IpAddr> = Vec::new();
    if let Some(status) = &m.status {
        let listed: Vec<(String, &str)> = if status.pod_ips.is_empty() {
            status.pod_ip.iter().map(|ip| ("status.podIP".to_string(), ip.as_str())).collect()
        } else {
            status.pod_ips.iter().enumerate().map(|(i, p)| (format!("status.podIPs[{i}].ip"), p.ip.as_str())).collect()
        };
        for (path, text) in listed {
            match text.parse::<IpAddr>() {
                Ok(ip) if !addresses.contains(&ip) => addresses.push(ip),
                Ok(_) => {}
                Err(_) => f.error(path, Some(text.to_string()), "not an IP address"),
            }
        }
    }
    let w = common(&m.kind, &m.metadata, &m.metadata, &m.spec, "", addresses, &mut f);
    f.finish(|| Workload { replicas: 1, ..w })
}

/// A controller with a pod template, standing for every pod it makes.
pub fn workload(m: &WorkloadManifest) -> Checked<Workload> {
    let mut f = Findings::default();
    let t = &m.spec.template;
    let w = common(&m.kind, &m.metadata, &t.metadata, &t.spec, "spec.template.", Vec::new(), &mut f);
    let replicas = match m.spec.replicas {
        None => 1,
        Some(n) if (0..=10_000).contains(&n) => n as u32,
        Some(n) => {
            f.error("spec.replicas", Some(n.to_string()), "must be between 0 and 10000");
            0
        }
    };
    f.finish(|| Workload { replicas, ..w })
}

fn common(
    kind: &str,
    meta: &ObjectMeta,
    pod_meta: &ObjectMeta,
    spec: &PodSpec,
    prefix: &str,
    addresses: Vec<IpAddr>,
    f: &mut Findings,
) -> Workload {
    let name = required_name(&meta.name, f, "the object's name");
    let namespace = meta.namespace();
    labels(&pod_meta.labels, &format!("{prefix}metadata.labels"), f);
    let service_account = spec
        .service_account_name
        .clone()
        .or_else(|| spec.service_account.clone())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "default".to_string());
    let kind = WorkloadKind::parse(kind).unwrap_or_else(|| {
        let kinds: Vec<&str> = WorkloadKind::ALL.iter().map(|k| k.as_str()).collect();
        f.error("kind", Some(kind.to_string()), format!("podsg reads these workloads: {}", kinds.join(", ")));
        WorkloadKind::Pod
    });
    Workload {
        kind,
        namespace,
        name,
        labels: pod_meta.labels.clone(),
        annotations: pod_meta.annotations.clone(),
        service_account,
        host_network: spec.host_network,
        node_name: spec.node_name.clone(),
        addresses,
        probes: probes(spec, &format!("{prefix}spec"), f),
        ports: ports(spec, &format!("{prefix}spec"), f),
        replicas: 1,
        owner: meta
            .owner_references
            .iter()
            .find(|o| o.controller == Some(true))
            .map(|o| (o.kind.clone(), o.name.clone())),
    }
}

pub(super) fn labels(labels: &Labels, path: &str, f: &mut Findings) {
    for (key, value) in labels {
        if let Some(why) = validate_label_key(key) {
            f.error(path, Some(key.clone()), why);
        }
        if let Some(why) = validate_label_value(value) {
            f.error(format!("{path}.{key}"), Some(value.clone()), why);
        }
    }
}

/// Every container's declared ports (sidecars' too: they serve beside the app).
fn ports(spec: &PodSpec, path: &str, f: &mut Findings) -> Vec<ContainerPortInfo> {
    let mut out = Vec::new();
    let containers = spec.containers.iter().enumerate().map(|(i, c)| ("containers", i, c));
    let inits = spec.init_containers.iter().enumerate().map(|(i, c)| ("initContainers", i, c));
    for (list, i, c) in containers.chain(inits) {
        for (j, p) in c.ports.iter().enumerate() {
            let at = format!("{path}.{list}[{i}].ports[{j}]");
            let port = u16::try_from(p.container_port).ok().filter(|n| *n > 0);
            if port.is_none() {
                f.error(
                    format!("{at}.containerPort"),
                    Some(p.container_port.to_string()),
                    "must be between 1 and 65535",
                );
            }
            let protocol = L4Protocol::parse(p.protocol.as_deref());
            if protocol.is_none() {
                f.error(format!("{at}.protocol"), p.protocol.clone(), L4Protocol::RULE);
            }
            if let (Some(port), Some(protocol)) = (port, protocol) {
                out.push(ContainerPortInfo { name: p.name.clone().filter(|n| !n.is_empty()), port, protocol });
            }
        }
    }
    out
}

fn probes(spec: &PodSpec, path: &str, f: &mut Findings) -> Vec<Probe> {
    let mut out = Vec::new();
    // Native sidecars (init containers that keep running) are probed too.
    let sidecars =
        spec.init_containers.iter().enumerate().filter(|(_, c)| c.restart_policy.as_deref() == Some("Always"));
    let containers = spec.containers.iter().enumerate().map(|(i, c)| ("containers", i, c));
    for (list, i, c) in containers.chain(sidecars.map(|(i, c)| ("initContainers", i, c))) {
        let kinds: [(&str, &Option<ProbeSpec>); 3] = [
            ("livenessProbe", &c.liveness_probe),
            ("readinessProbe", &c.readiness_probe),
            ("startupProbe", &c.startup_probe),
        ];
        for (probe, spec) in kinds {
            let Some(spec) = spec else { continue };
            let handlers = [("tcpSocket", &spec.tcp_socket), ("httpGet", &spec.http_get), ("grpc", &spec.grpc)];
            for (handler, port) in handlers {
                let Some(port) = port else { continue };
                // With a host, kubelet connects there, not to the pod.
                if port.host.as_deref().is_some_and(|h| !h.is_empty()) {
                    continue;
                }
                let at = format!("{path}.{list}[{i}].{probe}.{handler}.port");
                let number = match &port.port {
                    IntOrString::Int(n) if (1..=65535).contains(n) => Some(*n as u16),
                    IntOrString::Int(n) => {
                        f.error(at, Some(n.to_string()), "must be between 1 and 65535");
                        None
                    }
                    IntOrString::String(named) => {
                        let found = c.ports.iter().find(|p| p.name.as_deref() == Some(named.as_str()));
                        match found {
                            Some(p) if (1..=65535).contains(&p.container_port) => Some(p.container_port as u16),
                            _ => {
                                f.warning(
                                    at,
                                    Some(named.clone()),
                                    "no container port has this name; the probe cannot connect",
                                );
                                None
                            }
                        }
                    }
                };
                if let Some(port) = number {
                    out.push(Probe { container: c.name.clone(), probe: probe.into(), handler: handler.into(), port });
                }
            }
        }
    }
    out
}
