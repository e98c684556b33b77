//! Which MemberSlices an agent watches: those labelled with a group it
//! needs (`podsg.io/group in (…)`), or every slice when it needs so many
//! groups that the selector would be unwieldy (docs/membership.md).

use crate::crd::GROUP_LABEL;
use podsg_model::group::SgId;
use std::collections::BTreeSet;

/// Above this many groups an agent watches every slice: correct, only
/// costlier.
pub const MAX_SELECTED_GROUPS: usize = 200;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SliceSelector {
    /// No group is needed: no slice watch.
    Nothing,
    Groups(BTreeSet<SgId>),
    All,
}

impl SliceSelector {
    pub fn for_groups(groups: &BTreeSet<SgId>) -> SliceSelector {
        match groups.len() {
            0 => SliceSelector::Nothing,
            n if n > MAX_SELECTED_GROUPS => SliceSelector::All,
            _ => SliceSelector::Groups(groups.clone()),
        }
    }

    /// The label selector of the watch; `None` for every slice.
    pub fn label_selector(&self) -> Option<String> {
        match self {
            SliceSelector::Groups(groups) => {
                let ids: Vec<&str> = groups.iter().map(SgId::as_str).collect();
                Some(format!("{GROUP_LABEL} in ({})", ids.join(",")))
            }
            SliceSelector::Nothing | SliceSelector::All => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> BTreeSet<SgId> {
        (0..n).map(|i| SgId::parse(&format!("sg-{i:04}")).unwrap()).collect()
    }

    #[test]
    fn the_selector_names_the_groups_up_to_the_limit_then_takes_all() {
        assert_eq!(SliceSelector::for_groups(&ids(0)), SliceSelector::Nothing);
        let two = SliceSelector::for_groups(&ids(2));
        assert_eq!(two.label_selector().as_deref(), Some("podsg.io/group in (sg-0000,sg-0001)"));
        assert!(matches!(SliceSelector::for_groups(&ids(MAX_SELECTED_GROUPS)), SliceSelector::Groups(_)));
        let many = SliceSelector::for_groups(&ids(MAX_SELECTED_GROUPS + 1));
        assert_eq!(many, SliceSelector::All);
        assert_eq!(many.label_selector(), None);
    }
}
