//! `podsg check` at cluster scale: 50,000 pods (as `kubectl get pods -o
//! yaml` prints them: one List, with statuses and probes), 5,000 SGPs and
//! 5,000 security groups, in files as a repository would hold them. Runs
//! the real binary and reports its wall time and peak memory (VmHWM, read
//! from /proc while it runs).
//!
//! `cargo bench -p podsg --bench check -- [pods=50000] [policies=5000] [groups=5000] [rounds=3]`
//! Under `cargo test --benches` (no `--bench`) it checks a small world once.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn main() {
    let arg = |name: &str, default: usize| {
        std::env::args()
            .filter_map(|a| a.strip_prefix(&format!("{name}=")).map(str::to_string))
            .next()
            .map_or(default, |v| v.parse().expect("a number"))
    };
    let full = std::env::args().any(|a| a == "--bench");
    let scale = |n: usize| if full { n } else { n / 100 };
    let (pods, policies, groups) =
        (arg("pods", scale(50_000)), arg("policies", scale(5_000)), arg("groups", scale(5_000)));
    let rounds = arg("rounds", if full { 3 } else { 1 });
    let dir = tempfile::tempdir().expect("a temporary directory");
    if let Ok(keep) = std::env::var("PODSG_BENCH_KEEP") {
        write_world(Path::new(&keep), pods, policies, groups);
    }
    let bytes = write_world(dir.path(), pods, policies, groups);
    println!("check of {pods} pods, {policies} SGPs, {groups} groups ({:.1} MB of YAML)", bytes as f64 / 1e6);
    for round in 0..rounds {
        let (elapsed, peak_kb, code, summary) = run(dir.path());
        println!(
            "round {round}: {:.2} s, peak {:.0} MB, exit {code}: {summary}",
            elapsed.as_secs_f64(),
            peak_kb as f64 / 1024.0
        );
    }
}

/// Wall time, peak resident memory in kB, exit code, last line of output.
fn run(dir: &Path) -> (Duration, u64, i32, String) {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_podsg"))
        .args(["check", "--output", "text"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("podsg runs");
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let out = std::thread::spawn({
        let mut stdout = child.stdout.take().expect("piped");
        move || {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut stdout, &mut s).expect("output");
            s
        }
    });
    loop {
        if let Ok(status) = std::fs::read_to_string(&status_path)
            && let Some(kb) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").parse::<u64>().ok())
        {
            peak = peak.max(kb);
        }
        if let Some(status) = child.try_wait().expect("wait") {
            let elapsed = start.elapsed();
            let out = out.join().expect("reader");
            let last = out.lines().last().unwrap_or_default().to_string();
            return (elapsed, peak, status.code().unwrap_or(-1), last);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Writes the world; returns its size in bytes.
fn write_world(dir: &Path, pods: usize, policies: usize, groups: usize) -> usize {
    let mut g = String::new();
    for i in 0..groups {
        let peer = (i * 7 + 3) % groups;
        let _ = write!(
            g,
            "---\napiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata:\n  name: sg-{i:017x}\nspec:\n  groupName: group-{i}\n  ingress:\n  - ipProtocol: tcp\n    fromPort: 8080\n    toPort: 8080\n    userIdGroupPairs:\n    - groupId: sg-{peer:017x}\n  - ipProtocol: tcp\n    fromPort: 443\n    toPort: 443\n    ipRanges:\n    - cidrIp: 10.0.0.0/8\n  - ipProtocol: udp\n    fromPort: 53\n    toPort: 53\n    userIdGroupPairs:\n    - groupId: sg-{i:017x}\n"
        );
    }
    let mut p = String::new();
    for i in 0..policies {
        let _ = write!(
            p,
            "---\napiVersion: vpcresources.k8s.aws/v1beta1\nkind: SecurityGroupPolicy\nmetadata:\n  name: policy-{i}\n  namespace: ns-{}\nspec:\n  podSelector:\n    matchLabels:\n      app: app-{i}\n  securityGroups:\n    groupIds:\n    - sg-{:017x}\n    - sg-{:017x}\n",
            i % 100,
            i % groups,
            (i + 1) % groups
        );
    }
    let mut k = String::from("apiVersion: v1\nitems:\n");
    for i in 0..pods {
        let app = i % policies;
        let _ = write!(
            k,
            "- apiVersion: v1\n  kind: Pod\n  metadata:\n    creationTimestamp: \"2026-11-01T10:00:00Z\"\n    generateName: app-{app}-7d9c8b6f5-\n    labels:\n      app: app-{app}\n      pod-template-hash: 7d9c8b6f5\n    name: app-{app}-7d9c8b6f5-{i:05}\n    namespace: ns-{}\n    ownerReferences:\n    - apiVersion: apps/v1\n      blockOwnerDeletion: true\n      controller: true\n      kind: ReplicaSet\n      name: app-{app}-7d9c8b6f5\n      uid: 4c1f6d0e-0000-4000-8000-{i:012}\n    resourceVersion: \"{i}\"\n    uid: 9a8b7c6d-0000-4000-8000-{i:012}\n  spec:\n    containers:\n    - image: registry.example/app:1.{app}\n      imagePullPolicy: IfNotPresent\n      name: app\n      ports:\n      - containerPort: 8080\n        name: http\n        protocol: TCP\n      readinessProbe:\n        httpGet:\n          path: /ready\n          port: http\n        periodSeconds: 10\n      resources:\n        requests:\n          cpu: 100m\n          memory: 128Mi\n    dnsPolicy: ClusterFirst\n    nodeName: node-{}\n    restartPolicy: Always\n    serviceAccountName: default\n  status:\n    phase: Running\n    podIP: 10.{}.{}.{}\n    podIPs:\n    - ip: 10.{}.{}.{}\n",
            app % 100,
            i % 5000,
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255,
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255,
        );
    }
    k.push_str("kind: List\nmetadata:\n  resourceVersion: \"\"\n");
    for (name, text) in [("groups.yaml", &g), ("policies.yaml", &p), ("pods.yaml", &k)] {
        std::fs::write(dir.join(name), text).expect("writes");
    }
    g.len() + p.len() + k.len()
}
