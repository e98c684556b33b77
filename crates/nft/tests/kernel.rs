//! The dataplane on the real kernel: a node namespace routing for pod
//! namespaces, real TCP, UDP and ICMP between them, and for every pair the
//! kernel must do what the verdict engine (`podsg explain`) says.

use podsg_model::catalog::Catalog;
use podsg_model::dataplane::NodeRuleset;
use podsg_model::fixtures::{all_on_one_node, catalog_of};
use podsg_model::flow::Service;
use podsg_model::settings::EnforcingMode;
use podsg_model::verdict::{Decision, Endpoint, Enforcer, Engine};
use podsg_netns::wire::{PodLink, router};
use podsg_netns::{Listener, Netns, Probe, require_privilege};
use podsg_nft::{Dataplane, Layout, NftCli, Side, SyncReport, plan};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

const NODE_ADDRESS: Ipv4Addr = Ipv4Addr::new(10, 100, 0, 1);
const PORTS: [u16; 2] = [5432, 8080];

fn world(red_app: &str, mode: &str) -> String {
    format!(
        r#"
apiVersion: podsg.io/v1alpha1
kind: ClusterConfig
metadata: {{name: cluster}}
spec: {{defaultGroupIds: [sg-0e], enforcingMode: {mode}}}
---
apiVersion: podsg.io/v1alpha1
kind: SecurityGroup
metadata: {{name: sg-0e}}
spec:
  groupName: NODE_GROUP_SG
  ingress:
  - {{ipProtocol: "-1", userIdGroupPairs: [{{groupId: sg-0e}}]}}
  - {{ipProtocol: tcp, fromPort: 8080, toPort: 8080, userIdGroupPairs: [{{groupId: sg-0a}}]}}
---
apiVersion: podsg.io/v1alpha1
kind: SecurityGroup
metadata: {{name: sg-0a}}
spec:
  groupName: POD_SG
  ingress:
  - {{ipProtocol: udp, fromPort: 5432, toPort: 5432, ipRanges: [{{cidrIp: 10.1.0.0/24}}]}}
  - {{ipProtocol: icmp, fromPort: 8, toPort: -1, userIdGroupPairs: [{{groupId: sg-0e}}]}}
---
apiVersion: podsg.io/v1alpha1
kind: SecurityGroup
metadata: {{name: sg-0c}}
spec:
  groupName: RDS_SG
  ingress:
  - {{ipProtocol: tcp, fromPort: 5432, toPort: 5432, userIdGroupPairs: [{{groupId: sg-0a}}]}}
  members: [{{address: 10.0.3.50, name: db}}]
---
apiVersion: vpcresources.k8s.aws/v1beta1
kind: SecurityGroupPolicy
metadata: {{name: green, namespace: ns}}
spec: {{podSelector: {{matchLabels: {{app: green}}}}, securityGroups: {{groupIds: [sg-0a]}}}}
---
apiVersion: v1
kind: Node
metadata: {{name: node-1}}
status: {{addresses: [{{type: InternalIP, address: 10.100.0.1}}]}}
---
apiVersion: v1
kind: Pod
metadata: {{name: green, namespace: ns, labels: {{app: green}}}}
spec: {{nodeName: node-1}}
status: {{podIP: 10.1.0.5}}
---
apiVersion: v1
kind: Pod
metadata: {{name: red, namespace: ns, labels: {{app: {red_app}}}}}
spec: {{nodeName: node-1}}
status: {{podIP: 10.1.0.6}}
---
apiVersion: v1
kind: Pod
metadata: {{name: blue, namespace: ns, labels: {{app: green}}}}
spec: {{nodeName: node-1}}
status: {{podIP: 10.1.0.7}}
"#
    )
}

fn catalog(red_app: &str) -> Catalog {
    catalog_in(red_app, "strict")
}

fn catalog_in(red_app: &str, mode: &str) -> Catalog {
    catalog_of(&world(red_app, mode))
}

