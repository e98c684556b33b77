//! podsg on Kubernetes. The model crate knows nothing of kube; this crate
//! holds what the API server sees: the CRDs, generated from Rust types.

pub mod crd;
