//! The incremental world against the world computed from scratch: any
//! sequence of applies and deletes (member slices too) leaves each pod
//! with the groups, each group with the member addresses, and the same
//! missing-group reports as a brute-force resolution of the final set of
//! objects; and the changes
//! it reported, replayed one after another, lead to that same state.

mod common;

use common::{ADDRESSES, GROUPS, arb_group, arb_labels, arb_policy, sg};
use podsg_model::group::{Member, Peer, SecurityGroup, SgId};
use podsg_model::labels::Labels;
use podsg_model::node::Node;
use podsg_model::pod_eni::POD_ENI;
use podsg_model::policy::Policy;
use podsg_model::settings::{AppliesTo, Settings};
use podsg_model::workload::{Workload, WorkloadKey, WorkloadKind};
use podsg_model::world::{Changes, Input, InputChange, Snapshot, World, diff};
use proptest::prelude::*;
use proptest::sample::subsequence;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

const NAMESPACES: [&str; 2] = ["ns1", "ns2"];
const ACCOUNTS: [&str; 3] = ["default", "sa1", "sa2"];

#[derive(Clone, Debug)]
enum Op {
    Group(SecurityGroup),
    DeleteGroup(usize),
    Policy(Policy),
    DeletePolicy(&'static str, String),
    ServiceAccount(&'static str, &'static str, Labels),
    DeleteServiceAccount(&'static str, &'static str),
    Pod(Workload),
    DeletePod(&'static str, String),
    Node(Node),
    DeleteNode(String),
    Settings(Vec<SgId>, AppliesTo),
    Slice(usize, usize, Vec<IpAddr>),
    DeleteSlice(usize),
}

fn addresses() -> impl Strategy<Value = Vec<IpAddr>> {
    subsequence(&ADDRESSES[..], 0..=2).prop_map(|a| a.iter().map(|a| a.parse().unwrap()).collect())
}

fn arb_pod() -> impl Strategy<Value = Workload> {
    (
        prop::sample::select(&NAMESPACES[..]),
        0..4usize,
        arb_labels(),
        prop::sample::select(&ACCOUNTS[..]),
        addresses(),
        prop::bool::weighted(0.15),
        arb_record(),
    )
        .prop_map(|(namespace, i, labels, sa, addresses, host_network, record)| Workload {
            kind: WorkloadKind::Pod,
            namespace: namespace.into(),
            name: format!("pod{i}"),
            labels,
            annotations: record.map(|r| (POD_ENI.to_string(), r)).into_iter().collect(),
            service_account: sa.into(),
            host_network,
            node_name: None,
            addresses,
            probes: Vec::new(),
            ports: Vec::new(),
            replicas: 1,
            owner: None,
        })
}

/// The controller's annotation: none, a record of groups (shuffled, maybe
/// with a repeat), one that records no groups (as EKS writes it), or one
/// that cannot be read.
fn arb_record() -> impl Strategy<Value = Option<String>> {
    let groups = prop::collection::vec(prop::sample::select(&GROUPS[..]), 1..=3);
    prop_oneof![
        3 => Just(None),
        3 => groups.prop_map(|g| Some(serde_json::json!([{"privateIp": "10.0.0.1", "securityGroups": g}]).to_string())),
        1 => Just(Some(r#"[{"eniId":"eni-0bf8102e8bf0fa369","vlanId":1}]"#.to_string())),
        1 => Just(Some("[{".to_string())),
    ]
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..GROUPS.len()).prop_flat_map(arb_group).prop_flat_map(|g| (Just(g), addresses())).prop_map(|(mut g, a)| {
            g.members = a.into_iter().map(|address| Member { address, name: None }).collect();
            Op::Group(g)
        }),
        1 => (0..GROUPS.len()).prop_map(Op::DeleteGroup),
        4 => (0..3usize).prop_flat_map(|i| arb_policy(format!("p{i}"))).prop_map(Op::Policy),
        1 => (prop::sample::select(&NAMESPACES[..]), 0..3usize).prop_map(|(ns, i)| Op::DeletePolicy(ns, format!("p{i}"))),
        2 => (prop::sample::select(&NAMESPACES[..]), prop::sample::select(&ACCOUNTS[..]), arb_labels())
            .prop_map(|(ns, sa, l)| Op::ServiceAccount(ns, sa, l)),
        1 => (prop::sample::select(&NAMESPACES[..]), prop::sample::select(&ACCOUNTS[..]))
            .prop_map(|(ns, sa)| Op::DeleteServiceAccount(ns, sa)),
        5 => arb_pod().prop_map(Op::Pod),
        1 => (prop::sample::select(&NAMESPACES[..]), 0..4usize).prop_map(|(ns, i)| Op::DeletePod(ns, format!("pod{i}"))),
        1 => (0..2usize, addresses()).prop_map(|(i, addresses)| Op::Node(Node { name: format!("n{i}"), addresses })),
        1 => (0..2usize).prop_map(|i| Op::DeleteNode(format!("n{i}"))),
        2 => (0..3usize, 0..GROUPS.len(), addresses()).prop_map(|(i, g, a)| Op::Slice(i, g, a)),
        1 => (0..3usize).prop_map(Op::DeleteSlice),
        1 => subsequence((0..GROUPS.len()).collect::<Vec<_>>(), 0..=2)
            .prop_flat_map(|g| (Just(g), prop::sample::select(&[AppliesTo::AllPods, AppliesTo::NewPods][..])))
            .prop_map(|(g, applies_to)| Op::Settings(g.into_iter().map(sg).collect(), applies_to)),
    ]
}

/// The final set of objects, kept plainly.
#[derive(Default)]
struct Objects {
    groups: BTreeMap<SgId, SecurityGroup>,
    policies: BTreeMap<(String, String), Policy>,
    accounts: BTreeMap<(String, String), Labels>,
    pods: BTreeMap<WorkloadKey, Workload>,
    nodes: BTreeMap<String, Node>,
    defaults: Vec<SgId>,
    applies_to: AppliesTo,
    slices: BTreeMap<usize, (SgId, Vec<IpAddr>)>,
}

fn apply(world: &mut World, objects: &mut Objects, op: Op) -> Changes {
    match op {
        Op::Group(g) => {
            objects.groups.insert(g.id.clone(), g.clone());
            world.apply_group(g)
        }
        Op::DeleteGroup(i) => {
            objects.groups.remove(&sg(i));
            world.delete_group(&sg(i))
        }
        Op::Policy(p) => {
            objects.policies.insert((p.namespace.clone(), p.name.clone()), p.clone());
            world.apply_policy(p)
        }
        Op::DeletePolicy(ns, name) => {
            objects.policies.remove(&(ns.to_string(), name.clone()));
            world.delete_policy(ns, &name)
        }
        Op::ServiceAccount(ns, sa, labels) => {
            objects.accounts.insert((ns.into(), sa.into()), labels.clone());
            world.apply_service_account(ns, sa, labels)
        }
        Op::DeleteServiceAccount(ns, sa) => {
            objects.accounts.remove(&(ns.to_string(), sa.to_string()));
            world.delete_service_account(ns, sa)
        }
        Op::Pod(w) => {
            objects.pods.insert(w.key(), w.clone());
            world.apply_workload(w)
        }
        Op::DeletePod(ns, name) => {
            let key = WorkloadKey { kind: WorkloadKind::Pod, namespace: ns.into(), name };
            objects.pods.remove(&key);
            world.delete_workload(&key)
        }
        Op::Node(n) => {
            objects.nodes.insert(n.name.clone(), n.clone());
            world.apply_node(n)
        }
        Op::DeleteNode(name) => {
            objects.nodes.remove(&name);
            world.delete_node(&name)
        }
        Op::Slice(i, g, addresses) => {
            objects.slices.insert(i, (sg(g), addresses.clone()));
            world.apply_member_slice(&format!("slice-{i}"), sg(g), addresses)
        }
        Op::DeleteSlice(i) => {
            objects.slices.remove(&i);
            world.delete_member_slice(&format!("slice-{i}"))
        }
        Op::Settings(defaults, applies_to) => {
            objects.defaults = defaults.clone();
            objects.applies_to = applies_to;
            world.apply_settings(Settings {
                default_group_ids: defaults,
                sgp_applies_to: applies_to,
                ..Settings::default()
            })
        }
    }
}

/// A pod's groups by the definition: with new-pods the groups its
/// annotation records; else the SGPs of its namespace that select it, in
/// name order, their groups in first-seen order; else the defaults.
fn groups_of(o: &Objects, w: &Workload) -> Vec<SgId> {
    if w.host_network {
        return o.defaults.clone();
    }
    if let Some(recorded) = recorded(w).filter(|_| o.applies_to == AppliesTo::NewPods) {
        return recorded;
    }
    let no_labels = Labels::new();
    let sa_labels = o.accounts.get(&(w.namespace.clone(), w.service_account.clone())).unwrap_or(&no_labels);
    let mut groups = Vec::new();
    for p in o.policies.values().filter(|p| p.namespace == w.namespace) {
        if p.selects(&w.labels, &w.service_account, sa_labels) {
            for g in &p.group_ids {
                if !groups.contains(g) {
                    groups.push(g.clone());
                }
            }
        }
    }
    if groups.is_empty() { o.defaults.clone() } else { groups }
}

/// The groups a pod's annotation records, read plainly: its interfaces'
/// `securityGroups`, de-duplicated; none when it records none.
fn recorded(w: &Workload) -> Option<Vec<SgId>> {
    let value: serde_json::Value = serde_json::from_str(w.annotations.get(POD_ENI)?).ok()?;
    let mut out: Vec<SgId> = Vec::new();
    for g in value.as_array()?.iter().filter_map(|i| i.get("securityGroups")?.as_array()).flatten() {
        let id = sg(GROUPS.iter().position(|x| Some(*x) == g.as_str())?);
        if !out.contains(&id) {
            out.push(id);
        }
    }
    (!out.is_empty()).then_some(out)
}

fn members_of(o: &Objects) -> BTreeMap<SgId, BTreeSet<IpAddr>> {
    let mut out: BTreeMap<SgId, BTreeSet<IpAddr>> = BTreeMap::new();
    for w in o.pods.values().filter(|w| !w.host_network) {
        for g in groups_of(o, w) {
            out.entry(g).or_default().extend(&w.addresses);
        }
    }
    for g in o.groups.values() {
        out.entry(g.id.clone()).or_default().extend(g.members.iter().map(|m| m.address));
    }
    for n in o.nodes.values() {
        for g in &o.defaults {
            out.entry(g.clone()).or_default().extend(&n.addresses);
        }
    }
    for (g, addresses) in o.slices.values() {
        out.entry(g.clone()).or_default().extend(addresses);
    }
    out.retain(|_, a| !a.is_empty());
    out
}

/// (object, field, missing group) for every reference to a group that is
/// not there.
fn missing_of(o: &Objects) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    let mut check = |object: String, path: String, id: &SgId| {
        if !o.groups.contains_key(id) {
            out.insert((object, path, id.to_string()));
        }
    };
    for p in o.policies.values() {
        for (i, id) in p.group_ids.iter().enumerate() {
            check(
                format!("SecurityGroupPolicy/{}/{}", p.namespace, p.name),
                format!("spec.securityGroups.groupIds[{i}]"),
                id,
            );
        }
    }
    for g in o.groups.values() {
        for (direction, rules) in [("ingress", &g.ingress), ("egress", &g.egress)] {
            for (i, rule) in rules.iter().enumerate() {
                let ids = rule.peers.iter().filter_map(|p| match p {
                    Peer::Group { id, .. } => Some(id),
                    Peer::Cidr { .. } => None,
                });
                for (j, id) in ids.enumerate() {
                    check(
                        format!("SecurityGroup/{}", g.id),
                        format!("spec.{direction}[{i}].userIdGroupPairs[{j}].groupId"),
                        id,
                    );
                }
            }
        }
    }
    for (i, id) in o.defaults.iter().enumerate() {
        check("ClusterConfig/cluster".into(), format!("spec.defaultGroupIds[{i}]"), id);
    }
    out
}

/// The objects as the world's inputs, by key.
fn snapshot(o: &Objects) -> Snapshot {
    let mut inputs: Vec<Input> = Vec::new();
    inputs.extend(o.groups.values().cloned().map(Input::Group));
    inputs.extend(o.policies.values().cloned().map(Input::Policy));
    inputs.extend(o.accounts.iter().map(|((namespace, name), labels)| Input::ServiceAccount {
        namespace: namespace.clone(),
        name: name.clone(),
        labels: labels.clone(),
    }));
    inputs.extend(o.pods.values().cloned().map(Input::Workload));
    inputs.extend(o.nodes.values().cloned().map(Input::Node));
    inputs.extend(o.slices.iter().map(|(i, (group, addresses))| Input::MemberSlice {
        name: format!("slice-{i}"),
        group: group.clone(),
        addresses: addresses.clone(),
    }));
    inputs.push(Input::Settings(Settings {
        default_group_ids: o.defaults.clone(),
        sgp_applies_to: o.applies_to,
        ..Settings::default()
    }));
    inputs.into_iter().map(|i| (i.key(), i)).collect()
}

fn objects_after(ops: Vec<Op>) -> Objects {
    let (mut world, mut objects) = (World::new(), Objects::default());
    for op in ops {
        apply(&mut world, &mut objects, op);
    }
    objects
}

/// What a world says of every pod and group of `o`.
fn state_of(world: &World, o: &Objects) -> (BTreeMap<WorkloadKey, Vec<SgId>>, Vec<BTreeSet<IpAddr>>, usize) {
    let pods = o.pods.keys().map(|k| (k.clone(), world.resolution(k).expect("applied").groups.clone())).collect();
    let members = GROUPS.iter().map(|g| world.member_addresses(&SgId::parse(g).unwrap())).collect();
    (pods, members, world.missing_groups().len())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn the_diff_of_two_snapshots_takes_one_world_to_the_other(
        first in prop::collection::vec(arb_op(), 0..25),
        second in prop::collection::vec(arb_op(), 0..25),
    ) {
        let (a, b) = (objects_after(first), objects_after(second));
        let (before, after) = (snapshot(&a), snapshot(&b));
        let mut world = World::new();
        for input in before.values() {
            world.take(InputChange::Apply(input.clone()));
        }
        for change in diff(&before, &after) {
            world.take(change);
        }
        let mut fresh = World::new();
        for input in after.values() {
            fresh.take(InputChange::Apply(input.clone()));
        }
        prop_assert_eq!(state_of(&world, &b), state_of(&fresh, &b));
        prop_assert_eq!(state_of(&fresh, &b).0, b.pods.values().map(|w| (w.key(), groups_of(&b, w))).collect::<BTreeMap<_, _>>());
        prop_assert!(diff(&after, &after).is_empty(), "a snapshot differs from nothing in itself");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_sequence_of_changes_ends_where_a_fresh_resolution_of_the_final_objects_does(
        ops in prop::collection::vec(arb_op(), 1..40)
    ) {
        let mut world = World::new();
        let mut objects = Objects::default();
        // What the reported changes say, replayed.
        let mut pods: BTreeMap<WorkloadKey, Vec<SgId>> = BTreeMap::new();
        let mut members: BTreeMap<SgId, BTreeSet<IpAddr>> = BTreeMap::new();
        for op in ops {
            let changes = apply(&mut world, &mut objects, op);
            for (key, change) in changes.pods {
                prop_assert_eq!(pods.get(&key), change.before.as_ref(), "{}: the change's before", key);
                match change.after {
                    Some(groups) => pods.insert(key, groups),
                    None => pods.remove(&key),
                };
            }
            for (group, delta) in changes.members {
                let set = members.entry(group.clone()).or_default();
                for a in &delta.removed {
                    prop_assert!(set.remove(a), "{}: {} removed but not a member", group, a);
                }
                for a in &delta.added {
                    prop_assert!(set.insert(*a), "{}: {} added twice", group, a);
                }
                if set.is_empty() {
                    members.remove(&group);
                }
            }
        }
        let expected: BTreeMap<WorkloadKey, Vec<SgId>> =
            objects.pods.values().map(|w| (w.key(), groups_of(&objects, w))).collect();
        for (key, groups) in &expected {
            prop_assert_eq!(&world.resolution(key).expect("applied").groups, groups, "{}", key);
        }
        prop_assert_eq!(&pods, &expected, "the pod changes, replayed");
        let expected_members = members_of(&objects);
        for group in GROUPS.iter().map(|g| SgId::parse(g).unwrap()) {
            let want = expected_members.get(&group).cloned().unwrap_or_default();
            prop_assert_eq!(world.member_addresses(&group), want, "{}", group);
        }
        prop_assert_eq!(&members, &expected_members, "the member changes, replayed");
        let missing: BTreeSet<(String, String, String)> = world
            .missing_groups()
            .iter()
            .map(|d| (d.object.as_ref().unwrap().to_string(), d.path.clone(), d.value.clone().unwrap()))
            .collect();
        prop_assert_eq!(missing, missing_of(&objects));
    }
}
