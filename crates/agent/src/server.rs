//! The CNI plugin's way in: a unix socket (mode 0600), one JSON request and
//! one JSON response per connection. Requests are served one at a time, so
//! the node's state changes in one order.

use crate::agent::Agent;
use crate::backend::Backend;
use crate::error::Error;
use crate::metrics::{Metrics, serve_metrics};
use crate::source::Source;
use podsg_cni::agent_protocol::{Request, Response};
use podsg_cni::error::{CniError, Code};
use podsg_nft::SyncReport;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How often the kernel's nf_tables generation is compared with the one
/// podsg left (one netlink request; the table is read back only if it moved).
const REPAIR_EVERY: Duration = Duration::from_secs(10);
/// How often the table is read back whatever the generation says (covers a
/// commit by someone else between podsg's own commit and its reading of the
/// generation). `nft` takes about 4 s to list 200,000 elements: 0.4% of a
/// core at this interval.
const FULL_REPAIR_EVERY: Duration = Duration::from_secs(900);

/// How long a CNI ADD waits for its pod to appear in the desired state
/// (the source reports it moments after the pod is created).
const POD_WAIT: Duration = Duration::from_secs(10);

/// The agent and a signal for "the desired state changed".
struct Shared<B: Backend> {
    agent: Mutex<Agent<B>>,
    changed: Condvar,
    metrics: Arc<Metrics>,
}

/// Takes the source's first report (everything it holds) and brings the
/// kernel to it, then serves until the process ends, taking each later
/// report as it comes. Nothing is enforced from a partial view: the
/// kernel keeps what it has until the first report is in.
/// `metrics`, when given, serves `/metrics` from the start.
pub fn serve<B, S>(agent: Agent<B>, mut source: S, socket: &Path, metrics: Option<TcpListener>) -> std::io::Result<()>
where
    B: Backend + Send + 'static,
    S: Source + 'static,
{
    let shared =
        Arc::new(Shared { agent: Mutex::new(agent), changed: Condvar::new(), metrics: Arc::new(Metrics::default()) });
    let reader = shared.clone();
    std::thread::spawn(move || {
        crate::flow_log::follow(|| reader.agent.lock().unwrap_or_else(|e| e.into_inner()).flow_labels())
    });
    if let Some(listener) = metrics {
        let metrics = shared.metrics.clone();
        let reader = shared.clone();
        metrics.read_flows_with(Box::new(move || {
            match reader.agent.lock().unwrap_or_else(|e| e.into_inner()).flow_metrics() {
                Ok(text) => text,
                Err(e) => format!("# podsg agent: the dataplane's counters cannot be read: {e}\n"),
            }
        }));
        std::thread::spawn(move || serve_metrics(listener, metrics));
    }
    match settle(&mut source, &shared) {
        None => return Err(std::io::Error::other("the desired state's source ended")),
        Some((Ok(report), _)) => eprintln!("podsg-agent: started: {report}"),
        Some((Err(e), _)) => eprintln!("podsg-agent: started, but the first reconcile failed: {e}"),
    }
    if let Some(dir) = socket.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let _ = std::fs::remove_file(socket);
    let listener = UnixListener::bind(socket)?;
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o600))?;
    shared.metrics.set_synced();
    let fed = shared.clone();
    std::thread::spawn(move || follow(source, &fed));
    let repaired = shared.clone();
    std::thread::spawn(move || repair(&repaired));
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let shared = shared.clone();
        std::thread::spawn(move || answer(stream, &shared));
    }
    Ok(())
}

/// Takes the source's next report into the view and, while the source
/// must fetch members the view now needs, its following reports too;
/// then changes the kernel once. Reports are waited for outside the lock:
/// CNI requests go on meanwhile. `None` when the source ended; else the
/// result and when the first report came.
fn settle<B: Backend, S: Source>(source: &mut S, shared: &Shared<B>) -> Option<(Result<SyncReport, Error>, Instant)> {
    let mut batch = source.next()?;
    let received = Instant::now();
    loop {
        let wanted = {
            let mut a = shared.agent.lock().ok()?;
            a.learn(batch);
            a.wanted_groups()
        };
        if !source.want_members(&wanted) {
            break;
        }
        batch = source.next()?;
    }
    let result = shared.agent.lock().ok()?.enforce();
    shared.metrics.enforced(result.is_ok(), received.elapsed());
    shared.changed.notify_all();
    Some((result, received))
}

/// Takes the source's reports as they come.
fn follow<B: Backend, S: Source>(mut source: S, shared: &Shared<B>) {
    while let Some((result, received)) = settle(&mut source, shared) {
        let took = received.elapsed().as_millis();
        match result {
            Ok(SyncReport::InSync) => {}
            Ok(report) => eprintln!("podsg-agent: desired state changed (enforced in {took} ms): {report}"),
            Err(e) => eprintln!("podsg-agent: desired state changed, reconcile failed ({took} ms): {e}"),
        }
    }
    eprintln!("podsg-agent: the desired state's source ended; enforcing what it last said");
}

/// Compares the kernel's nf_tables generation with podsg's now and then,
/// and reads the table back when it moved (or every `FULL_REPAIR_EVERY`).
fn repair<B: Backend>(shared: &Shared<B>) {
    let mut last_full = Instant::now();
    loop {
        std::thread::sleep(REPAIR_EVERY);
        let full = last_full.elapsed() >= FULL_REPAIR_EVERY;
        if full {
            last_full = Instant::now();
        }
        let Ok(mut a) = shared.agent.lock() else { return };
        match a.repair(full) {
            Ok(SyncReport::InSync) => {}
            Ok(report) => {
                shared.metrics.repaired();
                eprintln!("podsg-agent: repaired the kernel: {report}");
            }
            Err(e) => eprintln!("podsg-agent: repair failed: {e}"),
        }
    }
}

/// Handles one request. An ADD for a pod the desired state does not have
/// yet waits (up to `POD_WAIT`) for the source to report it.
fn handle<B: Backend>(shared: &Shared<B>, request: Request) -> Response {
    let Ok(mut a) = shared.agent.lock() else {
        return Response::Error(CniError::new(Code::TryAgainLater, "the agent is recovering", ""));
    };
    if let Request::Add(add) = &request
        && let (Some(namespace), Some(name)) = (&add.pod_namespace, &add.pod_name)
    {
        let deadline = Instant::now() + POD_WAIT;
        while !a.knows_pod(namespace, name) && Instant::now() < deadline {
            let Ok((guard, _)) = shared.changed.wait_timeout(a, deadline - Instant::now()) else {
                return Response::Error(CniError::new(Code::TryAgainLater, "the agent is recovering", ""));
            };
            a = guard;
        }
    }
    a.handle(request)
}

fn answer<B: Backend>(stream: UnixStream, shared: &Shared<B>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut line = String::new();
    let mut reader = BufReader::new(&stream);
    let response = match reader.read_line(&mut line) {
        Err(e) => Response::Error(CniError::new(Code::Io, "cannot read the request", e.to_string())),
        Ok(_) => match serde_json::from_str::<Request>(&line) {
            Err(e) => Response::Error(CniError::new(Code::Decode, "the request is not valid", e.to_string())),
            Ok(request) => {
                let op = crate::metrics::op(&request);
                let started = Instant::now();
                let response = handle(shared, request);
                shared.metrics.answered(op, &response, started.elapsed());
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
