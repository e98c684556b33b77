//! The world as this node's agent sees it: the model's incremental `World`,
//! fed the changes its source reports, with what only the node knows laid
//! over them: the addresses it gave its pods, and the node itself (its
//! address carries the default groups) when the source does not list it.
//! Each change says what it did (`Changes`), so the agent recompiles and
//! rewrites only what that touched.

use crate::attachments::Record;
use crate::error::{Error, Result};
use crate::flows::{LOG_DENIED_ANNOTATION, LogDenied};
use podsg_model::dataplane::{LocalPod, NodeRuleset, PodGroups, PodPolicy};
use podsg_model::group::SgId;
use podsg_model::node::Node;
use podsg_model::settings::{EnforcingMode, Settings};
use podsg_model::workload::{Workload, WorkloadKey, WorkloadKind};
use podsg_model::world::{Changes, Input, InputChange, InputKey, World};
use std::borrow::Borrow;
use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

pub struct NodeView {
    world: World,
    /// Pods as the source gave them, before local addresses were laid over.
    pods: HashMap<WorkloadKey, Workload>,
    /// The addresses this node gave its pods.
    local: HashMap<WorkloadKey, Vec<IpAddr>>,
    /// This node, as the world has it unless the source lists it.
    node: Node,
    /// Each set of groups' compiled allowances, and the groups they depend
    /// on: kept until a change touches one of those, so that a compilation
    /// computes only what changed.
    compiled: HashMap<Vec<SgId>, (PodPolicy, BTreeSet<SgId>)>,
    /// A pod's `podsg.io/log-denied` changed since `log_switched` was asked.
    log_switched: bool,
}

fn pod_key(namespace: &str, name: &str) -> WorkloadKey {
    WorkloadKey { kind: WorkloadKind::Pod, namespace: namespace.into(), name: name.into() }
}

impl NodeView {
    pub fn new(node_name: &str, node_address: IpAddr) -> NodeView {
        let node = Node { name: node_name.to_string(), addresses: vec![node_address] };
        let mut world = World::new();
        world.apply_node(node.clone());
        NodeView {
            world,
            pods: HashMap::new(),
            local: HashMap::new(),
            node,
            compiled: HashMap::new(),
            log_switched: false,
        }
    }

    pub fn settings(&self) -> &Settings {
        self.world.settings()
    }

    pub fn groups(&self) -> &std::collections::BTreeMap<SgId, podsg_model::group::SecurityGroup> {
        self.world.groups()
    }

    /// Takes a batch of changes from the source.
    pub fn take(&mut self, batch: Vec<InputChange>) -> Changes {
        let mut changes = Changes::default();
        for change in batch {
            let more = match change {
                InputChange::Apply(Input::Workload(w)) if w.kind == WorkloadKind::Pod => {
                    let key = w.key();
                    let log = |p: &Workload| p.annotations.get(LOG_DENIED_ANNOTATION).cloned();
                    // A switched log is no change to the world, but to the node's sets.
                    self.log_switched |= self.pods.get(&key).is_some_and(|old| log(old) != log(&w));
                    self.pods.insert(key.clone(), w.clone());
                    self.world.apply_workload(self.with_local_addresses(w, &key))
                }
                InputChange::Delete(InputKey::Workload(key)) => {
                    self.pods.remove(&key);
                    self.world.delete_workload(&key)
                }
                // The source's word on this node wins; without it, the
                // node is still there.
                InputChange::Delete(InputKey::Node(name)) if name == self.node.name => {
                    self.world.apply_node(self.node.clone())
                }
                other => self.world.take(other),
            };
            changes.then(more);
        }
        self.forget_compiled(&changes);
        changes
    }

    /// Whether a pod's refusal log was switched since the last call.
    pub fn log_switched(&mut self) -> bool {
        std::mem::take(&mut self.log_switched)
    }

    /// Drops the compiled allowances that depend on a group whose rules or
    /// members `changes` changed.
    fn forget_compiled(&mut self, changes: &Changes) {
        if changes.groups.is_empty() && changes.members.is_empty() {
            return;
        }
        let touched = |g: &SgId| changes.groups.contains(g) || changes.members.contains_key(g);
        self.compiled.retain(|_, (_, depends)| !depends.iter().any(touched));
    }

