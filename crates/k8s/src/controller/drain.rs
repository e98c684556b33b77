//! The write loop: takes queued targets, plans them from the state as it is
//! now, and carries out the writes, only while this replica holds the
//! lease. A conflict re-reads the pod and plans again from fresh state;
//! other errors retry the target later, backing off.

use super::Shared;
use super::metrics::Metrics;
use super::queue::Target;
use super::state::pod_key;
use super::writer::{Writer, is_conflict, is_not_found};
use super::writes::Write;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Carries out every queued target; returns when the queue is empty or the
/// lease is lost.
pub async fn drain(shared: &Arc<Shared>, writer: &Writer, leader: &watch::Receiver<bool>, metrics: &Metrics) {
    loop {
        if !*leader.borrow() {
            return;
        }
        let (target, writes) = {
            let mut state = shared.lock();
            metrics.queue_depth.set(state.queued() as i64);
            let Some(target) = state.next_target() else { return };
            let writes = state.plan(&target);
            (target, writes)
        };
        for write in &writes {
            if !*leader.borrow() {
                // Lost the lease mid-plan: not one more write.
                shared.lock().requeue(target);
                return;
            }
            let result = writer.write(write).await;
            metrics.written(write.kind(), &result);
            match result {
                Ok(()) => shared.lock().written(write),
                Err(e) if is_conflict(&e) => {
                    if let Write::PodAnnotation { namespace, name, .. } = write {
                        refetch_pod(shared, writer, namespace, name, metrics).await;
                    } else {
                        shared.lock().requeue(target.clone());
                    }
                    break;
                }
                Err(e) => {
                    tracing::warn!(?target, error = %e, "write failed; retrying later");
                    retry_later(shared, target.clone());
                    break;
                }
            }
        }
    }
}

/// The pod changed or was replaced under a write: read it again and plan
/// from what it is now.
async fn refetch_pod(shared: &Arc<Shared>, writer: &Writer, namespace: &str, name: &str, metrics: &Metrics) {
    let pods: Api<Pod> = Api::namespaced(writer.client().clone(), namespace);
    match pods.get(name).await {
        Ok(pod) => {
            if let Err(invalid) = shared.lock().apply_pod(&pod) {
                tracing::warn!(namespace, name, %invalid, "pod not readable");
            }
        }
        Err(e) if is_not_found(&e) => shared.lock().delete_pod(namespace, name),
        Err(e) => {
            metrics.error("refetch");
            tracing::warn!(namespace, name, error = %e, "cannot read pod again; retrying later");
            retry_later(shared, Target::Pod(pod_key(namespace, name)));
        }
    }
}

/// Queues `target` again after a pause, so that an API server in trouble is
/// not hammered.
fn retry_later(shared: &Arc<Shared>, target: Target) {
    let shared = shared.clone();
    tokio::spawn(async move {
        tokio::time::sleep(RETRY_AFTER).await;
        shared.lock().requeue(target);
        shared.wake.notify_one();
    });
}

const RETRY_AFTER: Duration = Duration::from_secs(2);
