//! Reading manifests as Kubernetes reads them: what is refused, what is
//! accepted, and the exact message and position of every refusal.

mod placed;

use podsg_model::decode::{Format, decode};
use podsg_model::{Catalog, Diagnostic, Severity};

const GROUP: &str = "apiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata: {name: sg-0a}\nspec: {}\n";

/// Every diagnostic (errors, warnings; not notes) of loading `text` as
/// `t.yaml`, every phase that can run, placed at its line and column.
fn load(text: &str) -> Vec<String> {
    placed::diagnostics(text)
        .iter()
        .filter(|d| d.severity != Severity::Note)
        .map(|d| format!("{}: {d}", if d.is_error() { "error" } else { "warning" }))
        .collect()
}

fn check(cases: &[(&str, &[&str])]) {
    let mut failures = Vec::new();
    for (text, expected) in cases {
        let got = load(text);
        if got != *expected {
            failures.push(format!(
                "input:\n{text}\nexpected:\n  {}\ngot:\n  {}",
                expected.join("\n  "),
                got.join("\n  ")
            ));
        }
    }
    assert!(failures.is_empty(), "{} case(s) failed:\n\n{}", failures.len(), failures.join("\n\n"));
}

#[test]
fn keys_written_twice_are_refused_naming_both_lines() {
    check(&[
        (
            "apiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata: {name: sg-0b}\nspec:\n  ingress:\n  - {ipProtocol: tcp, fromPort: 22, toPort: 22, ipRanges: [{cidrIp: 10.0.0.0/8}]}\n  ingress:\n  - {ipProtocol: tcp, fromPort: 80, toPort: 80, ipRanges: [{cidrIp: 10.0.0.0/8}]}\n",
            &[
                "error: t.yaml:7:3: SecurityGroup/sg-0b: duplicate key `ingress` (first on line 5, again on line 7); a second value would silently replace the first",
            ],
        ),
        (
            // Two files concatenated without `---`.
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\napiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n",
            &[
                "error: t.yaml:4:1: Namespace/a: `apiVersion` again on line 4 (first on line 1): objects written one after another need a `---` line between them",
            ],
        ),
        (
            // In JSON too; and `on` is the key `true` to kubectl, as is `true`.
            "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\", \"labels\": {\"x\": \"1\", \"x\": \"2\"}}}",
            &[
                "error: t.yaml:1:90: Namespace/a: duplicate key `x` (first on line 1, again on line 1); a second value would silently replace the first",
            ],
        ),
    ]);
}

#[test]
fn scalars_are_typed_as_kubectl_types_them() {
    let sgp = |labels: &str| {
        format!(
            "{GROUP}---\napiVersion: vpcresources.k8s.aws/v1beta1\nkind: SecurityGroupPolicy\nmetadata: {{name: p, namespace: ns}}\nspec:\n  podSelector:\n    matchLabels: {labels}\n  securityGroups: {{groupIds: [sg-0a]}}\n"
        )
    };
    check(&[
        (
            &sgp("{tier: yes}"),
            &[
                "error: t.yaml:11:25: SecurityGroupPolicy/ns/p: spec.podSelector.matchLabels.tier: invalid type: boolean `true`, expected a string; unquoted `yes` is a boolean to kubectl (YAML 1.1): write \"yes\" for the text",
            ],
        ),
        (
            &sgp("{version: 1.0}"),
            &[
                "error: t.yaml:11:28: SecurityGroupPolicy/ns/p: spec.podSelector.matchLabels.version: invalid type: integer `1`, expected a string; unquoted `1.0` is an integer to kubectl (YAML 1.1): write \"1.0\" for the text",
            ],
        ),
        (&sgp("{tier: \"yes\", web: 'on'}"), &[]),
    ]);
}

#[test]
fn null_is_absent_as_in_kubernetes() {
    check(&[
        (
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace:\n  labels: null\n  annotations:\nspec:\n  containers:\n  - name: c\n    ports: null\n",
            &[],
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: \"\"\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default}\n",
            &["error: t.yaml:9:12: Pod/default/p: metadata.name: p: duplicate Pod; also defined at t.yaml:1:1"],
        ),
    ]);
}

