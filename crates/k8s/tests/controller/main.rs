//! Controller scenarios against kube's tower-test mock service: objects go
//! into the controller's state as the watchers would put them, and every
//! request the controller then makes is checked, method, path, query,
//! content type and body, in order.

mod properties;
mod verifier;
mod watching;

use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use podsg_k8s::controller::{Metrics, Shared, State, Writer, drain};
use podsg_k8s::crd;
use podsg_k8s::sgp_api::SgpApi;
use podsg_model::resolve::GroupSource;
use podsg_model::settings::{AppliesTo, Settings};
use podsg_model::workload::{WorkloadKey, WorkloadKind};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use verifier::{
    Expect, Handle, answer, echo_forever, event, group_status, pod_get, pod_patch, policy_status, slice_delete,
    slice_put,
};

const NOW_NANOS: i128 = 1_767_225_600_000_000_000;
const EKS: &str = "vpcresources.k8s.aws";

fn fixed_clock() -> Timestamp {
    Timestamp::from_nanosecond(NOW_NANOS).unwrap()
}

fn fixed_time() -> String {
    "2026-01-01T00:00:00Z".into()
}

/// One controller replica against the mock API server.
struct Scenario {
    shared: Arc<Shared>,
    writer: Writer,
    handle: Handle,
    leader: (watch::Sender<bool>, watch::Receiver<bool>),
    metrics: Metrics,
}

