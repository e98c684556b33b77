//! Every validation rule, with the exact message a person sees.

mod placed;

use podsg_model::decode::{Format, decode};
use podsg_model::{Catalog, Diagnostic};

/// Valid groups the cases can refer to.
const BASE: &str = r#"
apiVersion: podsg.io/v1alpha1
kind: SecurityGroup
metadata: {name: sg-0a}
spec: {}
"#;

/// The error lines of loading BASE plus `yaml` as one file `t.yaml`,
/// without their positions (tests/decoding.rs holds positions to account).
fn errors(yaml: &str) -> Vec<String> {
    located_errors(yaml)
        .into_iter()
        .map(|mut d| {
            d.position = None;
            if let Some(o) = &mut d.origin {
                o.at = Default::default();
            }
            d.to_string()
        })
        .collect()
}

/// The errors of loading BASE plus `yaml`, every phase that can run, placed.
fn located_errors(yaml: &str) -> Vec<Diagnostic> {
    placed::diagnostics(&format!("{BASE}---\n{yaml}")).into_iter().filter(Diagnostic::is_error).collect()
}

fn sgp(spec: &str) -> String {
    format!(
        "apiVersion: vpcresources.k8s.aws/v1beta1\nkind: SecurityGroupPolicy\nmetadata: {{name: p, namespace: ns}}\nspec:\n{spec}"
    )
}

fn group(spec: &str) -> String {
    format!("apiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata: {{name: sg-0b}}\nspec:\n{spec}")
}

fn ingress(rule: &str) -> String {
    group(&format!("  ingress:\n  - {rule}\n"))
}

const P: &str = "t.yaml: SecurityGroupPolicy/ns/p";
const G: &str = "t.yaml: SecurityGroup/sg-0b";
const NAME_RULE: &str =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

