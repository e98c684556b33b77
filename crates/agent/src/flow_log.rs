//! Refused new connections as structured lines: each packet the dataplane
//! logs (pods whose refusals are switched on, rate-limited in the kernel)
//! is said with its pod, direction, peer, protocol and port, and the side
//! (groups) that refused it, as one JSON line on standard error.

use crate::flows::FlowLabels;
use podsg_nft::{LOG_GROUP, LogReader, Refused};
use serde_json::{Value, json};

/// The line of one refused packet. `name_of` gives an interface's name by
/// its index.
pub fn line(r: &Refused, labels: &FlowLabels, name_of: &dyn Fn(u32) -> Option<String>) -> Value {
    let (direction, groups) =
        labels.sides.get(&r.prefix).map(|(d, g)| (*d, g.clone())).unwrap_or(("unknown", Vec::new()));
    // Egress and member ingress refuse what a pod sends; ingress what it would receive.
    let (interface, peer) = if direction == "ingress" { (r.outdev, r.source) } else { (r.indev, r.destination) };
    let interface = name_of(interface);
    let pod = interface.as_ref().and_then(|i| labels.pods.get(i)).cloned();
    let protocol = match r.protocol {
        1 => "icmp".to_string(),
        6 => "tcp".into(),
        17 => "udp".into(),
        58 => "icmpv6".into(),
        132 => "sctp".into(),
        n => n.to_string(),
    };
    let time = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
    let mut v = json!({
        "time": (time * 1000.0).round() / 1000.0,
        "event": "denied",
        "pod": pod,
        "interface": interface,
        "direction": if direction == "member-ingress" { "egress" } else { direction },
        "source": r.source.to_string(),
        "destination": r.destination.to_string(),
        "peer": peer.to_string(),
        "protocol": protocol,
        "refusedBy": {"side": direction, "groups": groups},
    });
    if let Some(port) = r.port {
        v["port"] = json!(port);
    }
    if let Some((t, c)) = r.icmp {
        v["icmpType"] = json!(t);
        v["icmpCode"] = json!(c);
    }
    v
}

/// Reads the dataplane's refusal log until the socket fails, writing a
/// line per refused packet; `labels` says what the node's rule set means
/// (asked once per datagram: refusals are rate-limited in the kernel).
pub fn follow(labels: impl Fn() -> FlowLabels) {
    let reader = match LogReader::open(LOG_GROUP) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("podsg-agent: refused connections will not be logged: {e}");
            return;
        }
    };
    let name_of = |index: u32| nix::net::if_::if_indextoname(index).ok().map(|n| n.to_string_lossy().into_owned());
    loop {
        match reader.next() {
            Ok(refused) if refused.is_empty() => {}
            Ok(refused) => {
                let labels = labels();
                for r in &refused {
                    eprintln!("{}", line(r, &labels, &name_of));
                }
            }
            Err(e) => {
                eprintln!("podsg-agent: reading refused connections: {e}");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_the_pod_whose_side_refused_and_its_peer() {
        let mut labels = FlowLabels::default();
        labels.pods.insert("pg0a".into(), "Pod/shop/db".into());
        labels.pods.insert("pg0b".into(), "Pod/shop/web".into());
        labels.sides.insert("in_00aa".into(), ("ingress", vec![podsg_model::group::SgId::parse("sg-0db").unwrap()]));
        labels.sides.insert("eg_00bb".into(), ("egress", vec![]));
        let names = |i: u32| match i {
            7 => Some("pg0a".to_string()),
            8 => Some("pg0b".to_string()),
            _ => None,
        };
        let r = Refused {
            prefix: "in_00aa".into(),
            indev: 8,
            outdev: 7,
            source: "10.244.1.2".parse().unwrap(),
            destination: "10.244.1.3".parse().unwrap(),
            protocol: 6,
            port: Some(8080),
            icmp: None,
        };
        let v = line(&r, &labels, &names);
        assert_eq!(
            (
                v["pod"].as_str(),
                v["direction"].as_str(),
                v["peer"].as_str(),
                v["port"].as_u64(),
                v["protocol"].as_str()
            ),
            (Some("Pod/shop/db"), Some("ingress"), Some("10.244.1.2"), Some(8080), Some("tcp"))
        );
        assert_eq!(v["refusedBy"], json!({"side": "ingress", "groups": ["sg-0db"]}));
        let out = line(
            &Refused { prefix: "eg_00bb".into(), protocol: 1, port: None, icmp: Some((8, 0)), ..r },
            &labels,
            &names,
        );
        assert_eq!(
            (out["pod"].as_str(), out["peer"].as_str(), out["icmpType"].as_u64()),
            (Some("Pod/shop/web"), Some("10.244.1.3"), Some(8))
        );
    }
}
