//! The webhook over real HTTPS, from a client that trusts a test CA only:
//! answers, and a rotated certificate served without a restart.

use super::{SGP, admission, rules};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use podsg_k8s::webhook::{ReloadingCertificate, serve, tls_config};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// A CA and a server certificate for 127.0.0.1 it signed: (CA PEM, cert
/// PEM, key PEM).
fn issue(ca_name: &str) -> (String, String, String) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, ca_name);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let params =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "podsg-webhook.podsg-system.svc".to_string()]).unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    (ca.pem(), cert.pem(), key.serialize_pem())
}

/// POSTs `body` to /validate over TLS, trusting only `ca_pem`.
async fn post(address: std::net::SocketAddr, ca_pem: &str, body: &Value) -> Result<Value, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(address).await.map_err(|e| e.to_string())?;
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let tls = connector.connect(name, tcp).await.map_err(|e| e.to_string())?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls)).await.map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let request = http::Request::post("/validate")
        .header("content-type", "application/json")
        .header("host", "podsg-webhook.podsg-system.svc")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
    assert_eq!(response.status(), 200);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Ok(serde_json::from_slice(&bytes).unwrap())
}

fn write(dir: &Path, cert: &str, key: &str) {
    // As a Secret volume is updated: new files, then renamed into place.
    for (name, text) in [("tls.crt", cert), ("tls.key", key)] {
        std::fs::write(dir.join(format!("{name}.new")), text).unwrap();
        std::fs::rename(dir.join(format!("{name}.new")), dir.join(name)).unwrap();
    }
}

#[tokio::test]
async fn answers_over_https_and_picks_up_a_rotated_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = issue("podsg test CA 1");
    write(dir.path(), &cert, &key);
    let certificate =
        Arc::new(ReloadingCertificate::load(dir.path().join("tls.crt"), dir.path().join("tls.key")).unwrap());
    tokio::spawn(certificate.clone().watch(Duration::from_millis(50)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, tls_config(certificate), rules()));

    let good = json!({"apiVersion": "vpcresources.k8s.aws/v1beta1", "kind": "SecurityGroupPolicy",
        "metadata": {"name": "p", "namespace": "prod"},
        "spec": {"podSelector": {}, "securityGroups": {"groupIds": ["sg-1"]}}});
    let answer = post(address, &ca, &admission(SGP, "CREATE", "alice", Some(good.clone()), None)).await.unwrap();
    assert_eq!(answer["response"]["allowed"], true);
    assert_eq!(answer["response"]["uid"], "705ab4f5-6393-11e8-b7cc-42010a800002");

    let mut bad = good.clone();
    bad["spec"]["securityGroups"]["groupIds"] = json!([]);
    let answer = post(address, &ca, &admission(SGP, "CREATE", "alice", Some(bad), None)).await.unwrap();
    assert_eq!(answer["response"]["allowed"], false);
    assert_eq!(
        answer["response"]["status"]["message"],
        "spec.securityGroups.groupIds: []: at least one security group ID is required"
    );

    // cert-manager rotates the certificate, under a new CA.
    let (new_ca, new_cert, new_key) = issue("podsg test CA 2");
    write(dir.path(), &new_cert, &new_key);
    let mut served = Err(String::new());
    for _ in 0..200 {
        served = post(address, &new_ca, &admission(SGP, "CREATE", "alice", Some(good.clone()), None)).await;
        if served.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(served.unwrap()["response"]["allowed"], true, "the new certificate is served");
    assert!(
        post(address, &ca, &admission(SGP, "CREATE", "alice", Some(good), None)).await.is_err(),
        "the old one is not"
    );

    // A broken file is not served; the certificate in use stays.
    write(dir.path(), "not a certificate", &new_key);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let answer = post(address, &new_ca, &admission(SGP, "DELETE", "alice", None, None)).await;
    assert!(answer.is_ok(), "still serving: {answer:?}");
}
