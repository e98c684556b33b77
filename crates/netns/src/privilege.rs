//! Privileged tests need root and a kernel with network namespaces and
//! nftables. Where those are missing they are skipped with the reason, except
//! under CI, where a skip is a failure: the tests must run there.

use std::process::Command;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Privilege {
    Available,
    Missing(String),
}

/// Whether privileged tests can run here; panics under CI when they cannot.
pub fn privileged() -> Privilege {
    let missing = if !nix::unistd::Uid::effective().is_root() {
        Some("not running as root".to_string())
    } else if Command::new("nft").arg("--version").output().map(|o| !o.status.success()).unwrap_or(true) {
        Some("the nft program is not installed (apt-get install nftables)".to_string())
    } else if Command::new("ip").args(["netns", "list"]).output().map(|o| !o.status.success()).unwrap_or(true) {
        Some("ip netns does not work here (iproute2, network namespaces)".to_string())
    } else {
        None
    };
    match missing {
        None => Privilege::Available,
        Some(why) if std::env::var_os("CI").is_some() => panic!("privileged test cannot run under CI: {why}"),
        Some(why) => {
            eprintln!("SKIPPED privileged test: {why}");
            Privilege::Missing(why)
        }
    }
}

/// Returns early from a test when privileged tests cannot run here.
#[macro_export]
macro_rules! require_privilege {
    () => {
        if let $crate::Privilege::Missing(_) = $crate::privileged() {
            return;
        }
    };
}
