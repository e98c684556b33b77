//! The `podsg` binary end to end: exit codes, text and JSON output, on the
//! handbook and on edited copies of it.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

fn podsg(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_podsg")).args(args).output().expect("podsg runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn handbook() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/handbook")
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name).display().to_string()
}

/// A copy of the handbook with `edit` applied to one file's text.
fn edited_handbook(file: &str, edit: impl Fn(String) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(handbook()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let text = if name == file { edit(text) } else { text };
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

fn explain(dir: &str, from: &str, to: &str, extra: &[&str]) -> Value {
    let mut args = vec!["explain", dir, "--from", from, "--to", to, "--output", "json"];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = podsg(&args);
    assert_eq!(code, 0, "{stdout}{stderr}");
    json(&stdout)
}

#[test]
fn handbook_checks_clean() {
    let (code, stdout, _) = podsg(&["check", handbook().to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("checked 4 security groups, 1 SecurityGroupPolicies, 3 workloads and 0 Services in 7 files (strict mode): 0 errors, 0 warnings"), "{stdout}");
    let (code, stdout, _) = podsg(&["check", handbook().to_str().unwrap(), "--output", "json"]);
    assert_eq!(code, 0);
    let v = json(&stdout);
    assert_eq!(v["ok"], true);
    assert_eq!(v["errors"].as_array().unwrap().len(), 0);
    assert_eq!(v["summary"]["workloads"], 3);
}

#[test]
fn green_reaches_the_database_red_does_not() {
    let dir = handbook().display().to_string();
    let green = explain(&dir, "networking/green-pod", "rds-ekslab.internal", &["--port", "5432"]);
    assert_eq!(green["verdict"], "allow");
    assert_eq!(green["ingress"]["result"], "allowed");
    assert_eq!(green["ingress"]["groupName"], "RDS_SG");
    assert_eq!(green["ingress"]["peer"], "sg-0a7f3c9e2b1d48502");
    assert_eq!(green["egress"]["groupName"], "POD_SG");
    assert_eq!(green["chain"].as_array().unwrap().len(), 2);

    let red = explain(&dir, "networking/red-pod", "rds-ekslab.internal", &["--port", "5432"]);
    assert_eq!(red["verdict"], "deny");
    assert_eq!(red["ingress"]["result"], "denied");
    assert_eq!(red["from"]["groups"][0], "sg-0e1b5c2a7d4f36901");

    // Text output, by the database's address.
    let (code, stdout, _) =
        podsg(&["explain", &dir, "--from", "networking/red-pod", "--to", "10.0.3.50", "--port", "5432"]);
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("DENY tcp/5432 from Deployment/networking/red-pod to member/rds-ekslab.internal"),
        "{stdout}"
    );
    assert!(stdout.contains("ingress  denied: no rule of sg-0c4d8e2f6a1b39703 (RDS_SG) allows tcp/5432"), "{stdout}");
}

#[test]
fn green_resolves_names_through_the_cluster_dns() {
    let dir = handbook().display().to_string();
    for proto in ["udp", "tcp"] {
        let v = explain(&dir, "networking/green-pod", "kube-system/coredns", &["--port", "53", "--protocol", proto]);
        assert_eq!(v["verdict"], "allow", "{proto}: {v}");
        assert_eq!(v["ingress"]["groupName"], "NODE_GROUP_SG");
    }
}

/// Seed 004, step 8: without the DNS rule in the node group, name lookups
/// fail but access by IP does not.
#[test]
fn removing_the_dns_rule_breaks_lookups_not_access_by_ip() {
    let dir = edited_handbook("10-security-groups.yaml", |text| {
        let start = text.find("  # \"Allow pods with POD_SG to resolve DNS through node group\"").unwrap();
        let end = text.find("  # egress omitted").unwrap();
        format!("{}{}", &text[..start], &text[end..])
    });
    let d = dir.path().to_str().unwrap();
    let dns = explain(d, "networking/green-pod", "kube-system/coredns", &["--port", "53", "--protocol", "udp"]);
    assert_eq!(dns["verdict"], "deny");
    let db = explain(d, "networking/green-pod", "10.0.3.50", &["--port", "5432"]);
    assert_eq!(db["verdict"], "allow");
    let (code, stdout, _) = podsg(&["check", d]);
    assert_eq!(code, 0, "warnings are not errors: {stdout}");
    assert!(
        stdout.contains("Deployment/networking/green-pod: cannot reach the cluster DNS kube-system/coredns on udp/53 (no ingress rule of sg-0e1b5c2a7d4f36901 (NODE_GROUP_SG) allows it) and tcp/53 (no ingress rule of sg-0e1b5c2a7d4f36901 (NODE_GROUP_SG) allows it): name lookups will fail"),
        "{stdout}"
    );
    assert!(stdout.contains("0 errors, 1 warnings"), "{stdout}");
}

#[test]
fn probes_must_be_allowed_from_the_node_group_in_strict_mode() {
    let dir = edited_handbook("30-green-pod.yaml", |text| {
        text.replace(
            "        resources:\n",
            "        readinessProbe:\n          tcpSocket:\n            port: 8080\n        resources:\n",
        )
    });
    let d = dir.path().to_str().unwrap();
    let (code, stdout, _) = podsg(&["check", d]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("warning: "), "{stdout}");
    assert!(
        stdout.contains("Deployment/networking/green-pod: readinessProbe of container postgres-client (tcpSocket port 8080) is blocked in strict mode"),
        "{stdout}"
    );
    let (_, standard, _) = podsg(&["check", d, "--mode", "standard"]);
    assert!(standard.contains("0 errors, 0 warnings"), "{standard}");
    let v = explain(d, "node", "networking/green-pod", &["--port", "8080"]);
    assert_eq!(v["verdict"], "deny");
    let v = explain(d, "node", "networking/green-pod", &["--port", "8080", "--mode", "standard"]);
    assert_eq!(v["verdict"], "allow");
    assert_eq!(v["ingress"]["result"], "notEnforced");
}

#[test]
fn unused_objects_and_quotas_are_warned_about() {
    let dir = edited_handbook("20-security-group-policy.yaml", |text| {
        let extra = (1..=5)
            .map(|i| {
                format!(
                    "apiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata: {{name: sg-0e{i}}}\nspec: {{}}\n"
                )
            })
            .collect::<Vec<_>>()
            .join("---\n");
        format!(
            "{text}---\napiVersion: vpcresources.k8s.aws/v1beta1\nkind: SecurityGroupPolicy\nmetadata: {{name: many, namespace: networking}}\nspec:\n  podSelector: {{matchLabels: {{app: green-pod}}}}\n  securityGroups: {{groupIds: [sg-0e1, sg-0e2, sg-0e3, sg-0e4, sg-0e5]}}\n---\napiVersion: vpcresources.k8s.aws/v1beta1\nkind: SecurityGroupPolicy\nmetadata: {{name: nobody, namespace: networking}}\nspec:\n  podSelector: {{matchLabels: {{app: blue-pod}}}}\n  securityGroups: {{groupIds: [sg-0e1]}}\n---\n{extra}---\napiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata: {{name: sg-0ffff}}\nspec: {{}}\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: my-app, namespace: networking}}\nspec: {{selector: {{app: my-app}}, ports: [{{port: 80}}]}}\n"
        )
    });
    let (code, stdout, _) = podsg(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}");
    for expected in [
        "SecurityGroupPolicy/networking/nobody: selects no pod or workload in namespace networking",
        "Deployment/networking/green-pod: carries 6 security groups; EKS allows 5 per network interface by default",
        "SecurityGroup/sg-0ffff: referenced by nothing",
        "note: ",
        "Service/networking/my-app: selects no pod or workload in namespace networking: connections to it are refused",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?} in:\n{stdout}");
    }
}

#[test]
fn errors_exit_1_and_load_nothing() {
    let dir = edited_handbook("20-security-group-policy.yaml", |text| {
        text.replace("sg-0a7f3c9e2b1d48502", "sg-0000000000000dead")
    });
    let (code, stdout, _) = podsg(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("20-security-group-policy.yaml:13:9: SecurityGroupPolicy/networking/allow-rds-access: spec.securityGroups.groupIds[0]: sg-0000000000000dead: InvalidSecurityGroupID.NotFound: sg-0000000000000dead does not exist"), "{stdout}");
    assert!(stdout.contains("nothing was loaded"), "{stdout}");
    let (code, stdout, _) = podsg(&["check", dir.path().to_str().unwrap(), "-o", "json"]);
    assert_eq!(code, 1);
    let v = json(&stdout);
    assert_eq!(v["ok"], false);
    assert_eq!(v["errors"][0]["path"], "spec.securityGroups.groupIds[0]");
    assert_eq!((&v["errors"][0]["line"], &v["errors"][0]["column"]), (&json!(13), &json!(9)));
    assert_eq!(v["errors"][0]["object"]["kind"], "SecurityGroupPolicy");
    // explain on bad manifests is bad input.
    let (code, _, _) = podsg(&[
        "explain",
        dir.path().to_str().unwrap(),
        "--from",
        "networking/green-pod",
        "--to",
        "10.0.3.50",
        "--port",
        "5432",
    ]);
    assert_eq!(code, 2);
    let (code, stdout, _) = podsg(&["check", "/nonexistent/podsg"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("/nonexistent/podsg: No such file or directory"), "{stdout}");
}

#[test]
fn explain_rejects_bad_input_with_exit_2() {
    let dir = handbook().display().to_string();
    let cases: [(&[&str], &str); 5] = [
        (
            &["--from", "networking/blue-pod", "--to", "10.0.3.50", "--port", "5432"],
            "--from networking/blue-pod: not found",
        ),
        (&["--from", "networking/green-pod", "--to", "10.0.3.50"], "--protocol tcp: tcp needs a port (1-65535)"),
        (&["--from", "networking/green-pod", "--to", "10.0.3.50", "--port", "70000"], "port must be 1-65535"),
        (
            &["--from", "networking/green-pod", "--to", "10.0.3.50", "--protocol", "sctpx"],
            "--protocol sctpx: must be tcp, udp",
        ),
        (&["--from", "networking/green-pod", "--to", "a/b/c/d", "--port", "1"], "--to a/b/c/d: not found"),
    ];
    for (args, message) in cases {
        let mut all = vec!["explain", dir.as_str()];
        all.extend_from_slice(args);
        let (code, stdout, stderr) = podsg(&all);
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        assert!(stdout.contains(message), "{args:?}: expected {message:?} in {stdout}");
    }
    let (code, _, stderr) = podsg(&["explain", &dir, "--from", "x", "--to", "y", "--mode", "lax"]);
    assert_eq!(code, 2, "clap rejects bad flags: {stderr}");
    assert!(stderr.contains("invalid value 'lax' for '--mode <MODE>'"), "{stderr}");
}

#[test]
fn icmp_and_other_protocols_explain() {
    let dir = handbook().display().to_string();
    let v = explain(&dir, "networking/green-pod", "10.0.3.50", &["--protocol", "icmp"]);
    assert_eq!(v["service"], "icmp type 8 code 0");
    assert_eq!(v["verdict"], "deny");
    let v = explain(&dir, "networking/red-pod", "kube-system/coredns", &["--protocol", "47"]);
    assert_eq!(v["verdict"], "allow", "the node group allows all traffic from itself");
    // An echo reply is only ever a reply: without the request, it is dropped.
    let v = explain(&dir, "networking/green-pod", "networking/red-pod", &["--protocol", "icmp", "--port", "0"]);
    assert_eq!((&v["verdict"], &v["ingress"]["result"]), (&json!("deny"), &json!("notNew")));
}

#[test]
fn a_members_ingress_answers_for_every_source_and_names_who_enforces_it() {
    let dir = handbook().display().to_string();
    // The management instance to the database on 3306: RDS_SG allows only 5432.
    let v = explain(&dir, "mgmt-instance.internal", "rds-ekslab.internal", &["--port", "3306"]);
    assert_eq!(v["verdict"], "deny");
    assert_eq!(v["ingress"]["result"], "denied");
    assert_eq!(v["enforcedBy"], json!({"egress": "cloud", "ingress": "cloud"}));
    let (_, text, _) =
        podsg(&["explain", &dir, "--from", "mgmt-instance.internal", "--to", "rds-ekslab.internal", "--port", "3306"]);
    assert!(text.contains("ingress  denied: no rule of sg-0c4d8e2f6a1b39703 (RDS_SG) allows tcp/3306 from member/mgmt-instance.internal (groups sg-0b9e1d7c3f5a26804 (EKS-Management-SG)); enforced by the cloud's security groups, not by podsg: this traffic does not pass a podsg node"), "{text}");
    let v = explain(&dir, "networking/green-pod", "rds-ekslab.internal", &["--port", "5432"]);
    assert_eq!((&v["verdict"], &v["enforcedBy"]), (&json!("allow"), &json!({"egress": "podsg", "ingress": "podsg"})));
}

#[test]
fn import_aws_round_trips_into_check() {
    let (code, stdout, stderr) = podsg(&["import", "aws", &fixture("describe-security-groups.json")]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("kind: SecurityGroup"), "{stdout}");
    assert!(stdout.contains("name: sg-0c4d8e2f6a1b39703"), "{stdout}");
    assert!(stdout.contains("egress: []"), "RDS_SG's revoked egress stays revoked:\n{stdout}");
    // Replace the handbook's groups with the imported ones (keeping its node
    // group), and declare the database as a member of the imported RDS_SG.
    let dir = edited_handbook("10-security-groups.yaml", |text| {
        let node_group_end = text
            .find("---\napiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata:\n  name: sg-0a7f3c9e2b1d48502")
            .unwrap();
        text[..node_group_end].to_string()
    });
    let imported = stdout.replace(
        "  groupName: RDS_SG\n",
        "  groupName: RDS_SG\n  members:\n  - address: 10.0.3.50\n    name: rds-ekslab.internal\n",
    );
    assert_ne!(imported, stdout);
    std::fs::write(dir.path().join("11-imported.yaml"), &imported).unwrap();
    let d = dir.path().to_str().unwrap();
    let (code, out, _) = podsg(&["check", d]);
    assert_eq!(code, 0, "{out}");
    let v = explain(d, "networking/green-pod", "10.0.3.50", &["--port", "5432"]);
    assert_eq!(v["verdict"], "allow", "{v}");
    let v = explain(d, "networking/green-pod", "10.0.3.50", &["--protocol", "icmp"]);
    assert_eq!(v["verdict"], "unknown", "ICMP from 10.0.0.0/16 needs green's address: {v}");
}

#[test]
fn import_aws_refuses_prefix_lists_and_bad_rules_whole() {
    let (code, stdout, stderr) = podsg(&["import", "aws", &fixture("prefix-list.json")]);
    assert_eq!(code, 1);
    assert_eq!(stdout, "", "nothing is half imported");
    for expected in [
        "SecurityGroups[0].IpPermissions[0].ToPort: 70000: must be between 0 and 65535",
        "SecurityGroups[0].IpPermissionsEgress[0].PrefixListIds[0].PrefixListId: pl-63a5400a: prefix lists not supported",
    ] {
        assert!(stderr.contains(expected), "missing {expected:?} in:\n{stderr}");
    }
    let (code, _, stderr) = podsg(&["import", "aws", "/nonexistent.json"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("No such file"), "{stderr}");
}

#[test]
fn import_aws_keeps_peering_facts_and_declares_outside_groups() {
    let input = fixture("peered-and-stale.yaml");
    let (code, stdout, stderr) = podsg(&["import", "aws", &input]);
    assert_eq!(code, 0, "{stderr}");
    for expected in [
        "warning: ",
        "NextToken: eyJOZXh0VG9rZW4iOiBudWxsfQ==: the input is one page of a paginated answer",
        "SecurityGroups[0].IpPermissions[0].IpRanges[0].CidrIp: 10.0.0.1/16: host bits are set; imported as 10.0.0.0/16",
        "SecurityGroups[0].IpPermissions[0].UserIdGroupPairs[1].PeeringStatus: deleted: stale: the VPC peering connection pcx-0dead is deleted, so this reference to sg-0ccccccccccccccc3 matches nothing",
        "rules reference groups the input does not hold: sg-0bbbbbbbbbbbbbbb2; `podsg check` needs them",
    ] {
        assert!(stderr.contains(expected), "missing {expected:?} in:\n{stderr}");
    }
    for expected in [
        "groupName: \"off\"\n",
        "    - groupId: sg-0bbbbbbbbbbbbbbb2\n      peeringStatus: active\n      userId: \"210987654321\"\n      vpcId: vpc-0peer\n      vpcPeeringConnectionId: pcx-0123\n",
        "      peeringStatus: deleted\n",
        "    - cidrIp: \"10.0.0.0/16\"\n",
        "  egress:\n  - ipProtocol: \"-1\"\n    ipRanges:\n",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?} in:\n{stdout}");
    }
    // Declared outside, the peered group is known to exist: check passes.
    let (code, stdout, stderr) = podsg(&["import", "aws", "--declare-outside", &input]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("name: sg-0bbbbbbbbbbbbbbb2\nspec:\n  description: \"referenced by imported rules; described outside these manifests\"\n  outside:\n    userId: \"210987654321\"\n    vpcId: vpc-0peer\n"), "{stdout}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("groups.yaml"), &stdout).unwrap();
    let (code, out, _) = podsg(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    // The same group twice is refused.
    let twice = dir.path().join("twice.json");
    std::fs::write(&twice, r#"[{"GroupId": "sg-01", "IpPermissions": []}, {"GroupId": "sg-01", "IpPermissions": []}]"#)
        .unwrap();
    let (code, _, stderr) = podsg(&["import", "aws", twice.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("SecurityGroups[1].GroupId: sg-01: the input holds this group twice (also SecurityGroups[0])"),
        "{stderr}"
    );
}

/// `podsg import aws big.json | head -1`: the reader goes away while podsg
/// writes (the output is far larger than a pipe's buffer), and podsg ends
/// quietly instead of panicking.
#[test]
fn a_closed_output_pipe_ends_podsg_quietly() {
    let group = |i: usize| {
        format!(
            r#"{{"GroupId": "sg-{i:017x}", "GroupName": "g{i}", "Description": "d", "VpcId": "vpc-1",
               "IpPermissions": [{{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                 "IpRanges": [{{"CidrIp": "10.0.0.0/8", "Description": "a rule that makes the output long"}}]}}],
               "IpPermissionsEgress": []}}"#
        )
    };
    let groups: Vec<String> = (0..3000).map(group).collect();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("big.json");
    std::fs::write(&input, format!(r#"{{"SecurityGroups": [{}]}}"#, groups.join(","))).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_podsg"))
        .args(["import", "aws"])
        .arg(&input)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    assert!(String::from_utf8_lossy(&first).starts_with("# Imported by `podsg import aws`"));
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

#[test]
fn with_new_pods_a_pod_keeps_the_groups_recorded_on_it() {
    // A running red pod that the green SGP selected when it started (since
    // relabelled): its annotation records POD_SG.
    let kept = r#"
---
apiVersion: v1
kind: Pod
metadata:
  name: red-kept
  namespace: networking
  labels: {app: red-pod}
  annotations:
    vpc.amazonaws.com/pod-eni: '[{"privateIp":"10.0.1.77","subnetCidr":"10.0.1.77/32","securityGroups":["sg-0a7f3c9e2b1d48502"]}]'
spec:
  containers: [{name: c, image: postgres:13-alpine}]
"#;
    for (applies_to, verdict) in [("all-pods", "deny"), ("new-pods", "allow")] {
        let dir = edited_handbook("00-cluster.yaml", |text| {
            text.replace("  enforcingMode: strict", &format!("  enforcingMode: strict\n  sgpAppliesTo: {applies_to}"))
                + kept
        });
        let dir = dir.path().display().to_string();
        let v = explain(&dir, "networking/red-kept", "rds-ekslab.internal", &["--port", "5432"]);
        assert_eq!(v["verdict"], verdict, "{applies_to}: {v}");
        if applies_to == "new-pods" {
            assert_eq!(v["from"]["groups"][0], "sg-0a7f3c9e2b1d48502");
            let why = v["from"]["why"].as_str().unwrap_or_default();
            assert!(why.starts_with("sgpAppliesTo is new-pods: it keeps the groups recorded"), "{v}");
        }
    }
}

#[test]
fn the_agent_takes_its_desired_state_from_files_or_the_api_never_both() {
    let node = ["agent", "--node-name", "n", "--node-address", "10.0.0.1"];
    let cases: [(&[&str], &str); 4] = [
        (&[], "the following required arguments were not provided:\n  --manifests <PATH>"),
        (&["--manifests", "x", "--kubernetes"], "the argument '--manifests <PATH>' cannot be used with '--kubernetes'"),
        (
            &["--manifests", "x", "--config", "c"],
            "the argument '--manifests <PATH>' cannot be used with '--config <FILE>'",
        ),
        (&["--kubernetes", "--pod-cidr", "10.1.0.0/33"], "invalid value '10.1.0.0/33' for '--pod-cidr <CIDR>'"),
    ];
    for (args, message) in cases {
        let mut all = node.to_vec();
        all.extend_from_slice(args);
        let (code, _, stderr) = podsg(&all);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: expected {message:?} in {stderr}");
    }
    // The API cannot be reached: a clear reason, exit 1, nothing started.
    let mut all = node.to_vec();
    all.extend_from_slice(&["--kubernetes", "--kubeconfig", "/nonexistent/kubeconfig"]);
    let (code, _, stderr) = podsg(&all);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("podsg agent: cannot start: cannot read node n: kubeconfig: /nonexistent/kubeconfig"),
        "{stderr}"
    );
}

#[test]
fn install_cni_puts_the_plugin_and_its_configuration_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let (bin, conf) = (dir.path().join("bin"), dir.path().join("net.d"));
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&conf).unwrap();
    let plugin = env!("CARGO_BIN_EXE_podsg-cni");
    let install = |mode: &str, wait: &str| {
        podsg(&[
            "install-cni",
            "--mode",
            mode,
            "--bin-dir",
            bin.to_str().unwrap(),
            "--conf-dir",
            conf.to_str().unwrap(),
            "--plugin",
            plugin,
            "--wait-seconds",
            wait,
        ])
    };
    // Chained with no primary yet: it waits, then says what is missing.
    let (code, _, stderr) = install("chained", "0");
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("no primary CNI configuration in"), "{stderr}");

    let (code, _, stderr) = install("standalone", "0");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(std::fs::read(bin.join("podsg")).unwrap(), std::fs::read(plugin).unwrap());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(bin.join("podsg")).unwrap().permissions().mode() & 0o777, 0o755);
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(conf.join("00-podsg.conflist")).unwrap()).unwrap();
    assert_eq!(written["plugins"], serde_json::json!([{"type": "podsg", "agentSocket": "/run/podsg/agent.sock"}]));
    // The installed plugin is the real one: it answers VERSION.
    let out = std::process::Command::new(bin.join("podsg")).env("CNI_COMMAND", "VERSION").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("1.1.0"));

    // Chained after the cluster's CNI (its file sorts after podsg's own).
    std::fs::remove_file(conf.join("00-podsg.conflist")).unwrap();
    std::fs::write(
        conf.join("10-flannel.conflist"),
        r#"{"cniVersion": "1.0.0", "name": "cbr0", "plugins": [{"type": "flannel"}, {"type": "portmap"}]}"#,
    )
    .unwrap();
    let (code, _, stderr) = install("chained", "0");
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("chaining after"), "{stderr}");
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(conf.join("00-podsg.conflist")).unwrap()).unwrap();
    let types: Vec<&str> = written["plugins"].as_array().unwrap().iter().map(|p| p["type"].as_str().unwrap()).collect();
    assert_eq!((written["name"].as_str(), types), (Some("cbr0"), vec!["flannel", "portmap", "podsg"]));
    // Run again (the agent restarted): the same file.
    let before = std::fs::read(conf.join("00-podsg.conflist")).unwrap();
    assert_eq!(install("chained", "0").0, 0);
    assert_eq!(std::fs::read(conf.join("00-podsg.conflist")).unwrap(), before);
    let names: Vec<String> =
        std::fs::read_dir(&conf).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(names.len(), 2, "no temporary file left: {names:?}");
}

