pub mod agent;
pub mod check;
pub mod controller;
pub mod explain;
pub mod import;
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
