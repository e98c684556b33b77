//! Network namespaces: created with `ip netns add`, so they are visible to
//! `ip netns exec` and to people, and removed when their guard drops. Work
//! that must happen inside one runs on a dedicated OS thread that has joined
//! it (a thread's namespace is its own; the rest of the process is untouched).

pub mod enter;
mod ip;
mod namespace;
mod privilege;
mod probe;
pub mod wire;

pub use ip::{Error, Result, ip, ip_in};
pub use namespace::Netns;
pub use privilege::{Privilege, privileged};
pub use probe::{Listener, Probe, serve_echo};
