use super::{Endpoint, Role};
use crate::flow::Service;
use crate::group::{Direction, Peer, SecurityGroup, SgId};
use crate::settings::EnforcingMode;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Allow,
    Deny,
    /// The answer depends on an address podsg does not know.
    Unknown,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Decision::Allow => "allow",
            Decision::Deny => "deny",
            Decision::Unknown => "unknown",
        })
    }
}

/// The rule that allowed (or might allow) one side of a flow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleMatch {
    pub group: SgId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    pub direction: Direction,
    /// Index of the rule in the group's `ingress` or `egress` list.
    pub index: usize,
    /// The rule, e.g. `tcp 5432 from sg-0123`.
    pub rule: String,
    /// The peer of the rule that matched, e.g. `sg-0123` or `10.0.0.0/16`.
    pub peer: String,
}

impl RuleMatch {
    /// `sg-… (NAME) ingress[0]: tcp 5432 from sg-…`
    pub fn describe(&self) -> String {
        let group = match &self.group_name {
            Some(n) => format!("{} ({n})", self.group),
            None => self.group.to_string(),
        };
        format!("{group} {}[{}]: {}", self.direction, self.index, self.rule)
    }
}

/// What one side (the source's egress or the destination's ingress) says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "result")]
pub enum SideVerdict {
    Allowed(RuleMatch),
    /// No rule of these groups allows the flow.
    Denied {
        groups: Vec<SgId>,
    },
    /// This rule allows the flow if `unknown` holds.
    Unknown {
        #[serde(flatten)]
        rule: RuleMatch,
        unknown: String,
    },
    /// This side is not checked, and why.
    NotEnforced {
        reason: String,
    },
    /// No known rule allows it, and these groups of the side are declared
    /// `outside`: their rules are not in the manifests.
    RulesNotKnown {
        groups: Vec<SgId>,
    },
    /// The packet cannot open a connection (an echo reply): dropped unless
    /// it answers one that conntrack tracks.
    NotNew {
        reason: String,
    },
}

impl SideVerdict {
    /// The side's answer in a line, with group IDs (no catalog at hand).
    pub fn summary(&self) -> String {
        let ids = |groups: &[SgId]| groups.iter().map(SgId::as_str).collect::<Vec<_>>().join(", ");
        match self {
            SideVerdict::Allowed(m) => format!("allowed by {}", m.describe()),
            SideVerdict::Denied { groups } if groups.is_empty() => "denied: no groups allow it".into(),
            SideVerdict::Denied { groups } => format!("denied: no rule of {} allows it", ids(groups)),
            SideVerdict::Unknown { rule, unknown } => {
                format!("unknown: {} allows it only if {unknown}", rule.describe())
            }
            SideVerdict::NotEnforced { reason } => format!("not checked: {reason}"),
            SideVerdict::RulesNotKnown { groups } => {
                format!("unknown: the rules of {} are not in the manifests", ids(groups))
            }
            SideVerdict::NotNew { reason } => format!("dropped: {reason}"),
        }
    }

    pub fn decision(&self) -> Decision {
        match self {
            SideVerdict::Allowed(_) | SideVerdict::NotEnforced { .. } => Decision::Allow,
            SideVerdict::Denied { .. } | SideVerdict::NotNew { .. } => Decision::Deny,
            SideVerdict::Unknown { .. } | SideVerdict::RulesNotKnown { .. } => Decision::Unknown,
        }
    }
}

/// Who enforces one side of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Enforcer {
    /// podsg, on the node of the pod involved.
    Podsg,
    /// The cloud's own security groups: an external member's groups for
    /// traffic that does not come from a pod (or that it sends itself).
    Cloud,
    /// Nobody: the side is not checked.
    None,
}

impl Enforcer {
    pub fn describe(self) -> &'static str {
        match self {
            Enforcer::Podsg => "enforced by podsg on the pod's node",
            Enforcer::Cloud => {
                "enforced by the cloud's security groups, not by podsg: this traffic does not pass a podsg node"
            }
            Enforcer::None => "not enforced",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    pub verdict: Decision,
    pub service: Service,
    pub mode: EnforcingMode,
    /// The source's egress rules.
    pub egress: SideVerdict,
    /// The destination's ingress rules.
    pub ingress: SideVerdict,
    pub egress_enforcer: Enforcer,
    pub ingress_enforcer: Enforcer,
}

impl Verdict {
    /// The decision of the sides `enforcer` enforces (the others allow):
    /// what a podsg node's kernel does with the flow, for `Enforcer::Podsg`.
    pub fn decision_by(&self, enforcer: Enforcer) -> Decision {
        let side = |v: &SideVerdict, by: Enforcer| if by == enforcer { v.decision() } else { Decision::Allow };
        combine(side(&self.egress, self.egress_enforcer), side(&self.ingress, self.ingress_enforcer))
    }
}

/// Evaluates flows against a set of groups.
#[derive(Clone, Debug)]
pub struct Engine<'a> {
    /// Hashed once per engine: a lookup per group per flow is the hot path.
    groups: HashMap<&'a str, &'a SecurityGroup>,
    mode: EnforcingMode,
}

