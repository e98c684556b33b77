//! The one entry point for talking to the kernel's nftables: swap it in
//! tests, or point it at a network namespace.

use crate::error::{Error, Result};
use crate::layout::TABLE;
use std::io::Write;
use std::process::{Command, Stdio};

pub trait Nft {
    /// Runs a script as one transaction.
    fn apply(&self, script: &str) -> Result<()>;
    /// `nft -j -n list table inet podsg`, or `None` when there is no table.
    fn list(&self) -> Result<Option<String>>;
}

/// The `nft` program, in the current network namespace or in a named one
/// (`ip netns exec NAME nft ...`).
#[derive(Clone, Debug, Default)]
pub struct NftCli {
    pub netns: Option<String>,
}

impl NftCli {
    pub fn in_netns(name: impl Into<String>) -> Self {
        NftCli { netns: Some(name.into()) }
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
}
