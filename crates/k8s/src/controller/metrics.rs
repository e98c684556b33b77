//! The controller's Prometheus metrics.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WriteLabels {
    kind: &'static str,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InputLabels {
    kind: &'static str,
}

pub struct Metrics {
    registry: Registry,
    writes: Family<WriteLabels, Counter>,
    errors: Family<ErrorLabels, Counter>,
    inputs: Family<InputLabels, Counter>,
    pub queue_depth: Gauge,
    /// Seconds to apply one watched object to the index and queue its
    /// targets (the resolution latency).
    pub apply_seconds: Histogram,
    pub leader: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("podsg_controller");
        let writes = Family::<WriteLabels, Counter>::default();
        let errors = Family::<ErrorLabels, Counter>::default();
        let inputs = Family::<InputLabels, Counter>::default();
        let queue_depth = Gauge::default();
        let apply_seconds = Histogram::new(exponential_buckets(1e-6, 4.0, 12));
        let leader = Gauge::default();
        registry.register("writes", "Writes to the API server, by kind and result", writes.clone());
        registry.register("errors", "Errors, by reason", errors.clone());
        registry.register("watch_events", "Objects applied or deleted from the watches, by kind", inputs.clone());
        registry.register("queue_depth", "Targets waiting to be planned and written", queue_depth.clone());
        registry.register("apply_seconds", "Time to apply one watched object to the index", apply_seconds.clone());
        registry.register("leader", "1 while this replica holds the lease and writes", leader.clone());
        Metrics { registry, writes, errors, inputs, queue_depth, apply_seconds, leader }
    }
}

impl Metrics {
    pub fn written(&self, kind: &'static str, result: &Result<(), kube::Error>) {
        let result = match result {
            Ok(()) => "ok",
            Err(e) if super::writer::is_conflict(e) => "conflict",
            Err(_) => "error",
        };
        self.writes.get_or_create(&WriteLabels { kind, result }).inc();
    }

    pub fn error(&self, reason: &'static str) {
        self.errors.get_or_create(&ErrorLabels { reason }).inc();
    }

    pub fn input(&self, kind: &'static str) {
        self.inputs.get_or_create(&InputLabels { kind }).inc();
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String");
        out
    }
}
