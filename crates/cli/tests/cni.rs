//! The CNI plugin and the node agent end to end, as a container runtime
//! drives them: the real `podsg agent` inside a node namespace, the real
//! `podsg-cni` binary with CNI_* variables and a configuration on stdin, pod
//! namespaces, real traffic.

use podsg_netns::wire::link_exists;
use podsg_netns::{Listener, Netns, Probe, require_privilege};
use serde_json::Value;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

mod support;
use support::{Node, WORLD, address, host_if};

#[test]
fn add_enforces_check_verifies_del_cleans_up() {
    require_privilege!();
    let node = Node::start(&WORLD.replace("GREEN_GROUP", "sg-0a"));
    let (green1, green2, red) =
        (Netns::new("pgc-g1").unwrap(), Netns::new("pgc-g2").unwrap(), Netns::new("pgc-r").unwrap());
    let (code, r1) = node.add("c1", &green1, "green1");
    assert_eq!(code, 0, "{r1}");
    assert_eq!(r1["cniVersion"], "1.1.0");
    assert_eq!(r1["interfaces"][1]["sandbox"], green1.path());
    assert_eq!(r1["ips"][0]["gateway"], "169.254.1.1");
    assert_eq!(r1["ips"][0]["interface"], 1);
    assert_eq!(r1["routes"][0]["dst"], "0.0.0.0/0");
    let (code, r2) = node.add("c2", &green2, "green2");
    assert_eq!(code, 0, "{r2}");
    let (code, r3) = node.add("c3", &red, "red");
    assert_eq!(code, 0, "{r3}");
    let (a1, a2) = (address(&r1), address(&r2));
    assert_ne!(a1, a2);
    assert_eq!(node.add("c1", &green1, "green1").1, r1, "ADD again answers the same");

    // POD_SG allows 5432 from itself: green to green passes, red to green does not.
    let _l = Listener::echo(&green2, SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 5432)).unwrap();
    let timeout = Duration::from_millis(500);
    assert!(Probe::tcp(&green1, SocketAddr::new(a2.into(), 5432), timeout).unwrap(), "green1 -> green2:5432");
    assert!(
        !Probe::tcp(&red, SocketAddr::new(a2.into(), 5432), timeout).unwrap(),
        "red -> green2:5432 must be dropped"
    );

    assert_eq!(node.simple("CHECK", "c1", Some(&green1.path())), (0, Value::Null));
    // Rules missing: CHECK fails.
    node.ns.exec("nft", &["flush", "chain", "inet", "podsg", "members_in"]).unwrap();
    let (code, e) = node.simple("CHECK", "c1", Some(&green1.path()));
    assert_ne!(code, 0);
    assert_eq!(e["code"], 102, "{e}");
    assert!(e["details"].as_str().unwrap().contains("has 0 rules"), "{e}");

    // DEL, twice; CHECK then knows nothing.
    assert_eq!(node.simple("DEL", "c1", Some(&green1.path())), (0, Value::Null));
    assert_eq!(node.simple("DEL", "c1", Some(&green1.path())), (0, Value::Null), "DEL is idempotent");
    assert!(!link_exists(&node.ns.path(), &host_if(&r1)).unwrap());
    assert_eq!(node.addresses_taken(), 2);
    let (code, e) = node.simple("CHECK", "c1", Some(&green1.path()));
    assert_eq!((code != 0, e["code"].as_u64()), (true, Some(3)), "{e}");
}

#[test]
fn a_pod_whose_groups_do_not_exist_gets_no_network() {
    require_privilege!();
    let node = Node::start(&WORLD.replace("GREEN_GROUP", "sg-0aaaaaaaaaaaaaaa"));
    let pod = Netns::new("pgc-fc").unwrap();
    let (code, e) = node.add("c1", &pod, "green1");
    assert_ne!(code, 0);
    assert_eq!(e["code"], 100, "{e}");
    assert_eq!(e["msg"], "InvalidSecurityGroupID.NotFound: sg-0aaaaaaaaaaaaaaa does not exist", "{e}");
    assert!(!link_exists(&pod.path(), "eth0").unwrap(), "no interface in the pod");
    assert_eq!(node.addresses_taken(), 0, "no address kept");
    // A pod not in the desired state is refused the same way.
    let (code, e) = node.add("c2", &pod, "nobody");
    assert_eq!((code != 0, e["code"].as_u64()), (true, Some(100)), "{e}");
    // Red resolves to the default groups and is fine.
    assert_eq!(node.add("c3", &pod, "red").0, 0);
}

