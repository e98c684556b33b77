//! `deploy/` as `kubectl kustomize` renders it (the real kubectl): every
//! overlay renders; the CRDs are the generated ones; the controller's RBAC
//! is exactly what its code asks of the API server (recorded here from
//! the requests it makes to the mock API server, not listed by hand); the
//! webhook configuration fails closed, and its matchConditions (evaluated
//! by a CEL interpreter) send the webhook every request it would deny.

use http::{Request, Response, StatusCode};
use k8s_openapi::api::core::v1::{Namespace, Node, Pod, ServiceAccount};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Client;
use kube::api::Api;
use kube::client::Body;
use kube_cel::{AdmissionRequest as CelRequest, GroupVersionKind, GroupVersionResource, VapEvaluator, VapExpression};
use podsg_k8s::controller::{Metrics, PodEvent, Shared, State, Watched, Write, Writer, feed};
use podsg_k8s::crd;
use podsg_k8s::sgp_api::SgpApi;
use podsg_k8s::webhook::{Rules, review};
use podsg_model::group::SgId;
use podsg_model::settings::Settings;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

const OVERLAYS: [&str; 4] = ["base", "overlays/cert-manager", "overlays/eks-new-pods", "overlays/standalone"];
const CONTROLLER_USER: &str = "system:serviceaccount:podsg-system:podsg-controller";

