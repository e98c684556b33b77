//! Node benchmarks on the real kernel (root): `cargo bench -p podsg --bench node [add|member|throughput|idle|bulk]`.
//! Prints the numbers recorded in BENCHMARKS.md. Run once in test mode
//! (`cargo test --benches`), each does a small version of itself.

#[path = "../tests/support/mod.rs"]
mod support;

use podsg_model::dataplane::{CellKey, Peers};
use podsg_model::group::SgId;
use podsg_netns::{Netns, Privilege, privileged};
use podsg_nft::Side;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{Node, WORLD, address};

/// The `i`th of many distinct addresses, never adjacent, so that they stay
/// separate set elements (adjacent ones are merged into prefixes).
fn spaced(i: usize) -> Ipv4Addr {
    Ipv4Addr::from(0x0b00_0000u32 + 2 * i as u32)
}

/// A set of the tcp `ports` cell in the ingress of the pods that carry
/// `group`: its members (`h4`), or its IPv4 networks.
fn ingress_set(group: &str, ports: (u16, u16), members: bool) -> String {
    let groups = [SgId::parse(group).unwrap()];
    let nets = if members { Vec::new() } else { vec!["10.0.0.0/8".parse().unwrap()] };
    let peers = Peers { groups: members, hosts: Default::default(), nets };
    let cell = Side::Ingress(&groups).cell(&CellKey::Ports { protocols: (6, 6), ports }, &peers);
    format!("{cell}_{}", if members { "h4" } else { "n4" })
}

/// How many elements a set of the node's table holds.
fn set_len(node: &Node, set: &str) -> usize {
    let out = node.ns.exec("nft", &["-j", "list", "set", "inet", "podsg", set]).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    v["nftables"].as_array().into_iter().flatten().filter_map(|o| o["set"]["elem"].as_array()).map(|e| e.len()).sum()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// CNI ADD until it returns (it returns once the pod's rules are enforced).
fn add_latency(pods: usize) {
    let node = Node::start(&WORLD.replace("GREEN_GROUP", "sg-0a"));
    let mut namespaces = Vec::new();
    let mut took = Vec::new();
    for i in 0..pods {
        let ns = Netns::new("pgb-add").unwrap();
        let start = Instant::now();
        let (code, r) = node.add(&format!("b{i}"), &ns, if i % 2 == 0 { "green1" } else { "red" });
        took.push(start.elapsed());
        assert_eq!(code, 0, "{r}");
        namespaces.push(ns);
    }
    let first: Vec<Duration> = took[..pods.min(50)].to_vec();
    let mut sorted = took.clone();
    sorted.sort();
    let mut first_sorted = first.clone();
    first_sorted.sort();
    println!(
        "cni add, {pods} pods on one node: p50 {}, p99 {}, max {} (first {}: p50 {}); last 50: p50 {}",
        ms(percentile(&sorted, 0.5)),
        ms(percentile(&sorted, 0.99)),
        ms(*sorted.last().unwrap()),
        first.len(),
        ms(percentile(&first_sorted, 0.5)),
        ms({
            let mut last: Vec<Duration> = took[took.len().saturating_sub(50)..].to_vec();
            last.sort();
            percentile(&last, 0.5)
        }),
    );
}

fn world_with_members(members: usize, extra: Option<Ipv4Addr>) -> String {
    let mut list: Vec<String> = (0..members).map(|i| spaced(i).to_string()).collect();
    list.extend(extra.map(|a| a.to_string()));
    WORLD.replace("GREEN_GROUP", "sg-0a").replace(
        "  ingress: [{ipProtocol: tcp, fromPort: 5432, toPort: 5432, userIdGroupPairs: [{groupId: sg-0a}]}]",
        &format!(
            "  ingress: [{{ipProtocol: tcp, fromPort: 5432, toPort: 5432, userIdGroupPairs: [{{groupId: sg-0a}}, {{groupId: sg-0b}}]}}]\n---\napiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata: {{name: sg-0b}}\nspec:\n  members: [{}]\n",
            list.join(", ")
        ),
    )
}

/// One member added to a group of `members`: from the manifest write to the
/// element being in the kernel set of a pod whose ingress references the group.
fn member_add(members: usize) {
    let node = Node::start(&world_with_members(members, None));
    let pod = Netns::new("pgb-member").unwrap();
    let (code, r) = node.add("m1", &pod, "green1");
    assert_eq!(code, 0, "{r}");
    // The cell of tcp/5432 in the pod's ingress; its rule names groups (s1).
    let set = ingress_set("sg-0a", (5432, 5432), true);
    let new = Ipv4Addr::new(12, 0, 0, 1);
    let path = node.dir.path().join("manifests/world.yaml");
    let staged = node.dir.path().join("manifests/.world.tmp");
    std::fs::write(&staged, world_with_members(members, Some(new))).unwrap();
    let start = Instant::now();
    std::fs::rename(&staged, &path).unwrap();
    // The agent says how long from receiving the change (the manifests read
    // again) to the kernel enforcing it. (Polling the kernel
    // instead would measure `nft`, which reads all 100,000 elements first.)
    let took = loop {
        let log = std::fs::read_to_string(node.log()).unwrap();
        if let Some(line) = log.lines().rev().find(|l| l.contains("desired state changed (")) {
            break line.split(['(', ')']).nth(1).unwrap_or_default().to_string();
        }
        assert!(start.elapsed() < Duration::from_secs(120), "the agent did not report the change:\n{log}");
        std::thread::sleep(Duration::from_millis(1));
    };
    let reported = start.elapsed();
    let element = format!("{{ {new} }}");
    let out = node.ns.exec("nft", &["get", "element", "inet", "podsg", &set, &element]).unwrap();
    assert!(out.status.success(), "the agent reported the change, yet {new} is not in {set}");
    println!(
        "member added to a group of {members}: agent {took}; reported {} after the manifest changed (read again on inotify's word)",
        ms(reported)
    );
}

fn iperf(from: &Netns, to: Ipv4Addr, seconds: u32) -> f64 {
    let out = from.exec("iperf3", &["-c", &to.to_string(), "-t", &seconds.to_string(), "-J"]).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("iperf3: {e}: {}", String::from_utf8_lossy(&out.stderr)));
    v["end"]["sum_received"]["bits_per_second"].as_f64().expect("iperf3 result")
}

