//! The CNI environment: CNI_COMMAND and friends, checked as the spec asks.

use crate::error::{CniError, Code, Result};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    Add,
    Del,
    Check,
    Version,
    Status,
    Gc,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Env {
    pub command: Command,
    pub container_id: Option<String>,
    pub netns: Option<String>,
    pub ifname: Option<String>,
    /// CNI_ARGS, `K=V;K=V` (Kubernetes passes K8S_POD_NAMESPACE, K8S_POD_NAME, ...).
    pub args: BTreeMap<String, String>,
}

fn invalid(what: &str, details: impl Into<String>) -> CniError {
    CniError::new(Code::InvalidEnvironment, what, details)
}

/// Valid container IDs: alphanumerics plus `_ . -`, starting alphanumeric (spec).
fn valid_container_id(id: &str) -> bool {
    id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Linux interface names: 1-15 bytes, no `/`, `:` or whitespace, not `.` or `..`.
fn valid_ifname(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 15
        && name != "."
        && name != ".."
        && !name.chars().any(|c| c == '/' || c == ':' || c.is_whitespace())
}

impl Env {
    /// Reads the environment through `get` (the process environment, or a map in tests).
    pub fn read(get: impl Fn(&str) -> Option<String>) -> Result<Env> {
        let command = match get("CNI_COMMAND").as_deref() {
            Some("ADD") => Command::Add,
            Some("DEL") => Command::Del,
            Some("CHECK") => Command::Check,
            Some("VERSION") => Command::Version,
            Some("STATUS") => Command::Status,
            Some("GC") => Command::Gc,
            Some(other) => {
                return Err(invalid(
                    "unknown CNI_COMMAND",
                    format!("{other}: must be ADD, DEL, CHECK, VERSION, STATUS or GC"),
                ));
            }
            None => return Err(invalid("CNI_COMMAND is not set", "must be ADD, DEL, CHECK, VERSION, STATUS or GC")),
        };
        let non_empty = |k: &str| get(k).filter(|v| !v.is_empty());
        let env = Env {
            command,
            container_id: non_empty("CNI_CONTAINERID"),
            netns: non_empty("CNI_NETNS"),
            ifname: non_empty("CNI_IFNAME"),
            args: parse_args(&get("CNI_ARGS").unwrap_or_default())?,
        };
        let needs_attachment = matches!(command, Command::Add | Command::Del | Command::Check);
        if needs_attachment {
            match &env.container_id {
                None => return Err(invalid("CNI_CONTAINERID is not set", "ADD, DEL and CHECK need the container ID")),
                Some(id) if !valid_container_id(id) => {
                    return Err(invalid(
                        "invalid CNI_CONTAINERID",
                        format!("{id}: letters, digits, '_', '.' and '-', starting with a letter or digit"),
                    ));
                }
                Some(_) => {}
            }
            match &env.ifname {
                None => return Err(invalid("CNI_IFNAME is not set", "ADD, DEL and CHECK need the interface name")),
                Some(name) if !valid_ifname(name) => {
                    return Err(invalid(
                        "invalid CNI_IFNAME",
                        format!("{name}: 1-15 characters, no '/', ':' or spaces"),
                    ));
                }
                Some(_) => {}
            }
        }
        // DEL may come after the namespace is gone; ADD and CHECK need it.
        if matches!(command, Command::Add | Command::Check) && env.netns.is_none() {
            return Err(invalid("CNI_NETNS is not set", "ADD and CHECK need the container's network namespace path"));
        }
        Ok(env)
    }

    pub fn pod(&self) -> Option<(String, String)> {
        Some((self.args.get("K8S_POD_NAMESPACE")?.clone(), self.args.get("K8S_POD_NAME")?.clone()))
    }

    /// The address the runtime asks for (`IP=` in CNI_ARGS, as host-local
    /// IPAM reads it), for a pod whose address is already decided.
    pub fn requested_ip(&self) -> Result<Option<std::net::Ipv4Addr>> {
        match self.args.get("IP") {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                invalid(
                    "invalid CNI_ARGS",
                    format!("IP={v}: must be one IPv4 address (podsg gives pods IPv4 addresses)"),
                )
            }),
        }
    }
}