    /// This node gave pod `namespace/name` these addresses (CNI ADD), or
    /// took them back (`None`, its last attachment gone).
    pub fn set_local(&mut self, namespace: &str, name: &str, addresses: Option<Vec<IpAddr>>) -> Changes {
        let key = pod_key(namespace, name);
        match addresses {
            Some(a) => self.local.insert(key.clone(), a),
            None => self.local.remove(&key),
        };
        let changes = match self.pods.get(&key).cloned() {
            Some(pod) => self.world.apply_workload(self.with_local_addresses(pod, &key)),
            None => Changes::default(),
        };
        self.forget_compiled(&changes);
        changes
    }

    fn with_local_addresses(&self, mut pod: Workload, key: &WorkloadKey) -> Workload {
        if let Some(addresses) = self.local.get(key) {
            pod.addresses = addresses.clone();
        }
        pod
    }

    /// The groups whose members this node needs: those named by the rules
    /// of the groups its pods carry (every pod the source reported, not
    /// only those attached: a pod's peers are fetched before its CNI ADD).
    pub fn wanted_groups(&self) -> BTreeSet<SgId> {
        let carried: BTreeSet<&SgId> =
            self.pods.keys().filter_map(|k| self.world.resolution(k)).flat_map(|r| &r.groups).collect();
        carried.into_iter().filter_map(|g| self.world.group(g)).flat_map(|g| g.referenced_groups().cloned()).collect()
    }

    /// Whether the source has reported pod `namespace/name`.
    pub fn has_pod(&self, namespace: &str, name: &str) -> bool {
        self.world.resolution(&pod_key(namespace, name)).is_some()
    }

    /// The groups pod `namespace/name` carries, or why it cannot have any
    /// (it then gets no network).
    pub fn groups_of(&self, namespace: &str, name: &str) -> Result<Vec<SgId>> {
        let unknown = || Error::UnknownPod { namespace: namespace.into(), name: name.into() };
        let resolution = self.world.resolution(&pod_key(namespace, name)).ok_or_else(unknown)?;
        let missing: Vec<SgId> = resolution.groups.iter().filter(|g| self.world.group(g).is_none()).cloned().collect();
        if !missing.is_empty() {
            return Err(Error::MissingGroups { namespace: namespace.into(), name: name.into(), groups: missing });
        }
        Ok(resolution.groups.clone())
    }

    /// The rule set of these attachments: each pod's groups, fail closed
    /// (allowed nothing) for a pod whose groups cannot be resolved.
    pub fn ruleset<R: Borrow<Record>>(
        &mut self,
        records: &[R],
        mode: Option<EnforcingMode>,
        log: &LogDenied,
    ) -> NodeRuleset {
        let records: Vec<&Record> = records.iter().map(Borrow::borrow).collect();
        let groups: Vec<Result<Vec<SgId>>> =
            records.iter().map(|r| self.groups_of(&r.pod_namespace, &r.pod_name)).collect();
        let pods: Vec<String> = records.iter().map(|r| r.pod()).collect();
        let local: Vec<LocalPod> = records
            .iter()
            .zip(&groups)
            .zip(&pods)
            .map(|((r, groups), pod)| LocalPod {
                interface: &r.host_interface,
                pod,
                addresses: &r.addresses,
                groups: match groups {
                    Ok(g) => PodGroups::of(g),
                    Err(_) => PodGroups::Unresolved,
                },
                log_denied: {
                    let annotations = self.pods.get(&pod_key(&r.pod_namespace, &r.pod_name)).map(|w| &w.annotations);
                    let carried = groups.as_deref().unwrap_or_default();
                    log.applies(annotations.unwrap_or(&Default::default()), carried)
                },
            })
            .collect();
        let mode = mode.unwrap_or(self.settings().enforcing_mode);
        let (world, compiled) = (&self.world, &mut self.compiled);
        let members = |g: &SgId| world.member_addresses(g);
        let ruleset = NodeRuleset::compile_with(world.groups(), &members, mode, &local, &mut |ids| {
            let (policy, _) = compiled.entry(ids.to_vec()).or_insert_with(|| {
                (PodPolicy::of(ids, world.groups(), &members), PodPolicy::depends_on(ids, world.groups()))
            });
            policy.clone()
        });
        // Sets of groups no pod carries any more are not kept.
        compiled.retain(|ids, _| ruleset.pods.contains_key(ids));
        ruleset
    }
}
