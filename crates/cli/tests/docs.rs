//! The command line as people expect it: completions that the shell
//! accepts, man pages for every command, YAML wherever JSON is, and exit
//! statuses in every command's help.

use std::path::Path;
use std::process::Command;

fn podsg(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_podsg")).args(args).output().expect("podsg runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// The commands people run (hidden helpers aside), by their words.
const COMMANDS: [&[&str]; 18] = [
    &["check"],
    &["explain"],
    &["diff"],
    &["import"],
    &["import", "aws"],
    &["agent"],
    &["ready"],
    &["install-cni"],
    &["controller"],
    &["webhook"],
    &["lab"],
    &["lab", "up"],
    &["lab", "apply"],
    &["lab", "check"],
    &["lab", "exec"],
    &["lab", "down"],
    &["completions"],
    &["man"],
];

#[test]
fn bash_accepts_the_completion_script_and_it_completes_every_command() {
    let (code, script, _) = podsg(&["completions", "bash"]);
    assert_eq!(code, 0);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("podsg.bash");
    std::fs::write(&path, &script).unwrap();
    let syntax = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(syntax.status.success(), "{}", String::from_utf8_lossy(&syntax.stderr));
    // What bash offers after `podsg lab `, asked of bash itself.
    let words = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {}; COMP_WORDS=(podsg lab ''); COMP_CWORD=2; COMP_LINE='podsg lab '; COMP_POINT=10; _podsg podsg '' lab; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            path.display()
        ))
        .output()
        .unwrap();
    let offered = String::from_utf8_lossy(&words.stdout);
    for sub in ["up", "apply", "check", "exec", "status", "down"] {
        assert!(offered.lines().any(|l| l == sub), "{sub} not offered: {offered}");
    }
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let (code, script, _) = podsg(&["completions", shell]);
        assert_eq!(code, 0, "{shell}");
        assert!(script.contains("explain") && script.contains("install-cni"), "{shell}");
    }
    let (code, _, err) = podsg(&["completions", "tcsh"]);
    assert_eq!(code, 2);
    assert!(err.contains("possible values: bash, elvish, fish, powershell, zsh"), "{err}");
}

#[test]
fn every_command_has_a_man_page_that_says_its_exit_status() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = podsg(&["man", &dir.path().display().to_string()]);
    assert_eq!(code, 0, "{err}");
    for words in COMMANDS {
        let page = dir.path().join(format!("podsg-{}.1", words.join("-")));
        let text = std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("{}: {e}", page.display()));
        assert!(text.starts_with(".ie \\n(.g .ds Aq") || text.contains(".TH"), "{}: not a man page", page.display());
        assert!(text.contains(&format!(".TH podsg-{} 1", words.join("-"))), "{}: title", page.display());
        if words != ["import"] {
            assert!(text.contains("Exit status"), "{}: no exit status", page.display());
        }
    }
    assert!(Path::new(&dir.path().join("podsg.1")).exists());
    assert!(!dir.path().join("podsg-lab-echo.1").exists(), "hidden helpers have no page");
    let (code, _, err) = podsg(&["man", "/proc/version/x"]);
    assert_eq!(code, 1);
    assert!(err.starts_with("podsg man: /proc/version/x: "), "{err}");
}

#[test]
fn every_command_says_its_exit_status_in_its_help() {
    for words in COMMANDS.iter().filter(|w| **w != ["import"]) {
        let mut args: Vec<&str> = words.to_vec();
        args.push("--help");
        let (code, help, _) = podsg(&args);
        assert_eq!(code, 0, "{words:?}");
        assert!(help.contains("Exit status: "), "{words:?}: {help}");
    }
}

/// What Python's YAML reader makes of `-o yaml` is what `-o json` says.
fn yaml_is_json(args: &[&str]) {
    let mut json_args = args.to_vec();
    json_args.extend(["-o", "json"]);
    let (_, json, _) = podsg(&json_args);
    let mut yaml_args = args.to_vec();
    yaml_args.extend(["-o", "yaml"]);
    let (_, yaml, _) = podsg(&yaml_args);
    let reader = Command::new("python3")
        .args(["-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read()), sort_keys=True))"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 with PyYAML (scripts/setup.sh installs it)");
    use std::io::Write;
    reader.stdin.as_ref().unwrap().write_all(yaml.as_bytes()).unwrap();
    let out = reader.wait_with_output().unwrap();
    assert!(out.status.success(), "{args:?}: PyYAML cannot read:\n{yaml}");
    let from_yaml: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let from_json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(from_yaml, from_json, "{args:?}");
}

#[test]
fn yaml_output_says_what_json_output_says() {
    let handbook = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/handbook").display().to_string();
    let tke = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/tke-walkthrough/step-8").display().to_string();
    yaml_is_json(&["check", &handbook]);
    yaml_is_json(&[
        "explain",
        &handbook,
        "--from",
        "networking/green-pod",
        "--to",
        "rds-ekslab.internal",
        "--port",
        "5432",
    ]);
    yaml_is_json(&["explain", &handbook, "--from", "networking/green-pod", "--to", "nowhere"]);
    yaml_is_json(&[
        "explain",
        &tke,
        "--from",
        "my-namespace/my-deployment",
        "--to",
        "kube-system/kube-dns",
        "--protocol",
        "udp",
    ]);
}
