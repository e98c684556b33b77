//! The agent's logic without root: a recording `Nft` in place of the
//! kernel, and chained attachments (the previous plugin made the
//! interface), so that no namespace or link is touched. What reaches the
//! kernel, and when, is what these tests look at; the kernel tests
//! (crates/k8s/tests/agent_source, crates/cli/tests/node.rs) run the same
//! agent against nftables for real.

use podsg_agent::{Agent, AgentConfig, VethNft};
use podsg_cni::agent_protocol::{Attachment, Request, Response};
use podsg_cni::error::Code;
use podsg_cni::result::{CniResult, Interface, IpConfig};
use podsg_model::Catalog;
use podsg_model::decode::{Format, decode};
use podsg_model::world::InputChange;
use podsg_nft::ElementChange;
use podsg_nft::{Nft, Result as NftResult};
use std::sync::{Arc, Mutex};

/// What the agent asked of nftables.
#[derive(Clone, Debug, PartialEq)]
enum Call {
    Script(String),
    Elements(Vec<String>),
}

/// Records every transaction; the kernel starts with no table.
#[derive(Clone, Default)]
struct RecordingNft {
    calls: Arc<Mutex<Vec<Call>>>,
}

impl RecordingNft {
    fn take(&self) -> Vec<Call> {
        std::mem::take(&mut self.calls.lock().unwrap())
    }
}

impl Nft for RecordingNft {
    fn apply(&self, script: &str) -> NftResult<()> {
        self.calls.lock().unwrap().push(Call::Script(script.to_string()));
        Ok(())
    }
    fn list(&self) -> NftResult<Option<String>> {
        Ok(None)
    }
    fn elements(&self, changes: &[ElementChange]) -> NftResult<()> {
        let objects = changes.iter().map(|c| format!("{}{}", if c.delete { "-" } else { "+" }, c.object)).collect();
        self.calls.lock().unwrap().push(Call::Elements(objects));
        Ok(())
    }
    fn generation(&self) -> NftResult<u32> {
        Ok(self.calls.lock().unwrap().len() as u32)
    }
    fn list_counters(&self) -> NftResult<Vec<String>> {
        Ok(Vec::new())
    }
}

const WORLD: &str = r#"
apiVersion: podsg.io/v1alpha1
kind: SecurityGroup
metadata: {name: sg-0db}
spec:
  ingress: [{ipProtocol: tcp, fromPort: 5432, toPort: 5432, userIdGroupPairs: [{groupId: sg-0app}]}]
---
apiVersion: podsg.io/v1alpha1
kind: SecurityGroup
metadata: {name: sg-0app}
spec: {members: [10.9.0.1]}
---
apiVersion: vpcresources.k8s.aws/v1beta1
kind: SecurityGroupPolicy
metadata: {name: db, namespace: shop}
spec: {podSelector: {matchLabels: {app: db}}, securityGroups: {groupIds: [sg-0db]}}
---
apiVersion: vpcresources.k8s.aws/v1beta1
kind: SecurityGroupPolicy
metadata: {name: lost, namespace: shop}
spec: {podSelector: {matchLabels: {app: lost}}, securityGroups: {groupIds: [sg-0dead]}}
---
apiVersion: v1
kind: Pod
metadata: {name: db-1, namespace: shop, labels: {app: db}}
spec: {nodeName: node-1, containers: [{name: c, image: i}]}
---
apiVersion: v1
kind: Pod
metadata: {name: lost-1, namespace: shop, labels: {app: lost}}
spec: {nodeName: node-1, containers: [{name: c, image: i}]}
"#;

fn everything() -> Vec<InputChange> {
    let catalog = Catalog::build_lenient(decode(WORLD, "", Format::Yaml).objects).catalog;
    catalog.inputs().into_values().map(InputChange::Apply).collect()
}

fn agent(dir: &std::path::Path) -> (Agent<VethNft<RecordingNft>>, RecordingNft) {
    let nft = RecordingNft::default();
    let config = AgentConfig {
        node_name: "node-1".into(),
        node_address: "10.0.0.1".parse().unwrap(),
        pod_cidr: None,
        state_dir: dir.to_path_buf(),
        mode: None,
        node_netns: None,
        log_denied: Default::default(),
        pod_cidr6: None,
    };
    (Agent::new(config, nft.clone()).unwrap(), nft)
}