#[test]
fn diff_lists_what_a_change_newly_allows_and_denies_with_the_deciding_rules() {
    // The management group moves SSH from 22 to 2222.
    let moved = edited_handbook("10-security-groups.yaml", |t| {
        t.replace("fromPort: 22\n    toPort: 22", "fromPort: 2222\n    toPort: 2222")
    });
    let (old, new) = (handbook().display().to_string(), moved.path().display().to_string());
    let (code, out, err) = podsg(&["diff", &old, &new]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Newly allowed (4):\n  Deployment/kube-system/coredns, Deployment/networking/red-pod -> member/mgmt-instance.internal tcp/2222\n"), "{out}");
    assert!(out.contains("Newly denied (4):\n  Deployment/kube-system/coredns, Deployment/networking/red-pod -> member/mgmt-instance.internal tcp/22\n"), "{out}");
    assert!(out.contains("    after:  deny; egress allowed by sg-0a7f3c9e2b1d48502 (POD_SG) egress[0]: all traffic to 0.0.0.0/0, ::/0; ingress denied: no rule of sg-0b9e1d7c3f5a26804 allows it"), "{out}");
    assert!(out.contains("4 newly allowed, 4 newly denied, 0 unknown"), "{out}");
    let (code, _, _) = podsg(&["diff", &old, &new, "--fail-on-new-allow"]);
    assert_eq!(code, 1);
    let (code, _, _) = podsg(&["diff", &new, &new, "--fail-on-new-allow"]);
    assert_eq!(code, 0, "no change, nothing newly allowed");
    let (_, out, _) = podsg(&["diff", &old, &new, "-o", "json"]);
    let v = json(&out);
    assert_eq!(v["summary"]["newlyAllowed"], 4);
    assert_eq!(v["newlyDenied"][0]["service"], "tcp/22");
    assert_eq!(
        v["newlyDenied"][0]["before"]["ingress"],
        "allowed by sg-0b9e1d7c3f5a26804 (EKS-Management-SG) ingress[0]: tcp 22 from 0.0.0.0/0"
    );
    let (_, md, _) = podsg(&["diff", &old, &new, "-o", "markdown"]);
    assert!(
        md.contains("#### Newly denied (4)\n\n| from | to | service | before | after |\n|---|---|---|---|---|\n"),
        "{md}"
    );
}

#[test]
fn diff_reads_either_side_from_git_and_names_the_side_that_is_bad() {
    let repo = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git").current_dir(repo.path()).args(args).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    git(&["init", "-q"]);
    let dir = repo.path().join("manifests");
    std::fs::create_dir(&dir).unwrap();
    for e in std::fs::read_dir(handbook()).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
    }
    git(&["add", "."]);
    git(&["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "handbook"]);
    // Working tree edit: the DNS rules go.
    let groups = dir.join("10-security-groups.yaml");
    let text = std::fs::read_to_string(&groups).unwrap();
    let a = text.find("  # \"Allow pods with POD_SG to resolve DNS through node group\"").unwrap();
    let b = text.find("  # egress omitted").unwrap();
    std::fs::write(&groups, format!("{}{}", &text[..a], &text[b..])).unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_podsg")).current_dir(repo.path()).args(args).output().unwrap();
        (out.status.code().unwrap(), String::from_utf8_lossy(&out.stdout).to_string())
    };
    let (code, out) = run(&["diff", "git:HEAD:manifests", "manifests"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("Newly denied (2):\n  Deployment/networking/green-pod -> Deployment/kube-system/coredns, Deployment/networking/red-pod tcp/53\n"), "{out}");
    let (code, out) = run(&["diff", "git:HEAD:manifests", "git:HEAD:manifests"]);
    assert_eq!(
        (code, out.as_str()),
        (0, "0 newly allowed, 0 newly denied, 0 unknown (0 pairs of endpoint classes compared, 0 probes)\n")
    );
    let (code, out) = run(&["diff", "git:nope:manifests", "manifests"]);
    assert_eq!(code, 2);
    assert!(out.starts_with("error: OLD git:nope:manifests: git ls-tree"), "{out}");
    let (code, out) = run(&["diff", "manifests", "missing"]);
    assert_eq!(code, 2);
    assert_eq!(out, "error: NEW missing: no such file or directory\n");
    std::fs::write(dir.join("20-security-group-policy.yaml"), "apiVersion: vpcresources.k8s.aws/v1beta1\nkind: SecurityGroupPolicy\nmetadata: {name: x, namespace: networking}\nspec: {podSelector: {}, securityGroups: {groupIds: [sg-0000000000000dead]}}\n").unwrap();
    let (code, out) = run(&["diff", "git:HEAD:manifests", "manifests"]);
    assert_eq!(code, 2);
    assert!(out.starts_with("error: NEW manifests: manifests/20-security-group-policy.yaml:4:"), "{out}");
    assert!(out.contains("sg-0000000000000dead does not exist"), "{out}");
    git(&["add", "."]);
    git(&["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "bad"]);
    let (code, out) = run(&["diff", "git:HEAD~1:manifests", "git:HEAD:manifests"]);
    assert_eq!(code, 2);
    assert!(out.starts_with("error: NEW git:HEAD:manifests: HEAD:manifests/20-security-group-policy.yaml:4:"), "{out}");
}
