//! The warnings and notes of `podsg check`, on small catalogs.

use podsg_model::decode::{Format, decode};
use podsg_model::lint::lint;
use podsg_model::settings::EnforcingMode;
use podsg_model::{Catalog, Severity};

const GROUPS: &str = "apiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata: {name: sg-0a}\nspec: {ingress: [{ipProtocol: tcp, fromPort: 80, toPort: 80, userIdGroupPairs: [{groupId: sg-0a}]}]}\n";
const POLICY: &str = "apiVersion: vpcresources.k8s.aws/v1beta1\nkind: SecurityGroupPolicy\nmetadata: {name: web, namespace: ns}\nspec: {podSelector: {matchLabels: {app: web}}, securityGroups: {groupIds: [sg-0a]}}\n";

fn findings(extra: &str, mode: EnforcingMode) -> Vec<(Severity, String)> {
    let text = format!("{GROUPS}---\n{POLICY}---\n{extra}");
    let decoded = decode(&text, "t.yaml", Format::Yaml);
    assert!(decoded.diagnostics.is_empty(), "{:?}", decoded.diagnostics);
    let loaded = Catalog::build(decoded.objects).unwrap_or_else(|e| panic!("{e:?}"));
    let mut all = loaded.diagnostics;
    all.extend(lint(&loaded.catalog, mode));
    podsg_model::decode::locate(&text, "t.yaml", &mut all);
    all.into_iter().map(|d| (d.severity, d.to_string())).collect()
}

#[test]
fn host_network_pods_are_not_selectable() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: agent, namespace: ns, labels: {app: web}}\nspec: {hostNetwork: true}\n";
    let found = findings(pod, EnforcingMode::Strict);
    assert!(found.contains(&(Severity::Warning, "t.yaml:11:1: Pod/ns/agent: uses hostNetwork, so SecurityGroupPolicy web cannot apply: it shares the node's address and groups".into())), "{found:?}");
    // The SGP still selects the pod by its labels, so it is not reported as selecting nothing.
    assert!(!found.iter().any(|(_, m)| m.contains("selects no pod")), "{found:?}");
}

#[test]
fn unknown_service_accounts_are_noted() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns, labels: {app: web}}\nspec: {serviceAccountName: builder}\n";
    // Without an SGP that selects by service account, it does not matter.
    let found = findings(pod, EnforcingMode::Strict);
    assert!(!found.iter().any(|(_, m)| m.contains("ServiceAccount")), "{found:?}");
    let by_account = "---\napiVersion: vpcresources.k8s.aws/v1beta1\nkind: SecurityGroupPolicy\nmetadata: {name: sa, namespace: ns}\nspec: {serviceAccountSelector: {matchLabels: {role: ci}}, securityGroups: {groupIds: [sg-0a]}}\n";
    let found = findings(&format!("{pod}{by_account}"), EnforcingMode::Strict);
    assert!(found.contains(&(Severity::Note, "t.yaml:11:1: Pod/ns/p: uses ServiceAccount ns/builder, which is not in the manifests: serviceAccountSelectors were matched against no labels".into())), "{found:?}");
}

#[test]
fn without_a_cluster_dns_the_dns_check_says_it_did_not_run() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns, labels: {app: web}}\n";
    let found = findings(pod, EnforcingMode::Strict);
    assert!(found.iter().any(|(s, m)| *s == Severity::Note && m.starts_with("no cluster DNS found")), "{found:?}");
}

#[test]
fn named_probe_ports_resolve_and_unknown_names_warn() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns, labels: {app: web}}\nspec:\n  containers:\n  - name: c\n    ports: [{name: http, containerPort: 8080}]\n    livenessProbe: {httpGet: {port: http}}\n    readinessProbe: {tcpSocket: {port: admin}}\n    startupProbe: {grpc: {port: 80}}\n";
    let found = findings(pod, EnforcingMode::Strict);
    assert!(found.contains(&(Severity::Warning, "t.yaml:19:34: Pod/ns/p: spec.containers[0].readinessProbe.tcpSocket.port: admin: no container port has this name; the probe cannot connect".into())), "{found:?}");
    assert!(
        found
            .iter()
            .any(|(_, m)| m.contains("livenessProbe of container c (httpGet port 8080) is blocked in strict mode")),
        "{found:?}"
    );
    assert!(
        found.iter().any(|(_, m)| m.contains("startupProbe of container c (grpc port 80) is blocked in strict mode")),
        "{found:?}"
    );
    let standard = findings(pod, EnforcingMode::Standard);
    assert!(!standard.iter().any(|(_, m)| m.contains("blocked")), "{standard:?}");
}

