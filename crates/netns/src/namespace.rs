use crate::ip::{Error, Result, ip, ip_in};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// A named network namespace, deleted (with its links) when dropped.
#[derive(Debug)]
pub struct Netns {
    name: String,
    keep: bool,
}

static SEQUENCE: AtomicU32 = AtomicU32::new(0);

impl Netns {
    /// Creates `PREFIX-PID-N`, unique per process and call.
    pub fn new(prefix: &str) -> Result<Netns> {
        let name = format!("{prefix}-{}-{}", std::process::id(), SEQUENCE.fetch_add(1, Ordering::Relaxed));
        Netns::create(&name)
    }

    /// Creates a namespace with exactly this name.
    pub fn create(name: &str) -> Result<Netns> {
        ip(&["netns", "add", name])?;
        let ns = Netns { name: name.to_string(), keep: false };
        ns.ip(&["link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// A handle on an existing namespace; dropping it leaves the namespace be.
    pub fn existing(name: &str) -> Netns {
        Netns { name: name.to_string(), keep: true }
    }

    /// Leaves the namespace in place when the guard drops.
    pub fn keep(mut self) -> String {
        self.keep = true;
        self.name.clone()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `/run/netns/NAME`, the path CNI would be given.
    pub fn path(&self) -> String {
        format!("/run/netns/{}", self.name)
    }

    pub fn ip(&self, args: &[&str]) -> Result<String> {
        ip_in(&self.name, args)
    }

    /// Runs a program inside the namespace (`ip netns exec`).
    pub fn exec(&self, program: &str, args: &[&str]) -> Result<Output> {
        Command::new("ip")
            .args(["netns", "exec", &self.name, program])
            .args(args)
            .output()
            .map_err(|source| Error::Io { what: program.to_string(), source })
    }

    /// Sets a sysctl inside the namespace, e.g. `net.ipv4.ip_forward`.
    pub fn sysctl(&self, key: &str, value: &str) -> Result<()> {
        let out = self.exec("sysctl", &["-qw", &format!("{key}={value}")])?;
        if out.status.success() {
            Ok(())
        } else {
            Err(Error::Ip {
                args: format!("sysctl {key}={value}"),
                stderr: String::from_utf8_lossy(&out.stderr).into(),
            })
        }
    }

    /// Runs `work` on a new thread that has joined the namespace.
    pub fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        crate::enter::run_in(&self.path(), work)
    }

    /// Spawns long-running work on a thread inside the namespace.
    pub fn spawn<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<std::thread::JoinHandle<T>> {
        crate::enter::spawn_in(&self.path(), work)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        if !self.keep {
            let _ = ip(&["netns", "del", &self.name]);
        }
    }
}
