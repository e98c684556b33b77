//! Lab mode end to end: the real agent, CNI plugin, nftables, PostgreSQL and
//! DNS. There is one lab per machine, so the tests take turns.

use podsg_netns::{Netns, require_privilege};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

fn podsg(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_podsg")).args(args).output().expect("podsg runs")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn handbook() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/handbook")
}

/// One lab per machine: each test holds this while its lab is up.
static ONE_LAB: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Takes the lab down however the test ends.
struct Down;
impl Drop for Down {
    fn drop(&mut self) {
        let _ = podsg(&["lab", "down"]);
    }
}

fn copy_handbook(edit: impl Fn(&str, String) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(handbook()).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        std::fs::write(dir.path().join(&name), edit(&name, std::fs::read_to_string(&path).unwrap())).unwrap();
    }
    dir
}

fn psql(target: &str, host: &str) -> Output {
    podsg(&[
        "lab",
        "exec",
        target,
        "--",
        "env",
        "PGPASSWORD=podsg-lab",
        "PGCONNECT_TIMEOUT=3",
        "psql",
        "-h",
        host,
        "-U",
        "postgres",
        "-d",
        "postgres",
        "-tAc",
        "SELECT message FROM test_data ORDER BY id",
    ])
}

/// Round-trips a few bytes on an open connection.
fn echo(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 4];
    stream.write_all(b"ping").is_ok() && stream.read_exact(&mut buf).is_ok() && &buf == b"ping"
}