#[test]
fn del_after_the_namespace_is_gone_and_gc() {
    require_privilege!();
    let node = Node::start(&WORLD.replace("GREEN_GROUP", "sg-0a"));
    let mut pods: Vec<Netns> = (0..3).map(|i| Netns::new(&format!("pgc-gc{i}")).unwrap()).collect();
    let results: Vec<Value> = pods.iter().enumerate().map(|(i, p)| node.add(&format!("c{i}"), p, "red").1).collect();
    // The runtime deleted the namespace before DEL.
    let gone = pods.remove(0);
    let gone_path = gone.path();
    drop(gone);
    assert_eq!(node.simple("DEL", "c0", Some(&gone_path)).0, 0);
    assert!(!link_exists(&node.ns.path(), &host_if(&results[0])).unwrap());
    assert_eq!(node.addresses_taken(), 2);
    // GC keeps only c2.
    let gc = format!(
        r#"{{"cniVersion": "1.1.0", "name": "podsg", "agentSocket": "{}", "cni.dev/valid-attachments": [{{"containerID": "c2", "ifname": "eth0"}}]}}"#,
        node.socket().display()
    );
    let (code, out) = node.cni(&[("CNI_COMMAND", "GC"), ("CNI_PATH", "/opt/cni/bin")], &gc);
    assert_eq!(code, 0, "{out}");
    assert!(!link_exists(&node.ns.path(), &host_if(&results[1])).unwrap());
    assert!(link_exists(&node.ns.path(), &host_if(&results[2])).unwrap());
    assert_eq!(node.addresses_taken(), 1);
}

#[test]
fn version_status_and_bad_input() {
    require_privilege!();
    let mut node = Node::start(&WORLD.replace("GREEN_GROUP", "sg-0a"));
    let (code, v) = node.cni(&[("CNI_COMMAND", "VERSION")], "");
    assert_eq!(code, 0);
    assert_eq!(v["supportedVersions"], serde_json::json!(["1.0.0", "1.1.0"]));
    assert_eq!(node.cni(&[("CNI_COMMAND", "STATUS")], &node.config()), (0, Value::Null));
    let pod = Netns::new("pgc-bad").unwrap();
    let path = pod.path();
    fn add<'a>(path: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut env =
            vec![("CNI_COMMAND", "ADD"), ("CNI_CONTAINERID", "c1"), ("CNI_NETNS", path), ("CNI_IFNAME", "eth0")];
        // A later entry for the same variable replaces the earlier one.
        for (k, v) in extra {
            env.retain(|(key, _)| key != k);
            env.push((k, v));
        }
        env
    }
    let add = |extra: &[(&'static str, &'static str)]| add(&path, extra);
    // (environment, configuration, expected code, expected message)
    type Case<'a> = (Vec<(&'a str, &'a str)>, String, u64, &'a str);
    let cases: Vec<Case> = vec![
        (add(&[]), node.config(), 4, "CNI_ARGS must name the pod"),
        (vec![("CNI_COMMAND", "")], node.config(), 4, "CNI_COMMAND is not set"),
        (
            add(&[("CNI_ARGS", "K8S_POD_NAMESPACE=ns;K8S_POD_NAME=red")]),
            node.config().replace("1.1.0", "0.4.0"),
            1,
            "incompatible CNI version",
        ),
        (
            add(&[("CNI_ARGS", "K8S_POD_NAMESPACE=ns;K8S_POD_NAME=red")]),
            node.config().replace("\"type\"", "\"mtu\": 1400, \"type\""),
            2,
            "unsupported field in network configuration",
        ),
        (
            add(&[("CNI_ARGS", "K8S_POD_NAMESPACE=ns;K8S_POD_NAME=red")]),
            "{not json".into(),
            6,
            "network configuration is not valid JSON",
        ),
        (
            add(&[("CNI_IFNAME", "eth0/x"), ("CNI_ARGS", "K8S_POD_NAMESPACE=ns;K8S_POD_NAME=red")]),
            node.config(),
            4,
            "invalid CNI_IFNAME",
        ),
    ];
    for (env, config, code, msg) in cases {
        let env: Vec<(&str, &str)> = env.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        let (exit, e) = node.cni(&env, &config);
        assert_ne!(exit, 0, "{env:?}");
        assert_eq!((e["code"].as_u64(), e["msg"].as_str()), (Some(code), Some(msg)), "{env:?}: {e}");
    }
    assert_eq!(node.addresses_taken(), 0, "nothing half applied");
    node.stop_agent();
    let (code, e) = node.cni(&[("CNI_COMMAND", "STATUS")], &node.config());
    assert_ne!(code, 0);
    assert_eq!(e["code"], 50, "{e}");
}

