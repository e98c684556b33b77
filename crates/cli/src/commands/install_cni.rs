//! `podsg install-cni`, the agent DaemonSet's init step: puts the plugin
//! and podsg's network configuration where the container runtime finds
//! them. Every file is written beside its place and renamed into it, so the
//! runtime never reads half a file and a running plugin binary is
//! replaced, not overwritten.

use crate::args::{CniMode, InstallCniArgs};
use podsg_cni::install::{self, CONFLIST, InstallError, PLUGIN};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub fn run(args: &InstallCniArgs) -> u8 {
    match install(args) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("podsg install-cni: {e}");
            1
        }
    }
}

fn install(args: &InstallCniArgs) -> Result<(), String> {
    let plugin = match &args.plugin {
        Some(p) => p.clone(),
        None => {
            std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?.with_file_name("podsg-cni")
        }
    };
    let binary = std::fs::read(&plugin).map_err(|e| format!("--plugin {}: {e}", plugin.display()))?;
    let target = args.bin_dir.join(PLUGIN);
    replace(&target, &binary, 0o755)?;
    eprintln!("podsg install-cni: installed {} as {}", plugin.display(), target.display());
    let conf = match args.mode {
        CniMode::Standalone => install::standalone(&args.socket),
        CniMode::Chained => {
            let (file, text) = wait_for_primary(&args.conf_dir, Duration::from_secs(args.wait_seconds))?;
            eprintln!("podsg install-cni: chaining after {}", file.display());
            install::chained(&file.display().to_string(), &text, &args.socket).map_err(|e| e.to_string())?
        }
    };
    let path = args.conf_dir.join(CONFLIST);
    let text = serde_json::to_string_pretty(&conf).expect("a configuration serializes") + "\n";
    replace(&path, text.as_bytes(), 0o644)?;
    eprintln!("podsg install-cni: wrote {}", path.display());
    Ok(())
}

/// The primary configuration's file and text, once the cluster's CNI has written it.
fn wait_for_primary(dir: &Path, wait: Duration) -> Result<(PathBuf, String), String> {
    let start = Instant::now();
    loop {
        let names: Vec<String> = std::fs::read_dir(dir)
            .map_err(|e| format!("--conf-dir {}: {e}", dir.display()))?
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        if let Some(name) = install::primary(&names) {
            let path = dir.join(name);
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            return Ok((path, text));
        }
        if start.elapsed() >= wait {
            return Err(InstallError::NoPrimary { dir: dir.display().to_string() }.to_string());
        }
        std::thread::sleep(Duration::from_secs(1).min(wait));
    }
}

/// Writes `bytes` beside `path`, then renames it into place.
fn replace(path: &Path, bytes: &[u8], mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let fail = |e: std::io::Error| format!("{}: {e}", path.display());
    let temporary = path.with_extension("podsg-new");
    std::fs::write(&temporary, bytes).map_err(fail)?;
    std::fs::set_permissions(&temporary, std::fs::Permissions::from_mode(mode)).map_err(fail)?;
    std::fs::rename(&temporary, path).map_err(fail)
}
