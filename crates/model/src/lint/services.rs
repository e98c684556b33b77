//! Services whose traffic goes nowhere: no pod matches the selector, or a
//! backend lacks the named port a Service sends to.

use crate::catalog::Catalog;
use crate::diagnostic::{Diagnostic, ObjectRef};
use crate::kube_service::{KubeService, ServiceKind, TargetPort};

fn service_ref(s: &KubeService) -> ObjectRef {
    ObjectRef::new("Service", Some(&s.namespace), &s.name)
}

pub fn services_without_backends(catalog: &Catalog) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for s in catalog.services.iter().filter(|s| s.kind != ServiceKind::ExternalName) {
        if s.selector.is_none() {
            let d = Diagnostic::note(
                "has no selector: its endpoints are written outside the manifests, so podsg cannot say which pods serve it",
            );
            out.push(catalog.about(service_ref(s), d));
            continue;
        }
        let backends = catalog.backends(s);
        if backends.is_empty() {
            let d = Diagnostic::warning(format!(
                "selects no pod or workload in namespace {}: connections to it are refused",
                s.namespace
            ));
            out.push(catalog.about(service_ref(s), d));
        }
        for p in s.ports.iter().filter(|p| matches!(p.target, TargetPort::Name(_))) {
            for w in backends.iter().filter(|w| KubeService::target_port(p, w).is_none()) {
                let d = Diagnostic::warning(format!(
                    "port {p}: {} has no {} container port named {}; kube-proxy sends this port to its other backends only",
                    w.key(),
                    p.protocol,
                    p.target
                ));
                out.push(catalog.about(service_ref(s), d));
            }
        }
    }
    out
}
