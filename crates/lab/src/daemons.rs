//! The lab's services: the cluster DNS (dnsmasq in the DNS pods), PostgreSQL
//! on members, and echo servers for what the expectations probe.

use crate::error::{Error, Result, io};
use crate::layout::root;
use crate::state::{LabState, Process};
use podsg_model::kube_service::CLUSTER_DOMAIN;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn logs() -> PathBuf {
    root().join("logs")
}

/// Starts a long-running program inside a namespace, detached from this one.
pub fn daemon(state: &mut LabState, netns: &str, what: &str, program: &str, args: &[String]) -> Result<()> {
    use std::os::unix::process::CommandExt;
    std::fs::create_dir_all(logs()).map_err(io("logs"))?;
    let log_path = logs().join(format!("{}.log", what.replace(['/', ' '], "_")));
    let log = std::fs::File::create(&log_path).map_err(io(log_path.display().to_string()))?;
    let child = Command::new("ip")
        .args(["netns", "exec", netns, program])
        .args(args)
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(io("log"))?)
        .stderr(log)
        .process_group(0)
        .spawn()
        .map_err(io(program.to_string()))?;
    state.processes.push(Process { pid: child.id(), what: what.to_string(), netns: netns.to_string() });
    Ok(())
}

/// The names the cluster DNS answers: named members and Services.
pub fn write_hosts(entries: &[(String, IpAddr)]) -> Result<PathBuf> {
    let dir = root().join("dns");
    std::fs::create_dir_all(&dir).map_err(io("dns"))?;
    let path = dir.join("hosts");
    let text: String = entries.iter().map(|(name, a)| format!("{a} {name}\n")).collect();
    std::fs::write(&path, text).map_err(io(path.display().to_string()))?;
    Ok(path)
}

