//! The world's workloads, each with its resolution, in a slab: the indexes
//! by namespace and by service account hold slot numbers, so that an SGP
//! edit walks its namespace's pods without hashing their names.

use crate::resolve::Resolution;
use crate::workload::{Workload, WorkloadKey};
use std::collections::{HashMap, HashSet};

/// A workload and the groups it resolved to when last applied.
#[derive(Clone, Debug)]
pub(super) struct Resolved {
    pub workload: Workload,
    pub resolution: Resolution,
}

pub(super) type Slot = usize;

#[derive(Clone, Debug, Default)]
pub(super) struct Workloads {
    slots: Vec<Option<Resolved>>,
    free: Vec<Slot>,
    by_key: HashMap<WorkloadKey, Slot>,
    by_namespace: HashMap<String, HashSet<Slot>>,
    /// (namespace, service account) -> the workloads that run as it.
    by_service_account: HashMap<(String, String), HashSet<Slot>>,
}

impl Workloads {
    pub fn slot(&self, key: &WorkloadKey) -> Option<Slot> {
        self.by_key.get(key).copied()
    }

    pub fn get(&self, key: &WorkloadKey) -> Option<&Resolved> {
        self.at(self.slot(key)?)
    }

    pub fn at(&self, slot: Slot) -> Option<&Resolved> {
        self.slots.get(slot)?.as_ref()
    }

    pub fn at_mut(&mut self, slot: Slot) -> Option<&mut Resolved> {
        self.slots.get_mut(slot)?.as_mut()
    }

    pub fn iter(&self) -> impl Iterator<Item = (Slot, &Resolved)> {
        self.slots.iter().enumerate().filter_map(|(i, r)| Some((i, r.as_ref()?)))
    }

    pub fn in_namespace(&self, namespace: &str) -> impl Iterator<Item = (Slot, &Resolved)> {
        self.by_namespace.get(namespace).into_iter().flatten().filter_map(|&s| Some((s, self.at(s)?)))
    }

    pub fn running_as(&self, namespace: &str, service_account: &str) -> Vec<Slot> {
        let key = (namespace.to_string(), service_account.to_string());
        self.by_service_account.get(&key).map(|slots| slots.iter().copied().collect()).unwrap_or_default()
    }

    /// Adds a workload that is not there yet.
    pub fn insert(&mut self, r: Resolved) {
        let key = r.workload.key();
        let slot = self.free.pop().unwrap_or(self.slots.len());
        self.by_namespace.entry(key.namespace.clone()).or_default().insert(slot);
        let sa = (key.namespace.clone(), r.workload.service_account.clone());
        self.by_service_account.entry(sa).or_default().insert(slot);
        self.by_key.insert(key, slot);
        if slot == self.slots.len() {
            self.slots.push(Some(r));
        } else {
            self.slots[slot] = Some(r);
        }
    }

    pub fn remove(&mut self, key: &WorkloadKey) -> Option<Resolved> {
        let slot = self.by_key.remove(key)?;
        let r = self.slots[slot].take()?;
        self.free.push(slot);
        unindex(&mut self.by_namespace, &key.namespace, slot);
        unindex(&mut self.by_service_account, &(key.namespace.clone(), r.workload.service_account.clone()), slot);
        Some(r)
    }
}

fn unindex<K: std::hash::Hash + Eq>(index: &mut HashMap<K, HashSet<Slot>>, at: &K, slot: Slot) {
    if let Some(slots) = index.get_mut(at) {
        slots.remove(&slot);
        if slots.is_empty() {
            index.remove(at);
        }
    }
}
