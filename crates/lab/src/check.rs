//! `podsg lab check`: every expectation, tested with real connections, and a
//! from x to matrix of the outcomes.

use crate::error::{Error, Result};
use crate::run;
use crate::spec::{CheckKind, Expectation, Expected, LabFiles};
use crate::state::LabState;
use podsg_netns::{Netns, Probe};
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_millis(1500);

#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    pub from: String,
    pub to: String,
    pub check: String,
    pub expected: Expected,
    pub actual: Expected,
    pub ok: bool,
    /// What was seen: the query's answer, or why it failed.
    pub detail: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    pub ok: bool,
    pub outcomes: Vec<Outcome>,
}

impl CheckReport {
    /// A from x to matrix; each cell lists its checks, `✓` held, `✗` did not.
    pub fn matrix(&self) -> String {
        let mut rows: BTreeMap<&str, BTreeMap<&str, Vec<String>>> = BTreeMap::new();
        let mut columns: Vec<&str> = Vec::new();
        for o in &self.outcomes {
            if !columns.contains(&o.to.as_str()) {
                columns.push(&o.to);
            }
            let verdict = match o.actual {
                Expected::Allow => "allow",
                Expected::Deny => "deny",
            };
            let mark = if o.ok { "✓" } else { "✗" };
            rows.entry(&o.from).or_default().entry(&o.to).or_default().push(format!("{} {verdict} {mark}", o.check));
        }
        let width = |items: &mut dyn Iterator<Item = usize>| items.max().unwrap_or(0);
        let first = width(&mut rows.keys().map(|k| k.chars().count())).max("from \\ to".len());
        let widths: Vec<usize> = columns
            .iter()
            .map(|c| {
                let cells = rows.values().filter_map(|r| r.get(c)).map(|v| v.join(", ").chars().count());
                width(&mut cells.chain([c.chars().count()]))
            })
            .collect();
        let pad = |s: &str, w: usize| format!("{s}{}", " ".repeat(w.saturating_sub(s.chars().count())));
        let mut out = String::new();
        out.push_str(&pad("from \\ to", first));
        for (c, w) in columns.iter().zip(&widths) {
            out.push_str(" | ");
            out.push_str(&pad(c, *w));
        }
        out.push('\n');
        out.push_str(&"-".repeat(first + widths.iter().map(|w| w + 3).sum::<usize>()));
        out.push('\n');
        for (from, cells) in &rows {
            out.push_str(&pad(from, first));
            for (c, w) in columns.iter().zip(&widths) {
                out.push_str(" | ");
                out.push_str(&pad(&cells.get(c).map(|v| v.join(", ")).unwrap_or_default(), *w));
            }
            out.push('\n');
        }
        let held = self.outcomes.iter().filter(|o| o.ok).count();
        out.push_str(&format!("\n{held} of {} expectations hold\n", self.outcomes.len()));
        out
    }
}

pub fn check(dir: &Path) -> Result<CheckReport> {
    let state = LabState::load()?.ok_or_else(|| Error::Usage("no lab is up: run podsg lab up DIR first".into()))?;
    let files = LabFiles::read(dir)?;
    if files.expectations.is_empty() {
        return Err(Error::Usage(format!("{}: no LabExpectations to check", dir.display())));
    }
    let outcomes = files.expectations.iter().map(|e| run(&state, &files, e)).collect::<Result<Vec<_>>>()?;
    Ok(CheckReport { ok: outcomes.iter().all(|o| o.ok), outcomes })
}