/// The objects `kubectl kustomize deploy/DIR` renders.
fn render(dir: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy").join(dir);
    let output = std::process::Command::new("kubectl")
        .args(["kustomize", path.to_str().unwrap()])
        .output()
        .unwrap_or_else(|e| panic!("kubectl (Debian package kubectl, installed by scripts/setup.sh): {e}"));
    assert!(output.status.success(), "kubectl kustomize {dir}: {}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    let mut objects = Vec::new();
    podsg_model::yaml::read_whole(&text, |unit| {
        if let podsg_model::yaml::Unit::Document { node, problems, .. } = unit {
            assert!(problems.is_empty(), "{dir}: {problems:?}");
            objects.push(podsg_model::decode::typed_node::<Value>(&node).unwrap());
        }
    })
    .unwrap();
    objects
}

fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

#[test]
fn every_overlay_renders_with_the_generated_crds() {
    let generated: BTreeMap<String, CustomResourceDefinition> =
        podsg_k8s::crd::crds().into_iter().map(|c| (c.metadata.name.clone().unwrap(), c)).collect();
    for dir in OVERLAYS {
        let objects = render(dir);
        let crds: BTreeMap<String, CustomResourceDefinition> = objects
            .iter()
            .filter(|o| o["kind"] == "CustomResourceDefinition")
            .map(|o| (o["metadata"]["name"].as_str().unwrap().to_string(), serde_json::from_value(o.clone()).unwrap()))
            .collect();
        assert_eq!(crds.keys().collect::<Vec<_>>(), generated.keys().collect::<Vec<_>>(), "{dir}");
        for (name, crd) in &crds {
            assert!(crd == &generated[name], "{dir}: {name} is not the generated CRD");
        }
        for o in objects.iter().filter(|o| o["kind"] != "CustomResourceDefinition") {
            let namespaced = !["Namespace", "ClusterRole", "ClusterRoleBinding", "ValidatingWebhookConfiguration"]
                .contains(&o["kind"].as_str().unwrap());
            if namespaced {
                assert_eq!(o["metadata"]["namespace"], "podsg-system", "{dir}: {}", o["metadata"]["name"]);
            }
        }
        for name in ["podsg-controller", "podsg-webhook"] {
            let deployment = find(&objects, "Deployment", name);
            assert_eq!(deployment["spec"]["replicas"], 2, "{dir}: {name}");
            let image = deployment["spec"]["template"]["spec"]["containers"][0]["image"].as_str().unwrap();
            assert_eq!(image, format!("ghcr.io/podsg/podsg:{}", env!("CARGO_PKG_VERSION")), "{dir}: {name}");
            find(&objects, "PodDisruptionBudget", name);
        }
    }
}

// --- RBAC from the requests the controller makes ---

/// (API group, resource[/subresource], verb) of a request.
fn permission(method: &str, path: &str, query: &str) -> (String, String, String) {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (group, rest) = match parts[0] {
        "api" => (String::new(), &parts[2..]),
        "apis" => (parts[1].to_string(), &parts[3..]),
        other => panic!("not an API path: {other}"),
    };
    let rest: Vec<&str> =
        if rest.first() == Some(&"namespaces") && rest.len() > 2 { rest[2..].to_vec() } else { rest.to_vec() };
    let resource = match rest.as_slice() {
        [resource] | [resource, _] => resource.to_string(),
        [resource, _, sub] => format!("{resource}/{sub}"),
        other => panic!("unexpected path {other:?}"),
    };
    let named = rest.len() >= 2;
    let verb = match (method, named) {
        ("GET", false) if query.contains("watch=true") => "watch",
        ("GET", false) => "list",
        ("GET", true) => "get",
        ("POST", _) => "create",
        ("PATCH", _) => "patch",
        ("PUT", _) => "update",
        ("DELETE", _) => "delete",
        other => panic!("unexpected request {other:?}"),
    };
    (group, resource, verb.to_string())
}

type Recorded = Arc<Mutex<BTreeSet<(String, String, String)>>>;

/// A mock API server that records every request's permission and answers
/// as the API server would: empty lists, watches that end, 404 for a
/// Lease that does not exist yet, and writes echoed back.
fn recording_client() -> (Client, Recorded) {
    let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let recorded: Recorded = Arc::default();
    let log = recorded.clone();
    tokio::spawn(async move {
        // The Lease as stored: created by the first write, then patched.
        let mut stored: Option<Value> = None;
        while let Some((request, send)) = handle.next_request().await {
            let (method, path) = (request.method().to_string(), request.uri().path().to_string());
            let query = request.uri().query().unwrap_or("").to_string();
            let permission = permission(&method, &path, &query);
            let apply = request.headers().get("content-type").is_some_and(|v| v == "application/apply-patch+yaml");
            if apply && !permission.1.contains('/') {
                // A server-side apply that finds no object creates it, and
                // the API server authorizes it as `create` then.
                log.lock().unwrap().insert((permission.0.clone(), permission.1.clone(), "create".into()));
            }
            log.lock().unwrap().insert(permission);
            let body = request.into_body().collect_bytes().await.unwrap();
            let mut object: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
            let name = path.rsplit('/').find(|s| *s != "status").unwrap().to_string();
            let (status, answer) = match method.as_str() {
                "GET" if query.contains("watch=true") => (StatusCode::OK, String::new()),
                "GET" if path.contains("/leases/") && stored.is_none() => (
                    StatusCode::NOT_FOUND,
                    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404})
                        .to_string(),
                ),
                "GET" if path.contains("/leases/") => (StatusCode::OK, stored.clone().unwrap().to_string()),
                "GET" if path.contains("/nodes/") => (StatusCode::OK, json!({"apiVersion": "v1", "kind": "Node",
                    "metadata": {"name": name}, "spec": {"podCIDR": "10.1.0.0/24"}}).to_string()),
                "GET" if path.contains("/pods/") => (StatusCode::OK, json!({"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": name, "namespace": "prod", "uid": "u"}}).to_string()),
                "GET" => (StatusCode::OK, json!({"metadata": {"resourceVersion": "1"}, "items": []}).to_string()),
                "DELETE" => (StatusCode::OK, json!({"kind": "Status", "apiVersion": "v1", "status": "Success"}).to_string()),
                _ => {
                    if path.contains("/leases") {
                        let mut lease = stored.take().unwrap_or_else(|| lease(&name));
                        if let Some(spec) = object.get("spec").and_then(Value::as_object) {
                            for (k, v) in spec {
                                lease["spec"][k] = v.clone();
                            }
                        }
                        stored = Some(lease.clone());
                        object = lease;
                    }
                    object["metadata"]["name"] = json!(name);
                    if path.contains("securitygroups/") {
                        object["spec"] = json!({});
                    }
                    (StatusCode::OK, object.to_string())
                }
            };
            send.send_response(Response::builder().status(status).body(Body::from(answer.into_bytes())).unwrap());
        }
    });
    (Client::new(service, "podsg-system"), recorded)
}

fn lease(name: &str) -> Value {
    json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
           "metadata": {"name": name, "namespace": "podsg-system", "resourceVersion": "1"}, "spec": {}})
}