fn parse_args(text: &str) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for pair in text.split(';').filter(|p| !p.is_empty()) {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| invalid("invalid CNI_ARGS", format!("{pair}: expected KEY=VALUE pairs separated by ';'")))?;
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Result<Env> {
        let map: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Env::read(|k| map.get(k).cloned())
    }

    #[test]
    fn a_requested_address_is_one_ipv4_address() {
        let with = |args: &str| {
            env(&[
                ("CNI_COMMAND", "ADD"),
                ("CNI_CONTAINERID", "abc-1"),
                ("CNI_NETNS", "/run/netns/x"),
                ("CNI_IFNAME", "eth0"),
                ("CNI_ARGS", args),
            ])
            .unwrap()
            .requested_ip()
        };
        assert_eq!(with("K8S_POD_NAME=a").unwrap(), None);
        assert_eq!(with("IP=10.244.5.2").unwrap(), Some("10.244.5.2".parse().unwrap()));
        for bad in ["IP=10.244.5.2/32", "IP=fd00::1", "IP="] {
            let e = with(bad).unwrap_err();
            assert!(e.to_string().contains("must be one IPv4 address"), "{bad}: {e}");
        }
    }

    #[test]
    fn add_needs_everything() {
        let ok = env(&[
            ("CNI_COMMAND", "ADD"),
            ("CNI_CONTAINERID", "abc-1"),
            ("CNI_NETNS", "/run/netns/x"),
            ("CNI_IFNAME", "eth0"),
            ("CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAMESPACE=networking;K8S_POD_NAME=green"),
        ])
        .unwrap();
        assert_eq!(ok.pod(), Some(("networking".into(), "green".into())));
        let cases: [(&[(&str, &str)], &str); 6] = [
            (&[], "CNI_COMMAND is not set"),
            (&[("CNI_COMMAND", "PUT")], "unknown CNI_COMMAND"),
            (&[("CNI_COMMAND", "ADD"), ("CNI_NETNS", "/x"), ("CNI_IFNAME", "eth0")], "CNI_CONTAINERID is not set"),
            (
                &[("CNI_COMMAND", "ADD"), ("CNI_CONTAINERID", "-bad"), ("CNI_NETNS", "/x"), ("CNI_IFNAME", "eth0")],
                "invalid CNI_CONTAINERID",
            ),
            (
                &[
                    ("CNI_COMMAND", "ADD"),
                    ("CNI_CONTAINERID", "a"),
                    ("CNI_NETNS", "/x"),
                    ("CNI_IFNAME", "a-very-long-interface"),
                ],
                "invalid CNI_IFNAME",
            ),
            (&[("CNI_COMMAND", "CHECK"), ("CNI_CONTAINERID", "a"), ("CNI_IFNAME", "eth0")], "CNI_NETNS is not set"),
        ];
        for (pairs, msg) in cases {
            let e = env(pairs).unwrap_err();
            assert_eq!((e.code, e.msg.as_str()), (4, msg), "{pairs:?}");
        }
        assert!(
            env(&[("CNI_COMMAND", "DEL"), ("CNI_CONTAINERID", "a"), ("CNI_IFNAME", "eth0")]).is_ok(),
            "DEL without netns"
        );
        assert_eq!(
            env(&[
                ("CNI_COMMAND", "ADD"),
                ("CNI_CONTAINERID", "a"),
                ("CNI_NETNS", "/x"),
                ("CNI_IFNAME", "eth0"),
                ("CNI_ARGS", "nokey")
            ])
            .unwrap_err()
            .msg,
            "invalid CNI_ARGS"
        );
        assert!(env(&[("CNI_COMMAND", "VERSION")]).is_ok());
    }
}