/// Chained after another plugin that made the interface: podsg enforces on
/// it, answers with the previous result, and leaves the interface alone on DEL.
#[test]
fn chained_after_another_plugin() {
    require_privilege!();
    let node = Node::start(&WORLD.replace("GREEN_GROUP", "sg-0a"));
    let (chained, green2, red) =
        (Netns::new("pgc-ch").unwrap(), Netns::new("pgc-ch2").unwrap(), Netns::new("pgc-chr").unwrap());
    let address = Ipv4Addr::new(10, 1, 0, 200);
    // "Another plugin": a routed veth named vother0 that podsg did not make.
    let (node_path, pod_path) = (node.ns.path(), chained.path());
    let link = podsg_netns::wire::PodLink {
        node: &node_path,
        pod: &pod_path,
        ifname: "eth0",
        host_if: "vother0",
        address,
        node_address: Ipv4Addr::new(10, 100, 0, 1),
        address6: None,
    };
    let made = link.attach().unwrap();
    let prev = serde_json::json!({
        "cniVersion": "1.1.0",
        "interfaces": [{"name": "vother0", "mac": made.host_mac}, {"name": "eth0", "mac": made.pod_mac, "sandbox": chained.path()}],
        "ips": [{"address": format!("{address}/32"), "interface": 1}],
    });
    let config = serde_json::json!({"cniVersion": "1.1.0", "name": "chain", "type": "podsg", "agentSocket": node.socket(), "prevResult": prev}).to_string();
    let path = chained.path();
    let env = |command: &'static str| {
        vec![
            ("CNI_COMMAND", command),
            ("CNI_CONTAINERID", "ch1"),
            ("CNI_NETNS", path.as_str()),
            ("CNI_IFNAME", "eth0"),
            ("CNI_ARGS", "K8S_POD_NAMESPACE=ns;K8S_POD_NAME=green1"),
        ]
    };
    let (code, result) = node.cni(&env("ADD"), &config);
    assert_eq!(code, 0, "{result}");
    assert_eq!(result, prev, "a chained plugin passes the previous result on");
    assert_eq!(node.cni(&env("CHECK"), &config).0, 0);
    let map =
        String::from_utf8(node.ns.exec("nft", &["list", "map", "inet", "podsg", "to_pod"]).unwrap().stdout).unwrap();
    assert!(map.contains("\"vother0\""), "{map}");

    // Enforced: POD_SG takes 5432 from itself only.
    let _l = Listener::echo(&chained, SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 5432)).unwrap();
    assert_eq!(node.add("c2", &green2, "green2").0, 0);
    assert_eq!(node.add("c3", &red, "red").0, 0);
    let to = SocketAddr::new(IpAddr::V4(address), 5432);
    assert!(Probe::tcp(&green2, to, Duration::from_millis(500)).unwrap(), "green2 -> chained pod");
    assert!(!Probe::tcp(&red, to, Duration::from_millis(500)).unwrap(), "red -> chained pod must be dropped");

    assert_eq!(node.cni(&env("DEL"), &config).0, 0);
    let map =
        String::from_utf8(node.ns.exec("nft", &["list", "map", "inet", "podsg", "to_pod"]).unwrap().stdout).unwrap();
    assert!(!map.contains("\"vother0\""), "{map}");
    assert!(link_exists(&node.ns.path(), "vother0").unwrap(), "the other plugin's interface is not podsg's to delete");
}

/// With an IPv6 pod range the agent gives each pod an address of each
/// family (a /128, routed via fe80::1), and the pods' groups hold over IPv6
/// as over IPv4; DEL frees both.
#[test]
fn dual_stack_pods_get_both_families_and_their_groups_hold_over_ipv6() {
    require_privilege!();
    let node = Node::start_with(&WORLD.replace("GREEN_GROUP", "sg-0a"), &["--pod-cidr6", "fd00:10:244:1::/64"]);
    let (green1, green2, red) =
        (Netns::new("pgc6-g1").unwrap(), Netns::new("pgc6-g2").unwrap(), Netns::new("pgc6-r").unwrap());
    let (code, r1) = node.add("c1", &green1, "green1");
    assert_eq!(code, 0, "{r1}");
    assert_eq!(r1["ips"][1]["address"], "fd00:10:244:1::1/128", "{r1}");
    assert_eq!(r1["ips"][1]["gateway"], "fe80::1");
    assert_eq!(r1["routes"][1], serde_json::json!({"dst": "::/0", "gw": "fe80::1"}));
    let (code, r2) = node.add("c2", &green2, "green2");
    assert_eq!(code, 0, "{r2}");
    let (code, r3) = node.add("c3", &red, "red");
    assert_eq!(code, 0, "{r3}");
    let v6 =
        |r: &Value| -> IpAddr { r["ips"][1]["address"].as_str().unwrap().split('/').next().unwrap().parse().unwrap() };
    let _l = Listener::echo(&green2, SocketAddr::new("::".parse().unwrap(), 5432)).unwrap();
    let timeout = Duration::from_millis(500);
    assert!(Probe::tcp(&green1, SocketAddr::new(v6(&r2), 5432), timeout).unwrap(), "green1 -> green2:5432 over IPv6");
    assert!(
        !Probe::tcp(&red, SocketAddr::new(v6(&r2), 5432), timeout).unwrap(),
        "red -> green2:5432 over IPv6 is dropped"
    );
    assert!(Probe::tcp(&green1, SocketAddr::new(address(&r2).into(), 5432), timeout).unwrap(), "and over IPv4");
    assert_eq!(node.simple("CHECK", "c1", Some(&green1.path())), (0, Value::Null), "CHECK sees both addresses");
    assert_eq!(node.addresses_taken(), 6);
    assert_eq!(node.simple("DEL", "c1", Some(&green1.path())), (0, Value::Null));
    assert_eq!(node.addresses_taken(), 4, "DEL frees both families");
}
