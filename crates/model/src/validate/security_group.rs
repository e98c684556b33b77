use super::{Checked, Findings, required_name};
use crate::api::{IpPermission, SecurityGroupManifest};
use crate::group::{Member, Peer, Ports, Protocol, Rule, SecurityGroup, SgId};
use ipnet::IpNet;
use std::net::IpAddr;

pub fn security_group(m: &SecurityGroupManifest) -> Checked<SecurityGroup> {
    let mut f = Findings::default();
    let name = required_name(&m.metadata.name, &mut f, "the security group ID (e.g. sg-0a1b2c3d4e5f60789)");
    let id = match SgId::parse(&name) {
        Ok(id) => Some(id),
        Err(why) if !name.is_empty() => {
            f.error("metadata.name", Some(name.clone()), why);
            None
        }
        Err(_) => None,
    };
    let spec = &m.spec;
    let ingress: Vec<Rule> =
        spec.ingress.iter().enumerate().filter_map(|(i, p)| rule(p, &format!("spec.ingress[{i}]"), &mut f)).collect();
    let (egress, default_egress) = match &spec.egress {
        None => (vec![Rule::default_egress()], true),
        Some(rules) => (
            rules.iter().enumerate().filter_map(|(i, p)| rule(p, &format!("spec.egress[{i}]"), &mut f)).collect(),
            false,
        ),
    };
    let mut members: Vec<Member> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, member) in spec.members.iter().enumerate() {
        let path = format!("spec.members[{i}]");
        match member.address.parse::<IpAddr>() {
            Ok(address) if !seen.insert(address) => {
                f.error(path, Some(member.address.clone()), "duplicate member address")
            }
            Ok(address) => members.push(Member { address, name: member.name.clone() }),
            Err(_) if member.address.parse::<IpNet>().is_ok() => {
                f.error(path, Some(member.address.clone()), "a member is one IP address, not a range")
            }
            Err(_) => f.error(path, Some(member.address.clone()), "not an IP address (e.g. 10.0.5.10 or fd00::10)"),
        }
        if member.name.as_deref() == Some("") {
            f.error(format!("spec.members[{i}].name"), Some(String::new()), "must not be empty");
        }
    }
    let outside = spec.outside.is_some();
    if outside {
        let described = [
            ("ingress", !spec.ingress.is_empty()),
            ("egress", spec.egress.is_some()),
            ("members", !spec.members.is_empty()),
        ];
        for (field, present) in described {
            if present {
                f.error(
                    format!("spec.{field}"),
                    None,
                    "a group declared `outside` is described elsewhere: its rules and members are not written here",
                );
            }
        }
    }
    // An outside group's rules are not known: here it allows nothing.
    let (ingress, egress, default_egress) =
        if outside { (vec![], vec![], false) } else { (ingress, egress, default_egress) };
    f.finish(|| SecurityGroup {
        id: id.expect("no errors means the ID parsed"),
        name: spec.group_name.clone(),
        description: spec.description.clone(),
        ingress,
        egress,
        default_egress,
        members,
        outside,
    })
}

const PORT_RULE: &str = "must be between 0 and 65535";

