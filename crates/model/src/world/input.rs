//! The world's inputs as values: one object to apply, or the key of one to
//! delete. A source of desired state (manifest files, the Kubernetes API)
//! produces these; `World::take` applies them one at a time, and `diff`
//! turns two snapshots (a manifest directory before and after an edit)
//! into the changes between them.

use super::{Changes, World};
use crate::catalog::Catalog;
use crate::group::{SecurityGroup, SgId};
use crate::labels::Labels;
use crate::node::Node;
use crate::policy::Policy;
use crate::settings::Settings;
use crate::workload::{Workload, WorkloadKey};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// One object the world takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Group(SecurityGroup),
    Policy(Policy),
    ServiceAccount { namespace: String, name: String, labels: Labels },
    Workload(Workload),
    Node(Node),
    Settings(Settings),
    MemberSlice { name: String, group: SgId, addresses: Vec<IpAddr> },
}

/// Which object an input is: applying another input with the same key
/// replaces it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InputKey {
    Group(SgId),
    Policy { namespace: String, name: String },
    ServiceAccount { namespace: String, name: String },
    Workload(WorkloadKey),
    Node(String),
    Settings,
    MemberSlice(String),
}

/// An object applied, or deleted by its key.
// Most changes are applies, each moved once from its source into the
// world: a box would add an allocation to each for no saving.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputChange {
    Apply(Input),
    Delete(InputKey),
}

/// A set of inputs by key: what a source holds at one moment.
pub type Snapshot = BTreeMap<InputKey, Input>;

impl Input {
    pub fn key(&self) -> InputKey {
        match self {
            Input::Group(g) => InputKey::Group(g.id.clone()),
            Input::Policy(p) => InputKey::Policy { namespace: p.namespace.clone(), name: p.name.clone() },
            Input::ServiceAccount { namespace, name, .. } => {
                InputKey::ServiceAccount { namespace: namespace.clone(), name: name.clone() }
            }
            Input::Workload(w) => InputKey::Workload(w.key()),
            Input::Node(n) => InputKey::Node(n.name.clone()),
            Input::Settings(_) => InputKey::Settings,
            Input::MemberSlice { name, .. } => InputKey::MemberSlice(name.clone()),
        }
    }
}

impl World {
    /// Applies one input.
    pub fn take(&mut self, change: InputChange) -> Changes {
        match change {
            InputChange::Apply(input) => match input {
                Input::Group(g) => self.apply_group(g),
                Input::Policy(p) => self.apply_policy(p),
                Input::ServiceAccount { namespace, name, labels } => {
                    self.apply_service_account(&namespace, &name, labels)
                }
                Input::Workload(w) => self.apply_workload(w),
                Input::Node(n) => self.apply_node(n),
                Input::Settings(s) => self.apply_settings(s),
                Input::MemberSlice { name, group, addresses } => self.apply_member_slice(&name, group, addresses),
            },
            InputChange::Delete(key) => match key {
                InputKey::Group(id) => self.delete_group(&id),
                InputKey::Policy { namespace, name } => self.delete_policy(&namespace, &name),
                InputKey::ServiceAccount { namespace, name } => self.delete_service_account(&namespace, &name),
                InputKey::Workload(key) => self.delete_workload(&key),
                InputKey::Node(name) => self.delete_node(&name),
                // No ClusterConfig: podsg's defaults.
                InputKey::Settings => self.apply_settings(Settings::default()),
                InputKey::MemberSlice(name) => self.delete_member_slice(&name),
            },
        }
    }
}

/// The changes that turn snapshot `before` into `after`: a delete for
/// each key that went, an apply for each input that came or differs.
pub fn diff(before: &Snapshot, after: &Snapshot) -> Vec<InputChange> {
    let deleted = before.keys().filter(|k| !after.contains_key(k)).map(|k| InputChange::Delete(k.clone()));
    let applied = after
        .iter()
        .filter(|(k, input)| before.get(k) != Some(input))
        .map(|(_, input)| InputChange::Apply(input.clone()));
    deleted.chain(applied).collect()
}

impl Catalog {
    /// The catalog's objects as the world's inputs.
    pub fn inputs(&self) -> Snapshot {
        let groups = self.groups.values().cloned().map(Input::Group);
        let policies = self.index.policies().cloned().map(Input::Policy);
        let accounts = self.index.service_accounts().map(|(namespace, name, labels)| Input::ServiceAccount {
            namespace: namespace.to_string(),
            name: name.to_string(),
            labels: labels.clone(),
        });
        let workloads = self.workloads.iter().cloned().map(Input::Workload);
        let nodes = self.nodes.iter().cloned().map(Input::Node);
        let settings = std::iter::once(Input::Settings(self.settings.clone()));
        groups
            .chain(policies)
            .chain(accounts)
            .chain(workloads)
            .chain(nodes)
            .chain(settings)
            .map(|i| (i.key(), i))
            .collect()
    }
}
