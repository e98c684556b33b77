use crate::args::{AppliesTo, ControllerArgs, LogFormat};
use podsg_k8s::controller::Options;
use podsg_model::settings;

/// Runs until SIGTERM; exit 1 when it cannot start or fails.
pub fn run(args: &ControllerArgs) -> u8 {
    podsg_k8s::init_logging(args.log_format == LogFormat::Json);
    let Some(settings) = super::cluster_settings("controller", args.config.as_deref()) else { return 1 };
    let options = Options {
        settings,
        applies_to: args.sgp_applies_to.map(|a| match a {
            AppliesTo::AllPods => settings::AppliesTo::AllPods,
            AppliesTo::NewPods => settings::AppliesTo::NewPods,
        }),
        listen: args.listen,
        lease_namespace: args
            .lease_namespace
            .clone()
            .or_else(|| std::env::var("POD_NAMESPACE").ok())
            .unwrap_or_else(|| "podsg-system".into()),
        lease_name: args.lease_name.clone(),
        identity: args.identity.clone().or_else(|| std::env::var("POD_NAME").ok()).unwrap_or_else(hostname),
        lease_seconds: args.lease_seconds,
    };
    super::daemon("controller", async {
        let client = podsg_k8s::client(args.kubeconfig.as_deref(), args.context.as_deref()).await?;
        podsg_k8s::controller::run(client, options).await
    })
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map_or_else(|_| "podsg-controller".into(), |h| h.trim().into())
}
