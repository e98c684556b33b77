//! The verdict engine on hand-made worlds: which side decides, and why.

use podsg_model::fixtures::{all_from_cidr, mk_group, sg, tcp_from_group};
use podsg_model::flow::Service;
use podsg_model::group::{SecurityGroup, SgId};
use podsg_model::settings::EnforcingMode;
use podsg_model::verdict::{Decision, Endpoint, Enforcer, Engine, Role, SideVerdict};
use std::collections::BTreeMap;

fn world(groups: Vec<SecurityGroup>) -> BTreeMap<SgId, SecurityGroup> {
    groups.into_iter().map(|g| (g.id.clone(), g)).collect()
}

fn pod(id: &str, groups: &[&str], address: Option<&str>) -> Endpoint {
    Endpoint {
        id: id.into(),
        role: Role::Pod { node: Some("node-1".into()), restricted: !groups.is_empty() },
        addresses: address.map(|a| a.parse().unwrap()).into_iter().collect(),
        groups: groups.iter().map(|g| sg(g)).collect(),
        why: String::new(),
    }
}

fn member(id: &str, groups: &[&str], address: &str) -> Endpoint {
    Endpoint { role: Role::Member, ..pod(id, groups, Some(address)) }
}

fn node(groups: &[&str]) -> Endpoint {
    Endpoint { role: Role::Node { name: Some("node-1".into()) }, ..pod("node/node-1", groups, Some("192.0.2.1")) }
}

/// The handbook: POD_SG (no ingress, default egress), RDS_SG (5432 from POD_SG), NODE (all from itself).
fn handbook() -> BTreeMap<SgId, SecurityGroup> {
    world(vec![
        mk_group("sg-0p", vec![], None),
        mk_group("sg-0r", vec![tcp_from_group(5432, "sg-0p")], None),
        mk_group(
            "sg-0n",
            vec![podsg_model::group::Rule {
                peers: vec![podsg_model::group::Peer::Group { id: sg("sg-0n"), description: None }],
                ..all_from_cidr("0.0.0.0/0")
            }],
            None,
        ),
    ])
}

#[test]
fn green_reaches_the_database_and_red_does_not() {
    let groups = handbook();
    let engine = Engine::new(&groups, EnforcingMode::Strict);
    let db = member("member/db", &["sg-0r"], "10.0.3.50");
    let green = engine.verdict(&pod("green", &["sg-0p"], None), &db, Service::Tcp(5432));
    assert_eq!(green.verdict, Decision::Allow);
    let SideVerdict::Allowed(rule) = &green.ingress else { panic!("{green:?}") };
    assert_eq!((rule.group.as_str(), rule.index, rule.peer.as_str()), ("sg-0r", 0, "sg-0p"));
    let SideVerdict::Allowed(rule) = &green.egress else { panic!("{green:?}") };
    assert_eq!((rule.group.as_str(), rule.rule.as_str()), ("sg-0p", "all traffic to 0.0.0.0/0, ::/0"));

    let red = engine.verdict(&pod("red", &["sg-0n"], None), &db, Service::Tcp(5432));
    assert_eq!(red.verdict, Decision::Deny);
    assert_eq!(red.ingress, SideVerdict::Denied { groups: vec![sg("sg-0r")] });
    // Another port is denied for green too.
    assert_eq!(engine.verdict(&pod("green", &["sg-0p"], None), &db, Service::Tcp(5433)).verdict, Decision::Deny);
}

#[test]
fn strict_mode_checks_kubelet_and_standard_mode_does_not() {
    let groups = handbook();
    let green = pod("green", &["sg-0p"], None);
    let kubelet = node(&["sg-0n"]);
    let strict = Engine::new(&groups, EnforcingMode::Strict).verdict(&kubelet, &green, Service::Tcp(8080));
    assert_eq!(strict.verdict, Decision::Deny, "POD_SG allows nothing in, kubelet included");
    let standard = Engine::new(&groups, EnforcingMode::Standard).verdict(&kubelet, &green, Service::Tcp(8080));
    assert_eq!(standard.verdict, Decision::Allow);
    assert!(matches!(standard.ingress, SideVerdict::NotEnforced { .. }));
    // Standard mode only skips the pod's own node.
    let mut elsewhere = green.clone();
    elsewhere.role = Role::Pod { node: Some("node-2".into()), restricted: true };
    let other = Engine::new(&groups, EnforcingMode::Standard).verdict(&kubelet, &elsewhere, Service::Tcp(8080));
    assert_eq!(other.verdict, Decision::Deny);
}

