//! Security groups as podsg enforces them: checked, normalised EC2 semantics.

mod id;
mod protocol;
mod rule;

pub use id::SgId;
pub use protocol::Protocol;
pub use rule::{Direction, Peer, Ports, Rule};

use serde::Serialize;
use std::net::IpAddr;

/// A checked security group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityGroup {
    pub id: SgId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub ingress: Vec<Rule>,
    pub egress: Vec<Rule>,
    /// `egress` was omitted, so it holds EC2's default allow-all rule.
    pub default_egress: bool,
    pub members: Vec<Member>,
    /// Declared, not described: the group lives outside the manifests, so
    /// its rules and members are not known (it allows nothing here, and
    /// verdicts that depend on it are `unknown`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub outside: bool,
}

/// An external address that carries a group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Member {
    pub address: IpAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl SecurityGroup {
    /// A group with no rules but EC2's default egress, as `create-security-group` makes it.
    pub fn new(id: SgId) -> Self {
        SecurityGroup {
            id,
            name: None,
            description: None,
            ingress: Vec::new(),
            egress: vec![Rule::default_egress()],
            default_egress: true,
            members: Vec::new(),
            outside: false,
        }
    }

    pub fn rules(&self, direction: Direction) -> &[Rule] {
        match direction {
            Direction::Ingress => &self.ingress,
            Direction::Egress => &self.egress,
        }
    }

    /// `sg-… (NAME)`, or just the ID when the group has no name.
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("{} ({name})", self.id),
            None => self.id.to_string(),
        }
    }

    /// Every group this one's rules refer to.
    pub fn referenced_groups(&self) -> impl Iterator<Item = &SgId> {
        self.ingress.iter().chain(&self.egress).flat_map(|r| &r.peers).filter_map(|p| match p {
            Peer::Group { id, .. } => Some(id),
            Peer::Cidr { .. } => None,
        })
    }
}