/// A chained ADD: the previous plugin made `host` with `address`.
fn chained_add(container: &str, pod: &str, host: &str, address: &str) -> Request {
    Request::Add(Attachment {
        container_id: container.into(),
        ifname: "eth0".into(),
        netns: Some("/run/netns/x".into()),
        pod_namespace: Some("shop".into()),
        pod_name: Some(pod.into()),
        prev_result: Some(CniResult {
            cni_version: "1.1.0".into(),
            interfaces: vec![Interface { name: host.into(), mac: String::new(), sandbox: String::new() }],
            ips: vec![IpConfig { address: format!("{address}/32"), gateway: String::new(), interface: Some(0) }],
            ..Default::default()
        }),
        requested_ip: None,
    })
}

fn scripts_mention(calls: &[Call], what: &str) -> bool {
    calls.iter().any(|c| matches!(c, Call::Script(s) if s.contains(what)))
}

#[test]
fn nothing_reaches_the_kernel_before_the_view_is_enforced_and_then_once() {
    let dir = tempfile::tempdir().unwrap();
    let (mut agent, nft) = agent(dir.path());
    agent.learn(everything());
    assert!(nft.take().is_empty(), "learning touches no kernel");
    assert!(!agent.knows_pod("shop", "db-1"), "a CNI ADD waits while the view is ahead of the kernel");
    assert_eq!(agent.wanted_groups(), [podsg_model::group::SgId::parse("sg-0app").unwrap()].into());
    agent.enforce().unwrap();
    let calls = nft.take();
    assert!(scripts_mention(&calls, "table inet podsg"), "the table is made at the first enforcement: {calls:?}");
    assert!(agent.knows_pod("shop", "db-1"));
    agent.enforce().unwrap();
    assert!(nft.take().is_empty(), "nothing learned, nothing written");
    agent.take(everything()).unwrap();
    assert!(nft.take().is_empty(), "the same objects again change nothing");
}

#[test]
fn a_pod_gets_its_rules_and_a_pod_whose_groups_cannot_be_resolved_gets_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut agent, nft) = agent(dir.path());
    agent.take(everything()).unwrap();
    nft.take();

    let lost = agent.handle(chained_add("c2", "lost-1", "veth-lost", "10.244.0.3"));
    let Response::Error(e) = lost else { panic!("{lost:?}") };
    assert_eq!(e.code, Code::GroupsUnresolved as u32);
    assert!(e.msg.contains("sg-0dead does not exist"), "{e}");
    assert!(nft.take().is_empty(), "a pod without its groups changes nothing in the kernel");

    let unknown = agent.handle(chained_add("c3", "nobody", "veth-x", "10.244.0.4"));
    let Response::Error(e) = unknown else { panic!("{unknown:?}") };
    assert!(e.msg.contains("not in podsg's desired state"), "{e}");

    let added = agent.handle(chained_add("c1", "db-1", "veth-db", "10.244.0.2"));
    let Response::Ok(Some(result)) = added else { panic!("{added:?}") };
    assert_eq!(result.interfaces[0].name, "veth-db", "chained: the previous plugin's result is passed on");
    let calls = nft.take();
    assert!(!calls.is_empty(), "the pod's rules were written");
    let elements: Vec<&String> = calls
        .iter()
        .flat_map(|c| match c {
            Call::Elements(e) => e.iter().collect(),
            Call::Script(_) => Vec::new(),
        })
        .collect();
    for object in ["+from_pod", "+to_pod", "+sources4"] {
        assert!(elements.iter().any(|e| *e == object), "the interface's entry in {object}: {calls:?}");
    }
    assert!(
        elements.iter().any(|e| e.starts_with("+in_") && e.ends_with("_h4")),
        "sg-0app's member in the set of the pod's ingress rule: {calls:?}"
    );

    // ADD again (the runtime retried): the same answer, no new transaction.
    let again = agent.handle(chained_add("c1", "db-1", "veth-db", "10.244.0.2"));
    assert!(matches!(again, Response::Ok(Some(_))), "{again:?}");
    assert!(nft.take().is_empty());

    // DEL: its rules go.
    let del = agent.handle(Request::Del(Attachment {
        container_id: "c1".into(),
        ifname: "eth0".into(),
        netns: None,
        pod_namespace: None,
        pod_name: None,
        prev_result: None,
        requested_ip: None,
    }));
    assert_eq!(del, Response::Ok(None));
    assert!(!nft.take().is_empty(), "the rules of a deleted pod are removed");
}

#[test]
fn standalone_mode_without_a_pod_range_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (mut agent, _) = agent(dir.path());
    agent.take(everything()).unwrap();
    let Request::Add(mut add) = chained_add("c1", "db-1", "veth-db", "10.244.0.2") else { unreachable!() };
    add.prev_result = None;
    let Response::Error(e) = agent.handle(Request::Add(add)) else { panic!("a standalone ADD without a range") };
    assert_eq!(e.code, Code::InvalidConfig as u32);
    assert!(e.msg.contains("no pod address range"), "{e}");
}
