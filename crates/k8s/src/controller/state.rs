//! The controller's state: the model's incremental `World`, fed one object
//! at a time, and what the API server last showed of the things the
//! controller writes (each pod's annotation, each status). Every input says
//! which targets may need writes; `plan` turns a target into the writes
//! that bring the cluster to what the world says. No I/O here: the
//! watchers call the `apply_*`/`delete_*` methods, the writer carries out
//! the plans and reports back with `written`.

use super::queue::{Queue, Target};
use super::writes::{PodEvent, Write};
use crate::convert::{self, Invalid};
use crate::crd;
use crate::sgp_api::SgpApi;
use k8s_openapi::api::core::v1::{Namespace, Node, Pod, ServiceAccount};
use podsg_model::api::ObjectMeta;
use podsg_model::group::SgId;
use podsg_model::pod_eni;
use podsg_model::resolve::{GroupSource, Resolution};
use podsg_model::settings::{AppliesTo, Settings};
use podsg_model::slices::Slices;
use podsg_model::workload::{WorkloadKey, WorkloadKind};
use podsg_model::world::{Changes, World};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::IpAddr;

/// A pod as last seen: its identity and the annotation it carries.
#[derive(Clone, Debug)]
struct PodSeen {
    uid: String,
    annotation: Option<String>,
}

/// An SGP as last seen.
#[derive(Clone, Debug)]
pub(super) struct PolicySeen {
    pub api: SgpApi,
    pub status: Option<crd::SecurityGroupPolicyStatus>,
    /// Why the model refused it (it is then not in the world).
    pub invalid: Option<String>,
}

pub struct State {
    pub(super) world: World,
    pods: HashMap<WorkloadKey, PodSeen>,
    pub(super) policies: BTreeMap<(String, String), PolicySeen>,
    /// SGPs with the name of one in the other API group, which stays in
    /// force: the API group, the object, its status.
    pub(super) shadowed:
        BTreeMap<(String, String), (SgpApi, serde_json::Value, Option<crd::SecurityGroupPolicyStatus>)>,
    /// Each SecurityGroup object's status as last seen.
    pub(super) groups: BTreeMap<SgId, Option<crd::SecurityGroupStatus>>,
    /// The keys of the other kinds held, for relists.
    service_accounts: BTreeSet<(String, String)>,
    namespaces: BTreeSet<String>,
    nodes: BTreeSet<String>,
    /// Groups that came or went since the pods were last looked at: the
    /// pods that carry them are found in one pass when targets are taken,
    /// not one pass per group (a first list brings thousands of groups).
    came_or_went: HashSet<SgId>,
    /// The MemberSlices as the API server last showed them (or as written
    /// since), by name.
    pub(super) published: BTreeMap<String, BTreeSet<IpAddr>>,
    /// The slices the world's members make; `None` until every watch has
    /// listed (`start_publishing`), so that no slice is cut from a world
    /// that has not seen every pod.
    pub(super) slices: Option<Slices>,
    /// Events already sent, per pod UID: each is sent once.
    sent: HashMap<String, HashSet<PodEvent>>,
    pub(super) queue: Queue,
    /// The clock for conditions' `lastTransitionTime` (RFC 3339).
    pub(super) now: fn() -> String,
}

impl State {
    /// `applies_to` overrides the settings' `sgpAppliesTo` when given.
    pub fn new(mut settings: Settings, applies_to: Option<AppliesTo>, now: fn() -> String) -> State {
        settings.sgp_applies_to = applies_to.unwrap_or(settings.sgp_applies_to);
        let mut world = World::new();
        world.apply_settings(settings);
        State {
            world,
            pods: HashMap::new(),
            policies: BTreeMap::new(),
            shadowed: BTreeMap::new(),
            groups: BTreeMap::new(),
            service_accounts: BTreeSet::new(),
            namespaces: BTreeSet::new(),
            nodes: BTreeSet::new(),
            came_or_went: HashSet::new(),
            published: BTreeMap::new(),
            slices: None,
            sent: HashMap::new(),
            queue: Queue::default(),
            now,
        }
    }

    pub fn world(&self) -> &World {
        &self.world
    }

    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    pub fn next_target(&mut self) -> Option<Target> {
        self.queue_carriers();
        self.queue.pop()
    }

    /// Queues `target` again (a write of it failed or was cut short).
    pub fn requeue(&mut self, target: Target) {
        self.queue.push(target);
    }

