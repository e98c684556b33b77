//! The watches against the mock API server: the list and watch requests
//! kube-runtime makes for a kind, objects reaching the state, and a relist
//! after the watch expired deleting what was deleted meanwhile.

use super::verifier::Handle;
use super::{fixed_time, pod};
use http::{Response, StatusCode};
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::Api;
use kube::client::Body;
use podsg_k8s::controller::{Metrics, Shared, State, feed};
use podsg_model::settings::Settings;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn list(resource_version: &str, pods: &[Pod]) -> Value {
    json!({"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": resource_version}, "items": pods})
}

/// Answers the next request, which must be `uri`, with `status` and `body`
/// (JSON lines for a watch).
async fn respond(handle: &mut Handle, uri: &str, status: StatusCode, body: String) {
    let (request, send) = handle.next_request().await.expect("a request");
    assert_eq!(format!("{} {}", request.method(), request.uri()), format!("GET {uri}"));
    send.send_response(Response::builder().status(status).body(Body::from(body.into_bytes())).unwrap());
}

fn watch_event(type_: &str, object: &impl serde::Serialize) -> String {
    format!("{}\n", json!({"type": type_, "object": object}))
}

#[tokio::test]
async fn pods_are_listed_watched_and_relisted() {
    let (service, mut handle) = tower_test::mock::pair();
    let client = Client::new(service, "default");
    let shared = Arc::new(Shared::new(State::new(Settings::default(), None, fixed_time)));
    let synced = Arc::new(AtomicUsize::new(0));
    let task = {
        let (shared, synced) = (shared.clone(), synced.clone());
        tokio::spawn(feed(Api::<Pod>::all(client), shared, Arc::new(Metrics::default()), move || {
            synced.fetch_add(1, Ordering::SeqCst);
        }))
    };
    let (a, b) =
        (pod("prod", "a", "uid-a", json!({}), "default", None), pod("prod", "b", "uid-b", json!({}), "default", None));
    respond(&mut handle, "/api/v1/pods?&limit=500", StatusCode::OK, list("10", &[a.clone(), b.clone()]).to_string())
        .await;
    let mut c = pod("prod", "c", "uid-c", json!({}), "default", None);
    c.metadata.resource_version = Some("11".into());
    let mut a = a;
    a.metadata.resource_version = Some("12".into());
    let watch = "/api/v1/pods?&watch=true&timeoutSeconds=290&allowWatchBookmarks=true&resourceVersion=10";
    respond(&mut handle, watch, StatusCode::OK, watch_event("ADDED", &c) + &watch_event("DELETED", &a)).await;
    // The stream ended; the watcher watches again from where it was, and
    // the API server says that version is gone: it relists.
    let (request, send) = handle.next_request().await.expect("a watch again");
    assert!(request.uri().to_string().starts_with("/api/v1/pods?&watch=true"), "{}", request.uri());
    assert!(request.uri().to_string().ends_with("resourceVersion=12"), "{}", request.uri());
    let gone = json!({"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1", "status": "Failure",
        "reason": "Expired", "code": 410, "message": "too old resource version"}});
    send.send_response(Response::builder().body(Body::from(format!("{gone}\n").into_bytes())).unwrap());
    // Meanwhile b was deleted: the relist lacks it.
    respond(&mut handle, "/api/v1/pods?&limit=500", StatusCode::OK, list("20", std::slice::from_ref(&c)).to_string())
        .await;
    // The next watch: the state is complete now.
    let (request, _send) = handle.next_request().await.expect("a watch after the relist");
    assert!(request.uri().to_string().contains("resourceVersion=20"), "{}", request.uri());
    let names = shared.lock().pod_names();
    assert_eq!(names, ["prod/c"], "a deleted by the watch, b by the relist");
    assert_eq!(synced.load(Ordering::SeqCst), 1, "ready once, after the first list");
    task.abort();
}
