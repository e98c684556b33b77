//! A node under test: the real `podsg agent` inside a node namespace, driven
//! through the real `podsg-cni` binary as a container runtime would.
#![allow(dead_code)]

use podsg_netns::Netns;
use podsg_netns::wire::router;
use serde_json::Value;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const WORLD: &str = r#"
apiVersion: podsg.io/v1alpha1
kind: ClusterConfig
metadata: {name: cluster}
spec: {defaultGroupIds: [sg-0e]}
---
apiVersion: podsg.io/v1alpha1
kind: SecurityGroup
metadata: {name: sg-0e}
spec:
  groupName: NODE_GROUP_SG
  ingress: [{ipProtocol: "-1", userIdGroupPairs: [{groupId: sg-0e}]}]
---
apiVersion: podsg.io/v1alpha1
kind: SecurityGroup
metadata: {name: sg-0a}
spec:
  groupName: POD_SG
  ingress: [{ipProtocol: tcp, fromPort: 5432, toPort: 5432, userIdGroupPairs: [{groupId: sg-0a}]}]
---
apiVersion: vpcresources.k8s.aws/v1beta1
kind: SecurityGroupPolicy
metadata: {name: green, namespace: ns}
spec: {podSelector: {matchLabels: {app: green}}, securityGroups: {groupIds: [GREEN_GROUP]}}
---
apiVersion: v1
kind: Pod
metadata: {name: green1, namespace: ns, labels: {app: green}}
---
apiVersion: v1
kind: Pod
metadata: {name: green2, namespace: ns, labels: {app: green}}
---
apiVersion: v1
kind: Pod
metadata: {name: red, namespace: ns, labels: {app: red}}
"#;

pub struct Node {
    /// More agent flags (`--pod-cidr6 ...`).
    pub extra: Vec<String>,
    pub ns: Netns,
    pub dir: tempfile::TempDir,
    agent: Option<Child>,
}

pub fn bin(name: &str) -> &'static str {
    match name {
        "podsg" => env!("CARGO_BIN_EXE_podsg"),
        _ => env!("CARGO_BIN_EXE_podsg-cni"),
    }
}

impl Node {
    pub fn start(world: &str) -> Node {
        Node::start_with(world, &[])
    }

    /// A node whose agent also takes `extra` flags.
    pub fn start_with(world: &str, extra: &[&str]) -> Node {
        let ns = Netns::new("pgc-node").unwrap();
        router(&ns.path(), Ipv4Addr::new(10, 100, 0, 1)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("manifests")).unwrap();
        std::fs::write(dir.path().join("manifests/world.yaml"), world).unwrap();
        let mut node = Node { extra: extra.iter().map(|s| s.to_string()).collect(), ns, dir, agent: None };
        node.start_agent();
        node
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("agent.sock")
    }

    /// Where the agent writes what it does (its standard error).
    pub fn log(&self) -> std::path::PathBuf {
        self.dir.path().join("agent.log")
    }

    pub fn start_agent(&mut self) {
        let _ = std::fs::remove_file(self.socket());
        let d = self.dir.path();
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                self.ns.name(),
                bin("podsg"),
                "agent",
                "--node-name",
                "node-1",
                "--node-address",
                "10.100.0.1",
            ])
            .args(["--pod-cidr", "10.1.0.0/16"])
            .arg("--state-dir")
            .arg(d.join("state"))
            .arg("--socket")
            .arg(self.socket())
            .arg("--manifests")
            .arg(d.join("manifests"))
            .args(&self.extra)
            .stderr(std::fs::File::create(self.log()).unwrap())
            .spawn()
            .unwrap();
        self.agent = Some(child);
        let start = Instant::now();
        while !self.socket().exists() {
            assert!(start.elapsed() < Duration::from_secs(20), "agent did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The agent's process (`ip netns exec` execs it in place).
    pub fn agent_pid(&self) -> Option<u32> {
        self.agent.as_ref().map(Child::id)
    }

    pub fn stop_agent(&mut self) {
        if let Some(mut c) = self.agent.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn config(&self) -> String {
        format!(
            r#"{{"cniVersion": "1.1.0", "name": "podsg", "type": "podsg", "agentSocket": "{}"}}"#,
            self.socket().display()
        )
    }

    /// Runs the plugin as a container runtime does: from the host, with the
    /// pod's namespace in CNI_NETNS (the plugin only talks to the agent's
    /// socket; the agent does the wiring). Not through `ip netns exec`,
    /// whose cost grows with the number of namespaces mounted on the
    /// machine and would be measured as the plugin's. Returns its exit
    /// code and JSON output.
    pub fn cni(&self, env: &[(&str, &str)], config: &str) -> (i32, Value) {
        let mut child = Command::new(bin("podsg-cni"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        // VERSION and a bad environment end the plugin before it reads its
        // configuration: a closed pipe then is not the test's business.
        match child.stdin.take().unwrap().write_all(config.as_bytes()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("writing the configuration: {e}"),
            _ => {}
        }
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
        };
        (out.status.code().unwrap_or(-1), value)
    }

    pub fn add(&self, container: &str, pod: &Netns, name: &str) -> (i32, Value) {
        let args = format!("IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME={name}");
        let path = pod.path();
        self.cni(
            &[
                ("CNI_COMMAND", "ADD"),
                ("CNI_CONTAINERID", container),
                ("CNI_NETNS", &path),
                ("CNI_IFNAME", "eth0"),
                ("CNI_ARGS", &args),
                ("CNI_PATH", "/opt/cni/bin"),
            ],
            &self.config(),
        )
    }

    pub fn simple(&self, command: &str, container: &str, netns: Option<&str>) -> (i32, Value) {
        let mut env = vec![
            ("CNI_COMMAND", command),
            ("CNI_CONTAINERID", container),
            ("CNI_IFNAME", "eth0"),
            ("CNI_PATH", "/opt/cni/bin"),
        ];
        if let Some(n) = netns {
            env.push(("CNI_NETNS", n));
        }
        self.cni(&env, &self.config())
    }

    /// Addresses the allocators hold, of both families.
    pub fn addresses_taken(&self) -> usize {
        ["state/ipam", "state/ipam6"]
            .iter()
            .map(|dir| {
                std::fs::read_dir(self.dir.path().join(dir))
                    .map(|d| {
                        d.filter(|e| e.as_ref().unwrap().file_name().to_str().unwrap().parse::<IpAddr>().is_ok())
                            .count()
                    })
                    .unwrap_or(0)
            })
            .sum()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop_agent();
    }
}

pub fn address(result: &Value) -> Ipv4Addr {
    let cidr = result["ips"][0]["address"].as_str().unwrap();
    cidr.split('/').next().unwrap().parse().unwrap()
}

pub fn host_if(result: &Value) -> String {
    result["interfaces"][0]["name"].as_str().unwrap().to_string()
}