#[test]
fn misspelt_kinds_and_fields_are_mistakes_not_silence() {
    check(&[
        (
            "apiVersion: vpcresources.k8s.aws/v1beta1\nkind: SecurityGroupPolicies\nmetadata: {name: p}\nspec: {}\n",
            &[
                "error: t.yaml:2:1: SecurityGroupPolicies/default/p: kind: SecurityGroupPolicies: vpcresources.k8s.aws/v1beta1 has no kind SecurityGroupPolicies; did you mean SecurityGroupPolicy?",
            ],
        ),
        (
            "apiVersion: v1\nkind: pod\nmetadata: {name: p}\n",
            &["error: t.yaml:2:1: pod/default/p: kind: pod: v1 has no kind pod; did you mean Pod?"],
        ),
        (
            &format!(
                "{GROUP}---\napiVersion: vpcresources.k8s.aws/v1beta1\nkind: SecurityGroupPolicy\nmetadata: {{name: p, namepsace: ns}}\nspec: {{podSelector: {{}}, securityGroups: {{groupIds: [sg-0a]}}}}\n"
            ),
            &[
                "error: t.yaml:8:21: SecurityGroupPolicy/default/p: metadata.namepsace: unknown field `namepsace`; did you mean `namespace`?",
            ],
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns, lables: {app: web}}\nspec: {serviceAcountName: builder}\n",
            &[
                "warning: t.yaml:3:36: Pod/ns/p: metadata.lables: unknown field `lables`; did you mean `labels`? (kubectl --validate=strict refuses it; podsg ignores it)",
                "warning: t.yaml:4:8: Pod/ns/p: spec.serviceAcountName: unknown field `serviceAcountName`; did you mean `serviceAccountName`? (kubectl --validate=strict refuses it; podsg ignores it)",
            ],
        ),
        (
            // What Kubernetes itself writes is not a mistake.
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: ns, uid: x, resourceVersion: \"1\", managedFields: []}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: d}}\n  strategy: {}\n  template:\n    metadata: {labels: {app: d}, creationTimestamp: null}\n    spec:\n      containers:\n      - {name: c, image: nginx, ports: [{containerPort: 80, hostPort: 80}], livenessProbe: {httpGet: {port: 80, path: /}, periodSeconds: 3}}\n      initContainers:\n      - {name: i, image: busybox, restartPolicy: Always}\nstatus: {replicas: 2}\n",
            &[],
        ),
    ]);
}

#[test]
fn merge_keys_work_as_in_kubectl() {
    check(&[
        (
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: ns\n  labels:\n    <<: {app: web, tier: db}\n    tier: front\n",
            &[],
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\n    <<: [a, b]\n",
            &["error: t.yaml:6:9: Pod/default/p: a merge key `<<` takes a mapping or a list of mappings"],
        ),
    ]);
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: ns\n  labels:\n    <<: &base {app: web, tier: db}\n    tier: front\n";
    let decoded = decode(text, "t.yaml", Format::Yaml);
    let loaded = Catalog::build(decoded.objects).expect("loads");
    let labels = &loaded.catalog.workloads[0].labels;
    assert_eq!((labels["app"].as_str(), labels["tier"].as_str()), ("web", "front"));
}

#[test]
fn what_would_exhaust_a_reader_is_refused_at_once() {
    let deep = "[".repeat(200_000);
    assert_eq!(load(&deep), ["error: t.yaml:1:256: invalid YAML: recursion limit exceeded"]);
    let block: String = (0..100).map(|i| format!("{}k{i}:\n", " ".repeat(i))).collect();
    assert_eq!(load(&block), ["error: t.yaml:65:65: invalid YAML: nested deeper than 64 levels"]);
    let mut bomb = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..9u8 {
        let (prev, cur) = ((b'a' + i - 1) as char, (b'a' + i) as char);
        bomb += &format!("{cur}: &{cur} [{}]\n", vec![format!("*{prev}"); 9].join(", "));
    }
    let errors = load(&bomb);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("aliases expand this document to more than 100000 nodes; refused as a YAML bomb"),
        "{errors:?}"
    );
    check(&[(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: !!binary cA==}\n",
        &[
            "error: t.yaml:3:18: Pod/default/cA==: tag !!binary is not supported: Kubernetes manifests are plain JSON data",
        ],
    )]);
}