impl Scenario {
    fn new(applies_to: Option<AppliesTo>) -> Scenario {
        let (service, handle) = tower_test::mock::pair();
        let client = Client::new(service, "default");
        let mut writer = Writer::new(client, "podsg-controller-0".into());
        writer.now = fixed_clock;
        Scenario {
            shared: Arc::new(Shared::new(State::new(Settings::default(), applies_to, fixed_time))),
            writer,
            handle,
            leader: watch::channel(true),
            metrics: Metrics::default(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.lock()
    }

    /// Carries out what is queued, answering every write as the API server
    /// would, unchecked: the set-up before the step under test.
    async fn settle(&mut self) {
        let (shared, writer, leader, metrics) = (&self.shared, &self.writer, &self.leader.1, &self.metrics);
        tokio::select! {
            () = drain(shared, writer, leader, metrics) => {}
            () = echo_forever(&mut self.handle) => unreachable!("the mock service ended"),
        }
    }

    /// Carries out what is queued; the requests must be exactly `expected`,
    /// in order, and nothing more.
    async fn expect(&mut self, expected: Vec<Expect>) {
        let (shared, writer, leader, metrics) = (&self.shared, &self.writer, &self.leader.1, &self.metrics);
        let handle = &mut self.handle;
        let checks = async move {
            for e in expected {
                answer(handle, e).await;
            }
        };
        let run = async { tokio::join!(drain(shared, writer, leader, metrics), checks) };
        tokio::time::timeout(Duration::from_secs(30), run)
            .await
            .expect("the controller waited for an answer to a request the scenario did not expect");
    }
}

// --- Objects, as the API server sends them ---

fn pod(ns: &str, name: &str, uid: &str, labels: Value, sa: &str, ip: Option<&str>) -> Pod {
    let mut pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "uid": uid, "labels": labels},
        "spec": {"serviceAccountName": sa, "nodeName": "node-1", "containers": [{"name": "app", "image": "app"}]},
        "status": {"phase": "Pending"},
    });
    if let Some(ip) = ip {
        pod["status"] = json!({"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]});
    }
    serde_json::from_value(pod).unwrap()
}

fn with_annotation(mut pod: Pod, value: &str) -> Pod {
    pod.metadata.annotations = Some([("vpc.amazonaws.com/pod-eni".to_string(), value.to_string())].into());
    pod
}

fn sgp(ns: &str, name: &str, pod_selector: Value, groups: &[&str]) -> Value {
    json!({
        "apiVersion": "vpcresources.k8s.aws/v1beta1", "kind": "SecurityGroupPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"podSelector": pod_selector, "securityGroups": {"groupIds": groups}},
    })
}

fn sa_sgp(ns: &str, name: &str, sa_selector: Value, groups: &[&str]) -> Value {
    json!({
        "apiVersion": "vpcresources.k8s.aws/v1beta1", "kind": "SecurityGroupPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"serviceAccountSelector": sa_selector, "securityGroups": {"groupIds": groups}},
    })
}

fn group(id: &str) -> crd::SecurityGroup {
    serde_json::from_value(json!({
        "apiVersion": "podsg.io/v1alpha1", "kind": "SecurityGroup",
        "metadata": {"name": id},
        "spec": {"ingress": [{"ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432, "ipRanges": [{"cidrIp": "10.0.0.0/16"}]}]},
    }))
    .unwrap()
}

fn service_account(ns: &str, name: &str, labels: Value) -> ServiceAccount {
    serde_json::from_value(json!({"apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": name, "namespace": ns, "labels": labels}}))
    .unwrap()
}

/// The annotation, as text in the controller's field order.
fn veth(groups: &[&str], ip: Option<&str>) -> String {
    let groups = serde_json::to_string(groups).unwrap();
    match ip {
        Some(ip) => format!(r#"[{{"privateIp":"{ip}","subnetCidr":"{ip}/32","securityGroups":{groups}}}]"#),
        None => format!(r#"[{{"securityGroups":{groups}}}]"#),
    }
}

fn requested(ns: &str, name: &str, uid: &str, groups: &str) -> Expect {
    let message = format!("Pod will get the following Security Groups [{groups}]");
    event(ns, name, uid, "Normal", "SecurityGroupRequested", &message)
}

fn allocated(ns: &str, name: &str, uid: &str, annotation: &str) -> Expect {
    event(ns, name, uid, "Normal", "ResourceAllocated", &format!("Allocated {annotation} to the pod"))
}

fn resolved(pods: u32, selector: &str) -> Value {
    json!({"matchedPods": pods, "selector": selector, "conditions": [{
        "type": "GroupsResolved", "status": "True", "reason": "GroupsExist",
        "message": "every group exists", "lastTransitionTime": "2026-01-01T00:00:00Z"}]})
}

fn members(n: u32, referenced_by: &[&str]) -> Value {
    // A group without egress rules allows all egress (EC2): one rule.
    let mut status = json!({"ingressRules": 1, "egressRules": 1, "members": n});
    if !referenced_by.is_empty() {
        status["referencedBy"] = json!(referenced_by);
    }
    status
}

/// The pod `prod/green-1` (`app: green`), with or without its address.
fn green_1(ip: Option<&str>) -> Pod {
    pod("prod", "green-1", "uid-1", json!({"app": "green"}), "default", ip)
}

/// A database group and an SGP giving it to `app: green` in `prod`.
async fn green_policy(applies_to: Option<AppliesTo>) -> Scenario {
    let mut s = Scenario::new(applies_to);
    s.state().apply_group(&group("sg-db")).unwrap();
    s.state().apply_policy(SgpApi::Eks, sgp("prod", "green", json!({"matchLabels": {"app": "green"}}), &["sg-db"]));
    s.settle().await;
    s
}

#[tokio::test]
async fn a_new_selected_pod_is_annotated_with_events() {
    let mut s = green_policy(None).await;
    s.state().apply_pod(&green_1(None)).unwrap();
    let annotation = veth(&["sg-db"], None);
    s.expect(vec![
        requested("prod", "green-1", "uid-1", "sg-db"),
        pod_patch("prod", "green-1", "uid-1", Some(&annotation)),
        allocated("prod", "green-1", "uid-1", &annotation),
        policy_status(EKS, "prod", "green", resolved(1, "pods: app=green")),
    ])
    .await;

    // The pod gets its address: the annotation describes it; the groups are
    // the same, so no second SecurityGroupRequested.
    s.state().apply_pod(&with_annotation(green_1(Some("10.1.0.5")), &annotation)).unwrap();
    let annotation = veth(&["sg-db"], Some("10.1.0.5"));
    s.expect(vec![
        pod_patch("prod", "green-1", "uid-1", Some(&annotation)),
        allocated("prod", "green-1", "uid-1", &annotation),
        group_status("sg-db", members(1, &["prod/green"])),
    ])
    .await;

    // The watch shows the pod as written: nothing more to do.
    s.state().apply_pod(&with_annotation(green_1(Some("10.1.0.5")), &annotation)).unwrap();
    s.expect(vec![]).await;
}

#[tokio::test]
async fn an_sgp_naming_a_missing_group_fails_closed() {
    let mut s = Scenario::new(None);
    s.state().apply_policy(SgpApi::Eks, sgp("prod", "red", json!({"matchLabels": {"app": "red"}}), &["sg-0missing"]));
    s.state().apply_pod(&pod("prod", "red-1", "uid-r", json!({"app": "red"}), "default", None)).unwrap();
    s.expect(vec![
        event(
            "prod",
            "red-1",
            "uid-r",
            "Warning",
            "BranchAllocationFailed",
            "InvalidSecurityGroupID.NotFound: sg-0missing does not exist",
        ),
        policy_status(
            EKS,
            "prod",
            "red",
            json!({"matchedPods": 1, "selector": "pods: app=red", "conditions": [{
            "type": "GroupsResolved", "status": "False", "reason": "GroupNotFound",
            "message": "InvalidSecurityGroupID.NotFound: sg-0missing does not exist",
            "lastTransitionTime": "2026-01-01T00:00:00Z"}]}),
        ),
    ])
    .await;

    // Planned again (a relist, another change): the warning is not repeated.
    s.state().apply_pod(&pod("prod", "red-1", "uid-r", json!({"app": "red", "v": "2"}), "default", None)).unwrap();
    s.expect(vec![]).await;
}

#[tokio::test]
async fn an_edited_sgp_reaches_running_pods() {
    let mut s = green_policy(None).await;
    s.state().apply_group(&group("sg-cache")).unwrap();
    let running = with_annotation(green_1(Some("10.1.0.5")), &veth(&["sg-db"], Some("10.1.0.5")));
    s.state().apply_pod(&running).unwrap();
    s.settle().await;

    s.state().apply_policy(
        SgpApi::Eks,
        sgp("prod", "green", json!({"matchLabels": {"app": "green"}}), &["sg-db", "sg-cache"]),
    );
    let annotation = veth(&["sg-db", "sg-cache"], Some("10.1.0.5"));
    s.expect(vec![
        requested("prod", "green-1", "uid-1", "sg-db sg-cache"),
        pod_patch("prod", "green-1", "uid-1", Some(&annotation)),
        allocated("prod", "green-1", "uid-1", &annotation),
        // The edited object came without a status, as the fixture has none.
        policy_status(EKS, "prod", "green", resolved(1, "pods: app=green")),
        group_status("sg-cache", members(1, &["prod/green"])),
    ])
    .await;
}

#[tokio::test]
async fn with_new_pods_an_edited_sgp_leaves_running_pods_alone() {
    let mut s = green_policy(Some(AppliesTo::NewPods)).await;
    s.state().apply_group(&group("sg-cache")).unwrap();
    let before = veth(&["sg-db"], Some("10.1.0.5"));
    s.state().apply_pod(&with_annotation(green_1(Some("10.1.0.5")), &before)).unwrap();
    // A running pod without a record of its groups: it is recorded (with
    // the groups of today's SGPs) and keeps them from then on.
    s.state()
        .apply_pod(&pod("prod", "green-0", "uid-0", json!({"app": "green"}), "default", Some("10.1.0.4")))
        .unwrap();
    s.settle().await;

    s.state().apply_policy(
        SgpApi::Eks,
        sgp("prod", "green", json!({"matchLabels": {"app": "green"}}), &["sg-db", "sg-cache"]),
    );
    s.expect(vec![
        // The edited object came without a status, as the fixture has none.
        policy_status(EKS, "prod", "green", resolved(2, "pods: app=green")),
        // Named by the SGP now, carried by no running pod.
        group_status("sg-cache", members(0, &["prod/green"])),
    ])
    .await;
    let kept = WorkloadKey { kind: WorkloadKind::Pod, namespace: "prod".into(), name: "green-0".into() };
    assert_eq!(s.state().world().resolution(&kept).unwrap().source, GroupSource::Kept(vec!["green".into()]));

    // A new pod gets the SGP as it is now.
    s.state().apply_pod(&pod("prod", "green-2", "uid-2", json!({"app": "green"}), "default", None)).unwrap();
    let annotation = veth(&["sg-db", "sg-cache"], None);
    s.expect(vec![
        requested("prod", "green-2", "uid-2", "sg-db sg-cache"),
        pod_patch("prod", "green-2", "uid-2", Some(&annotation)),
        allocated("prod", "green-2", "uid-2", &annotation),
        policy_status(EKS, "prod", "green", resolved(3, "pods: app=green")),
    ])
    .await;
}

#[tokio::test]
async fn with_new_pods_a_recorded_group_that_is_gone_warns_and_the_record_stays() {
    let mut s = green_policy(Some(AppliesTo::NewPods)).await;
    let record = veth(&["sg-db"], Some("10.1.0.5"));
    s.state().apply_pod(&with_annotation(green_1(Some("10.1.0.5")), &record)).unwrap();
    s.settle().await;

    // Removing the record would hand the pod today's SGP groups: it stays,
    // and the pod is told (its agent fails closed on the missing group).
    s.state().delete_group("sg-db");
    let gone = "InvalidSecurityGroupID.NotFound: sg-db does not exist (and cannot: EC2's group IDs are sg- and 8 \
                or 17 hexadecimal digits, Tencent's sg- and 8 letters or digits; it has 2 digits)";
    s.expect(vec![
        event("prod", "green-1", "uid-1", "Warning", "BranchAllocationFailed", gone),
        policy_status(
            EKS,
            "prod",
            "green",
            json!({"matchedPods": 1, "selector": "pods: app=green", "conditions": [{
            "type": "GroupsResolved", "status": "False", "reason": "GroupNotFound", "message": gone,
            "lastTransitionTime": "2026-01-01T00:00:00Z"}]}),
        ),
    ])
    .await;
}

#[tokio::test]
async fn members_are_published_in_slices_once_every_watch_has_listed() {
    let mut s = green_policy(None).await;
    let record = veth(&["sg-db"], Some("10.1.0.5"));
    s.state().apply_pod(&with_annotation(green_1(Some("10.1.0.5")), &record)).unwrap();
    s.settle().await;

    // Until then, no slice: the world may not have seen every pod.
    s.state().start_publishing();
    s.expect(vec![slice_put("sg-db", 0, &["10.1.0.5"])]).await;

    // A second member: the same slice, rewritten.
    let second = veth(&["sg-db"], Some("10.1.0.6"));
    s.state()
        .apply_pod(&with_annotation(
            pod("prod", "green-2", "uid-2", json!({"app": "green"}), "default", Some("10.1.0.6")),
            &second,
        ))
        .unwrap();
    s.expect(vec![
        slice_put("sg-db", 0, &["10.1.0.5", "10.1.0.6"]),
        policy_status(EKS, "prod", "green", resolved(2, "pods: app=green")),
        group_status("sg-db", members(2, &["prod/green"])),
    ])
    .await;

    // The last members go: so does the slice.
    s.state().delete_pod("prod", "green-1");
    s.state().delete_pod("prod", "green-2");
    s.expect(vec![
        slice_delete("sg-db-0"),
        policy_status(EKS, "prod", "green", resolved(0, "pods: app=green")),
        group_status("sg-db", members(0, &["prod/green"])),
    ])
    .await;
}

#[tokio::test]
async fn a_restarted_controller_rewrites_no_slice_that_is_right() {
    let mut s = green_policy(None).await;
    s.state().apply_pod(&green_1(Some("10.1.0.5"))).unwrap();
    // What the API server holds from the replica before.
    for (name, group, addresses) in [
        ("sg-db-0", "sg-db", vec!["10.1.0.5"]),
        ("sg-gone-0", "sg-gone", vec!["10.9.0.1"]),
        ("sg-db-07", "sg-db", vec!["10.1.0.5"]),
    ] {
        let slice: crd::MemberSlice = serde_json::from_value(json!({
            "apiVersion": "podsg.io/v1alpha1", "kind": "MemberSlice",
            "metadata": {"name": name, "labels": {"podsg.io/group": group}},
            "spec": {"addresses": addresses}}))
        .unwrap();
        s.state().apply_slice(&slice);
    }
    s.settle().await;
    s.state().start_publishing();
    // The right one stays; a group with no members and a name no slice
    // has are deleted.
    s.expect(vec![slice_delete("sg-gone-0"), slice_delete("sg-db-07")]).await;
}

#[tokio::test]
async fn a_service_account_label_change_re_resolves_its_pods() {
    let mut s = Scenario::new(None);
    s.state().apply_group(&group("sg-db")).unwrap();
    s.state().apply_policy(SgpApi::Eks, sa_sgp("prod", "by-sa", json!({"matchLabels": {"role": "db"}}), &["sg-db"]));
    s.state().apply_service_account(&service_account("prod", "api", json!({"role": "web"}))).unwrap();
    s.state().apply_pod(&pod("prod", "api-1", "uid-a", json!({"app": "api"}), "api", Some("10.1.0.7"))).unwrap();
    s.settle().await;

    s.state().apply_service_account(&service_account("prod", "api", json!({"role": "db"}))).unwrap();
    let annotation = veth(&["sg-db"], Some("10.1.0.7"));
    s.expect(vec![
        requested("prod", "api-1", "uid-a", "sg-db"),
        pod_patch("prod", "api-1", "uid-a", Some(&annotation)),
        allocated("prod", "api-1", "uid-a", &annotation),
        policy_status(EKS, "prod", "by-sa", resolved(1, "service accounts: role=db")),
        group_status("sg-db", members(1, &["prod/by-sa"])),
    ])
    .await;

    // The label goes again: the annotation is removed.
    s.state()
        .apply_pod(&with_annotation(
            pod("prod", "api-1", "uid-a", json!({"app": "api"}), "api", Some("10.1.0.7")),
            &annotation,
        ))
        .unwrap();
    s.state().apply_service_account(&service_account("prod", "api", json!({"role": "web"}))).unwrap();
    s.expect(vec![
        pod_patch("prod", "api-1", "uid-a", None),
        policy_status(EKS, "prod", "by-sa", resolved(0, "service accounts: role=db")),
        group_status("sg-db", members(0, &["prod/by-sa"])),
    ])
    .await;
}

#[tokio::test]
async fn two_sgps_give_the_union_in_first_seen_order() {
    let mut s = Scenario::new(None);
    for id in ["sg-a", "sg-b", "sg-c"] {
        s.state().apply_group(&group(id)).unwrap();
    }
    s.state().apply_policy(SgpApi::Eks, sgp("prod", "first", json!({"matchLabels": {"app": "x"}}), &["sg-b", "sg-a"]));
    s.state()
        .apply_policy(SgpApi::Eks, sgp("prod", "second", json!({"matchLabels": {"tier": "t"}}), &["sg-a", "sg-c"]));
    s.settle().await;
    s.state().apply_pod(&pod("prod", "x-1", "uid-x", json!({"app": "x", "tier": "t"}), "default", None)).unwrap();
    let annotation = veth(&["sg-b", "sg-a", "sg-c"], None);
    s.expect(vec![
        requested("prod", "x-1", "uid-x", "sg-b sg-a sg-c"),
        pod_patch("prod", "x-1", "uid-x", Some(&annotation)),
        allocated("prod", "x-1", "uid-x", &annotation),
        policy_status(EKS, "prod", "first", resolved(1, "pods: app=x")),
        policy_status(EKS, "prod", "second", resolved(1, "pods: tier=t")),
    ])
    .await;
}

#[tokio::test]
async fn a_deleted_pod_leaves_nothing_and_is_not_written() {
    let mut s = green_policy(None).await;
    s.state().apply_pod(&green_1(Some("10.1.0.5"))).unwrap();
    // Deleted before the controller wrote anything for it.
    s.state().delete_pod("prod", "green-1");
    s.expect(vec![]).await;
    assert!(s.state().pod_names().is_empty());
    assert!(s.state().world().workload(&pod_key("prod", "green-1")).is_none());
    assert_eq!(s.state().world().member_count(&"sg-db".parse_sg()), 0);
}

#[tokio::test]
async fn a_conflict_is_retried_from_fresh_state() {
    let mut s = green_policy(None).await;
    s.state().apply_pod(&pod("prod", "green-1", "uid-old", json!({"app": "green"}), "default", None)).unwrap();
    let annotation = veth(&["sg-db"], None);
    // The pod was deleted and created again under its name, unselected: the
    // old pod's groups must not reach it.
    let recreated = pod("prod", "green-1", "uid-new", json!({"app": "blue"}), "default", None);
    s.expect(vec![
        requested("prod", "green-1", "uid-old", "sg-db"),
        verifier::pod_patch_conflict("prod", "green-1", "uid-old", Some(&annotation)),
        pod_get("prod", "green-1", serde_json::to_value(&recreated).unwrap()),
    ])
    .await;
    let metrics = s.metrics.render();
    assert!(
        metrics.contains(r#"podsg_controller_writes_total{kind="pod_annotation",result="conflict"} 1"#),
        "{metrics}"
    );

    // Recreated and selected: the new pod is written with its own UID.
    let mut s = green_policy(None).await;
    s.state().apply_pod(&pod("prod", "green-1", "uid-old", json!({"app": "green"}), "default", None)).unwrap();
    let recreated = pod("prod", "green-1", "uid-new", json!({"app": "green"}), "default", None);
    s.expect(vec![
        requested("prod", "green-1", "uid-old", "sg-db"),
        verifier::pod_patch_conflict("prod", "green-1", "uid-old", Some(&annotation)),
        pod_get("prod", "green-1", serde_json::to_value(&recreated).unwrap()),
        requested("prod", "green-1", "uid-new", "sg-db"),
        pod_patch("prod", "green-1", "uid-new", Some(&annotation)),
        allocated("prod", "green-1", "uid-new", &annotation),
        policy_status(EKS, "prod", "green", resolved(1, "pods: app=green")),
    ])
    .await;
}

#[tokio::test]
async fn a_replica_that_lost_the_lease_writes_nothing() {
    let mut s = green_policy(None).await;
    s.leader.0.send(false).unwrap();
    s.state().apply_pod(&green_1(None)).unwrap();
    s.expect(vec![]).await;
    assert_eq!(s.state().queued(), 2, "the pod and its SGP's status wait for the lease");

    // Leading again: the waiting work is done.
    s.leader.0.send(true).unwrap();
    let annotation = veth(&["sg-db"], None);
    s.expect(vec![
        requested("prod", "green-1", "uid-1", "sg-db"),
        pod_patch("prod", "green-1", "uid-1", Some(&annotation)),
        allocated("prod", "green-1", "uid-1", &annotation),
        policy_status(EKS, "prod", "green", resolved(1, "pods: app=green")),
    ])
    .await;
}

fn pod_key(ns: &str, name: &str) -> podsg_model::workload::WorkloadKey {
    podsg_model::workload::WorkloadKey {
        kind: podsg_model::workload::WorkloadKind::Pod,
        namespace: ns.into(),
        name: name.into(),
    }
}

trait ParseSg {
    fn parse_sg(&self) -> podsg_model::group::SgId;
}

impl ParseSg for str {
    fn parse_sg(&self) -> podsg_model::group::SgId {
        podsg_model::group::SgId::parse(self).unwrap()
    }
}

#[tokio::test]
async fn losing_the_lease_mid_plan_stops_before_the_next_write() {
    let mut s = green_policy(None).await;
    s.state().apply_pod(&green_1(None)).unwrap();
    let (shared, writer, metrics) = (&s.shared, &s.writer, &s.metrics);
    let (lease, leader) = (&s.leader.0, &s.leader.1);
    let handle = &mut s.handle;
    let checks = async move {
        answer(handle, requested("prod", "green-1", "uid-1", "sg-db")).await;
        // Another replica took the lease while the event was written.
        lease.send(false).unwrap();
    };
    let run = async { tokio::join!(drain(shared, writer, leader, metrics), checks) };
    tokio::time::timeout(Duration::from_secs(30), run).await.expect("no write after the lease was lost");
    assert_eq!(s.state().queued(), 2, "the pod waits again, with its SGP's status");
}
