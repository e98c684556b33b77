//! The agent on its Kubernetes source, against the API mock, driving the
//! real dataplane in a node namespace: what the API says reaches the
//! kernel as element updates in the table the agent made at start.

use super::api::{ACCOUNTS, ApiServer, EKS_SGPS, GROUPS, PODS, SLICES, TKE_SGPS, Watch, list_query, watch_query};
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use podsg_agent::{Agent, AgentConfig, NodeView, Store, serve};
use podsg_cni::agent_protocol::{Attachment, Request, Response};
use podsg_k8s::agent_source::{Fed, KubeSource};
use podsg_k8s::crd;
use podsg_model::settings::Settings;
use podsg_model::world::{Input, InputChange};
use podsg_netns::Netns;
use podsg_netns::wire::router;
use podsg_nft::{Dataplane, NftCli};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const NODE: &str = "node-1";
const OWN_PODS: &str = "fieldSelector=spec.nodeName%3Dnode-1&";

fn pod(name: &str, app: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": "shop", "uid": format!("uid-{name}"), "labels": {"app": app}},
           "spec": {"nodeName": NODE, "containers": [{"name": "c", "image": "i"}]}})
}

fn sgp(name: &str, app: &str, groups: &[&str]) -> Value {
    json!({"apiVersion": "vpcresources.k8s.aws/v1beta1", "kind": "SecurityGroupPolicy",
           "metadata": {"name": name, "namespace": "shop"},
           "spec": {"podSelector": {"matchLabels": {"app": app}}, "securityGroups": {"groupIds": groups}}})
}

/// A group allowing `port` from group `from` (or from CIDR `from`).
fn group(id: &str, port: u16, from: &str) -> Value {
    let peer = if from.starts_with("sg-") {
        json!({"userIdGroupPairs": [{"groupId": from}]})
    } else {
        json!({"ipRanges": [{"cidrIp": from}]})
    };
    let mut rule = json!({"ipProtocol": "tcp", "fromPort": port, "toPort": port});
    rule.as_object_mut().unwrap().extend(peer.as_object().unwrap().clone());
    json!({"apiVersion": "podsg.io/v1alpha1", "kind": "SecurityGroup", "metadata": {"name": id},
           "spec": {"ingress": [rule]}})
}

fn slice(group: &str, index: u32, addresses: &[&str]) -> Value {
    json!({"apiVersion": "podsg.io/v1alpha1", "kind": "MemberSlice",
           "metadata": {"name": format!("{group}-{index}"), "labels": {"podsg.io/group": group}},
           "spec": {"addresses": addresses}})
}

fn slices_of(groups: &[&str]) -> String {
    format!("labelSelector=podsg.io%2Fgroup+in+%28{}%29&", groups.join("%2C"))
}

/// Sends one request to the agent's socket, as the CNI plugin does.
fn ask(socket: &Path, request: &Request) -> Response {
    let mut stream = UnixStream::connect(socket).unwrap();
    stream.write_all(format!("{}\n", serde_json::to_string(request).unwrap()).as_bytes()).unwrap();
    let mut line = String::new();
    BufReader::new(&stream).read_line(&mut line).unwrap();
    serde_json::from_str(&line).unwrap()
}

fn add(container: &str, pod: &str, netns: &str) -> Request {
    Request::Add(Attachment {
        container_id: container.into(),
        ifname: "eth0".into(),
        netns: Some(netns.into()),
        pod_namespace: Some("shop".into()),
        pod_name: Some(pod.into()),
        prev_result: None,
        requested_ip: None,
    })
}

