//! The network configuration the node agent's installer writes: podsg
//! alone (its routed veth and address allocator), or podsg chained after
//! the cluster's primary CNI (the primary wires the pod, podsg enforces its
//! groups on the interface the primary made, from `prevResult`).
//!
//! Either way podsg's file is `00-podsg.conflist`, so that it sorts before
//! every other file and the runtime picks it. A chained file copies the
//! primary's plugins and appends podsg: when the primary rewrites its own
//! file later, podsg's copy still has podsg in the chain (the agent's next
//! start copies it again), which fails closed; editing the primary's file
//! in place would fail open the moment the primary rewrote it.

use crate::SUPPORTED_VERSIONS;
use serde_json::{Value, json};

/// The file podsg writes in the runtime's CNI configuration directory.
pub const CONFLIST: &str = "00-podsg.conflist";
/// The plugin's binary name in the CNI binary directory (its `type`).
pub const PLUGIN: &str = "podsg";

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum InstallError {
    #[error("{file}: {reason}")]
    Primary { file: String, reason: String },
    #[error(
        "no primary CNI configuration in {dir} (*.conflist, *.conf or *.json besides {CONFLIST}): chained mode needs the cluster's CNI to have written its configuration"
    )]
    NoPrimary { dir: String },
}

/// podsg alone, talking to the agent at `socket`.
pub fn standalone(socket: &str) -> Value {
    json!({
        "cniVersion": crate::LATEST,
        "name": "podsg",
        "plugins": [{"type": PLUGIN, "agentSocket": socket}],
    })
}

/// The primary configuration a runtime would pick among `names` (files
/// of a CNI configuration directory): the first by name with a CNI
/// configuration's extension, podsg's own file excluded.
pub fn primary(names: &[String]) -> Option<&String> {
    let mut candidates: Vec<&String> = names
        .iter()
        .filter(|n| n.as_str() != CONFLIST && [".conflist", ".conf", ".json"].iter().any(|e| n.ends_with(e)))
        .collect();
    candidates.sort();
    candidates.first().copied()
}

/// The primary's configuration (file `file`, its text `text`: a plugin
/// list, or a single plugin) with podsg appended. A podsg entry already in
/// it is replaced, so that installing twice gives the same file.
pub fn chained(file: &str, text: &str, socket: &str) -> Result<Value, InstallError> {
    let bad = |reason: String| InstallError::Primary { file: file.to_string(), reason };
    let value: Value = serde_json::from_str(text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
    let Value::Object(mut conf) = value else { return Err(bad("not a JSON object".into())) };
    let version = conf.get("cniVersion").and_then(Value::as_str).unwrap_or_default().to_string();
    if !SUPPORTED_VERSIONS.contains(&version.as_str()) {
        return Err(bad(format!(
            "cniVersion {version:?}: podsg chains with {} (the runtime gives every plugin of a chain the list's version)",
            SUPPORTED_VERSIONS.join(" or ")
        )));
    }
    let name = conf.get("name").and_then(Value::as_str).ok_or_else(|| bad("has no name".into()))?.to_string();
    let mut plugins = match conf.remove("plugins") {
        Some(Value::Array(plugins)) => plugins,
        Some(_) => return Err(bad("plugins is not a list".into())),
        // A single-plugin file: the plugin is the file, minus the list's own keys.
        None if conf.contains_key("type") => {
            conf.remove("cniVersion");
            conf.remove("name");
            vec![Value::Object(conf.clone())]
        }
        None => return Err(bad("has neither plugins nor a type".into())),
    };
    plugins.retain(|p| p.get("type").and_then(Value::as_str) != Some(PLUGIN));
    if plugins.is_empty() {
        return Err(bad("has no plugin to chain after".into()));
    }
    plugins.push(json!({"type": PLUGIN, "agentSocket": socket}));
    Ok(json!({"cniVersion": version, "name": name, "plugins": plugins}))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOCKET: &str = "/run/podsg/agent.sock";

    #[test]
    fn the_primary_is_the_first_configuration_by_name_never_podsgs_own() {
        let names: Vec<String> =
            ["99-loopback.conf", "10-flannel.conflist", CONFLIST, "README", "05-x.json.bak"].map(String::from).into();
        assert_eq!(primary(&names).map(String::as_str), Some("10-flannel.conflist"));
        assert_eq!(primary(&[CONFLIST.to_string(), "notes.txt".into()]), None);
    }

    #[test]
    fn a_plugin_list_gets_podsg_appended_once() {
        let flannel = r#"{"cniVersion": "1.0.0", "name": "cbr0", "plugins": [
            {"type": "flannel", "delegate": {"hairpinMode": true}}, {"type": "portmap", "capabilities": {"portMappings": true}}]}"#;
        let chain = chained("10-flannel.conflist", flannel, SOCKET).unwrap();
        assert_eq!(chain["name"], "cbr0");
        assert_eq!(chain["cniVersion"], "1.0.0");
        let types: Vec<&str> =
            chain["plugins"].as_array().unwrap().iter().map(|p| p["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["flannel", "portmap", "podsg"]);
        assert_eq!(chain["plugins"][2]["agentSocket"], SOCKET);
        let again = chained("x", &chain.to_string(), SOCKET).unwrap();
        assert_eq!(again, chain, "installing twice changes nothing");
    }

    #[test]
    fn a_single_plugin_file_becomes_a_list() {
        let bridge = r#"{"cniVersion": "1.1.0", "name": "mynet", "type": "bridge", "bridge": "cni0", "ipam": {"type": "host-local"}}"#;
        let chain = chained("10-bridge.conf", bridge, SOCKET).unwrap();
        assert_eq!(
            chain,
            json!({"cniVersion": "1.1.0", "name": "mynet", "plugins": [
                {"type": "bridge", "bridge": "cni0", "ipam": {"type": "host-local"}},
                {"type": "podsg", "agentSocket": SOCKET}]})
        );
    }

    #[test]
    fn what_cannot_be_chained_is_refused_with_the_reason() {
        let cases = [
            ("{", "10-a.conflist: not valid JSON"),
            ("[]", "10-a.conflist: not a JSON object"),
            (
                r#"{"cniVersion": "0.4.0", "name": "aws-cni", "plugins": [{"type": "aws-cni"}]}"#,
                "cniVersion \"0.4.0\": podsg chains with 1.0.0 or 1.1.0",
            ),
            (r#"{"cniVersion": "1.0.0", "plugins": [{"type": "a"}]}"#, "has no name"),
            (r#"{"cniVersion": "1.0.0", "name": "n", "plugins": {}}"#, "plugins is not a list"),
            (r#"{"cniVersion": "1.0.0", "name": "n"}"#, "has neither plugins nor a type"),
            (r#"{"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "podsg"}]}"#, "has no plugin to chain after"),
        ];
        for (text, message) in cases {
            let e = chained("10-a.conflist", text, SOCKET).unwrap_err().to_string();
            assert!(e.contains(message), "{text}: {e}");
        }
    }

    #[test]
    fn standalone_is_podsg_alone() {
        let conf = standalone(SOCKET);
        assert_eq!(conf["plugins"], json!([{"type": "podsg", "agentSocket": SOCKET}]));
        assert_eq!(conf["cniVersion"], crate::LATEST);
    }
}
