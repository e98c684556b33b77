//! `aws ec2 describe-security-groups` JSON to SecurityGroup manifests. Field
//! names map one to one; what podsg cannot enforce (prefix lists) is refused
//! with the EC2 path of the offending field, and nothing is half imported.

use crate::api::{
    IpPermission, IpRange, Ipv6Range, MemberSpec, ObjectMeta, OutsideSpec, PODSG_API_VERSION, PrefixListId,
    ProtocolSpec, SecurityGroupManifest, SecurityGroupSpec, UserIdGroupPair,
};
use crate::diagnostic::Diagnostic;
use crate::validate;
use crate::{decode, yaml};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Describe {
    security_groups: Vec<Ec2Group>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Ec2Group {
    group_id: String,
    #[serde(default)]
    group_name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    ip_permissions: Vec<Ec2Permission>,
    #[serde(default)]
    ip_permissions_egress: Vec<Ec2Permission>,
    #[serde(default)]
    vpc_id: Option<String>,
    #[serde(default)]
    owner_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Ec2Permission {
    ip_protocol: ProtocolSpec,
    #[serde(default)]
    from_port: Option<i64>,
    #[serde(default)]
    to_port: Option<i64>,
    #[serde(default)]
    ip_ranges: Vec<Ec2Range>,
    #[serde(default)]
    ipv6_ranges: Vec<Ec2Range6>,
    #[serde(default)]
    user_id_group_pairs: Vec<Ec2Pair>,
    #[serde(default)]
    prefix_list_ids: Vec<Ec2PrefixList>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Ec2Range {
    cidr_ip: String,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Ec2Range6 {
    cidr_ipv6: String,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Ec2Pair {
    group_id: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    vpc_id: Option<String>,
    #[serde(default)]
    vpc_peering_connection_id: Option<String>,
    #[serde(default)]
    peering_status: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Ec2PrefixList {
    prefix_list_id: String,
    #[serde(default)]
    description: Option<String>,
}

/// Annotations recording where an imported group came from.
pub const VPC_ID_ANNOTATION: &str = "podsg.io/ec2-vpc-id";
pub const OWNER_ID_ANNOTATION: &str = "podsg.io/ec2-owner-id";

/// What an import produced: the groups, declarations of the groups they
/// reference that the input does not hold (when asked for), and warnings.
#[derive(Debug, Default)]
pub struct Imported {
    pub groups: Vec<SecurityGroupManifest>,
    pub outside: Vec<SecurityGroupManifest>,
    pub warnings: Vec<Diagnostic>,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Declare the groups that rules reference but the input does not hold
    /// as `outside` groups (else they are listed in a warning).
    pub declare_outside: bool,
}

/// Converts what `aws ec2 describe-security-groups` prints (JSON or YAML)
/// into SecurityGroup manifests, or reports every problem with its EC2 path.
pub fn import(text: &str, options: Options) -> Result<Imported, Vec<Diagnostic>> {
    let node = decode::document(text).map_err(|d| vec![*d])?;
    let mut warnings = Vec::new();
    if let Some(token) = node.get("NextToken").and_then(yaml::Node::as_str) {
        warnings.push(
            Diagnostic::warning(
                "the input is one page of a paginated answer: the groups on the other pages are missing \
             (run `aws ec2 describe-security-groups` without --max-items, or with --no-paginate)",
            )
            .with_path("NextToken")
            .with_value(token),
        );
    }
    let groups: Vec<Ec2Group> = match &node.value {
        yaml::Value::Map(_) if node.get("SecurityGroups").is_some() => {
            decode::typed_node::<Describe>(&node).map_err(|d| vec![*d])?.security_groups
        }
        yaml::Value::Seq(_) => decode::typed_node(&node).map_err(|d| vec![*d])?,
        _ => {
            return Err(vec![Diagnostic::error(
                "",
                None,
                "expected the output of `aws ec2 describe-security-groups`: an object with SecurityGroups, or a list of groups",
            )]);
        }
    };
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (i, g) in groups.into_iter().enumerate() {
        let at = format!("SecurityGroups[{i}]");
        if let Some(first) = seen.insert(g.group_id.clone(), i) {
            problems.push(Diagnostic::error(
                format!("{at}.GroupId"),
                Some(g.group_id.clone()),
                format!("the input holds this group twice (also SecurityGroups[{first}])"),
            ));
            continue;
        }
        // Findings name manifest fields; the user wrote EC2's.
        let in_input = |found: Vec<Diagnostic>| {
            found.into_iter().map(|mut d| {
                d.path = format!("{at}.{}", ec2_path(&d.path));
                d
            })
        };
        let (manifest, notes) = convert(g);
        warnings.extend(in_input(notes));
        match validate::security_group(&manifest) {
            Ok((_, found)) => {
                warnings.extend(in_input(found));
                out.push(manifest);
            }
            Err(errors) => problems.extend(in_input(errors)),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let outside = referenced_elsewhere(&out);
    let mut imported = Imported { groups: out, warnings, ..Imported::default() };
    if options.declare_outside {
        imported.outside = outside.into_iter().map(|(id, pair)| declaration(id, pair)).collect();
    } else if !outside.is_empty() {
        let ids: Vec<&str> = outside.keys().map(String::as_str).collect();
        imported.warnings.push(Diagnostic::warning(format!(
            "rules reference groups the input does not hold: {}; `podsg check` needs them, or their declaration \
             as outside groups (import with --declare-outside)",
            ids.join(", ")
        )));
    }
    Ok(imported)
}

/// The groups that rules reference and the import does not hold, with the
/// first reference's account and VPC.
fn referenced_elsewhere(groups: &[SecurityGroupManifest]) -> BTreeMap<String, UserIdGroupPair> {
    let held: std::collections::HashSet<&str> = groups.iter().filter_map(|g| g.metadata.name.as_deref()).collect();
    let mut out = BTreeMap::new();
    for g in groups {
        let rules = g.spec.ingress.iter().chain(g.spec.egress.iter().flatten());
        for pair in rules.flat_map(|r| &r.user_id_group_pairs) {
            if !held.contains(pair.group_id.as_str()) && pair.peering_status.as_deref() != Some("deleted") {
                out.entry(pair.group_id.clone()).or_insert_with(|| pair.clone());
            }
        }
    }
    out
}

fn declaration(id: String, pair: UserIdGroupPair) -> SecurityGroupManifest {
    SecurityGroupManifest {
        api_version: PODSG_API_VERSION.into(),
        kind: "SecurityGroup".into(),
        metadata: ObjectMeta { name: Some(id), ..Default::default() },
        spec: SecurityGroupSpec {
            description: Some("referenced by imported rules; described outside these manifests".into()),
            outside: Some(OutsideSpec { user_id: pair.user_id, vpc_id: pair.vpc_id }),
            ..SecurityGroupSpec::default()
        },
    }
}

/// The manifest, and warnings about what was normalised on the way.
fn convert(g: Ec2Group) -> (SecurityGroupManifest, Vec<Diagnostic>) {
    let mut notes = Vec::new();
    let mut annotations = BTreeMap::new();
    if let Some(v) = g.vpc_id {
        annotations.insert(VPC_ID_ANNOTATION.to_string(), v);
    }
    if let Some(o) = g.owner_id {
        annotations.insert(OWNER_ID_ANNOTATION.to_string(), o);
    }
    let mut permissions = |list: Vec<Ec2Permission>, field: &str| -> Vec<IpPermission> {
        list.into_iter().enumerate().map(|(i, p)| permission(p, &format!("spec.{field}[{i}]"), &mut notes)).collect()
    };
    let ingress = permissions(g.ip_permissions, "ingress");
    // EC2 always lists egress; an empty list means none is allowed.
    let egress = Some(permissions(g.ip_permissions_egress, "egress"));
    let manifest = SecurityGroupManifest {
        api_version: PODSG_API_VERSION.into(),
        kind: "SecurityGroup".into(),
        metadata: ObjectMeta { name: Some(g.group_id), annotations, ..Default::default() },
        spec: SecurityGroupSpec {
            group_name: g.group_name,
            description: g.description,
            ingress,
            egress,
            members: Vec::<MemberSpec>::new(),
            outside: None,
        },
    };
    (manifest, notes)
}

/// One EC2 permission as podsg writes it. Where EC2's own output differs
/// from what podsg accepts in a manifest only in form, it is normalised
/// with a warning: ports 0 or -1 on an all-protocols rule (as EC2 and some
/// tools print them), host bits in a CIDR (EC2 masks them when it stores a
/// rule; `podsg check` keeps refusing them in manifests).
fn permission(p: Ec2Permission, path: &str, notes: &mut Vec<Diagnostic>) -> IpPermission {
    let all = p.ip_protocol.0 == "-1";
    let no_ports = |v: Option<i64>| v.filter(|v| !(all && (*v == 0 || *v == -1)));
    let mut cidr = |text: String, at: String| -> String {
        match text.parse::<ipnet::IpNet>() {
            Ok(net) if net.trunc() != net => {
                let masked = net.trunc().to_string();
                notes.push(
                    Diagnostic::warning(format!("host bits are set; imported as {masked}, the network EC2 applies"))
                        .with_path(at)
                        .with_value(&text),
                );
                masked
            }
            _ => text,
        }
    };
    IpPermission {
        ip_protocol: p.ip_protocol,
        from_port: no_ports(p.from_port),
        to_port: no_ports(p.to_port),
        ip_ranges: p
            .ip_ranges
            .into_iter()
            .enumerate()
            .map(|(j, r)| IpRange {
                cidr_ip: cidr(r.cidr_ip, format!("{path}.ipRanges[{j}].cidrIp")),
                description: r.description,
            })
            .collect(),
        ipv6_ranges: p
            .ipv6_ranges
            .into_iter()
            .enumerate()
            .map(|(j, r)| Ipv6Range {
                cidr_ipv6: cidr(r.cidr_ipv6, format!("{path}.ipv6Ranges[{j}].cidrIpv6")),
                description: r.description,
            })
            .collect(),
        user_id_group_pairs: p
            .user_id_group_pairs
            .into_iter()
            .map(|u| UserIdGroupPair {
                group_id: u.group_id,
                description: u.description,
                user_id: u.user_id,
                vpc_id: u.vpc_id,
                vpc_peering_connection_id: u.vpc_peering_connection_id,
                peering_status: u.peering_status,
            })
            .collect(),
        prefix_list_ids: p
            .prefix_list_ids
            .into_iter()
            .map(|l| PrefixListId { prefix_list_id: l.prefix_list_id, description: l.description })
            .collect(),
    }
}

/// `spec.ingress[0].ipRanges[1].cidrIp` -> `IpPermissions[0].IpRanges[1].CidrIp`.
fn ec2_path(path: &str) -> String {
    let path = path.replacen("spec.ingress", "IpPermissions", 1).replacen("spec.egress", "IpPermissionsEgress", 1);
    let path = path.replacen("metadata.name", "GroupId", 1);
    path.split('.')
        .map(|segment| {
            let mut chars = segment.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::ec2_path;

    #[test]
    fn paths() {
        assert_eq!(ec2_path("spec.ingress[0].ipRanges[1].cidrIp"), "IpPermissions[0].IpRanges[1].CidrIp");
        assert_eq!(
            ec2_path("spec.egress[2].prefixListIds[0].prefixListId"),
            "IpPermissionsEgress[2].PrefixListIds[0].PrefixListId"
        );
        assert_eq!(ec2_path("metadata.name"), "GroupId");
    }
}
