//! What the controller asks of the API server. Planned by `State` (pure),
//! carried out by `writer` (the only code here that talks to the API).

use crate::crd::{SecurityGroupPolicyStatus, SecurityGroupStatus};
use crate::sgp_api::SgpApi;
use podsg_model::group::SgId;
use std::collections::BTreeSet;
use std::net::IpAddr;

#[derive(Clone, Debug, PartialEq)]
pub enum Write {
    /// Sets (`Some`) or removes the pod's `vpc.amazonaws.com/pod-eni`, only
    /// if the pod still has `uid`.
    PodAnnotation {
        namespace: String,
        name: String,
        uid: String,
        value: Option<String>,
    },
    /// An event on a pod.
    PodEvent {
        namespace: String,
        name: String,
        uid: String,
        event: PodEvent,
    },
    PolicyStatus {
        api: SgpApi,
        namespace: String,
        name: String,
        status: SecurityGroupPolicyStatus,
    },
    GroupStatus {
        name: String,
        status: SecurityGroupStatus,
    },
    /// Creates or replaces slice `index` of `group`.
    PutSlice {
        group: SgId,
        index: u32,
        addresses: BTreeSet<IpAddr>,
    },
    /// Deletes a MemberSlice.
    DeleteSlice {
        name: String,
    },
}

impl Write {
    /// The metric label of its kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Write::PodAnnotation { .. } => "pod_annotation",
            Write::PodEvent { .. } => "pod_event",
            Write::PolicyStatus { .. } => "policy_status",
            Write::GroupStatus { .. } => "group_status",
            Write::PutSlice { .. } => "put_slice",
            Write::DeleteSlice { .. } => "delete_slice",
        }
    }
}

/// An event with EKS's reasons, so that what users grep for still works.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PodEvent {
    pub warning: bool,
    pub reason: &'static str,
    pub message: String,
}

impl PodEvent {
    /// Before the pod's groups are written.
    pub fn requested(groups: &[impl std::fmt::Display]) -> PodEvent {
        let groups: Vec<String> = groups.iter().map(ToString::to_string).collect();
        PodEvent {
            warning: false,
            reason: "SecurityGroupRequested",
            message: format!("Pod will get the following Security Groups [{}]", groups.join(" ")),
        }
    }

    /// After the annotation is written.
    pub fn allocated(annotation: &str) -> PodEvent {
        PodEvent { warning: false, reason: "ResourceAllocated", message: format!("Allocated {annotation} to the pod") }
    }

    /// The pod's groups cannot be given: it gets no network (fail closed).
    pub fn failed(reasons: &[String]) -> PodEvent {
        PodEvent { warning: true, reason: "BranchAllocationFailed", message: reasons.join("; ") }
    }
}
