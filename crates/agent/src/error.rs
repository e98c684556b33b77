//! The agent's errors, in its own terms. They become CNI errors (a code, a
//! message, details) in one place, `Error::to_cni`, when the answer goes
//! back over the socket.

use crate::ipam::IpamError;
use podsg_cni::error::{CniError, Code};
use podsg_model::group::SgId;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The pod is not in the desired state (not synced yet, or not there).
    #[error("pod {namespace}/{name} is not in podsg's desired state")]
    UnknownPod { namespace: String, name: String },
    /// Groups the pod carries do not exist.
    #[error("InvalidSecurityGroupID.NotFound: {} does not exist", list(.groups))]
    MissingGroups { namespace: String, name: String, groups: Vec<SgId> },
    /// The runtime did not say which pod (CNI_ARGS).
    #[error("CNI_ARGS must name the pod")]
    PodNotNamed,
    /// Standalone ADD without CNI_NETNS.
    #[error("CNI_NETNS is not set")]
    NoNetns,
    /// Chained ADD whose previous result has no host-side interface.
    #[error("prevResult has no host-side interface")]
    NoHostInterface,
    #[error("prevResult has an invalid address")]
    PrevResultAddress(String),
    /// Standalone ADD on a node without a pod range.
    #[error("this node has no pod address range")]
    NoPodRange,
    #[error("{0}")]
    Ipam(#[from] IpamError),
    /// The agent's attachment records could not be read or written.
    #[error("agent state I/O failed")]
    State(#[from] std::io::Error),
    #[error("the dataplane could not be programmed")]
    Dataplane(#[from] podsg_nft::Error),
    #[error("the pod interface could not be set up")]
    Wiring(#[from] podsg_netns::Error),
    /// CHECK for an attachment the agent does not have.
    #[error("no podsg attachment for this container")]
    UnknownAttachment { container_id: String, ifname: String },
    #[error("the pod's interface is missing")]
    InterfaceMissing { host_interface: String },
    #[error("the pod's address is missing")]
    AddressMissing { address: String, ifname: String, have: Vec<String> },
    /// CHECK found the kernel's rules differ from what they should be.
    #[error("the pod's rules are not all in place")]
    Drift(Vec<String>),
    #[error("the dataplane cannot be reached")]
    NotAvailable(String),
}

fn list(groups: &[SgId]) -> String {
    groups.iter().map(SgId::as_str).collect::<Vec<_>>().join(", ")
}

impl PartialEq for Error {
    /// Errors are equal when they say the same (sources compared by text).
    fn eq(&self, other: &Error) -> bool {
        let cni = |e: &Error| {
            let c = e.to_cni();
            (c.code, c.msg, c.details)
        };
        cni(self) == cni(other)
    }
}

impl Error {
    /// What the pod gets because of it, for the CNI error's details.
    pub fn consequence(&self) -> String {
        match self {
            Error::MissingGroups { namespace, name, .. } => {
                format!("pod {namespace}/{name} gets no network until its groups exist")
            }
            _ => "its security groups cannot be resolved, so it gets no network".into(),
        }
    }

    /// The CNI error the plugin reports (and kubelet shows in the pod's events).
    pub fn to_cni(&self) -> CniError {
        let (code, details) = match self {
            Error::UnknownPod { .. } | Error::MissingGroups { .. } => {
                return CniError::new(Code::GroupsUnresolved, self.to_string(), self.consequence());
            }
            Error::PodNotNamed => (Code::InvalidEnvironment, "K8S_POD_NAMESPACE and K8S_POD_NAME are required".into()),
            Error::NoNetns => (Code::InvalidEnvironment, "ADD needs it".into()),
            Error::NoHostInterface => (
                Code::InvalidConfig,
                "chained mode needs the previous plugin's host interface (one without a sandbox)".into(),
            ),
            Error::PrevResultAddress(e) => (Code::Decode, e.clone()),
            Error::NoPodRange => (
                Code::InvalidConfig,
                "standalone mode gives pods addresses from the agent's --pod-cidr or the Node's spec.podCIDR; \
                 set one, or chain podsg after the cluster's CNI"
                    .into(),
            ),
            Error::Ipam(e) => return ipam(e),
            Error::State(e) => (Code::Io, e.to_string()),
            Error::Dataplane(e) => (Code::Dataplane, e.to_string()),
            Error::Wiring(e) => (Code::Io, e.to_string()),
            Error::UnknownAttachment { container_id, ifname } => {
                (Code::UnknownContainer, format!("{container_id} on {ifname}"))
            }
            Error::InterfaceMissing { host_interface } => (Code::Io, format!("host interface {host_interface}")),
            Error::AddressMissing { address, ifname, have } => {
                (Code::Io, format!("{address}/32 on {ifname} (has {})", have.join(", ")))
            }
            Error::Drift(what) => (Code::Dataplane, what.join("; ")),
            Error::NotAvailable(e) => (Code::NotAvailable, e.clone()),
        };
        CniError::new(code, self.to_string(), details)
    }
}

fn ipam(e: &IpamError) -> CniError {
    match e {
        IpamError::Exhausted(range) => CniError::new(
            Code::AddressesExhausted,
            "no free pod address",
            format!("the node's pod range {range} is full"),
        ),
        IpamError::Taken { .. } | IpamError::Unusable { .. } => {
            CniError::new(Code::InvalidConfig, "the requested address cannot be given", e.to_string())
        }
        IpamError::Io { .. } => CniError::new(Code::Io, "address allocation failed", e.to_string()),
    }
}
