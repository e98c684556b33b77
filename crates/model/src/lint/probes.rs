//! "The security group must allow inbound communication from the cluster
//! security group (for kubelet) over any ports you've configured probes for."
//! In strict mode kubelet's probes are checked against the pod's groups.

use super::denial;
use crate::catalog::{Catalog, workload_ref};
use crate::diagnostic::Diagnostic;
use crate::flow::Service;
use crate::settings::EnforcingMode;
use crate::verdict::{Decision, Engine};
use std::ops::Range;

/// The blocked probes of the pods in `slice` of the catalog's workloads
/// (none in standard mode: kubelet's own node is always allowed).
pub fn blocked_probes(catalog: &Catalog, engine: &Engine<'_>, slice: Range<usize>) -> Vec<Diagnostic> {
    if engine.mode() == EnforcingMode::Standard {
        return Vec::new();
    }
    let mut out = Vec::new();
    // A pod's template problem is said on its controller when that is here.
    let slice = slice.start.min(catalog.workloads.len())..slice.end.min(catalog.workloads.len());
    for w in catalog.workloads[slice].iter().filter(|w| !w.probes.is_empty() && catalog.owner_of(w).is_none()) {
        let pod = catalog.workload_endpoint(w);
        let kubelet = catalog.node_endpoint(w.node_name.as_deref());
        for probe in &w.probes {
            let service = Service::Tcp(probe.port);
            // The decision alone is cheap; the explanation only for a denial.
            if engine.decide(&kubelet, &pod, service) == Decision::Deny {
                let v = engine.verdict(&kubelet, &pod, service);
                out.push(catalog.about(
                    workload_ref(w),
                    Diagnostic::warning(format!(
                        "{} of container {} ({} port {}) is blocked in strict mode: kubelet connects from the node, and {}; allow tcp {} from the node group, or use standard mode",
                        probe.probe, probe.container, probe.handler, probe.port, denial(catalog, &v), probe.port
                    )),
                ));
            }
        }
    }
    out
}
