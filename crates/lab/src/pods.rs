//! The lab's pods: planned from the manifests (controllers expand to their
//! replicas), wired by the real CNI plugin, and published as Pod manifests
//! with their addresses so that every node's agent sees every member.

use crate::error::{Error, Result, io};
use crate::layout::{node_address, node_name, pod_cidr, pod_netns, root};
use crate::state::{LabState, PodState};
use podsg_model::catalog::Catalog;
use podsg_model::workload::WorkloadKind;
use serde_json::{Value, json};
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// A pod the lab runs.
#[derive(Clone, Debug)]
pub struct Planned {
    pub namespace: String,
    pub name: String,
    pub owner: Option<String>,
    pub labels: std::collections::BTreeMap<String, String>,
    /// The pod's annotations (a controller's: its template's), which the
    /// agent reads (`podsg.io/log-denied`).
    pub annotations: std::collections::BTreeMap<String, String>,
    pub service_account: String,
    pub node: usize,
    /// The address the manifest names (`status.podIP`): the pod gets exactly it.
    pub address: Option<Ipv4Addr>,
    /// Its containers' ports (Services' named target ports).
    pub ports: Vec<podsg_model::workload::ContainerPortInfo>,
}

/// The one IPv4 address a Pod manifest names, if any, or why the lab
/// cannot give it.
fn manifest_address(w: &podsg_model::workload::Workload) -> Result<Option<Ipv4Addr>> {
    let v4: Vec<Ipv4Addr> = w
        .addresses
        .iter()
        .filter_map(|a| match a {
            IpAddr::V4(a) => Some(*a),
            IpAddr::V6(_) => None,
        })
        .collect();
    if let Some(v6) = w.addresses.iter().find(|a| a.is_ipv6()) {
        return Err(Error::Manifests(format!(
            "{}: status.podIPs {v6}: the lab gives pods IPv4 addresses only; remove the IPv6 address or the status",
            w.key()
        )));
    }
    match v4.as_slice() {
        [] => Ok(None),
        [a] => Ok(Some(*a)),
        many => Err(Error::Manifests(format!(
            "{}: status.podIPs has {} IPv4 addresses ({}); a pod has one",
            w.key(),
            many.len(),
            many.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// Every pod of the manifests, placed on nodes (`spec.nodeName` when it
/// names a lab node, else round robin; a DaemonSet gets one pod per node).
/// A pod whose manifest names an address in a node's pod range lives on
/// that node (so that node's allocator never hands the address to another
/// pod); any other address is routed to the pod's node by /32 routes.
pub fn plan(catalog: &Catalog, nodes: usize) -> Result<Vec<Planned>> {
    let mut out = Vec::new();
    let mut next = 0usize;
    let mut place = |wanted: Option<&str>| -> Result<usize> {
        if let Some(n) = wanted {
            return (1..=nodes).find(|i| node_name(*i) == n).ok_or_else(|| {
                Error::Manifests(format!("spec.nodeName {n}: the lab's nodes are node1 to node{nodes}"))
            });
        }
        next += 1;
        Ok((next - 1) % nodes + 1)
    };
    let mut taken: std::collections::BTreeMap<Ipv4Addr, String> =
        (1..=nodes).map(|i| (node_address(i), format!("lab node {}", node_name(i)))).collect();
    for g in catalog.groups.values() {
        for m in &g.members {
            if let IpAddr::V4(a) = m.address {
                taken.insert(a, format!("a member of {}", g.id));
            }
        }
    }
    for w in &catalog.workloads {
        if w.host_network {
            return Err(Error::Manifests(format!("{}: hostNetwork pods are not supported by the lab", w.key())));
        }
        let owner = (w.kind != WorkloadKind::Pod).then(|| format!("{}/{}", w.kind, w.name));
        let address = if w.kind == WorkloadKind::Pod { manifest_address(w)? } else { None };
        if let Some(a) = address {
            if let Some(holder) = taken.insert(a, w.key().to_string()) {
                return Err(Error::Manifests(format!("{}: status.podIP {a} is already {holder}", w.key())));
            }
            if (1..=nodes).any(|i| a == pod_cidr(i).network() || a == pod_cidr(i).broadcast()) {
                return Err(Error::Manifests(format!(
                    "{}: status.podIP {a} is the network or broadcast address of a lab node's pod range",
                    w.key()
                )));
            }
        }
        let home = address.and_then(|a| (1..=nodes).find(|i| pod_cidr(*i).contains(&a)));
        let names: Vec<(String, usize)> = match w.kind {
            WorkloadKind::Pod => match (home, w.node_name.as_deref()) {
                (Some(i), Some(n)) if n != node_name(i) => {
                    return Err(Error::Manifests(format!(
                        "{}: status.podIP {} is in {}'s pod range {}, but spec.nodeName is {n}",
                        w.key(),
                        address.expect("home comes from it"),
                        node_name(i),
                        pod_cidr(i)
                    )));
                }
                (Some(i), _) => vec![(w.name.clone(), i)],
                (None, wanted) => vec![(w.name.clone(), place(wanted)?)],
            },
            WorkloadKind::DaemonSet => (1..=nodes).map(|i| (format!("{}-{}", w.name, node_name(i)), i)).collect(),
            _ => (0..w.replicas)
                .map(|i| Ok((format!("{}-{i}", w.name), place(w.node_name.as_deref())?)))
                .collect::<Result<_>>()?,
        };
        for (name, node) in names {
            out.push(Planned {
                namespace: w.namespace.clone(),
                name,
                owner: owner.clone(),
                labels: w.labels.clone(),
                annotations: w.annotations.clone(),
                service_account: w.service_account.clone(),
                node,
                address,
                ports: w.ports.clone(),
            });
        }
    }
    Ok(out)
}

pub fn cluster_dir() -> PathBuf {
    root().join("cluster")
}

/// Writes the pods as Pod manifests (with their addresses once known) for the agents.
pub fn publish(planned: &[Planned], state: &LabState) -> Result<()> {
    let dir = cluster_dir();
    std::fs::create_dir_all(&dir).map_err(io(dir.display().to_string()))?;
    let docs: Vec<String> = planned
        .iter()
        .map(|p| {
            let address = state.pod(&p.namespace, &p.name).and_then(|s| s.address);
            let mut pod = json!({
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": p.name, "namespace": p.namespace, "labels": p.labels, "annotations": p.annotations},
                "spec": {"nodeName": node_name(p.node), "serviceAccountName": p.service_account},
            });
            if let Some(a) = address {
                let mut ips = vec![json!({"ip": a.to_string()})];
                ips.extend(state.pod(&p.namespace, &p.name).and_then(|s| s.address6).map(|a| json!({"ip": a.to_string()})));
                pod["status"] = json!({"podIP": a.to_string(), "podIPs": ips});
            }
            podsg_model::yaml::to_yaml(&pod).expect("pods serialize")
        })
        .collect();
    let path = dir.join("pods.yaml");
    let staged = dir.join(".pods.yaml.tmp");
    std::fs::write(&staged, format!("# Generated by podsg lab: the lab's pods.\n{}", docs.join("---\n")))
        .map_err(io(staged.display().to_string()))?;
    std::fs::rename(&staged, &path).map_err(io(path.display().to_string()))
}

/// The CNI plugin next to this program.
pub fn plugin() -> Result<PathBuf> {
    let exe = std::env::current_exe().map_err(io("current executable"))?;
    let plugin = exe.with_file_name("podsg-cni");
    if plugin.exists() {
        Ok(plugin)
    } else {
        Err(Error::Step(format!(
            "{}: the CNI plugin is missing (build it with cargo build -p podsg)",
            plugin.display()
        )))
    }
}

/// Runs the plugin inside the node's namespace, as kubelet's runtime would.
pub fn cni(state: &LabState, pod: &PodState, command: &str) -> Result<Value> {
    let node = &state.nodes[pod.node - 1];
    let config = json!({"cniVersion": "1.1.0", "name": "podsg-lab", "type": "podsg", "agentSocket": node.socket});
    let mut args = format!("K8S_POD_NAMESPACE={};K8S_POD_NAME={}", pod.namespace, pod.name);
    if let Some(a) = pod.requested {
        args.push_str(&format!(";IP={a}"));
    }
    let netns = format!("/run/netns/{}", pod.netns);
    let mut child = Command::new("ip")
        .args(["netns", "exec", &node.netns])
        .arg(plugin()?)
        .env("CNI_COMMAND", command)
        .env("CNI_CONTAINERID", &pod.container_id)
        .env("CNI_NETNS", &netns)
        .env("CNI_IFNAME", "eth0")
        .env("CNI_ARGS", &args)
        .env("CNI_PATH", "/opt/cni/bin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(io("podsg-cni"))?;
    child.stdin.take().expect("piped").write_all(config.to_string().as_bytes()).map_err(io("podsg-cni stdin"))?;
    let out = child.wait_with_output().map_err(io("podsg-cni"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let value: Value = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text.to_string()))
    };
    if out.status.success() {
        Ok(value)
    } else {
        Err(Error::Step(format!("CNI {command} {}/{}: {}", pod.namespace, pod.name, value)))
    }
}

/// ADD: the pod's namespace exists; returns its IPv4 address and, in a
/// dual-stack lab, its IPv6 address.
pub fn add(state: &LabState, pod: &PodState) -> Result<(IpAddr, Option<std::net::Ipv6Addr>)> {
    let result = cni(state, pod, "ADD")?;
    let addresses: Vec<IpAddr> = result["ips"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|ip| ip["address"].as_str().and_then(|a| a.split('/').next()).and_then(|a| a.parse().ok()))
        .collect();
    let v4 = addresses.iter().copied().find(IpAddr::is_ipv4);
    let v6 = addresses.iter().find_map(|a| match a {
        IpAddr::V6(a) => Some(*a),
        IpAddr::V4(_) => None,
    });
    let v4 =
        v4.ok_or_else(|| Error::Step(format!("CNI ADD {}/{}: no address in {result}", pod.namespace, pod.name)))?;
    Ok((v4, v6))
}

pub fn new_pod(p: &Planned) -> PodState {
    PodState {
        namespace: p.namespace.clone(),
        name: p.name.clone(),
        owner: p.owner.clone(),
        node: p.node,
        netns: pod_netns(&p.namespace, &p.name),
        container_id: format!("lab-{}-{}", p.namespace, p.name),
        address: None,
        requested: p.address,
        address6: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use podsg_model::fixtures::catalog_of;

    fn catalog(pods: &str) -> Catalog {
        catalog_of(&format!(
            "apiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata: {{name: sg-0a}}\nspec: {{members: [10.0.5.10]}}\n{pods}"
        ))
    }

    fn pod(name: &str, node: Option<&str>, status: &str) -> String {
        let spec = node.map(|n| format!("spec: {{nodeName: {n}}}\n")).unwrap_or_default();
        format!("---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: ns}}\n{spec}{status}\n")
    }

    fn error(pods: &str) -> String {
        plan(&catalog(pods), 2).unwrap_err().to_string()
    }

    #[test]
    fn a_manifest_address_is_kept_and_picks_its_node() {
        let planned = plan(
            &catalog(
                &[
                    pod("in-range", None, "status: {podIP: 10.244.2.9}"),
                    pod("routed", Some("node1"), "status: {podIP: 192.168.7.7}"),
                    pod("free", None, ""),
                ]
                .concat(),
            ),
            2,
        )
        .unwrap();
        let got: Vec<(String, usize, Option<String>)> =
            planned.iter().map(|p| (p.name.clone(), p.node, p.address.map(|a| a.to_string()))).collect();
        assert_eq!(
            got,
            vec![
                ("in-range".to_string(), 2, Some("10.244.2.9".to_string())),
                ("routed".to_string(), 1, Some("192.168.7.7".to_string())),
                ("free".to_string(), 1, None),
            ]
        );
    }

    #[test]
    fn addresses_the_lab_cannot_give_are_refused_clearly() {
        let cases = [
            (pod("a", None, "status: {podIPs: [{ip: 10.244.1.5}, {ip: 'fd00::5'}]}"), "IPv4 addresses only"),
            (pod("a", None, "status: {podIPs: [{ip: 10.244.1.5}, {ip: 10.244.1.6}]}"), "a pod has one"),
            (pod("a", Some("node1"), "status: {podIP: 10.244.2.9}"), "is in node2's pod range 10.244.2.0/24"),
            (pod("a", None, "status: {podIP: 10.0.3.11}"), "already lab node node1"),
            (pod("a", None, "status: {podIP: 10.0.5.10}"), "already a member of sg-0a"),
            (pod("a", None, "status: {podIP: 10.244.1.0}"), "network or broadcast"),
            (
                [pod("a", None, "status: {podIP: 10.9.9.9}"), pod("b", None, "status: {podIP: 10.9.9.9}")].concat(),
                "already Pod/ns/a",
            ),
        ];
        for (pods, expected) in cases {
            let e = error(&pods);
            assert!(e.contains(expected), "{pods}: {e}");
        }
    }
}
