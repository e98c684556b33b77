use super::up::{add_pods, converge, route};
use super::*;

pub fn apply(dir: &Path, options: &LabOptions) -> Result<()> {
    let mut state = LabState::load()?.ok_or_else(|| Error::Usage("no lab is up: run podsg lab up DIR first".into()))?;
    let catalog = load(dir)?;
    let files = LabFiles::read(dir)?;
    let planned = pods::plan(&catalog, state.nodes.len())?;
    let step = Step::start("applying the manifests");
    let gone: Vec<PodState> = state
        .pods
        .iter()
        .filter(|s| !planned.iter().any(|p| p.namespace == s.namespace && p.name == s.name))
        .cloned()
        .collect();
    for p in &gone {
        // Its servers first: a process keeps a deleted namespace alive.
        for d in state.processes.iter().filter(|d| d.netns == p.netns) {
            let _ = std::process::Command::new("kill").arg(d.pid.to_string()).status();
        }
        state.processes.retain(|d| d.netns != p.netns);
        pods::cni(&state, p, "DEL")?;
        if let Some(a) = p.address {
            route(&state, p.node, a, false)?;
        }
        let _ = ip(&["netns", "del", &p.netns]);
        let _ = std::fs::remove_dir_all(PathBuf::from("/etc/netns").join(&p.netns));
        state.pods.retain(|s| s.container_id != p.container_id);
        eprintln!("lab:   removed {}/{}", p.namespace, p.name);
    }
    state.generation += 1;
    snapshot(dir, state.generation)?;
    state.source = dir.canonicalize().map_err(io(dir.display().to_string()))?;
    add_pods(&mut state, &planned)?;
    sync_services(&mut state, &catalog, &files, &planned)?;
    let dns = dns_states(&state, &catalog, &planned);
    super::servers::expectation_servers(&mut state, &catalog, &planned, &files, &dns)?;
    step.done();
    let step = Step::start("waiting for every node to enforce the change");
    converge(&state)?;
    step.done();
    if options.revoke_established {
        let step = Step::start("cutting established connections the rules no longer allow");
        for n in &state.nodes {
            // Flushed connections are judged again by the rules at their next packet.
            let out = Netns::existing(&n.netns).exec("conntrack", &["-F"])?;
            if !out.status.success() {
                return Err(Error::Step(format!(
                    "conntrack -F on {}: {}",
                    n.name,
                    String::from_utf8_lossy(&out.stderr)
                )));
            }
        }
        step.done();
    }
    state.save()
}
