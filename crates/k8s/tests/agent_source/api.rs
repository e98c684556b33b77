//! The API server side: kube's tower-test mock service. The agent's
//! watches run at once, so their requests interleave in no fixed order;
//! each test takes the next request of one resource (`next`), asserts its
//! exact path and query, and answers it: a list, or a watch whose events
//! the test sends when it chooses (the body streams).

use bytes::Bytes;
use futures::channel::mpsc;
use http::{Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::StreamBody;
use kube::client::Body;
use serde_json::{Value, json};
use std::convert::Infallible;
use std::time::Duration;

pub type Chunks = mpsc::UnboundedReceiver<Result<Frame<Bytes>, Infallible>>;
pub type Answer = Response<StreamBody<Chunks>>;
type Handle = tower_test::mock::Handle<Request<Body>, Answer>;
type Respond = tower_test::mock::SendResponse<Answer>;

pub const PODS: &str = "/api/v1/pods";
pub const EKS_SGPS: &str = "/apis/vpcresources.k8s.aws/v1beta1/securitygrouppolicies";
pub const TKE_SGPS: &str = "/apis/vpcresources.tke.cloud.tencent.com/v1beta1/securitygrouppolicies";
pub const GROUPS: &str = "/apis/podsg.io/v1alpha1/securitygroups";
pub const ACCOUNTS: &str = "/api/v1/serviceaccounts";
pub const SLICES: &str = "/apis/podsg.io/v1alpha1/memberslices";

pub struct ApiServer {
    handle: Handle,
    /// Requests taken from the mock that are not the ones asked for yet.
    waiting: Vec<(Request<Body>, Respond)>,
}

/// An open watch: the test sends its events, or ends it.
pub struct Watch(mpsc::UnboundedSender<Result<Frame<Bytes>, Infallible>>);

impl Watch {
    /// Sends `object` at resource version `version`.
    pub fn send(&self, type_: &str, version: &str, object: &Value) {
        let mut object = object.clone();
        object["metadata"]["resourceVersion"] = json!(version);
        self.event(type_, &object);
    }

    fn event(&self, type_: &str, object: &Value) {
        let line = format!("{}\n", json!({"type": type_, "object": object}));
        self.0.unbounded_send(Ok(Frame::data(Bytes::from(line)))).expect("the watcher is listening");
    }

    /// The API server says the watch's version is too old: the watcher lists again.
    pub fn gone(self) {
        self.event(
            "ERROR",
            &json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Expired", "code": 410,
                    "message": "too old resource version"}),
        );
    }
}

fn streaming(status: StatusCode) -> (Watch, Answer) {
    let (send, chunks) = mpsc::unbounded();
    (Watch(send), Response::builder().status(status).body(StreamBody::new(chunks)).unwrap())
}

impl ApiServer {
    pub fn new(handle: Handle) -> ApiServer {
        ApiServer { handle, waiting: Vec::new() }
    }

    /// The next request for `path`; the others wait their turn.
    async fn next(&mut self, path: &str) -> (Request<Body>, Respond) {
        if let Some(i) = self.waiting.iter().position(|(r, _)| r.uri().path() == path) {
            return self.waiting.remove(i);
        }
        loop {
            let next = tokio::time::timeout(Duration::from_secs(20), self.handle.next_request()).await;
            let waiting: Vec<String> = self.waiting.iter().map(|(r, _)| r.uri().to_string()).collect();
            let (request, respond) = next
                .unwrap_or_else(|_| panic!("no request for {path} came; waiting: {waiting:?}"))
                .expect("the client is alive");
            if request.uri().path() == path {
                return (request, respond);
            }
            self.waiting.push((request, respond));
        }
    }

    /// Answers the next request for `path`, which must be `GET path?query`,
    /// with a list of `items` at `version`.
    pub async fn list(&mut self, path: &str, query: &str, version: &str, items: Vec<Value>) {
        let (request, respond) = self.next(path).await;
        assert_eq!(format!("{} {}", request.method(), request.uri()), format!("GET {path}?{query}"));
        let (watch, answer) = streaming(StatusCode::OK);
        respond.send_response(answer);
        let list =
            json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": version}, "items": items});
        watch.0.unbounded_send(Ok(Frame::data(Bytes::from(list.to_string())))).unwrap();
    }

    /// Answers the next request for `path`, which must be `GET path?query`,
    /// with a watch that stays open.
    pub async fn watch(&mut self, path: &str, query: &str) -> Watch {
        let (request, respond) = self.next(path).await;
        assert_eq!(format!("{} {}", request.method(), request.uri()), format!("GET {path}?{query}"));
        let (watch, answer) = streaming(StatusCode::OK);
        respond.send_response(answer);
        watch
    }
}

/// The query of kube-runtime's first list, with `selector` (already
/// escaped: `fieldSelector=…&` or `labelSelector=…&`).
pub fn list_query(selector: &str) -> String {
    format!("&{selector}limit=500")
}

/// The query of a watch from `version`.
pub fn watch_query(selector: &str, version: &str) -> String {
    format!("&watch=true&timeoutSeconds=290&{selector}allowWatchBookmarks=true&resourceVersion={version}")
}