#[test]
fn policies() {
    let groups = "  securityGroups: {groupIds: [sg-0a]}\n";
    let cases: Vec<(String, Vec<String>)> = vec![
        (
            sgp(groups),
            vec![format!("{P}: spec: one of podSelector or serviceAccountSelector is required (podSelector: {{}} selects every pod in the namespace)")],
        ),
        (
            sgp("  podSelector: {}\n  securityGroups: {groupIds: []}\n"),
            vec![format!("{P}: spec.securityGroups.groupIds: []: at least one security group ID is required")],
        ),
        (
            sgp("  podSelector: {}\n  securityGroups: {groupIds: [sg-0a, sg-0a]}\n"),
            vec![format!("{P}: spec.securityGroups.groupIds[1]: sg-0a: duplicate security group ID (also groupIds[0])")],
        ),
        (
            sgp("  podSelector: {}\n  securityGroups: {groupIds: [sg-0000dead]}\n"),
            vec![format!("{P}: spec.securityGroups.groupIds[0]: sg-0000dead: InvalidSecurityGroupID.NotFound: sg-0000dead does not exist")],
        ),
        (
            sgp("  podSelector: {}\n  securityGroups: {groupIds: [SG-12]}\n"),
            vec![format!("{P}: spec.securityGroups.groupIds[0]: SG-12: a security group ID is sg- followed by lowercase letters and digits (e.g. sg-0a1b2c3d4e5f60789)")],
        ),
        (
            sgp(&format!("  podSelector:\n    matchExpressions: [{{key: app, operator: Equals, values: [a]}}]\n{groups}")),
            vec![format!("{P}: spec.podSelector.matchExpressions[0].operator: Equals: must be one of In, NotIn, Exists, DoesNotExist")],
        ),
        (
            sgp(&format!("  podSelector:\n    matchExpressions: [{{key: app, operator: In}}]\n{groups}")),
            vec![format!("{P}: spec.podSelector.matchExpressions[0].values: []: operator In needs at least one value")],
        ),
        (
            sgp(&format!("  serviceAccountSelector:\n    matchExpressions: [{{key: app, operator: NotIn, values: []}}]\n{groups}")),
            vec![format!("{P}: spec.serviceAccountSelector.matchExpressions[0].values: []: operator NotIn needs at least one value")],
        ),
        (
            sgp(&format!("  podSelector:\n    matchExpressions: [{{key: app, operator: Exists, values: [a, b]}}]\n{groups}")),
            vec![format!("{P}: spec.podSelector.matchExpressions[0].values: [a, b]: operator Exists takes no values")],
        ),
        (
            sgp(&format!("  podSelector:\n    matchExpressions: [{{key: app, operator: DoesNotExist, values: [a]}}]\n{groups}")),
            vec![format!("{P}: spec.podSelector.matchExpressions[0].values: [a]: operator DoesNotExist takes no values")],
        ),
        (
            sgp(&format!("  podSelector:\n    matchLabels: {{-app: green}}\n{groups}")),
            vec![format!("{P}: spec.podSelector.matchLabels: -app: invalid label key: name part {NAME_RULE}")],
        ),
        (
            sgp(&format!("  podSelector:\n    matchLabels: {{Example.com/app: green}}\n{groups}")),
            vec![format!("{P}: spec.podSelector.matchLabels: Example.com/app: invalid label key: prefix part must be a lowercase RFC 1123 subdomain (e.g. 'example.com'), at most 253 characters")],
        ),
        (
            sgp(&format!("  podSelector:\n    matchLabels: {{app: green pod}}\n{groups}")),
            vec![format!("{P}: spec.podSelector.matchLabels.app: \"green pod\": invalid label value: a valid label value must be an empty string or {NAME_RULE}")],
        ),
        (
            sgp(&format!("  podSelector:\n    matchExpressions: [{{key: app, operator: In, values: [ok, -bad]}}]\n{groups}")),
            vec![format!("{P}: spec.podSelector.matchExpressions[0].values[1]: -bad: invalid label value: a valid label value must be an empty string or {NAME_RULE}")],
        ),
        (
            sgp(&format!("  podselector: {{}}\n{groups}")),
            vec![format!("{P}: spec.podselector: unknown field `podselector`; did you mean `podSelector`?")],
        ),
        (
            sgp("  podSelector: {}\n"),
            vec![format!("{P}: spec: missing field `securityGroups`")],
        ),
        (
            // Every problem is reported, not only the first.
            sgp("  podSelector:\n    matchLabels: {-a: b}\n    matchExpressions: [{key: x, operator: Has}]\n  securityGroups: {groupIds: [sg-0a, sg-0a]}\n"),
            vec![
                format!("{P}: spec.podSelector.matchLabels: -a: invalid label key: name part {NAME_RULE}"),
                format!("{P}: spec.podSelector.matchExpressions[0].operator: Has: must be one of In, NotIn, Exists, DoesNotExist"),
                format!("{P}: spec.securityGroups.groupIds[1]: sg-0a: duplicate security group ID (also groupIds[0])"),
            ],
        ),
        (
            "apiVersion: vpcresources.k8s.aws/v1\nkind: SecurityGroupPolicy\nmetadata: {name: p, namespace: ns}\nspec: {}\n".into(),
            vec![format!("{P}: apiVersion: vpcresources.k8s.aws/v1: SecurityGroupPolicy is read from vpcresources.k8s.aws/v1beta1 or vpcresources.tke.cloud.tencent.com/v1beta1")],
        ),
    ];
    check(cases);
}

