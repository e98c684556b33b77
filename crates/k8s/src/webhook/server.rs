//! The webhook's HTTPS server: `POST /validate` takes an AdmissionReview
//! and answers with `decide`'s review; `GET /healthz` for the kubelet.

use super::decide::{Rules, review};
use super::tls::ReloadingCertificate;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// The largest AdmissionReview read: the API server's own request limit.
const MAX_BODY: usize = 3 << 20;

/// The TLS configuration serving `certificate` (TLS 1.2 and 1.3, HTTP/1.1).
pub fn tls_config(certificate: Arc<ReloadingCertificate>) -> rustls::ServerConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_no_client_auth()
        .with_cert_resolver(certificate);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}

/// Serves until the listener fails.
pub async fn serve(listener: TcpListener, tls: rustls::ServerConfig, rules: Rules) -> std::io::Result<()> {
    let acceptor = TlsAcceptor::from(Arc::new(tls));
    let rules = Arc::new(rules);
    loop {
        let (stream, peer) = listener.accept().await?;
        let (acceptor, rules) = (acceptor.clone(), rules.clone());
        tokio::spawn(async move {
            let stream = match acceptor.accept(stream).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
            };
            let service = service_fn(move |req| {
                let rules = rules.clone();
                async move { Ok::<_, Infallible>(answer(req, &rules).await) }
            });
            if let Err(e) = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await {
                tracing::debug!(%peer, error = %e, "connection ended");
            }
        });
    }
}

async fn answer(req: Request<Incoming>, rules: &Rules) -> Response<Full<Bytes>> {
    match (req.method(), req.uri().path()) {
        (&Method::POST, "/validate") => match Limited::new(req.into_body(), MAX_BODY).collect().await {
            Ok(body) => {
                let review = review(&body.to_bytes(), rules);
                let json = serde_json::to_vec(&review).expect("a review serializes");
                respond(StatusCode::OK, "application/json", json)
            }
            Err(e) => {
                respond(StatusCode::PAYLOAD_TOO_LARGE, "text/plain", format!("cannot read the request: {e}\n").into())
            }
        },
        (&Method::GET, "/healthz") => respond(StatusCode::OK, "text/plain", b"ok\n".to_vec()),
        _ => respond(StatusCode::NOT_FOUND, "text/plain", b"not found: POST /validate, GET /healthz\n".to_vec()),
    }
}

fn respond(status: StatusCode, content_type: &str, body: Vec<u8>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .expect("a valid response")
}
