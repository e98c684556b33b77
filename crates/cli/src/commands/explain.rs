use crate::args::{Explain, Output};
use crate::output::{Report, count, print_data, print_text};
use podsg_manifests::load;
use podsg_model::catalog::FlowTarget;
use podsg_model::flow::Service;
use podsg_model::group::Protocol;
use podsg_model::verdict::{Decision, Endpoint, Enforcer, Engine, SideVerdict, Verdict};
use podsg_model::{Catalog, Diagnostic, Severity};
use serde_json::json;

/// Exit 0 whatever the verdict (with `--exit-code`: 3 on deny, 4 on
/// unknown); 2 when the input is bad.
pub fn run(args: &Explain) -> u8 {
    let loaded = match load(&args.paths) {
        Ok((loaded, _)) => loaded,
        Err(problems) => return bad_input(args.output, problems),
    };
    let service_name = |why: String| format!("--protocol {}: {why}", args.protocol);
    let catalog = &loaded.catalog;
    let mut problems = Vec::new();
    let from = catalog.endpoint(&args.from).map_err(|e| format!("--from {e}"));
    let to = catalog.flow_target(&args.to).map_err(|e| format!("--to {e}"));
    // A Service's ports are checked against the Service; a flow's here.
    let service = match &to {
        Ok(FlowTarget::Service(_)) => Ok(None),
        _ => Protocol::parse(&args.protocol)
            .map_err(service_name)
            .and_then(|p| Service::new(p, args.port, args.icmp_code).map_err(service_name))
            .map(Some),
    };
    for r in [service.as_ref().err(), from.as_ref().err(), to.as_ref().err()].into_iter().flatten() {
        problems.push(Diagnostic::error("", None, r.clone()));
    }
    let (Ok(service), Ok(from), Ok(to)) = (service, from, to) else {
        return bad_input(args.output, problems);
    };
    let mode = args.mode.map(Into::into).unwrap_or(catalog.settings.enforcing_mode);
    let (to, service) = match (to, service) {
        (FlowTarget::Endpoint(e), Some(service)) => (e, service),
        (FlowTarget::Service(s), _) => return super::explain_service::run(args, catalog, &from, s, mode),
        (FlowTarget::Endpoint(_), None) => unreachable!("a flow to an endpoint has its service"),
    };
    let verdict = Engine::new(&catalog.groups, mode).verdict(&from, &to, service);
    match args.output {
        Output::Json | Output::Yaml => print_data(
            args.output,
            &json!({
                "verdict": verdict.verdict,
                "service": verdict.service,
                "mode": verdict.mode,
                "from": from,
                "to": to,
                "egress": verdict.egress,
                "ingress": verdict.ingress,
                "enforcedBy": {"egress": verdict.egress_enforcer, "ingress": verdict.ingress_enforcer},
                "chain": chain(catalog, &verdict, &from, &to),
                "summary": {"verdict": verdict.verdict, "errors": 0},
            }),
        ),
        Output::Text => print_explanation(catalog, &verdict, &from, &to),
    }
    match verdict.verdict {
        Decision::Deny if args.exit_code => 3,
        Decision::Unknown if args.exit_code => 4,
        _ => 0,
    }
}

pub(super) fn bad_input(output: Output, problems: Vec<Diagnostic>) -> u8 {
    match output {
        Output::Json | Output::Yaml => {
            let summary = json!({"verdict": null, "errors": count(&problems, Severity::Error)});
            Report::new(&problems, None, summary).print(output);
        }
        Output::Text => print_text(&problems),
    }
    debug_assert!(problems.iter().any(|d| d.severity == Severity::Error), "bad input always has an error");
    2
}

pub(super) fn groups(catalog: &Catalog, e: &Endpoint) -> String {
    if e.groups.is_empty() {
        return "no groups".into();
    }
    let labels: Vec<String> = e.groups.iter().map(|g| catalog.group_label(g)).collect();
    format!("groups {}", labels.join(", "))
}

pub(super) fn addresses(e: &Endpoint) -> String {
    if e.addresses.is_empty() {
        return "address not known".into();
    }
    e.addresses.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// One line per side: what it said and, for a denial, what it checked.
pub(super) fn side_text(
    catalog: &Catalog,
    side: &SideVerdict,
    service: Service,
    peer: &Endpoint,
    word: &str,
) -> String {
    match side {
        SideVerdict::Allowed(m) => format!("allowed by {} (matched {})", m.describe(), peer_label(catalog, &m.peer)),
        SideVerdict::Denied { groups } => {
            let labels: Vec<String> = groups.iter().map(|g| catalog.group_label(g)).collect();
            format!(
                "denied: no rule of {} allows {service} {word} {} ({})",
                labels.join(", "),
                peer.id,
                self::groups(catalog, peer)
            )
        }
        SideVerdict::Unknown { rule, unknown } => format!("unknown: {} allows it only if {unknown}", rule.describe()),
        SideVerdict::RulesNotKnown { groups } => {
            let labels: Vec<String> = groups.iter().map(|g| catalog.group_label(g)).collect();
            format!(
                "unknown: no rule known here allows it, and some of {} are declared outside the manifests (their rules are not known)",
                labels.join(", ")
            )
        }
        SideVerdict::NotEnforced { reason } => format!("not checked: {reason}"),
        SideVerdict::NotNew { reason } => format!("dropped: {reason}"),
    }
}

/// A side's text and, when someone enforces it, who.
pub(super) fn enforced_text(text: String, enforcer: Enforcer) -> String {
    match enforcer {
        Enforcer::None => text,
        by => format!("{text}; {}", by.describe()),
    }
}

/// A rule's peer as people know it: a group with its name, or a CIDR.
fn peer_label(catalog: &Catalog, peer: &str) -> String {
    podsg_model::group::SgId::parse(peer).map(|id| catalog.group_label(&id)).unwrap_or_else(|_| peer.to_string())
}

pub(super) fn chain(catalog: &Catalog, v: &Verdict, from: &Endpoint, to: &Endpoint) -> Vec<String> {
    let egress = enforced_text(side_text(catalog, &v.egress, v.service, to, "to"), v.egress_enforcer);
    let ingress = enforced_text(side_text(catalog, &v.ingress, v.service, from, "from"), v.ingress_enforcer);
    vec![format!("egress of {}: {egress}", from.id), format!("ingress of {}: {ingress}", to.id)]
}

fn print_explanation(catalog: &Catalog, v: &Verdict, from: &Endpoint, to: &Endpoint) {
    say!("{} {} from {} to {} ({} mode)", v.verdict.to_string().to_uppercase(), v.service, from.id, to.id, v.mode);
    for (word, e) in [("from", from), ("to", to)] {
        say!("  {word:<8} {} [{}]: {}; {}", e.id, addresses(e), groups(catalog, e), e.why);
    }
    say!("  egress   {}", enforced_text(side_text(catalog, &v.egress, v.service, to, "to"), v.egress_enforcer));
    say!("  ingress  {}", enforced_text(side_text(catalog, &v.ingress, v.service, from, "from"), v.ingress_enforcer));
}