#[test]
fn the_handbook_for_real() {
    require_privilege!();
    let _turn = ONE_LAB.lock().unwrap_or_else(|e| e.into_inner());
    let status = podsg(&["lab", "status"]);
    assert!(text(&status).starts_with("no lab is up"), "a lab is already up on this machine: {}", text(&status));
    let _down = Down;
    let dir = handbook().display().to_string();

    let up = podsg(&["lab", "up", &dir]);
    assert!(up.status.success(), "{}", text(&up));

    let check = podsg(&["lab", "check", &dir, "--output", "json"]);
    let report: serde_json::Value =
        serde_json::from_slice(&check.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&check)));
    assert!(check.status.success() && report["ok"] == true, "{report:#}");
    assert_eq!(report["outcomes"].as_array().unwrap().len(), 13);
    let matrix = podsg(&["lab", "check", &dir]);
    assert!(String::from_utf8_lossy(&matrix.stdout).contains("13 of 13 expectations hold"), "{}", text(&matrix));

    // The handbook's own commands.
    let green = psql("networking/green-pod", "rds-ekslab.internal");
    assert!(green.status.success(), "{}", text(&green));
    assert_eq!(
        String::from_utf8_lossy(&green.stdout).lines().collect::<Vec<_>>(),
        [
            "Hello from authorized pod!",
            "Security groups for pods working correctly!",
            "Fine-grained network access control demonstrated."
        ]
    );
    let red = psql("networking/red-pod", "rds-ekslab.internal");
    assert!(!red.status.success());
    assert!(text(&red).contains("timeout expired"), "red must time out: {}", text(&red));
    let lookup = podsg(&["lab", "exec", "networking/green-pod", "--", "getent", "ahostsv4", "rds-ekslab.internal"]);
    assert!(String::from_utf8_lossy(&lookup.stdout).starts_with("10.0.3.50"), "{}", text(&lookup));

    // An open connection from green to the management instance's port 22.
    let ns = Netns::existing("pglab-pod-networking-green-pod-0");
    let (ask, asked) = std::sync::mpsc::channel::<()>();
    let (tell, told) = std::sync::mpsc::channel::<bool>();
    let connection = ns
        .spawn(move || {
            let mut s =
                TcpStream::connect_timeout(&SocketAddr::from(([10, 0, 1, 20], 22)), Duration::from_secs(2)).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            while asked.recv().is_ok() {
                tell.send(echo(&mut s)).unwrap();
            }
        })
        .unwrap();
    let works = || {
        ask.send(()).unwrap();
        told.recv().unwrap()
    };
    assert!(works());

    // Seed 004, step 8: without the node group's DNS rules, green cannot
    // resolve names but still reaches the database by IP. And MGMT_SG now
    // takes SSH on 2222 only.
    let edited = copy_handbook(|name, text| match name {
        "10-security-groups.yaml" => {
            let a = text.find("  # \"Allow pods with POD_SG to resolve DNS through node group\"").unwrap();
            let b = text.find("  # egress omitted").unwrap();
            format!("{}{}", &text[..a], &text[b..])
                .replace("fromPort: 22\n    toPort: 22", "fromPort: 2222\n    toPort: 2222")
        }
        "lab.yaml" => text
            .replace(
                "{from: networking/green-pod, to: rds-ekslab.internal, check: dns, result: allow}",
                "{from: networking/green-pod, to: rds-ekslab.internal, check: dns, result: deny}",
            )
            .replace(
                "{from: networking/green-pod, to: kube-system/coredns, protocol: tcp, port: 53, result: allow}",
                "{from: networking/green-pod, to: kube-system/coredns, protocol: tcp, port: 53, result: deny}",
            )
            .replace(
                "{from: networking/green-pod, to: rds-ekslab.internal, check: psql, result: allow}",
                "{from: networking/green-pod, to: 10.0.3.50, check: psql, result: allow}",
            )
            .replace(
                "to: mgmt-instance.internal, protocol: tcp, port: 22, result: allow",
                "to: mgmt-instance.internal, protocol: tcp, port: 22, result: deny",
            ),
        _ => text,
    });
    let edited_dir = edited.path().display().to_string();
    let apply = podsg(&["lab", "apply", &edited_dir]);
    assert!(apply.status.success(), "{}", text(&apply));
    let check = podsg(&["lab", "check", &edited_dir]);
    assert!(check.status.success(), "{}", text(&check));
    assert!(
        !psql("networking/green-pod", "rds-ekslab.internal").status.success(),
        "no name lookups without the DNS rule"
    );
    assert!(psql("networking/green-pod", "10.0.3.50").status.success(), "access by IP still works");
    // By default, as on EC2, the tracked connection continues...
    assert!(works(), "an established connection continues after its rule is gone");
    // ...until established connections are revoked.
    let revoke = podsg(&["lab", "apply", &edited_dir, "--revoke-established"]);
    assert!(revoke.status.success(), "{}", text(&revoke));
    assert!(!works(), "--revoke-established cuts connections the rules no longer allow");
    drop(ask);
    connection.join().unwrap();

    // Bad manifests change nothing.
    let broken = copy_handbook(|name, text| {
        if name == "20-security-group-policy.yaml" {
            text.replace("sg-0a7f3c9e2b1d48502", "sg-0000000000000dead")
        } else {
            text
        }
    });
    let apply = podsg(&["lab", "apply", &broken.path().display().to_string()]);
    assert_eq!(apply.status.code(), Some(2), "{}", text(&apply));
    assert!(
        text(&apply).contains("InvalidSecurityGroupID.NotFound: sg-0000000000000dead does not exist"),
        "{}",
        text(&apply)
    );
    assert!(text(&apply).contains("nothing was changed"));
    assert!(podsg(&["lab", "check", &edited_dir]).status.success(), "the lab is as before");

    // Back to the handbook, then down: nothing is left, even when the lab's
    // record of itself is lost (as after a crash).
    let back = podsg(&["lab", "apply", &dir]);
    assert!(back.status.success(), "{}", text(&back));
    let check = podsg(&["lab", "check", &dir]);
    assert!(check.status.success(), "{}", text(&check));
    std::fs::remove_file("/run/podsg-lab/state.json").unwrap();
    let down = podsg(&["lab", "down"]);
    assert!(down.status.success(), "{}", text(&down));
    let left = Command::new("ip").args(["netns", "list"]).output().unwrap();
    assert!(!String::from_utf8_lossy(&left.stdout).contains("pglab-"), "namespaces left: {}", text(&left));
    assert!(!Path::new("/run/podsg-lab").exists());
    let processes = Command::new("pgrep").args(["-f", "dnsmasq.*podsg-lab|podsg agent --node-name"]).output().unwrap();
    assert!(processes.stdout.is_empty(), "processes left: {}", String::from_utf8_lossy(&processes.stdout));
}