/// The rule set of node-1: every pod is on it.
fn ruleset(c: &Catalog) -> NodeRuleset {
    all_on_one_node(c)
}

struct Lab {
    node: Netns,
    /// Each pod's name, namespace and the address probes go to.
    pods: Vec<(String, Netns, IpAddr)>,
    _listeners: Vec<Listener>,
}

fn lab() -> Lab {
    let node = Netns::new("pgt-node").unwrap();
    router(&node.path(), NODE_ADDRESS).unwrap();
    let mut pods = Vec::new();
    let mut listeners = Vec::new();
    for (name, address) in
        [("green", [10, 1, 0, 5]), ("red", [10, 1, 0, 6]), ("blue", [10, 1, 0, 7]), ("db", [10, 0, 3, 50])]
    {
        let ns = Netns::new(&format!("pgt-{name}")).unwrap();
        let address = Ipv4Addr::from(address);
        let (node_path, pod_path, host_if) = (node.path(), ns.path(), format!("pg{name}"));
        let link = PodLink {
            node: &node_path,
            pod: &pod_path,
            ifname: "eth0",
            host_if: &host_if,
            address,
            node_address: NODE_ADDRESS,
            address6: None,
        };
        link.attach().unwrap();
        for port in PORTS {
            listeners.push(Listener::echo(&ns, SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port)).unwrap());
        }
        pods.push((name.to_string(), ns, IpAddr::V4(address)));
    }
    Lab { node, pods, _listeners: listeners }
}

fn endpoint(c: &Catalog, name: &str) -> Endpoint {
    match name {
        "node" => c.node_endpoint(Some("node-1")),
        "db" => c.endpoint("db").unwrap(),
        pod => c.endpoint(&format!("ns/{pod}")).unwrap(),
    }
}

/// Probes every pair with real traffic over the family of the pods'
/// addresses; returns the disagreements with the engine (asked of the same
/// flow: the ends with their addresses of that family only) and the
/// outcomes seen.
fn disagreements(lab: &Lab, c: &Catalog) -> (Vec<String>, Vec<Decision>) {
    let engine = Engine::new(&c.groups, c.settings.enforcing_mode);
    let timeout = Duration::from_millis(400);
    let mut sources: Vec<(&str, &Netns)> =
        lab.pods.iter().filter(|(n, ..)| n != "db").map(|(n, ns, _)| (n.as_str(), ns)).collect();
    sources.push(("node", &lab.node));
    let (mut wrong, mut seen) = (Vec::new(), Vec::new());
    for (src, src_ns) in sources {
        for (dst, _, address) in &lab.pods {
            if src == dst {
                continue;
            }
            let v6 = address.is_ipv6();
            let (from, to) = (in_family(endpoint(c, src), v6), in_family(endpoint(c, dst), v6));
            let mut check = |service: Service, passed: bool| {
                // What the node enforces: a member's groups for traffic
                // from the node are the cloud's to enforce.
                let expected = engine.verdict(&from, &to, service).decision_by(Enforcer::Podsg);
                seen.push(expected);
                if (expected == Decision::Allow) != passed {
                    wrong.push(format!(
                        "{src} -> {dst} {service}: kernel {}, engine {expected}",
                        if passed { "passed" } else { "dropped" }
                    ));
                }
            };
            for port in PORTS {
                let to_addr = SocketAddr::new(*address, port);
                check(Service::Tcp(port), Probe::tcp(src_ns, to_addr, timeout).unwrap());
                check(Service::Udp(port), Probe::udp(src_ns, to_addr, timeout).unwrap());
            }
            let echo = Service::Icmp { v6, icmp_type: if v6 { 128 } else { 8 }, code: 0 };
            check(echo, Probe::icmp(src_ns, *address, timeout).unwrap());
        }
    }
    (wrong, seen)
}

