//! What EC2 and the EKS CRD would say, podsg says: limits, ID shapes, and
//! rules that EC2 accepts but that never match.

mod placed;

use podsg_model::Severity;

fn load(text: &str) -> Vec<String> {
    placed::diagnostics(text)
        .iter()
        .filter(|d| d.severity != Severity::Note)
        .map(|d| format!("{:?}: {d}", d.severity))
        .collect()
}

fn groups(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "apiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata: {{name: sg-{i:08x}}}\nspec: {{}}\n---\n"
            )
        })
        .collect()
}

fn policy(ids: &[String]) -> String {
    format!(
        "apiVersion: vpcresources.k8s.aws/v1beta1\nkind: SecurityGroupPolicy\nmetadata: {{name: p, namespace: ns}}\nspec:\n  podSelector: {{}}\n  securityGroups:\n    groupIds: [{}]\n",
        ids.join(", ")
    )
}

#[test]
fn group_id_counts_follow_the_crd_and_ec2s_quota() {
    let ids = |n: usize| (0..n).map(|i| format!("sg-{i:08x}")).collect::<Vec<_>>();
    let seventeen = format!("{}{}", groups(17), policy(&ids(17)));
    let lines = seventeen.lines().count();
    assert_eq!(
        load(&seventeen),
        [format!(
            "Error: t.yaml:{}:5: SecurityGroupPolicy/ns/p: spec.securityGroups.groupIds: 17 security group IDs; the SecurityGroupPolicy CRD allows at most 16",
            lines
        )]
    );
    let six = format!("{}{}", groups(6), policy(&ids(6)));
    let lines = six.lines().count();
    assert_eq!(
        load(&six),
        [format!(
            "Warning: t.yaml:{}:5: SecurityGroupPolicy/ns/p: spec.securityGroups.groupIds: 6 security group IDs; EC2's default quota is 5 per network interface (the aws backend fails to attach more unless the quota is raised)",
            lines
        )]
    );
    assert_eq!(load(&format!("{}{}", groups(5), policy(&ids(5)))), Vec::<String>::new());
}

#[test]
fn rules_ec2_accepts_that_never_match_or_repeat_themselves_are_warned_about() {
    let group = |rule: &str| {
        format!(
            "apiVersion: podsg.io/v1alpha1\nkind: SecurityGroup\nmetadata: {{name: sg-0a0a0a0a}}\nspec:\n  ingress:\n  - {rule}\n"
        )
    };
    let cases: &[(&str, &[&str])] = &[
        (
            "{ipProtocol: icmp, fromPort: -1, toPort: -1, ipv6Ranges: [{cidrIpv6: '::/0'}]}",
            &[
                "Warning: t.yaml:6:5: SecurityGroup/sg-0a0a0a0a: spec.ingress[0]: never matches: icmp is IPv4's, and this rule's ranges are all IPv6 (use icmpv6 for them)",
            ],
        ),
        (
            "{ipProtocol: icmpv6, fromPort: -1, toPort: -1, ipRanges: [{cidrIp: 10.0.0.0/8}]}",
            &[
                "Warning: t.yaml:6:5: SecurityGroup/sg-0a0a0a0a: spec.ingress[0]: never matches: icmpv6 is IPv6's, and this rule's ranges are all IPv4 (use icmp for them)",
            ],
        ),
        (
            "{ipProtocol: tcp, fromPort: 1, toPort: 1, ipRanges: [{cidrIp: 10.0.0.0/8}, {cidrIp: 10.0.0.0/8}]}",
            &[
                "Warning: t.yaml:6:81: SecurityGroup/sg-0a0a0a0a: spec.ingress[0].ipRanges[1].cidrIp: 10.0.0.0/8: the same range as spec.ingress[0].ipRanges[0].cidrIp: one of them is enough",
            ],
        ),
        (
            "{ipProtocol: tcp, fromPort: 1, toPort: 1, ipRanges: [{cidrIp: 010.0.0.0/8}]}",
            &[
                "Error: t.yaml:6:59: SecurityGroup/sg-0a0a0a0a: spec.ingress[0].ipRanges[0].cidrIp: 010.0.0.0/8: leading zeros are ambiguous (some tools read 010 as octal); write 10.0.0.0/8",
            ],
        ),
    ];
    let mut failures = Vec::new();
    for (rule, expected) in cases {
        let got = load(&group(rule));
        if got != *expected {
            failures.push(format!("{rule}\n  expected {expected:?}\n  got      {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
