//! Every container in `deploy/` runs a command this `podsg` binary
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

/// command + args of every container of every Deployment.
fn containers(yaml: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    podsg_model::yaml::read_whole(yaml, |unit| {
        if let podsg_model::yaml::Unit::Document { node, .. } = unit {
            let object: serde_json::Value = podsg_model::decode::typed_node(&node).unwrap();
            if object["kind"] != "Deployment" {
                return;
            }
            for c in object["spec"]["template"]["spec"]["containers"].as_array().unwrap() {
                let words = |key: &str| -> Vec<String> {
                    c[key]
                        .as_array()
                        .map_or(Vec::new(), |a| a.iter().map(|w| w.as_str().unwrap().to_string()).collect())
                };
                out.push([words("command"), words("args")].concat());
            }
        }
    })
    .unwrap();
    out
}

#[test]
fn every_container_command_is_one_podsg_accepts() {
    for dir in ["base", "overlays/cert-manager", "overlays/eks-new-pods"] {
        let all = containers(&rendered(dir));
        assert_eq!(all.len(), 2, "{dir}: the controller and the webhook: {all:?}");
        for command in all {
            assert_eq!(command[0], "podsg", "{dir}: {command:?}");
            assert!(["controller", "webhook"].contains(&command[1].as_str()), "{dir}: {command:?}");
            assert!(command.len() > 3, "{dir}: {command:?}");
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