/// Pods whose manifests name their addresses (`kubectl get -o yaml` dumps)
/// get exactly those addresses, across two nodes, inside and outside the
/// nodes' pod ranges; self-referencing groups and CIDR rules then hold as
/// `podsg explain` says.
#[test]
fn pods_get_the_addresses_their_manifests_name() {
    require_privilege!();
    let _turn = ONE_LAB.lock().unwrap_or_else(|e| e.into_inner());
    let _down = Down;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/manifest-addresses").display().to_string();
    let up = podsg(&["lab", "up", &dir]);
    assert!(up.status.success(), "{}", text(&up));
    let status = text(&podsg(&["lab", "status"]));
    for (pod, address) in [("apps/a", "10.244.5.2"), ("apps/b", "10.244.9.7"), ("apps/c", "10.244.2.77")] {
        let line = status.lines().find(|l| l.contains(pod)).unwrap_or_else(|| panic!("{pod} in {status}"));
        assert!(line.contains(address), "{pod} must live at {address}: {line}");
        let inside = podsg(&["lab", "exec", pod, "--", "ip", "-4", "-o", "addr", "show", "dev", "eth0"]);
        assert!(text(&inside).contains(&format!("{address}/32")), "{pod}: {}", text(&inside));
    }
    for (from, to, port, verdict) in [("apps/a", "apps/b", "9000", "ALLOW"), ("apps/c", "apps/b", "9000", "DENY")] {
        let explained = podsg(&["explain", &dir, "--from", from, "--to", to, "--port", port]);
        assert!(text(&explained).contains(verdict), "explain {from} -> {to}: {}", text(&explained));
    }
    let check = podsg(&["lab", "check", &dir]);
    assert!(check.status.success(), "{}", text(&check));
    assert!(text(&check).contains("8 of 8 expectations hold"), "{}", text(&check));
}

fn tke_walkthrough(step: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/tke-walkthrough").join(step).display().to_string()
}

/// Who answers `curl NAME:PORT` from a pod, `tries` times, by the names
/// the lab's HTTP server answers with.
fn answers(from: &str, name: &str, port: &str, tries: usize) -> Vec<String> {
    let exe = env!("CARGO_BIN_EXE_podsg");
    (0..tries)
        .map(|_| text(&podsg(&["lab", "exec", from, "--", exe, "lab", "http-get", name, port])).trim().to_string())
        .collect()
}

