//! Reading the table back: `nft -j -n list table inet podsg` into a Layout.

use crate::element::{Element, Field};
use crate::error::{Error, Result};
use crate::layout::{Layout, Map, MapKind, Set, SetKind, Verdict};
use ipnet::IpNet;
use serde_json::Value;
use std::net::IpAddr;

fn bad(what: &str, v: &Value) -> Error {
    Error::Json(format!("{what} {v}"))
}

/// What one field of a key is, from the set's declared type.
#[derive(Clone, Copy)]
enum FieldType {
    Number,
    Address { interval: bool },
    Name,
}

fn field_types(declared: &Value, interval: bool) -> Result<Vec<FieldType>> {
    let names: Vec<&str> = match declared {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => {
            a.iter().map(|t| t.as_str().ok_or_else(|| bad("set type", declared))).collect::<Result<_>>()?
        }
        _ => return Err(bad("set type", declared)),
    };
    Ok(names
        .into_iter()
        .map(|n| match n {
            "ipv4_addr" | "ipv6_addr" => FieldType::Address { interval },
            "ifname" => FieldType::Name,
            _ => FieldType::Number,
        })
        .collect())
}

fn number(v: &Value) -> Result<u32> {
    v.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or_else(|| bad("number", v))
}

fn address(v: &Value) -> Result<IpAddr> {
    v.as_str().and_then(|s| s.parse().ok()).ok_or_else(|| bad("address", v))
}

fn field(v: &Value, ty: FieldType) -> Result<Field> {
    let range = v.get("range").and_then(Value::as_array).filter(|r| r.len() == 2);
    match ty {
        FieldType::Number => match range {
            Some(r) => Ok(Field::Num(number(&r[0])?, number(&r[1])?)),
            None => number(v).map(|n| Field::Num(n, n)),
        },
        FieldType::Name => v.as_str().map(|s| Field::Name(s.to_string())).ok_or_else(|| bad("name", v)),
        FieldType::Address { interval } => {
            if let Some(r) = range {
                return Ok(Field::Addrs(address(&r[0])?, address(&r[1])?));
            }
            if let Some(p) = v.get("prefix") {
                let len = p["len"].as_u64().and_then(|l| u8::try_from(l).ok()).ok_or_else(|| bad("prefix", v))?;
                let net = IpNet::new(address(&p["addr"])?, len).map_err(|_| bad("prefix", v))?;
                return Ok(Field::Addrs(net.network(), net.broadcast()));
            }
            let a = address(v)?;
            Ok(if interval { Field::Addrs(a, a) } else { Field::Addr(a) })
        }
    }
}

fn element(v: &Value, types: &[FieldType]) -> Result<Element> {
    // An element with options (timeout, comment) wraps its value.
    if let Some(inner) = v.get("elem") {
        return element(&inner["val"], types);
    }
    match v.get("concat").and_then(Value::as_array) {
        Some(parts) if parts.len() == types.len() => {
            Ok(Element(parts.iter().zip(types).map(|(p, t)| field(p, *t)).collect::<Result<_>>()?))
        }
        Some(_) => Err(bad("concatenation", v)),
        None if types.len() == 1 => Ok(Element::one(field(v, types[0])?)),
        None => Err(bad("element", v)),
    }
}

fn verdict(v: &Value) -> Result<Verdict> {
    if let Some(t) = v["jump"]["target"].as_str() {
        return Ok(Verdict::Jump(t.into()));
    }
    v["goto"]["target"].as_str().map(|t| Verdict::Goto(t.into())).ok_or_else(|| bad("map verdict", v))
}

fn is_interval(o: &Value) -> bool {
    o.get("flags").and_then(Value::as_array).is_some_and(|f| f.iter().any(|x| x == "interval"))
}

fn set_kind(o: &Value) -> Result<SetKind> {
    let family = |t: &str| match t {
        "ipv4_addr" => Some(false),
        "ipv6_addr" => Some(true),
        _ => None,
    };
    let ty = &o["type"];
    // A set whose elements carry counters says so in its statements.
    let counted = o.get("stmt").and_then(Value::as_array).is_some_and(|s| s.iter().any(|x| x.get("counter").is_some()));
    match ty {
        Value::String(t) if t == "ifname" => Ok(if counted { SetKind::Counted } else { SetKind::Interfaces }),
        Value::String(t) => {
            let v6 = family(t).ok_or_else(|| bad("set type", ty))?;
            Ok(if is_interval(o) { SetKind::Ranges { v6 } } else { SetKind::Addr { v6 } })
        }
        Value::Array(a) if a.len() == 2 && a[0] == "ifname" => {
            let v6 = a[1].as_str().and_then(family).ok_or_else(|| bad("set type", ty))?;
            Ok(SetKind::Sources { v6 })
        }
        _ => Err(bad("set type", ty)),
    }
}

