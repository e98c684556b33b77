//! Every container and probe in `deploy/` runs a command this `podsg` binary
//! accepts: the rendered command and arguments are parsed by the real
//! binary (with `--help` appended, so it parses them and stops).

use std::process::Command;

fn rendered(dir: &str) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/");
    let output = Command::new("kubectl")
        .args(["kustomize", &format!("{path}{dir}")])
        .output()
        .unwrap_or_else(|e| panic!("kubectl (Debian package kubectl, installed by scripts/setup.sh): {e}"));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// The values the downward API gives the agent's `$(VAR)` references.
fn expand(word: &str) -> String {
    word.replace("$(NODE_NAME)", "node-1").replace("$(HOST_IP)", "10.0.0.1")
}

/// command + args of every container and init container of every
/// Deployment and DaemonSet, and every probe's exec command.
fn containers(yaml: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    podsg_model::yaml::read_whole(yaml, |unit| {
        if let podsg_model::yaml::Unit::Document { node, .. } = unit {
            let object: serde_json::Value = podsg_model::decode::typed_node(&node).unwrap();
            if object["kind"] != "Deployment" && object["kind"] != "DaemonSet" {
                return;
            }
            let spec = &object["spec"]["template"]["spec"];
            let all = spec["initContainers"].as_array().into_iter().chain(spec["containers"].as_array()).flatten();
            for c in all {
                let words = |value: &serde_json::Value| -> Vec<String> {
                    value.as_array().map_or(Vec::new(), |a| a.iter().map(|w| expand(w.as_str().unwrap())).collect())
                };
                out.push([words(&c["command"]), words(&c["args"])].concat());
                for probe in ["readinessProbe", "livenessProbe"] {
                    if c[probe]["exec"].is_object() {
                        out.push(words(&c[probe]["exec"]["command"]));
                    }
                }
            }
        }
    })
    .unwrap();
    out
}

#[test]
fn every_container_command_is_one_podsg_accepts() {
    for dir in ["base", "overlays/cert-manager", "overlays/eks-new-pods", "overlays/standalone"] {
        let all = containers(&rendered(dir));
        let subcommands: Vec<&str> = all.iter().map(|c| c[1].as_str()).collect();
        assert_eq!(
            subcommands,
            ["controller", "webhook", "install-cni", "agent", "ready", "ready"],
            "{dir}: the controller, the webhook, the agent's install step, the agent and its probes: {all:?}"
        );
        for command in all {
            assert_eq!(command[0], "podsg", "{dir}: {command:?}");
            assert!(command.len() > 2, "{dir}: {command:?}");
            let output = Command::new(env!("CARGO_BIN_EXE_podsg")).args(&command[1..]).arg("--help").output().unwrap();
            assert!(
                output.status.success(),
                "{dir}: podsg refuses {command:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}

#[test]
fn a_flag_podsg_does_not_have_is_refused() {
    // The check above would catch a misspelt flag: podsg refuses it even
    // with --help after it.
    let output =
        Command::new(env!("CARGO_BIN_EXE_podsg")).args(["controller", "--leese-name=x", "--help"]).output().unwrap();
    assert!(!output.status.success());
}
