//! Names of the objects in the `inet podsg` table. Each name says what the
//! object is for, so that a table read back from the kernel is understood
//! without any other record.

use podsg_model::dataplane::{CellKey, Peers};
use podsg_model::group::SgId;

/// The table podsg owns, in the `inet` family.
pub const TABLE: &str = "podsg";

pub const FROM_POD: &str = "from_pod";
pub const TO_POD: &str = "to_pod";
/// External members' ingress: `members_in` looks the packet's family up in
/// `members`, which goes to the dispatch chain of the current member sides.
pub const MEMBERS_IN: &str = "members_in";
pub const MEMBERS: &str = "members";
pub const FROM_UNCHECKED: &str = "fu";
pub const SOURCES4: &str = "sources4";
pub const SOURCES6: &str = "sources6";

/// Pod interfaces whose new connections are counted where the rules let
/// them through or refuse them: sets whose elements carry counters, one
/// per pod, direction and outcome. A lookup that matches counts; the
/// packet goes on. Per rule, each cell chain counts what it allows.
pub const EGRESS_ALLOWED: &str = "eg_ok";
pub const EGRESS_DENIED: &str = "eg_no";
pub const INGRESS_ALLOWED: &str = "in_ok";
pub const INGRESS_DENIED: &str = "in_no";
/// The counting sets: name, egress (else ingress), allowed (else denied).
pub const COUNTED: [(&str, bool, bool); 4] = [
    (EGRESS_ALLOWED, true, true),
    (EGRESS_DENIED, true, false),
    (INGRESS_ALLOWED, false, true),
    (INGRESS_DENIED, false, false),
];
/// Pod interfaces whose refused new connections are logged (NFLOG).
pub const LOG_DENIED: &str = "log_denied";
/// The NFLOG group the agent reads refused connections from.
pub const LOG_GROUP: u16 = 5402;
/// At most this many refused connections are logged per second per side
/// chain (and a burst of twice as many): a flood does not flood the log.
pub const LOG_RATE: u32 = 10;

/// Whose rules a group of chains, maps and sets enforces. Each is named
/// after the groups whose rules it holds, so that all pods (or external
/// members) that carry the same groups share it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side<'a> {
    /// What pods carrying these groups may send (their egress rules).
    Egress(&'a [SgId]),
    /// What pods carrying these groups may receive (their ingress rules).
    Ingress(&'a [SgId]),
    /// What the external members that carry these groups may receive from
    /// this node's pods.
    Members(&'a [SgId]),
}

impl Side<'_> {
    /// The chain that returns when the side allows a packet and drops it
    /// otherwise; also the stem of the side's maps, cells and sets.
    pub fn chain(self) -> String {
        let (prefix, groups) = match self {
            Side::Egress(g) => ("eg", g),
            Side::Ingress(g) => ("in", g),
            Side::Members(g) => ("mi", g),
        };
        format!("{prefix}_{:016x}", fnv1a(groups.iter().map(|g| g.as_str())))
    }

    /// The peer is the destination of what a pod sends, else the source.
    pub fn peer_is_destination(self) -> bool {
        matches!(self, Side::Egress(_))
    }

    /// A member side's set of the members' addresses of one family.
    pub fn member_set(self, v6: bool) -> String {
        format!("{}_m{}", self.chain(), if v6 { 6 } else { 4 })
    }

    pub fn port_map(self) -> String {
        format!("{}_p", self.chain())
    }

    pub fn icmp_map(self, v6: bool) -> String {
        format!("{}_i{}", self.chain(), if v6 { 6 } else { 4 })
    }

    /// The chain of one cell: its key and which peer sets it has (`s` and
    /// a bit mask: 1 members, 2 IPv4 networks, 4 IPv6 networks) in the
    /// name. Both follow from the rules alone, so that a cell keeps its name
    /// (and its chain its rules) while its peers change.
    pub fn cell(self, key: &CellKey, peers: &Peers) -> String {
        let sets = u8::from(peers.groups) | u8::from(peers.has_nets(false)) << 1 | u8::from(peers.has_nets(true)) << 2;
        match *key {
            CellKey::Ports { protocols: (a, b), ports: (c, d) } => {
                format!("{}_p_{a}_{b}_{c}_{d}_s{sets}", self.chain())
            }
            CellKey::Icmp { v6, types: (a, b), codes: (c, d) } => {
                format!("{}_i{}_{a}_{b}_{c}_{d}_s{sets}", self.chain(), if v6 { 6 } else { 4 })
            }
        }
    }
}

/// The set of a cell's peers: `h` members (single addresses), `n` networks.
pub fn cell_set(cell: &str, networks: bool, v6: bool) -> String {
    format!("{cell}_{}{}", if networks { 'n' } else { 'h' }, if v6 { 6 } else { 4 })
}

/// A pod's first chain, reached from `from_pod`: anti-spoofing, the egress
/// of its groups (`fr_` and the groups' name), then external members'
/// ingress. Pods whose egress is not checked (no groups, or groups that
/// allow all egress) share `FROM_UNCHECKED`.
pub fn entry_chain(egress: Option<Side>) -> String {
    match egress {
        Some(side) => format!("fr_{}", &side.chain()[3..]),
        None => FROM_UNCHECKED.to_string(),
    }
}

/// Every pod's own addresses by interface (`ifname . address`), for
/// anti-spoofing.
pub fn source_set(v6: bool) -> &'static str {
    if v6 { SOURCES6 } else { SOURCES4 }
}