/// One IpPermission written at `path`; `None` when it has errors (reported).
fn rule(p: &IpPermission, path: &str, f: &mut Findings) -> Option<Rule> {
    let before = f.0.len();
    let protocol = match Protocol::parse(&p.ip_protocol.0) {
        Ok(protocol) => Some(protocol),
        Err(why) => {
            f.error(format!("{path}.ipProtocol"), Some(p.ip_protocol.0.clone()), why);
            None
        }
    };
    let ports = protocol.and_then(|protocol| ports(protocol, p, path, f));
    let mut peers = Vec::new();
    let mut seen_cidrs = std::collections::HashMap::new();
    let mut duplicate = |cidr: &IpNet, at: &str, f: &mut Findings| {
        if let Some(first) = seen_cidrs.insert(*cidr, at.to_string()) {
            f.warning(at, Some(cidr.to_string()), format!("the same range as {first}: one of them is enough"));
        }
    };
    for (j, r) in p.ip_ranges.iter().enumerate() {
        let at = format!("{path}.ipRanges[{j}].cidrIp");
        if let Some(cidr) = cidr(&r.cidr_ip, false, &at, f) {
            duplicate(&cidr, &at, f);
            peers.push(Peer::Cidr { cidr, description: r.description.clone() });
        }
    }
    for (j, r) in p.ipv6_ranges.iter().enumerate() {
        let at = format!("{path}.ipv6Ranges[{j}].cidrIpv6");
        if let Some(cidr) = cidr(&r.cidr_ipv6, true, &at, f) {
            duplicate(&cidr, &at, f);
            peers.push(Peer::Cidr { cidr, description: r.description.clone() });
        }
    }
    for (j, pair) in p.user_id_group_pairs.iter().enumerate() {
        let at = format!("{path}.userIdGroupPairs[{j}]");
        let id = match SgId::parse(&pair.group_id) {
            Ok(id) => id,
            Err(why) => {
                f.error(format!("{at}.groupId"), Some(pair.group_id.clone()), why);
                continue;
            }
        };
        match pair.peering_status.as_deref() {
            None | Some("active") => peers.push(Peer::Group { id, description: pair.description.clone() }),
            // EC2 keeps a rule whose peering is gone as a stale rule: it matches nothing.
            Some("deleted") => f.warning(
                format!("{at}.peeringStatus"),
                Some("deleted".into()),
                format!(
                    "stale: the VPC peering connection{} is deleted, so this reference to {id} matches nothing \
                     (EC2 keeps it as a stale rule; remove it)",
                    pair.vpc_peering_connection_id.as_deref().map(|p| format!(" {p}")).unwrap_or_default()
                ),
            ),
            Some(other) => f.error(
                format!("{at}.peeringStatus"),
                Some(other.to_string()),
                "must be active or deleted (EC2's peering status of a group reference)",
            ),
        }
    }
    for (j, pl) in p.prefix_list_ids.iter().enumerate() {
        f.error(
            format!("{path}.prefixListIds[{j}].prefixListId"),
            Some(pl.prefix_list_id.clone()),
            "prefix lists not supported; write the prefix list's CIDRs as ipRanges/ipv6Ranges",
        );
    }
    if p.ip_ranges.is_empty()
        && p.ipv6_ranges.is_empty()
        && p.user_id_group_pairs.is_empty()
        && p.prefix_list_ids.is_empty()
    {
        f.error(path, None, "a rule needs at least one peer: ipRanges, ipv6Ranges or userIdGroupPairs");
    }
    if f.has_errors_since(before) {
        return None;
    }
    // ICMP is IPv4's and ICMPv6 IPv6's: a rule whose ranges are all of the
    // other family never matches (EC2 accepts it all the same).
    let family_only = |v6: bool| {
        p.user_id_group_pairs.is_empty()
            && peers.iter().all(|q| matches!(q, Peer::Cidr { cidr, .. } if matches!(cidr, IpNet::V6(_)) == v6))
    };
    if protocol == Some(Protocol::ICMP) && !p.ipv6_ranges.is_empty() && family_only(true) {
        f.warning(
            path,
            None,
            "never matches: icmp is IPv4's, and this rule's ranges are all IPv6 (use icmpv6 for them)",
        );
    }
    if protocol == Some(Protocol::ICMPV6) && !p.ip_ranges.is_empty() && family_only(false) {
        f.warning(
            path,
            None,
            "never matches: icmpv6 is IPv6's, and this rule's ranges are all IPv4 (use icmp for them)",
        );
    }
    Some(Rule { protocol: protocol?, ports: ports?, peers })
}

