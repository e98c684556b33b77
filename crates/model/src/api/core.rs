use super::ObjectMeta;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct NamespaceManifest {
    #[serde(default)]
    pub metadata: ObjectMeta,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ServiceAccountManifest {
    #[serde(default)]
    pub metadata: ObjectMeta,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct NodeManifest {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub status: NodeStatus,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct NodeStatus {
    #[serde(default)]
    pub addresses: Vec<NodeAddress>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct NodeAddress {
    #[serde(rename = "type")]
    pub kind: String,
    pub address: String,
}
