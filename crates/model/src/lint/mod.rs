//! The pitfalls the EKS and TKE documents warn about, found before they bite:
//! `podsg check` runs these over a loaded catalog. Each returns warnings and
//! notes; none of them changes anything.

mod dns;
mod probes;
mod usage;

use crate::catalog::Catalog;
use crate::diagnostic::Diagnostic;
use crate::settings::EnforcingMode;

/// EKS's default quota of security groups per network interface.
pub const EKS_GROUPS_PER_INTERFACE: usize = 5;

/// Runs every check; `mode` is the enforcing mode to check probes against.
pub fn lint(catalog: &Catalog, mode: EnforcingMode) -> Vec<Diagnostic> {
    // The probe check evaluates a flow per probe of every pod: at 50,000
    // pods it runs on another core while the others run here.
    let (dns, probes, usage) = std::thread::scope(|scope| {
        let probes = scope.spawn(|| probes::blocked_probes(catalog, mode));
        let dns = dns::unreachable_dns(catalog, mode);
        let usage = [
            usage::policies_selecting_nothing(catalog),
            usage::too_many_groups(catalog),
            usage::unreferenced_groups(catalog),
            usage::unknown_service_accounts(catalog),
            usage::host_network_selected(catalog),
            usage::outside_groups_on_pods(catalog),
        ];
        (dns, probes.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), usage)
    });
    dns.into_iter().chain(probes).chain(usage.into_iter().flatten()).collect()
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