#[test]
fn rules() {
    let cases: Vec<(String, Vec<String>)> = vec![
        (
            ingress("{ipProtocol: tcp, fromPort: 70000, toPort: 70001, ipRanges: [{cidrIp: 10.0.0.0/8}]}"),
            vec![
                format!("{G}: spec.ingress[0].fromPort: 70000: must be between 0 and 65535"),
                format!("{G}: spec.ingress[0].toPort: 70001: must be between 0 and 65535"),
            ],
        ),
        (
            ingress("{ipProtocol: udp, fromPort: -1, toPort: 53, ipRanges: [{cidrIp: 10.0.0.0/8}]}"),
            vec![format!("{G}: spec.ingress[0].fromPort: -1: must be between 0 and 65535")],
        ),
        (
            ingress("{ipProtocol: tcp, fromPort: 80, toPort: 20, ipRanges: [{cidrIp: 10.0.0.0/8}]}"),
            vec![format!("{G}: spec.ingress[0].toPort: 20: must not be less than fromPort (80)")],
        ),
        (
            ingress("{ipProtocol: tcp, ipRanges: [{cidrIp: 10.0.0.0/8}]}"),
            vec![format!(
                "{G}: spec.ingress[0].fromPort: is required for tcp (0-65535; fromPort 0 and toPort 65535 for all ports)"
            )],
        ),
        (
            ingress("{ipProtocol: tpc, fromPort: 1, toPort: 2, ipRanges: [{cidrIp: 10.0.0.0/8}]}"),
            vec![format!(
                "{G}: spec.ingress[0].ipProtocol: tpc: must be tcp, udp, icmp, icmpv6, -1 (or all) for all protocols, or an IP protocol number 0-255"
            )],
        ),
        (
            ingress("{ipProtocol: 300, ipRanges: [{cidrIp: 10.0.0.0/8}]}"),
            vec![format!(
                "{G}: spec.ingress[0].ipProtocol: 300: must be tcp, udp, icmp, icmpv6, -1 (or all) for all protocols, or an IP protocol number 0-255"
            )],
        ),
        (
            ingress("{ipProtocol: icmp, fromPort: -1, toPort: 3, ipRanges: [{cidrIp: 10.0.0.0/8}]}"),
            vec![format!(
                "{G}: spec.ingress[0].toPort: 3: ICMP code must be -1 when the type (fromPort) is -1 (all types)"
            )],
        ),
        (
            ingress("{ipProtocol: icmpv6, fromPort: 256, toPort: -1, ipv6Ranges: [{cidrIpv6: '::/0'}]}"),
            vec![format!("{G}: spec.ingress[0].fromPort: 256: ICMP type must be -1 (all) or 0-255")],
        ),
        (
            ingress("{ipProtocol: -1, fromPort: 0, toPort: 65535, ipRanges: [{cidrIp: 10.0.0.0/8}]}"),
            vec![
                format!(
                    "{G}: spec.ingress[0].fromPort: 0: ports apply only to tcp and udp (and ICMP type/code to icmp, icmpv6); protocol all covers all of its traffic, so leave fromPort/toPort out"
                ),
                format!(
                    "{G}: spec.ingress[0].toPort: 65535: ports apply only to tcp and udp (and ICMP type/code to icmp, icmpv6); protocol all covers all of its traffic, so leave fromPort/toPort out"
                ),
            ],
        ),
        (
            ingress("{ipProtocol: tcp, fromPort: 1, toPort: 2, ipRanges: [{cidrIp: 10.0.0.300/8}]}"),
            vec![format!(
                "{G}: spec.ingress[0].ipRanges[0].cidrIp: 10.0.0.300/8: not a valid IPv4 CIDR (e.g. 10.0.0.0/16)"
            )],
        ),
        (
            ingress("{ipProtocol: tcp, fromPort: 1, toPort: 2, ipRanges: [{cidrIp: 10.0.0.1/16}]}"),
            vec![format!(
                "{G}: spec.ingress[0].ipRanges[0].cidrIp: 10.0.0.1/16: host bits are set; the network is 10.0.0.0/16"
            )],
        ),
        (
            ingress("{ipProtocol: tcp, fromPort: 1, toPort: 2, ipRanges: [{cidrIp: 10.0.0.1}]}"),
            vec![format!(
                "{G}: spec.ingress[0].ipRanges[0].cidrIp: 10.0.0.1: missing prefix length (e.g. 10.0.0.1/32)"
            )],
        ),
        (
            ingress("{ipProtocol: tcp, fromPort: 1, toPort: 2, ipRanges: [{cidrIp: 'fd00::/8'}]}"),
            vec![format!(
                "{G}: spec.ingress[0].ipRanges[0].cidrIp: fd00::/8: is an IPv6 CIDR; IPv6 ranges go in ipv6Ranges[].cidrIpv6"
            )],
        ),
        (
            ingress("{ipProtocol: tcp, fromPort: 1, toPort: 2, ipv6Ranges: [{cidrIpv6: 'fd00::1/8'}]}"),
            vec![format!(
                "{G}: spec.ingress[0].ipv6Ranges[0].cidrIpv6: fd00::1/8: host bits are set; the network is fd00::/8"
            )],
        ),
        (
            ingress("{ipProtocol: tcp, fromPort: 1, toPort: 2, ipv6Ranges: [{cidrIpv6: 10.0.0.0/8}]}"),
            vec![format!(
                "{G}: spec.ingress[0].ipv6Ranges[0].cidrIpv6: 10.0.0.0/8: is an IPv4 CIDR; IPv4 ranges go in ipRanges[].cidrIp"
            )],
        ),
        (
            ingress("{ipProtocol: tcp, fromPort: 1, toPort: 2, userIdGroupPairs: [{groupId: sg-0000dead}]}"),
            vec![format!(
                "{G}: spec.ingress[0].userIdGroupPairs[0].groupId: sg-0000dead: InvalidGroup.NotFound: sg-0000dead does not exist"
            )],
        ),
        (
            ingress("{ipProtocol: tcp, fromPort: 1, toPort: 2, prefixListIds: [{prefixListId: pl-63a5400a}]}"),
            vec![format!(
                "{G}: spec.ingress[0].prefixListIds[0].prefixListId: pl-63a5400a: prefix lists not supported; write the prefix list's CIDRs as ipRanges/ipv6Ranges"
            )],
        ),
        (
            ingress("{ipProtocol: tcp, fromPort: 1, toPort: 2}"),
            vec![format!(
                "{G}: spec.ingress[0]: a rule needs at least one peer: ipRanges, ipv6Ranges or userIdGroupPairs"
            )],
        ),
        (
            group("  egress:\n  - {ipProtocol: udp, fromPort: 53, toPort: 53, ipRanges: [{cidrIp: 10.0.0.0/33}]}\n"),
            vec![format!(
                "{G}: spec.egress[0].ipRanges[0].cidrIp: 10.0.0.0/33: not a valid IPv4 CIDR (e.g. 10.0.0.0/16)"
            )],
        ),
    ];
    check(cases);
}

