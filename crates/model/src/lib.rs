//! podsg's pure core: the SecurityGroupPolicy and SecurityGroup APIs, their
//! validation, label selectors, pod-to-group resolution, security-group
//! semantics and the verdict engine. No I/O: everything here is tested by the
//! thousand in memory, and the adapters (CLI, agent, controller) stay thin.
#![forbid(unsafe_code)]

pub mod api;
pub mod catalog;
pub mod dataplane;
pub mod decode;
pub mod diagnostic;
mod fast_hash;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod flow;
pub mod flow_diff;
pub mod group;
pub mod import;
pub mod kube_service;
pub mod labels;
pub mod lint;
pub mod node;
pub mod pod_eni;
pub mod policy;
pub mod reachability;
pub mod resolve;
pub mod settings;
pub mod slices;
pub mod suggest;
pub mod validate;
pub mod verdict;
pub mod workload;
pub mod world;
pub mod yaml;

pub use catalog::{Catalog, Loaded};
pub use diagnostic::{Diagnostic, ObjectRef, Origin, Severity};
