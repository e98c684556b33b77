//! The pitfalls the EKS and TKE documents warn about, found before they bite:
//! `podsg check` runs these over a loaded catalog. Each returns warnings and
//! notes; none of them changes anything.

mod dns;
mod probes;
mod services;
mod usage;

use crate::catalog::Catalog;
use crate::diagnostic::Diagnostic;
use crate::settings::EnforcingMode;
use crate::verdict::Engine;

/// EKS's default quota of security groups per network interface.
pub const EKS_GROUPS_PER_INTERFACE: usize = 5;

/// Runs every check; `mode` is the enforcing mode to check probes against.
pub fn lint(catalog: &Catalog, mode: EnforcingMode) -> Vec<Diagnostic> {
    // The probe check evaluates a flow per probe of every pod: at 50,000
    // pods it is most of the work, shared by every core in slices of pods
    // while this thread runs the other checks first.
    let engine = Engine::new(&catalog.groups, mode);
    let slices = catalog.workloads.len().div_ceil(PROBE_SLICE);
    let probes = |i| probes::blocked_probes(catalog, &engine, i * PROBE_SLICE..(i + 1) * PROBE_SLICE);
    let (probes, (dns, usage)) = share(slices, probes, || {
        let dns = dns::unreachable_dns(catalog, mode);
        let usage = [
            usage::policies_selecting_nothing(catalog),
            usage::too_many_groups(catalog),
            usage::unreferenced_groups(catalog),
            usage::unknown_service_accounts(catalog),
            usage::host_network_selected(catalog),
            usage::outside_groups_on_pods(catalog),
            services::services_without_backends(catalog),
        ];
        (dns, usage)
    });
    let parts: Vec<Vec<Diagnostic>> = [dns].into_iter().chain(probes).chain(usage).collect();
    // One allocation of the exact size: at 50,000 pods this is a large list.
    let mut all = Vec::with_capacity(parts.iter().map(Vec::len).sum());
    for part in parts {
        all.extend(part);
    }
    all
}

/// Pods whose probes one task checks.
const PROBE_SLICE: usize = 2_000;

/// `tasks` numbered tasks run on every core, this thread joining them once
/// `first` is done; their results in task order, and `first`'s.
fn share<T: Send, U>(tasks: usize, task: impl Fn(usize) -> T + Sync, first: impl FnOnce() -> U) -> (Vec<T>, U) {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let done = Mutex::new(Vec::with_capacity(tasks));
    let work = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= tasks {
                break;
            }
            let result = task(i);
            done.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((i, result));
        }
    };
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let helpers = cores.saturating_sub(1).max(1).min(tasks);
    let own = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..helpers).map(|_| scope.spawn(work)).collect();
        let own = first();
        work();
        for h in handles {
            h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        }
        own
    });
    let mut done = done.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    done.sort_unstable_by_key(|(i, _)| *i);
    (done.into_iter().map(|(_, r)| r).collect(), own)
}

/// A side's verdict in words, for warnings: which groups denied it.
fn denial(catalog: &Catalog, v: &crate::verdict::Verdict) -> String {
    use crate::verdict::SideVerdict;
    let side = |s: &SideVerdict, what: &str| match s {
        SideVerdict::Denied { groups } => {
            let labels: Vec<String> = groups.iter().map(|g| catalog.group_label(g)).collect();
            Some(format!("no {what} rule of {} allows it", labels.join(", ")))
        }
        _ => None,
    };
    [side(&v.egress, "egress"), side(&v.ingress, "ingress")].into_iter().flatten().collect::<Vec<_>>().join("; ")
}
