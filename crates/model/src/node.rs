use serde::Serialize;
use std::net::IpAddr;

/// A node and its internal addresses, which carry the default groups.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Node {
    pub name: String,
    pub addresses: Vec<IpAddr>,
}