#[test]
fn cidr_rules_need_the_address_or_say_unknown() {
    let groups =
        world(vec![mk_group("sg-0a", vec![all_from_cidr("10.0.0.0/16")], None), mk_group("sg-0b", vec![], None)]);
    let engine = Engine::new(&groups, EnforcingMode::Strict);
    let dst = pod("dst", &["sg-0a"], Some("10.0.9.9"));
    let known_in = engine.verdict(&pod("src", &["sg-0b"], Some("10.0.1.1")), &dst, Service::Udp(53));
    assert_eq!(known_in.verdict, Decision::Allow);
    let known_out = engine.verdict(&pod("src", &["sg-0b"], Some("10.1.1.1")), &dst, Service::Udp(53));
    assert_eq!(known_out.verdict, Decision::Deny);
    let unknown = engine.verdict(&pod("src", &["sg-0b"], None), &dst, Service::Udp(53));
    assert_eq!(unknown.verdict, Decision::Unknown);
    let SideVerdict::Unknown { unknown, .. } = &unknown.ingress else { panic!() };
    assert_eq!(unknown, "the address of src is in 10.0.0.0/16");
    // 0.0.0.0/0 needs no address.
    let open = world(vec![mk_group("sg-0a", vec![all_from_cidr("0.0.0.0/0")], None), mk_group("sg-0b", vec![], None)]);
    let v = Engine::new(&open, EnforcingMode::Strict).verdict(&pod("src", &["sg-0b"], None), &dst, Service::Udp(53));
    assert_eq!(v.verdict, Decision::Allow);
}

#[test]
fn explicit_empty_egress_allows_nothing_out() {
    let groups =
        world(vec![mk_group("sg-0a", vec![], Some(vec![])), mk_group("sg-0b", vec![all_from_cidr("0.0.0.0/0")], None)]);
    let v = Engine::new(&groups, EnforcingMode::Strict).verdict(
        &pod("a", &["sg-0a"], None),
        &pod("b", &["sg-0b"], None),
        Service::Tcp(80),
    );
    assert_eq!(v.verdict, Decision::Deny);
    assert_eq!(v.egress, SideVerdict::Denied { groups: vec![sg("sg-0a")] });
}

#[test]
fn member_ingress_is_evaluated_from_every_source_and_says_who_enforces_it() {
    let groups = handbook();
    let engine = Engine::new(&groups, EnforcingMode::Strict);
    let db = member("member/db", &["sg-0r"], "10.0.3.50");
    let unrestricted = pod("free", &[], None);
    let v = engine.verdict(&unrestricted, &db, Service::Tcp(5432));
    assert_eq!(v.verdict, Decision::Deny, "an unrestricted pod still meets the member's ingress");
    assert_eq!((v.egress_enforcer, v.ingress_enforcer), (Enforcer::None, Enforcer::Podsg));
    // The node, another member, an outside address: the cloud refuses them.
    let mgmt = member("member/mgmt", &["sg-0n"], "10.0.9.9");
    let outside = Endpoint { role: Role::External, ..pod("203.0.113.9", &[], Some("203.0.113.9")) };
    for source in [node(&["sg-0n"]), mgmt, outside] {
        let v = engine.verdict(&source, &db, Service::Tcp(5432));
        assert_eq!(v.verdict, Decision::Deny, "{}", source.id);
        assert_eq!(v.ingress, SideVerdict::Denied { groups: vec![sg("sg-0r")] }, "{}", source.id);
        assert_eq!(v.ingress_enforcer, Enforcer::Cloud, "{}", source.id);
        // What a podsg node does with it: nothing, it is not podsg's to enforce.
        assert_eq!(v.decision_by(Enforcer::Podsg), Decision::Allow, "{}", source.id);
    }
    // A member's egress is its own groups' (the cloud's) too.
    let closed =
        world(vec![mk_group("sg-0m", vec![], Some(vec![])), mk_group("sg-0x", vec![all_from_cidr("0.0.0.0/0")], None)]);
    let v = Engine::new(&closed, EnforcingMode::Strict).verdict(
        &member("member/m", &["sg-0m"], "10.0.3.1"),
        &pod("p", &["sg-0x"], None),
        Service::Tcp(80),
    );
    assert_eq!((v.verdict, v.egress_enforcer, v.ingress_enforcer), (Decision::Deny, Enforcer::Cloud, Enforcer::Podsg));
}

