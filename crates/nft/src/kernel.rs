//! Reading the table back: `nft -j -n list table inet podsg` into a Layout.

use crate::element::{Element, Field};
use crate::error::{Error, Result};
use crate::layout::Layout;
use ipnet::IpNet;
use serde_json::Value;
use std::net::IpAddr;

fn field(v: &Value) -> Result<Field> {
    let bad = || Error::Json(format!("element field {v}"));
    match v {
        Value::Number(n) => {
            let n = u32::try_from(n.as_u64().ok_or_else(bad)?).map_err(|_| bad())?;
            Ok(Field::Range(n, n))
        }
        Value::String(s) => Ok(Field::Net(IpNet::from(s.parse::<IpAddr>().map_err(|_| bad())?))),
        Value::Object(o) if o.contains_key("range") => {
            let r = o["range"].as_array().filter(|r| r.len() == 2).ok_or_else(bad)?;
            match (field(&r[0])?, field(&r[1])?) {
                (Field::Range(lo, _), Field::Range(hi, _)) => Ok(Field::Range(lo, hi)),
                _ => Err(bad()),
            }
        }
        Value::Object(o) if o.contains_key("prefix") => {
            let p = &o["prefix"];
            let addr: IpAddr = p["addr"].as_str().and_then(|a| a.parse().ok()).ok_or_else(bad)?;
            let len = p["len"].as_u64().and_then(|l| u8::try_from(l).ok()).ok_or_else(bad)?;
            Ok(Field::Net(IpNet::new(addr, len).map_err(|_| bad())?))
        }
        // An element with options (timeout, comment) wraps its value.
        Value::Object(o) if o.contains_key("elem") => field(&o["elem"]["val"]),
        _ => Err(bad()),
    }
}

fn element(v: &Value) -> Result<Element> {
    match v {
        Value::Object(o) if o.contains_key("concat") => {
            let parts = o["concat"].as_array().ok_or_else(|| Error::Json(format!("concat {v}")))?;
            Ok(Element(parts.iter().map(field).collect::<Result<_>>()?))
        }
        Value::Object(o) if o.contains_key("elem") => element(&o["elem"]["val"]),
        other => Ok(Element(vec![field(other)?])),
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
            let name = c["name"].as_str().ok_or_else(|| Error::Json(format!("chain {c}")))?;
            layout.chains.entry(name.to_string()).or_insert(0);
        } else if let Some(r) = item.get("rule") {
            let chain = r["chain"].as_str().ok_or_else(|| Error::Json(format!("rule {r}")))?;
            *layout.chains.entry(chain.to_string()).or_insert(0) += 1;
        } else if let Some(s) = item.get("set") {
            let name = s["name"].as_str().ok_or_else(|| Error::Json(format!("set {s}")))?;
            let elements = s
                .get("elem")
                .and_then(Value::as_array)
                .map(|e| e.iter().map(element).collect::<Result<_>>())
                .transpose()?;
            layout.sets.insert(name.to_string(), elements.unwrap_or_default());
        } else if let Some(m) = item.get("map") {
            let name = m["name"].as_str().ok_or_else(|| Error::Json(format!("map {m}")))?;
            let mut entries = std::collections::BTreeMap::new();
            for pair in m.get("elem").and_then(Value::as_array).into_iter().flatten() {
                let key = pair[0].as_str().ok_or_else(|| Error::Json(format!("map key {pair}")))?;
                let verdict = &pair[1];
                let target = verdict["jump"]["target"].as_str().or_else(|| verdict["goto"]["target"].as_str());
                let target = target.ok_or_else(|| Error::Json(format!("map verdict {pair}")))?;
                entries.insert(key.to_string(), target.to_string());
            }
            layout.maps.insert(name.to_string(), entries);
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
          {"set": {"name": "eg4_a", "type": ["inet_proto", "inet_service", "ipv4_addr"], "elem": [
            {"concat": [{"range": [0, 5]}, {"range": [0, 65535]}, {"prefix": {"addr": "10.0.0.0", "len": 8}}]},
            {"concat": [6, 5432, "10.0.3.50"]}]}},
          {"set": {"name": "src4_a", "type": "ipv4_addr", "elem": ["10.9.0.1"]}},
          {"set": {"name": "src6_a", "type": "ipv6_addr"}},
          {"map": {"name": "from_pod", "type": "ifname", "map": "verdict", "elem": [["pga", {"jump": {"target": "eg_a"}}]]}},
          {"chain": {"name": "eg_a"}}, {"rule": {"chain": "eg_a"}}, {"rule": {"chain": "eg_a"}}]}"#;
        let layout = parse_table(json).unwrap().unwrap();
        let eg: Vec<String> = layout.sets["eg4_a"].iter().map(ToString::to_string).collect();
        assert_eq!(eg, vec!["0-5 . 0-65535 . 10.0.0.0/8", "6 . 5432 . 10.0.3.50"]);
        assert_eq!(layout.sets["src6_a"].len(), 0);
        assert_eq!(layout.maps["from_pod"]["pga"], "eg_a");
        assert_eq!(layout.chains["eg_a"], 2);
        assert_eq!(parse_table(r#"{"nftables": [{"metainfo": {}}]}"#).unwrap(), None);
    }
}
