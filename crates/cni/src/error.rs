//! CNI errors: the spec's well-known codes, printed as its error JSON.

use serde::{Deserialize, Serialize};

/// Codes 1-99 are the spec's; 100 and up are podsg's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Code {
    IncompatibleVersion = 1,
    UnsupportedField = 2,
    UnknownContainer = 3,
    InvalidEnvironment = 4,
    Io = 5,
    Decode = 6,
    InvalidConfig = 7,
    TryAgainLater = 11,
    /// STATUS: the plugin cannot serve ADD now.
    NotAvailable = 50,
    /// STATUS: not available, and existing pods may have limited connectivity.
    NotAvailableLimited = 51,
    /// The pod's security groups cannot be resolved; it gets no network.
    GroupsUnresolved = 100,
    /// The agent could not be reached.
    AgentUnreachable = 101,
    /// The dataplane could not be programmed.
    Dataplane = 102,
    /// No address left in the node's pod range.
    AddressesExhausted = 103,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{msg} (code {code}){}", if details.is_empty() { String::new() } else { format!(": {details}") })]
pub struct CniError {
    #[serde(rename = "cniVersion", default, skip_serializing_if = "String::is_empty")]
    pub cni_version: String,
    pub code: u32,
    pub msg: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub details: String,
}

impl CniError {
    pub fn new(code: Code, msg: impl Into<String>, details: impl Into<String>) -> Self {
        CniError { cni_version: String::new(), code: code as u32, msg: msg.into(), details: details.into() }
    }

    pub fn with_version(mut self, version: &str) -> Self {
        self.cni_version = version.to_string();
        self
    }
}

pub type Result<T, E = CniError> = std::result::Result<T, E>;
