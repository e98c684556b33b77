//! The watches that feed the state: one kube-runtime watcher per kind. A
//! relist (`Init` … `InitDone`) deletes what it no longer lists, so a
//! missed deletion does not linger.

use super::Shared;
use super::metrics::Metrics;
use super::state::State;
use crate::convert::Invalid;
use crate::crd;
use crate::sgp_api::SgpApi;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, Node, Pod, ServiceAccount};
use kube::api::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event, watcher};
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;
use std::collections::HashSet;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Instant;

/// A watched kind: how its objects enter and leave the state.
pub trait Watched: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static {
    /// The metric label.
    const KIND: &'static str;
    fn apply(state: &mut State, object: &Self) -> Result<(), Invalid>;
    /// Removes the object `key` (`namespace/name`, or `name` when
    /// cluster-scoped).
    fn delete(state: &mut State, key: &str);
    /// The keys of the objects of this kind that the state holds.
    fn keys(state: &State) -> Vec<String>;
}

fn key_of<K: Resource>(object: &K) -> String {
    match object.meta().namespace.as_deref() {
        Some(ns) => format!("{ns}/{}", object.name_any()),
        None => object.name_any(),
    }
}

fn split(key: &str) -> (&str, &str) {
    key.split_once('/').unwrap_or(("", key))
}

impl Watched for Pod {
    const KIND: &'static str = "Pod";
    fn apply(state: &mut State, pod: &Self) -> Result<(), Invalid> {
        state.apply_pod(pod)
    }
    fn delete(state: &mut State, key: &str) {
        let (ns, name) = split(key);
        state.delete_pod(ns, name);
    }
    fn keys(state: &State) -> Vec<String> {
        state.pod_names()
    }
}

macro_rules! policy_kind {
    ($ty:ty, $api:expr, $label:literal) => {
        impl Watched for $ty {
            const KIND: &'static str = $label;
            fn apply(state: &mut State, sgp: &Self) -> Result<(), Invalid> {
                let value = serde_json::to_value(sgp).expect("an SGP serializes");
                state.apply_policy($api, value);
                Ok(())
            }
            fn delete(state: &mut State, key: &str) {
                let (ns, name) = split(key);
                state.delete_policy($api, ns, name);
            }
            fn keys(state: &State) -> Vec<String> {
                state.policy_names($api)
            }
        }
    };
}
policy_kind!(crd::SecurityGroupPolicy, SgpApi::Eks, "SecurityGroupPolicy");
policy_kind!(crd::tke::SecurityGroupPolicy, SgpApi::Tke, "SecurityGroupPolicy.tke");

impl Watched for crd::SecurityGroup {
    const KIND: &'static str = "SecurityGroup";
    fn apply(state: &mut State, group: &Self) -> Result<(), Invalid> {
        state.apply_group(group)
    }
    fn delete(state: &mut State, key: &str) {
        state.delete_group(key);
    }
    fn keys(state: &State) -> Vec<String> {
        state.group_names()
    }
}

impl Watched for crd::MemberSlice {
    const KIND: &'static str = "MemberSlice";
    fn apply(state: &mut State, slice: &Self) -> Result<(), Invalid> {
        state.apply_slice(slice);
        Ok(())
    }
    fn delete(state: &mut State, key: &str) {
        state.delete_slice(key);
    }
    fn keys(state: &State) -> Vec<String> {
        state.slice_names()
    }
}

impl Watched for ServiceAccount {
    const KIND: &'static str = "ServiceAccount";
    fn apply(state: &mut State, sa: &Self) -> Result<(), Invalid> {
        state.apply_service_account(sa)
    }
    fn delete(state: &mut State, key: &str) {
        let (ns, name) = split(key);
        state.delete_service_account(ns, name);
    }
    fn keys(state: &State) -> Vec<String> {
        state.service_account_names()
    }
}

impl Watched for Namespace {
    const KIND: &'static str = "Namespace";
    fn apply(state: &mut State, ns: &Self) -> Result<(), Invalid> {
        state.apply_namespace(ns)
    }
    fn delete(state: &mut State, key: &str) {
        state.delete_namespace(key);
    }
    fn keys(state: &State) -> Vec<String> {
        state.namespace_names()
    }
}

impl Watched for Node {
    const KIND: &'static str = "Node";
    fn apply(state: &mut State, node: &Self) -> Result<(), Invalid> {
        state.apply_node(node)
    }
    fn delete(state: &mut State, key: &str) {
        state.delete_node(key);
    }
    fn keys(state: &State) -> Vec<String> {
        state.node_names()
    }
}

/// Feeds one kind into the state until the stream ends; `synced` is called
/// after the first complete list.
pub async fn run<K: Watched>(api: Api<K>, shared: Arc<Shared>, metrics: Arc<Metrics>, synced: impl Fn()) {
    let mut stream = watcher(api, watcher::Config::default()).default_backoff().boxed();
    let mut relist = Relist::default();
    let mut first_sync = true;
    while let Some(event) = stream.next().await {
        let event = match event {
            Ok(event) => event,
            Err(e) => {
                metrics.error("watch");
                tracing::warn!(kind = K::KIND, error = %e, "watch failed; retrying");
                continue;
            }
        };
        let started = Instant::now();
        let listed = {
            let mut state = shared.lock();
            match event {
                Event::Init => relist.start(),
                Event::InitApply(object) => {
                    relist.saw(key_of(&object));
                    apply(&mut state, &object, &metrics);
                }
                Event::InitDone => {
                    for gone in relist.done(K::keys(&state)) {
                        K::delete(&mut state, &gone);
                    }
                }
                Event::Apply(object) => apply(&mut state, &object, &metrics),
                Event::Delete(object) => {
                    metrics.input(K::KIND);
                    K::delete(&mut state, &key_of(&object));
                }
            }
            !relist.listing()
        };
        metrics.apply_seconds.observe(started.elapsed().as_secs_f64());
        if listed && first_sync {
            first_sync = false;
            synced();
        }
        shared.wake.notify_one();
    }
}

fn apply<K: Watched>(state: &mut State, object: &K, metrics: &Metrics) {
    metrics.input(K::KIND);
    if let Err(invalid) = K::apply(state, object) {
        metrics.error("invalid_object");
        tracing::warn!(kind = K::KIND, object = key_of(object), %invalid, "object not applied");
    }
}

/// A relist in progress: the keys it listed, so that what the state holds
/// and the list lacks is deleted when it is done (a deletion missed while
/// the watch was down).
#[derive(Debug, Default)]
struct Relist(Option<HashSet<String>>);

impl Relist {
    fn start(&mut self) {
        self.0 = Some(HashSet::new());
    }

    fn saw(&mut self, key: String) {
        self.0.get_or_insert_with(HashSet::new).insert(key);
    }

    fn listing(&self) -> bool {
        self.0.is_some()
    }

    /// The keys of `held` that the list lacked.
    fn done(&mut self, held: Vec<String>) -> Vec<String> {
        let listed = self.0.take().unwrap_or_default();
        held.into_iter().filter(|k| !listed.contains(k)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Relist;

    #[test]
    fn a_relist_deletes_what_it_no_longer_lists() {
        let mut r = Relist::default();
        assert!(!r.listing());
        r.start();
        r.saw("ns/a".into());
        r.saw("ns/c".into());
        assert!(r.listing());
        let gone = r.done(vec!["ns/a".into(), "ns/b".into(), "ns/c".into()]);
        assert_eq!(gone, ["ns/b"]);
        assert!(!r.listing());
        r.start();
        assert_eq!(r.done(vec!["ns/a".into()]), ["ns/a"], "an empty list deletes everything");
    }
}
