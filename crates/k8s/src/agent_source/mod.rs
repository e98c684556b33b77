//! The node agent's desired state from the Kubernetes API
//! (docs/membership.md): the pods scheduled to this node, the SGPs of both
//! API groups, the SecurityGroups and ServiceAccounts, and the
//! MemberSlices of the groups its pods' rules name.
//!
//! The watches run on a tokio runtime of their own thread; the agent's
//! thread, which runs `nft` and `ip`, only takes their reports (`next`)
//! and says which groups it needs (`want_members`). `collect` is the pure
//! part (what was seen, what to report), `interest` the slice selector,
//! `watch` the kube-runtime watchers.

mod collect;
mod interest;
mod node;
mod watch;

pub use collect::{Collector, Seen, Watch};
pub use interest::{MAX_SELECTED_GROUPS, SliceSelector};
pub use node::{pod_cidr_of, pod_cidr6_of, read_pod_cidr};
pub use watch::Fed;

use crate::crd;
use crate::error::{Error, Result};
use crate::sgp_api::SgpApi;
use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use kube::Client;
use kube::api::Api;
use kube::runtime::watcher;
use podsg_agent::Source;
use podsg_model::group::SgId;
use podsg_model::settings::Settings;
use podsg_model::world::InputChange;
use std::collections::BTreeSet;
use std::future::Future;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// The collector, shared by the watch tasks (which feed it) and the
/// agent's thread (which waits on `reported` and drains it).
pub struct Inbox {
    collector: Mutex<Collector>,
    reported: Condvar,
}

impl Inbox {
    fn lock(&self) -> MutexGuard<'_, Collector> {
        // The collector is left consistent by every method (no panics
        // inside); a poisoned lock still holds a usable state.
        self.collector.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn see(&self, watch: Watch, generation: u64, seen: Seen) {
        self.lock().see(watch, generation, seen);
        self.reported.notify_all();
    }
}

/// The slice selector the slice watch runs with, and its generation.
type Interest = tokio::sync::watch::Receiver<(u64, SliceSelector)>;

pub struct KubeSource {
    inbox: Arc<Inbox>,
    interest: tokio::sync::watch::Sender<(u64, SliceSelector)>,
}

impl KubeSource {
    /// Starts the watches for node `node_name` on a thread of their own;
    /// `client` makes the Kubernetes client there (it needs the runtime).
    /// `settings` are the cluster's (the ClusterConfig file).
    pub fn start<F, Fut>(client: F, node_name: &str, settings: Settings) -> Result<KubeSource>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<Client>>,
    {
        let inbox = Arc::new(Inbox { collector: Mutex::new(Collector::new(settings)), reported: Condvar::new() });
        let (interest, wanted) = tokio::sync::watch::channel((0, SliceSelector::Nothing));
        let (started, outcome) = std::sync::mpsc::channel();
        let (fed, node) = (inbox.clone(), node_name.to_string());
        std::thread::Builder::new()
            .name("podsg-kube".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(r) => r,
                    Err(e) => return drop(started.send(Err(Error::Runtime(e.to_string())))),
                };
                runtime.block_on(async move {
                    let client = match client().await {
                        Ok(c) => c,
                        Err(e) => return drop(started.send(Err(e))),
                    };
                    let _ = started.send(Ok(()));
                    watch_all(client, &node, wanted, fed.clone()).await;
                    fed.lock().end();
                    fed.reported.notify_all();
                });
            })
            .map_err(|e| Error::Runtime(e.to_string()))?;
        outcome.recv().map_err(|_| Error::Runtime("the watch thread ended before it started".into()))??;
        Ok(KubeSource { inbox, interest })
    }
}

/// Runs every watch until all of them end.
async fn watch_all(client: Client, node: &str, interest: Interest, inbox: Arc<Inbox>) {
    let own_pods = watcher::Config::default().fields(&format!("spec.nodeName={node}"));
    let all = watcher::Config::default;
    let c = &client;
    let i = || inbox.clone();
    futures::join!(
        watch::run(Api::<Pod>::all(c.clone()), own_pods, Watch::Pods, i()),
        watch::run(Api::<crd::SecurityGroupPolicy>::all(c.clone()), all(), Watch::Policies(SgpApi::Eks), i()),
        watch::run(Api::<crd::tke::SecurityGroupPolicy>::all(c.clone()), all(), Watch::Policies(SgpApi::Tke), i()),
        watch::run(Api::<crd::SecurityGroup>::all(c.clone()), all(), Watch::Groups, i()),
        watch::run(Api::<ServiceAccount>::all(c.clone()), all(), Watch::ServiceAccounts, i()),
        watch::run_slices(Api::<crd::MemberSlice>::all(c.clone()), interest, i()),
    );
}

impl Source for KubeSource {
    fn next(&mut self) -> Option<Vec<InputChange>> {
        let mut collector = self.inbox.lock();
        loop {
            if let Some(report) = collector.report() {
                return Some(report);
            }
            if collector.ended() {
                return None;
            }
            collector = self.inbox.reported.wait(collector).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    fn want_members(&mut self, groups: &BTreeSet<SgId>) -> bool {
        let mut collector = self.inbox.lock();
        if let Some(selector) = collector.want(groups) {
            tracing::info!(groups = groups.len(), ?selector, "watching the member slices of other groups");
            self.interest.send_replace(selector);
        }
        collector.fetching()
    }
}
