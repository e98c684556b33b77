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

/// A name safe for nft identifiers, unique per interface name: the name
/// itself when it is letters and digits, else `x` and its bytes in hex.
pub fn suffix(interface: &str) -> String {
    if !interface.is_empty() && interface.bytes().all(|b| b.is_ascii_alphanumeric()) {
        interface.to_string()
    } else {
        format!("x{}", interface.bytes().map(|b| format!("{b:02x}")).collect::<String>())
    }
}

/// Whose rules a group of chains, maps and sets enforces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side<'a> {
    /// What a pod may send (its groups' egress rules).
    Egress(&'a str),
    /// What a pod may receive (its groups' ingress rules).
    Ingress(&'a str),
    /// What the external members that carry these groups may receive from
    /// this node's pods (one side per set of groups, however many members).
    Members(&'a [SgId]),
}

impl Side<'_> {
    /// The chain that returns when the side allows a packet and drops it
    /// otherwise; also the stem of the side's maps, cells and sets.
    pub fn chain(self) -> String {
        match self {
            Side::Egress(i) => format!("eg_{}", suffix(i)),
            Side::Ingress(i) => format!("in_{}", suffix(i)),
            Side::Members(groups) => format!("mi_{:016x}", fnv1a(groups.iter().map(|g| g.as_str()))),
        }
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

/// A pod's first chain, reached from `from_pod`: anti-spoofing, its groups'
/// egress when they restrict it (`fr_`; `fu_` when all egress is allowed),
/// then external members' ingress.
pub fn entry_chain(interface: &str, check_egress: bool) -> String {
    format!("{}_{}", if check_egress { "fr" } else { "fu" }, suffix(interface))
}

/// The chain that sends a packet to the member side whose set holds its
/// destination: one rule per member side (per set of groups that external
/// members carry), named after them, so that a new or vanished side is a new
/// chain, switched to in the `members` map.
pub fn member_dispatch<'a>(sides: impl Iterator<Item = &'a str>) -> String {
    format!("md_{:016x}", fnv1a(sides))
}

/// The pod's own addresses, for anti-spoofing.
pub fn source_set(interface: &str, v6: bool) -> String {
    format!("src{}_{}", if v6 { 6 } else { 4 }, suffix(interface))
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
        n if n.starts_with("fr_") || n.starts_with("fu_") || n.starts_with("md_") => 0,
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
        assert_eq!(Side::Egress("pg1").cell(&cell, &peers), "eg_pg1_p_6_6_5432_5432_s5");
        assert_eq!(cell_set(&Side::Egress("pg1").cell(&cell, &peers), true, true), "eg_pg1_p_6_6_5432_5432_s5_n6");
        let groups = [SgId::parse("sg-0c").unwrap(), SgId::parse("sg-0d").unwrap()];
        let name = Side::Members(&groups).chain();
        assert!(name.starts_with("mi_") && name.len() == 19, "{name}");
        assert_ne!(name, Side::Members(&groups[..1]).chain());
        assert_eq!(Side::Ingress("cali_1").icmp_map(true), "in_x63616c695f31_i6");
        assert_eq!(entry_chain("eth-0", false), "fu_x6574682d30");
        let ranks: Vec<u8> =
            ["fu_a", "eg_a", "mi_00ff", "eg_a_p_6_6_1_2", MEMBERS_IN, "md_00ff"].map(chain_rank).to_vec();
        assert_eq!(ranks, vec![0, 1, 1, 2, 1, 0]);
        assert_eq!(Side::Members(&groups).member_set(true), format!("{name}_m6"));
        assert_ne!(member_dispatch([name.as_str()].into_iter()), member_dispatch(std::iter::empty()));
    }
}
