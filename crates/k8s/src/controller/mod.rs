//! `podsg controller`: watches pods, SGPs (both API groups), service
//! accounts, SecurityGroups, namespaces and nodes into the model's
//! incremental index, and writes what it resolves: the
//! `vpc.amazonaws.com/pod-eni` annotation on each selected pod, events with
//! EKS's reasons, the statuses of SGPs and SecurityGroups, and each group's
//! member addresses as MemberSlices for the node agents.
//!
//! The parts: `state` (pure: inputs in, planned writes out; `publish` and
//! `status` are its slices and statuses), `watch` (the
//! kube-runtime watchers that feed it), `drain` and `writer` (the writes,
//! only while this replica holds the lease), `serve` (metrics, health).

mod drain;
mod metrics;
mod publish;
mod queue;
mod run;
mod serve;
mod state;
mod status;
mod watch;
mod writer;
mod writes;

pub use drain::drain;
pub use metrics::Metrics;
pub use queue::Target;
pub use run::{Options, run};
pub use state::State;
pub use watch::{Watched, run as feed};
pub use writer::{FIELD_MANAGER, REPORTING_CONTROLLER, Writer};
pub use writes::{PodEvent, Write};

use std::sync::{Mutex, MutexGuard};
use tokio::sync::Notify;

/// The state, shared by the watchers and the write loop; `wake` tells the
/// write loop that targets were queued. The lock is held only for
/// synchronous work, never across an await.
pub struct Shared {
    state: Mutex<State>,
    pub wake: Notify,
}

impl Shared {
    pub fn new(state: State) -> Shared {
        Shared { state: Mutex::new(state), wake: Notify::new() }
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock may have left the state half
        // updated: stop (the restarted controller rebuilds it from watches)
        // rather than write from it.
        self.state.lock().expect("the controller's state was left half updated by a panic")
    }
}
