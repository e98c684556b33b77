use crate::args::AgentArgs;
use podsg_agent::{Agent, AgentConfig, ManifestFiles, serve};
use podsg_nft::NftCli;

/// Runs until killed; exit 1 when it cannot start.
pub fn run(args: &AgentArgs) -> u8 {
    let config = AgentConfig {
        node_name: args.node_name.clone(),
        node_address: args.node_address,
        pod_cidr: args.pod_cidr,
        state_dir: args.state_dir.clone(),
        mode: args.mode.map(Into::into),
    };
    let started = ManifestFiles::new(args.manifests.clone())
        .and_then(|source| Ok((Agent::new(config, NftCli::default())?, source)));
    let (agent, source) = match started {
        Ok(started) => started,
        Err(e) => {
            eprintln!("podsg agent: cannot start: {e}");
            return 1;
        }
    };
    match serve(agent, source, &args.socket) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("podsg agent: {}: {e}", args.socket.display());
            1
        }
    }
}
