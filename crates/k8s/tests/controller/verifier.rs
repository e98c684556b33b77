//! The API server side of the scenarios: kube's tower-test mock service
//! (the ApiServerVerifier of kube-rs' controller-rs). Each expectation
//! names the exact request (method, path and query, content type, body)
//! and answers it.

use http::{Request, Response, StatusCode};
use kube::client::Body;
use serde_json::{Value, json};

pub type Handle = tower_test::mock::Handle<Request<Body>, Response<Body>>;

/// One request the controller must make next, and the answer.
pub struct Expect {
    pub method: &'static str,
    pub uri: String,
    pub content_type: Option<&'static str>,
    /// The body, compared exactly unless `check` is set.
    pub body: Option<Value>,
    /// For bodies with fields that change each run (event names and times).
    pub check: Option<fn(&Value)>,
    pub status: StatusCode,
    pub answer: Value,
}

const MERGE: &str = "application/merge-patch+json";
const APPLY: &str = "application/apply-patch+yaml";
pub const QUERY: &str = "fieldManager=podsg-controller";

pub fn pod_patch(ns: &str, name: &str, uid: &str, value: Option<&str>) -> Expect {
    Expect {
        method: "PATCH",
        uri: format!("/api/v1/namespaces/{ns}/pods/{name}?&{QUERY}"),
        content_type: Some(MERGE),
        body: Some(json!({"metadata": {"uid": uid, "annotations": {"vpc.amazonaws.com/pod-eni": value}}})),
        check: None,
        status: StatusCode::OK,
        answer: json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "uid": uid}}),
    }
}

/// The same patch, refused: the pod is another one now.
pub fn pod_patch_conflict(ns: &str, name: &str, uid: &str, value: Option<&str>) -> Expect {
    let mut e = pod_patch(ns, name, uid, value);
    e.status = StatusCode::CONFLICT;
    e.answer = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": "Conflict", "code": 409,
        "message": format!("Operation cannot be fulfilled on pods \"{name}\": Precondition failed: UID in precondition: {uid}, UID in object meta: other"),
    });
    e
}

pub fn pod_get(ns: &str, name: &str, pod: Value) -> Expect {
    Expect {
        method: "GET",
        uri: format!("/api/v1/namespaces/{ns}/pods/{name}"),
        content_type: None,
        body: None,
        check: None,
        status: StatusCode::OK,
        answer: pod,
    }
}

/// An event on pod `name` (`uid`) with this type, reason and message.
pub fn event(ns: &str, name: &str, uid: &str, type_: &str, reason: &str, message: &str) -> Expect {
    let expected = json!({
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": format!("{name}.{:x}", super::NOW_NANOS), "namespace": ns},
        "eventTime": "2026-01-01T00:00:00.000000Z",
        "action": if type_ == "Warning" { "Fail" } else { "Allocate" },
        "reason": reason,
        "note": message,
        "type": type_,
        "regarding": {"apiVersion": "v1", "kind": "Pod", "name": name, "namespace": ns, "uid": uid},
        "reportingController": "podsg.io/controller",
        "reportingInstance": "podsg-controller-0",
    });
    Expect {
        method: "POST",
        uri: format!("/apis/events.k8s.io/v1/namespaces/{ns}/events?"),
        content_type: Some("application/json"),
        answer: expected.clone(),
        body: Some(expected),
        check: None,
        status: StatusCode::CREATED,
    }
}

pub fn policy_status(group: &str, ns: &str, name: &str, status: Value) -> Expect {
    let body = json!({"apiVersion": format!("{group}/v1beta1"), "kind": "SecurityGroupPolicy", "status": status});
    Expect {
        method: "PATCH",
        uri: format!("/apis/{group}/v1beta1/namespaces/{ns}/securitygrouppolicies/{name}/status?&force=true&{QUERY}"),
        content_type: Some(APPLY),
        answer: json!({"apiVersion": format!("{group}/v1beta1"), "kind": "SecurityGroupPolicy",
                       "metadata": {"name": name, "namespace": ns}, "status": status}),
        body: Some(body),
        check: None,
        status: StatusCode::OK,
    }
}

