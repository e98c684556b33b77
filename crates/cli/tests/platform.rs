//! What a platform engineer expects of `podsg check` and `podsg explain`
//! in CI and at a terminal: standard input, exit codes, summaries, names as
//! kubectl prints them, file walking that survives odd directories.

use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn podsg(args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_podsg"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("podsg runs");
    let mut input = child.stdin.take().expect("piped");
    input.write_all(stdin.unwrap_or("").as_bytes()).expect("writes");
    drop(input);
    let out = child.wait_with_output().expect("podsg ends");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn handbook() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/handbook")
}

/// The handbook as one stream, documents separated as `helm template` does.
fn handbook_stream() -> String {
    let mut files: Vec<PathBuf> = std::fs::read_dir(handbook()).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files.iter().map(|f| format!("---\n{}", std::fs::read_to_string(f).unwrap())).collect()
}

#[test]
fn check_and_explain_read_standard_input() {
    let stream = handbook_stream();
    let (code, out, _) = podsg(&["check", "-"], Some(&stream));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("in 1 files"), "{out}");
    let (code, out, _) = podsg(
        &["explain", "-", "--from", "networking/green-pod", "--to", "rds-ekslab.internal", "--port", "5432"],
        Some(&stream),
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("ALLOW tcp/5432"), "{out}");
    // An unrendered chart gets a hint.
    let (code, out, _) =
        podsg(&["check", "-"], Some("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.name }}\n"));
    assert_eq!(code, 1);
    assert!(out.contains("note: -: this looks like an unrendered Helm template (it holds `{{`); render it first: helm template RELEASE CHART | podsg check -"), "{out}");
}

#[test]
fn exit_codes_for_ci() {
    let dir = handbook().display().to_string();
    let unused = "---\napiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata: {name: sg-0ffff000}\nspec: {}\n";
    let stream = format!("{}{unused}", handbook_stream());
    assert_eq!(podsg(&["check", "-"], Some(&stream)).0, 0, "warnings alone pass");
    let (code, out, _) = podsg(&["check", "--fail-on-warnings", "-", "-o", "json"], Some(&stream));
    assert_eq!(code, 1, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (&v["ok"], &v["summary"]["warnings"], &v["summary"]["loaded"]),
        (&json!(false), &json!(1), &json!(true))
    );
    // A failed load still has a summary.
    let (code, out, _) = podsg(&["check", "-", "-o", "json"], Some("apiVersion: v1\nkind: pod\nmetadata: {name: x}\n"));
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((&v["summary"]["loaded"], &v["summary"]["errors"]), (&json!(false), &json!(1)), "{v}");
    // explain: 0 whatever the verdict, unless asked.
    let red =
        ["explain", dir.as_str(), "--from", "networking/red-pod", "--to", "rds-ekslab.internal", "--port", "5432"];
    assert_eq!(podsg(&red, None).0, 0);
    let mut asked = red.to_vec();
    asked.push("--exit-code");
    assert_eq!(podsg(&asked, None).0, 3);
    let (_, out, _) = podsg(&[&red[..], &["-o", "json"]].concat(), None);
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["summary"], json!({"verdict": "deny", "errors": 0}));
}

#[test]
fn explain_takes_names_as_kubectl_prints_them_and_suggests_near_misses() {
    let dir = handbook().display().to_string();
    let (code, out, _) = podsg(
        &[
            "explain",
            &dir,
            "--from",
            "networking/green-pod-7d9c8b6f5-x2x9z",
            "--to",
            "rds-ekslab.internal",
            "--port",
            "5432",
        ],
        None,
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("pod green-pod-7d9c8b6f5-x2x9z is not in the manifests; its Deployment stands for it"),
        "{out}"
    );
    let (code, out, _) = podsg(
        &["explain", &dir, "--from", "networking/gren-pod", "--to", "rds-ekslab.internl", "--port", "5432"],
        None,
    );
    assert_eq!(code, 2);
    assert!(out.contains("error: --from networking/gren-pod: not found (did you mean networking/green-pod?)"), "{out}");
    assert!(out.contains("error: --to rds-ekslab.internl: not found (did you mean rds-ekslab.internal?)"), "{out}");
    let (code, out, _) = podsg(
        &[
            "explain",
            &dir,
            "--from",
            "networking/green-pod",
            "--to",
            "rds-ekslab.internal",
            "--port",
            "5432",
            "--icmp-code",
            "3",
        ],
        None,
    );
    assert_eq!(code, 2);
    assert!(out.contains("error: --protocol tcp: an ICMP code is only for icmp and icmpv6, not tcp"), "{out}");
}

