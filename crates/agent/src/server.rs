//! The CNI plugin's way in: a unix socket (mode 0600), one JSON request and
//! one JSON response per connection. Requests are served one at a time, so
//! the node's state changes in one order.

use crate::agent::Agent;
use podsg_cni::agent_protocol::{Request, Response};
use podsg_cni::error::{CniError, Code};
use podsg_nft::Nft;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often the kernel is read back and repaired.
const REPAIR_EVERY: Duration = Duration::from_secs(10);

/// Reconciles, then serves until the process ends; re-reconciles whenever the
/// desired state changes (polled every `poll`).
pub fn serve<N: Nft + Send + 'static>(mut agent: Agent<N>, socket: &Path, poll: Duration) -> std::io::Result<()> {
    match agent.reconcile() {
        Ok(report) => eprintln!("podsg-agent: started: {}", describe(&report)),
        Err(e) => eprintln!("podsg-agent: started, but the first reconcile failed: {e}"),
    }
    if let Some(dir) = socket.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let _ = std::fs::remove_file(socket);
    let listener = UnixListener::bind(socket)?;
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o600))?;
    let agent = Arc::new(Mutex::new(agent));
    let watched = agent.clone();
    std::thread::spawn(move || {
        let mut last = watched.lock().map(|a| a.fingerprint()).unwrap_or_default();
        let mut since_repair = Duration::ZERO;
        loop {
            std::thread::sleep(poll);
            let Ok(mut a) = watched.lock() else { return };
            since_repair += poll;
            if since_repair >= REPAIR_EVERY {
                since_repair = Duration::ZERO;
                match a.repair() {
                    Ok(podsg_nft::SyncReport::InSync) => {}
                    Ok(report) => eprintln!("podsg-agent: repaired the kernel: {}", describe(&report)),
                    Err(e) => eprintln!("podsg-agent: repair failed: {e}"),
                }
            }
            let now = a.fingerprint();
            if now != last {
                last = now;
                match a.reconcile() {
                    Ok(report) => eprintln!("podsg-agent: desired state changed: {}", describe(&report)),
                    Err(e) => eprintln!("podsg-agent: desired state changed, reconcile failed: {e}"),
                }
            }
        }
    });
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let agent = agent.clone();
        std::thread::spawn(move || answer(stream, &agent));
    }
    Ok(())
}

fn describe(report: &podsg_nft::SyncReport) -> String {
    match report {
        podsg_nft::SyncReport::InSync => "kernel already in sync".into(),
        podsg_nft::SyncReport::Updated { script } => format!("{} element changes", script.lines().count()),
        podsg_nft::SyncReport::Replaced { reason } => format!("table replaced ({reason})"),
    }
}

fn answer<N: Nft>(stream: UnixStream, agent: &Mutex<Agent<N>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut line = String::new();
    let mut reader = BufReader::new(&stream);
    let response = match reader.read_line(&mut line) {
        Err(e) => Response::Error(CniError::new(Code::Io, "cannot read the request", e.to_string())),
        Ok(_) => match serde_json::from_str::<Request>(&line) {
            Err(e) => Response::Error(CniError::new(Code::Decode, "the request is not valid", e.to_string())),
            Ok(request) => {
                let op = format!("{request:?}").split(['(', ' ', '{']).next().unwrap_or("").to_string();
                let response = match agent.lock() {
                    Ok(mut a) => a.handle(request),
                    Err(_) => Response::Error(CniError::new(Code::TryAgainLater, "the agent is recovering", "")),
                };
                if let Response::Error(e) = &response {
                    eprintln!("podsg-agent: {op} failed: {e}");
                }
                response
            }
        },
    };
    let mut out = serde_json::to_string(&response).expect("responses serialize");
    out.push('\n');
    let _ = (&stream).write_all(out.as_bytes());
}