/// Seed 004 (Tencent TKE) as written: step 7's `curl my-app` through the
/// cluster DNS and the Service, then step 8 removes the DNS rules: the
/// name fails and the pod's IP still answers. Each node translates the
/// Service as kube-proxy does, so the backend's groups decide.
#[test]
fn the_tke_walkthrough_with_services_for_real() {
    require_privilege!();
    let _turn = ONE_LAB.lock().unwrap_or_else(|e| e.into_inner());
    let _down = Down;
    let step7 = tke_walkthrough("step-7");
    let up = podsg(&["lab", "up", &step7]);
    assert!(up.status.success(), "{}", text(&up));
    let status = text(&podsg(&["lab", "status"]));
    assert!(status.contains("my-namespace/my-app") && status.contains("10.96.0.11"), "{status}");
    assert!(status.contains("cluster DNS: 10.96.0.10"), "pods resolve through the kube-dns Service: {status}");
    let check = podsg(&["lab", "check", &step7]);
    assert!(check.status.success(), "{}", text(&check));
    assert!(text(&check).contains("6 of 6 expectations hold"), "{}", text(&check));
    let page = podsg(&["lab", "check", &step7, "--output", "html"]);
    let html = String::from_utf8_lossy(&page.stdout);
    assert!(page.status.success() && html.starts_with("<!DOCTYPE html>"), "{}", text(&page));
    assert!(html.contains("<caption>6 of 6 expectations hold: ✓ as expected, ✗ not</caption>"), "{html}");
    assert!(html.contains("<td class=\"allow\" title=\"my-namespace/my-deployment-0 -&gt; my-app dns: expected allow, got allow (10.96.0.11)\nmy-namespace/my-deployment-0 -&gt; my-app http: expected allow, got allow (HTTP/1.1 200 OK podsg lab: my-namespace/my-deployment-"), "{html}");

    // kube-proxy picks either replica, the client itself too (hairpin).
    let seen = answers("my-namespace/my-deployment-0", "my-app", "80", 24);
    for pod in ["my-namespace/my-deployment-0", "my-namespace/my-deployment-1"] {
        let line = format!("HTTP/1.1 200 OK podsg lab: {pod}");
        assert!(seen.contains(&line), "{pod} never answered: {seen:?}");
    }
    assert!(seen.iter().all(|a| a.starts_with("HTTP/1.1 200 OK")), "{seen:?}");
    // A port the Service does not have is refused, as kube-proxy refuses it.
    assert_eq!(answers("my-namespace/my-deployment-0", "my-app", "8080", 1), ["connection to 10.96.0.11:8080 refused"]);

    // One replica: the Service's endpoints follow.
    let one = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(&step7).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_owned();
        let text = std::fs::read_to_string(&path).unwrap().replace(
            "replicas: 2\n  selector:\n    matchLabels:\n      app: my-app",
            "replicas: 1\n  selector:\n    matchLabels:\n      app: my-app",
        );
        let text = if name == "lab.yaml" {
            "apiVersion: podsg.io/v1alpha1\nkind: LabExpectations\nmetadata: {name: one}\nspec:\n  expect:\n  - {from: my-namespace/my-deployment-0, to: my-app, check: http, result: allow}\n".to_string()
        } else {
            text
        };
        std::fs::write(one.path().join(name), text).unwrap();
    }
    let apply = podsg(&["lab", "apply", &one.path().display().to_string()]);
    assert!(apply.status.success(), "{}", text(&apply));
    assert!(text(&apply).contains("removed my-namespace/my-deployment-1"), "{}", text(&apply));
    let seen = answers("my-namespace/my-deployment-0", "my-app", "80", 8);
    assert!(seen.iter().all(|a| a == "HTTP/1.1 200 OK podsg lab: my-namespace/my-deployment-0"), "{seen:?}");

    // Step 8: the cluster group's DNS rules are gone.
    let step8 = tke_walkthrough("step-8");
    let apply = podsg(&["lab", "apply", &step8]);
    assert!(apply.status.success(), "{}", text(&apply));
    let check = podsg(&["lab", "check", &step8, "--output", "json"]);
    let report: serde_json::Value =
        serde_json::from_slice(&check.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&check)));
    assert!(check.status.success() && report["ok"] == true, "{report:#}");
    let details: Vec<&str> =
        report["outcomes"].as_array().unwrap().iter().map(|o| o["detail"].as_str().unwrap()).collect();
    assert!(details.contains(&"could not resolve host my-app"), "{details:?}");
    // podsg explain says why, on the same manifests.
    let explained = podsg(&[
        "explain",
        &step8,
        "--from",
        "my-namespace/my-deployment",
        "--to",
        "kube-system/kube-dns",
        "--protocol",
        "udp",
    ]);
    assert!(
        text(&explained)
            .starts_with("DENY UDP 53 from Deployment/my-namespace/my-deployment to Service kube-system/kube-dns"),
        "{}",
        text(&explained)
    );
    let explained = podsg(&["explain", &step8, "--from", "my-namespace/my-deployment", "--to", "my-namespace/my-app"]);
    assert!(text(&explained).starts_with("ALLOW TCP 80"), "{}", text(&explained));
}

/// Counters from `podsg lab metrics`: (metric line's labels) -> value.
fn counters(node: &str) -> std::collections::BTreeMap<String, u64> {
    let out = podsg(&["lab", "metrics", node]);
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| {
            l.starts_with("podsg_agent_pod_new_connections_total")
                || l.starts_with("podsg_agent_rule_allowed_connections_total")
        })
        .filter_map(|l| l.rsplit_once(' ').map(|(k, v)| (k.to_string(), v.parse().unwrap())))
        .collect()
}

fn count(all: &std::collections::BTreeMap<String, u64>, key: &str) -> u64 {
    *all.get(key).unwrap_or_else(|| panic!("no {key} in {all:#?}"))
}

