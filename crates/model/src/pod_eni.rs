//! The annotation `vpc.amazonaws.com/pod-eni` that the controller writes on
//! each pod an SGP selects: EKS's JSON array of interfaces, plus the groups
//! podsg resolved. EKS's tools read it, so its field names are EKS's; `vlanID`
//! (an older spelling) is read as `vlanId`.
//!
//! With the node backend there is no branch interface: the one entry
//! describes the pod's veth as the pod sees it (its address as `privateIp`,
//! a host route as `subnetCidr`, no VLAN); `eniId` and `ifAddress` are left
//! out until an agent that knows the interface fills them.

use crate::group::SgId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// The annotation's key.
pub const POD_ENI: &str = "vpc.amazonaws.com/pod-eni";

/// One interface of a pod.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodEni {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eni_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_ip: Option<IpAddr>,
    #[serde(default, alias = "vlanID", skip_serializing_if = "Option::is_none")]
    pub vlan_id: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_cidr: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_groups: Vec<String>,
}

/// What the node backend writes for a pod with `groups` and `addresses`.
pub fn for_veth(groups: &[SgId], addresses: &[IpAddr]) -> Vec<PodEni> {
    let address = addresses.first().copied();
    vec![PodEni {
        private_ip: address,
        subnet_cidr: address.map(|a| format!("{a}/{}", if a.is_ipv4() { 32 } else { 128 })),
        security_groups: groups.iter().map(ToString::to_string).collect(),
        ..PodEni::default()
    }]
}

/// The annotation's text.
pub fn render(interfaces: &[PodEni]) -> String {
    serde_json::to_string(interfaces).expect("plain data serializes")
}

/// Reads the annotation; the error names what is wrong with it.
pub fn parse(text: &str) -> Result<Vec<PodEni>, String> {
    serde_json::from_str(text).map_err(|e| format!("annotation {POD_ENI} is not a JSON array of interfaces: {e}"))
}

/// The groups the annotation gives, in order, de-duplicated; `None` when it
/// cannot be read.
pub fn groups(text: &str) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for g in parse(text).ok()?.into_iter().flat_map(|i| i.security_groups) {
        if !out.contains(&g) {
            out.push(g);
        }
    }
    Some(out)
}

/// The groups the controller recorded on a pod (the `securityGroups` of
/// its annotation), when there are any and every one is a group ID. With
/// `sgpAppliesTo: new-pods` a pod keeps these for its life. An annotation
/// that records no groups (EKS's own records none) or cannot be read pins
/// nothing: the pod is resolved from its SGPs, and the controller writes
/// the record again.
pub fn recorded_groups(annotations: &BTreeMap<String, String>) -> Option<Vec<SgId>> {
    let groups = groups(annotations.get(POD_ENI)?)?;
    let ids: Vec<SgId> = groups.iter().map(|g| SgId::parse(g)).collect::<Result<_, _>>().ok()?;
    (!ids.is_empty()).then_some(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_eks_writes() {
        let eks = r#"[{"eniId":"eni-0bf8102e8bf0fa369","ifAddress":"02:78:59:8f:ee:b2","privateIp":"10.243.50.203","vlanId":1,"subnetCidr":"10.243.48.0/20"}]"#;
        let read = parse(eks).unwrap();
        assert_eq!(read[0].eni_id.as_deref(), Some("eni-0bf8102e8bf0fa369"));
        assert_eq!(read[0].vlan_id, Some(1));
        assert_eq!(render(&read), eks, "written back unchanged");
        let old = parse(r#"[{"vlanID":7}]"#).unwrap();
        assert_eq!(old[0].vlan_id, Some(7), "vlanID is read as vlanId");
    }

    #[test]
    fn the_node_backend_describes_the_veth() {
        let groups = [SgId::parse("sg-1").unwrap(), SgId::parse("sg-2").unwrap()];
        let text = render(&for_veth(&groups, &["10.0.0.5".parse().unwrap()]));
        assert_eq!(text, r#"[{"privateIp":"10.0.0.5","subnetCidr":"10.0.0.5/32","securityGroups":["sg-1","sg-2"]}]"#);
        assert_eq!(groups_of(&text), ["sg-1", "sg-2"]);
        let pending = render(&for_veth(&groups[..1], &[]));
        assert_eq!(pending, r#"[{"securityGroups":["sg-1"]}]"#, "no address yet: the groups only");
        let v6 = for_veth(&groups[..1], &["fd00::5".parse().unwrap()]);
        assert_eq!(v6[0].subnet_cidr.as_deref(), Some("fd00::5/128"));
    }

    #[test]
    fn bad_annotations_are_named() {
        for bad in ["", "{}", "[1]", r#"[{"vlanId":"x"}]"#] {
            let e = parse(bad).unwrap_err();
            assert!(e.starts_with("annotation vpc.amazonaws.com/pod-eni is not"), "{e}");
            assert_eq!(groups(bad), None);
        }
    }

    #[test]
    fn only_a_readable_record_of_groups_pins_a_pod() {
        let with = |text: &str| BTreeMap::from([(POD_ENI.to_string(), text.to_string())]);
        let recorded = recorded_groups(&with(r#"[{"securityGroups":["sg-1","sg-2","sg-1"]}]"#));
        assert_eq!(recorded.unwrap().iter().map(SgId::as_str).collect::<Vec<_>>(), ["sg-1", "sg-2"]);
        let eks = r#"[{"eniId":"eni-0bf8102e8bf0fa369","privateIp":"10.243.50.203","vlanId":1}]"#;
        for unpinned in [eks, r#"[{"securityGroups":[]}]"#, r#"[{"securityGroups":["sg-1","web"]}]"#, "{", "[]"] {
            assert_eq!(recorded_groups(&with(unpinned)), None, "{unpinned}");
        }
        assert_eq!(recorded_groups(&BTreeMap::new()), None);
    }

    fn groups_of(text: &str) -> Vec<String> {
        groups(text).unwrap()
    }
}