    /// Plans every object again (after winning the lease: another replica
    /// may have left work undone).
    pub fn requeue_all(&mut self) {
        let pods: Vec<WorkloadKey> = self.pods.keys().cloned().collect();
        pods.into_iter().for_each(|k| self.queue.push(Target::Pod(k)));
        let policies: Vec<(String, String)> = self.policies.keys().cloned().collect();
        policies.into_iter().for_each(|(ns, n)| self.queue.push(Target::Policy(ns, n)));
        let groups: Vec<SgId> = self.groups.keys().cloned().collect();
        groups.into_iter().for_each(|g| self.queue.push(Target::Group(g)));
        self.requeue_slices();
    }

    // --- Inputs ---

    pub fn apply_pod(&mut self, pod: &Pod) -> Result<(), Invalid> {
        let workload = convert::pod(pod)?;
        let key = workload.key();
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        if let Some(old) = self.pods.get(&key).filter(|old| old.uid != uid) {
            // The same name, another pod: nothing of the old one carries over.
            self.sent.remove(&old.uid);
        }
        let annotation = workload.annotations.get(pod_eni::POD_ENI).cloned();
        self.pods.insert(key.clone(), PodSeen { uid, annotation });
        let before = self.world.resolution(&key).cloned();
        let changes = self.world.apply_workload(workload);
        let after = self.world.resolution(&key).cloned();
        self.queue.push(Target::Pod(key.clone()));
        self.policies_of_changed(&key.namespace, before.as_ref(), after.as_ref());
        self.take(changes);
        Ok(())
    }

    pub fn delete_pod(&mut self, namespace: &str, name: &str) {
        let key = pod_key(namespace, name);
        if let Some(seen) = self.pods.remove(&key) {
            self.sent.remove(&seen.uid);
        }
        let before = self.world.resolution(&key).cloned();
        let changes = self.world.delete_workload(&key);
        self.policies_of_changed(namespace, before.as_ref(), None);
        self.take(changes);
    }

    /// An SGP of either API group, as the API server sent it.
    pub fn apply_policy(&mut self, api: SgpApi, sgp: serde_json::Value) {
        let Some(id) = identity(&sgp) else { return };
        let status = sgp.get("status").and_then(|s| serde_json::from_value(s.clone()).ok());
        if let Some(first) = self.policies.get(&id).map(|p| p.api).filter(|first| *first != api) {
            // The same name in both API groups: the first one stays in force.
            tracing::warn!(namespace = id.0, name = id.1, %api, "SGP shadowed by the one in {first}");
            self.shadowed.insert(id.clone(), (api, sgp, status));
            self.queue.push(Target::Policy(id.0, id.1));
            return;
        }
        let read = convert::policy(&sgp);
        let (namespace, name) = id.clone();
        let invalid = read.as_ref().err().map(ToString::to_string);
        let old_groups = self.policy_groups(&namespace, &name);
        let changes = match read {
            Ok(policy) => self.world.apply_policy(policy),
            Err(_) => self.world.delete_policy(&namespace, &name),
        };
        let new_groups = self.policy_groups(&namespace, &name);
        old_groups.into_iter().chain(new_groups).for_each(|g| self.queue.push(Target::Group(g)));
        self.policies.insert(id, PolicySeen { api, status, invalid });
        self.namespace_policies_changed(&namespace);
        self.take(changes);
    }

    pub fn delete_policy(&mut self, api: SgpApi, namespace: &str, name: &str) {
        let id = (namespace.to_string(), name.to_string());
        if self.shadowed.get(&id).is_some_and(|(a, _, _)| *a == api) {
            self.shadowed.remove(&id);
            return;
        }
        if self.policies.get(&id).is_none_or(|p| p.api != api) {
            return;
        }
        self.policies.remove(&id);
        self.policy_groups(namespace, name).into_iter().for_each(|g| self.queue.push(Target::Group(g)));
        let changes = self.world.delete_policy(namespace, name);
        self.namespace_policies_changed(namespace);
        self.take(changes);
        // The one of the other API group that it shadowed takes its place.
        if let Some((api, sgp, _)) = self.shadowed.remove(&id) {
            self.apply_policy(api, sgp);
        }
    }

    fn policy_groups(&self, namespace: &str, name: &str) -> Vec<SgId> {
        self.world.policies().policy(namespace, name).map(|p| p.group_ids.clone()).unwrap_or_default()
    }

    /// The groups that the rules of group `id` name (their statuses list it).
    fn named_by_group(&self, id: &SgId) -> Vec<SgId> {
        self.world.group(id).map(|g| g.referenced_groups().cloned().collect()).unwrap_or_default()
    }

