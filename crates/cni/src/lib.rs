//! The CNI side of podsg: spec types (configuration, environment, results,
//! errors), and the request the plugin sends to the node agent.

pub mod agent_protocol;
pub mod config;
pub mod env;
pub mod error;
pub mod install;
pub mod plugin;
pub mod result;

/// CNI versions this plugin speaks.
pub const SUPPORTED_VERSIONS: [&str; 2] = ["1.0.0", "1.1.0"];
/// The version of its own answers when the configuration names none.
pub const LATEST: &str = "1.1.0";