#[test]
fn groups() {
    let cases: Vec<(String, Vec<String>)> = vec![
        (
            "apiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata: {name: sg-0a}\nspec: {}\n".into(),
            vec!["t.yaml: SecurityGroup/sg-0a: metadata.name: sg-0a: duplicate security group ID; also defined at t.yaml:2:1".into()],
        ),
        (
            "apiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata: {name: web}\nspec: {}\n".into(),
            vec!["t.yaml: SecurityGroup/web: metadata.name: web: a security group ID is sg- followed by lowercase letters and digits (e.g. sg-0a1b2c3d4e5f60789)".into()],
        ),
        (
            group("  members: [10.0.5.10, 10.0.5.0/24, db.example, {address: 10.0.5.10}]\n"),
            vec![
                format!("{G}: spec.members[1]: 10.0.5.0/24: a member is one IP address, not a range"),
                format!("{G}: spec.members[2]: db.example: not an IP address (e.g. 10.0.5.10 or fd00::10)"),
                format!("{G}: spec.members[3]: 10.0.5.10: duplicate member address"),
            ],
        ),
        (
            group("  ingres: []\n"),
            vec![format!("{G}: spec.ingres: unknown field `ingres`; did you mean `ingress`?")],
        ),
        (
            "apiVersion: podsg.io/v1alpha1\nkind: ClusterConfig\nmetadata: {name: c}\nspec: {defaultGroupIds: [sg-0000beef], enforcingMode: lax, sgpAppliesTo: some, clusterDNS: [coredns]}\n".into(),
            vec![
                "t.yaml: ClusterConfig/c: spec.enforcingMode: lax: must be strict or standard".into(),
                "t.yaml: ClusterConfig/c: spec.sgpAppliesTo: some: must be all-pods or new-pods".into(),
                "t.yaml: ClusterConfig/c: spec.clusterDNS[0]: coredns: must be namespace/name of a pod or workload".into(),
            ],
        ),
        (
            "apiVersion: podsg.io/v1alpha1\nkind: ClusterConfig\nmetadata: {name: c}\nspec: {defaultGroupIds: [sg-0000beef], clusterDNS: [kube-system/coredns]}\n".into(),
            vec![
                "t.yaml: ClusterConfig/c: spec.defaultGroupIds[0]: sg-0000beef: InvalidSecurityGroupID.NotFound: sg-0000beef does not exist".into(),
                "t.yaml: ClusterConfig/c: spec.clusterDNS[0]: kube-system/coredns: no pod or workload of this name is defined".into(),
            ],
        ),
    ];
    check(cases);
}