/// The chain that sends a packet to the member side whose set holds its
/// destination: one rule per member side (per set of groups that external
/// members carry), named after them, so that a new or vanished side is a new
/// chain, switched to in the `members` map.
pub fn member_dispatch<'a>(sides: impl Iterator<Item = &'a str>) -> String {
    format!("md_{:016x}", fnv1a(sides))
}

/// A stable 64-bit name for a list of strings (FNV-1a, with separators).
fn fnv1a<'s>(parts: impl Iterator<Item = &'s str>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain([0]) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// The order in which chains can be deleted in one transaction, before the
/// maps and sets they use: entry chains jump to side chains, side chains
/// look up maps (deleted between ranks 1 and 2), which go to cell chains;
/// member dispatch chains go to member side chains.
pub fn chain_rank(name: &str) -> u8 {
    match name {
        n if n.starts_with("fr_") || n.starts_with("md_") => 0,
        EGRESS_ALLOWED | EGRESS_DENIED | INGRESS_ALLOWED | INGRESS_DENIED | LOG_DENIED => 1,
        n if n.split('_').count() <= 2 => 1,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_say_what_objects_are() {
        let cell = CellKey::Ports { protocols: (6, 6), ports: (5432, 5432) };
        let peers = Peers { groups: true, hosts: Default::default(), nets: vec!["fd00::/8".parse().unwrap()] };
        let groups = [SgId::parse("sg-0c").unwrap(), SgId::parse("sg-0d").unwrap()];
        let egress = Side::Egress(&groups).chain();
        assert!(egress.starts_with("eg_") && egress.len() == 19, "{egress}");
        assert_eq!(Side::Egress(&groups).cell(&cell, &peers), format!("{egress}_p_6_6_5432_5432_s5"));
        assert_eq!(
            cell_set(&Side::Egress(&groups).cell(&cell, &peers), true, true),
            format!("{egress}_p_6_6_5432_5432_s5_n6")
        );
        // One name per side and set of groups; the sides of one set differ by prefix only.
        let name = Side::Members(&groups).chain();
        assert_eq!(name[3..], egress[3..]);
        assert_eq!(Side::Ingress(&groups).chain()[3..], egress[3..]);
        assert_ne!(name, Side::Members(&groups[..1]).chain());
        assert_eq!(Side::Ingress(&groups).icmp_map(true), format!("in_{}_i6", &egress[3..]));
        assert_eq!(entry_chain(Some(Side::Egress(&groups))), format!("fr_{}", &egress[3..]));
        assert_eq!(entry_chain(None), FROM_UNCHECKED);
        let ranks: Vec<u8> = ["fr_a", "eg_a", "mi_00ff", "eg_a_p_6_6_1_2", MEMBERS_IN, "md_00ff", FROM_UNCHECKED]
            .map(chain_rank)
            .to_vec();
        assert_eq!(ranks, vec![0, 1, 1, 2, 1, 0, 1]);
        assert_eq!(Side::Members(&groups).member_set(true), format!("{name}_m6"));
        assert_ne!(member_dispatch([name.as_str()].into_iter()), member_dispatch(std::iter::empty()));
    }
}
