//! Reading what the dataplane counted: new connections per pod interface,
//! direction and outcome (the counting sets' element counters), and per
//! cell chain what its rules allowed (the counters of its `return` rules).
//! Read from `nft -j -t list table` (rules without set contents) and the
//! four small counting sets, so a read costs the same at 100,000 members.

use crate::error::{Error, Result};
use crate::names::COUNTED;
use serde_json::Value;
use std::collections::BTreeMap;

/// New connections of one pod interface.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub egress_allowed: u64,
    pub egress_denied: u64,
    pub ingress_allowed: u64,
    pub ingress_denied: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub interfaces: BTreeMap<String, Counts>,
    /// Per cell chain: new connections its rules allowed.
    pub cells: BTreeMap<String, u64>,
}

fn json(doc: &str) -> Result<Vec<Value>> {
    let root: Value = serde_json::from_str(doc).map_err(|e| Error::Json(e.to_string()))?;
    root["nftables"].as_array().cloned().ok_or_else(|| Error::Json("no nftables array".into()))
}

/// `docs`: the terse table listing, then each counting set's listing.
pub fn parse_counters(docs: &[String]) -> Result<Counters> {
    let mut out = Counters::default();
    for doc in docs {
        for item in json(doc)? {
            if let Some(rule) = item.get("rule") {
                let chain = rule["chain"].as_str().unwrap_or_default();
                let packets: u64 = rule["expr"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e.get("counter").and_then(|c| c["packets"].as_u64()))
                    .sum();
                let counted = rule["expr"].as_array().into_iter().flatten().any(|e| e.get("counter").is_some());
                if counted {
                    *out.cells.entry(chain.to_string()).or_default() += packets;
                }
            }
            if let Some(set) = item.get("set") {
                let name = set["name"].as_str().unwrap_or_default();
                let Some(&(_, egress, allowed)) = COUNTED.iter().find(|(n, _, _)| *n == name) else { continue };
                for e in set["elem"].as_array().into_iter().flatten() {
                    let (Some(interface), Some(packets)) =
                        (e["elem"]["val"].as_str(), e["elem"]["counter"]["packets"].as_u64())
                    else {
                        return Err(Error::Json(format!("counting set {name}: element {e}")));
                    };
                    let c = out.interfaces.entry(interface.to_string()).or_default();
                    *match (egress, allowed) {
                        (true, true) => &mut c.egress_allowed,
                        (true, false) => &mut c.egress_denied,
                        (false, true) => &mut c.ingress_allowed,
                        (false, false) => &mut c.ingress_denied,
                    } = packets;
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_come_from_set_elements_and_counted_rules() {
        let table = r#"{"nftables": [{"metainfo": {}}, {"table": {"family": "inet", "name": "podsg"}},
            {"rule": {"chain": "in_00aa_p_6_6_80_80_s1", "expr": [{"match": {"right": "@in_00aa_p_6_6_80_80_s1_h4"}}, {"counter": {"packets": 3, "bytes": 180}}, {"return": null}]}},
            {"rule": {"chain": "in_00aa_p_6_6_80_80_s1", "expr": [{"match": {"right": "@in_00aa_p_6_6_80_80_s1_h6"}}, {"counter": {"packets": 2, "bytes": 160}}, {"return": null}]}},
            {"rule": {"chain": "in_00aa_p_6_6_80_80_s1", "expr": [{"drop": null}]}}]}"#;
        let set = |name: &str, pairs: &[(&str, u64)]| {
            let elems: Vec<String> = pairs
                .iter()
                .map(|(i, n)| format!(r#"{{"elem": {{"val": "{i}", "counter": {{"packets": {n}, "bytes": 0}}}}}}"#))
                .collect();
            format!(
                r#"{{"nftables": [{{"set": {{"name": "{name}", "type": "ifname", "elem": [{}]}}}}]}}"#,
                elems.join(",")
            )
        };
        let docs = vec![
            table.to_string(),
            set("eg_ok", &[("pga", 7), ("pgb", 0)]),
            set("eg_no", &[("pga", 1)]),
            set("in_ok", &[("pgb", 5)]),
            set("in_no", &[]),
        ];
        let c = parse_counters(&docs).unwrap();
        assert_eq!(c.cells, BTreeMap::from([("in_00aa_p_6_6_80_80_s1".to_string(), 5)]));
        assert_eq!(
            c.interfaces["pga"],
            Counts { egress_allowed: 7, egress_denied: 1, ingress_allowed: 0, ingress_denied: 0 }
        );
        assert_eq!(c.interfaces["pgb"], Counts { ingress_allowed: 5, ..Counts::default() });
        let broken =
            vec![r#"{"nftables": [{"set": {"name": "eg_ok", "elem": [{"elem": {"val": "pga"}}]}}]}"#.to_string()];
        assert!(parse_counters(&broken).unwrap_err().to_string().contains("counting set eg_ok"));
    }
}
