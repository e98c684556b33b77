//! The node's incremental view against the batch path it replaces: fed the
//! handbook's objects one at a time (then an edit, as the changes between
//! two loads), with this node's attachments laid over, it compiles the
//! same rule set as a catalog loaded whole, copied with the attachments'
//! addresses and this node added.

use podsg_agent::{Error, NodeView, Record};
use podsg_model::Loaded;
use podsg_model::dataplane::{LocalPod, NodeRuleset, PodGroups};
use podsg_model::group::SgId;
use podsg_model::node::Node;
use podsg_model::workload::WorkloadKind;
use podsg_model::world::{InputChange, diff};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

const NODE: &str = "node-a";

fn node_address() -> IpAddr {
    "10.0.0.10".parse().unwrap()
}

/// The handbook with pods of its two workloads and one that names a group
/// that does not exist.
fn cluster(dir: &Path, sgp_edit: Option<(&str, &str)>) -> Vec<PathBuf> {
    let handbook = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/handbook");
    for entry in std::fs::read_dir(handbook).unwrap() {
        let path = entry.unwrap().path();
        let mut text = std::fs::read_to_string(&path).unwrap();
        if let Some((from, to)) = sgp_edit.filter(|_| path.ends_with("20-security-group-policy.yaml")) {
            text = text.replace(from, to);
        }
        std::fs::write(dir.join(path.file_name().unwrap()), text).unwrap();
    }
    let pods: String = [("green-1", "green-pod"), ("red-1", "red-pod"), ("lost-1", "lost")]
        .iter()
        .map(|(name, app)| {
            format!(
                "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: networking, labels: {{app: {app}}}}}\n\
                 spec: {{nodeName: {NODE}, containers: [{{name: c, image: i}}]}}\n"
            )
        })
        .collect();
    let lost = "---\napiVersion: vpcresources.k8s.aws/v1beta1\nkind: SecurityGroupPolicy\n\
                metadata: {name: lost, namespace: networking}\n\
                spec: {podSelector: {matchLabels: {app: lost}}, securityGroups: {groupIds: [sg-0000000000000dead]}}\n";
    std::fs::write(dir.join("90-pods.yaml"), pods + lost).unwrap();
    vec![dir.to_path_buf()]
}

fn records() -> Vec<Record> {
    ["green-1", "red-1", "lost-1", "gone-1"]
        .iter()
        .enumerate()
        .map(|(i, name)| Record {
            container_id: format!("c{i}"),
            ifname: "eth0".into(),
            netns: None,
            pod_namespace: "networking".into(),
            pod_name: name.to_string(),
            host_interface: format!("pg0000000000{i}"),
            addresses: vec![IpAddr::from([10, 244, 0, 2 + i as u8])],
            chained: false,
        })
        .collect()
}

/// The batch path: the whole catalog copied with the attachments'
/// addresses and this node, resolved and compiled.
fn batch(loaded: &Loaded, records: &[Record]) -> NodeRuleset {
    let mut catalog = loaded.catalog.clone();
    for w in catalog.workloads.iter_mut().filter(|w| w.kind == WorkloadKind::Pod) {
        if let Some(r) = records.iter().find(|r| r.pod_namespace == w.namespace && r.pod_name == w.name) {
            w.addresses = r.addresses.clone();
        }
    }
    if !catalog.nodes.iter().any(|n| n.name == NODE) {
        catalog.nodes.push(Node { name: NODE.into(), addresses: vec![node_address()] });
    }
    let groups: Vec<Option<Vec<SgId>>> = records
        .iter()
        .map(|r| {
            let pod = catalog.pod(&r.pod_namespace, &r.pod_name)?;
            let groups = catalog.resolve(pod).groups;
            catalog.missing_groups(&groups).is_empty().then_some(groups)
        })
        .collect();
    let pods: Vec<String> = records.iter().map(Record::pod).collect();
    let local: Vec<LocalPod> = records
        .iter()
        .zip(&groups)
        .zip(&pods)
        .map(|((r, g), pod)| LocalPod {
            interface: &r.host_interface,
            pod,
            addresses: &r.addresses,
            groups: g.as_deref().map_or(PodGroups::Unresolved, PodGroups::of),
            log_denied: false,
        })
        .collect();
    let membership = catalog.membership();
    NodeRuleset::compile(&catalog.groups, &|g| membership.addresses(g), catalog.settings.enforcing_mode, &local)
}

