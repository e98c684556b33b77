//! What the lab reads beside the manifests: `LabSpec` (nodes, services) and
//! `LabExpectations` (the connectivity that must hold).

use crate::error::{Error, Result};
use podsg_model::api::PODSG_API_VERSION;
use podsg_model::{decode, yaml};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabSpec {
    /// How many nodes (default 2).
    #[serde(default)]
    pub nodes: Option<u8>,
    /// Members that run a PostgreSQL server.
    #[serde(default)]
    pub postgres: Vec<Postgres>,
    /// Where Services get their cluster IPs when their manifests name none
    /// (default 10.96.0.0/16, kubeadm's).
    #[serde(default)]
    pub service_cidr: Option<ipnet::Ipv4Net>,
    /// Log every pod's refused new connections (`podsg lab logs`); without
    /// it, only pods annotated `podsg.io/log-denied: "true"`.
    #[serde(default)]
    pub log_denied: bool,
    /// Pods and nodes get IPv6 addresses too, from `ipv6Range`.
    #[serde(default)]
    pub dual_stack: bool,
    /// The ULA range IPv6 addresses come from (default fd00:10::/48): its
    /// first /64 is the underlay, node N's pods get the Nth.
    #[serde(default)]
    pub ipv6_range: Option<ipnet::Ipv6Net>,
}

impl LabSpec {
    /// The IPv6 range, when the lab is dual-stack.
    pub fn ipv6(&self) -> Option<ipnet::Ipv6Net> {
        self.dual_stack.then(|| self.ipv6_range.unwrap_or_else(|| "fd00:10::/48".parse().expect("a valid range")))
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Postgres {
    /// The member's name (or address).
    pub member: String,
    #[serde(default = "default_password")]
    pub password: String,
    /// SQL run once the server is up (as the postgres user).
    #[serde(default)]
    pub sql: String,
}

fn default_password() -> String {
    "podsg-lab".into()
}

/// What a check does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckKind {
    /// A TCP or UDP connection answered by an echo server, or an ICMP echo.
    #[default]
    Connect,
    /// `psql` to the PostgreSQL member, reading a table.
    Psql,
    /// A name lookup through the cluster DNS.
    Dns,
    /// An HTTP GET (port 80 unless given), by name through the pod's
    /// resolver as `curl NAME` does; the lab runs a small HTTP server in
    /// the pods it reaches.
    Http,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    #[default]
    Ipv4,
    Ipv6,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Expected {
    Allow,
    Deny,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Expectation {
    /// `namespace/name` of a pod or workload.
    pub from: String,
    /// Pod or workload, Service (`NAME` in the client's namespace,
    /// `NAME.NAMESPACE[.svc.cluster.local]`, `NAMESPACE/NAME`), member
    /// name, or IP; for `dns`, the name to look up.
    pub to: String,
    #[serde(default)]
    pub check: CheckKind,
    /// `tcp` (default), `udp` or `icmp` for `connect`.
    #[serde(default)]
    pub protocol: Option<String>,
    #[serde(default)]
    pub port: Option<u16>,
    /// For `psql`: the query (default `SELECT count(*) FROM test_data`).
    #[serde(default)]
    pub query: Option<String>,
    /// `ipv4` (default) or `ipv6`: which of the destination's addresses a
    /// `connect` or `http` check uses (dual-stack labs).
    #[serde(default)]
    pub family: Family,
    pub result: Expected,
}

impl Expectation {
    /// `tcp/5432`, `udp/53`, `icmp`, `psql`, `dns`; ` over ipv6` when asked so.
    pub fn what(&self) -> String {
        let what = self.what_alone();
        if self.family == Family::Ipv6 { format!("{what} over ipv6") } else { what }
    }

    fn what_alone(&self) -> String {
        match self.check {
            CheckKind::Psql => "psql".into(),
            CheckKind::Dns => "dns".into(),
            CheckKind::Http => match self.port {
                Some(p) => format!("http/{p}"),
                None => "http".into(),
            },
            CheckKind::Connect => {
                let protocol = self.protocol.as_deref().unwrap_or("tcp");
                match self.port {
                    Some(p) => format!("{protocol}/{p}"),
                    None => protocol.to_string(),
                }
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectationsSpec {
    expect: Vec<Expectation>,
}

/// The lab's own objects found in a directory of manifests.
#[derive(Clone, Debug, Default)]
pub struct LabFiles {
    pub spec: LabSpec,
    pub expectations: Vec<Expectation>,
}

impl LabFiles {
    pub fn read(dir: &Path) -> Result<LabFiles> {
        let mut out = LabFiles::default();
        for file in podsg_manifests::files(&[PathBuf::from(dir)]) {
            let text = std::fs::read_to_string(&file).map_err(crate::error::io(file.display().to_string()))?;
            let name = file.display().to_string();
            let mut failed = None;
            // Syntax errors are reported by the manifest reader, which reads the same files.
            let _ = yaml::read_whole(yaml::strip_bom(&text), |unit| {
                let yaml::Unit::Document { node, .. } = unit else { return };
                if failed.is_some() || node.get("apiVersion").and_then(yaml::Node::as_str) != Some(PODSG_API_VERSION) {
                    return;
                }
                let kind = node.get("kind").and_then(yaml::Node::as_str).unwrap_or_default().to_string();
                let Some(spec) = node.get("spec") else { return };
                let bad = |d: Box<podsg_model::Diagnostic>| {
                    let at = d.position.map(|p| format!(":{p}")).unwrap_or_default();
                    Error::Manifests(format!("{name}{at}: {kind}: spec.{}: {}", d.path, d.message))
                };
                let result = match kind.as_str() {
                    "LabSpec" => decode::typed_node(spec).map(|s| out.spec = s).map_err(bad),
                    "LabExpectations" => decode::typed_node::<ExpectationsSpec>(spec)
                        .map(|e| out.expectations.extend(e.expect))
                        .map_err(bad),
                    _ => Ok(()),
                };
                failed = result.err();
            });
            if let Some(e) = failed {
                return Err(e);
            }
        }
        Ok(out)
    }
}
