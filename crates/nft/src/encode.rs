//! Elements as the kernel's nf_tables netlink messages carry them: keys in
//! registers of 4-byte words, network byte order, interval sets as a start
//! element and an end element (the first address after the range), and
//! concatenated ranges as a key and a closing key.

use crate::element::{Element, Field};
use crate::layout::{MapKind, SetKind, Verdict};
use std::net::IpAddr;

/// `NFT_SET_ELEM_INTERVAL_END`: the element closes the previous interval.
pub const INTERVAL_END: u32 = 1;
/// `NFT_JUMP` and `NFT_GOTO` verdict codes.
const JUMP: i32 = -3;
const GOTO: i32 = -4;
const IFNAMSIZ: usize = 16;

/// One element as netlink sends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawElement {
    pub key: Vec<u8>,
    pub key_end: Option<Vec<u8>>,
    pub flags: u32,
    /// Verdict code and chain, for verdict maps.
    pub verdict: Option<(i32, String)>,
}

impl RawElement {
    fn key(key: Vec<u8>) -> RawElement {
        RawElement { key, key_end: None, flags: 0, verdict: None }
    }
}

fn address(a: IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// The address after `a`, or `None` after the last one.
fn next(a: IpAddr) -> Option<IpAddr> {
    match a {
        IpAddr::V4(a) => u32::from(a).checked_add(1).map(|n| IpAddr::V4(n.into())),
        IpAddr::V6(a) => u128::from(a).checked_add(1).map(|n| IpAddr::V6(n.into())),
    }
}

/// A number of `width` bytes in network order, padded to a 4-byte register.
fn word(value: u32, width: usize) -> Vec<u8> {
    let mut out = value.to_be_bytes()[4 - width..].to_vec();
    out.resize(4, 0);
    out
}

fn name(n: &str) -> Vec<u8> {
    let mut out = n.as_bytes().to_vec();
    out.resize(IFNAMSIZ, 0);
    out
}

/// The netlink elements of one set element (two for an address range).
pub fn set_element(kind: SetKind, e: &Element) -> Vec<RawElement> {
    match (kind, e.0.as_slice()) {
        (SetKind::Addr { .. }, [Field::Addr(a)]) => vec![RawElement::key(address(*a))],
        (SetKind::Counted | SetKind::Interfaces, [Field::Name(n)]) => vec![RawElement::key(name(n))],
        (SetKind::Sources { .. }, [Field::Name(n), Field::Addr(a)]) => {
            vec![RawElement::key([name(n), address(*a)].concat())]
        }
        (SetKind::Ranges { .. }, [Field::Addrs(lo, hi)]) => {
            let mut out = vec![RawElement::key(address(*lo))];
            if let Some(end) = next(*hi) {
                out.push(RawElement { flags: INTERVAL_END, ..RawElement::key(address(end)) });
            }
            out
        }
        _ => unreachable!("layouts build set elements of their set's kind: {kind:?} {e}"),
    }
}

/// The netlink element of one map entry.
pub fn map_element(kind: MapKind, e: &Element, v: &Verdict) -> RawElement {
    let verdict = Some(match v {
        Verdict::Jump(c) => (JUMP, c.to_string()),
        Verdict::Goto(c) => (GOTO, c.to_string()),
    });
    let widths: &[usize] = match kind {
        MapKind::Ports => &[1, 2],
        MapKind::Icmp { .. } => &[1, 1],
        MapKind::Interface | MapKind::Addr { .. } | MapKind::Family => &[],
    };
    match (kind, e.0.as_slice()) {
        (MapKind::Interface, [Field::Name(n)]) => RawElement { verdict, ..RawElement::key(name(n)) },
        (MapKind::Addr { .. }, [Field::Addr(a)]) => RawElement { verdict, ..RawElement::key(address(*a)) },
        // A key of one field is as long as its type (one byte), not a register.
        (MapKind::Family, [Field::Num(f, _)]) => {
            RawElement { verdict, ..RawElement::key(vec![u8::try_from(*f).expect("families are bytes")]) }
        }
        (_, fields) if fields.len() == widths.len() => {
            let (mut key, mut key_end) = (Vec::new(), Vec::new());
            for (f, w) in fields.iter().zip(widths) {
                let Field::Num(lo, hi) = f else { unreachable!("ranges of numbers in {kind:?}") };
                key.extend(word(*lo, *w));
                key_end.extend(word(*hi, *w));
            }
            RawElement { key, key_end: Some(key_end), flags: 0, verdict }
        }
        _ => unreachable!("layouts build map keys of their map's kind: {kind:?} {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    /// The bytes nft 1.0.6 sends (`nft --debug=netlink`) for the same elements.
    #[test]
    fn encodes_as_nft_does() {
        let range = Element::one(Field::Addrs("10.0.0.5".parse().unwrap(), "10.0.0.9".parse().unwrap()));
        let raw = set_element(SetKind::Ranges { v6: false }, &range);
        assert_eq!(
            raw.iter().map(|r| (hex(&r.key), r.flags)).collect::<Vec<_>>(),
            vec![("0a000005".to_string(), 0), ("0a00000a".to_string(), INTERVAL_END)]
        );
        let last = Element::one(Field::Addrs("255.255.255.0".parse().unwrap(), "255.255.255.255".parse().unwrap()));
        assert_eq!(set_element(SetKind::Ranges { v6: false }, &last).len(), 1);
        let ports = Element::pair(Field::Num(17, 17), Field::Num(1, 100));
        let raw = map_element(MapKind::Ports, &ports, &Verdict::Jump("c".into()));
        assert_eq!(hex(&raw.key), "1100000000010000");
        assert_eq!(hex(raw.key_end.as_ref().unwrap()), "1100000000640000");
        assert_eq!(raw.verdict, Some((JUMP, "c".to_string())));
        let pod =
            map_element(MapKind::Interface, &Element::one(Field::Name("pg123".into())), &Verdict::Goto("c".into()));
        assert_eq!(hex(&pod.key), "70673132330000000000000000000000");
        let icmp = map_element(
            MapKind::Icmp { v6: true },
            &Element::pair(Field::Num(128, 129), Field::Num(0, 255)),
            &Verdict::Goto("c".into()),
        );
        assert_eq!(
            (hex(&icmp.key), hex(icmp.key_end.as_ref().unwrap())),
            ("8000000000000000".into(), "81000000ff000000".into())
        );
        let source = set_element(
            SetKind::Sources { v6: false },
            &Element::pair(Field::Name("pga".into()), Field::Addr("10.1.0.2".parse().unwrap())),
        );
        assert_eq!(hex(&source[0].key), "706761000000000000000000000000000a010002");
        // `add element inet podsg members { ipv6 : goto c }` sends one byte.
        let family = map_element(MapKind::Family, &Element::one(Field::Num(10, 10)), &Verdict::Goto("c".into()));
        assert_eq!((hex(&family.key), family.key_end), ("0a".into(), None));
    }
}