#[test]
fn the_kernel_does_what_explain_says() {
    require_privilege!();
    let lab = lab();
    let nft = Dataplane::new(NftCli::in_netns(lab.node.name()));
    let c = catalog("red");
    let first = nft.sync(&ruleset(&c)).unwrap();
    assert!(matches!(first, SyncReport::Created(_)), "a new node gets the whole table: {first:?}");
    assert_eq!(nft.check_kernel(&ruleset(&c)).unwrap(), vec![], "read back equals desired");
    assert_eq!(nft.sync(&ruleset(&c)).unwrap(), SyncReport::InSync);

    // Sanity: the scenario has both outcomes.
    let engine = Engine::new(&c.groups, EnforcingMode::Strict);
    let tcp = Service::Tcp(5432);
    assert_eq!(engine.decide(&endpoint(&c, "green"), &endpoint(&c, "db"), tcp), Decision::Allow);
    assert_eq!(engine.decide(&endpoint(&c, "red"), &endpoint(&c, "db"), tcp), Decision::Deny);
    let (wrong, _) = disagreements(&lab, &c);
    assert!(wrong.is_empty(), "kernel and engine disagree:\n{}", wrong.join("\n"));

    // Red's labels change: it joins POD_SG. For the other pods that is a
    // membership change: element updates only. Red now carries the groups
    // green pods carry, whose sides exist: nothing is made, red's interface
    // is switched to them in the one batch of element updates, and the sides
    // of red's old groups, which no pod carries any more, are removed after.
    let c2 = catalog("green");
    let planned = plan(Some(&Layout::desired(&ruleset(&c))), &Layout::desired(&ruleset(&c2))).unwrap();
    assert_eq!(planned.create, "", "red's new groups' sides exist");
    let old = ruleset(&c).interfaces["pgred"].carried().unwrap();
    let old_sides = Side::Ingress(&old).chain()[3..].to_string();
    assert!(!planned.remove.is_empty());
    for line in planned.remove.lines() {
        assert!(line.contains(&old_sides), "only the sides of red's old groups may be removed: {line}");
    }
    assert!(planned.hooks.is_empty());
    let report = nft.sync(&ruleset(&c2)).unwrap();
    assert!(matches!(report, SyncReport::Updated(_)), "expected an update in place: {report:?}");
    assert_eq!(nft.check_kernel(&ruleset(&c2)).unwrap(), vec![]);
    assert_eq!(engine_decision(&c2, "red", "db", tcp), Decision::Allow);
    let (wrong, _) = disagreements(&lab, &c2);
    assert!(wrong.is_empty(), "after the change, kernel and engine disagree:\n{}", wrong.join("\n"));
}

fn engine_decision(c: &Catalog, from: &str, to: &str, service: Service) -> Decision {
    Engine::new(&c.groups, c.settings.enforcing_mode).decide(&endpoint(c, from), &endpoint(c, to), service)
}

#[test]
fn drift_is_found_and_repaired() {
    require_privilege!();
    let node = Netns::new("pgt-drift").unwrap();
    let cli = NftCli::in_netns(node.name());
    let nft = Dataplane::new(cli.clone());
    let c = catalog("red");
    let rs = ruleset(&c);
    nft.sync(&rs).unwrap();
    assert!(nft.unchanged(), "nothing committed since the sync");
    // Someone empties a set: found, and repaired by element updates.
    node.exec("nft", &["flush", "set", "inet", "podsg", "sources4"]).unwrap();
    assert!(!nft.unchanged(), "a commit by someone else moves the generation");
    let drift: Vec<String> = nft.check(&rs).unwrap().iter().map(ToString::to_string).collect();
    let pods = rs.interfaces.len();
    assert_eq!(drift, vec![format!("set sources4: {pods} elements missing, 0 unexpected")]);
    assert!(matches!(nft.sync(&rs).unwrap(), SyncReport::Updated(c) if c.elements_only()));
    assert_eq!(nft.check(&rs).unwrap(), vec![]);
    // Someone empties a chain: found, and the table is replaced atomically.
    node.exec("nft", &["flush", "chain", "inet", "podsg", "fu"]).unwrap();
    assert_eq!(
        nft.check(&rs).unwrap().iter().map(ToString::to_string).collect::<Vec<_>>(),
        vec!["chain fu has 0 rules, expected 4"]
    );
    assert!(matches!(nft.sync(&rs).unwrap(), SyncReport::Replaced { .. }));
    assert_eq!(nft.check(&rs).unwrap(), vec![]);
    // The table is gone: found, and recreated.
    nft.remove().unwrap();
    assert_eq!(
        nft.check(&rs).unwrap().iter().map(ToString::to_string).collect::<Vec<_>>(),
        vec!["table inet podsg is missing"]
    );
    nft.sync(&rs).unwrap();
    assert_eq!(nft.check(&rs).unwrap(), vec![]);
}

