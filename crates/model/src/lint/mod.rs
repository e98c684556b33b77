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
    let mut out = Vec::new();
    out.extend(dns::unreachable_dns(catalog, mode));
    out.extend(probes::blocked_probes(catalog, mode));
    out.extend(usage::policies_selecting_nothing(catalog));
    out.extend(usage::too_many_groups(catalog));
    out.extend(usage::unreferenced_groups(catalog));
    out.extend(usage::unknown_service_accounts(catalog));
    out.extend(usage::host_network_selected(catalog));
    out.extend(usage::outside_groups_on_pods(catalog));
    out
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
