//! podsg on Kubernetes. The model crate knows nothing of kube; this crate
//! holds what the API server sees: the CRDs (generated from Rust types),
//! the controller, and the conversions from API objects to the model's.

pub mod agent_source;
mod client;
pub mod controller;
pub mod convert;
pub mod crd;
mod error;
pub mod fuzzing;
pub mod sgp_api;
mod shutdown;
pub mod webhook;

pub use client::{client, init_logging};
pub use error::{Error, Result};
