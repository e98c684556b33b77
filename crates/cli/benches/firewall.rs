//! New connections per second through a node, side by side in one run: no
//! firewall, podsg, ipset + iptables (Calico's way) and linear iptables, with
//! the server pod's ingress allowing the client and N-1 other distinct,
//! non-adjacent peers on the same ports. Root only.
//!
//! `cargo bench -p podsg --bench firewall` (3 rounds of 10 / 10,000 / 100,000
//! peers; `-- N M rounds=R seconds=S` for other sizes, rounds, run lengths);
//! `cargo test --benches` runs a small
//! version (1 round, 10 and 100 peers, 1 s per netperf run).
//!
//! Per round and size, each firewall in turn (the order rotates per round):
//! load all rules and time it until a new connection from the client passes;
//! netperf `TCP_CRR` (new connections) and `TCP_RR` (one established one),
//! client and server pinned to CPU 0 (`-T 0,0`), conntrack flushed before
//! each; then one more peer is allowed (the `late` pod joins the peers) and
//! timed until a new connection from it passes. Rates are ratios to "none"
//! of the same round; medians over rounds.

use podsg_model::catalog::Catalog;
use podsg_model::fixtures::{all_on_one_node, catalog_of};
use podsg_netns::wire::{PodLink, router};
use podsg_netns::{Listener, Netns, Privilege, Probe, privileged};
use podsg_nft::{Dataplane, NftCli};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NODE: Ipv4Addr = Ipv4Addr::new(10, 100, 0, 1);
const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 2);
const LATE: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 3);
const SERVER: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 4);
/// netperf's control port and its data port, and a port for probes.
const CONTROL: u16 = 12865;
const DATA: u16 = 5002;
const PROBE: u16 = 5003;
const SERVER_IF: &str = "pgserver";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Firewall {
    None,
    /// Only `ct state` rules, allowing everything: what tracking connections
    /// costs, the floor of every stateful firewall.
    Conntrack,
    Podsg,
    Ipset,
    Linear,
}

const FIREWALLS: [Firewall; 5] =
    [Firewall::None, Firewall::Conntrack, Firewall::Podsg, Firewall::Ipset, Firewall::Linear];

/// An nftables table that tracks connections and allows all.
const CONNTRACK_ONLY: &str = "add table inet floor
add chain inet floor forward { type filter hook forward priority filter; policy accept; }
add rule inet floor forward ct state established,related accept
add rule inet floor forward ct state invalid drop
";

impl Firewall {
    fn name(self) -> &'static str {
        match self {
            Firewall::None => "none",
            Firewall::Conntrack => "conntrack only",
            Firewall::Podsg => "podsg",
            Firewall::Ipset => "ipset + iptables",
            Firewall::Linear => "linear iptables",
        }
    }
}

/// The `i`th other peer: distinct and never adjacent, so each stays an element.
fn peer(i: usize) -> Ipv4Addr {
    Ipv4Addr::from(0x0b00_0000u32 + 2 * i as u32)
}

struct Lab {
    node: Netns,
    client: Netns,
    late: Netns,
    _server: Netns,
    _listener: Listener,
    netserver: Child,
}

