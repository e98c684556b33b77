//! The Kubernetes client and the daemons' logging: set up once here, so the
//! CLI stays free of kube.

use crate::error::{Error, Result};
use kube::Client;
use kube::config::{Config, KubeConfigOptions, Kubeconfig};
use std::path::Path;

/// A client from `kubeconfig` (and `context`) when given; otherwise as kube
/// finds its configuration (in-cluster service account, then `KUBECONFIG`
/// or `~/.kube/config`).
pub async fn client(kubeconfig: Option<&Path>, context: Option<&str>) -> Result<Client> {
    let options = KubeConfigOptions { context: context.map(String::from), ..KubeConfigOptions::default() };
    let config = match kubeconfig {
        Some(path) => {
            let file =
                Kubeconfig::read_from(path).map_err(|e| Error::Kubeconfig(format!("{}: {e}", path.display())))?;
            Config::from_custom_kubeconfig(file, &options).await.map_err(|e| Error::Kubeconfig(e.to_string()))?
        }
        None if context.is_some() => {
            Config::from_kubeconfig(&options).await.map_err(|e| Error::Kubeconfig(e.to_string()))?
        }
        None => Config::infer().await.map_err(|e| Error::Kubeconfig(e.to_string()))?,
    };
    Ok(Client::try_from(config)?)
}

/// Structured logs on stderr: `RUST_LOG` filters (default `info`), one JSON
/// object per line with `json`.
pub fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