#[test]
fn probes_kubelet_does_not_send_to_the_pod_are_not_warned_and_sidecars_are() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns, labels: {app: web}}\nspec:\n  containers:\n  - name: c\n    livenessProbe: {httpGet: {host: 127.0.0.1, port: 8080}}\n  initContainers:\n  - name: proxy\n    restartPolicy: Always\n    readinessProbe: {tcpSocket: {port: 15021}}\n  - name: setup\n    readinessProbe: {tcpSocket: {port: 9}}\n";
    let found = findings(pod, EnforcingMode::Strict);
    let probes: Vec<&String> = found.iter().map(|(_, m)| m).filter(|m| m.contains("Probe of container")).collect();
    assert_eq!(probes.len(), 1, "{found:?}");
    assert!(probes[0].contains("readinessProbe of container proxy (tcpSocket port 15021) is blocked"), "{probes:?}");
}

#[test]
fn a_templates_probe_problem_is_said_once_on_its_controller() {
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: ns}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - {name: c, readinessProbe: {tcpSocket: {port: 8080}}}\n";
    let pod = |name: &str, owner: &str| {
        format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: ns\n  labels: {{app: web, pod-template-hash: 7d9c8b6f5}}\n  ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: {owner}, uid: x, controller: true}}]\nspec:\n  containers:\n  - {{name: c, readinessProbe: {{tcpSocket: {{port: 8080}}}}}}\n"
        )
    };
    // The ReplicaSet is not in the dump: its name leads to the Deployment.
    let text = format!(
        "{deployment}{}{}",
        pod("web-7d9c8b6f5-x2x9z", "web-7d9c8b6f5"),
        pod("web-7d9c8b6f5-a1b2c", "web-7d9c8b6f5")
    );
    let found = findings(&text, EnforcingMode::Strict);
    let probes: Vec<&String> = found.iter().map(|(_, m)| m).filter(|m| m.contains("is blocked")).collect();
    assert_eq!(probes.len(), 1, "{found:?}");
    assert!(probes[0].contains("Deployment/ns/web: readinessProbe of container c"), "{probes:?}");
    // A pod of some other controller is its own report.
    let orphan = pod("other-5f4d-zzzzz", "other-5f4d");
    let found = findings(&format!("{deployment}{orphan}"), EnforcingMode::Strict);
    assert_eq!(found.iter().filter(|(_, m)| m.contains("is blocked")).count(), 2, "{found:?}");
}

#[test]
fn services_that_reach_no_pod_are_warned_about() {
    let pods = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: ns}\nspec:\n  replicas: 2\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: old, namespace: ns, labels: {app: web}}\n";
    let services = "---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: ns}\nspec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: gone, namespace: ns}\nspec: {selector: {app: gone}, ports: [{port: 80}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: manual, namespace: ns}\nspec: {ports: [{port: 80}]}\n";
    let found = findings(&format!("{pods}{services}"), EnforcingMode::Strict);
    let about: Vec<&(Severity, String)> = found.iter().filter(|(_, m)| m.contains(": Service/")).collect();
    assert_eq!(
        about,
        [
            &(Severity::Warning, "t.yaml:24:1: Service/ns/web: port 80/TCP -> http: Pod/ns/old has no TCP container port named http; kube-proxy sends this port to its other backends only".to_string()),
            &(Severity::Warning, "t.yaml:29:1: Service/ns/gone: selects no pod or workload in namespace ns: connections to it are refused".to_string()),
            &(Severity::Note, "t.yaml:34:1: Service/ns/manual: has no selector: its endpoints are written outside the manifests, so podsg cannot say which pods serve it".to_string()),
        ],
        "{found:?}"
    );
}
