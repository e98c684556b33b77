//! The names podsg gives the node's end of a pod's veth.

/// The node's end of a pod interface: `pg` and 11 hex digits of a hash of
/// the attachment, so that DEL finds it even without a record.
pub fn host_interface(container_id: &str, ifname: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in container_id.bytes().chain([b'/']).chain(ifname.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("pg{:011x}", h & 0xfff_ffff_ffff)
}

/// Whether a link name is one `host_interface` makes.
pub fn is_host_interface(name: &str) -> bool {
    name.len() == 13 && name.starts_with("pg") && name[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_interfaces_are_recognised_by_their_names() {
        let name = host_interface("0123456789abcdef", "eth0");
        assert!(is_host_interface(&name), "{name}");
        assert_eq!(name, host_interface("0123456789abcdef", "eth0"), "the same attachment, the same name");
        assert_ne!(name, host_interface("0123456789abcdef", "eth1"));
        for other in ["eth0", "pg", "pg0123456789", "pgxyz45678901", "pg0123456789ab"] {
            assert!(!is_host_interface(other), "{other}");
        }
    }
}