pub fn group_status(id: &str, status: Value) -> Expect {
    Expect {
        method: "PATCH",
        uri: format!("/apis/podsg.io/v1alpha1/securitygroups/{id}/status?&force=true&{QUERY}"),
        content_type: Some(APPLY),
        body: Some(json!({"apiVersion": "podsg.io/v1alpha1", "kind": "SecurityGroup", "status": status})),
        check: None,
        status: StatusCode::OK,
        answer: json!({"apiVersion": "podsg.io/v1alpha1", "kind": "SecurityGroup",
                       "metadata": {"name": id}, "spec": {}, "status": status}),
    }
}

/// Slice `index` of `group` applied with these addresses.
pub fn slice_put(group: &str, index: u32, addresses: &[&str]) -> Expect {
    let body = json!({"apiVersion": "podsg.io/v1alpha1", "kind": "MemberSlice",
                      "metadata": {"name": format!("{group}-{index}"), "labels": {"podsg.io/group": group}},
                      "spec": {"addresses": addresses}});
    Expect {
        method: "PATCH",
        uri: format!("/apis/podsg.io/v1alpha1/memberslices/{group}-{index}?&force=true&{QUERY}"),
        content_type: Some(APPLY),
        answer: body.clone(),
        body: Some(body),
        check: None,
        status: StatusCode::OK,
    }
}

pub fn slice_delete(name: &str) -> Expect {
    Expect {
        method: "DELETE",
        uri: format!("/apis/podsg.io/v1alpha1/memberslices/{name}?"),
        content_type: Some("application/json"),
        body: Some(json!({})),
        check: None,
        status: StatusCode::OK,
        answer: deleted(),
    }
}

/// What the API server answers a delete with.
fn deleted() -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"})
}

/// Answers the next request as `expect` says, after checking it is that
/// request.
pub async fn answer(handle: &mut Handle, expect: Expect) {
    let (request, send) = handle.next_request().await.expect("the controller made no further request");
    let what = format!("{} {}", request.method(), request.uri());
    assert_eq!(what, format!("{} {}", expect.method, expect.uri), "the request");
    let content_type = request.headers().get("content-type").map(|v| v.to_str().unwrap().to_string());
    if let Some(ct) = expect.content_type {
        assert_eq!(content_type.as_deref(), Some(ct), "content type of {what}");
    }
    let bytes = request.into_body().collect_bytes().await.unwrap();
    if let Some(body) = &expect.body {
        let got: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{what}: body not JSON: {e}"));
        assert_eq!(&got, body, "body of {what}");
    }
    if let Some(check) = expect.check {
        check(&serde_json::from_slice(&bytes).unwrap());
    }
    let response = Response::builder()
        .status(expect.status)
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(&expect.answer).unwrap()))
        .unwrap();
    send.send_response(response);
}

/// Answers every request with an echo of what it writes (as the API server
/// would return the object), forever: for settling a scenario's set-up.
pub async fn echo_forever(handle: &mut Handle) {
    while let Some((request, send)) = handle.next_request().await {
        let path = request.uri().path().to_string();
        let delete = request.method() == http::Method::DELETE;
        let bytes = request.into_body().collect_bytes().await.unwrap();
        let mut body: Value = serde_json::from_slice(&bytes).unwrap_or(json!({}));
        let name = path.rsplit('/').find(|s| *s != "status").unwrap_or("x").to_string();
        if body.get("metadata").is_none() {
            body["metadata"] = json!({"name": name});
        }
        if path.contains("/pods/") {
            body["apiVersion"] = json!("v1");
            body["kind"] = json!("Pod");
        }
        if path.contains("securitygroups/") && body.get("spec").is_none() {
            body["spec"] = json!({});
        }
        if delete {
            body = deleted();
        }
        let response = Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json")
            .body(Body::from(serde_json::to_vec(&body).unwrap()))
            .unwrap();
        send.send_response(response);
    }
}
