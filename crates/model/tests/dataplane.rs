//! The compiled boxes allow exactly what the rules allow, and never overlap
//! (the kernel refuses overlapping elements of an interval set).

mod common;
use common::{ADDRESSES, GROUPS, arb_world, sg};
use ipnet::IpNet;
use podsg_model::dataplane::{Allowances, CellKey, allowances};
use podsg_model::flow::Service;
use podsg_model::group::{Direction, Peer, SecurityGroup, SgId};
use proptest::prelude::*;
use proptest::sample::subsequence;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// Rule by rule, as the verdict engine reads them, with members by address.
fn reference(
    groups: &[SgId],
    world: &BTreeMap<SgId, SecurityGroup>,
    direction: Direction,
    members: &BTreeMap<SgId, BTreeSet<IpAddr>>,
    service: Service,
    peer: IpAddr,
) -> bool {
    groups.iter().filter_map(|g| world.get(g)).flat_map(|g| g.rules(direction)).any(|r| {
        r.covers(service)
            && r.peers.iter().any(|p| match p {
                Peer::Cidr { cidr, .. } => cidr.contains(&peer),
                Peer::Group { id, .. } => members.get(id).is_some_and(|m| m.contains(&peer)),
            })
    })
}

/// The packet's fields as the dataplane reads them.
fn packet(service: Service) -> (u8, u16, Option<(u8, u8)>) {
    match service {
        Service::Tcp(p) => (6, p, None),
        Service::Udp(p) => (17, p, None),
        // The transport-port field of an ICMP packet holds its checksum: any value.
        Service::Icmp { v6, icmp_type, code } => (if v6 { 58 } else { 1 }, 0xbeef, Some((icmp_type, code))),
        Service::Other(n) => (n, 0x1234, None),
        Service::Every(_) => unreachable!("a packet has one port"),
    }
}

fn overlaps(a: (u16, u16), b: (u16, u16)) -> bool {
    a.0 <= b.1 && b.0 <= a.1
}

