//! Lab mode: the whole system on one Linux machine, no cluster, no cloud.
//! Nodes, pods and external endpoints are network namespaces on an underlay
//! bridge; each node runs the real agent, pods are wired by the real CNI
//! plugin, the database is a real PostgreSQL server and the cluster DNS a
//! real DNS server.

mod check;
mod daemons;
mod error;
mod http;
mod kube_proxy;
mod layout;
mod pods;
mod progress;
mod run;
mod services;
mod spec;
mod state;

pub use check::{CheckReport, Outcome, check};
pub use error::{Error, Result};
pub use http::{get as http_get, serve as serve_http};
pub use run::{LabOptions, apply, down, exec, logs, metrics, status, up};
pub use spec::{Expectation, Expected, LabFiles};
