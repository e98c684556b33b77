//! `podsg.io/v1alpha1` `SecurityGroup`. Field names are EC2's in camelCase so
//! that `aws ec2 describe-security-groups` output maps one to one.

use super::ObjectMeta;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityGroupManifest {
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    pub spec: SecurityGroupSpec,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecurityGroupSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// EC2 `IpPermissions`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ingress: Vec<IpPermission>,
    /// EC2 `IpPermissionsEgress`. Omitted: EC2's default rule (all traffic to
    /// everywhere). An explicit `[]` allows no egress, as after revoking it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egress: Option<Vec<IpPermission>>,
    /// External addresses that carry this group (a database, a VM).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<MemberSpec>,
    /// Declared only: the group lives outside these manifests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outside: Option<OutsideSpec>,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IpPermission {
    pub ip_protocol: ProtocolSpec,
    /// The first port, or the ICMP type; -1 for all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = -1, max = 65535)))]
    pub from_port: Option<i64>,
    /// The last port, or the ICMP code; -1 for all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = -1, max = 65535)))]
    pub to_port: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip_ranges: Vec<IpRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ipv6_ranges: Vec<Ipv6Range>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_id_group_pairs: Vec<UserIdGroupPair>,
    /// Read so that it can be refused precisely; podsg has no prefix lists yet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prefix_list_ids: Vec<PrefixListId>,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IpRange {
    pub cidr_ip: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Ipv6Range {
    pub cidr_ipv6: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserIdGroupPair {
    pub group_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The account that owns the group, as EC2 prints it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The group's VPC when it is in a peered VPC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    /// The peering connection through which the group is referenced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_peering_connection_id: Option<String>,
    /// EC2's status of that peering: `active`, or `deleted` for a stale rule,
    /// which matches nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peering_status: Option<String>,
}

/// A group that exists outside these manifests (another account, a peered
/// VPC, or simply in AWS and not in this repository): references to it are
/// valid, its rules and members are not known here.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OutsideSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrefixListId {
    pub prefix_list_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `ipProtocol` as written: EC2 uses strings ("tcp", "-1", "6"), YAML authors
/// often write numbers (`-1`, `6`). Both are kept as text and checked later.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProtocolSpec(pub String);

impl Serialize for ProtocolSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ProtocolSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ProtocolSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a protocol: tcp, udp, icmp, icmpv6, -1 (all) or an IP protocol number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ProtocolSpec, E> {
                Ok(ProtocolSpec(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ProtocolSpec, E> {
                Ok(ProtocolSpec(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ProtocolSpec, E> {
                Ok(ProtocolSpec(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A member: an address, or an address with a name (`{address, name}`); the
/// name is what `podsg explain --to` and the lab's DNS know it by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberSpec {
    pub address: String,
    pub name: Option<String>,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct NamedMember {
    address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

impl Serialize for MemberSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.name {
            None => s.serialize_str(&self.address),
            Some(name) => NamedMember { address: self.address.clone(), name: Some(name.clone()) }.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for MemberSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MemberSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an IP address, or {address: IP, name: NAME}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<MemberSpec, E> {
                Ok(MemberSpec { address: v.to_string(), name: None })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<MemberSpec, A::Error> {
                let m = NamedMember::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(MemberSpec { address: m.address, name: m.name })
            }
        }
        d.deserialize_any(V)
    }
}

/// `ipProtocol` is a string or a number (`tcp`, `"-1"`, `6`); `members`
/// items an address or `{address, name}`: the schemas say so, in the forms
/// Kubernetes' structural schemas allow. What they hold is checked by podsg.
#[cfg(feature = "schema")]
mod schema {
    use super::{MemberSpec, ProtocolSpec};
    use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
    use std::borrow::Cow;

    impl JsonSchema for ProtocolSpec {
        fn schema_name() -> Cow<'static, str> {
            "ProtocolSpec".into()
        }
        fn inline_schema() -> bool {
            true
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            // The anyOf is the one Kubernetes allows beside int-or-string,
            // for validators that do not know the extension.
            json_schema!({
                "description": "tcp, udp, icmp, icmpv6, -1 (all) or an IP protocol number",
                "x-kubernetes-int-or-string": true,
                "anyOf": [{"type": "integer"}, {"type": "string"}]
            })
        }
    }

    impl JsonSchema for MemberSpec {
        fn schema_name() -> Cow<'static, str> {
            "MemberSpec".into()
        }
        fn inline_schema() -> bool {
            true
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({
                "description": "an IP address, or {address: IP, name: NAME}",
                "x-kubernetes-preserve-unknown-fields": true
            })
        }
    }
}
