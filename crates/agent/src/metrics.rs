//! The agent's Prometheus metrics, served on `/metrics` (`--metrics-listen`)
//! by a small HTTP/1.1 responder on a thread of its own: CNI requests by
//! operation and outcome, and their latency; the desired state's reports
//! and how long they took to reach the kernel; kernel repairs; whether the
//! first full sync is in.

use podsg_cni::agent_protocol::{Request, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CniLabels {
    op: &'static str,
    /// `ok`, or the CNI error code.
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OpLabels {
    op: &'static str,
}

pub struct Metrics {
    registry: Registry,
    /// The dataplane's counters, read at each scrape.
    flows: std::sync::OnceLock<Box<dyn Fn() -> String + Send + Sync>>,
    cni: Family<CniLabels, Counter>,
    cni_seconds: Family<OpLabels, Histogram>,
    reports: Counter,
    enforce_failures: Counter,
    enforce_seconds: Histogram,
    repairs: Counter,
    synced: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("podsg_agent");
        let cni = Family::<CniLabels, Counter>::default();
        let cni_seconds =
            Family::<OpLabels, Histogram>::new_with_constructor(|| Histogram::new(exponential_buckets(1e-4, 2.0, 16)));
        let reports = Counter::default();
        let enforce_failures = Counter::default();
        let enforce_seconds = Histogram::new(exponential_buckets(1e-4, 2.0, 16));
        let repairs = Counter::default();
        let synced = Gauge::default();
        registry.register(
            "cni_requests",
            "CNI requests, by operation and result (ok or the CNI error code)",
            cni.clone(),
        );
        registry.register("cni_request_seconds", "Time to answer a CNI request, by operation", cni_seconds.clone());
        registry.register(
            "desired_state_reports",
            "Reports of changed desired state taken from the source",
            reports.clone(),
        );
        registry.register("enforce_failures", "Reports whose changes could not be enforced", enforce_failures.clone());
        registry.register(
            "enforce_seconds",
            "Time from a source's report to the kernel having it (fetches of needed members included)",
            enforce_seconds.clone(),
        );
        registry.register(
            "kernel_repairs",
            "Repairs of changes made to the kernel behind podsg's back",
            repairs.clone(),
        );
        registry.register(
            "synced",
            "1 once the first full sync is in the kernel and the socket serves",
            synced.clone(),
        );
        Metrics {
            registry,
            flows: std::sync::OnceLock::new(),
            cni,
            cni_seconds,
            reports,
            enforce_failures,
            enforce_seconds,
            repairs,
            synced,
        }
    }
}

/// The operation's name, for labels and logs.
pub fn op(request: &Request) -> &'static str {
    match request {
        Request::Add(_) => "add",
        Request::Del(_) => "del",
        Request::Check(_) => "check",
        Request::Gc { .. } => "gc",
        Request::Status => "status",
    }
}

impl Metrics {
    pub fn answered(&self, op: &'static str, response: &Response, took: Duration) {
        let result = match response {
            Response::Ok(_) => "ok".to_string(),
            Response::Error(e) => e.code.to_string(),
        };
        self.cni.get_or_create(&CniLabels { op, result }).inc();
        self.cni_seconds.get_or_create(&OpLabels { op }).observe(took.as_secs_f64());
    }

    pub fn enforced(&self, ok: bool, took: Duration) {
        self.reports.inc();
        if !ok {
            self.enforce_failures.inc();
        }
        self.enforce_seconds.observe(took.as_secs_f64());
    }

    pub fn repaired(&self) {
        self.repairs.inc();
    }

    pub fn set_synced(&self) {
        self.synced.set(1);
    }

    /// Where the dataplane's counters come from, as Prometheus text.
    pub fn read_flows_with(&self, read: Box<dyn Fn() -> String + Send + Sync>) {
        let _ = self.flows.set(read);
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String");
        if let Some(read) = self.flows.get() {
            // The registry's text ends with `# EOF`: the counters go before it.
            let end = out.rfind("# EOF").unwrap_or(out.len());
            out.insert_str(end, &read());
        }
        out
    }
}

/// Serves `/metrics` and `/healthz` until the process ends.
pub fn serve_metrics(listener: TcpListener, metrics: Arc<Metrics>) {
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let mut line = String::new();
        let mut reader = BufReader::new(&stream);
        if reader.read_line(&mut line).is_err() {
            continue;
        }
        // The rest of the request, up to the empty line: closing with
        // unread bytes would reset the connection before the answer is read.
        let mut header = String::new();
        while reader.read_line(&mut header).is_ok_and(|n| n > 0) && header.trim_end() != "" {
            header.clear();
        }
        let path = line.split_whitespace().nth(1).unwrap_or("");
        let (status, kind, body) = match path {
            "/metrics" => ("200 OK", "text/plain; version=0.0.4; charset=utf-8", metrics.encode()),
            "/healthz" => ("200 OK", "text/plain", "ok\n".to_string()),
            _ => ("404 Not Found", "text/plain", "podsg agent: /metrics or /healthz\n".to_string()),
        };
        let _ = write!(
            stream,
            "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    }
}