    pub fn apply_group(&mut self, object: &crd::SecurityGroup) -> Result<(), Invalid> {
        let group = convert::group(object)?;
        let id = group.id.clone();
        let existed = self.world.group(&id).is_some();
        let old_refs = self.named_by_group(&id);
        let new_refs: Vec<SgId> = group.referenced_groups().cloned().collect();
        self.groups.insert(id.clone(), object.status.clone());
        let changes = self.world.apply_group(group);
        // Its status as shown may differ from what it should be even when
        // its spec did not change (someone else wrote it).
        self.queue.push(Target::Group(id.clone()));
        old_refs.into_iter().chain(new_refs).for_each(|g| self.queue.push(Target::Group(g)));
        if !existed {
            self.existence_changed(&id);
        }
        self.take(changes);
        Ok(())
    }

    pub fn delete_group(&mut self, name: &str) {
        let Ok(id) = SgId::parse(name) else { return };
        self.groups.remove(&id);
        let refs = self.named_by_group(&id);
        let changes = self.world.delete_group(&id);
        refs.into_iter().for_each(|g| self.queue.push(Target::Group(g)));
        self.existence_changed(&id);
        self.take(changes);
    }

    pub fn apply_service_account(&mut self, sa: &ServiceAccount) -> Result<(), Invalid> {
        let (namespace, name, labels) = convert::service_account(sa)?;
        self.service_accounts.insert((namespace.clone(), name.clone()));
        let changes = self.world.apply_service_account(&namespace, &name, labels);
        self.namespace_policies_changed(&namespace);
        self.take(changes);
        Ok(())
    }

    pub fn delete_service_account(&mut self, namespace: &str, name: &str) {
        self.service_accounts.remove(&(namespace.to_string(), name.to_string()));
        let changes = self.world.delete_service_account(namespace, name);
        self.namespace_policies_changed(namespace);
        self.take(changes);
    }

    pub fn apply_namespace(&mut self, ns: &Namespace) -> Result<(), Invalid> {
        let (name, labels) = convert::namespace(ns)?;
        self.namespaces.insert(name.clone());
        let changes = self.world.apply_namespace(&name, labels);
        self.take(changes);
        Ok(())
    }

    pub fn delete_namespace(&mut self, name: &str) {
        self.namespaces.remove(name);
        let changes = self.world.delete_namespace(name);
        self.take(changes);
    }

    pub fn apply_node(&mut self, node: &Node) -> Result<(), Invalid> {
        let node = convert::node(node)?;
        self.nodes.insert(node.name.clone());
        let changes = self.world.apply_node(node);
        self.take(changes);
        Ok(())
    }

    pub fn delete_node(&mut self, name: &str) {
        self.nodes.remove(name);
        let changes = self.world.delete_node(name);
        self.take(changes);
    }

    /// Names of the objects of a kind the state holds, as the watchers key
    /// them (`namespace/name` or `name`), to delete those a relist lacks.
    pub fn pod_names(&self) -> Vec<String> {
        self.pods.keys().map(|k| format!("{}/{}", k.namespace, k.name)).collect()
    }

    pub fn policy_names(&self, api: SgpApi) -> Vec<String> {
        let held = self.policies.iter().filter(|(_, p)| p.api == api).map(|(id, _)| id);
        let shadowed = self.shadowed.iter().filter(|(_, (a, _, _))| *a == api).map(|(id, _)| id);
        held.chain(shadowed).map(|(ns, n)| format!("{ns}/{n}")).collect()
    }

    pub fn group_names(&self) -> Vec<String> {
        self.groups.keys().map(ToString::to_string).collect()
    }

    pub fn service_account_names(&self) -> Vec<String> {
        self.service_accounts.iter().map(|(ns, n)| format!("{ns}/{n}")).collect()
    }

    pub fn namespace_names(&self) -> Vec<String> {
        self.namespaces.iter().cloned().collect()
    }

    pub fn node_names(&self) -> Vec<String> {
        self.nodes.iter().cloned().collect()
    }

