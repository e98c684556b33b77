//! `aws ec2 describe-security-groups` JSON to SecurityGroup manifests. Field
//! names map one to one; what podsg cannot enforce (prefix lists) is refused
//! with the EC2 path of the offending field, and nothing is half imported.

use crate::api::{
    IpPermission, IpRange, Ipv6Range, MemberSpec, ObjectMeta, PODSG_API_VERSION, PrefixListId, ProtocolSpec,
    SecurityGroupManifest, SecurityGroupSpec, UserIdGroupPair,
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

/// Converts the JSON printed by `aws ec2 describe-security-groups` into
/// SecurityGroup manifests, or reports every problem with its EC2 path.
pub fn import(json: &str) -> Result<Vec<SecurityGroupManifest>, Vec<Diagnostic>> {
    let node = decode::document(json).map_err(|d| vec![*d])?;
    let groups: Vec<Ec2Group> = match &node.value {
        yaml::Value::Map(_) if node.get("SecurityGroups").is_some() => {
            decode::typed_node::<Describe>(&node).map_err(|d| vec![*d])?.security_groups
        }
        yaml::Value::Seq(_) => decode::typed_node(&node).map_err(|d| vec![*d])?,
        _ => {
            return Err(vec![Diagnostic::error(
                "",
                None,
                "expected the output of `aws ec2 describe-security-groups`: an object with SecurityGroups, or an array of groups",
            )]);
        }
    };
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (i, g) in groups.into_iter().enumerate() {
        let at = format!("SecurityGroups[{i}]");
        let manifest = convert(g);
        match validate::security_group(&manifest) {
            Ok(_) => out.push(manifest),
            Err(errors) => problems.extend(errors.into_iter().map(|mut d| {
                d.path = format!("{at}.{}", ec2_path(&d.path));
                d
            })),
        }
    }
    if problems.is_empty() { Ok(out) } else { Err(problems) }
}

fn convert(g: Ec2Group) -> SecurityGroupManifest {
    let mut annotations = BTreeMap::new();
    if let Some(v) = g.vpc_id {
        annotations.insert(VPC_ID_ANNOTATION.to_string(), v);
    }
    if let Some(o) = g.owner_id {
        annotations.insert(OWNER_ID_ANNOTATION.to_string(), o);
    }
    SecurityGroupManifest {
        api_version: PODSG_API_VERSION.into(),
        kind: "SecurityGroup".into(),
        metadata: ObjectMeta { name: Some(g.group_id), annotations, ..Default::default() },
        spec: SecurityGroupSpec {
            group_name: g.group_name,
            description: g.description,
            ingress: g.ip_permissions.into_iter().map(permission).collect(),
            // EC2 always lists egress; an empty list means none is allowed.
            egress: Some(g.ip_permissions_egress.into_iter().map(permission).collect()),
            members: Vec::<MemberSpec>::new(),
        },
    }
}

fn permission(p: Ec2Permission) -> IpPermission {
    IpPermission {
        ip_protocol: p.ip_protocol,
        from_port: p.from_port,
        to_port: p.to_port,
        ip_ranges: p
            .ip_ranges
            .into_iter()
            .map(|r| IpRange { cidr_ip: r.cidr_ip, description: r.description })
            .collect(),
        ipv6_ranges: p
            .ipv6_ranges
            .into_iter()
            .map(|r| Ipv6Range { cidr_ipv6: r.cidr_ipv6, description: r.description })
            .collect(),
        user_id_group_pairs: p
            .user_id_group_pairs
            .into_iter()
            .map(|u| UserIdGroupPair { group_id: u.group_id, description: u.description, user_id: u.user_id })
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
