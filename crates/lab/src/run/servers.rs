//! The servers the expectations connect to: echo servers for `connect`,
//! the lab's HTTP server for `http`. A connection to a Service is served
//! by every ready backend on its own target port, so that whichever one
//! kube-proxy picks answers.

use super::*;
use crate::spec::Expectation;
use podsg_model::workload::L4Protocol;

/// Starts what the expectations need and is not running yet, unless a
/// real service (PostgreSQL, the DNS) answers there.
pub(super) fn expectation_servers(
    state: &mut LabState,
    catalog: &Catalog,
    planned: &[Planned],
    files: &LabFiles,
    dns: &[PodState],
) -> Result<()> {
    let step = Step::start("servers for the expectations");
    for e in &files.expectations {
        let http = e.check == CheckKind::Http;
        let protocol = e.protocol.as_deref().unwrap_or("tcp");
        let udp = !http && protocol == "udp";
        for (netns, address, port, name) in serving_points(state, catalog, planned, e) {
            let serves_postgres = files.spec.postgres.iter().any(|pg| pg.member == e.to) && port == 5432;
            let serves_dns = dns.iter().any(|d| d.netns == netns) && port == 53;
            let what = if http { daemons::http_name(address, port) } else { daemons::echo_name(address, port, udp) };
            if serves_postgres || serves_dns || state.processes.iter().any(|p| p.what == what) {
                continue;
            }
            if http {
                daemons::start_http(state, &netns, address, port, &name)?;
            } else {
                daemons::start_echo(state, &netns, address, port, udp)?;
            }
        }
    }
    state.save()?;
    step.done();
    Ok(())
}

/// Where an expectation's connection is answered: (namespace, address,
/// port, who answers).
fn serving_points(
    state: &LabState,
    catalog: &Catalog,
    planned: &[Planned],
    e: &Expectation,
) -> Vec<(String, IpAddr, u16, String)> {
    let (protocol, port) = match e.check {
        CheckKind::Http => (L4Protocol::Tcp, e.port.unwrap_or(80)),
        CheckKind::Connect => match (e.protocol.as_deref().unwrap_or("tcp"), e.port) {
            ("tcp", Some(p)) => (L4Protocol::Tcp, p),
            ("udp", Some(p)) => (L4Protocol::Udp, p),
            _ => return Vec::new(),
        },
        CheckKind::Psql | CheckKind::Dns => return Vec::new(),
    };
    let client_namespace = e.from.split_once('/').map_or("default", |(ns, _)| ns);
    match destination(state, &e.to, client_namespace, e.family) {
        Some(Destination::At(netns, address)) => vec![(netns, address, port, e.to.clone())],
        Some(Destination::Service(st)) => {
            let Some(s) = catalog.service(&st.namespace, &st.name) else { return Vec::new() };
            // Headless: the client connects to the backends themselves, on the port it names.
            let service_port = s.port(protocol, port);
            planned
                .iter()
                .filter(|p| s.selects_labels(&p.namespace, &p.labels))
                .filter_map(|p| {
                    let running = state.pod(&p.namespace, &p.name)?;
                    let target = match (st.cluster_ip, service_port) {
                        (None, _) => port,
                        (Some(_), Some(sp)) => podsg_model::kube_service::KubeService::target_port_in(sp, &p.ports)?,
                        (Some(_), None) => return None,
                    };
                    Some((running.netns.clone(), running.address?, target, format!("{}/{}", p.namespace, p.name)))
                })
                .collect()
        }
        None => Vec::new(),
    }
}