    /// What the writer did: the state now holds what it wrote, so that the
    /// same write is not planned again before the watch shows it.
    pub fn written(&mut self, write: &Write) {
        match write {
            Write::PodAnnotation { namespace, name, uid, value } => {
                let key = pod_key(namespace, name);
                if let Some(seen) = self.pods.get_mut(&key).filter(|s| &s.uid == uid) {
                    seen.annotation = value.clone();
                    self.record_annotation(&key, value.clone());
                }
            }
            Write::PodEvent { uid, event, .. } => {
                self.sent.entry(uid.clone()).or_default().insert(event.clone());
            }
            Write::PolicyStatus { api, namespace, name, status } => {
                let id = (namespace.clone(), name.clone());
                if let Some(seen) = self.policies.get_mut(&id).filter(|p| p.api == *api) {
                    seen.status = Some(status.clone());
                } else if let Some(shadowed) = self.shadowed.get_mut(&id).filter(|s| s.0 == *api) {
                    shadowed.2 = Some(status.clone());
                }
            }
            Write::GroupStatus { name, status } => {
                if let Some(seen) = SgId::parse(name).ok().and_then(|id| self.groups.get_mut(&id)) {
                    *seen = Some(status.clone());
                }
            }
            Write::PutSlice { group, index, addresses } => {
                self.published.insert(podsg_model::slices::slice_name(group, *index), addresses.clone());
            }
            Write::DeleteSlice { name } => {
                self.published.remove(name);
            }
        }
    }

    // --- Plans ---

    /// The writes that bring `target` to what the world says, in order.
    pub fn plan(&self, target: &Target) -> Vec<Write> {
        match target {
            Target::Pod(key) => self.plan_pod(key),
            Target::Policy(namespace, name) => self.plan_policy(namespace, name),
            Target::Group(id) => self.plan_group(id).into_iter().collect(),
            Target::Slice(name) => self.plan_slice(name).into_iter().collect(),
        }
    }

    fn plan_pod(&self, key: &WorkloadKey) -> Vec<Write> {
        let (Some(seen), Some(workload), Some(resolution)) =
            (self.pods.get(key), self.world.workload(key), self.world.resolution(key))
        else {
            return Vec::new();
        };
        let mut writes = Vec::new();
        let event = |event: PodEvent| Write::PodEvent {
            namespace: key.namespace.clone(),
            name: key.name.clone(),
            uid: seen.uid.clone(),
            event,
        };
        let annotate = |value: Option<String>| Write::PodAnnotation {
            namespace: key.namespace.clone(),
            name: key.name.clone(),
            uid: seen.uid.clone(),
            value,
        };
        let observed_groups: Option<Vec<SgId>> = seen
            .annotation
            .as_deref()
            .and_then(pod_eni::groups)
            .map(|groups| groups.iter().filter_map(|g| SgId::parse(g).ok()).collect());
        match self.wanted(resolution) {
            Wanted::Groups(groups, missing) => {
                if !missing.is_empty() {
                    writes.push(event(PodEvent::failed(&missing)));
                }
                let text = pod_eni::render(&pod_eni::for_veth(&groups, &workload.addresses));
                if seen.annotation.as_deref() != Some(text.as_str()) {
                    if observed_groups.as_ref() != Some(&groups) {
                        writes.push(event(PodEvent::requested(&groups)));
                    }
                    writes.push(annotate(Some(text.clone())));
                    writes.push(event(PodEvent::allocated(&text)));
                }
            }
            Wanted::Fail(reasons) => {
                writes.push(event(PodEvent::failed(&reasons)));
                if seen.annotation.is_some() {
                    writes.push(annotate(None));
                }
            }
            Wanted::Nothing => {
                if seen.annotation.is_some() {
                    writes.push(annotate(None));
                }
            }
        }
        let sent = self.sent.get(&seen.uid);
        writes.retain(|w| match w {
            Write::PodEvent { event, .. } => sent.is_none_or(|s| !s.contains(event)),
            _ => true,
        });
        writes
    }

    /// What a pod's resolution asks for: the annotation for a pod an SGP
    /// selects, fail closed when a group of it does not exist, nothing for
    /// the others (they carry the default groups; EKS annotates only
    /// selected pods). A pod that keeps its recorded groups (`new-pods`)
    /// keeps its annotation even when one of them is gone: removing it
    /// would hand the pod the groups of today's SGPs.
    fn wanted(&self, resolution: &Resolution) -> Wanted {
        let kept = matches!(resolution.source, GroupSource::Kept(_));
        if !kept && !matches!(resolution.source, GroupSource::Policies(_)) {
            return Wanted::Nothing;
        }
        let missing: Vec<String> = resolution
            .groups
            .iter()
            .filter(|g| self.world.group(g).is_none())
            .map(|g| podsg_model::world::not_found_message(podsg_model::world::SECURITY_GROUP_NOT_FOUND, g))
            .collect();
        if missing.is_empty() || kept {
            Wanted::Groups(resolution.groups.clone(), missing)
        } else {
            Wanted::Fail(missing)
        }
    }