/// Lists and watches one kind until its first watch request.
async fn watch_once<K: Watched<DynamicType = ()>>(client: &Client) {
    let shared = Arc::new(Shared::new(State::new(Settings::default(), None, String::new)));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(feed(Api::<K>::all(client.clone()), shared, Arc::new(Metrics::default()), move || {
        let _ = tx.send(());
    }));
    rx.recv().await.expect("the watch listed");
    task.abort();
}

/// Every request the controller's code makes: each watch, each kind of
/// write, the re-read after a conflict, and leader election.
async fn controller_permissions() -> BTreeSet<(String, String, String)> {
    let (client, recorded) = recording_client();
    watch_once::<Pod>(&client).await;
    watch_once::<crd::SecurityGroupPolicy>(&client).await;
    watch_once::<crd::tke::SecurityGroupPolicy>(&client).await;
    watch_once::<crd::SecurityGroup>(&client).await;
    watch_once::<ServiceAccount>(&client).await;
    watch_once::<Namespace>(&client).await;
    watch_once::<Node>(&client).await;
    watch_once::<crd::MemberSlice>(&client).await;
    let writer = Writer::new(client.clone(), "podsg-controller-0".into());
    let (namespace, name, uid) = ("prod".to_string(), "p".to_string(), "u".to_string());
    let writes = [
        Write::PodAnnotation {
            namespace: namespace.clone(),
            name: name.clone(),
            uid: uid.clone(),
            value: Some("[]".into()),
        },
        Write::PodEvent {
            namespace: namespace.clone(),
            name: name.clone(),
            uid,
            event: PodEvent::requested(&["sg-1"]),
        },
        Write::PolicyStatus {
            api: SgpApi::Eks,
            namespace: namespace.clone(),
            name: name.clone(),
            status: Default::default(),
        },
        Write::PolicyStatus {
            api: SgpApi::Tke,
            namespace: namespace.clone(),
            name: name.clone(),
            status: Default::default(),
        },
        Write::GroupStatus { name: "sg-1".into(), status: Default::default() },
        Write::PutSlice {
            group: SgId::parse("sg-1").unwrap(),
            index: 0,
            addresses: ["10.0.0.1".parse().unwrap()].into(),
        },
        Write::DeleteSlice { name: "sg-1-1".into() },
    ];
    for write in &writes {
        writer.write(write).await.unwrap_or_else(|e| panic!("{write:?}: {e}"));
    }
    Api::<Pod>::namespaced(client.clone(), &namespace).get(&name).await.unwrap();
    let lease = kube_lease_manager::LeaseManagerBuilder::new(client.clone(), "podsg-controller")
        .with_namespace("podsg-system")
        .with_identity("podsg-controller-0")
        .build()
        .await
        .unwrap();
    lease.changed().await.unwrap();
    lease.release().await.unwrap();
    recorded.lock().unwrap().clone()
}