impl Lab {
    fn new() -> Lab {
        let node = Netns::new("pgf-node").unwrap();
        router(&node.path(), NODE).unwrap();
        let pod = |name: &str, address: Ipv4Addr, host_if: &str| {
            let ns = Netns::new(&format!("pgf-{name}")).unwrap();
            let (node_path, pod_path) = (node.path(), ns.path());
            let link = PodLink {
                node: &node_path,
                pod: &pod_path,
                ifname: "eth0",
                host_if,
                address,
                node_address: NODE,
                address6: None,
            };
            link.attach().unwrap();
            ns
        };
        let client = pod("client", CLIENT, "pgclient");
        let late = pod("late", LATE, "pglate");
        let server = pod("server", SERVER, SERVER_IF);
        let listener = Listener::echo(&server, SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), PROBE)).unwrap();
        let netserver = Command::new("ip")
            .args(["netns", "exec", server.name(), "netserver", "-D", "-p", &CONTROL.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("netserver (Debian package netperf)");
        let lab = Lab { node, client, late, _server: server, _listener: listener, netserver };
        let start = Instant::now();
        while !lab.passes(&lab.client, CONTROL) {
            assert!(start.elapsed() < Duration::from_secs(10), "netserver does not answer");
        }
        lab
    }

    fn passes(&self, from: &Netns, port: u16) -> bool {
        self.passes_within(from, port, Duration::from_millis(20))
    }

    /// A connection attempt that gives up after `timeout` (a dropped SYN is
    /// retransmitted only after a second).
    fn passes_within(&self, from: &Netns, port: u16, timeout: Duration) -> bool {
        Probe::tcp(from, SocketAddr::new(IpAddr::V4(SERVER), port), timeout).unwrap()
    }

    /// Time until a new connection from `from` passes, to within `every`.
    fn until_passes(&self, from: &Netns, start: Instant, every: Duration) -> Duration {
        while !self.passes_within(from, PROBE, every) {
            assert!(start.elapsed() < Duration::from_secs(600), "never passed");
        }
        start.elapsed()
    }

    fn node_run(&self, program: &str, args: &[&str], input: Option<&str>) {
        let mut child = Command::new("ip")
            .args(["netns", "exec", self.node.name(), program])
            .args(args)
            .stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        if let Some(text) = input {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn flush_conntrack(&self) {
        let _ = Command::new("ip").args(["netns", "exec", self.node.name(), "conntrack", "-F"]).output();
    }

    /// netperf from the client: transactions per second.
    fn netperf(&self, test: &str, seconds: u32) -> f64 {
        self.flush_conntrack();
        let out = self
            .client
            .exec(
                "netperf",
                &[
                    "-H",
                    &SERVER.to_string(),
                    "-p",
                    &CONTROL.to_string(),
                    "-t",
                    test,
                    "-l",
                    &seconds.to_string(),
                    "-T",
                    "0,0",
                    "-P",
                    "0",
                    "--",
                    "-P",
                    &format!(",{DATA}"),
                    "-o",
                    "THROUGHPUT",
                ],
            )
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines().filter_map(|l| l.trim().parse::<f64>().ok()).next_back().unwrap_or_else(|| {
            panic!("netperf {test}: {text} {}", String::from_utf8_lossy(&out.stderr));
        })
    }

    fn clear(&self) {
        let _ = self.node.exec("nft", &["delete", "table", "inet", "podsg"]);
        let _ = self.node.exec("nft", &["delete", "table", "inet", "floor"]);
        let _ = self.node.exec("iptables-legacy", &["-t", "filter", "-F"]);
        let _ = self.node.exec("iptables-legacy", &["-t", "filter", "-X"]);
        let _ = self.node.exec("ipset", &["destroy"]);
        self.flush_conntrack();
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.clear();
        let _ = self.netserver.kill();
        let _ = self.netserver.wait();
    }
}

/// podsg's manifests: the server's ingress allows its ports from the group
/// of peers, which the client carries and `peers - 1` external members have.
/// The late pod carries an empty group of its own; with `late_joins` it
/// carries the peers' group instead (its own rules stay the same: both
/// groups allow all egress and no ingress, so only membership changes).
fn world(peers: usize, late_joins: bool) -> String {
    let members: Vec<String> = (0..peers.saturating_sub(1)).map(|i| peer(i).to_string()).collect();
    let late_app = if late_joins { "client" } else { "late" };
    format!(
        r#"
apiVersion: podsg.io/v1alpha1
kind: SecurityGroup
metadata: {{name: sg-0a}}
spec:
  ingress: [{{ipProtocol: tcp, fromPort: {DATA}, toPort: {CONTROL}, userIdGroupPairs: [{{groupId: sg-0b}}]}}]
---
apiVersion: podsg.io/v1alpha1
kind: SecurityGroup
metadata: {{name: sg-0b}}
spec:
  members: [{}]
---
apiVersion: podsg.io/v1alpha1
kind: SecurityGroup
metadata: {{name: sg-0c}}
spec: {{}}
---
apiVersion: vpcresources.k8s.aws/v1beta1
kind: SecurityGroupPolicy
metadata: {{name: late, namespace: ns}}
spec: {{podSelector: {{matchLabels: {{app: late}}}}, securityGroups: {{groupIds: [sg-0c]}}}}
---
apiVersion: vpcresources.k8s.aws/v1beta1
kind: SecurityGroupPolicy
metadata: {{name: server, namespace: ns}}
spec: {{podSelector: {{matchLabels: {{app: server}}}}, securityGroups: {{groupIds: [sg-0a]}}}}
---
apiVersion: vpcresources.k8s.aws/v1beta1
kind: SecurityGroupPolicy
metadata: {{name: peers, namespace: ns}}
spec: {{podSelector: {{matchLabels: {{app: client}}}}, securityGroups: {{groupIds: [sg-0b]}}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: client, namespace: ns, labels: {{app: client}}}}
spec: {{nodeName: node-1}}
status: {{podIP: {CLIENT}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: late, namespace: ns, labels: {{app: {late_app}}}}}
spec: {{nodeName: node-1}}
status: {{podIP: {LATE}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: server, namespace: ns, labels: {{app: server}}}}
spec: {{nodeName: node-1}}
status: {{podIP: {SERVER}}}
"#,
        members.join(", ")
    )
}

fn catalog(peers: usize, late_joins: bool) -> Catalog {
    catalog_of(&world(peers, late_joins))
}

fn iptables_rules(peers: usize, ipset: bool, late: bool) -> String {
    let mut s = String::from("*filter\n:FORWARD ACCEPT [0:0]\n:pod-in - [0:0]\n");
    s.push_str("-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n");
    s.push_str("-A FORWARD -m conntrack --ctstate INVALID -j DROP\n");
    writeln!(s, "-A FORWARD -o {SERVER_IF} -j pod-in").unwrap();
    let ports = format!("-p tcp -m tcp --dport {DATA}:{CONTROL}");
    if ipset {
        writeln!(s, "-A pod-in {ports} -m set --match-set peers src -j ACCEPT").unwrap();
    } else {
        let mut sources = vec![CLIENT];
        sources.extend((0..peers.saturating_sub(1)).map(peer));
        sources.extend(late.then_some(LATE));
        for a in sources {
            writeln!(s, "-A pod-in -s {a}/32 {ports} -j ACCEPT").unwrap();
        }
    }
    s.push_str("-A pod-in -j DROP\nCOMMIT\n");
    s
}

fn ipset_restore(peers: usize) -> String {
    let mut s = String::from("create peers hash:ip family inet hashsize 65536 maxelem 1048576\n");
    writeln!(s, "add peers {CLIENT}").unwrap();
    for i in 0..peers.saturating_sub(1) {
        writeln!(s, "add peers {}", peer(i)).unwrap();
    }
    s
}

/// One measurement of one firewall at one size.
#[derive(Clone, Copy, Default)]
struct Sample {
    load: Duration,
    crr: f64,
    rr: f64,
    member: Duration,
}

fn measure(lab: &Lab, fw: Firewall, peers: usize, seconds: u32) -> Sample {
    lab.clear();
    assert!(lab.passes(&lab.late, PROBE), "nothing is enforced yet");
    let mut sample = Sample::default();
    // Load everything; until the client's new connection passes.
    let dataplane = Dataplane::new(NftCli::in_netns(lab.node.name()));
    let (before, after) = match fw {
        Firewall::Podsg => (Some(catalog(peers, false)), Some(catalog(peers, true))),
        _ => (None, None),
    };
    let start_load = Instant::now();
    match fw {
        Firewall::None => {}
        Firewall::Conntrack => lab.node_run("nft", &["-f", "-"], Some(CONNTRACK_ONLY)),
        Firewall::Podsg => {
            dataplane.sync(&all_on_one_node(before.as_ref().unwrap())).unwrap();
        }
        Firewall::Ipset => {
            lab.node_run("ipset", &["restore"], Some(&ipset_restore(peers)));
            lab.node_run("iptables-legacy-restore", &[], Some(&iptables_rules(peers, true, false)));
        }
        Firewall::Linear => lab.node_run("iptables-legacy-restore", &[], Some(&iptables_rules(peers, false, false))),
    }
    sample.load = lab.until_passes(&lab.client, start_load, Duration::from_millis(20));
    if !matches!(fw, Firewall::None | Firewall::Conntrack) {
        assert!(!lab.passes(&lab.late, PROBE), "{}: the late pod is not allowed yet", fw.name());
    }
    sample.crr = lab.netperf("TCP_CRR", seconds);
    sample.rr = lab.netperf("TCP_RR", seconds);
    // One more peer: the late pod joins. Probed from another thread while
    // the change is applied, so that what is timed is the change reaching
    // the packets, not the clean-up a firewall does after it.
    let start = Instant::now();
    sample.member = std::thread::scope(|scope| {
        let probe = scope.spawn(|| lab.until_passes(&lab.late, start, Duration::from_millis(1)));
        match fw {
            Firewall::None | Firewall::Conntrack => {}
            Firewall::Podsg => {
                let report = dataplane.sync(&all_on_one_node(after.as_ref().unwrap())).unwrap();
                // The late pod's new groups are the client's, enforced
                // already: elements switch it, then its old groups' sides go.
                assert!(
                    matches!(&report, podsg_nft::SyncReport::Updated(c) if c.created == 0 && c.hooks == 0),
                    "joining a group creates nothing: {report}"
                );
            }
            Firewall::Ipset => lab.node_run("ipset", &["add", "peers", &LATE.to_string()], None),
            Firewall::Linear => lab.node_run("iptables-legacy-restore", &[], Some(&iptables_rules(peers, false, true))),
        }
        probe.join().expect("the probe")
    });
    lab.clear();
    sample
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn ms(d: f64) -> String {
    if d >= 1000.0 { format!("{:.2} s", d / 1000.0) } else { format!("{d:.1} ms") }
}

fn main() {
    if let Privilege::Missing(why) = privileged() {
        eprintln!("firewall benchmark needs root: {why}");
        return;
    }
    let full = std::env::args().any(|a| a == "--bench");
    let (mut rounds, mut sizes, mut seconds): (usize, Vec<usize>, u32) =
        if full { (3, vec![10, 10_000, 100_000], 5) } else { (1, vec![10, 100], 1) };
    // `-- 1000 50000 rounds=5 seconds=10`: other numbers of peers, rounds, run lengths.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let setting = |name: &str| args.iter().find_map(|a| a.strip_prefix(name)?.strip_prefix('=')?.parse().ok());
    rounds = setting("rounds").unwrap_or(rounds);
    seconds = setting("seconds").map_or(seconds, |s: usize| s as u32);
    let asked: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    if !asked.is_empty() {
        sizes = asked;
    }
    let lab = Lab::new();
    let mut samples: BTreeMap<(usize, Firewall), Vec<Sample>> = BTreeMap::new();
    for round in 0..rounds {
        for &peers in &sizes {
            for k in 0..FIREWALLS.len() {
                let fw = FIREWALLS[(k + round) % FIREWALLS.len()];
                let s = measure(&lab, fw, peers, seconds);
                eprintln!(
                    "round {round}, {peers} peers, {}: load {:?}, TCP_CRR {:.0}/s, TCP_RR {:.0}/s, member {:?}",
                    fw.name(),
                    s.load,
                    s.crr,
                    s.rr,
                    s.member
                );
                samples.entry((peers, fw)).or_default().push(s);
            }
        }
    }
    println!(
        "\nNew connections (TCP_CRR) and established transactions (TCP_RR) as ratios to no firewall in the same round; medians of {rounds} round(s), {seconds} s each, netperf -T 0,0.\n"
    );
    println!(
        "| peers | firewall | TCP_CRR | TCP_CRR / conntrack only | TCP_RR | load all peers until a connection passes | one peer added until its connection passes |"
    );
    println!("|---|---|---|---|---|---|---|");
    for &peers in &sizes {
        let none = &samples[&(peers, Firewall::None)];
        let floor = &samples[&(peers, Firewall::Conntrack)];
        for fw in FIREWALLS {
            let s = &samples[&(peers, fw)];
            let ratio = |f: fn(&Sample) -> f64| median(s.iter().zip(none).map(|(a, b)| f(a) / f(b)).collect());
            let (crr, rr) = (ratio(|x| x.crr), ratio(|x| x.rr));
            let over_floor = median(s.iter().zip(floor).map(|(a, b)| a.crr / b.crr).collect());
            let abs = median(s.iter().map(|x| x.crr).collect());
            let load = median(s.iter().map(|x| x.load.as_secs_f64() * 1000.0).collect());
            let member = median(s.iter().map(|x| x.member.as_secs_f64() * 1000.0).collect());
            let (load, member) = match fw {
                Firewall::None => ("-".into(), "-".into()),
                Firewall::Conntrack => (ms(load), "-".into()),
                _ => (ms(load), ms(member)),
            };
            println!(
                "| {peers} | {} | {crr:.2} ({abs:.0}/s) | {over_floor:.2} | {rr:.2} | {load} | {member} |",
                fw.name()
            );
        }
    }
}