/// Standard mode: traffic between a pod and its own node is not checked, so
/// the node reaches a POD_SG pod that strict mode keeps it from.
#[test]
fn standard_mode_leaves_a_pods_own_node_alone() {
    require_privilege!();
    let lab = lab();
    let nft = Dataplane::new(NftCli::in_netns(lab.node.name()));
    let strict = catalog("red");
    let standard = catalog_in("red", "standard");
    let node_to_green = |c: &Catalog| engine_decision(c, "node", "green", Service::Tcp(8080));
    assert_eq!((node_to_green(&strict), node_to_green(&standard)), (Decision::Deny, Decision::Allow));
    for c in [&standard, &strict, &standard] {
        nft.sync(&ruleset(c)).unwrap();
        let (wrong, _) = disagreements(&lab, c);
        assert!(
            wrong.is_empty(),
            "{} mode: kernel and engine disagree:\n{}",
            c.settings.enforcing_mode,
            wrong.join("\n")
        );
    }
}

const NODE_ADDRESS6: &str = "fd00:100::1";

/// The same node with dual-stack pods and IPv6 rules: `ipv6Ranges`, ICMPv6
/// from a group, an IPv6 member.
fn world6() -> String {
    r#"
apiVersion: podsg.io/v1alpha1
kind: ClusterConfig
metadata: {name: cluster}
spec: {defaultGroupIds: [sg-0e], enforcingMode: strict}
---
apiVersion: podsg.io/v1alpha1
kind: SecurityGroup
metadata: {name: sg-0e}
spec:
  ingress:
  - {ipProtocol: "-1", userIdGroupPairs: [{groupId: sg-0e}]}
  - {ipProtocol: tcp, fromPort: 8080, toPort: 8080, userIdGroupPairs: [{groupId: sg-0a}]}
---
apiVersion: podsg.io/v1alpha1
kind: SecurityGroup
metadata: {name: sg-0a}
spec:
  ingress:
  - {ipProtocol: udp, fromPort: 5432, toPort: 5432, ipv6Ranges: [{cidrIpv6: "fd00:1::/120"}]}
  - {ipProtocol: icmpv6, fromPort: 128, toPort: -1, userIdGroupPairs: [{groupId: sg-0e}]}
  - {ipProtocol: tcp, fromPort: 8080, toPort: 8080, ipRanges: [{cidrIp: 10.1.0.0/24}]}
---
apiVersion: podsg.io/v1alpha1
kind: SecurityGroup
metadata: {name: sg-0c}
spec:
  ingress:
  - {ipProtocol: tcp, fromPort: 5432, toPort: 5432, userIdGroupPairs: [{groupId: sg-0a}]}
  members: [{address: "fd00:3::50", name: db}]
---
apiVersion: vpcresources.k8s.aws/v1beta1
kind: SecurityGroupPolicy
metadata: {name: green, namespace: ns}
spec: {podSelector: {matchLabels: {app: green}}, securityGroups: {groupIds: [sg-0a]}}
---
apiVersion: v1
kind: Node
metadata: {name: node-1}
status: {addresses: [{type: InternalIP, address: 10.100.0.1}, {type: InternalIP, address: "fd00:100::1"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: green, namespace: ns, labels: {app: green}}
spec: {nodeName: node-1}
status: {podIPs: [{ip: 10.1.0.5}, {ip: "fd00:1::5"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: red, namespace: ns, labels: {app: red}}
spec: {nodeName: node-1}
status: {podIPs: [{ip: 10.1.0.6}, {ip: "fd00:1::6"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: blue, namespace: ns, labels: {app: green}}
spec: {nodeName: node-1}
status: {podIPs: [{ip: 10.1.0.7}, {ip: "fd00:2::7"}]}
"#
    .to_string()
}

/// An endpoint as one family sees it: only its addresses of that family.
fn in_family(mut e: Endpoint, v6: bool) -> Endpoint {
    e.addresses.retain(|a| a.is_ipv6() == v6);
    e
}

/// Dual-stack pods on the node: TCP, UDP and ICMPv6 over IPv6 between every
/// pair (and from the node) do what the engine says of the same flow.
#[test]
fn the_kernel_does_what_explain_says_over_ipv6() {
    require_privilege!();
    let node = Netns::new("pgt6-node").unwrap();
    router(&node.path(), NODE_ADDRESS).unwrap();
    node.ip(&["-6", "addr", "add", &format!("{NODE_ADDRESS6}/128"), "dev", "lo"]).unwrap();
    node.sysctl("net.ipv6.conf.all.forwarding", "1").unwrap();
    let mut pods = Vec::new();
    let mut listeners = Vec::new();
    for (name, v4, v6) in [
        ("green", "10.1.0.5", "fd00:1::5"),
        ("red", "10.1.0.6", "fd00:1::6"),
        ("blue", "10.1.0.7", "fd00:2::7"),
        ("db", "10.0.3.50", "fd00:3::50"),
    ] {
        let ns = Netns::new(&format!("pgt6-{name}")).unwrap();
        let (node_path, pod_path, host_if) = (node.path(), ns.path(), format!("pg{name}"));
        let link = PodLink {
            node: &node_path,
            pod: &pod_path,
            ifname: "eth0",
            host_if: &host_if,
            address: v4.parse().unwrap(),
            node_address: NODE_ADDRESS,
            address6: Some(v6.parse().unwrap()),
        };
        link.attach().unwrap();
        for port in PORTS {
            // `[::]` takes both families.
            listeners.push(Listener::echo(&ns, SocketAddr::new("::".parse().unwrap(), port)).unwrap());
        }
        pods.push((name.to_string(), ns, v6.parse::<IpAddr>().unwrap()));
    }
    let c = catalog_of(&world6());
    let rs = all_on_one_node(&c);
    let nft = Dataplane::new(NftCli::in_netns(node.name()));
    nft.sync(&rs).unwrap();
    assert_eq!(nft.check_kernel(&rs).unwrap(), vec![]);
    let lab = Lab { node, pods, _listeners: listeners };
    let (wrong, seen) = disagreements(&lab, &c);
    assert!(wrong.is_empty(), "over IPv6, kernel and engine disagree:\n{}", wrong.join("\n"));
    assert!(seen.contains(&Decision::Allow) && seen.contains(&Decision::Deny), "the scenario has both outcomes");
    let engine = Engine::new(&c.groups, c.settings.enforcing_mode);
    // The v6-only rule: red (fd00:1::6) may send UDP 5432 to green, blue (fd00:2::7) may not.
    let udp = Service::Udp(5432);
    let v6 = |n: &str| in_family(endpoint(&c, n), true);
    assert_eq!(engine.decide(&v6("red"), &v6("green"), udp), Decision::Allow);
    assert_eq!(engine.decide(&v6("blue"), &v6("green"), udp), Decision::Deny);
    // And the IPv4 rule says nothing of IPv6: green's tcp 8080 from 10.1.0.0/24.
    assert_eq!(engine.decide(&v6("red"), &v6("green"), Service::Tcp(8080)), Decision::Deny);
}
