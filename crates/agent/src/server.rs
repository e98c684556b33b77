//! The CNI plugin's way in: a unix socket (mode 0600), one JSON request and
//! one JSON response per connection. Requests are served one at a time, so
//! the node's state changes in one order.

use crate::agent::Agent;
use podsg_cni::agent_protocol::{Request, Response};
use podsg_cni::error::{CniError, Code};
use podsg_nft::{Nft, SyncReport};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often the kernel's nf_tables generation is compared with the one
/// podsg left (one netlink request; the table is read back only if it moved).
const REPAIR_EVERY: Duration = Duration::from_secs(10);
/// How often the table is read back whatever the generation says (covers a
/// commit by someone else between podsg's own commit and its reading of the
/// generation). `nft` takes about 4 s to list 200,000 elements: 0.4% of a
/// core at this interval.
const FULL_REPAIR_EVERY: Duration = Duration::from_secs(900);

/// Reconciles, then serves until the process ends; re-reconciles whenever the
/// desired state changes (polled every `poll`).
pub fn serve<N: Nft + Send + 'static>(mut agent: Agent<N>, socket: &Path, poll: Duration) -> std::io::Result<()> {
    match agent.reconcile() {
        Ok(report) => eprintln!("podsg-agent: started: {report}"),
        Err(e) => eprintln!("podsg-agent: started, but the first reconcile failed: {e}"),
    }
    if let Some(dir) = socket.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let _ = std::fs::remove_file(socket);
    let listener = UnixListener::bind(socket)?;
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o600))?;
    let source = agent.source();
    let agent = Arc::new(Mutex::new(agent));
    let watched = agent.clone();
    std::thread::spawn(move || {
        let (mut last_repair, mut last_full) = (Instant::now(), Instant::now());
        loop {
            std::thread::sleep(poll);
            // Load outside the lock: CNI requests go on while a large state loads.
            let Ok(loaded_at) = watched.lock().map(|a| a.loaded_at()) else { return };
            let now = source.fingerprint();
            let loading = Instant::now();
            let fresh = (now != loaded_at).then(|| source.load());
            let loaded_in = loading.elapsed();
            let Ok(mut a) = watched.lock() else { return };
            let enforcing = Instant::now();
            let result = match fresh {
                Some(loaded) => Some(a.refresh(loaded, now)),
                // A CNI request loaded a change first.
                None if a.unapplied() => Some(a.reconcile()),
                None => None,
            };
            // From the agent holding the new state to the kernel enforcing it.
            let took =
                format!("loaded in {} ms, enforced in {} ms", loaded_in.as_millis(), enforcing.elapsed().as_millis());
            match result {
                Some(Ok(report)) => eprintln!("podsg-agent: desired state changed ({took}): {report}"),
                Some(Err(e)) => eprintln!("podsg-agent: desired state changed, reconcile failed ({took}): {e}"),
                None => {}
            }
            if last_repair.elapsed() >= REPAIR_EVERY {
                let full = last_full.elapsed() >= FULL_REPAIR_EVERY;
                last_repair = Instant::now();
                if full {
                    last_full = last_repair;
                }
                match a.repair(full) {
                    Ok(SyncReport::InSync) => {}
                    Ok(report) => eprintln!("podsg-agent: repaired the kernel: {report}"),
                    Err(e) => eprintln!("podsg-agent: repair failed: {e}"),
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
