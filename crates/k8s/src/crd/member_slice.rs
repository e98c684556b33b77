//! MemberSlice (`podsg.io/v1alpha1`, cluster-scoped): up to 100 of one
//! group's member addresses, written by the controller and watched by the
//! agents that need the group (docs/membership.md). Named
//! `<group>-<number>` and labelled with the group, so that an agent selects
//! the slices of its groups by label.

use kube::CustomResource;
use podsg_model::group::SgId;
use podsg_model::slices::{parse_slice_name, slice_name};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::net::IpAddr;

/// The label that names a slice's group.
pub const GROUP_LABEL: &str = "podsg.io/group";

#[derive(CustomResource, Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[kube(
    group = "podsg.io",
    version = "v1alpha1",
    kind = "MemberSlice",
    doc = "Member addresses of one security group, written by the podsg controller for the node agents.",
    printcolumn = r#"{"name":"Group","type":"string","jsonPath":".metadata.labels.podsg\\.io/group"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct MemberSliceSpec {
    /// Addresses that carry the group: pods', external members', and
    /// nodes' for default groups.
    #[schemars(length(max = 1000))]
    pub addresses: BTreeSet<IpAddr>,
}

impl MemberSlice {
    /// Slice `index` of `group` with these addresses, as the controller
    /// applies it.
    pub fn of(group: &SgId, index: u32, addresses: BTreeSet<IpAddr>) -> MemberSlice {
        let mut slice = MemberSlice::new(&slice_name(group, index), MemberSliceSpec { addresses });
        slice.metadata.labels = Some([(GROUP_LABEL.to_string(), group.to_string())].into());
        slice
    }

    /// The group and the number its name and label give, when they agree.
    pub fn identity(&self) -> Option<(SgId, u32)> {
        let (group, index) = parse_slice_name(self.metadata.name.as_deref()?)?;
        let label = self.metadata.labels.as_ref()?.get(GROUP_LABEL)?;
        (label == group.as_str()).then_some((group, index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slice_names_its_group_twice_and_both_must_agree() {
        let g = SgId::parse("sg-0a7f3c9e2b1d48502").unwrap();
        let slice = MemberSlice::of(&g, 3, ["10.0.0.1".parse().unwrap()].into());
        assert_eq!(slice.metadata.name.as_deref(), Some("sg-0a7f3c9e2b1d48502-3"));
        assert_eq!(slice.identity(), Some((g.clone(), 3)));
        let mut other = slice.clone();
        other.metadata.labels = Some([(GROUP_LABEL.to_string(), "sg-0b".to_string())].into());
        assert_eq!(other.identity(), None, "label and name disagree");
        let mut unnumbered = slice.clone();
        unnumbered.metadata.name = Some("sg-0a7f3c9e2b1d48502-x".into());
        assert_eq!(unnumbered.identity(), None);
        let json = serde_json::to_value(&slice).unwrap();
        assert_eq!(json["spec"]["addresses"], serde_json::json!(["10.0.0.1"]));
    }
}