/// Throughput between two pods through the node: no table, 10 rules, `many` rules.
fn throughput(many: usize, seconds: u32) {
    let rules = |n: usize| {
        let ranges: Vec<String> = (0..n).map(|i| format!("{{cidrIp: {}/32}}", spaced(i))).collect();
        WORLD.replace("GREEN_GROUP", "sg-0a").replace(
            "  ingress: [{ipProtocol: tcp, fromPort: 5432, toPort: 5432, userIdGroupPairs: [{groupId: sg-0a}]}]",
            &format!("  ingress:\n  - {{ipProtocol: tcp, fromPort: 5201, toPort: 5201, userIdGroupPairs: [{{groupId: sg-0a}}]}}\n  - {{ipProtocol: tcp, fromPort: 1, toPort: 1024, ipRanges: [{}]}}\n", ranges.join(", ")),
        )
    };
    let node = Node::start(&rules(10));
    let (client, server) = (Netns::new("pgb-c").unwrap(), Netns::new("pgb-s").unwrap());
    assert_eq!(node.add("t1", &client, "green1").0, 0);
    let (code, r) = node.add("t2", &server, "green2");
    assert_eq!(code, 0, "{r}");
    let target = address(&r);
    let mut daemon = Command::new("ip")
        .args(["netns", "exec", server.name(), "iperf3", "-s"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let with_ten = iperf(&client, target, seconds);
    let path = node.dir.path().join("manifests/world.yaml");
    std::fs::write(&path, rules(many)).unwrap();
    // The cell of tcp/1-1024: its rule has IPv4 networks only (s2).
    let set = ingress_set("sg-0a", (1, 1024), false);
    let start = Instant::now();
    while set_len(&node, &set) < many {
        assert!(start.elapsed() < Duration::from_secs(300), "rules never arrived");
        std::thread::sleep(Duration::from_millis(200));
    }
    let arrived = start.elapsed();
    let with_many = iperf(&client, target, seconds);
    node.ns.exec("nft", &["delete", "table", "inet", "podsg"]).unwrap();
    let mut node = node;
    node.stop_agent();
    let without = iperf(&client, target, seconds);
    let _ = daemon.kill();
    let _ = daemon.wait();
    let gbit = |b: f64| b / 1e9;
    println!(
        "throughput through the node (iperf3, {seconds}s, one TCP stream): no firewall {:.2} Gbit/s; 10 rules {:.2} Gbit/s (ratio {:.2}); {many} rules {:.2} Gbit/s (ratio {:.2}); the {many} rules reached the kernel {} after the manifest changed",
        gbit(without),
        gbit(with_ten),
        with_ten / without,
        gbit(with_many),
        with_many / without,
        ms(arrived)
    );
}

/// CPU seconds a process and its waited-for children have used.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit_once(") ").unwrap().1.split(' ').collect();
    // utime, stime, cutime, cstime: fields 14-17, in clock ticks (100 Hz).
    fields[11..15].iter().map(|f| f.parse::<f64>().unwrap()).sum::<f64>() / 100.0
}

/// The agent enforcing a pod whose ingress references a group of `members`,
/// left alone for `seconds`: the CPU it uses (the 10 s repair asks the
/// kernel for its ruleset generation instead of reading the table back).
fn idle(members: usize, seconds: u64) {
    let node = Node::start(&world_with_members(members, None));
    let pod = Netns::new("pgb-idle").unwrap();
    let (code, r) = node.add("i1", &pod, "green1");
    assert_eq!(code, 0, "{r}");
    let set = ingress_set("sg-0a", (5432, 5432), true);
    assert!(set_len(&node, &set) >= members, "the members are enforced");
    let pid = node.agent_pid().unwrap();
    let before = cpu_seconds(pid);
    std::thread::sleep(Duration::from_secs(seconds));
    let used = cpu_seconds(pid) - before;
    let start = Instant::now();
    let out = node.ns.exec("nft", &["-j", "list", "table", "inet", "podsg"]).unwrap();
    assert!(out.status.success());
    let full_read = start.elapsed();
    println!(
        "idle agent enforcing {members} members: {:.2}% of a core over {seconds} s; one full read of the table (every 15 min) takes {}, {:.2}% of a core on average",
        100.0 * used / seconds as f64,
        ms(full_read),
        100.0 * full_read.as_secs_f64() / 900.0
    );
}

/// CNI ADDs one after another while the agent applies a change that adds
/// `members` members to a group a pod's ingress references.
fn add_during_bulk(members: usize) {
    let node = Node::start(&world_with_members(10, None));
    let first = Netns::new("pgb-bulk").unwrap();
    let (code, r) = node.add("k0", &first, "green1");
    assert_eq!(code, 0, "{r}");
    let set = ingress_set("sg-0a", (5432, 5432), true);
    let path = node.dir.path().join("manifests/world.yaml");
    let staged = node.dir.path().join("manifests/.world.tmp");
    std::fs::write(&staged, world_with_members(members, None)).unwrap();
    let start = Instant::now();
    std::fs::rename(&staged, &path).unwrap();
    let mut took = Vec::new();
    let mut namespaces = Vec::new();
    let mut i = 1;
    // At least one ADD: a small change can reach the kernel before the first.
    while i == 1 || set_len(&node, &set) < members {
        let ns = Netns::new("pgb-bulk").unwrap();
        let t = Instant::now();
        let (code, r) = node.add(&format!("k{i}"), &ns, "red");
        took.push(t.elapsed());
        assert_eq!(code, 0, "{r}");
        namespaces.push(ns);
        i += 1;
        assert!(start.elapsed() < Duration::from_secs(300), "the members never arrived");
    }
    let arrived = start.elapsed();
    took.sort();
    println!(
        "{} CNI ADDs while {members} members were loaded ({} until all were in the kernel): p50 {}, max {}",
        took.len(),
        ms(arrived),
        ms(percentile(&took, 0.5)),
        ms(*took.last().unwrap())
    );
}

fn main() {
    if let Privilege::Missing(why) = privileged() {
        eprintln!("node benchmarks need root: {why}");
        return;
    }
    // `cargo test --benches` passes no --bench: run small versions as a check.
    let full = std::env::args().any(|a| a == "--bench");
    let pick: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let wants = |name: &str| pick.is_empty() || pick.iter().any(|p| p == name);
    if wants("add") {
        // EKS allows 9 pods with security groups on an m5.large; podsg none.
        for pods in if full { [500, 1_000] } else { [5, 10] } {
            add_latency(pods);
        }
    }
    if wants("member") {
        for members in if full { vec![1_000, 50_000, 100_000] } else { vec![100, 200] } {
            member_add(members);
        }
    }
    if wants("throughput") {
        if full { throughput(100_000, 5) } else { throughput(100, 1) }
    }
    if wants("idle") {
        if full { idle(100_000, 60) } else { idle(100, 1) }
    }
    if wants("bulk") {
        add_during_bulk(if full { 100_000 } else { 100 });
    }
}
