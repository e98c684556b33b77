use crate::args::AgentArgs;
use podsg_agent::{Agent, AgentConfig, ManifestFiles, Source, serve};
use podsg_k8s::agent_source::{KubeSource, read_pod_cidr};
use podsg_nft::NftCli;

/// Runs until killed; exit 1 when it cannot start.
pub fn run(args: &AgentArgs) -> u8 {
    let mut config = AgentConfig {
        node_name: args.node_name.clone(),
        node_address: args.node_address,
        pod_cidr: args.pod_cidr,
        pod_cidr6: args.pod_cidr6,
        state_dir: args.state_dir.clone(),
        mode: args.mode.map(Into::into),
        node_netns: None,
        log_denied: podsg_agent::LogDenied {
            all: args.log_denied,
            groups: args.log_denied_group.iter().cloned().collect(),
        },
    };
    if !args.kubernetes {
        return match ManifestFiles::new(args.manifests.clone()) {
            Ok(source) => start(config, source, args),
            Err(e) => fail(&format!("cannot watch the manifests: {e}")),
        };
    }
    podsg_k8s::init_logging(false);
    let Some(settings) = super::cluster_settings("agent", args.config.as_deref()) else { return 1 };
    let (kubeconfig, context, node) = (args.kubeconfig.clone(), args.context.clone(), args.node_name.clone());
    let client = move || async move { podsg_k8s::client(kubeconfig.as_deref(), context.as_deref()).await };
    if config.pod_cidr.is_none() {
        // Read once from the Node: each node has its own range.
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(r) => r,
            Err(e) => return fail(&format!("cannot start a runtime: {e}")),
        };
        let client = client.clone();
        match runtime.block_on(async { read_pod_cidr(client().await?, &node).await }) {
            Ok((Some(range), range6)) => {
                config.pod_cidr = Some(range);
                // A dual-stack node's pods get an address of each family.
                config.pod_cidr6 = config.pod_cidr6.or(range6);
            }
            Ok((None, _)) => {
                eprintln!("podsg agent: node {node} has no IPv4 spec.podCIDR: only chained mode will work")
            }
            Err(e) => return fail(&format!("cannot read node {node}: {e}")),
        }
    }
    match KubeSource::start(client, &args.node_name, settings) {
        Ok(source) => start(config, source, args),
        Err(e) => fail(&e.to_string()),
    }
}

fn start<S: Source + 'static>(config: AgentConfig, source: S, args: &AgentArgs) -> u8 {
    let agent = match Agent::new(config, NftCli::default()) {
        Ok(agent) => agent,
        Err(e) => return fail(&e.to_string()),
    };
    let metrics = match args.metrics_listen.map(std::net::TcpListener::bind).transpose() {
        Ok(listener) => listener,
        Err(e) => return fail(&format!("--metrics-listen: {e}")),
    };
    match serve(agent, source, &args.socket, metrics) {
        Ok(()) => 0,
        Err(e) => fail(&format!("{}: {e}", args.socket.display())),
    }
}

fn fail(why: &str) -> u8 {
    eprintln!("podsg agent: cannot start: {why}");
    1
}

/// Asks the agent at `socket` whether it serves: it binds its socket only
/// once its source has reported everything and the kernel has it.
pub fn ready(socket: &str) -> u8 {
    use podsg_cni::agent_protocol::{Request, Response};
    match podsg_cni::plugin::ask(socket, &Request::Status) {
        Ok(Response::Ok(_)) => 0,
        Ok(Response::Error(e)) => {
            eprintln!("podsg ready: {e}");
            1
        }
        Err(e) => {
            eprintln!("podsg ready: {e}");
            1
        }
    }
}
