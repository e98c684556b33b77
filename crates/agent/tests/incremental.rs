//! Incremental equals batch: after any sequence of changes (objects
//! applied and deleted in batches, as a source reports them), the node's
//! view compiles the same rule set, resolves the same groups and wants the
//! same members as a fresh view given the final state in one batch (the
//! incremental one keeps each set of groups' compiled allowances between
//! compilations, dropped when a change touches what they depend on).

use podsg_agent::{NodeView, Record};
use podsg_model::Catalog;
use podsg_model::decode::{Format, decode};
use podsg_model::world::{Input, InputChange, InputKey, Snapshot};
use proptest::prelude::*;
use std::net::IpAddr;

const NODE: &str = "node-a";
const GROUPS: [&str; 3] = ["sg-0a", "sg-0b", "sg-0c"];

/// The one object `yaml` holds, as the world's input.
fn input(yaml: &str) -> Input {
    let objects = decode(yaml, "", Format::Yaml).objects;
    let inputs = Catalog::build_lenient(objects).catalog.inputs();
    let found: Vec<&Input> = inputs.values().filter(|i| !matches!(i, Input::Settings(_))).collect();
    match found.as_slice() {
        [one] => (*one).clone(),
        [] if yaml.contains("kind: ClusterConfig") => inputs[&InputKey::Settings].clone(),
        more => panic!("{yaml}: {more:?}"),
    }
}

fn group(id: usize, port: u16, from: usize, member: Option<u8>) -> Input {
    let peer = match from {
        3 => "ipRanges: [{cidrIp: 192.0.2.0/24}]".to_string(),
        g => format!("userIdGroupPairs: [{{groupId: {}}}]", GROUPS[g]),
    };
    let members = member.map_or(String::new(), |m| format!("  members: [10.9.0.{m}]\n"));
    input(&format!(
        "apiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata: {{name: {}}}\nspec:\n{members}  \
         ingress: [{{ipProtocol: tcp, fromPort: {port}, toPort: {port}, {peer}}}]\n  \
         egress: [{{ipProtocol: udp, fromPort: 53, toPort: 53, {peer}}}]\n",
        GROUPS[id]
    ))
}

fn policy(name: usize, app: usize, groups: &[usize], by_account: bool) -> Input {
    let ids: Vec<&str> = groups.iter().map(|g| GROUPS[*g]).collect();
    let selector = if by_account {
        format!("serviceAccountSelector: {{matchLabels: {{team: t{app}}}}}")
    } else {
        format!("podSelector: {{matchLabels: {{app: a{app}}}}}")
    };
    input(&format!(
        "apiVersion: vpcresources.k8s.aws/v1beta1\nkind: SecurityGroupPolicy\nmetadata: {{name: p{name}, namespace: ns}}\n\
         spec: {{{selector}, securityGroups: {{groupIds: [{}]}}}}\n",
        ids.join(", ")
    ))
}

fn pod(name: usize, app: usize, account: usize, ip: u8) -> Input {
    input(&format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: pod-{name}, namespace: ns, labels: {{app: a{app}}}}}\n\
         spec: {{nodeName: {NODE}, serviceAccountName: sa{account}, containers: [{{name: c, image: i}}]}}\n\
         status: {{podIP: 10.244.9.{ip}}}\n"
    ))
}

fn account(name: usize, team: usize) -> Input {
    input(&format!(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: sa{name}, namespace: ns, labels: {{team: t{team}}}}}\n"
    ))
}

fn settings(default_group: Option<usize>, strict: bool) -> Input {
    let defaults = default_group.map_or(String::new(), |g| format!("defaultGroupIds: [{}], ", GROUPS[g]));
    let mode = if strict { "strict" } else { "standard" };
    input(&format!(
        "apiVersion: podsg.io/v1alpha1\nkind: ClusterConfig\nmetadata: {{name: cluster}}\nspec: {{{defaults}enforcingMode: {mode}}}\n"
    ))
}

fn slice(group: usize, index: u32, addresses: Vec<u8>) -> Input {
    let id = podsg_model::group::SgId::parse(GROUPS[group]).unwrap();
    Input::MemberSlice {
        name: podsg_model::slices::slice_name(&id, index),
        group: id,
        addresses: addresses.into_iter().map(|a| IpAddr::from([10, 8, 0, a])).collect(),
    }
}

fn any_input() -> impl Strategy<Value = Input> {
    prop_oneof![
        (0..3usize, 5430..5433u16, 0..4usize, proptest::option::of(1..4u8)).prop_map(|(i, p, f, m)| group(i, p, f, m)),
        (0..3usize, 0..3usize, proptest::sample::subsequence(vec![0, 1, 2], 1..3), any::<bool>())
            .prop_map(|(n, a, g, by)| policy(n, a, &g, by)),
        (0..4usize, 0..3usize, 0..2usize, 2..6u8).prop_map(|(n, a, s, ip)| pod(n, a, s, ip)),
        (0..2usize, 0..3usize).prop_map(|(n, t)| account(n, t)),
        (proptest::option::of(0..3usize), any::<bool>()).prop_map(|(g, s)| settings(g, s)),
        (0..3usize, 0..2u32, proptest::collection::vec(1..6u8, 1..4)).prop_map(|(g, i, a)| slice(g, i, a)),
    ]
}

fn any_change() -> impl Strategy<Value = InputChange> {
    prop_oneof![
        4 => any_input().prop_map(InputChange::Apply),
        1 => any_input().prop_map(|i| InputChange::Delete(i.key())),
    ]
}

/// This node's attachments: pods 0 to 2 (pod 3 runs elsewhere, or is not started).
fn records() -> Vec<Record> {
    (0..3)
        .map(|i| Record {
            container_id: format!("c{i}"),
            ifname: "eth0".into(),
            netns: None,
            pod_namespace: "ns".into(),
            pod_name: format!("pod-{i}"),
            host_interface: format!("pg0000000000{i}"),
            addresses: vec![IpAddr::from([10, 244, 0, 2 + i as u8])],
            chained: false,
        })
        .collect()
}

fn view(records: &[Record]) -> NodeView {
    let mut view = NodeView::new(NODE, "10.0.0.10".parse().unwrap());
    for r in records {
        view.set_local(&r.pod_namespace, &r.pod_name, Some(r.addresses.clone()));
    }
    view
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn incremental_equals_batch(batches in proptest::collection::vec(proptest::collection::vec(any_change(), 1..5), 1..12)) {
        let records = records();
        let mut incremental = view(&records);
        let mut state = Snapshot::new();
        for batch in batches {
            for change in &batch {
                match change {
                    InputChange::Apply(i) => state.insert(i.key(), i.clone()),
                    InputChange::Delete(k) => state.remove(k),
                };
            }
            incremental.take(batch);
            // Compiled now and then, so that allowances kept between
            // compilations are what the next one starts from.
            incremental.ruleset(&records, None, &Default::default());
        }
        let mut fresh = view(&records);
        fresh.take(state.into_values().map(InputChange::Apply).collect());
        prop_assert_eq!(incremental.ruleset(&records, None, &Default::default()), fresh.ruleset(&records, None, &Default::default()));
        prop_assert_eq!(incremental.wanted_groups(), fresh.wanted_groups());
        for r in &records {
            prop_assert_eq!(incremental.groups_of("ns", &r.pod_name), fresh.groups_of("ns", &r.pod_name));
        }
    }
}