fn nets_overlap(a: &IpNet, b: &IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

fn wide(b: (u8, u8)) -> (u16, u16) {
    (u16::from(b.0), u16::from(b.1))
}

/// No two cells hold the same packet (one vmap lookup finds the one cell),
/// and a cell's networks do not overlap (the kernel's interval sets refuse it).
fn disjoint(a: &Allowances) -> Result<(), String> {
    let keys: Vec<&CellKey> = a.cells.keys().collect();
    for (i, x) in keys.iter().enumerate() {
        for y in &keys[i + 1..] {
            let clash = match (x, y) {
                (CellKey::Ports { protocols: p, ports: q }, CellKey::Ports { protocols: p2, ports: q2 }) => {
                    overlaps(wide(*p), wide(*p2)) && overlaps(*q, *q2)
                }
                (CellKey::Icmp { v6, types, codes }, CellKey::Icmp { v6: v6b, types: t2, codes: c2 }) => {
                    v6 == v6b && overlaps(wide(*types), wide(*t2)) && overlaps(wide(*codes), wide(*c2))
                }
                _ => false,
            };
            if clash {
                return Err(format!("{x:?} overlaps {y:?}"));
            }
        }
    }
    for (key, peers) in &a.cells {
        for (i, x) in peers.nets.iter().enumerate() {
            if let Some(y) = peers.nets[i + 1..].iter().find(|y| nets_overlap(x, y)) {
                return Err(format!("{key:?}: {x} overlaps {y}"));
            }
        }
    }
    Ok(())
}

/// The cells without their members: what must not change with membership.
fn structure(a: &Allowances) -> Vec<(CellKey, bool, Vec<IpNet>)> {
    a.cells.iter().map(|(k, p)| (*k, p.groups, p.nets.clone())).collect()
}

fn arb_members() -> impl Strategy<Value = BTreeMap<SgId, BTreeSet<IpAddr>>> {
    prop::collection::vec(subsequence(&ADDRESSES[..], 0..=3), GROUPS.len()).prop_map(|per_group| {
        per_group
            .into_iter()
            .enumerate()
            .map(|(i, a)| (sg(i), a.into_iter().map(|s| s.parse().unwrap()).collect()))
            .collect()
    })
}

fn arb_packet() -> impl Strategy<Value = (Service, IpAddr)> {
    let service = prop_oneof![
        prop_oneof![Just(0u16), Just(99), Just(100), Just(65535), 0u16..120].prop_map(Service::Tcp),
        (0u16..120).prop_map(Service::Udp),
        (prop::sample::select(&[0u8, 3, 8, 255][..]), 0u8..3).prop_map(|(t, c)| Service::Icmp {
            v6: false,
            icmp_type: t,
            code: c
        }),
        (prop::sample::select(&[128u8, 129][..]), 0u8..2).prop_map(|(t, c)| Service::Icmp {
            v6: true,
            icmp_type: t,
            code: c
        }),
        prop::sample::select(&[47u8, 50, 132][..]).prop_map(Service::Other),
    ];
    const PEERS: [&str; 8] =
        ["10.0.1.5", "10.0.2.7", "10.0.1.200", "192.168.1.1", "172.16.0.1", "fd00::5", "fd00::99", "2001:db8::1"];
    (service, prop::sample::select(&PEERS[..]).prop_map(|p| p.parse().unwrap()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn cells_allow_exactly_what_rules_allow(
        world in arb_world(), members in arb_members(),
        groups in subsequence((0..GROUPS.len()).collect::<Vec<_>>(), 0..=3),
        ingress in any::<bool>(), packets in prop::collection::vec(arb_packet(), 20),
    ) {
        let groups: Vec<SgId> = groups.into_iter().map(sg).collect();
        let direction = if ingress { Direction::Ingress } else { Direction::Egress };
        let lookup = |g: &SgId| members.get(g).cloned().unwrap_or_default();
        let boxes = allowances(&groups, &world, direction, &lookup);
        if let Err(e) = disjoint(&boxes) {
            prop_assert!(false, "{}", e);
        }
        // Membership changes never change the cells, only the addresses in them.
        let alone = allowances(&groups, &world, direction, &|_: &SgId| BTreeSet::new());
        prop_assert_eq!(structure(&alone), structure(&boxes));
        let open = boxes.allows_everything();
        for (service, peer) in packets {
            let (protocol, port, icmp) = packet(service);
            if open {
                prop_assert!(boxes.allows(protocol, port, icmp, peer), "allows everything, but not {} from/to {}", service, peer);
            }
            // IPv4 ICMP with an IPv6 peer (and the reverse) does not exist.
            if matches!(service, Service::Icmp { v6, .. } if v6 != peer.is_ipv6()) {
                continue;
            }
            let expected = reference(&groups, &world, direction, &members, service, peer);
            prop_assert_eq!(boxes.allows(protocol, port, icmp, peer), expected, "{} from/to {}: {:?}", service, peer, boxes);
        }
    }
}

#[test]
fn overlapping_rules_become_disjoint_cells() {
    use podsg_model::fixtures::{all_from_cidr, mk_group, tcp_from_group};
    let mut g = mk_group(
        "sg-0a",
        vec![all_from_cidr("10.0.0.0/8"), tcp_from_group(5432, "sg-0b"), all_from_cidr("10.1.0.0/16")],
        None,
    );
    g.ingress.push(podsg_model::group::Rule {
        protocol: podsg_model::group::Protocol::TCP,
        ports: podsg_model::group::Ports::Range { from: 5000, to: 6000 },
        peers: vec![Peer::Cidr { cidr: "192.168.0.0/16".parse().unwrap(), description: None }],
    });
    let world: BTreeMap<SgId, SecurityGroup> = [(g.id.clone(), g)].into();
    let members: BTreeMap<SgId, BTreeSet<IpAddr>> =
        [(sg_id("sg-0b"), ["10.2.3.4".parse().unwrap(), "172.16.0.9".parse().unwrap()].into())].into();
    let cells =
        allowances(&[sg_id("sg-0a")], &world, Direction::Ingress, &|g| members.get(g).cloned().unwrap_or_default());
    let shown: Vec<String> = cells
        .cells
        .iter()
        .map(|(k, p)| {
            let hosts: Vec<String> = p.hosts.iter().map(ToString::to_string).collect();
            let nets: Vec<String> = p.nets.iter().map(ToString::to_string).collect();
            format!("{k:?} hosts {hosts:?} nets {nets:?}")
        })
        .collect();
    assert_eq!(
        shown,
        vec![
            // 10.1.0.0/16 is inside 10.0.0.0/8: aggregated away. Members stay
            // single addresses, apart from the rules' networks.
            "Ports { protocols: (0, 5), ports: (0, 65535) } hosts [] nets [\"10.0.0.0/8\"]",
            "Ports { protocols: (6, 6), ports: (0, 4999) } hosts [] nets [\"10.0.0.0/8\"]",
            "Ports { protocols: (6, 6), ports: (5000, 5431) } hosts [] nets [\"10.0.0.0/8\", \"192.168.0.0/16\"]",
            "Ports { protocols: (6, 6), ports: (5432, 5432) } hosts [\"10.2.3.4\", \"172.16.0.9\"] nets [\"10.0.0.0/8\", \"192.168.0.0/16\"]",
            "Ports { protocols: (6, 6), ports: (5433, 6000) } hosts [] nets [\"10.0.0.0/8\", \"192.168.0.0/16\"]",
            "Ports { protocols: (6, 6), ports: (6001, 65535) } hosts [] nets [\"10.0.0.0/8\"]",
            // No ICMP rules: ICMP meets the cell of protocols 7-255.
            "Ports { protocols: (7, 255), ports: (0, 65535) } hosts [] nets [\"10.0.0.0/8\"]",
        ]
    );
    disjoint(&cells).unwrap();
}

fn sg_id(s: &str) -> SgId {
    SgId::parse(s).unwrap()
}