#[test]
fn port_minus_one_asks_for_every_port_as_ec2_writes_it() {
    let dir = handbook().display().to_string();
    let ask = |from: &str, to: &str, extra: &[&str]| {
        let mut args = vec!["explain", dir.as_str(), "--from", from, "--to", to, "-o", "json"];
        args.extend_from_slice(extra);
        let (code, out, _) = podsg(&args, None);
        assert_eq!(code, 0, "{out}");
        serde_json::from_str::<Value>(&out).unwrap()
    };
    // The node group allows all traffic from itself; RDS_SG only tcp 5432.
    let v = ask("networking/red-pod", "kube-system/coredns", &["--port", "-1"]);
    assert_eq!((&v["verdict"], &v["service"]), (&json!("allow"), &json!("tcp/all ports")));
    let v = ask("networking/green-pod", "rds-ekslab.internal", &["--port", "-1"]);
    assert_eq!(v["verdict"], "deny", "5432 is open, not every port");
    let v = ask(
        "networking/green-pod",
        "rds-ekslab.internal",
        &["--protocol", "icmp", "--port", "-1", "--icmp-code", "-1"],
    );
    assert_eq!(v["service"], "icmp all types");
    let (code, out, _) = podsg(
        &["explain", &dir, "--from", "networking/green-pod", "--to", "rds-ekslab.internal", "--port", "-3"],
        None,
    );
    assert_eq!(code, 2);
    assert!(out.contains("error: --protocol tcp: port must be 1-65535, or -1 for all"), "{out}");
}

#[test]
fn repeated_warnings_are_summarised_and_verbose_shows_them_all() {
    let groups = "apiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata: {name: sg-0a0a0a0a}\nspec: {}\n";
    let pods: String = (0..20)
        .map(|i| format!("---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: ns}}\nspec: {{containers: [{{name: c, readinessProbe: {{tcpSocket: {{port: 80}}}}}}]}}\n"))
        .collect();
    let config = "---\napiVersion: podsg.io/v1alpha1\nkind: ClusterConfig\nmetadata: {name: c}\nspec: {defaultGroupIds: [sg-0a0a0a0a]}\n";
    let text = format!("{groups}{config}{pods}");
    let (code, out, _) = podsg(&["check", "-"], Some(&text));
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.matches("is blocked in strict mode").count(), 3, "{out}");
    assert!(out.contains("warning: … and 17 more like \"readinessProbe of container c (tcpSocket port…\" (--verbose or --output json lists them all)"), "{out}");
    let (_, out, _) = podsg(&["check", "-", "--verbose"], Some(&text));
    assert_eq!(out.matches("is blocked in strict mode").count(), 20, "{out}");
}

#[test]
fn directories_with_loops_upper_case_extensions_and_byte_order_marks() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::os::unix::fs::symlink(dir.path(), sub.join("loop")).unwrap();
    std::fs::write(
        sub.join("GROUP.YAML"),
        "\u{feff}apiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata: {name: sg-0a0a0a0a}\nspec: {}\n",
    )
    .unwrap();
    let (code, out, _) = podsg(&["check", dir.path().to_str().unwrap()], None);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("checked 1 security groups"), "{out}");
    assert_eq!(out.matches("a symbolic link loop").count(), 1, "{out}");
}
