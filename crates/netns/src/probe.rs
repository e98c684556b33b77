//! Real traffic inside namespaces: TCP and UDP echo listeners, and probes
//! that say whether a connection (or a datagram's reply) made it.

use crate::ip::Result;
use crate::namespace::Netns;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Echo servers on a port (TCP and UDP) inside a namespace; they stop when dropped.
pub struct Listener {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Listener {
    /// Echoes on TCP and UDP `addr` (e.g. `0.0.0.0:5432`) inside `ns`.
    pub fn echo(ns: &Netns, addr: SocketAddr) -> Result<Listener> {
        let stop = Arc::new(AtomicBool::new(false));
        let (tcp_ready, tcp_bound) = std::sync::mpsc::channel();
        let s = stop.clone();
        let tcp = ns.spawn(move || {
            let listener = TcpListener::bind(addr).expect("bind tcp");
            listener.set_nonblocking(true).expect("nonblocking");
            tcp_ready.send(()).unwrap();
            while !s.load(Ordering::Relaxed) {
                // Wake as soon as a connection waits (a sleeping accept loop
                // lets the backlog fill under load, and the kernel then drops
                // SYNs, which would look like a firewall drop).
                let mut fds = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
                if !matches!(poll(&mut fds, PollTimeout::from(50u16)), Ok(n) if n > 0) {
                    continue;
                }
                while let Ok((mut stream, _)) = listener.accept() {
                    let _ = stream.set_nonblocking(false);
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 4096];
                        while let Ok(n) = stream.read(&mut buf) {
                            if n == 0 || stream.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                    });
                }
            }
        })?;
        let (udp_ready, udp_bound) = std::sync::mpsc::channel();
        let s = stop.clone();
        let udp = ns.spawn(move || {
            let socket = UdpSocket::bind(addr).expect("bind udp");
            socket.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
            udp_ready.send(()).unwrap();
            let mut buf = [0u8; 2048];
            while !s.load(Ordering::Relaxed) {
                if let Ok((n, from)) = socket.recv_from(&mut buf) {
                    let _ = socket.send_to(&buf[..n], from);
                }
            }
        })?;
        tcp_bound.recv().map_err(|_| crate::ip::Error::Thread("tcp listener died".into()))?;
        udp_bound.recv().map_err(|_| crate::ip::Error::Thread("udp listener died".into()))?;
        Ok(Listener { stop, threads: vec![tcp, udp] })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// One-shot probes from inside a namespace.
pub struct Probe;

impl Probe {
    /// Whether a TCP connection to `to` is accepted within `timeout` (the
    /// handshake is what a security group allows or drops).
    pub fn tcp(ns: &Netns, to: SocketAddr, timeout: Duration) -> Result<bool> {
        ns.run(move || TcpStream::connect_timeout(&to, timeout).is_ok())
    }

    /// Whether a UDP datagram to `to` is echoed back within `timeout`.
    pub fn udp(ns: &Netns, to: SocketAddr, timeout: Duration) -> Result<bool> {
        ns.run(move || {
            let bind: SocketAddr = if to.is_ipv4() { "0.0.0.0:0".parse().unwrap() } else { "[::]:0".parse().unwrap() };
            let Ok(s) = UdpSocket::bind(bind) else { return false };
            let _ = s.set_read_timeout(Some(timeout));
            let mut buf = [0u8; 16];
            s.send_to(b"ping", to).is_ok() && matches!(s.recv_from(&mut buf), Ok((4, _))) && &buf[..4] == b"ping"
        })
    }

    /// Whether one ICMP echo to `to` is answered (iputils `ping`).
    pub fn icmp(ns: &Netns, to: std::net::IpAddr, timeout: Duration) -> Result<bool> {
        let secs = format!("{:.1}", timeout.as_secs_f64().max(0.1));
        let out = ns.exec("ping", &["-c", "1", "-W", &secs, &to.to_string()])?;
        Ok(out.status.success())
    }
}

/// Serves TCP or UDP echo on `addr` in the current namespace, forever (the
/// lab's stand-in for a pod's service).
pub fn serve_echo(addr: SocketAddr, udp: bool) -> std::io::Result<()> {
    if udp {
        let socket = UdpSocket::bind(addr)?;
        let mut buf = [0u8; 2048];
        loop {
            let (n, from) = socket.recv_from(&mut buf)?;
            let _ = socket.send_to(&buf[..n], from);
        }
    }
    let listener = TcpListener::bind(addr)?;
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 || stream.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        });
    }
    Ok(())
}