pub fn start_dns(state: &mut LabState, netns: &str, address: IpAddr, hosts: &Path) -> Result<()> {
    let args: Vec<String> = [
        "--keep-in-foreground",
        "--no-resolv",
        "--no-hosts",
        "--bind-interfaces",
        "--user=root",
        "--group=root",
        "--log-queries",
        "--log-facility=-",
        // The cluster domain is the DNS's own: a name it does not know
        // there does not exist (NXDOMAIN), so search paths move on at once.
        "--local=/cluster.local/",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format!("--listen-address={address}"), format!("--addn-hosts={}", hosts.display())])
    .collect();
    daemon(state, netns, &format!("dns-{netns}"), "dnsmasq", &args)?;
    // Pods resolve with one try of one second: a query sent before dnsmasq
    // has bound its socket is refused, and the name is "not found".
    let socket = std::net::SocketAddr::new(address, 53).to_string();
    let started = Instant::now();
    loop {
        let listening = Command::new("ip").args(["netns", "exec", netns, "ss", "-Hlun"]).output();
        if listening.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).split_whitespace().any(|w| w == socket)) {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(10) {
            return Err(Error::Step(format!("the cluster DNS on {socket} did not start; see {}", logs().display())));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Points a pod's resolver at the cluster DNS (`ip netns exec` mounts it),
/// with the search path and `ndots` kubelet gives a pod of `namespace`.
pub fn write_resolv(netns: &str, namespace: &str, dns: IpAddr) -> Result<()> {
    let dir = PathBuf::from("/etc/netns").join(netns);
    std::fs::create_dir_all(&dir).map_err(io(dir.display().to_string()))?;
    let text = format!(
        "# podsg lab\nnameserver {dns}\nsearch {namespace}.svc.{CLUSTER_DOMAIN} svc.{CLUSTER_DOMAIN} {CLUSTER_DOMAIN}\noptions ndots:5 timeout:1 attempts:1\n"
    );
    std::fs::write(dir.join("resolv.conf"), text).map_err(io("resolv.conf"))
}

const PG_BIN: &str = "/usr/lib/postgresql";

fn pg_bin(tool: &str) -> Result<String> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir(PG_BIN)
        .map_err(io(format!("{PG_BIN} (apt-get install postgresql)")))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    versions.sort();
    let bin = versions
        .last()
        .ok_or_else(|| Error::Step(format!("no PostgreSQL under {PG_BIN} (apt-get install postgresql)")))?
        .join("bin")
        .join(tool);
    Ok(bin.display().to_string())
}

fn run(what: &str, cmd: &mut Command) -> Result<String> {
    let out = cmd.output().map_err(io(what.to_string()))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(Error::Step(format!(
            "{what}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )))
    }
}

/// A PostgreSQL server on `address` (and `also`) in `netns`, with the superuser's
/// password set and `sql` run once it is up.
pub fn start_postgres(
    state: &mut LabState,
    netns: &str,
    address: Ipv4Addr,
    also: &[std::net::Ipv6Addr],
    password: &str,
    sql: &str,
) -> Result<()> {
    let dir = root().join("pg").join(address.to_string());
    let data = dir.join("data");
    let sock = dir.join("sock");
    std::fs::create_dir_all(&sock).map_err(io(sock.display().to_string()))?;
    let pwfile = dir.join("pwfile");
    std::fs::write(&pwfile, password).map_err(io("pwfile"))?;
    run("chown", Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir))?;
    let as_postgres = |tool: &str| -> Result<Command> {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", &pg_bin(tool)?]);
        Ok(c)
    };
    run(
        "initdb",
        as_postgres("initdb")?
            .args(["-U", "postgres", "-A", "scram-sha-256", "--pwfile"])
            .arg(&pwfile)
            .arg("-D")
            .arg(&data),
    )?;
    std::fs::remove_file(&pwfile).map_err(io("pwfile"))?;
    let hba = data.join("pg_hba.conf");
    let mut text = std::fs::read_to_string(&hba).map_err(io("pg_hba.conf"))?;
    text.push_str("host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n");
    std::fs::write(&hba, text).map_err(io("pg_hba.conf"))?;
    let args = vec![
        "-u".to_string(),
        "postgres".into(),
        "--".into(),
        pg_bin("postgres")?,
        "-D".into(),
        data.display().to_string(),
        "-c".into(),
        format!(
            "listen_addresses={}",
            std::iter::once(address.to_string())
                .chain(also.iter().map(ToString::to_string))
                .collect::<Vec<_>>()
                .join(",")
        ),
        "-c".into(),
        format!("unix_socket_directories={}", sock.display()),
    ];
    daemon(state, netns, &format!("postgres-{address}"), "runuser", &args)?;
    let started = Instant::now();
    loop {
        let ready = Command::new("ip")
            .args(["netns", "exec", netns, &pg_bin("pg_isready")?, "-q", "-h", &address.to_string()])
            .status();
        if ready.is_ok_and(|s| s.success()) {
            break;
        }
        if started.elapsed() > Duration::from_secs(30) {
            return Err(Error::Step(format!("PostgreSQL on {address} did not start; see {}", logs().display())));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if !sql.trim().is_empty() {
        run(
            "psql",
            Command::new("ip")
                .args([
                    "netns",
                    "exec",
                    netns,
                    "env",
                    &format!("PGPASSWORD={password}"),
                    "psql",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-q",
                ])
                .args(["-h", &address.to_string(), "-U", "postgres", "-d", "postgres", "-c", sql]),
        )?;
    }
    Ok(())
}

pub fn echo_name(address: IpAddr, port: u16, udp: bool) -> String {
    format!("echo-{}-{address}-{port}", if udp { "udp" } else { "tcp" })
}

/// An echo server (TCP or UDP) on `address:port` in `netns`.
pub fn start_echo(state: &mut LabState, netns: &str, address: IpAddr, port: u16, udp: bool) -> Result<()> {
    let exe = std::env::current_exe().map_err(io("current executable"))?;
    let protocol = if udp { "udp" } else { "tcp" };
    let args = vec!["lab".to_string(), "echo".into(), format!("--{protocol}"), format!("{address}:{port}")];
    daemon(state, netns, &echo_name(address, port, udp), &exe.display().to_string(), &args)
}

/// Makes the cluster DNS read its hosts file again (dnsmasq does on SIGHUP).
pub fn reload_dns(state: &LabState) -> Result<()> {
    for p in state.processes.iter().filter(|p| p.what.starts_with("dns-")) {
        let status = Command::new("kill").args(["-HUP", &p.pid.to_string()]).status().map_err(io("kill"))?;
        if !status.success() {
            return Err(Error::Step(format!("the cluster DNS ({}, pid {}) is not running", p.what, p.pid)));
        }
    }
    Ok(())
}

pub fn http_name(address: IpAddr, port: u16) -> String {
    format!("http-{address}-{port}")
}

/// The lab's HTTP server on `address:port` in `netns`, answering as `name`.
pub fn start_http(state: &mut LabState, netns: &str, address: IpAddr, port: u16, name: &str) -> Result<()> {
    let exe = std::env::current_exe().map_err(io("current executable"))?;
    let listen = std::net::SocketAddr::new(address, port).to_string();
    let args = vec!["lab".to_string(), "http-serve".into(), listen, "--name".into(), name.to_string()];
    daemon(state, netns, &http_name(address, port), &exe.display().to_string(), &args)
}
