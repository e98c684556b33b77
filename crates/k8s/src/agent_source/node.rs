//! The node's own facts the agent reads once at start: its pod range
//! (`spec.podCIDRs`), which standalone mode gives pod addresses from.

use crate::error::Result;
use ipnet::{Ipv4Net, Ipv6Net};
use k8s_openapi::api::core::v1::Node;
use kube::Client;
use kube::api::Api;

/// The node's IPv4 pod range: the first IPv4 one of `spec.podCIDRs`, else
/// `spec.podCIDR`; `None` when it has none (a cluster whose CNI gives pods
/// VPC addresses, as EKS's does: podsg then runs chained).
pub fn pod_cidr_of(node: &Node) -> Option<Ipv4Net> {
    let spec = node.spec.as_ref()?;
    let listed = spec.pod_cidrs.iter().flatten();
    listed.chain(spec.pod_cidr.iter()).find_map(|c| c.parse::<Ipv4Net>().ok())
}

/// The node's IPv6 pod range (a dual-stack node's), the first in `spec.podCIDRs`.
pub fn pod_cidr6_of(node: &Node) -> Option<Ipv6Net> {
    let spec = node.spec.as_ref()?;
    let listed = spec.pod_cidrs.iter().flatten();
    listed.chain(spec.pod_cidr.iter()).find_map(|c| c.parse::<Ipv6Net>().ok())
}

/// Reads node `name` and its pod ranges: IPv4, and IPv6 when dual-stack.
pub async fn read_pod_cidr(client: Client, name: &str) -> Result<(Option<Ipv4Net>, Option<Ipv6Net>)> {
    let node = Api::<Node>::all(client).get(name).await?;
    Ok((pod_cidr_of(&node), pod_cidr6_of(&node)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(spec: serde_json::Value) -> Node {
        serde_json::from_value(serde_json::json!({"metadata": {"name": "n"}, "spec": spec})).unwrap()
    }

    #[test]
    fn the_first_ipv4_range_is_the_pod_range() {
        assert_eq!(pod_cidr_of(&node(serde_json::json!({}))), None);
        let dual = node(serde_json::json!({"podCIDR": "fd00::/64", "podCIDRs": ["fd00::/64", "10.244.3.0/24"]}));
        assert_eq!(pod_cidr_of(&dual), Some("10.244.3.0/24".parse().unwrap()));
        let old = node(serde_json::json!({"podCIDR": "10.244.1.0/24"}));
        assert_eq!(pod_cidr_of(&old), Some("10.244.1.0/24".parse().unwrap()));
        assert_eq!(pod_cidr_of(&node(serde_json::json!({"podCIDR": "fd00::/64"}))), None);
        assert_eq!(pod_cidr6_of(&dual), Some("fd00::/64".parse().unwrap()));
        assert_eq!(pod_cidr6_of(&old), None);
    }
}