/// Flow logs and counters for real: the dataplane counts each pod's new
/// connections (allowed, refused) and what each rule allowed, the agent
/// exports them with pod, group and rule labels, and a pod annotated
/// `podsg.io/log-denied: "true"` gets a line for each refused connection.
#[test]
fn refused_connections_are_logged_and_every_new_connection_counted() {
    require_privilege!();
    let _turn = ONE_LAB.lock().unwrap_or_else(|e| e.into_inner());
    let _down = Down;
    let logged = copy_handbook(|name, text| {
        match name {
        "30-green-pod.yaml" => text.replacen(
            "    metadata:\n      labels:\n        app: green-pod",
            "    metadata:\n      annotations:\n        podsg.io/log-denied: \"true\"\n      labels:\n        app: green-pod",
            1,
        ),
        _ => text,
    }
    });
    let dir = logged.path().display().to_string();
    let up = podsg(&["lab", "up", &dir]);
    assert!(up.status.success(), "{}", text(&up));
    let node = |pod: &str| {
        let status = text(&podsg(&["lab", "status"]));
        let line = status.lines().find(|l| l.contains(pod)).unwrap().to_string();
        line.split_whitespace().nth(1).unwrap().to_string()
    };
    let (green_node, red_node) = (node("networking/green-pod-0"), node("networking/red-pod-0"));
    let address = |pod: &str| {
        let status = text(&podsg(&["lab", "status"]));
        status.lines().find(|l| l.contains(pod)).unwrap().split_whitespace().nth(2).unwrap().to_string()
    };
    let (green_address, red_address) = (address("networking/green-pod-0"), address("networking/red-pod-0"));
    let green = |direction: &str, result: &str| {
        format!(
            "podsg_agent_pod_new_connections_total{{pod=\"Pod/networking/green-pod-0\",interface=\"{}\",direction=\"{direction}\",result=\"{result}\"}}",
            counters(&green_node)
                .keys()
                .find(|k| k.contains("green-pod-0"))
                .and_then(|k| k.split("interface=\"").nth(1))
                .and_then(|r| r.split('"').next())
                .unwrap()
        )
    };
    let ssh = "podsg_agent_rule_allowed_connections_total{direction=\"member-ingress\",groups=\"sg-0b9e1d7c3f5a26804\",cell=\"tcp 22\",rules=\"sg-0b9e1d7c3f5a26804 ingress[0]\"}";
    let before = counters(&green_node);
    // Two SSH connections from green: its egress and the management group's rule count each once.
    for _ in 0..2 {
        let c = podsg(&["lab", "exec", "networking/green-pod", "--", "bash", "-c", "exec 3<>/dev/tcp/10.0.1.20/22"]);
        assert!(c.status.success(), "{}", text(&c));
    }
    let after = counters(&green_node);
    assert_eq!(count(&after, &green("egress", "allowed")) - count(&before, &green("egress", "allowed")), 2);
    assert_eq!(count(&after, ssh) - count(&before, ssh), 2, "the rule that allowed them");
    // Red tries green's 8080 three times: refused by green's ingress, counted and logged.
    let denied_before = count(&counters(&green_node), &green("ingress", "denied"));
    for _ in 0..3 {
        let c = podsg(&[
            "lab",
            "exec",
            "networking/red-pod",
            "--",
            "bash",
            "-c",
            &format!("timeout 1 bash -c 'exec 3<>/dev/tcp/{green_address}/8080'"),
        ]);
        assert!(!c.status.success(), "red must not reach green: {}", text(&c));
    }
    let denied = count(&counters(&green_node), &green("ingress", "denied")) - denied_before;
    assert!(denied >= 3, "three refused connections (retried SYNs count again): {denied}");
    let logs = podsg(&["lab", "logs", "--denied", "--pod", "networking/green-pod", "--output", "json"]);
    let lines: Vec<serde_json::Value> =
        serde_json::from_slice(&logs.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&logs)));
    let to_8080: Vec<&serde_json::Value> = lines.iter().filter(|l| l["port"] == 8080).collect();
    assert!(to_8080.len() >= 3, "{lines:#?}");
    let l = to_8080[0];
    assert_eq!(
        (l["pod"].as_str(), l["direction"].as_str(), l["protocol"].as_str()),
        (Some("Pod/networking/green-pod-0"), Some("ingress"), Some("tcp"))
    );
    assert_eq!(l["refusedBy"], serde_json::json!({"side": "ingress", "groups": ["sg-0a7f3c9e2b1d48502"]}));
    assert!(
        lines.iter().all(|l| l["protocol"] != "icmpv6" && l["protocol"] != "0"),
        "the node's own neighbour discovery is not refused: {lines:#?}"
    );
    let plain = text(&podsg(&["lab", "logs", "--pod", "networking/green-pod"]));
    assert!(plain.contains(&format!("{green_node} Pod/networking/green-pod-0 ingress tcp/8080 from ")), "{plain}");
    // Red is not annotated: its refusals are counted, not logged.
    let probe = podsg(&[
        "lab",
        "exec",
        "networking/green-pod",
        "--",
        "bash",
        "-c",
        &format!("timeout 1 bash -c 'exec 3<>/dev/tcp/{red_address}/8080'"),
    ]);
    assert!(!probe.status.success(), "green must not reach red: {}", text(&probe));
    let red_logs = podsg(&["lab", "logs", "--pod", "networking/red-pod", "--output", "json"]);
    assert_eq!(String::from_utf8_lossy(&red_logs.stdout).trim(), "[]", "{}", text(&red_logs));
    let red_denied = counters(&red_node)
        .into_iter()
        .filter(|(k, _)| k.contains("red-pod-0") && k.contains("\"ingress\",result=\"denied\""))
        .map(|(_, v)| v)
        .sum::<u64>();
    assert!(red_denied >= 1, "green's probe of red's 8080 was refused and counted");
}

