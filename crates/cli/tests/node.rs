//! The node under stress: rule changes under continuous traffic, agent
//! restarts under traffic, and a thousand pods added and deleted.

mod support;
use podsg_netns::{Listener, Netns, require_privilege};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::{Node, WORLD, address};

/// The base world, with changes that never alter "green to green on 5432:
/// allowed" nor "red to green on 5432: denied": extra rules for other ports
/// and ranges, a group with external members, and the enforcing mode (which
/// replaces the whole table).
fn variant(i: usize, extra_rule: &str) -> String {
    let mode = if i.is_multiple_of(5) { "standard" } else { "strict" };
    let members: Vec<String> = (0..(i % 7)).map(|k| format!("10.50.{i}.{k}")).collect();
    WORLD
        .replace("GREEN_GROUP", "sg-0a")
        .replace("spec: {defaultGroupIds: [sg-0e]}", &format!("spec: {{defaultGroupIds: [sg-0e], enforcingMode: {mode}}}"))
        .replace(
            "  ingress: [{ipProtocol: tcp, fromPort: 5432, toPort: 5432, userIdGroupPairs: [{groupId: sg-0a}]}]",
            &format!(
                "  ingress:\n  - {{ipProtocol: tcp, fromPort: 5432, toPort: 5432, userIdGroupPairs: [{{groupId: sg-0a}}]}}\n  - {{ipProtocol: udp, fromPort: {p}, toPort: {p}, ipRanges: [{{cidrIp: 10.99.0.0/16}}]}}\n  - {{ipProtocol: tcp, fromPort: 9000, toPort: 9000, userIdGroupPairs: [{{groupId: sg-0f}}]}}\n{extra_rule}---\napiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata: {{name: sg-0f}}\nspec: {{members: [{}]}}\n",
                members.join(", "),
                p = 1000 + i
            ),
        )
}

