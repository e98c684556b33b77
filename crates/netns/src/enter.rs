//! Work inside a network namespace given by path (`/run/netns/NAME`,
//! `/proc/PID/ns/net`, as CNI gives them): a thread that has joined it,
//! `ip` run there, and a thread held there so that `ip` can name the
//! namespace by its thread ID.

use crate::ip::{Error, Result};
use std::fs::File;
use std::process::Command;
use std::sync::mpsc;

/// Starts `work` on a new thread that has joined the network namespace at
/// `path`; returns once the thread is inside (or could not get in).
pub fn spawn_in<T: Send + 'static>(
    path: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<std::thread::JoinHandle<T>> {
    let file = File::open(path).map_err(|source| Error::Io { what: path.to_string(), source })?;
    let (ready, entered) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        let joined = nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| e.to_string());
        let ok = joined.is_ok();
        let _ = ready.send(joined);
        // Never run `work` outside the namespace it was meant for.
        assert!(ok, "setns failed");
        work()
    });
    match entered.recv() {
        Ok(Ok(())) => Ok(handle),
        Ok(Err(e)) => Err(Error::Thread(format!("setns {path}: {e}"))),
        Err(_) => Err(Error::Thread("namespace thread died".into())),
    }
}

/// Runs `work` on a new thread that has joined the network namespace at `path`.
pub fn run_in<T: Send + 'static>(path: &str, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    spawn_in(path, work)?.join().map_err(|_| Error::Thread("namespace thread panicked".into()))
}

/// `ip ARGS` run inside the namespace at `path`.
pub fn ip_at(path: &str, args: &[&str]) -> Result<String> {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    run_in(path, move || {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        crate::ip::ip(&refs)
    })?
}

/// Holds a thread inside a namespace so that `ip` can name the namespace by
/// the thread's ID (`ip ... netns TID`), and lets it go when dropped.
pub(crate) struct Anchor {
    pub(crate) tid: i32,
    release: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Anchor {
    pub(crate) fn new(path: &str) -> Result<Anchor> {
        let (tell, told) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let thread = spawn_in(path, move || {
            let _ = tell.send(nix::unistd::gettid().as_raw());
            let _ = released.recv();
        })?;
        let tid = told.recv().map_err(|_| Error::Thread("anchor thread died".into()))?;
        Ok(Anchor { tid, release: Some(release), thread: Some(thread) })
    }
}

impl Drop for Anchor {
    fn drop(&mut self) {
        drop(self.release.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `ip -batch -` inside the namespace at `path`: several commands, one process.
pub fn ip_batch_at(path: &str, commands: &[String]) -> Result<()> {
    use std::io::Write;
    let script = commands.join("\n") + "\n";
    let out = run_in(path, move || -> std::io::Result<std::process::Output> {
        let mut child = Command::new("ip")
            .args(["-batch", "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()?;
        child.stdin.take().expect("piped").write_all(script.as_bytes())?;
        child.wait_with_output()
    })?
    .map_err(|source| Error::Io { what: "ip -batch".into(), source })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Error::Ip {
            args: format!("-batch: {}", commands.join("; ")),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}
