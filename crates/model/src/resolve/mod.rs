//! Pod to security groups: which SGPs select a pod, and the groups it carries.

mod index;

pub use index::{PodFacts, PolicyIndex};

use crate::group::SgId;
use serde::Serialize;

/// The groups a pod carries, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resolution {
    pub groups: Vec<SgId>,
    pub source: GroupSource,
    /// The pod's service account is not known, so serviceAccountSelectors
    /// were matched against no labels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown_service_account: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind", content = "policies")]
pub enum GroupSource {
    /// Selected by these SGPs (names, in the order their groups were taken).
    Policies(Vec<String>),
    /// No SGP selects the pod: it carries the cluster's default groups.
    Default,
    /// No SGP selects the pod and no default groups are configured: nothing
    /// restricts it (the shipped default).
    Unrestricted,
    /// A hostNetwork pod uses the node's address and the node's groups.
    HostNetwork,
    /// `sgpAppliesTo: new-pods`: the pod keeps the groups recorded when an
    /// SGP first selected it (its `vpc.amazonaws.com/pod-eni` annotation),
    /// whatever the SGPs say now; these are the SGPs that select it now.
    Kept(Vec<String>),
}

impl Resolution {
    pub fn is_restricted(&self) -> bool {
        matches!(self.source, GroupSource::Policies(_) | GroupSource::Default | GroupSource::Kept(_))
    }

    /// The SGPs that select the pod now, whether or not it carries their
    /// groups.
    pub fn policies(&self) -> &[String] {
        match &self.source {
            GroupSource::Policies(names) | GroupSource::Kept(names) => names,
            _ => &[],
        }
    }

    /// With `sgpAppliesTo: new-pods`, a pod that holds a record of its
    /// groups keeps them; a hostNetwork pod has none of its own.
    pub fn kept(self, recorded: Option<Vec<SgId>>) -> Resolution {
        match recorded {
            Some(groups) if self.source != GroupSource::HostNetwork => {
                let policies = self.policies().to_vec();
                Resolution { groups, source: GroupSource::Kept(policies), ..self }
            }
            _ => self,
        }
    }
}