/// A flow tried again and again (a new connection each time), counting outcomes.
struct Flow {
    stop: Arc<AtomicBool>,
    passed: Arc<AtomicUsize>,
    failed: Arc<AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Flow {
    fn start(from: &Netns, to: SocketAddr) -> Flow {
        let label = from.name().to_string();
        let (stop, passed, failed) =
            (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (s, p, f) = (stop.clone(), passed.clone(), failed.clone());
        let thread = from
            .spawn(move || {
                while !s.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    match TcpStream::connect_timeout(&to, Duration::from_millis(500)) {
                        Ok(_) => p.fetch_add(1, Ordering::Relaxed),
                        Err(e) => {
                            eprintln!("flow {label} -> {to}: {e} after {:?}", started.elapsed());
                            f.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                    std::thread::sleep(Duration::from_millis(2));
                }
            })
            .unwrap();
        Flow { stop, passed, failed, thread: Some(thread) }
    }

    /// Stops and returns (passed, failed).
    fn finish(mut self) -> (usize, usize) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap();
        (self.passed.load(Ordering::Relaxed), self.failed.load(Ordering::Relaxed))
    }
}

struct Cluster {
    node: Node,
    green1: Netns,
    red: Netns,
    _green2: Netns,
    target: SocketAddr,
    _listener: Listener,
}

fn cluster() -> Cluster {
    let node = Node::start(&variant(1, ""));
    let (green1, green2, red) =
        (Netns::new("pgn-g1").unwrap(), Netns::new("pgn-g2").unwrap(), Netns::new("pgn-r").unwrap());
    for (c, ns, name) in [("c1", &green1, "green1"), ("c2", &green2, "green2"), ("c3", &red, "red")] {
        let (code, r) = node.add(c, ns, name);
        assert_eq!(code, 0, "{r}");
    }
    let (_, r2) = node.add("c2", &green2, "green2");
    let target = SocketAddr::new(IpAddr::V4(address(&r2)), 5432);
    let listener = Listener::echo(&green2, SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 5432)).unwrap();
    Cluster { node, green1, red, _green2: green2, target, _listener: listener }
}

fn set_world(node: &Node, text: &str) {
    let path = node.dir.path().join("manifests/world.yaml");
    let staged = node.dir.path().join("manifests/.world.yaml.tmp");
    std::fs::write(&staged, text).unwrap();
    std::fs::rename(staged, path).unwrap();
}

fn converged(node: &Node, pods: &[(&str, &Netns)]) -> bool {
    pods.iter().all(|(c, ns)| node.simple("CHECK", c, Some(&ns.path())).0 == 0)
}

#[test]
fn rule_changes_under_traffic_are_atomic() {
    require_privilege!();
    let c = cluster();
    let allowed = Flow::start(&c.green1, c.target);
    let denied = Flow::start(&c.red, c.target);
    for i in 2..42 {
        set_world(&c.node, &variant(i, ""));
        std::thread::sleep(Duration::from_millis(100));
    }
    let (ok, dropped) = allowed.finish();
    let (leaked, refused) = denied.finish();
    assert_eq!(dropped, 0, "allowed connections dropped during {ok} attempts");
    assert_eq!(leaked, 0, "denied connections passed during {refused} attempts");
    // A refused connection waits out its 500 ms timeout: few fit in the window.
    assert!(ok > 100 && refused >= 4, "traffic ran: {ok} allowed connections, {refused} refused");
}

#[test]
fn agent_restarts_under_traffic_leak_nothing_and_converge() {
    require_privilege!();
    let mut c = cluster();
    let allowed = Flow::start(&c.green1, c.target);
    let denied = Flow::start(&c.red, c.target);
    for i in 0..100 {
        c.node.stop_agent();
        // The kernel keeps enforcing while the agent is away; change things meanwhile.
        set_world(&c.node, &variant(i + 2, ""));
        std::thread::sleep(Duration::from_millis(30));
        c.node.start_agent();
    }
    let (ok, dropped) = allowed.finish();
    let (leaked, refused) = denied.finish();
    assert_eq!(dropped, 0, "allowed connections dropped across 100 restarts");
    assert_eq!(leaked, 0, "denied connections passed across 100 restarts");
    eprintln!(
        "100 agent restarts under traffic: {ok} allowed connections made, {dropped} dropped; {refused} denied refused, {leaked} passed"
    );
    assert!(ok > 100 && refused >= 10, "traffic ran: {ok} allowed, {refused} refused");
    let pods = [("c1", &c.green1), ("c3", &c.red)];
    let start = Instant::now();
    while !converged(&c.node, &pods) {
        assert!(start.elapsed() < Duration::from_secs(10), "did not converge after the restarts");
        std::thread::sleep(Duration::from_millis(100));
    }
    // And it keeps following the desired state: now red may connect too.
    set_world(
        &c.node,
        &variant(99, "  - {ipProtocol: tcp, fromPort: 5432, toPort: 5432, userIdGroupPairs: [{groupId: sg-0e}]}\n"),
    );
    let start = Instant::now();
    let red = Netns::existing(c.red.name());
    while !podsg_netns::Probe::tcp(&red, c.target, Duration::from_millis(300)).unwrap() {
        assert!(start.elapsed() < Duration::from_secs(10), "the new rule never reached the kernel");
    }
    // The readiness probe: ready while it serves; a socket left by a
    // stopped agent is not.
    let ready = |node: &Node| {
        std::process::Command::new(support::bin("podsg"))
            .arg("ready")
            .arg("--socket")
            .arg(node.socket())
            .status()
            .unwrap()
            .success()
    };
    assert!(ready(&c.node));
    c.node.stop_agent();
    assert!(c.node.socket().exists() && !ready(&c.node), "a stopped agent's socket is not ready");
}

#[test]
fn a_thousand_pods_leave_nothing_behind() {
    require_privilege!();
    let node = Node::start(&WORLD.replace("GREEN_GROUP", "sg-0a"));
    let started = Instant::now();
    for i in 0..1000u32 {
        let pod = Netns::new("pgn-leak").unwrap();
        let container = format!("leak{i}");
        let (code, r) = node.add(&container, &pod, if i % 2 == 0 { "green1" } else { "red" });
        assert_eq!(code, 0, "cycle {i}: {r}");
        if i.is_multiple_of(3) {
            // Sometimes the runtime deletes the namespace first.
            drop(pod);
            let (code, e) = node.simple("DEL", &container, None);
            assert_eq!(code, 0, "cycle {i}: {e}");
        } else {
            let (code, e) = node.simple("DEL", &container, Some(&pod.path()));
            assert_eq!(code, 0, "cycle {i}: {e}");
        }
    }
    eprintln!("1000 add/delete cycles in {:.1}s", started.elapsed().as_secs_f64());
    let links = String::from_utf8(node.ns.exec("ip", &["-o", "link", "show"]).unwrap().stdout).unwrap();
    assert!(!links.contains(": pg"), "interfaces left:\n{links}");
    assert_eq!(node.addresses_taken(), 0, "addresses left");
    let records = std::fs::read_dir(node.dir.path().join("state/attachments")).unwrap().count();
    assert_eq!(records, 0, "attachment records left");
    let table: serde_json::Value =
        serde_json::from_slice(&node.ns.exec("nft", &["-j", "list", "table", "inet", "podsg"]).unwrap().stdout)
            .unwrap();
    let objects: Vec<String> = table["nftables"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| {
            o.get("chain").or(o.get("set")).or(o.get("map")).and_then(|x| x["name"].as_str()).map(String::from)
        })
        .collect();
    let expected = [
        "forward",
        "input",
        "output",
        "members_in",
        "fu",
        "from_pod",
        "to_pod",
        "members",
        "sources4",
        "sources6",
        "eg_ok",
        "eg_no",
        "in_ok",
        "in_no",
        "log_denied",
    ];
    let mut sorted = objects.clone();
    sorted.sort();
    let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(sorted, want, "nft objects left");
    let maps =
        String::from_utf8(node.ns.exec("nft", &["list", "map", "inet", "podsg", "from_pod"]).unwrap().stdout).unwrap();
    assert!(!maps.contains("elements"), "interface map entries left: {maps}");
    for counted in ["eg_ok", "eg_no", "in_ok", "in_no"] {
        let set =
            String::from_utf8(node.ns.exec("nft", &["list", "set", "inet", "podsg", counted]).unwrap().stdout).unwrap();
        assert!(!set.contains("elements"), "counters of pods left in {counted}: {set}");
    }
    let sources =
        String::from_utf8(node.ns.exec("nft", &["list", "set", "inet", "podsg", "sources4"]).unwrap().stdout).unwrap();
    assert!(!sources.contains("elements"), "pod addresses left: {sources}");
}
