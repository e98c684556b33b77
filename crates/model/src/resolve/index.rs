//! The policy index: SGPs per namespace, filed under a label pair each
//! selected pod must carry, so that resolving a pod looks at the few SGPs
//! that can match it rather than at all of them. Synchronous and in memory;
//! watchers (or a manifest loader) feed it with `apply`/`delete`.

use super::{GroupSource, Resolution};
use crate::group::SgId;
use crate::labels::Labels;
use crate::policy::Policy;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// What resolution needs to know about a pod.
#[derive(Clone, Copy, Debug)]
pub struct PodFacts<'a> {
    pub namespace: &'a str,
    pub labels: &'a Labels,
    pub service_account: &'a str,
    pub host_network: bool,
}

#[derive(Clone, Debug, Default)]
pub struct PolicyIndex {
    namespaces: HashMap<String, NamespacePolicies>,
    /// namespace -> service account -> labels
    service_accounts: HashMap<String, HashMap<String, Labels>>,
    default_groups: Vec<SgId>,
}

#[derive(Clone, Debug, Default)]
struct NamespacePolicies {
    /// By name: the order in which a pod takes the groups of several SGPs.
    policies: BTreeMap<String, Arc<Policy>>,
    /// label key -> value -> SGPs whose podSelector requires it.
    by_pod_label: LabelIndex,
    /// Same for serviceAccountSelectors without a usable podSelector anchor.
    by_sa_label: LabelIndex,
    /// SGPs with no anchor (empty selectors, only NotIn/Exists/DoesNotExist).
    unanchored: Vec<Arc<Policy>>,
}

type LabelIndex = HashMap<String, HashMap<String, Vec<Arc<Policy>>>>;

enum Anchor<'a> {
    Pod(&'a str, Vec<&'a String>),
    ServiceAccount(&'a str, Vec<&'a String>),
    None,
}

fn anchor(p: &Policy) -> Anchor<'_> {
    if let Some((key, values)) = p.pod_selector.as_ref().and_then(|s| s.anchor()) {
        return Anchor::Pod(key, values.iter().collect());
    }
    if let Some((key, values)) = p.service_account_selector.as_ref().and_then(|s| s.anchor()) {
        return Anchor::ServiceAccount(key, values.iter().collect());
    }
    Anchor::None
}

impl NamespacePolicies {
    fn file(&mut self, p: &Arc<Policy>) {
        let (index, key, values) = match anchor(p) {
            Anchor::Pod(k, v) => (&mut self.by_pod_label, k, v),
            Anchor::ServiceAccount(k, v) => (&mut self.by_sa_label, k, v),
            Anchor::None => {
                self.unanchored.push(p.clone());
                return;
            }
        };
        let by_value = index.entry(key.to_string()).or_default();
        for v in values {
            by_value.entry(v.clone()).or_default().push(p.clone());
        }
    }

    fn unfile(&mut self, p: &Policy) {
        let (index, key, values) = match anchor(p) {
            Anchor::Pod(k, v) => (&mut self.by_pod_label, k, v),
            Anchor::ServiceAccount(k, v) => (&mut self.by_sa_label, k, v),
            Anchor::None => {
                self.unanchored.retain(|q| q.name != p.name);
                return;
            }
        };
        if let Some(by_value) = index.get_mut(key) {
            for v in values {
                if let Some(names) = by_value.get_mut(v.as_str()) {
                    names.retain(|q| q.name != p.name);
                    if names.is_empty() {
                        by_value.remove(v.as_str());
                    }
                }
            }
            if by_value.is_empty() {
                index.remove(key);
            }
        }
    }

    /// SGPs that may select a pod with these labels, in name order.
    fn candidates<'a>(&'a self, pod: &Labels, sa: &Labels, out: &mut Vec<&'a Policy>) {
        for (index, labels) in [(&self.by_pod_label, pod), (&self.by_sa_label, sa)] {
            if index.is_empty() {
                continue;
            }
            for (k, v) in labels {
                if let Some(found) = index.get(k).and_then(|by_value| by_value.get(v)) {
                    out.extend(found.iter().map(|p| &**p));
                }
            }
        }
        out.extend(self.unanchored.iter().map(|p| &**p));
        out.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        out.dedup_by(|a, b| a.name == b.name);
    }
}

static NO_LABELS: std::sync::LazyLock<Labels> = std::sync::LazyLock::new(Labels::new);

