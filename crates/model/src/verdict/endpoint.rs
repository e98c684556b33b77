use crate::group::SgId;
use serde::Serialize;
use std::net::IpAddr;

/// One end of a flow, with the groups it carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    /// Stable identity, e.g. `Pod/networking/green-pod`, `node/ip-10-0-1-5`,
    /// `member/rds-ekslab`, `address/192.0.2.1`.
    pub id: String,
    pub role: Role,
    /// Empty when not known (a workload template, a pod dump without status).
    pub addresses: Vec<IpAddr>,
    pub groups: Vec<SgId>,
    /// Why it carries these groups, for people.
    pub why: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Role {
    /// A pod on a pod interface. `restricted`: it carries groups (from SGPs
    /// or the default groups) and they are enforced on its interface.
    Pod {
        #[serde(skip_serializing_if = "Option::is_none")]
        node: Option<String>,
        restricted: bool,
    },
    /// A node's own address (kubelet, hostNetwork pods). `name: None` means
    /// "the node the other end runs on".
    Node {
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// An external address declared as a member of security groups.
    Member,
    /// Any other address: it carries no groups.
    External,
}

impl Endpoint {
    pub fn is_pod(&self) -> bool {
        matches!(self.role, Role::Pod { .. })
    }

    pub fn carries(&self, group: &SgId) -> bool {
        self.groups.contains(group)
    }
}
