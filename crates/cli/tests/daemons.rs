//! `podsg controller` and `podsg webhook` as processes: clear errors when
//! they cannot start, and a clean exit on SIGTERM (the kubelet's stop).

use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn podsg(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_podsg")).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn a_daemon_that_cannot_start_says_why() {
    let (code, err) = podsg(&[
        "webhook",
        "--tls-cert=/nonexistent/tls.crt",
        "--tls-key=/nonexistent/tls.key",
        "--listen=127.0.0.1:0",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("podsg webhook: TLS: /nonexistent/tls.crt: No such file"), "{err}");
    let (code, err) = podsg(&["controller", "--kubeconfig=/nonexistent/kubeconfig", "--listen=127.0.0.1:0"]);
    assert_eq!(code, 1);
    assert!(err.contains("podsg controller: kubeconfig: /nonexistent/kubeconfig"), "{err}");
    let (code, err) = podsg(&["controller", "--sgp-applies-to=some-pods"]);
    assert_eq!(code, 2);
    assert!(err.contains("invalid value 'some-pods' for '--sgp-applies-to <WHICH>'"), "{err}");
    assert!(err.contains("[possible values: all-pods, new-pods]"), "{err}");
}

#[test]
fn the_webhook_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap().self_signed(&key).unwrap();
    std::fs::write(dir.path().join("tls.crt"), cert.pem()).unwrap();
    std::fs::write(dir.path().join("tls.key"), key.serialize_pem()).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("--listen=127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_podsg"))
        .args(["webhook", &listen])
        .arg(format!("--tls-cert={}", dir.path().join("tls.crt").display()))
        .arg(format!("--tls-key={}", dir.path().join("tls.key").display()))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "the webhook never listened");
        assert!(child.try_wait().unwrap().is_none(), "the webhook exited");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let stopping = Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(stopping.elapsed() < Duration::from_secs(30), "still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(exit.code(), Some(0), "a clean stop");
}
