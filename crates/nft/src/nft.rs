//! The one entry point for talking to the kernel's nftables: swap it in
//! tests, or point it at a network namespace.

use crate::error::{Error, Result};
use crate::names::TABLE;
use crate::netlink::{ElementChange, Netlink};
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

pub trait Nft {
    /// Runs an `nft` script as one transaction (tables, chains, new sets).
    fn apply(&self, script: &str) -> Result<()>;
    /// `nft -j -n list table inet podsg`, or `None` when there is no table.
    fn list(&self) -> Result<Option<String>>;
    /// Adds and deletes elements of existing sets and maps in one
    /// transaction, at a cost that does not grow with the table.
    fn elements(&self, changes: &[ElementChange]) -> Result<()>;
    /// The namespace's nf_tables generation (changes with every commit).
    fn generation(&self) -> Result<u32>;
    /// What the dataplane counted: `nft -j -t list table inet podsg` (no
    /// set contents) and each counting set's listing; empty without a table.
    fn list_counters(&self) -> Result<Vec<String>>;
}

/// The `nft` program and an nf_tables netlink socket, in the current network
/// namespace or in a named one.
#[derive(Clone, Debug, Default)]
pub struct NftCli {
    pub netns: Option<String>,
    netlink: Arc<Mutex<Option<Arc<Netlink>>>>,
}

impl NftCli {
    pub fn in_netns(name: impl Into<String>) -> Self {
        NftCli { netns: Some(name.into()), ..Default::default() }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, "nft"]);
                c
            }
            None => Command::new("nft"),
        };
        c.args(args);
        c
    }

    fn run(&self, args: &[&str], input: Option<&str>) -> Result<std::process::Output> {
        let mut cmd = self.command(args);
        cmd.stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let spawn_error = |source| Error::Spawn { program: "nft".into(), source };
        let mut child = cmd.spawn().map_err(spawn_error)?;
        if let Some(text) = input {
            child.stdin.take().expect("piped").write_all(text.as_bytes()).map_err(spawn_error)?;
        }
        child.wait_with_output().map_err(spawn_error)
    }

    /// The socket, opened on first use inside the namespace.
    fn netlink(&self) -> Result<Arc<Netlink>> {
        let mut slot = self.netlink.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = slot.as_ref() {
            return Ok(n.clone());
        }
        let opened = match &self.netns {
            None => Netlink::open()?,
            Some(ns) => podsg_netns::enter::run_in(&format!("/run/netns/{ns}"), Netlink::open)
                .map_err(|e| Error::Netlink(format!("entering network namespace {ns}: {e}")))??,
        };
        let opened = Arc::new(opened);
        *slot = Some(opened.clone());
        Ok(opened)
    }
}

impl Nft for NftCli {
    fn apply(&self, script: &str) -> Result<()> {
        let out = self.run(&["-f", "-"], Some(script))?;
        if out.status.success() {
            return Ok(());
        }
        Err(Error::Nft { command: "nft -f -".into(), stderr: String::from_utf8_lossy(&out.stderr).trim().to_string() })
    }

    fn list(&self) -> Result<Option<String>> {
        let out = self.run(&["-j", "-n", "list", "table", "inet", TABLE], None)?;
        if out.status.success() {
            return Ok(Some(String::from_utf8_lossy(&out.stdout).into_owned()));
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr.contains("No such file or directory") {
            return Ok(None);
        }
        Err(Error::Nft { command: format!("nft list table inet {TABLE}"), stderr: stderr.trim().to_string() })
    }

    fn elements(&self, changes: &[ElementChange]) -> Result<()> {
        self.netlink()?.apply(changes)
    }

    fn generation(&self) -> Result<u32> {
        self.netlink()?.generation()
    }

    fn list_counters(&self) -> Result<Vec<String>> {
        let mut docs = Vec::new();
        let listings = std::iter::once(vec!["-j", "-t", "list", "table", "inet", TABLE])
            .chain(crate::names::COUNTED.iter().map(|(set, _, _)| vec!["-j", "list", "set", "inet", TABLE, set]));
        for args in listings {
            let out = self.run(&args, None)?;
            let stderr = String::from_utf8_lossy(&out.stderr);
            if !out.status.success() && stderr.contains("No such file or directory") {
                return Ok(Vec::new());
            }
            if !out.status.success() {
                return Err(Error::Nft {
                    command: format!("nft {}", args.join(" ")),
                    stderr: stderr.trim().to_string(),
                });
            }
            docs.push(String::from_utf8_lossy(&out.stdout).into_owned());
        }
        Ok(docs)
    }
}
