//! The agent's errors. They say what went wrong in the agent's own terms;
//! the agent's CNI operations map them to CNI error codes (`unresolved` in
//! agent.rs), nowhere else.

use podsg_model::group::SgId;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The pod is not in the desired state (not synced yet, or not there).
    #[error("pod {namespace}/{name} is not in podsg's desired state")]
    UnknownPod { namespace: String, name: String },
    /// Groups the pod carries do not exist.
    #[error("InvalidSecurityGroupID.NotFound: {} does not exist", list(.groups))]
    MissingGroups { namespace: String, name: String, groups: Vec<SgId> },
}

fn list(groups: &[SgId]) -> String {
    groups.iter().map(SgId::as_str).collect::<Vec<_>>().join(", ")
}

impl Error {
    /// What the pod gets because of it, for the CNI error's details.
    pub fn consequence(&self) -> String {
        match self {
            Error::UnknownPod { .. } => "its security groups cannot be resolved, so it gets no network".into(),
            Error::MissingGroups { namespace, name, .. } => {
                format!("pod {namespace}/{name} gets no network until its groups exist")
            }
        }
    }
}
