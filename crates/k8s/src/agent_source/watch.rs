//! The agent's watches: one kube-runtime watcher per kind, each object read
//! into the model's input by the same conversions the controller uses, and
//! handed to the collector. The slice watch restarts with a new label
//! selector whenever the agent needs other groups.

use super::collect::{Seen, Watch};
use super::interest::SliceSelector;
use super::{Inbox, Interest};
use crate::convert::{self, Invalid};
use crate::crd;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use kube::api::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event, watcher};
use kube::{Resource, ResourceExt};
use podsg_model::group::SgId;
use podsg_model::workload::{WorkloadKey, WorkloadKind};
use podsg_model::world::{Input, InputKey};
use serde::de::DeserializeOwned;
use std::fmt::Debug;
use std::sync::Arc;

/// A kind the agent watches: the key and the input of one of its objects.
pub trait Fed: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static {
    /// `None` for an object that cannot even be named in the model (a
    /// SecurityGroup whose name is no group ID): it is skipped.
    fn key(&self) -> Option<InputKey>;
    fn input(&self) -> Result<Input, Invalid>;
}

/// The object's namespace and name; a namespaced object without a
/// namespace is in `default`, as the model reads it (the API server always
/// sets one; the key must still be the one the object's input has).
fn namespace_name<K: Resource>(object: &K) -> (String, String) {
    (object.namespace().filter(|n| !n.is_empty()).unwrap_or_else(|| "default".into()), object.name_any())
}

impl Fed for Pod {
    fn key(&self) -> Option<InputKey> {
        let (namespace, name) = namespace_name(self);
        Some(InputKey::Workload(WorkloadKey { kind: WorkloadKind::Pod, namespace, name }))
    }
    fn input(&self) -> Result<Input, Invalid> {
        convert::pod(self).map(Input::Workload)
    }
}

macro_rules! fed_policy {
    ($ty:ty) => {
        impl Fed for $ty {
            fn key(&self) -> Option<InputKey> {
                let (namespace, name) = namespace_name(self);
                Some(InputKey::Policy { namespace, name })
            }
            fn input(&self) -> Result<Input, Invalid> {
                convert::policy(self).map(Input::Policy)
            }
        }
    };
}
fed_policy!(crd::SecurityGroupPolicy);
fed_policy!(crd::tke::SecurityGroupPolicy);

impl Fed for crd::SecurityGroup {
    fn key(&self) -> Option<InputKey> {
        SgId::parse(&self.name_any()).ok().map(InputKey::Group)
    }
    fn input(&self) -> Result<Input, Invalid> {
        convert::group(self).map(Input::Group)
    }
}

impl Fed for ServiceAccount {
    fn key(&self) -> Option<InputKey> {
        let (namespace, name) = namespace_name(self);
        Some(InputKey::ServiceAccount { namespace, name })
    }
    fn input(&self) -> Result<Input, Invalid> {
        convert::service_account(self).map(|(namespace, name, labels)| Input::ServiceAccount {
            namespace,
            name,
            labels,
        })
    }
}

impl Fed for crd::MemberSlice {
    fn key(&self) -> Option<InputKey> {
        Some(InputKey::MemberSlice(self.name_any()))
    }
    fn input(&self) -> Result<Input, Invalid> {
        let (group, _) = self.identity().ok_or_else(|| {
            Invalid(vec![podsg_model::diagnostic::Diagnostic::error(
                "metadata.name",
                None,
                format!(
                    "a MemberSlice is named <group>-<number> and labelled {} with the same group",
                    crd::GROUP_LABEL
                ),
            )])
        })?;
        let addresses = self.spec.addresses.iter().copied().collect();
        Ok(Input::MemberSlice { name: self.name_any(), group, addresses })
    }
}

/// What `event` says, for the collector.
fn seen<K: Fed>(watch: Watch, event: Event<K>) -> Option<Seen> {
    let read = |object: &K| {
        let key = object.key();
        if key.is_none() {
            tracing::warn!(kind = watch.name(), object = object.name_any(), "object skipped: its name is not valid");
        }
        let input = object
            .input()
            .inspect_err(|invalid| {
                tracing::warn!(kind = watch.name(), object = object.name_any(), %invalid, "object not applied");
            })
            .ok();
        key.map(|k| (k, input))
    };
    Some(match event {
        Event::Init => Seen::Listing,
        Event::InitApply(object) => read(&object).map(|(k, i)| Seen::Listed(k, i))?,
        Event::InitDone => Seen::ListDone,
        Event::Apply(object) => read(&object).map(|(k, i)| Seen::Applied(k, i))?,
        Event::Delete(object) => Seen::Deleted(object.key()?),
    })
}

/// Hands one event of watch `watch` (running with slice selector
/// `generation`) to the inbox; a failed watch retries on its own.
fn deliver<K: Fed>(watch: Watch, generation: u64, event: Result<Event<K>, watcher::Error>, inbox: &Inbox) {
    match event {
        Ok(event) => {
            if let Some(seen) = seen(watch, event) {
                inbox.see(watch, generation, seen);
            }
        }
        Err(e) => tracing::warn!(kind = watch.name(), error = %e, "watch failed; retrying"),
    }
}

/// Feeds one kind into the inbox until the stream ends.
pub async fn run<K: Fed>(api: Api<K>, config: watcher::Config, watch: Watch, inbox: Arc<Inbox>) {
    let mut stream = watcher(api, config).default_backoff().boxed();
    while let Some(event) = stream.next().await {
        deliver(watch, 0, event, &inbox);
    }
}

/// Feeds the slices of the groups the agent needs, watching again with
/// the new selector whenever it changes.
pub async fn run_slices(api: Api<crd::MemberSlice>, mut interest: Interest, inbox: Arc<Inbox>) {
    loop {
        let (generation, selector) = interest.borrow_and_update().clone();
        if selector == SliceSelector::Nothing {
            if interest.changed().await.is_err() {
                return;
            }
            continue;
        }
        let config = match selector.label_selector() {
            Some(labels) => watcher::Config::default().labels(&labels),
            None => watcher::Config::default(),
        };
        let mut stream = watcher(api.clone(), config).default_backoff().boxed();
        loop {
            tokio::select! {
                changed = interest.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    break;
                }
                event = stream.next() => match event {
                    Some(event) => deliver(Watch::Slices, generation, event, &inbox),
                    None => return,
                },
            }
        }
    }
}
