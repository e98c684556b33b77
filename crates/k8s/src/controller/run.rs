//! Wires the controller together: watches, the lease, the write loop, the
//! metrics server, and a graceful stop on SIGTERM (the lease is released so
//! that another replica takes over at once).

use super::metrics::Metrics;
use super::state::State;
use super::writer::Writer;
use super::{Shared, drain, serve, watch};
use crate::crd;
use crate::error::{Error, Result};
use k8s_openapi::api::core::v1::{Namespace, Node, Pod, ServiceAccount};
use kube::Client;
use kube::api::Api;
use kube_lease_manager::LeaseManagerBuilder;
use podsg_model::settings::{AppliesTo, Settings};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

#[derive(Clone, Debug)]
pub struct Options {
    pub settings: Settings,
    /// Overrides the settings' `sgpAppliesTo`.
    pub applies_to: Option<AppliesTo>,
    /// Where `/metrics`, `/healthz` and `/readyz` are served.
    pub listen: SocketAddr,
    /// The Lease that elects the writing replica: its namespace and name.
    pub lease_namespace: String,
    pub lease_name: String,
    /// This replica's identity in the lease and in events (its pod name).
    pub identity: String,
    /// Seconds a lease lasts without renewal.
    pub lease_seconds: u64,
}

/// The watches, one per kind; readiness waits for all of them.
const WATCHES: usize = 8;

/// Runs until SIGTERM or SIGINT.
pub async fn run(client: Client, options: Options) -> Result<()> {
    let metrics = Arc::new(Metrics::default());
    let shared = Arc::new(Shared::new(State::new(options.settings.clone(), options.applies_to, now)));
    let ready = Arc::new(AtomicBool::new(false));
    let synced = Arc::new(AtomicUsize::new(0));

    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|e| Error::Listen { address: options.listen, source: e })?;
    tokio::spawn(serve::serve(listener, metrics.clone(), ready.clone()));

    let on_sync = || {
        let (synced, ready, shared) = (synced.clone(), ready.clone(), shared.clone());
        move || {
            if synced.fetch_add(1, Ordering::AcqRel) + 1 == WATCHES {
                tracing::info!("every watch has listed once: ready");
                shared.lock().start_publishing();
                ready.store(true, Ordering::Release);
                shared.wake.notify_one();
            }
        }
    };
    let (s, m) = (&shared, &metrics);
    tokio::spawn(watch::run(Api::<Pod>::all(client.clone()), s.clone(), m.clone(), on_sync()));
    tokio::spawn(watch::run(Api::<crd::SecurityGroupPolicy>::all(client.clone()), s.clone(), m.clone(), on_sync()));
    tokio::spawn(watch::run(
        Api::<crd::tke::SecurityGroupPolicy>::all(client.clone()),
        s.clone(),
        m.clone(),
        on_sync(),
    ));
    tokio::spawn(watch::run(Api::<crd::SecurityGroup>::all(client.clone()), s.clone(), m.clone(), on_sync()));
    tokio::spawn(watch::run(Api::<ServiceAccount>::all(client.clone()), s.clone(), m.clone(), on_sync()));
    tokio::spawn(watch::run(Api::<Namespace>::all(client.clone()), s.clone(), m.clone(), on_sync()));
    tokio::spawn(watch::run(Api::<Node>::all(client.clone()), s.clone(), m.clone(), on_sync()));
    tokio::spawn(watch::run(Api::<crd::MemberSlice>::all(client.clone()), s.clone(), m.clone(), on_sync()));

    let lease = LeaseManagerBuilder::new(client.clone(), &options.lease_name)
        .with_namespace(&options.lease_namespace)
        .with_identity(&options.identity)
        .with_duration(options.lease_seconds)
        .with_grace(options.lease_seconds.div_ceil(3).max(1))
        .build()
        .await
        .map_err(|e| Error::Lease(e.to_string()))?;
    let (mut leader, lease_task) = lease.watch().await;
    let writer = Writer::new(client, options.identity.clone());

    let mut stop = std::pin::pin!(crate::shutdown::signal());
    loop {
        let leading = *leader.borrow_and_update();
        metrics.leader.set(i64::from(leading));
        // Writes wait for the first full sync: before it, the state does
        // not know every object, and a plan from it could remove what it
        // has not seen yet.
        if leading && ready.load(Ordering::Acquire) {
            drain(&shared, &writer, &leader, &metrics).await;
        }
        tokio::select! {
            () = &mut stop => break,
            changed = leader.changed() => {
                if changed.is_err() {
                    return Err(Error::Lease("the lease task ended".into()));
                }
                if *leader.borrow() {
                    tracing::info!(identity = options.identity, "holding the lease: writing");
                    shared.lock().requeue_all();
                } else {
                    tracing::warn!(identity = options.identity, "lost the lease: writing stopped");
                }
            }
            () = shared.wake.notified() => {}
        }
    }
    tracing::info!("stopping: releasing the lease");
    drop(leader);
    match lease_task.await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(Error::Lease(e.to_string())),
        Err(e) => Err(Error::Lease(e.to_string())),
    }
}

fn now() -> String {
    k8s_openapi::jiff::Timestamp::now()
        .round(k8s_openapi::jiff::Unit::Second)
        .map_or_else(|_| String::new(), |t| t.to_string())
}
