//! The one entry point to iproute2.

use std::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("ip {args}: {stderr}")]
    Ip { args: String, stderr: String },
    #[error("could not run {what}: {source}")]
    Io { what: String, source: std::io::Error },
    #[error("{0}")]
    Thread(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Runs `ip ARGS` and returns its standard output.
pub fn ip(args: &[&str]) -> Result<String> {
    let out = Command::new("ip").args(args).output().map_err(|source| Error::Io { what: "ip".into(), source })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(Error::Ip { args: args.join(" "), stderr: String::from_utf8_lossy(&out.stderr).trim().to_string() })
    }
}

/// Runs `ip -n NS ARGS`.
pub fn ip_in(netns: &str, args: &[&str]) -> Result<String> {
    let mut all = vec!["-n", netns];
    all.extend_from_slice(args);
    ip(&all)
}