    // --- Internals ---

    /// Queues what a change of the world touched: the pods whose groups
    /// changed, and the statuses of groups whose members changed.
    fn take(&mut self, changes: Changes) {
        for key in changes.pods.into_keys().filter(|k| k.kind == WorkloadKind::Pod) {
            self.queue.push(Target::Pod(key));
        }
        self.publish(&changes.members);
        for id in changes.members.into_keys().chain(changes.groups) {
            self.queue.push(Target::Group(id));
        }
    }

    /// A pod's SGPs changed: their matched counts did.
    fn policies_of_changed(&mut self, namespace: &str, before: Option<&Resolution>, after: Option<&Resolution>) {
        let names = |r: Option<&Resolution>| r.map(|r| r.policies().to_vec()).unwrap_or_default();
        let (before, after) = (names(before), names(after));
        if before != after {
            for name in before.into_iter().chain(after) {
                self.queue.push(Target::Policy(namespace.to_string(), name));
            }
        }
    }

    /// An SGP or ServiceAccount of `namespace` changed: which SGP selects
    /// which pod may have, for any SGP there.
    fn namespace_policies_changed(&mut self, namespace: &str) {
        let names: Vec<String> = self
            .policies
            .range((namespace.to_string(), String::new())..)
            .take_while(|((ns, _), _)| ns == namespace)
            .map(|((_, n), _)| n.clone())
            .collect();
        names.into_iter().for_each(|n| self.queue.push(Target::Policy(namespace.to_string(), n)));
    }

    /// A group came or went: the pods that carry it may now get (or lose)
    /// their annotation (queued by `queue_carriers`), and the SGPs that name
    /// it their condition.
    fn existence_changed(&mut self, id: &SgId) {
        self.came_or_went.insert(id.clone());
        let policies: BTreeSet<(String, String)> = self
            .world
            .referrers(id)
            .filter(|r| r.object.kind == "SecurityGroupPolicy")
            .filter_map(|r| Some((r.object.namespace.clone()?, r.object.name.clone())))
            .collect();
        policies.into_iter().for_each(|(ns, n)| self.queue.push(Target::Policy(ns, n)));
    }
}

impl State {
    /// The world's copy of a pod takes the annotation written: with
    /// `new-pods` it is the record of the pod's groups, and an SGP edit
    /// that comes before the watch shows the write must find it.
    fn record_annotation(&mut self, key: &WorkloadKey, value: Option<String>) {
        let Some(mut workload) = self.world.workload(key).cloned() else { return };
        match value {
            Some(value) => workload.annotations.insert(pod_eni::POD_ENI.to_string(), value),
            None => workload.annotations.remove(pod_eni::POD_ENI),
        };
        let changes = self.world.apply_workload(workload);
        self.take(changes);
    }

    /// Queues the pods that carry a group that came or went, in one pass.
    fn queue_carriers(&mut self) {
        if self.came_or_went.is_empty() {
            return;
        }
        let changed = std::mem::take(&mut self.came_or_went);
        let carriers: Vec<WorkloadKey> = self
            .pods
            .keys()
            .filter(|k| self.world.resolution(k).is_some_and(|r| r.groups.iter().any(|g| changed.contains(g))))
            .cloned()
            .collect();
        carriers.into_iter().for_each(|k| self.queue.push(Target::Pod(k)));
    }
}

enum Wanted {
    /// The annotation with these groups, and a warning with these reasons
    /// (a kept group that is gone) when there are any.
    Groups(Vec<SgId>, Vec<String>),
    /// No annotation, and a warning with these reasons.
    Fail(Vec<String>),
    /// No annotation.
    Nothing,
}

/// The key of the pod `namespace/name` in the world.
pub(super) fn pod_key(namespace: &str, name: &str) -> WorkloadKey {
    WorkloadKey { kind: WorkloadKind::Pod, namespace: namespace.into(), name: name.into() }
}

/// `namespace/name` of an object, read or not.
fn identity(object: &serde_json::Value) -> Option<(String, String)> {
    let meta = object.get("metadata")?;
    let name = meta.get("name")?.as_str()?.to_string();
    let namespace = ObjectMeta::namespace_or_default(meta.get("namespace").and_then(|n| n.as_str()));
    Some((namespace, name))
}
