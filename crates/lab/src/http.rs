//! The lab's HTTP: a tiny server in the pods an `http` expectation reaches
//! (it answers with its pod's name, so a check says which backend
//! answered), and the client the check runs in the client pod's namespace,
//! where the pod's resolver (its `resolv.conf`) looks names up.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Serves `GET` on `address` until killed: `200` with `podsg lab: NAME`.
pub fn serve(address: SocketAddr, name: &str) -> std::io::Result<()> {
    let listener = TcpListener::bind(address)?;
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let body = format!("podsg lab: {name}\n");
        std::thread::spawn(move || {
            let _ = answer(stream, &body);
        });
    }
    Ok(())
}

fn answer(stream: TcpStream, body: &str) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    // The headers, up to the empty line.
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let (status, body) = if request.starts_with("GET ") {
        ("200 OK", body.to_string())
    } else {
        ("405 Method Not Allowed", "only GET\n".to_string())
    };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

/// Why a GET did not get an answer, as `curl` would say it.
#[derive(Debug, thiserror::Error)]
pub enum GetError {
    #[error("could not resolve host {0}")]
    Resolve(String),
    #[error("connection to {0} timed out")]
    Timeout(SocketAddr),
    #[error("connection to {0} refused")]
    Refused(SocketAddr),
    #[error("{0}: {1}")]
    Io(SocketAddr, std::io::Error),
    #[error("{0}: not an HTTP answer: {1:?}")]
    NotHttp(SocketAddr, String),
}

/// `GET http://HOST:PORT/`: the status line and the body's first line.
/// `timeout` bounds the connection and the answer; the name lookup takes
/// what the resolver's configuration says.
pub fn get(host: &str, port: u16, timeout: Duration) -> Result<String, GetError> {
    let address = (host, port)
        .to_socket_addrs()
        .map_err(|_| GetError::Resolve(host.to_string()))?
        .find(SocketAddr::is_ipv4)
        .ok_or_else(|| GetError::Resolve(host.to_string()))?;
    let left = timeout;
    let mut stream = TcpStream::connect_timeout(&address, left).map_err(|e| match e.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => GetError::Timeout(address),
        std::io::ErrorKind::ConnectionRefused => GetError::Refused(address),
        _ => GetError::Io(address, e),
    })?;
    let io = |e| GetError::Io(address, e);
    stream.set_read_timeout(Some(left)).map_err(io)?;
    write!(stream, "GET / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: podsg-lab\r\nConnection: close\r\n\r\n")
        .map_err(io)?;
    let mut text = String::new();
    stream.read_to_string(&mut text).map_err(|e| match e.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => GetError::Timeout(address),
        _ => GetError::Io(address, e),
    })?;
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return Err(GetError::NotHttp(address, text));
    };
    let status = head.lines().next().unwrap_or_default();
    if !status.starts_with("HTTP/1.") {
        return Err(GetError::NotHttp(address, text));
    }
    Ok(format!("{} {}", status.trim(), body.lines().next().unwrap_or_default()).trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_get_answers_with_the_servers_name_and_a_closed_port_is_refused() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        std::thread::spawn(move || serve(address, "ns/web-0"));
        let deadline = Instant::now() + Duration::from_secs(5);
        let answer = loop {
            match get("127.0.0.1", address.port(), Duration::from_secs(2)) {
                Ok(a) => break a,
                Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => panic!("{e}"),
            }
        };
        assert_eq!(answer, "HTTP/1.1 200 OK podsg lab: ns/web-0");
        let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let e = get("127.0.0.1", closed.port(), Duration::from_secs(2)).unwrap_err();
        assert!(matches!(e, GetError::Refused(_)), "{e}");
        let e = get("no-such-name.invalid", 80, Duration::from_secs(2)).unwrap_err();
        assert_eq!(e.to_string(), "could not resolve host no-such-name.invalid");
    }
}