fn map_kind(o: &Value) -> Result<MapKind> {
    let ty = &o["type"];
    let names: Vec<&str> = match ty {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    match names.as_slice() {
        ["ifname"] => Ok(MapKind::Interface),
        ["nf_proto"] => Ok(MapKind::Family),
        ["ipv4_addr"] => Ok(MapKind::Addr { v6: false }),
        ["ipv6_addr"] => Ok(MapKind::Addr { v6: true }),
        ["inet_proto", "inet_service"] => Ok(MapKind::Ports),
        ["icmp_type", "icmp_code"] => Ok(MapKind::Icmp { v6: false }),
        ["icmpv6_type", "icmpv6_code"] => Ok(MapKind::Icmp { v6: true }),
        _ => Err(bad("map type", ty)),
    }
}

/// Parses the JSON listing of the table; `None` when the output has no table.
pub fn parse_table(json: &str) -> Result<Option<Layout>> {
    let root: Value = serde_json::from_str(json).map_err(|e| Error::Json(e.to_string()))?;
    let items = root["nftables"].as_array().ok_or_else(|| Error::Json("no nftables array".into()))?;
    let mut layout = Layout::default();
    let mut table = false;
    for item in items {
        if item.get("table").is_some() {
            table = true;
        } else if let Some(c) = item.get("chain") {
            let name = c["name"].as_str().ok_or_else(|| bad("chain", c))?;
            layout.chains.entry(name.to_string()).or_default();
        } else if let Some(r) = item.get("rule") {
            let chain = r["chain"].as_str().ok_or_else(|| bad("rule", r))?;
            layout.chains.entry(chain.to_string()).or_default().push(String::new());
        } else if let Some(s) = item.get("set") {
            let name = s["name"].as_str().ok_or_else(|| bad("set", s))?;
            let types = field_types(&s["type"], is_interval(s))?;
            let elements = s
                .get("elem")
                .and_then(Value::as_array)
                .map(|e| e.iter().map(|v| element(v, &types)).collect::<Result<_>>())
                .transpose()?
                .unwrap_or_default();
            layout.sets.insert(name.to_string(), Set { kind: set_kind(s)?, elements });
        } else if let Some(m) = item.get("map") {
            let name = m["name"].as_str().ok_or_else(|| bad("map", m))?;
            let types = field_types(&m["type"], is_interval(m))?;
            let mut entries = std::collections::BTreeMap::new();
            for pair in m.get("elem").and_then(Value::as_array).into_iter().flatten() {
                let pair = pair.as_array().filter(|p| p.len() == 2).ok_or_else(|| bad("map element", pair))?;
                entries.insert(element(&pair[0], &types)?, verdict(&pair[1])?);
            }
            layout.maps.insert(name.to_string(), Map { kind: map_kind(m)?, entries });
        }
    }
    Ok(table.then_some(layout))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_nft_prints() {
        let json = r#"{"nftables": [{"metainfo": {"version": "1.0.6"}}, {"table": {"family": "inet", "name": "podsg"}},
          {"set": {"name": "eg_a_p_6_6_5432_5432_n4", "type": "ipv4_addr", "flags": ["interval"], "elem": [
            {"prefix": {"addr": "10.0.0.0", "len": 8}}, {"range": ["192.168.0.1", "192.168.0.3"]}, "172.16.0.1"]}},
          {"set": {"name": "sources4", "type": ["ifname", "ipv4_addr"], "elem": [{"concat": ["pga", "10.9.0.1"]}]}},
          {"set": {"name": "src6_a", "type": "ipv6_addr"}},
          {"map": {"name": "from_pod", "type": "ifname", "map": "verdict", "elem": [["pga", {"jump": {"target": "fr_a"}}]]}},
          {"map": {"name": "eg_a_p", "type": ["inet_proto", "inet_service"], "map": "verdict", "flags": ["interval"],
            "elem": [[{"concat": [6, {"range": [5000, 5431]}]}, {"goto": {"target": "eg_a_p_6_6_5000_5431"}}]]}},
          {"chain": {"name": "fr_a"}}, {"rule": {"chain": "fr_a"}}, {"rule": {"chain": "fr_a"}}]}"#;
        let layout = parse_table(json).unwrap().unwrap();
        let n4: Vec<String> = layout.sets["eg_a_p_6_6_5432_5432_n4"].elements.iter().map(ToString::to_string).collect();
        assert_eq!(n4, vec!["10.0.0.0-10.255.255.255", "172.16.0.1", "192.168.0.1-192.168.0.3"]);
        assert_eq!(layout.sets["eg_a_p_6_6_5432_5432_n4"].kind, SetKind::Ranges { v6: false });
        assert_eq!(layout.sets["src6_a"].elements.len(), 0);
        let sources = &layout.sets["sources4"];
        assert_eq!(sources.kind, SetKind::Sources { v6: false });
        assert_eq!(sources.elements.iter().map(ToString::to_string).collect::<Vec<_>>(), vec!["\"pga\" . 10.9.0.1"]);
        let from_pod = &layout.maps["from_pod"].entries;
        assert_eq!(from_pod[&Element::one(Field::Name("pga".into()))], Verdict::Jump("fr_a".into()));
        let ports = &layout.maps["eg_a_p"];
        assert_eq!(ports.kind, MapKind::Ports);
        let (key, target) = ports.entries.iter().next().unwrap();
        assert_eq!((key.to_string(), target.to_string()), ("6 . 5000-5431".into(), "goto eg_a_p_6_6_5000_5431".into()));
        assert_eq!(layout.chains["fr_a"].len(), 2);
        assert_eq!(parse_table(r#"{"nftables": [{"metainfo": {}}]}"#).unwrap(), None);
    }
}