/// Every request the agent's code makes: its Node, its watches (the
/// slices' once it needs a group).
async fn agent_permissions() -> BTreeSet<(String, String, String)> {
    use podsg_agent::Source;
    let (client, recorded) = recording_client();
    let range = podsg_k8s::agent_source::read_pod_cidr(client.clone(), "node-1").await.unwrap();
    assert_eq!(range, (Some("10.1.0.0/24".parse().unwrap()), None));
    let mut source =
        podsg_k8s::agent_source::KubeSource::start(move || async move { Ok(client) }, "node-1", Settings::default())
            .unwrap();
    // Kept until the end: the slice watch stops with the source.
    let _source = tokio::task::spawn_blocking(move || {
        source.next().expect("the first report");
        assert!(source.want_members(&[SgId::parse("sg-1").unwrap()].into()), "the slices are fetched");
        source.next().expect("the slices listed");
        source
    })
    .await
    .unwrap();
    // Each list is followed by its watch, a moment later.
    let start = std::time::Instant::now();
    loop {
        let seen = recorded.lock().unwrap().clone();
        let lists = seen.iter().filter(|(_, _, v)| v == "list");
        if lists.clone().all(|(g, r, _)| seen.contains(&(g.clone(), r.clone(), "watch".to_string()))) {
            return seen;
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "a list without its watch: {seen:?}");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn the_agent_may_do_exactly_what_its_code_does_and_writes_nothing() {
    let used = agent_permissions().await;
    let objects = render("base");
    let granted = rules(find(&objects, "ClusterRole", "podsg-agent"));
    assert_eq!(granted, used, "deploy/base/agent/rbac.yaml against the requests the agent makes");
    assert!(used.iter().all(|(_, _, verb)| ["get", "list", "watch"].contains(&verb.as_str())), "{used:?}");
    let binding = find(&objects, "ClusterRoleBinding", "podsg-agent");
    assert_eq!(
        binding["subjects"],
        json!([{"kind": "ServiceAccount", "name": "podsg-agent", "namespace": "podsg-system"}])
    );
}

#[test]
fn the_agent_runs_on_every_node_in_its_network_with_two_capabilities() {
    for dir in OVERLAYS {
        let objects = render(dir);
        let daemonset = find(&objects, "DaemonSet", "podsg-agent");
        let spec = &daemonset["spec"]["template"]["spec"];
        assert_eq!(spec["hostNetwork"], true, "{dir}");
        assert_eq!(spec["tolerations"], json!([{"operator": "Exists"}]), "{dir}: every node");
        let agent = &spec["containers"][0];
        assert_eq!(agent["image"], format!("ghcr.io/podsg/podsg:{}", env!("CARGO_PKG_VERSION")), "{dir}");
        assert_eq!(
            agent["securityContext"]["capabilities"],
            json!({"drop": ["ALL"], "add": ["NET_ADMIN", "SYS_ADMIN"]})
        );
        assert!(agent["securityContext"]["privileged"].is_null(), "{dir}: not privileged");
        assert_eq!(agent["readinessProbe"]["exec"]["command"][1], "ready", "{dir}");
        let install = &spec["initContainers"][0];
        assert_eq!(install["securityContext"]["capabilities"], json!({"drop": ["ALL"]}), "{dir}");
        let mode = if dir == "overlays/standalone" { "--mode=standalone" } else { "--mode=chained" };
        assert_eq!(install["args"][1], mode, "{dir}");
        let paths: BTreeSet<&str> =
            spec["volumes"].as_array().unwrap().iter().map(|v| v["hostPath"]["path"].as_str().unwrap()).collect();
        assert_eq!(paths, ["/etc/cni/net.d", "/opt/cni/bin", "/run/podsg", "/var/lib/podsg", "/var/run/netns"].into());
    }
}

/// The rules of a rendered (Cluster)Role, one (group, resource, verb) each.
fn rules(role: &Value) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    for rule in role["rules"].as_array().unwrap() {
        for group in rule["apiGroups"].as_array().unwrap() {
            for resource in rule["resources"].as_array().unwrap() {
                for verb in rule["verbs"].as_array().unwrap() {
                    out.insert((
                        group.as_str().unwrap().to_string(),
                        resource.as_str().unwrap().to_string(),
                        verb.as_str().unwrap().to_string(),
                    ));
                }
            }
        }
    }
    out
}

#[tokio::test]
async fn the_controller_may_do_exactly_what_its_code_does() {
    let used = controller_permissions().await;
    let objects = render("base");
    let cluster = rules(find(&objects, "ClusterRole", "podsg-controller"));
    let lease = rules(find(&objects, "Role", "podsg-controller-lease"));
    let granted: BTreeSet<_> = cluster.union(&lease).cloned().collect();
    assert_eq!(granted, used, "deploy/base/controller/rbac.yaml against the requests the controller makes");
    assert!(
        lease.iter().all(|(g, r, _)| g == "coordination.k8s.io" && r == "leases"),
        "the Role is for the Lease only"
    );
    assert!(!used.iter().any(|(_, r, v)| r == "pods" && ["create", "delete", "update"].contains(&v.as_str())));
    // Bound to the controller's ServiceAccount, the webhook's has none.
    for (kind, name) in [("ClusterRoleBinding", "podsg-controller"), ("RoleBinding", "podsg-controller-lease")] {
        let binding = find(&objects, kind, name);
        assert_eq!(
            binding["subjects"],
            json!([{"kind": "ServiceAccount", "name": "podsg-controller", "namespace": "podsg-system"}])
        );
    }
    let webhook_sa = find(&objects, "ServiceAccount", "podsg-webhook");
    assert_eq!(webhook_sa["automountServiceAccountToken"], false);
}

// --- The webhook configuration ---

fn pod(annotation: Option<&str>) -> Value {
    let mut pod =
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "prod"}, "spec": {}});
    if let Some(a) = annotation {
        pod["metadata"]["annotations"] = json!({"vpc.amazonaws.com/pod-eni": a});
    }
    pod
}

