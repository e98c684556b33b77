use crate::labels::Labels;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The part of `metadata` podsg reads; other fields (uid, managedFields, ...)
/// are ignored so that `kubectl get -o yaml` output loads as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: Labels,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Who made the object (a Pod's ReplicaSet, a ReplicaSet's Deployment).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owner_references: Vec<OwnerReference>,
}

/// The part of an owner reference podsg reads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerReference {
    pub kind: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<bool>,
}

impl ObjectMeta {
    /// The namespace as the API server defaults it: absent or `""` is
    /// `default`, as kubectl reads it.
    pub fn namespace_or_default(namespace: Option<&str>) -> String {
        match namespace {
            Some(ns) if !ns.is_empty() => ns.to_string(),
            _ => crate::validate::DEFAULT_NAMESPACE.to_string(),
        }
    }

    pub fn namespace(&self) -> String {
        Self::namespace_or_default(self.namespace.as_deref())
    }
}
