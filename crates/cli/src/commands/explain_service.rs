//! `podsg explain --to` a Service: kube-proxy sends the connection to one
//! of its backends, and each backend's groups decide on its own port.

use super::explain::{addresses, bad_input, chain, enforced_text, groups, side_text};
use crate::args::{Explain, Output};
use crate::output::print_data;
use podsg_model::catalog::{ServiceDecision, ServiceFlow};
use podsg_model::kube_service::{ClusterIps, KubeService, ServicePort};
use podsg_model::settings::EnforcingMode;
use podsg_model::verdict::{Decision, Endpoint, Engine};
use podsg_model::workload::L4Protocol;
use podsg_model::{Catalog, Diagnostic};
use serde_json::json;

pub fn run(args: &Explain, catalog: &Catalog, from: &Endpoint, s: &KubeService, mode: EnforcingMode) -> u8 {
    let port = match service_port(args, s) {
        Ok(p) => p,
        Err(e) => return bad_input(args.output, vec![Diagnostic::error("", None, e)]),
    };
    let engine = Engine::new(&catalog.groups, mode);
    let flow = catalog.service_flow(&engine, from, s, port);
    match args.output {
        Output::Json | Output::Yaml => print_data(
            args.output,
            &json!({
                "verdict": decision_word(flow.decision),
                "mode": mode,
                "from": from,
                "to": {"service": s.id(), "clusterIPs": &s.cluster_ips, "port": port.to_string()},
                "backends": flow.backends.iter().map(|b| json!({
                    "backend": &b.backend,
                    "port": b.port,
                    "verdict": b.verdict.as_ref().map(|v| v.verdict),
                    "chain": b.verdict.as_ref().map(|v| chain(catalog, v, from, &b.backend)),
                })).collect::<Vec<_>>(),
                "summary": {"verdict": decision_word(flow.decision), "errors": 0},
            }),
        ),
        Output::Text => print_text(catalog, from, s, port, &flow, mode),
    }
    match flow.decision {
        ServiceDecision::Allow => 0,
        _ if !args.exit_code => 0,
        ServiceDecision::Unknown | ServiceDecision::EndpointsElsewhere => 4,
        ServiceDecision::Deny | ServiceDecision::Mixed | ServiceDecision::NoBackends => 3,
    }
}

/// The Service port `--protocol`/`--port` name; with one port of the
/// protocol, `--port` may be left out.
fn service_port<'a>(args: &Explain, s: &'a KubeService) -> Result<&'a ServicePort, String> {
    let protocol = match args.protocol.to_ascii_lowercase().as_str() {
        "tcp" | "6" => L4Protocol::Tcp,
        "udp" | "17" => L4Protocol::Udp,
        "sctp" | "132" => L4Protocol::Sctp,
        other => {
            return Err(format!(
                "--protocol {other}: Service {} forwards TCP, UDP and SCTP only; kube-proxy does not forward {other} to a Service",
                s.id()
            ));
        }
    };
    let listed = s.ports.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    let of_protocol: Vec<&ServicePort> = s.ports.iter().filter(|p| p.protocol == protocol).collect();
    match (args.port, of_protocol.as_slice()) {
        (Some(n), _) => u16::try_from(n).ok().and_then(|n| s.port(protocol, n)).ok_or_else(|| {
            format!("--port {n}: Service {} has no {protocol} port {n}; its ports are {listed}", s.id())
        }),
        (None, [one]) => Ok(one),
        (None, _) if s.ports.is_empty() => Err(format!("Service {} has no ports", s.id())),
        (None, _) => Err(format!("--port is required: Service {} has ports {listed}", s.id())),
    }
}

fn decision_word(d: ServiceDecision) -> &'static str {
    match d {
        ServiceDecision::Allow => "allow",
        ServiceDecision::Deny => "deny",
        ServiceDecision::Mixed => "mixed",
        ServiceDecision::Unknown => "unknown",
        ServiceDecision::NoBackends => "refused",
        ServiceDecision::EndpointsElsewhere => "unknown",
    }
}

fn print_text(
    catalog: &Catalog,
    from: &Endpoint,
    s: &KubeService,
    port: &ServicePort,
    flow: &ServiceFlow,
    mode: EnforcingMode,
) {
    let serving = flow.backends.iter().filter(|b| b.verdict.is_some()).count();
    let pods: u32 = catalog.backends(s).iter().map(|w| w.replicas).sum();
    let of = format!("{serving} of {} workloads, {pods} pods", flow.backends.len());
    let allowing =
        flow.backends.iter().filter(|b| b.verdict.as_ref().is_some_and(|v| v.verdict == Decision::Allow)).count();
    let headline = match flow.decision {
        ServiceDecision::Allow => format!("every backend allows it (backends: {of})"),
        ServiceDecision::Deny => format!("no backend allows it (backends: {of})"),
        ServiceDecision::Mixed => {
            format!("{allowing} of {serving} backends allow it: it works or not by the backend kube-proxy picks")
        }
        ServiceDecision::Unknown => "a backend's answer depends on what the manifests do not say".into(),
        ServiceDecision::NoBackends => "no pod serves this port: kube-proxy refuses the connection".into(),
        ServiceDecision::EndpointsElsewhere => {
            "the Service has no selector: its endpoints are written outside the manifests".into()
        }
    };
    say!(
        "{} {} {} from {} to Service {} ({mode} mode): {headline}",
        decision_word(flow.decision).to_uppercase(),
        port.protocol,
        port.port,
        from.id,
        s.id()
    );
    say!("  from     {} [{}]: {}; {}", from.id, addresses(from), groups(catalog, from), from.why);
    let ips = match &s.cluster_ips {
        ClusterIps::Fixed(ips) => ips.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
        ClusterIps::Allocated => "cluster IP allocated by the cluster".into(),
        ClusterIps::Headless => "headless: the name resolves to the backends".into(),
    };
    say!("  service  {} [{ips}] port {port}", s.fqdn());
    for b in &flow.backends {
        let Some(v) = &b.verdict else {
            say!(
                "  backend  {}: has no {} container port named {}; kube-proxy never sends this port to it",
                b.backend.id,
                port.protocol,
                port.target
            );
            continue;
        };
        say!(
            "  backend  {} [{}] {}: {}",
            b.backend.id,
            addresses(&b.backend),
            v.service,
            v.verdict.to_string().to_uppercase()
        );
        say!("    {}; {}", groups(catalog, &b.backend), b.backend.why);
        say!(
            "    egress   {}",
            enforced_text(side_text(catalog, &v.egress, v.service, &b.backend, "to"), v.egress_enforcer)
        );
        say!(
            "    ingress  {}",
            enforced_text(side_text(catalog, &v.ingress, v.service, from, "from"), v.ingress_enforcer)
        );
    }
}
