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
    let mut listing: Option<HashSet<String>> = None;
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
        {
            let mut state = shared.lock();
            match event {
                Event::Init => listing = Some(HashSet::new()),
                Event::InitApply(object) => {
                    listing.get_or_insert_with(HashSet::new).insert(key_of(&object));
                    apply(&mut state, &object, &metrics);
                }
                Event::InitDone => {
                    let listed = listing.take().unwrap_or_default();
                    for gone in K::keys(&state).into_iter().filter(|k| !listed.contains(k)) {
                        K::delete(&mut state, &gone);
                    }
                }
                Event::Apply(object) => apply(&mut state, &object, &metrics),
                Event::Delete(object) => {
                    metrics.input(K::KIND);
                    K::delete(&mut state, &key_of(&object));
                }
            }
        }
        metrics.apply_seconds.observe(started.elapsed().as_secs_f64());
        if listing.is_none() && first_sync {
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