#[test]
fn byte_order_marks_are_read_past() {
    let yaml = format!("\u{feff}{GROUP}");
    assert_eq!(load(&yaml), Vec::<String>::new());
    let json = "\u{feff}{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\"}}";
    let decoded = decode(json, "t.json", Format::Json);
    assert_eq!((decoded.objects.len(), decoded.diagnostics.len()), (1, 0));
}

#[test]
fn every_phase_that_can_run_reports() {
    // A broken document does not hide the reference error in another; a
    // group that exists but cannot be read is not reported missing too.
    let text = "apiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata: {name: sg-0b}\nspec: {ingress: [{ipProtocol: tcp, fromPort: x}]}\n---\napiVersion: vpcresources.k8s.aws/v1beta1\nkind: SecurityGroupPolicy\nmetadata: {name: p, namespace: ns}\nspec: {podSelector: {}, securityGroups: {groupIds: [sg-0b, sg-0c]}}\n";
    assert_eq!(
        load(text),
        [
            "error: t.yaml:4:46: SecurityGroup/sg-0b: spec.ingress[0].fromPort: invalid type: string \"x\", expected i64",
            "error: t.yaml:9:60: SecurityGroupPolicy/ns/p: spec.securityGroups.groupIds[1]: sg-0c: InvalidSecurityGroupID.NotFound: sg-0c does not exist (and cannot: EC2's group IDs are sg- and 8 or 17 hexadecimal digits, Tencent's sg- and 8 letters or digits; it has 2 digits)",
        ]
    );
}

#[test]
fn lists_are_read_item_by_item_with_their_own_positions() {
    let text = "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a, namespace: ns}\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a, namespace: ns}\nkind: List\nmetadata: {resourceVersion: \"\"}\n";
    assert_eq!(
        load(text),
        ["error: t.yaml:8:14: Pod/ns/a: metadata.name: a: duplicate Pod; also defined at t.yaml:3:3"]
    );
    // `items` of something that is not a list are not objects.
    let decoded = decode(
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n",
        "t.yaml",
        Format::Yaml,
    );
    assert_eq!(decoded.objects.len(), 0);
    let _: &[Diagnostic] = &decoded.diagnostics;
}

#[test]
fn groups_declared_outside_satisfy_references_and_describe_nothing() {
    let outside = "apiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata: {name: sg-0e}\nspec: {outside: {userId: \"210987654321\"}}\n";
    let policy = "---\napiVersion: vpcresources.k8s.aws/v1beta1\nkind: SecurityGroupPolicy\nmetadata: {name: p, namespace: ns}\nspec: {podSelector: {}, securityGroups: {groupIds: [sg-0e]}}\n";
    assert_eq!(load(&format!("{outside}{policy}")), Vec::<String>::new());
    check(&[(
        "apiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata: {name: sg-0e}\nspec:\n  outside: {}\n  ingress: [{ipProtocol: tcp, fromPort: 1, toPort: 1, ipRanges: [{cidrIp: 10.0.0.0/8}]}]\n",
        &[
            "error: t.yaml:6:3: SecurityGroup/sg-0e: spec.ingress: a group declared `outside` is described elsewhere: its rules and members are not written here",
        ],
    )]);
}

#[test]
fn service_account_match_names_are_checked() {
    let sgp = |names: &str| {
        format!(
            "{GROUP}---\napiVersion: vpcresources.k8s.aws/v1beta1\nkind: SecurityGroupPolicy\nmetadata: {{name: p, namespace: ns}}\nspec:\n  serviceAccountSelector: {{matchNames: {names}}}\n  securityGroups: {{groupIds: [sg-0a]}}\n"
        )
    };
    check(&[
        (&sgp("[ci]"), &[]),
        (
            &sgp("[]"),
            &[
                "error: t.yaml:10:28: SecurityGroupPolicy/ns/p: spec.serviceAccountSelector.matchNames: []: must name at least one service account, or be left out",
            ],
        ),
        (
            &sgp("[CI]"),
            &[
                "error: t.yaml:10:41: SecurityGroupPolicy/ns/p: spec.serviceAccountSelector.matchNames[0]: CI: must be a lowercase RFC 1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters",
            ],
        ),
    ]);
}
