//! The world as a controller or an agent holds it: validated objects
//! applied and deleted one at a time, each answered with what it changed
//! (`Changes`): the pods whose groups changed and the groups whose member
//! addresses or rules changed. A change costs work in proportion to what it
//! touches: each pod's resolution is kept; an SGP edit re-resolves the pods
//! of its namespace that its old or new version selects; a ServiceAccount's
//! labels, the pods that use it; a group, nothing but its own members.
//!
//! References to groups that do not exist are tracked per object
//! (`missing_groups`), so the controller, the webhook and `check` say the
//! same thing about the same object.

mod changes;
mod input;
mod members;
pub(crate) mod references;
mod workloads;

pub use changes::{AddressDelta, Changes, PodChange};
pub use input::{Input, InputChange, InputKey, Snapshot, diff};
pub use references::{Referrer, SECURITY_GROUP_NOT_FOUND, not_found_message};

use crate::catalog::{group_ref, policy_ref, resolve};
use crate::diagnostic::{Diagnostic, ObjectRef};
use crate::group::{SecurityGroup, SgId};
use crate::labels::Labels;
use crate::node::Node;
use crate::policy::Policy;
use crate::resolve::{GroupSource, PolicyIndex, Resolution};
use crate::settings::Settings;
use crate::workload::{Workload, WorkloadKey};
use members::Members;
pub(crate) use references::References;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use workloads::{Resolved, Slot, Workloads};

#[derive(Clone, Debug, Default)]
pub struct World {
    groups: BTreeMap<SgId, SecurityGroup>,
    policies: PolicyIndex,
    workloads: Workloads,
    namespaces: BTreeMap<String, Labels>,
    nodes: BTreeMap<String, Node>,
    /// Member slices as an agent receives them (name -> group and
    /// addresses): the members of other nodes' pods.
    slices: BTreeMap<String, (SgId, Vec<IpAddr>)>,
    settings: Settings,
    members: Members,
    references: References,
}

/// The config's identity in references.
fn config_ref() -> ObjectRef {
    ObjectRef::new("ClusterConfig", None, "cluster")
}

impl World {
    pub fn new() -> Self {
        Self::default()
    }

    // --- Queries ---

    pub fn group(&self, id: &SgId) -> Option<&SecurityGroup> {
        self.groups.get(id)
    }

    /// Every group, by ID.
    pub fn groups(&self) -> &BTreeMap<SgId, SecurityGroup> {
        &self.groups
    }

    pub fn workload(&self, key: &WorkloadKey) -> Option<&Workload> {
        self.workloads.get(key).map(|r| &r.workload)
    }

    /// The groups a workload carries, and why, as last resolved.
    pub fn resolution(&self, key: &WorkloadKey) -> Option<&Resolution> {
        self.workloads.get(key).map(|r| &r.resolution)
    }

    /// The addresses that carry `group`: its pods', its external members',
    /// and the nodes' when it is a default group.
    pub fn member_addresses(&self, group: &SgId) -> BTreeSet<IpAddr> {
        self.members.of(group)
    }

    /// The groups that some address carries.
    pub fn member_groups(&self) -> impl Iterator<Item = &SgId> {
        self.members.groups()
    }

