//! `podsg webhook`: the validating admission webhook, over HTTPS with a
//! certificate it reloads when its files change (cert-manager rotates
//! them). `decide` holds every decision; `tls` and `server` carry bytes.

mod decide;
mod server;
mod tls;

pub use decide::{Rules, decide, review};
pub use server::{serve, tls_config};
pub use tls::{ReloadingCertificate, TlsError};

use crate::error::{Error, Result};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Options {
    pub listen: SocketAddr,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub rules: Rules,
    /// How often the certificate files are read again.
    pub reload_every: Duration,
}

/// Serves until SIGTERM or SIGINT.
pub async fn run(options: Options) -> Result<()> {
    let certificate =
        Arc::new(ReloadingCertificate::load(options.cert, options.key).map_err(|e| Error::Tls(e.to_string()))?);
    tokio::spawn(certificate.clone().watch(options.reload_every));
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|e| Error::Listen { address: options.listen, source: e })?;
    tracing::info!(listen = %options.listen, controller = options.rules.controller, "serving admission reviews");
    tokio::select! {
        served = serve(listener, tls_config(certificate), options.rules) => {
            served.map_err(|e| Error::Listen { address: options.listen, source: e })
        }
        () = crate::shutdown::signal() => {
            tracing::info!("stopping");
            Ok(())
        }
    }
}