fn ports(protocol: Protocol, p: &IpPermission, path: &str, f: &mut Findings) -> Option<Ports> {
    let from_path = format!("{path}.fromPort");
    let to_path = format!("{path}.toPort");
    if protocol.has_ports() {
        let (Some(from), Some(to)) = (p.from_port, p.to_port) else {
            let missing = if p.from_port.is_none() { from_path } else { to_path };
            f.error(
                missing,
                None,
                format!("is required for {protocol} (0-65535; fromPort 0 and toPort 65535 for all ports)"),
            );
            return None;
        };
        let mut ok = true;
        for (value, at) in [(from, &from_path), (to, &to_path)] {
            if !(0..=65535).contains(&value) {
                f.error(at.clone(), Some(value.to_string()), PORT_RULE);
                ok = false;
            }
        }
        if ok && from > to {
            f.error(to_path, Some(to.to_string()), format!("must not be less than fromPort ({from})"));
            ok = false;
        }
        return ok.then_some(Ports::Range { from: from as u16, to: to as u16 });
    }
    if protocol.is_icmp() {
        let icmp_type = p.from_port.unwrap_or(-1);
        let code = p.to_port.unwrap_or(-1);
        let mut ok = true;
        for (value, at, what) in [(icmp_type, &from_path, "ICMP type"), (code, &to_path, "ICMP code")] {
            if !(-1..=255).contains(&value) {
                f.error(at.clone(), Some(value.to_string()), format!("{what} must be -1 (all) or 0-255"));
                ok = false;
            }
        }
        if ok && icmp_type == -1 && code != -1 {
            f.error(to_path, Some(code.to_string()), "ICMP code must be -1 when the type (fromPort) is -1 (all types)");
            ok = false;
        }
        let byte = |v: i64| (v >= 0).then_some(v as u8);
        return ok.then_some(Ports::Icmp { icmp_type: byte(icmp_type), code: byte(code) });
    }
    let mut ok = true;
    for (value, at) in [(p.from_port, from_path), (p.to_port, to_path)] {
        if let Some(v) = value.filter(|v| *v != -1) {
            f.error(
                at,
                Some(v.to_string()),
                format!("ports apply only to tcp and udp (and ICMP type/code to icmp, icmpv6); protocol {protocol} covers all of its traffic, so leave fromPort/toPort out"),
            );
            ok = false;
        }
    }
    ok.then_some(Ports::Any)
}

/// A part of an address or prefix length written with a leading zero.
fn leading_zeros(text: &str) -> bool {
    text.split(['.', '/', ':'])
        .any(|part| part.len() > 1 && part.starts_with('0') && part.bytes().all(|b| b.is_ascii_digit()))
        && !text.contains(':')
        || text.rsplit_once('/').is_some_and(|(_, len)| len.len() > 1 && len.starts_with('0'))
}

/// Parses a CIDR of the given family, insisting on canonical form.
fn cidr(text: &str, v6: bool, path: &str, f: &mut Findings) -> Option<IpNet> {
    let (family, example, field) =
        if v6 { ("IPv6", "fd00::/8", "ipRanges[].cidrIp") } else { ("IPv4", "10.0.0.0/16", "ipv6Ranges[].cidrIpv6") };
    let value = Some(text.to_string());
    let net = match text.parse::<IpNet>() {
        // ipnet reads `010` as 10; other tools read it as octal 8. EC2 refuses it.
        Ok(net) if net.to_string() != text && leading_zeros(text) => {
            f.error(path, value, format!("leading zeros are ambiguous (some tools read 010 as octal); write {net}"));
            return None;
        }
        Ok(net) => net,
        Err(_) if text.parse::<IpAddr>().is_ok() => {
            let len = if text.contains(':') { 128 } else { 32 };
            f.error(path, value, format!("missing prefix length (e.g. {text}/{len})"));
            return None;
        }
        Err(_) => {
            f.error(path, value, format!("not a valid {family} CIDR (e.g. {example})"));
            return None;
        }
    };
    if matches!(net, IpNet::V6(_)) != v6 {
        let other = if v6 { "IPv4" } else { "IPv6" };
        f.error(path, value, format!("is an {other} CIDR; {other} ranges go in {field}"));
        return None;
    }
    if net.trunc() != net {
        f.error(path, value, format!("host bits are set; the network is {}", net.trunc()));
        return None;
    }
    Some(net)
}
