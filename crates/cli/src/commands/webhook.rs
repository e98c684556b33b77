use crate::args::{LogFormat, WebhookArgs};
use podsg_k8s::webhook::{Options, Rules};
use std::time::Duration;

/// Runs until SIGTERM; exit 1 when it cannot start or fails.
pub fn run(args: &WebhookArgs) -> u8 {
    podsg_k8s::init_logging(args.log_format == LogFormat::Json);
    let controller = args.controller_user.clone().unwrap_or_else(|| {
        let namespace = std::env::var("POD_NAMESPACE").unwrap_or_else(|_| "podsg-system".into());
        format!("system:serviceaccount:{namespace}:podsg-controller")
    });
    let options = Options {
        listen: args.listen,
        cert: args.tls_cert.clone(),
        key: args.tls_key.clone(),
        rules: Rules { controller },
        reload_every: Duration::from_secs(args.reload_seconds),
    };
    super::daemon("webhook", podsg_k8s::webhook::run(options))
}
