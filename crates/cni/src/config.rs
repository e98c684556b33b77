//! The network configuration on stdin, checked: a bad field is named, never
//! ignored in a way that would change what the plugin does.

use crate::error::{CniError, Code, Result};
use crate::result::CniResult;
use crate::{LATEST, SUPPORTED_VERSIONS};
use serde::Deserialize;
use serde_json::{Map, Value};

pub const DEFAULT_AGENT_SOCKET: &str = "/run/podsg/agent.sock";

/// Keys the spec or runtimes put in a plugin's configuration.
const STANDARD_KEYS: [&str; 12] = [
    "cniVersion",
    "name",
    "type",
    "args",
    "ipMasq",
    "ipam",
    "dns",
    "capabilities",
    "runtimeConfig",
    "prevResult",
    "cni.dev/valid-attachments",
    "cni.dev/attachments",
];
/// podsg's own keys.
const PODSG_KEYS: [&str; 1] = ["agentSocket"];

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct AttachmentKey {
    #[serde(rename = "containerID")]
    pub container_id: String,
    pub ifname: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NetConf {
    pub cni_version: String,
    pub name: String,
    pub agent_socket: String,
    /// Set when chained after another plugin.
    pub prev_result: Option<CniResult>,
    /// GC: the attachments that are still valid.
    pub valid_attachments: Option<Vec<AttachmentKey>>,
}

fn bad(code: Code, msg: &str, details: impl Into<String>) -> CniError {
    CniError::new(code, msg, details)
}

impl NetConf {
    pub fn parse(bytes: &[u8]) -> Result<NetConf> {
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|e| bad(Code::Decode, "network configuration is not valid JSON", e.to_string()))?;
        let Value::Object(map) = value else {
            return Err(bad(Code::Decode, "network configuration must be a JSON object", ""));
        };
        let version = string(&map, "cniVersion")?.ok_or_else(|| {
            bad(Code::InvalidConfig, "cniVersion is required", format!("one of {}", SUPPORTED_VERSIONS.join(", ")))
        })?;
        if !SUPPORTED_VERSIONS.contains(&version.as_str()) {
            return Err(bad(
                Code::IncompatibleVersion,
                "incompatible CNI version",
                format!("cniVersion {version}: this plugin supports {}", SUPPORTED_VERSIONS.join(", ")),
            )
            .with_version(LATEST));
        }
        let fail = |e: CniError| e.with_version(&version);
        for key in map.keys() {
            if !STANDARD_KEYS.contains(&key.as_str()) && !PODSG_KEYS.contains(&key.as_str()) {
                return Err(fail(bad(
                    Code::UnsupportedField,
                    "unsupported field in network configuration",
                    format!("{key}: podsg reads {} besides the standard fields", PODSG_KEYS.join(", ")),
                )));
            }
        }
        let name = string(&map, "name")
            .map_err(fail)?
            .ok_or_else(|| fail(bad(Code::InvalidConfig, "name is required", "the network's name")))?;
        let agent_socket =
            string(&map, "agentSocket").map_err(fail)?.unwrap_or_else(|| DEFAULT_AGENT_SOCKET.to_string());
        if !agent_socket.starts_with('/') {
            return Err(fail(bad(Code::InvalidConfig, "agentSocket must be an absolute path", agent_socket)));
        }
        let prev_result = match map.get("prevResult") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                serde_json::from_value(v.clone())
                    .map_err(|e| fail(bad(Code::Decode, "prevResult is not a CNI result", e.to_string())))?,
            ),
        };
        let valid_attachments = match map.get("cni.dev/valid-attachments") {
            None => None,
            Some(v) => Some(serde_json::from_value(v.clone()).map_err(|e| {
                fail(bad(
                    Code::Decode,
                    "cni.dev/valid-attachments is not a list of {containerID, ifname}",
                    e.to_string(),
                ))
            })?),
        };
        Ok(NetConf { cni_version: version, name, agent_socket, prev_result, valid_attachments })
    }
}

fn string(map: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(bad(Code::InvalidConfig, &format!("{key} must be a string"), other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configurations() {
        let ok =
            NetConf::parse(br#"{"cniVersion": "1.0.0", "name": "k8s", "type": "podsg", "capabilities": {}}"#).unwrap();
        assert_eq!((ok.agent_socket.as_str(), ok.prev_result.is_none()), (DEFAULT_AGENT_SOCKET, true));
        let cases: [(&[u8], u32, &str); 7] = [
            (b"{", 6, "network configuration is not valid JSON"),
            (b"[]", 6, "network configuration must be a JSON object"),
            (br#"{"name": "k8s"}"#, 7, "cniVersion is required"),
            (br#"{"cniVersion": "0.3.1", "name": "k8s"}"#, 1, "incompatible CNI version"),
            (
                br#"{"cniVersion": "1.1.0", "name": "k8s", "agentSockets": "/x"}"#,
                2,
                "unsupported field in network configuration",
            ),
            (br#"{"cniVersion": "1.1.0"}"#, 7, "name is required"),
            (
                br#"{"cniVersion": "1.1.0", "name": "k8s", "agentSocket": "run/x"}"#,
                7,
                "agentSocket must be an absolute path",
            ),
        ];
        for (input, code, msg) in cases {
            let e = NetConf::parse(input).unwrap_err();
            assert_eq!((e.code, e.msg.as_str()), (code, msg), "{}", String::from_utf8_lossy(input));
        }
        let e = NetConf::parse(br#"{"cniVersion": "0.3.1", "name": "k8s"}"#).unwrap_err();
        assert_eq!(e.details, "cniVersion 0.3.1: this plugin supports 1.0.0, 1.1.0");
    }
}