/// A dual-stack lab: pods, nodes and the database get IPv6 addresses too,
/// and the handbook's groups hold over IPv6 with real traffic across two
/// nodes (a member's ingress, a pod's ingress, ICMPv6) as over IPv4.
#[test]
fn the_handbook_holds_over_ipv6_in_a_dual_stack_lab() {
    require_privilege!();
    let _turn = ONE_LAB.lock().unwrap_or_else(|e| e.into_inner());
    let _down = Down;
    let dual = copy_handbook(|name, text| {
        match name {
        "10-security-groups.yaml" => text.replace(
            "  - address: 10.0.3.50\n    name: rds-ekslab.internal",
            "  - address: 10.0.3.50\n    name: rds-ekslab.internal\n  - address: \"fd00:10::50\"\n    name: rds-ekslab.internal",
        ),
        "lab.yaml" => text.replacen("spec:\n  nodes: 2\n", "spec:\n  nodes: 2\n  dualStack: true\n", 1).replace(
            "  - {from: networking/green-pod, to: mgmt-instance.internal, protocol: tcp, port: 22, result: allow}",
            "  - {from: networking/green-pod, to: mgmt-instance.internal, protocol: tcp, port: 22, result: allow}
  - {from: networking/green-pod, to: rds-ekslab.internal, protocol: tcp, port: 5432, family: ipv6, result: allow}
  - {from: networking/red-pod, to: rds-ekslab.internal, protocol: tcp, port: 5432, family: ipv6, result: deny}
  - {from: networking/red-pod, to: networking/green-pod, protocol: tcp, port: 8080, family: ipv6, result: deny}
  - {from: networking/red-pod, to: kube-system/coredns, protocol: icmpv6, family: ipv6, result: allow}
  - {from: networking/green-pod, to: networking/red-pod, protocol: icmpv6, family: ipv6, result: deny}
  - {from: networking/green-pod, to: kube-system/coredns, protocol: udp, port: 5353, family: ipv6, result: deny}",
        ),
        _ => text,
    }
    });
    let dir = dual.path().display().to_string();
    let up = podsg(&["lab", "up", &dir]);
    assert!(up.status.success(), "{}", text(&up));
    let status = text(&podsg(&["lab", "status"]));
    let green = status.lines().find(|l| l.contains("networking/green-pod-0")).unwrap();
    assert!(
        green.contains(" fd00:10:0:1::") || green.contains(" fd00:10:0:2::"),
        "a pod has an IPv6 address from its node's /64: {green}"
    );
    let check = podsg(&["lab", "check", &dir]);
    assert!(check.status.success(), "{}", text(&check));
    assert!(text(&check).contains("19 of 19 expectations hold"), "{}", text(&check));
    // The psql of the handbook, over IPv6.
    let green6 = podsg(&[
        "lab",
        "exec",
        "networking/green-pod",
        "--",
        "env",
        "PGPASSWORD=podsg-lab",
        "PGCONNECT_TIMEOUT=3",
        "psql",
        "-h",
        "fd00:10::50",
        "-U",
        "postgres",
        "-d",
        "postgres",
        "-tAc",
        "SELECT count(*) FROM test_data",
    ]);
    assert_eq!(String::from_utf8_lossy(&green6.stdout).trim(), "3", "{}", text(&green6));
}
