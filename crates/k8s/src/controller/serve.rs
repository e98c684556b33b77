//! `/metrics` (Prometheus), `/healthz` (the process serves) and `/readyz`
//! (every watch has listed once), over plain HTTP for the kubelet and the
//! scraper.

use super::metrics::Metrics;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::net::TcpListener;

/// Serves until the listener fails.
pub async fn serve(listener: TcpListener, metrics: Arc<Metrics>, ready: Arc<AtomicBool>) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let (metrics, ready) = (metrics.clone(), ready.clone());
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let answer = answer(&req, &metrics, ready.load(Ordering::Acquire));
                async move { Ok::<_, Infallible>(answer) }
            });
            if let Err(e) = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await {
                tracing::debug!(error = %e, "metrics connection ended");
            }
        });
    }
}

fn answer(req: &Request<Incoming>, metrics: &Metrics, ready: bool) -> Response<Full<Bytes>> {
    let (status, body, content_type) = match (req.method(), req.uri().path()) {
        (&Method::GET, "/metrics") => {
            (StatusCode::OK, metrics.render(), "application/openmetrics-text; version=1.0.0; charset=utf-8")
        }
        (&Method::GET, "/healthz") => (StatusCode::OK, "ok\n".into(), "text/plain"),
        (&Method::GET, "/readyz") if ready => (StatusCode::OK, "ok\n".into(), "text/plain"),
        (&Method::GET, "/readyz") => (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the first list of every watch is not complete\n".into(),
            "text/plain",
        ),
        _ => (StatusCode::NOT_FOUND, "not found: /metrics, /healthz, /readyz\n".into(), "text/plain"),
    };
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .expect("a valid response")
}
