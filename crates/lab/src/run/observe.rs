//! `podsg lab logs` and `podsg lab metrics`: what the nodes' agents say
//! about traffic: the refused connections they logged (JSON lines in their
//! logs) and the dataplane's counters on their `/metrics`.

use super::*;
use serde_json::Value;
use std::io::{Read, Write};

/// The agents' refusal lines, oldest first, each with its `node`; only
/// `pod`'s (a pod, or a workload's pods) when given.
pub fn logs(pod: Option<&str>) -> Result<Vec<Value>> {
    let state = LabState::load()?.ok_or_else(|| Error::Usage("no lab is up: run podsg lab up DIR first".into()))?;
    let wanted: Option<Vec<String>> = match pod {
        None => None,
        Some(target) => {
            let pods = state.pods_of(target);
            if pods.is_empty() {
                return Err(Error::Usage(format!("--pod {target}: no pod or workload of this name in the lab")));
            }
            Some(pods.iter().map(|p| format!("Pod/{}/{}", p.namespace, p.name)).collect())
        }
    };
    let mut out = Vec::new();
    for n in &state.nodes {
        let path = root().join("logs").join(format!("agent-{}.log", n.name));
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for line in text.lines() {
            let Ok(mut v) = serde_json::from_str::<Value>(line) else { continue };
            if v["event"] != "denied" {
                continue;
            }
            if let Some(w) = &wanted
                && !v["pod"].as_str().is_some_and(|p| w.iter().any(|x| x == p))
            {
                continue;
            }
            v["node"] = Value::String(n.name.clone());
            out.push(v);
        }
    }
    out.sort_by(|a, b| a["time"].as_f64().unwrap_or(0.0).total_cmp(&b["time"].as_f64().unwrap_or(0.0)));
    Ok(out)
}

/// A node's agent's `/metrics` (every node's, one after the other, without `node`).
pub fn metrics(node: Option<&str>) -> Result<String> {
    let state = LabState::load()?.ok_or_else(|| Error::Usage("no lab is up: run podsg lab up DIR first".into()))?;
    let nodes: Vec<&NodeState> = state.nodes.iter().filter(|n| node.is_none_or(|x| x == n.name)).collect();
    if nodes.is_empty() {
        return Err(Error::Usage(format!(
            "{}: no node of this name (the lab has {})",
            node.unwrap_or_default(),
            state.nodes.iter().map(|n| n.name.as_str()).collect::<Vec<_>>().join(", ")
        )));
    }
    let mut out = String::new();
    for n in nodes {
        let address = std::net::SocketAddr::from((n.address, crate::layout::METRICS_PORT));
        let text = Netns::existing(&n.netns).run(move || -> std::io::Result<String> {
            let mut s = std::net::TcpStream::connect_timeout(&address, Duration::from_secs(3))?;
            s.set_read_timeout(Some(Duration::from_secs(10)))?;
            write!(s, "GET /metrics HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n")?;
            let mut text = String::new();
            s.read_to_string(&mut text)?;
            Ok(text.split_once("\r\n\r\n").map(|(_, body)| body.to_string()).unwrap_or(text))
        })?;
        let text = text.map_err(io(format!("the agent's metrics on {} ({address})", n.name)))?;
        if state.nodes.len() > 1 {
            out.push_str(&format!("# node {}\n", n.name));
        }
        out.push_str(&text);
    }
    Ok(out)
}
