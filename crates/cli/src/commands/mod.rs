pub mod agent;
pub mod check;
pub mod controller;
pub mod diff;
pub mod docs;
pub mod explain;
mod explain_service;
pub mod graph;
pub mod import;
pub mod install_cni;
pub mod lab;
pub mod webhook;

/// Runs a daemon's future on a multi-threaded runtime; exit 1 on error.
fn daemon(name: &str, run: impl std::future::Future<Output = podsg_k8s::Result<()>>) -> u8 {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("podsg {name}: cannot start the runtime: {e}");
            return 1;
        }
    };
    match runtime.block_on(run) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("podsg {name}: {e}");
            1
        }
    }
}

/// The ClusterConfig in `path` (`--config`), or podsg's defaults; the
/// file's errors are printed for command `name`.
fn cluster_settings(name: &str, path: Option<&std::path::Path>) -> Option<podsg_model::settings::Settings> {
    let Some(path) = path else { return Some(podsg_model::settings::Settings::default()) };
    match podsg_manifests::load(&[path.to_path_buf()]) {
        Ok((loaded, _)) => Some(loaded.catalog.settings),
        Err(diagnostics) => {
            for d in diagnostics.iter().filter(|d| d.is_error()) {
                eprintln!("podsg {name}: --config {}: {d}", path.display());
            }
            None
        }
    }
}