const STANDARD_MODE: &str = "standard mode: traffic between a pod and its own node is not checked";

/// A rule that matched, by reference: evaluation allocates nothing, and only
/// `verdict` turns it into an explanation.
#[derive(Clone, Copy)]
struct Hit<'a> {
    group: &'a SecurityGroup,
    index: usize,
    rule: &'a crate::group::Rule,
    peer: &'a Peer,
}

#[derive(Clone, Copy)]
enum Outcome<'a> {
    Allowed(Hit<'a>),
    Denied,
    /// Allowed by this rule if an unknown address is in its range.
    Unknown(Hit<'a>),
    NotEnforced(&'static str),
    NotNew,
    /// Nothing known allows it; some of the side's groups are outside.
    RulesNotKnown,
}

impl Outcome<'_> {
    fn decision(self) -> Decision {
        match self {
            Outcome::Allowed(_) | Outcome::NotEnforced(_) => Decision::Allow,
            Outcome::Denied | Outcome::NotNew => Decision::Deny,
            Outcome::Unknown(_) | Outcome::RulesNotKnown => Decision::Unknown,
        }
    }
}

fn combine(egress: Decision, ingress: Decision) -> Decision {
    match (egress, ingress) {
        (Decision::Deny, _) | (_, Decision::Deny) => Decision::Deny,
        (Decision::Unknown, _) | (_, Decision::Unknown) => Decision::Unknown,
        _ => Decision::Allow,
    }
}

impl<'a> Engine<'a> {
    pub fn new(groups: &'a BTreeMap<SgId, SecurityGroup>, mode: EnforcingMode) -> Self {
        Engine { groups: groups.iter().map(|(id, g)| (id.as_str(), g)).collect(), mode }
    }

    pub fn mode(&self) -> EnforcingMode {
        self.mode
    }

    /// Only the decision for a new connection from `src` to `dst`: the same
    /// evaluation as `verdict`, without building the explanation.
    pub fn decide(&self, src: &Endpoint, dst: &Endpoint, service: Service) -> Decision {
        let (egress, ingress) = self.outcomes(src, dst, service);
        combine(egress.decision(), ingress.decision())
    }

    /// The verdict for a new connection from `src` to `dst`, with the rules
    /// (or the reasons) that decided each side.
    pub fn verdict(&self, src: &Endpoint, dst: &Endpoint, service: Service) -> Verdict {
        let (egress, ingress) = self.outcomes(src, dst, service);
        let own_node = self.mode == EnforcingMode::Standard && pod_and_own_node(src, dst);
        let (egress_enforcer, ingress_enforcer) = if own_node {
            (Enforcer::None, Enforcer::None)
        } else {
            (egress_enforcer(src), ingress_enforcer(src, dst))
        };
        Verdict {
            verdict: combine(egress.decision(), ingress.decision()),
            service,
            mode: self.mode,
            egress: explain(egress, Direction::Egress, src, dst),
            ingress: explain(ingress, Direction::Ingress, dst, src),
            egress_enforcer,
            ingress_enforcer,
        }
    }

    fn outcomes(&self, src: &Endpoint, dst: &Endpoint, service: Service) -> (Outcome<'a>, Outcome<'a>) {
        if self.mode == EnforcingMode::Standard && pod_and_own_node(src, dst) {
            return (Outcome::NotEnforced(STANDARD_MODE), Outcome::NotEnforced(STANDARD_MODE));
        }
        if service.only_a_reply() {
            return (Outcome::NotNew, Outcome::NotNew);
        }
        let egress = match egress_exemption(src) {
            Some(reason) => Outcome::NotEnforced(reason),
            None => self.side(src, Direction::Egress, dst, service),
        };
        let ingress = match ingress_exemption(dst) {
            Some(reason) => Outcome::NotEnforced(reason),
            None => self.side(dst, Direction::Ingress, src, service),
        };
        (egress, ingress)
    }

    /// The first rule of `owner`'s groups in `direction` that lets `peer` use `service`.
    fn side(&self, owner: &Endpoint, direction: Direction, peer: &Endpoint, service: Service) -> Outcome<'a> {
        let mut maybe = None;
        let mut outside = false;
        for id in &owner.groups {
            // A group that does not exist allows nothing (fail closed); the
            // loader reports it as an error before it gets here.
            let Some(&group) = self.groups.get(id.as_str()) else { continue };
            outside |= group.outside;
            for (index, rule) in group.rules(direction).iter().enumerate() {
                if !rule.covers(service) {
                    continue;
                }
                for p in &rule.peers {
                    match self.peer_matches(p, peer) {
                        Some(true) => return Outcome::Allowed(Hit { group, index, rule, peer: p }),
                        None if maybe.is_none() => maybe = Some(Hit { group, index, rule, peer: p }),
                        _ => {}
                    }
                }
            }
        }
        match maybe {
            Some(hit) => Outcome::Unknown(hit),
            None if outside => Outcome::RulesNotKnown,
            None => Outcome::Denied,
        }
    }

    /// `Some(true)` when the peer definitely matches, `Some(false)` when it
    /// definitely does not, `None` when it depends on something not in the
    /// manifests (an address, or who carries an outside group).
    fn peer_matches(&self, p: &Peer, peer: &Endpoint) -> Option<bool> {
        match p {
            Peer::Group { id, .. } if peer.carries(id) => Some(true),
            // Only an address of unknown standing may carry a group described elsewhere.
            Peer::Group { id, .. } => {
                let outside = self.groups.get(id.as_str()).is_some_and(|g| g.outside);
                if outside && peer.role == Role::External { None } else { Some(false) }
            }
            Peer::Cidr { cidr, .. } if peer.addresses.is_empty() => {
                // Any address is in 0.0.0.0/0 (or ::/0); a narrower range may or may not hold it.
                if cidr.prefix_len() == 0 { Some(true) } else { None }
            }
            Peer::Cidr { cidr, .. } => Some(peer.addresses.iter().any(|a| cidr.contains(a))),
        }
    }
}