#[test]
fn an_echo_reply_never_opens_a_connection() {
    let open = world(vec![mk_group("sg-0a", vec![all_from_cidr("0.0.0.0/0")], None)]);
    let engine = Engine::new(&open, EnforcingMode::Strict);
    let (a, b) = (pod("a", &["sg-0a"], None), pod("b", &["sg-0a"], None));
    for (v6, icmp_type, decision) in [
        (false, 0, Decision::Deny),
        (true, 129, Decision::Deny),
        (false, 8, Decision::Allow),
        (true, 128, Decision::Allow),
    ] {
        let v = engine.verdict(&a, &b, Service::Icmp { v6, icmp_type, code: 0 });
        assert_eq!(v.verdict, decision, "v6 {v6} type {icmp_type}");
        assert_eq!(engine.decide(&a, &b, Service::Icmp { v6, icmp_type, code: 0 }), decision);
    }
    let v = engine.verdict(&a, &b, Service::Icmp { v6: false, icmp_type: 0, code: 0 });
    assert_eq!(v.egress, v.ingress);
    assert_eq!(
        v.ingress,
        SideVerdict::NotNew {
            reason: "an echo reply opens no connection: it passes only as the reply to an echo request from b to a that conntrack tracks, and is dropped without one".into()
        }
    );
}

#[test]
fn a_group_that_does_not_exist_allows_nothing() {
    let groups = world(vec![]);
    let v = Engine::new(&groups, EnforcingMode::Strict).verdict(
        &pod("a", &["sg-0gone"], None),
        &pod("b", &[], None),
        Service::Tcp(80),
    );
    assert_eq!(v.verdict, Decision::Deny);
}

#[test]
fn groups_declared_outside_make_verdicts_unknown_not_allowed() {
    let mut outside = mk_group("sg-0o", vec![], Some(vec![]));
    outside.outside = true;
    let groups = world(vec![outside, mk_group("sg-0d", vec![tcp_from_group(443, "sg-0o")], None)]);
    let engine = Engine::new(&groups, EnforcingMode::Strict);
    let dst = pod("dst", &["sg-0d"], Some("10.1.0.9"));
    // Who carries the outside group is not known for an address...
    let ip = Endpoint { role: Role::External, ..pod("203.0.113.9", &[], Some("203.0.113.9")) };
    let v = engine.verdict(&ip, &dst, Service::Tcp(443));
    assert_eq!(v.verdict, Decision::Unknown);
    let SideVerdict::Unknown { unknown, .. } = &v.ingress else { panic!("{v:?}") };
    assert_eq!(unknown, "203.0.113.9 carries sg-0o, a group described outside the manifests");
    // ...but a pod's groups are: it does not.
    assert_eq!(engine.verdict(&pod("p", &["sg-0d"], None), &dst, Service::Tcp(443)).verdict, Decision::Deny);
    // A pod carrying only an outside group: its rules are not known.
    let v = engine.verdict(&pod("p", &["sg-0o"], None), &dst, Service::Tcp(443));
    assert_eq!((v.verdict, &v.egress), (Decision::Unknown, &SideVerdict::RulesNotKnown { groups: vec![sg("sg-0o")] }));
}