/// The node's table as the kernel lists it, with handles.
fn table(node: &Netns) -> String {
    let out = node.exec("nft", &["-a", "list", "table", "inet", "podsg"]).unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The handle the kernel gave the table: the same handle means the same
/// table, changed in place.
fn table_handle(node: &Netns) -> String {
    let text = table(node);
    text.lines().next().and_then(|l| l.split("# handle ").nth(1)).unwrap_or_default().trim().to_string()
}

async fn kernel_shows(node: &Netns, what: &str, present: bool) {
    let start = Instant::now();
    while table(node).contains(what) != present {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the kernel never {} {what}:\n{}",
            if present { "got" } else { "lost" },
            table(node)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

struct Watches {
    pods: Watch,
    eks: Watch,
    groups: Watch,
    _tke: Watch,
    _accounts: Watch,
}

/// Lists every control kind as the agent starts, then opens their watches.
async fn start(api: &mut ApiServer) -> Watches {
    let pods = vec![pod("green-1", "green"), pod("lost-1", "lost")];
    let policies =
        vec![sgp("green", "green", &["sg-db"]), sgp("red", "red", &["sg-red"]), sgp("lost", "lost", &["sg-0dead"])];
    let groups =
        vec![group("sg-db", 5432, "sg-app"), group("sg-web", 80, "sg-cache"), group("sg-red", 6379, "192.0.2.0/24")];
    api.list(PODS, &list_query(OWN_PODS), "10", pods).await;
    api.list(EKS_SGPS, &list_query(""), "10", policies).await;
    api.list(TKE_SGPS, &list_query(""), "10", vec![]).await;
    api.list(GROUPS, &list_query(""), "10", groups).await;
    api.list(ACCOUNTS, &list_query(""), "10", vec![]).await;
    Watches {
        pods: api.watch(PODS, &watch_query(OWN_PODS, "10")).await,
        eks: api.watch(EKS_SGPS, &watch_query("", "10")).await,
        _tke: api.watch(TKE_SGPS, &watch_query("", "10")).await,
        groups: api.watch(GROUPS, &watch_query("", "10")).await,
        _accounts: api.watch(ACCOUNTS, &watch_query("", "10")).await,
    }
}

async fn wait_for_socket(socket: PathBuf) {
    let start = Instant::now();
    while !socket.exists() {
        assert!(start.elapsed() < Duration::from_secs(20), "the agent never served");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_api_says_reaches_the_kernel_as_element_updates() {
    podsg_netns::require_privilege!();
    let node = Netns::new("pgk-node").unwrap();
    router(&node.path(), "10.100.0.1".parse().unwrap()).unwrap();
    let pod_ns = Netns::new("pgk-pod").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("agent.sock");

    let (service, handle) = tower_test::mock::pair();
    let mut api = ApiServer::new(handle);
    let source =
        KubeSource::start(move || async move { Ok(Client::new(service, "default")) }, NODE, Settings::default())
            .expect("the source starts");
    let config = AgentConfig {
        node_name: NODE.into(),
        node_address: "10.100.0.1".parse().unwrap(),
        pod_cidr: Some("10.1.0.0/24".parse().unwrap()),
        state_dir: dir.path().join("state"),
        mode: None,
        node_netns: Some(node.path()),
        log_denied: Default::default(),
        pod_cidr6: None,
    };
    let agent = Agent::new(config, NftCli::in_netns(node.name())).unwrap();
    let served = socket.clone();
    let metrics = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let metrics_address = metrics.local_addr().unwrap();
    std::thread::spawn(move || serve(agent, source, &served, Some(metrics)));

    // The control objects list; green-1's group names sg-app, so the agent
    // lists sg-app's slices, a member on another node among them, before
    // it changes the kernel or serves.
    let w = start(&mut api).await;
    assert!(!socket.exists(), "the agent serves only once it has the members its pods need");
    api.list(SLICES, &list_query(&slices_of(&["sg-app"])), "20", vec![slice("sg-app", 0, &["10.9.9.9"])]).await;
    let app_slices = api.watch(SLICES, &watch_query(&slices_of(&["sg-app"]), "20")).await;
    wait_for_socket(socket.clone()).await;

    // The scheduled pod's ADD: its rules, then its interface.
    let s = socket.clone();
    let netns = pod_ns.path();
    let added = tokio::task::spawn_blocking(move || ask(&s, &add("c1", "green-1", &netns))).await.unwrap();
    let Response::Ok(Some(result)) = added else { panic!("ADD failed: {added:?}") };
    let host_if = result.interfaces[0].name.clone();
    let first = table(&node);
    assert!(first.contains(&host_if), "the pod's interface is in the rules:\n{first}");
    assert!(first.contains("10.9.9.9"), "sg-app's member on another node:\n{first}");
    assert!(first.contains("5432"));
    assert!(
        pod_ns.ip(&["-o", "addr", "show", "eth0"]).unwrap().contains("10.1.0."),
        "the interface is up with its address"
    );
    let handle = table_handle(&node);

    // A pod whose group does not exist gets no network, and says why.
    let s = socket.clone();
    let netns = pod_ns.path();
    let lost = tokio::task::spawn_blocking(move || ask(&s, &add("c2", "lost-1", &netns))).await.unwrap();
    let Response::Error(e) = lost else { panic!("the pod with a missing group got a network: {lost:?}") };
    assert!(e.to_string().contains("sg-0dead"), "{e}");

    // Another member of sg-app appears on another node.
    app_slices.send("MODIFIED", "21", &slice("sg-app", 0, &["10.9.9.9", "10.9.9.10"]));
    kernel_shows(&node, "10.9.9.10", true).await;

    // An SG rule edit.
    w.groups.send("MODIFIED", "22", &group("sg-db", 5433, "sg-app"));
    kernel_shows(&node, "5433", true).await;
    kernel_shows(&node, "5432", false).await;

    // An SGP edit gives green-1 sg-web too, whose rule names sg-cache: the
    // agent watches sg-cache's slices as well, and enforces once it has them.
    w.eks.send("MODIFIED", "23", &sgp("green", "green", &["sg-db", "sg-web"]));
    api.list(
        SLICES,
        &list_query(&slices_of(&["sg-app", "sg-cache"])),
        "30",
        vec![slice("sg-app", 0, &["10.9.9.9", "10.9.9.10"]), slice("sg-cache", 0, &["10.9.9.20"])],
    )
    .await;
    let _slices = api.watch(SLICES, &watch_query(&slices_of(&["sg-app", "sg-cache"]), "30")).await;
    kernel_shows(&node, "10.9.9.20", true).await;

    // A label change moves green-1 to sg-red (a CIDR rule).
    w.pods.send("MODIFIED", "31", &pod("green-1", "red"));
    kernel_shows(&node, "192.0.2.0/24", true).await;
    kernel_shows(&node, "10.9.9.20", false).await;

    // The group watch expires; meanwhile sg-red's port changed: the relist brings it.
    w.groups.gone();
    let groups =
        vec![group("sg-db", 5433, "sg-app"), group("sg-web", 80, "sg-cache"), group("sg-red", 6380, "192.0.2.0/24")];
    api.list(GROUPS, &list_query(""), "40", groups).await;
    let regrouped = api.watch(GROUPS, &watch_query("", "40")).await;
    kernel_shows(&node, "6380", true).await;
    // The watch drops: the watcher watches again from where it was.
    drop(regrouped);
    let _again = api.watch(GROUPS, &watch_query("", "40")).await;

    assert_eq!(table_handle(&node), handle, "every change was made in the table the agent made at start");

    // What the agent did, as Prometheus sees it.
    let scraped = tokio::task::spawn_blocking(move || scrape(metrics_address)).await.unwrap();
    for line in [
        "podsg_agent_synced 1",
        "podsg_agent_cni_requests_total{op=\"add\",result=\"ok\"} 1",
        "podsg_agent_cni_requests_total{op=\"add\",result=\"100\"} 1",
        "podsg_agent_enforce_failures_total 0",
    ] {
        assert!(scraped.lines().any(|l| l == line), "{line} in:\n{scraped}");
    }
    assert!(scraped.contains("podsg_agent_desired_state_reports_total"), "{scraped}");

    // Incremental equals batch: a fresh view given the final objects at
    // once, over the same attachments, is what the kernel holds.
    let finals: Vec<Input> = [
        fed::<Pod>(pod("green-1", "red")),
        fed::<Pod>(pod("lost-1", "lost")),
        fed::<crd::SecurityGroupPolicy>(sgp("green", "green", &["sg-db", "sg-web"])),
        fed::<crd::SecurityGroupPolicy>(sgp("red", "red", &["sg-red"])),
        fed::<crd::SecurityGroupPolicy>(sgp("lost", "lost", &["sg-0dead"])),
        fed::<crd::SecurityGroup>(group("sg-db", 5433, "sg-app")),
        fed::<crd::SecurityGroup>(group("sg-web", 80, "sg-cache")),
        fed::<crd::SecurityGroup>(group("sg-red", 6380, "192.0.2.0/24")),
        fed::<crd::MemberSlice>(slice("sg-app", 0, &["10.9.9.9", "10.9.9.10"])),
        fed::<crd::MemberSlice>(slice("sg-cache", 0, &["10.9.9.20"])),
    ]
    .into();
    let records = Store::new(dir.path().join("state/attachments")).unwrap().all();
    let mut fresh = NodeView::new(NODE, "10.100.0.1".parse().unwrap());
    for r in &records {
        fresh.set_local(&r.pod_namespace, &r.pod_name, Some(r.addresses.clone()));
    }
    fresh.take(finals.into_iter().map(InputChange::Apply).collect());
    let drift = Dataplane::new(NftCli::in_netns(node.name()))
        .check_kernel(&fresh.ruleset(&records, None, &Default::default()))
        .unwrap();
    assert!(drift.is_empty(), "the kernel differs from a fresh agent's rule set: {drift:?}");
}

/// GET /metrics.
fn scrape(address: std::net::SocketAddr) -> String {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: agent\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    answer.split("\r\n\r\n").nth(1).unwrap_or_default().to_string()
}

/// An object as the agent's source reads it.
fn fed<K: Fed>(object: Value) -> Input {
    serde_json::from_value::<K>(object).unwrap().input().unwrap()
}