/// The owned explanation of one side's outcome.
fn explain(outcome: Outcome<'_>, direction: Direction, owner: &Endpoint, peer: &Endpoint) -> SideVerdict {
    let found = |h: Hit<'_>| RuleMatch {
        group: h.group.id.clone(),
        group_name: h.group.name.clone(),
        direction,
        index: h.index,
        rule: h.rule.describe(direction),
        peer: h.peer.to_string(),
    };
    match outcome {
        Outcome::Allowed(h) => SideVerdict::Allowed(found(h)),
        Outcome::Denied => SideVerdict::Denied { groups: owner.groups.clone() },
        Outcome::Unknown(h) => {
            let unknown = match h.peer {
                Peer::Group { id, .. } => format!("{} carries {id}, a group described outside the manifests", peer.id),
                Peer::Cidr { cidr, .. } => format!("the address of {} is in {cidr}", peer.id),
            };
            SideVerdict::Unknown { rule: found(h), unknown }
        }
        Outcome::RulesNotKnown => SideVerdict::RulesNotKnown { groups: owner.groups.clone() },
        Outcome::NotEnforced(reason) => SideVerdict::NotEnforced { reason: reason.into() },
        Outcome::NotNew => {
            let (src, dst) = if direction == Direction::Egress { (owner, peer) } else { (peer, owner) };
            SideVerdict::NotNew {
                reason: format!(
                    "an echo reply opens no connection: it passes only as the reply to an echo request from {} to {} \
                     that conntrack tracks, and is dropped without one",
                    dst.id, src.id
                ),
            }
        }
    }
}

/// Why the source's egress is not checked, if it is not.
fn egress_exemption(src: &Endpoint) -> Option<&'static str> {
    match &src.role {
        Role::Pod { restricted: true, .. } => None,
        Role::Pod { restricted: false, .. } => Some(UNRESTRICTED),
        Role::Node { .. } => Some("traffic of the node itself is not filtered by podsg"),
        // The cloud enforces a member's own groups on what it sends.
        Role::Member => None,
        Role::External => Some("not a member of any security group"),
    }
}

/// Why the destination's ingress is not checked, if it is not.
fn ingress_exemption(dst: &Endpoint) -> Option<&'static str> {
    match &dst.role {
        Role::Pod { restricted: true, .. } => None,
        Role::Pod { restricted: false, .. } => Some(UNRESTRICTED),
        Role::Node { .. } => Some("traffic to the node itself is not filtered by podsg"),
        // The source's node enforces an external member's ingress on its
        // behalf; for other sources the cloud does: evaluated either way.
        Role::Member => None,
        Role::External => Some("not a member of any security group"),
    }
}

fn egress_enforcer(src: &Endpoint) -> Enforcer {
    match &src.role {
        Role::Pod { restricted: true, .. } => Enforcer::Podsg,
        Role::Member => Enforcer::Cloud,
        _ => Enforcer::None,
    }
}

fn ingress_enforcer(src: &Endpoint, dst: &Endpoint) -> Enforcer {
    match &dst.role {
        Role::Pod { restricted: true, .. } => Enforcer::Podsg,
        Role::Member if src.is_pod() => Enforcer::Podsg,
        Role::Member => Enforcer::Cloud,
        _ => Enforcer::None,
    }
}

const UNRESTRICTED: &str = "not restricted: no SGP selects it and no default groups are configured";

/// A pod and a node that may be the pod's own (standard mode skips those).
fn pod_and_own_node(a: &Endpoint, b: &Endpoint) -> bool {
    let own = |pod: &Endpoint, node: &Endpoint| match (&pod.role, &node.role) {
        (Role::Pod { node: pod_node, .. }, Role::Node { name }) => match (pod_node, name) {
            (Some(p), Some(n)) => p == n,
            _ => true,
        },
        _ => false,
    };
    own(a, b) || own(b, a)
}
