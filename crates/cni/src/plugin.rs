//! The CNI plugin: it checks its input, forwards the
//! command to the node agent, and prints the spec's result or error JSON.

use crate::agent_protocol::{Attachment, AttachmentRef, Request, Response};
use crate::config::NetConf;
use crate::env::{Command, Env};
use crate::error::{CniError, Code, Result};
use crate::{LATEST, SUPPORTED_VERSIONS};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::process::ExitCode;
use std::time::Duration;

/// The plugin's `main`: environment and stdin in, JSON on stdout, exit code.
pub fn main() -> ExitCode {
    match run() {
        Ok(Some(output)) => {
            println!("{output}");
            ExitCode::SUCCESS
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(e) => {
            let e = if e.cni_version.is_empty() { e.with_version(LATEST) } else { e };
            println!("{}", serde_json::to_string(&e).expect("errors serialize"));
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<Option<String>> {
    let env = Env::read(|k| std::env::var(k).ok())?;
    if env.command == Command::Version {
        let versions = serde_json::json!({"cniVersion": LATEST, "supportedVersions": SUPPORTED_VERSIONS});
        return Ok(Some(versions.to_string()));
    }
    let mut stdin = Vec::new();
    std::io::stdin()
        .read_to_end(&mut stdin)
        .map_err(|e| CniError::new(Code::Io, "cannot read the network configuration", e.to_string()))?;
    let conf = NetConf::parse(&stdin)?;
    let version = conf.cni_version.clone();
    let requested_ip = env.requested_ip()?;
    let attachment = || {
        let (pod_namespace, pod_name) = env.pod().unzip();
        Attachment {
            container_id: env.container_id.clone().unwrap_or_default(),
            ifname: env.ifname.clone().unwrap_or_default(),
            netns: env.netns.clone(),
            pod_namespace,
            pod_name,
            prev_result: conf.prev_result.clone(),
            requested_ip,
        }
    };
    let request = match env.command {
        Command::Add => Request::Add(attachment()),
        Command::Del => Request::Del(attachment()),
        Command::Check => Request::Check(attachment()),
        Command::Status => Request::Status,
        Command::Gc => Request::Gc {
            valid: conf
                .valid_attachments
                .clone()
                .unwrap_or_default()
                .into_iter()
                .map(|a| AttachmentRef { container_id: a.container_id, ifname: a.ifname })
                .collect(),
        },
        Command::Version => unreachable!("answered above"),
    };
    let response = ask(&conf.agent_socket, &request).map_err(|e| e.with_version(&version))?;
    match response {
        Response::Ok(Some(mut result)) if env.command == Command::Add => {
            result.cni_version = version;
            Ok(Some(serde_json::to_string(&result).expect("results serialize")))
        }
        Response::Ok(_) => Ok(None),
        Response::Error(e) => Err(e.with_version(&version)),
    }
}

/// One request, one response line. STATUS answers 50 when the agent is away.
pub fn ask(socket: &str, request: &Request) -> Result<Response> {
    let unreachable = |e: std::io::Error| {
        let code = if matches!(request, Request::Status) { Code::NotAvailable } else { Code::AgentUnreachable };
        CniError::new(code, "the podsg node agent cannot be reached", format!("{socket}: {e}"))
    };
    let mut stream = UnixStream::connect(socket).map_err(unreachable)?;
    stream.set_read_timeout(Some(Duration::from_secs(120))).map_err(unreachable)?;
    let mut line = serde_json::to_string(request).expect("requests serialize");
    line.push('\n');
    stream.write_all(line.as_bytes()).map_err(unreachable)?;
    let mut answer = String::new();
    BufReader::new(stream).read_line(&mut answer).map_err(unreachable)?;
    serde_json::from_str(&answer).map_err(|e| CniError::new(Code::Io, "the agent's answer is not valid", e.to_string()))
}
