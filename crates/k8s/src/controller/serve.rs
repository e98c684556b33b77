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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn get(address: std::net::SocketAddr, path: &str) -> String {
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: controller\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    }

    #[tokio::test]
    async fn health_readiness_and_metrics_are_served() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (metrics, ready) = (Arc::new(Metrics::default()), Arc::new(AtomicBool::new(false)));
        metrics.error("watch");
        let server = tokio::spawn(serve(listener, metrics, ready.clone()));
        assert!(get(address, "/healthz").await.starts_with("HTTP/1.1 200"));
        let not_ready = get(address, "/readyz").await;
        assert!(not_ready.starts_with("HTTP/1.1 503"), "{not_ready}");
        assert!(not_ready.ends_with("not ready: the first list of every watch is not complete\n"));
        ready.store(true, Ordering::Release);
        assert!(get(address, "/readyz").await.starts_with("HTTP/1.1 200"));
        let metrics = get(address, "/metrics").await;
        assert!(metrics.contains(r#"podsg_controller_errors_total{reason="watch"} 1"#), "{metrics}");
        assert!(metrics.contains("# TYPE podsg_controller_apply_seconds histogram"), "{metrics}");
        assert!(get(address, "/nope").await.starts_with("HTTP/1.1 404"));
        server.abort();
    }
}