impl PolicyIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces an SGP (by namespace and name).
    pub fn apply_policy(&mut self, policy: Policy) {
        let ns = self.namespaces.entry(policy.namespace.clone()).or_default();
        if let Some(old) = ns.policies.remove(&policy.name) {
            ns.unfile(&old);
        }
        let policy = Arc::new(policy);
        ns.file(&policy);
        ns.policies.insert(policy.name.clone(), policy);
    }

    pub fn delete_policy(&mut self, namespace: &str, name: &str) -> Option<Policy> {
        let ns = self.namespaces.get_mut(namespace)?;
        let old = ns.policies.remove(name)?;
        ns.unfile(&old);
        if ns.policies.is_empty() {
            self.namespaces.remove(namespace);
        }
        Some(Arc::unwrap_or_clone(old))
    }

    pub fn apply_service_account(&mut self, namespace: &str, name: &str, labels: Labels) {
        self.service_accounts.entry(namespace.to_string()).or_default().insert(name.to_string(), labels);
    }

    pub fn delete_service_account(&mut self, namespace: &str, name: &str) {
        if let Some(sas) = self.service_accounts.get_mut(namespace) {
            sas.remove(name);
        }
    }

    /// Every ServiceAccount's labels: (namespace, name, labels).
    pub fn service_accounts(&self) -> impl Iterator<Item = (&str, &str, &Labels)> {
        self.service_accounts
            .iter()
            .flat_map(|(ns, sas)| sas.iter().map(move |(name, labels)| (ns.as_str(), name.as_str(), labels)))
    }

    pub fn set_default_groups(&mut self, groups: Vec<SgId>) {
        self.default_groups = groups;
    }

    pub fn default_groups(&self) -> &[SgId] {
        &self.default_groups
    }

    pub fn policies(&self) -> impl Iterator<Item = &Policy> {
        self.namespaces.values().flat_map(|ns| ns.policies.values().map(|p| &**p))
    }

    pub fn policy(&self, namespace: &str, name: &str) -> Option<&Policy> {
        self.namespaces.get(namespace)?.policies.get(name).map(|p| &**p)
    }

    /// The SGPs that select the pod, in resolution (name) order.
    pub fn selecting<'a>(&'a self, pod: PodFacts<'_>) -> (Vec<&'a Policy>, Option<String>) {
        let (sa_labels, unknown_sa) = self.service_account_labels(pod.namespace, pod.service_account);
        let Some(ns) = self.namespaces.get(pod.namespace) else { return (Vec::new(), unknown_sa) };
        let mut candidates = Vec::new();
        ns.candidates(pod.labels, sa_labels, &mut candidates);
        candidates.retain(|p| p.selects(pod.labels, pod.service_account, sa_labels));
        (candidates, unknown_sa)
    }

    pub(crate) fn service_account_labels(&self, namespace: &str, name: &str) -> (&Labels, Option<String>) {
        match self.service_accounts.get(namespace).and_then(|sas| sas.get(name)) {
            Some(labels) => (labels, None),
            // Every namespace has a `default` service account without labels.
            None if name == "default" => (&NO_LABELS, None),
            None => (&NO_LABELS, Some(format!("{namespace}/{name}"))),
        }
    }

    /// The groups a pod carries: the union of its SGPs' groups, de-duplicated
    /// in first-seen order, or the default groups when no SGP selects it.
    pub fn resolve(&self, pod: PodFacts<'_>) -> Resolution {
        if pod.host_network {
            return Resolution {
                groups: self.default_groups.clone(),
                source: GroupSource::HostNetwork,
                unknown_service_account: None,
            };
        }
        let (selected, unknown_service_account) = self.selecting(pod);
        if selected.is_empty() {
            let source = if self.default_groups.is_empty() { GroupSource::Unrestricted } else { GroupSource::Default };
            return Resolution { groups: self.default_groups.clone(), source, unknown_service_account };
        }
        let groups = union_in_order(selected.iter().flat_map(|p| &p.group_ids));
        let names = selected.iter().map(|p| p.name.clone()).collect();
        Resolution { groups, source: GroupSource::Policies(names), unknown_service_account }
    }
}

impl PolicyIndex {
    /// The groups of a pod that the SGPs `names` (in resolution order) of
    /// `namespace` select, as `resolve` would give them: for when only the
    /// groups of an SGP changed, not whom it selects.
    pub(crate) fn groups_of(&self, namespace: &str, names: &[String]) -> Vec<SgId> {
        let Some(ns) = self.namespaces.get(namespace) else { return Vec::new() };
        union_in_order(names.iter().filter_map(|n| ns.policies.get(n)).flat_map(|p| &p.group_ids))
    }
}

/// De-duplicates in first-seen order. A pod usually takes a handful of
/// groups (a linear scan is fastest); a set keeps pathological unions linear.
fn union_in_order<'a>(ids: impl Iterator<Item = &'a SgId>) -> Vec<SgId> {
    let ids: Vec<&SgId> = ids.collect();
    if ids.len() <= 16 {
        let mut out: Vec<SgId> = Vec::with_capacity(ids.len());
        for id in ids {
            if !out.contains(id) {
                out.push(id.clone());
            }
        }
        return out;
    }
    let mut seen: HashSet<&SgId> = HashSet::with_capacity(ids.len());
    ids.into_iter().filter(|id| seen.insert(id)).cloned().collect()
}
