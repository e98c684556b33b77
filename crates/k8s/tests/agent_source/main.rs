//! The node agent's Kubernetes source: the collector on its own, the
//! watches against kube's tower-test mock service, and the agent they
//! feed driving the real dataplane in a network namespace.

mod api;
mod collect;
mod kernel;
