//! The checked world of a set of manifests, for offline analysis (`check`,
//! `explain`, the lab): every object validated and cross-checked as one
//! unit. `Catalog::build` loads all of it or none of it;
//! `Catalog::build_lenient` (a running node) leaves out what is invalid and
//! loads the rest. The controller and the agent keep a `crate::world::World`
//! instead, changed one object at a time.

mod build;
mod endpoints;
mod membership;
mod services;

pub use endpoints::TargetError;
pub use membership::{Member, Membership};
pub use services::{BackendFlow, FlowTarget, ServiceDecision, ServiceFlow};

use crate::diagnostic::{Diagnostic, ObjectRef, Origin};
use crate::group::{SecurityGroup, SgId};
use crate::kube_service::KubeService;
use crate::node::Node;
use crate::pod_eni;
use crate::policy::Policy;
use crate::resolve::{PodFacts, PolicyIndex, Resolution};
use crate::settings::{AppliesTo, Settings};
use crate::workload::{Workload, WorkloadKind};
use std::collections::{BTreeMap, HashMap};

#[derive(Clone, Debug, Default)]
pub struct Catalog {
    pub groups: BTreeMap<SgId, SecurityGroup>,
    pub index: PolicyIndex,
    /// Pods and workload templates, in load order.
    pub workloads: Vec<Workload>,
    pub nodes: Vec<Node>,
    /// Services, in load order.
    pub services: Vec<KubeService>,
    pub settings: Settings,
    origins: HashMap<ObjectRef, Origin>,
    /// `workloads` by (kind, namespace, name).
    by_name: HashMap<(WorkloadKind, String, String), usize>,
}

/// A loaded catalog and the warnings and notes found while loading it.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub catalog: Catalog,
    pub diagnostics: Vec<Diagnostic>,
}

impl Catalog {
    /// A diagnostic placed on an object, with its file.
    pub fn about(&self, object: ObjectRef, d: Diagnostic) -> Diagnostic {
        let origin = self.origins.get(&object).cloned();
        d.at(origin.as_ref(), Some(&object))
    }

    /// SGPs in (namespace, name) order.
    pub fn policies(&self) -> Vec<&Policy> {
        let mut all: Vec<&Policy> = self.index.policies().collect();
        all.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        all
    }

    pub fn resolve(&self, w: &Workload) -> Resolution {
        resolve(&self.index, &self.settings, w)
    }

    pub fn group_label(&self, id: &SgId) -> String {
        self.groups.get(id).map(SecurityGroup::label).unwrap_or_else(|| id.to_string())
    }
}

/// The groups `w` carries: what its SGPs say, or with `sgpAppliesTo:
/// new-pods` the groups recorded on the pod when it was first selected.
pub(crate) fn resolve(index: &PolicyIndex, settings: &Settings, w: &Workload) -> Resolution {
    let resolution = index.resolve(facts(w));
    if settings.sgp_applies_to != AppliesTo::NewPods || w.kind != WorkloadKind::Pod {
        return resolution;
    }
    resolution.kept(pod_eni::recorded_groups(&w.annotations))
}

pub(crate) fn facts(w: &Workload) -> PodFacts<'_> {
    PodFacts {
        namespace: &w.namespace,
        labels: &w.labels,
        service_account: &w.service_account,
        host_network: w.host_network,
    }
}

pub fn workload_ref(w: &Workload) -> ObjectRef {
    ObjectRef::new(w.kind.as_str(), Some(&w.namespace), &w.name)
}

pub fn policy_ref(p: &Policy) -> ObjectRef {
    ObjectRef::new("SecurityGroupPolicy", Some(&p.namespace), &p.name)
}

pub fn group_ref(id: &SgId) -> ObjectRef {
    ObjectRef::new("SecurityGroup", None, id.as_str())
}

impl Catalog {
    /// The groups a resolution names that do not exist: a pod carrying any
    /// of them must fail closed.
    pub fn missing_groups<'a>(&self, groups: &'a [SgId]) -> Vec<&'a SgId> {
        groups.iter().filter(|g| !self.groups.contains_key(*g)).collect()
    }

    /// A pod (kind Pod) by namespace and name.
    pub fn pod(&self, namespace: &str, name: &str) -> Option<&Workload> {
        self.workload(WorkloadKind::Pod, namespace, name)
    }

    /// A pod or controller by kind, namespace and name.
    pub fn workload(&self, kind: WorkloadKind, namespace: &str, name: &str) -> Option<&Workload> {
        let i = self.by_name.get(&(kind, namespace.to_string(), name.to_string()))?;
        self.workloads.get(*i)
    }

    pub(crate) fn index_workloads(&mut self) {
        self.by_name = self
            .workloads
            .iter()
            .enumerate()
            .map(|(i, w)| ((w.kind, w.namespace.clone(), w.name.clone()), i))
            .collect();
    }

    /// The controller in the manifests that made `w`, if any: its owner, or
    /// for a pod whose ReplicaSet is not in the manifests, the Deployment
    /// that made the ReplicaSet (`NAME-HASH`, with the pod's
    /// `pod-template-hash`). Problems of a template are reported once, on it.
    pub fn owner_of(&self, w: &Workload) -> Option<&Workload> {
        let (kind, name) = w.owner.as_ref()?;
        // Owners of other kinds (a custom controller's) are not workloads here.
        let kind = WorkloadKind::parse(kind)?;
        if let Some(owner) = self.workload(kind, &w.namespace, name) {
            return Some(self.owner_of(owner).unwrap_or(owner));
        }
        let hash = w.labels.get("pod-template-hash").filter(|_| kind == WorkloadKind::ReplicaSet)?;
        let deployment = name.strip_suffix(hash.as_str())?.strip_suffix('-')?;
        self.workload(WorkloadKind::Deployment, &w.namespace, deployment)
    }
}
