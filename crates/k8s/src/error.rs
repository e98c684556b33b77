//! The errors of podsg on Kubernetes.

use std::net::SocketAddr;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot listen on {address}: {source}")]
    Listen { address: SocketAddr, source: std::io::Error },
    #[error("leader election: {0}")]
    Lease(String),
    #[error("Kubernetes client: {0}")]
    Kube(#[from] kube::Error),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("the watches' runtime: {0}")]
    Runtime(String),
    #[error("kubeconfig: {0}")]
    Kubeconfig(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
