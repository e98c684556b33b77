//! Where a pod's groups are enforced: the seam between the agent's CNI
//! operations and a way of enforcing. The first backend is the node's own
//! kernel (`veth`: a routed veth or the previous plugin's interface, and
//! nftables); the aws backend's branch ENIs with EC2 security groups fit
//! the same five steps.

mod veth;

pub use veth::VethNft;

use crate::attachments::Record;
use crate::error::Result;
use podsg_cni::result::CniResult;
use podsg_model::dataplane::NodeRuleset;
use podsg_nft::SyncReport;

pub trait Backend {
    /// Gives the pod its interface (standalone), or adopts the one the
    /// previous plugin made (chained). Called after `enforce` has put the
    /// pod's rules in place: the pod is never up without them.
    fn attach(&mut self, record: &Record) -> Result<()>;
    /// Takes away what `attach` made; what is already gone is fine.
    /// `record` is `None` when only the attachment's name is known.
    fn detach(&mut self, record: Option<&Record>, container_id: &str, ifname: &str) -> Result<()>;
    /// Brings the enforcement to the rule set of every attachment.
    fn enforce(&mut self, ruleset: &NodeRuleset) -> Result<SyncReport>;
    /// Repairs changes made behind podsg's back (`full`: read everything back).
    fn repair(&mut self, ruleset: &NodeRuleset, full: bool) -> Result<SyncReport>;
    /// That the attachment is as it should be (CNI CHECK).
    fn check(&mut self, record: &Record, netns: &str, ruleset: &NodeRuleset) -> Result<()>;
    /// The CNI result of an attachment.
    fn result(&self, record: &Record, prev: Option<&CniResult>) -> CniResult;
    /// Removes interfaces no attachment in `records` owns (CNI GC).
    fn collect_garbage(&mut self, records: &[&Record]) -> Result<()>;
    /// Whether enforcement can be reached (CNI STATUS).
    fn ready(&self) -> Result<()>;
    /// What the dataplane counted (new connections per pod and per rule cell).
    fn counters(&self) -> Result<podsg_nft::Counters>;
}
