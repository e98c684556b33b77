use super::*;

/// Removes everything the lab made, also when its state is lost.
pub fn down() -> Result<()> {
    let step = Step::start("removing the lab");
    if let Some(state) = LabState::load().ok().flatten() {
        for p in &state.processes {
            let _ = std::process::Command::new("kill").arg(p.pid.to_string()).status();
        }
    }
    sweep()?;
    step.done();
    Ok(())
}

/// Kills what runs in the lab's namespaces, deletes them and the lab's files.
pub(super) fn sweep() -> Result<()> {
    let listing = ip(&["netns", "list"])?;
    let namespaces: Vec<String> = listing
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with(PREFIX))
        .map(String::from)
        .collect();
    for round in 0..2 {
        let mut left = false;
        for ns in &namespaces {
            let pids = ip(&["netns", "pids", ns]).unwrap_or_default();
            for pid in pids.split_whitespace() {
                left = true;
                let signal = if round == 0 { "-TERM" } else { "-KILL" };
                let _ = std::process::Command::new("kill").args([signal, pid]).status();
            }
        }
        if left && round == 0 {
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    for ns in &namespaces {
        ip(&["netns", "del", ns])?;
    }
    if let Ok(entries) = std::fs::read_dir("/etc/netns") {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(PREFIX) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    match std::fs::remove_dir_all(root()) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(root().display().to_string())(e)),
        _ => Ok(()),
    }
}
