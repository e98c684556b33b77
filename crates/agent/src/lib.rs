//! The node agent: takes the changes its source reports (manifest files,
//! the Kubernetes API) into its view of the world, enforces through a
//! backend (veth + nftables today), and serves the CNI plugin over a unix
//! socket and Prometheus metrics over HTTP. Enforcement lives in the
//! kernel, so it stays while the agent is down; a restarted agent changes
//! the kernel only once its source has reported everything, in one atomic
//! change.

mod agent;
mod attachments;
mod backend;
mod error;
mod flow_log;
mod flows;
mod ipam;
mod metrics;
mod naming;
mod node_view;
mod server;
mod source;

pub use agent::{Agent, AgentConfig};
pub use attachments::{Record, Store};
pub use backend::{Backend, VethNft};
pub use error::{Error, Result};
pub use flows::{CellLabel, FlowLabels, LOG_DENIED_ANNOTATION, LogDenied};
pub use ipam::Allocator;
pub use metrics::Metrics;
pub use node_view::NodeView;
pub use server::serve;
pub use source::{ManifestFiles, Source};
