//! Objects that do nothing, or more than EKS would allow.

use super::EKS_GROUPS_PER_INTERFACE;
use crate::catalog::{Catalog, facts, group_ref, policy_ref, workload_ref};
use crate::diagnostic::Diagnostic;
use crate::group::SgId;
use std::collections::BTreeSet;

pub fn policies_selecting_nothing(catalog: &Catalog) -> Vec<Diagnostic> {
    let mut used: BTreeSet<(String, String)> = BTreeSet::new();
    for w in &catalog.workloads {
        for p in catalog.index.selecting(facts(w)).0 {
            used.insert((p.namespace.clone(), p.name.clone()));
        }
    }
    catalog
        .policies()
        .into_iter()
        .filter(|p| !used.contains(&(p.namespace.clone(), p.name.clone())))
        .map(|p| {
            catalog.about(
                policy_ref(p),
                Diagnostic::warning(format!("selects no pod or workload in namespace {}", p.namespace)),
            )
        })
        .collect()
}

pub fn too_many_groups(catalog: &Catalog) -> Vec<Diagnostic> {
    catalog
        .workloads
        .iter()
        .filter_map(|w| {
            let r = catalog.resolve(w);
            (r.groups.len() > EKS_GROUPS_PER_INTERFACE).then(|| {
                catalog.about(
                    workload_ref(w),
                    Diagnostic::warning(format!(
                        "carries {} security groups; EKS allows {EKS_GROUPS_PER_INTERFACE} per network interface by default (the aws backend will fail to create its branch interface)",
                        r.groups.len()
                    )),
                )
            })
        })
        .collect()
}

pub fn unreferenced_groups(catalog: &Catalog) -> Vec<Diagnostic> {
    let mut used: BTreeSet<&SgId> = catalog.settings.default_group_ids.iter().collect();
    for p in catalog.index.policies() {
        used.extend(&p.group_ids);
    }
    for g in catalog.groups.values() {
        used.extend(g.referenced_groups());
    }
    catalog
        .groups
        .values()
        .filter(|g| !used.contains(&g.id) && g.members.is_empty())
        .map(|g| {
            catalog.about(
                group_ref(&g.id),
                Diagnostic::warning("referenced by nothing: no SGP, rule or default lists it and it has no members"),
            )
        })
        .collect()
}

/// Only where an SGP selects by service account does a missing one matter.
pub fn unknown_service_accounts(catalog: &Catalog) -> Vec<Diagnostic> {
    let selecting: BTreeSet<&str> = catalog
        .index
        .policies()
        .filter(|p| p.service_account_selector.is_some())
        .map(|p| p.namespace.as_str())
        .collect();
    catalog
        .workloads
        .iter()
        .filter(|w| selecting.contains(w.namespace.as_str()))
        .filter_map(|w| {
            let sa = catalog.resolve(w).unknown_service_account?;
            Some(catalog.about(
                workload_ref(w),
                Diagnostic::note(format!(
                    "uses ServiceAccount {sa}, which is not in the manifests: serviceAccountSelectors were matched against no labels"
                )),
            ))
        })
        .collect()
}

/// EKS gives hostNetwork pods no branch interface: an SGP cannot apply.
pub fn host_network_selected(catalog: &Catalog) -> Vec<Diagnostic> {
    catalog
        .workloads
        .iter()
        .filter(|w| w.host_network)
        .filter_map(|w| {
            let mut facts = facts(w);
            facts.host_network = false;
            let (selected, _) = catalog.index.selecting(facts);
            (!selected.is_empty()).then(|| {
                let names: Vec<&str> = selected.iter().map(|p| p.name.as_str()).collect();
                catalog.about(
                    workload_ref(w),
                    Diagnostic::warning(format!(
                        "uses hostNetwork, so SecurityGroupPolicy {} cannot apply: it shares the node's address and groups",
                        names.join(", ")
                    )),
                )
            })
        })
        .collect()
}

/// SGPs that give pods a group described outside the manifests: the node
/// backend does not know its rules, so those pods get only what their other
/// groups allow (never more than in EC2).
pub fn outside_groups_on_pods(catalog: &Catalog) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for p in catalog.policies() {
        for id in p.group_ids.iter().filter(|id| catalog.groups.get(*id).is_some_and(|g| g.outside)) {
            out.push(catalog.about(
                policy_ref(p),
                Diagnostic::warning(format!(
                    "gives its pods {id}, which is declared outside the manifests: the node backend does not know \
                     its rules, so they add nothing (the pods get only what their other groups allow); the aws \
                     backend attaches the group itself"
                )),
            ));
        }
    }
    out
}
