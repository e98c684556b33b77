//! Set and map elements in one canonical form, whether built from the
//! compiled rule set or read back from the kernel, so that the two compare
//! exactly.

use smallvec::{SmallVec, smallvec};
use std::fmt;
use std::net::IpAddr;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    /// An inclusive range of a number (protocol, port, ICMP type or code).
    Num(u32, u32),
    /// One address (a member, a pod's own address).
    Addr(IpAddr),
    /// An inclusive range of addresses of one family (networks, merged where
    /// they touch, so that the form is canonical).
    Addrs(IpAddr, IpAddr),
    /// An interface name.
    Name(String),
}

/// One element: the fields of a (possibly concatenated) key. Kept inline:
/// a table holds hundreds of thousands of them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Element(pub SmallVec<[Field; 2]>);

impl Element {
    pub fn one(field: Field) -> Element {
        Element(smallvec![field])
    }

    pub fn pair(a: Field, b: Field) -> Element {
        Element(smallvec![a, b])
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Num(lo, hi) if lo == hi => write!(f, "{lo}"),
            Field::Num(lo, hi) => write!(f, "{lo}-{hi}"),
            Field::Addr(a) => write!(f, "{a}"),
            Field::Addrs(lo, hi) if lo == hi => write!(f, "{lo}"),
            Field::Addrs(lo, hi) => write!(f, "{lo}-{hi}"),
            // Interface names are letters, digits and a few marks (the
            // kernel allows no quote), so quoting is enough.
            Field::Name(n) => write!(f, "\"{n}\""),
        }
    }
}

impl fmt::Display for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join(" . "))
    }
}

/// Networks as the fewest disjoint, non-touching address ranges.
pub fn ranges(nets: &[ipnet::IpNet]) -> Vec<(IpAddr, IpAddr)> {
    let mut spans: Vec<(u128, u128, bool)> = nets
        .iter()
        .map(|n| match n {
            ipnet::IpNet::V4(n) => (u32::from(n.network()).into(), u32::from(n.broadcast()).into(), false),
            ipnet::IpNet::V6(n) => (u128::from(n.network()), u128::from(n.broadcast()), true),
        })
        .collect();
    spans.sort();
    let mut merged: Vec<(u128, u128, bool)> = Vec::new();
    for (lo, hi, v6) in spans {
        match merged.last_mut() {
            Some(last) if last.2 == v6 && lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
            _ => merged.push((lo, hi, v6)),
        }
    }
    let addr = |v: u128, v6: bool| -> IpAddr { if v6 { IpAddr::V6(v.into()) } else { IpAddr::V4((v as u32).into()) } };
    merged.into_iter().map(|(lo, hi, v6)| (addr(lo, v6), addr(hi, v6))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touching_networks_merge_into_one_range() {
        let nets: Vec<ipnet::IpNet> =
            ["10.0.0.2/32", "10.0.0.0/31", "10.0.1.0/24", "fd00::/127", "fd00::2/128", "0.0.0.0/0"]
                .iter()
                .map(|s| s.parse().unwrap())
                .collect();
        let shown: Vec<String> = ranges(&nets).iter().map(|(a, b)| format!("{a}-{b}")).collect();
        assert_eq!(shown, vec!["0.0.0.0-255.255.255.255", "fd00::-fd00::2"]);
        let apart: Vec<ipnet::IpNet> = ["10.0.0.0/31", "10.0.0.3/32"].iter().map(|s| s.parse().unwrap()).collect();
        assert_eq!(ranges(&apart).len(), 2);
    }
}