#[test]
fn the_incremental_view_compiles_what_the_batch_path_did() {
    let dir = tempfile::tempdir().unwrap();
    let paths = cluster(dir.path(), None);
    let loaded = podsg_manifests::load_lenient(&paths);
    let records = records();
    let mut view = NodeView::new(NODE, node_address());
    let inputs = loaded.catalog.inputs();
    view.take(inputs.values().cloned().map(InputChange::Apply).collect());
    for r in &records {
        view.set_local(&r.pod_namespace, &r.pod_name, Some(r.addresses.clone()));
    }
    let ruleset = view.ruleset(&records, None, &Default::default());
    assert_eq!(ruleset, batch(&loaded, &records));
    assert!(ruleset.pods.len() >= 2, "green and red carry different groups: {:?}", ruleset.pods.keys());

    assert_eq!(
        view.groups_of("networking", "lost-1"),
        Err(Error::MissingGroups {
            namespace: "networking".into(),
            name: "lost-1".into(),
            groups: vec![SgId::parse("sg-0000000000000dead").unwrap()],
        })
    );
    assert_eq!(
        view.groups_of("networking", "gone-1").unwrap_err().to_string(),
        "pod networking/gone-1 is not in podsg's desired state"
    );

    // An edit reaches the view as the changes between two loads.
    cluster(dir.path(), Some(("app: green-pod", "app: red-pod")));
    let edited = podsg_manifests::load_lenient(&paths);
    let changes = view.take(diff(&inputs, &edited.catalog.inputs()));
    assert!(!changes.pods.is_empty(), "the green pod's groups changed");
    assert_eq!(view.ruleset(&records, None, &Default::default()), batch(&edited, &records));

    // An attachment gone: its address leaves the groups it carried.
    let changes = view.set_local("networking", "green-1", None);
    assert!(!changes.members.is_empty(), "{changes:?}");
    let rest: Vec<Record> = records.iter().filter(|r| r.pod_name != "green-1").cloned().collect();
    assert_eq!(view.ruleset(&rest, None, &Default::default()), batch(&edited, &rest));
}

/// Whose refusals are logged: a pod's annotation wins either way, else the
/// agent's flags (every pod, or pods carrying a group); switching a pod's
/// annotation is a change the agent enforces.
#[test]
fn refusal_logs_follow_annotations_then_flags() {
    let dir = tempfile::tempdir().unwrap();
    let paths = cluster(dir.path(), None);
    let path = dir.path().join("90-pods.yaml");
    let original = std::fs::read_to_string(&path).unwrap();
    let annotate = |value: &str| {
        let text = original.replace(
            "metadata: {name: red-1, namespace: networking, labels: {app: red-pod}}",
            &format!("metadata: {{name: red-1, namespace: networking, labels: {{app: red-pod}}, annotations: {{podsg.io/log-denied: \"{value}\"}}}}"),
        );
        std::fs::write(&path, text).unwrap();
        podsg_manifests::load_lenient(&paths).catalog.inputs()
    };
    let plain = podsg_manifests::load_lenient(&paths).catalog.inputs();
    let records = records();
    let mut view = NodeView::new(NODE, node_address());
    view.take(plain.values().cloned().map(InputChange::Apply).collect());
    let logged = |view: &mut NodeView, log: &podsg_agent::LogDenied| -> Vec<String> {
        let ruleset = view.ruleset(&records, None, log);
        ruleset.interfaces.values().filter(|p| p.log_denied).map(|p| p.pod.clone()).collect()
    };
    let none = podsg_agent::LogDenied::default();
    let all = podsg_agent::LogDenied { all: true, ..Default::default() };
    let pod_sg =
        podsg_agent::LogDenied { groups: [SgId::parse("sg-0a7f3c9e2b1d48502").unwrap()].into(), ..Default::default() };
    assert!(logged(&mut view, &none).is_empty());
    assert_eq!(logged(&mut view, &all).len(), 4, "every attachment");
    assert_eq!(logged(&mut view, &pod_sg), ["Pod/networking/green-1"], "POD_SG is green's");
    let on = annotate("true");
    let changes = view.take(diff(&plain, &on));
    assert!(changes.is_empty() && view.log_switched(), "no change to the world, but one to enforce");
    assert!(!view.log_switched(), "said once");
    assert_eq!(logged(&mut view, &none), ["Pod/networking/red-1"]);
    let off = annotate("false");
    view.take(diff(&on, &off));
    assert_eq!(logged(&mut view, &all).len(), 3, "\"false\" keeps red out even with --log-denied");
}