#[test]
fn workloads() {
    let cases: Vec<(String, Vec<String>)> = vec![
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: x, namespace: ns, labels: {app: -x}}\nstatus: {podIP: 10.0.0.300}\n".into(),
            vec![
                format!("t.yaml: Pod/ns/x: status.podIP: 10.0.0.300: not an IP address"),
                format!("t.yaml: Pod/ns/x: metadata.labels.app: -x: invalid label value: a valid label value must be an empty string or {NAME_RULE}"),
            ],
        ),
        (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: ns}\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        livenessProbe: {tcpSocket: {port: 0}}\n".into(),
            vec!["t.yaml: Deployment/ns/d: spec.template.spec.containers[0].livenessProbe.tcpSocket.port: 0: must be between 1 and 65535".into()],
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: x, namespace: ns}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: x, namespace: ns}\n".into(),
            vec!["t.yaml: Pod/ns/x: metadata.name: x: duplicate Pod; also defined at t.yaml:7:1".into()],
        ),
        (
            "- just\n- a list\n".into(),
            vec!["t.yaml: a document must be a Kubernetes object (a mapping with apiVersion and kind)".into()],
        ),
        (
            "metadata: {name: x}\n".into(),
            vec!["t.yaml: <no kind>/x: missing apiVersion and kind: not a Kubernetes object".into()],
        ),
    ];
    check(cases);
}

#[test]
fn invalid_yaml_names_the_line() {
    let errors: Vec<String> = located_errors("apiVersion: v1\nkind: Pod\nmetadata: {name: [unclosed\n")
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(errors, ["t.yaml:10:1: invalid YAML: while parsing a flow sequence, expected ',' or ']'"]);
}

#[test]
fn unknown_kinds_are_skipped_with_a_note() {
    let text =
        format!("{BASE}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: my-app, namespace: ns}}\ndata: {{}}\n");
    let decoded = decode(&text, "t.yaml", Format::Yaml);
    let notes: Vec<String> = decoded.diagnostics.iter().map(ToString::to_string).collect();
    assert_eq!(notes, vec!["t.yaml:7:1: ConfigMap/ns/my-app: skipped v1 ConfigMap: not a kind podsg reads"]);
    assert!(decoded.diagnostics.iter().all(|d| !d.is_error()));
    assert_eq!(decoded.objects.len(), 1);
}

#[test]
fn nothing_is_half_loaded() {
    // One good policy and one bad group: no catalog at all.
    let text = format!(
        "{BASE}---\n{}\n---\n{}",
        sgp("  podSelector: {}\n  securityGroups: {groupIds: [sg-0a]}\n"),
        ingress("{ipProtocol: tcp}")
    );
    let decoded = decode(&text, "t.yaml", Format::Yaml);
    assert!(Catalog::build(decoded.objects).is_err());
}

#[test]
fn lists_and_json_load() {
    let list = r#"{"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "podsg.io/v1alpha1", "kind": "SecurityGroup", "metadata": {"name": "sg-0c"}, "spec": {"ingress": [{"ipProtocol": "-1", "userIdGroupPairs": [{"groupId": "sg-0c"}]}]}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"}, "status": {"podIPs": [{"ip": "10.1.0.5"}, {"ip": "fd00::5"}]}}
    ]}"#;
    let decoded = decode(list, "l.json", Format::Json);
    assert!(decoded.diagnostics.is_empty(), "{:?}", decoded.diagnostics);
    let loaded = Catalog::build(decoded.objects).expect("loads");
    assert_eq!(loaded.catalog.groups.len(), 1);
    assert_eq!(loaded.catalog.workloads[0].addresses.len(), 2);
}

fn check(cases: Vec<(String, Vec<String>)>) {
    let mut failures = Vec::new();
    for (yaml, expected) in cases {
        let got = errors(&yaml);
        if got != expected {
            failures.push(format!(
                "input:\n{yaml}\nexpected:\n  {}\ngot:\n  {}",
                expected.join("\n  "),
                got.join("\n  ")
            ));
        }
    }
    assert!(failures.is_empty(), "{} case(s) failed:\n\n{}", failures.len(), failures.join("\n\n"));
}