    /// How many addresses carry `group`.
    pub fn member_count(&self, group: &SgId) -> usize {
        self.members.count(group)
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn policies(&self) -> &PolicyIndex {
        &self.policies
    }

    pub fn namespace_labels(&self, name: &str) -> Option<&Labels> {
        self.namespaces.get(name)
    }

    /// The workloads of `namespace` and their groups.
    pub fn in_namespace(&self, namespace: &str) -> impl Iterator<Item = (&Workload, &Resolution)> {
        self.workloads.in_namespace(namespace).map(|(_, r)| (&r.workload, &r.resolution))
    }

    /// The places (SGPs, groups' rules, the settings) that name `group`.
    pub fn referrers(&self, group: &SgId) -> impl Iterator<Item = &Referrer> {
        self.references.of(group)
    }

    /// Every place that names a group that does not exist.
    pub fn missing_groups(&self) -> Vec<Diagnostic> {
        self.references.missing(|id| self.groups.contains_key(id))
    }

    /// The groups `policy` names that do not exist, as `check` and the
    /// webhook report them, without applying it.
    pub fn policy_missing_groups(&self, policy: &Policy) -> Vec<Diagnostic> {
        references::in_policy(policy)
            .iter()
            .filter(|(id, _)| !self.groups.contains_key(id))
            .map(|(id, r)| references::not_found(r, id))
            .collect()
    }

    // --- Changes ---

    pub fn apply_group(&mut self, group: SecurityGroup) -> Changes {
        let mut changes = Changes::default();
        let id = group.id.clone();
        if self.groups.get(&id) == Some(&group) {
            return changes;
        }
        let before = self.groups.remove(&id).map(|old| member_addresses_of(&old)).unwrap_or_default();
        self.members.replace_addresses(&id, &before, &member_addresses_of(&group), &mut changes);
        self.references.set(&group_ref(&id), references::in_group(&group));
        self.groups.insert(id.clone(), group);
        changes.groups.insert(id);
        changes
    }

    pub fn delete_group(&mut self, id: &SgId) -> Changes {
        let mut changes = Changes::default();
        if let Some(old) = self.groups.remove(id) {
            self.members.replace_addresses(id, &member_addresses_of(&old), &[], &mut changes);
            self.references.clear(&group_ref(id));
            changes.groups.insert(id.clone());
        }
        changes
    }

    pub fn apply_policy(&mut self, policy: Policy) -> Changes {
        let (namespace, name) = (policy.namespace.clone(), policy.name.clone());
        let old = self.policies.policy(&namespace, &name).cloned();
        if old.as_ref() == Some(&policy) {
            return Changes::default();
        }
        self.references.set(&policy_ref(&policy), references::in_policy(&policy));
        if old.as_ref().is_some_and(|old| old.same_selection(&policy)) {
            // Only its groups changed: the pods it selects are those that
            // name it, and no selector needs evaluating.
            let names_it = |r: &Resolved| matches!(&r.resolution.source, GroupSource::Policies(n) if n.contains(&name));
            let affected: Vec<Slot> =
                self.workloads.in_namespace(&namespace).filter(|(_, r)| names_it(r)).map(|(slot, _)| slot).collect();
            self.policies.apply_policy(policy);
            return self.regroup(affected);
        }
        let affected = self.selected_by(&namespace, [old.as_ref(), Some(&policy)]);
        self.policies.apply_policy(policy);
        self.reresolve(affected)
    }

    pub fn delete_policy(&mut self, namespace: &str, name: &str) -> Changes {
        let Some(old) = self.policies.policy(namespace, name).cloned() else { return Changes::default() };
        self.references.clear(&policy_ref(&old));
        let affected = self.selected_by(namespace, [Some(&old), None]);
        self.policies.delete_policy(namespace, name);
        self.reresolve(affected)
    }

    pub fn apply_service_account(&mut self, namespace: &str, name: &str, labels: Labels) -> Changes {
        self.policies.apply_service_account(namespace, name, labels);
        self.reresolve(self.running_as(namespace, name))
    }

    pub fn delete_service_account(&mut self, namespace: &str, name: &str) -> Changes {
        self.policies.delete_service_account(namespace, name);
        self.reresolve(self.running_as(namespace, name))
    }

    /// Adds or replaces a pod or workload template.
    pub fn apply_workload(&mut self, workload: Workload) -> Changes {
        let mut changes = Changes::default();
        let key = workload.key();
        let resolution = resolve(&self.policies, &self.settings, &workload);
        let slot = self.workloads.slot(&key);
        match slot.and_then(|s| self.workloads.at_mut(s)) {
            // The same pod with other labels or addresses: its indexes stay.
            Some(current) if current.workload.service_account == workload.service_account => {
                let before = memberships(&current.workload, &current.resolution);
                let after = memberships(&workload, &resolution);
                self.members.replace(&before, &after, &mut changes);
                let old = std::mem::replace(current, Resolved { workload, resolution });
                changes.pod(key, Some(old.resolution.groups), Some(current.resolution.groups.clone()));
            }
            _ => {
                let before = self.remove_workload(&key, &mut changes);
                let after = resolution.groups.clone();
                self.add_workload(Resolved { workload, resolution }, &mut changes);
                changes.pod(key, before, Some(after));
            }
        }
        changes
    }

    pub fn delete_workload(&mut self, key: &WorkloadKey) -> Changes {
        let mut changes = Changes::default();
        let before = self.remove_workload(key, &mut changes);
        changes.pod(key.clone(), before, None);
        changes
    }

    pub fn apply_namespace(&mut self, name: &str, labels: Labels) -> Changes {
        self.namespaces.insert(name.to_string(), labels);
        Changes::default()
    }

    pub fn delete_namespace(&mut self, name: &str) -> Changes {
        self.namespaces.remove(name);
        Changes::default()
    }

    pub fn apply_node(&mut self, node: Node) -> Changes {
        let mut changes = Changes::default();
        let defaults = &self.settings.default_group_ids;
        let before = self.nodes.remove(&node.name).map(|old| node_memberships(defaults, &old)).unwrap_or_default();
        self.members.replace(&before, &node_memberships(defaults, &node), &mut changes);
        self.nodes.insert(node.name.clone(), node);
        changes
    }

    pub fn delete_node(&mut self, name: &str) -> Changes {
        let mut changes = Changes::default();
        if let Some(old) = self.nodes.remove(name) {
            self.members.replace(&node_memberships(&self.settings.default_group_ids, &old), &[], &mut changes);
        }
        changes
    }

    /// A member slice (docs/membership.md): its addresses carry `group`.
    /// An agent learns other nodes' members this way instead of watching
    /// their pods; an address that a slice and a pod both give stays a
    /// member until both are gone.
    pub fn apply_member_slice(&mut self, name: &str, group: SgId, addresses: Vec<IpAddr>) -> Changes {
        let mut changes = Changes::default();
        match self.slices.remove(name) {
            Some((old, before)) if old == group => {
                self.members.replace_addresses(&group, &before, &addresses, &mut changes);
            }
            old => {
                if let Some((old, before)) = old {
                    self.members.replace_addresses(&old, &before, &[], &mut changes);
                }
                self.members.replace_addresses(&group, &[], &addresses, &mut changes);
            }
        }
        self.slices.insert(name.to_string(), (group, addresses));
        changes
    }

    pub fn delete_member_slice(&mut self, name: &str) -> Changes {
        let mut changes = Changes::default();
        if let Some((group, addresses)) = self.slices.remove(name) {
            self.members.replace_addresses(&group, &addresses, &[], &mut changes);
        }
        changes
    }

    /// The cluster's settings (the ClusterConfig, or the defaults when it
    /// is deleted). Changing the default groups re-resolves the pods that
    /// carry them; changing `sgpAppliesTo`, every pod.
    pub fn apply_settings(&mut self, settings: Settings) -> Changes {
        let mut changes = Changes::default();
        let defaults_changed = settings.default_group_ids != self.settings.default_group_ids;
        let applies_to_changed = settings.sgp_applies_to != self.settings.sgp_applies_to;
        if defaults_changed {
            for node in self.nodes.values() {
                let before = node_memberships(&self.settings.default_group_ids, node);
                self.members.replace(&before, &node_memberships(&settings.default_group_ids, node), &mut changes);
            }
        }
        self.references.set(&config_ref(), references::in_settings(&settings, &config_ref()));
        self.policies.set_default_groups(settings.default_group_ids.clone());
        self.settings = settings;
        let affected: Vec<Slot> = self
            .workloads
            .iter()
            .filter(|(_, r)| {
                applies_to_changed || (defaults_changed && !matches!(r.resolution.source, GroupSource::Policies(_)))
            })
            .map(|(slot, _)| slot)
            .collect();
        let more = self.reresolve(affected);
        changes.then(more);
        changes
    }

    // --- Internals ---

    /// The workloads of `namespace` that any of `policies` selects.
    fn selected_by(&self, namespace: &str, policies: [Option<&Policy>; 2]) -> Vec<Slot> {
        self.workloads
            .in_namespace(namespace)
            .filter(|(_, r)| {
                let w = &r.workload;
                let (sa_labels, _) = self.policies.service_account_labels(namespace, &w.service_account);
                !w.host_network
                    && policies.iter().flatten().any(|p| p.selects(&w.labels, &w.service_account, sa_labels))
            })
            .map(|(slot, _)| slot)
            .collect()
    }

    fn running_as(&self, namespace: &str, service_account: &str) -> Vec<Slot> {
        self.workloads.running_as(namespace, service_account)
    }

    /// Resolves the workloads in `slots` again; only those whose groups
    /// changed move members.
    fn reresolve(&mut self, slots: Vec<Slot>) -> Changes {
        let mut changes = Changes::default();
        for slot in slots {
            let Some(current) = self.workloads.at_mut(slot) else { continue };
            let resolution = resolve(&self.policies, &self.settings, &current.workload);
            if resolution == current.resolution {
                continue;
            }
            let old = std::mem::replace(&mut current.resolution, resolution);
            let (w, new) = (&current.workload, &current.resolution);
            self.members.regroup(&old.groups, &new.groups, member_addresses(w, new), &mut changes);
            changes.pod(w.key(), Some(old.groups), Some(new.groups.clone()));
        }
        changes
    }

    /// As `reresolve`, for workloads whose SGPs stay the same and whose
    /// groups are those SGPs' groups again.
    fn regroup(&mut self, slots: Vec<Slot>) -> Changes {
        let mut changes = Changes::default();
        for slot in slots {
            let Some(current) = self.workloads.at_mut(slot) else { continue };
            let GroupSource::Policies(names) = &current.resolution.source else { continue };
            let groups = self.policies.groups_of(&current.workload.namespace, names);
            if groups == current.resolution.groups {
                continue;
            }
            let old = std::mem::replace(&mut current.resolution.groups, groups);
            let (w, new) = (&current.workload, &current.resolution);
            self.members.regroup(&old, &new.groups, member_addresses(w, new), &mut changes);
            changes.pod(w.key(), Some(old), Some(new.groups.clone()));
        }
        changes
    }

    fn add_workload(&mut self, r: Resolved, changes: &mut Changes) {
        self.members.replace(&[], &memberships(&r.workload, &r.resolution), changes);
        self.workloads.insert(r);
    }

    /// Removes a workload and its memberships; its groups, if it was there.
    fn remove_workload(&mut self, key: &WorkloadKey, changes: &mut Changes) -> Option<Vec<SgId>> {
        let r = self.workloads.remove(key)?;
        self.members.replace(&memberships(&r.workload, &r.resolution), &[], changes);
        Some(r.resolution.groups)
    }
}

/// The addresses a workload makes members of its groups: none for a
/// hostNetwork pod (the node's address carries the node's groups).
fn member_addresses<'a>(w: &'a Workload, r: &Resolution) -> &'a [IpAddr] {
    if r.source == GroupSource::HostNetwork { &[] } else { &w.addresses }
}

/// The (group, address) pairs a workload makes members.
fn memberships(w: &Workload, r: &Resolution) -> Vec<(SgId, IpAddr)> {
    let addresses = member_addresses(w, r);
    r.groups.iter().flat_map(|g| addresses.iter().map(move |a| (g.clone(), *a))).collect()
}

/// The pairs a node makes members: its addresses carry the default groups.
fn node_memberships(defaults: &[SgId], node: &Node) -> Vec<(SgId, IpAddr)> {
    defaults.iter().flat_map(|g| node.addresses.iter().map(move |a| (g.clone(), *a))).collect()
}

/// The addresses of a group's external members.
fn member_addresses_of(group: &SecurityGroup) -> Vec<IpAddr> {
    group.members.iter().map(|m| m.address).collect()
}