fn run(state: &LabState, files: &LabFiles, e: &Expectation) -> Result<Outcome> {
    let from = state.pods_of(&e.from).first().map(|p| p.netns.clone()).ok_or_else(|| {
        Error::Usage(format!("expectation from {}: no pod or workload of this name in the lab", e.from))
    })?;
    let ns = Netns::existing(&from);
    let client_namespace = e.from.split_once('/').map_or("default", |(ns, _)| ns);
    let destination = || {
        run::destination(state, &e.to, client_namespace, e.family)
            .ok_or_else(|| Error::Usage(format!("expectation to {}: not in the lab", e.to)))
    };
    let (passed, detail) = match e.check {
        CheckKind::Connect => {
            let address = match destination()? {
                run::Destination::At(_, address) => address,
                run::Destination::Service(s) => IpAddr::V4(s.cluster_ip.ok_or_else(|| {
                    Error::Usage(format!(
                        "expectation to {}: Service {} is headless; a connect check names one of its pods",
                        e.to,
                        s.id()
                    ))
                })?),
            };
            match (e.protocol.as_deref().unwrap_or("tcp"), e.port) {
                ("tcp", Some(port)) => (Probe::tcp(&ns, SocketAddr::new(address, port), TIMEOUT)?, String::new()),
                ("udp", Some(port)) => (Probe::udp(&ns, SocketAddr::new(address, port), TIMEOUT)?, String::new()),
                ("icmp" | "icmpv6", _) => (Probe::icmp(&ns, address, TIMEOUT)?, String::new()),
                (protocol, _) => {
                    return Err(Error::Usage(format!(
                        "expectation {} -> {}: protocol {protocol} needs a port (tcp, udp) or is not one of tcp, udp, icmp, icmpv6",
                        e.from, e.to
                    )));
                }
            }
        }
        CheckKind::Psql => {
            // The member by name or by address.
            let address = |to: &str| run::target(state, to).map(|(_, a)| a);
            let server = address(&e.to);
            let password = files
                .spec
                .postgres
                .iter()
                .find(|p| p.member == e.to || (server.is_some() && address(&p.member) == server))
                .map(|p| p.password.clone())
                .unwrap_or_default();
            let query = e.query.clone().unwrap_or_else(|| "SELECT count(*) FROM test_data".into());
            let out = Command::new("ip")
                .args([
                    "netns",
                    "exec",
                    &from,
                    "env",
                    &format!("PGPASSWORD={password}"),
                    "PGCONNECT_TIMEOUT=3",
                    "psql",
                    "-h",
                    &e.to,
                ])
                .args(["-U", "postgres", "-d", "postgres", "-tA", "-c", &query])
                .output()
                .map_err(crate::error::io("psql"))?;
            let text = if out.status.success() {
                String::from_utf8_lossy(&out.stdout)
            } else {
                String::from_utf8_lossy(&out.stderr)
            };
            (out.status.success(), text.trim().lines().next().unwrap_or("").to_string())
        }
        CheckKind::Http => {
            // As `curl NAME` in the pod: names go through its resolver.
            let host = match destination()? {
                run::Destination::At(_, address) if e.to.contains('/') => address.to_string(),
                run::Destination::Service(s) if e.to.contains('/') => match s.cluster_ip {
                    Some(ip) => ip.to_string(),
                    None => s.fqdn(),
                },
                _ => e.to.clone(),
            };
            let exe = std::env::current_exe().map_err(crate::error::io("current executable"))?;
            let port = e.port.unwrap_or(80).to_string();
            let out = Command::new("ip")
                .args(["netns", "exec", &from])
                .arg(exe)
                .args(["lab", "http-get", &host, &port, "--timeout-ms", &TIMEOUT.as_millis().to_string()])
                .output()
                .map_err(crate::error::io("podsg lab http-get"))?;
            let text = if out.status.success() { &out.stdout } else { &out.stderr };
            (out.status.success(), String::from_utf8_lossy(text).trim().to_string())
        }
        CheckKind::Dns => {
            let out = Command::new("ip")
                .args(["netns", "exec", &from, "getent", "ahostsv4", &e.to])
                .output()
                .map_err(crate::error::io("getent"))?;
            let answer = String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap_or("").to_string();
            (out.status.success(), if answer.is_empty() { "no answer".into() } else { answer })
        }
    };
    let actual = if passed { Expected::Allow } else { Expected::Deny };
    Ok(Outcome {
        from: e.from.clone(),
        to: e.to.clone(),
        check: e.what(),
        expected: e.result,
        actual,
        ok: actual == e.result,
        detail,
    })
}