#[test]
fn the_webhook_fails_closed_and_sees_every_request_it_would_deny() {
    let objects = render("base");
    let configuration = find(&objects, "ValidatingWebhookConfiguration", "podsg");
    let service = find(&objects, "Service", "podsg-webhook");
    let deployment = find(&objects, "Deployment", "podsg-webhook");
    let args: Vec<&str> = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(args.contains(&format!("--controller-user={CONTROLLER_USER}").as_str()), "{args:?}");
    let mut pod_webhook = None;
    for webhook in configuration["webhooks"].as_array().unwrap() {
        let name = webhook["name"].as_str().unwrap();
        assert_eq!(webhook["failurePolicy"], "Fail", "{name}");
        assert_eq!(webhook["sideEffects"], "None", "{name}");
        let to = &webhook["clientConfig"]["service"];
        assert_eq!(
            (&to["name"], &to["namespace"], &to["path"]),
            (&service["metadata"]["name"], &json!("podsg-system"), &json!("/validate"))
        );
        if name == "pod-eni.podsg.io" {
            pod_webhook = Some(webhook);
        }
    }
    let conditions: Vec<VapExpression> = pod_webhook.expect("the pod webhook")["matchConditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            // kube-cel binds `object` without a schema, so it escapes every
            // key as Kubernetes escapes CRD property names; the API server
            // does not escape the keys of a map such as annotations. The
            // key is written here as kube-cel stores it.
            let expression = c["expression"]
                .as_str()
                .unwrap()
                .replace("'vpc.amazonaws.com/pod-eni'", "'vpc__dot__amazonaws__dot__com__slash__pod__dash__eni'");
            VapExpression { expression, message: None, message_expression: None }
        })
        .collect();
    let rules = Rules { controller: CONTROLLER_USER.into() };
    let values = [None, Some(""), Some("[]"), Some(r#"[{"eniId":"eni-1"}]"#)];
    let mut sent = 0;
    for user in ["alice", CONTROLLER_USER, "system:serviceaccount:kube-system:replicaset-controller"] {
        for operation in ["CREATE", "UPDATE"] {
            for old in values {
                for new in values {
                    if operation == "CREATE" && old.is_some() {
                        continue;
                    }
                    let (object, old_object) = (pod(new), (operation == "UPDATE").then(|| pod(old)));
                    let mut builder = VapEvaluator::builder().object(object.clone()).request(CelRequest {
                        operation: operation.into(),
                        username: user.into(),
                        kind: GroupVersionKind { group: String::new(), version: "v1".into(), kind: "Pod".into() },
                        resource: GroupVersionResource {
                            group: String::new(),
                            version: "v1".into(),
                            resource: "pods".into(),
                        },
                        ..CelRequest::default()
                    });
                    if let Some(o) = &old_object {
                        builder = builder.old_object(o.clone());
                    }
                    let evaluator = builder.build();
                    let results = evaluator.evaluate(&conditions);
                    for r in &results {
                        // False, not an error (an error would apply the failurePolicy to every pod).
                        let false_only = r.message.as_deref().is_some_and(|m| m.ends_with("evaluated to false"));
                        assert!(r.passed || false_only, "{operation} {old:?} -> {new:?}: {r:?}");
                    }
                    let matched = results.iter().all(|r| r.passed);
                    let request = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
                        "uid": "u", "kind": {"group": "", "version": "v1", "kind": "Pod"},
                        "resource": {"group": "", "version": "v1", "resource": "pods"},
                        "name": "web", "namespace": "prod", "operation": operation, "userInfo": {"username": user},
                        "object": object, "oldObject": old_object, "dryRun": false}});
                    let allowed = review(request.to_string().as_bytes(), &rules).response.unwrap().allowed;
                    assert!(
                        matched || allowed,
                        "{user} {operation} {old:?} -> {new:?} would be denied but never reaches the webhook"
                    );
                    let touched = if operation == "CREATE" { new.is_some() } else { old != new };
                    let controllers_update = operation == "UPDATE" && user == CONTROLLER_USER;
                    assert_eq!(
                        matched,
                        touched && !controllers_update,
                        "{user} {operation} {old:?} -> {new:?}: only what touches the annotation"
                    );
                    sent += usize::from(matched);
                }
            }
        }
    }
    assert!(sent > 10, "the conditions matched {sent} requests");
}
