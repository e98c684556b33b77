//! Which objects name which groups, so that a group that does not exist is
//! reported on every object that names it, and stops being reported when
//! it is applied, without looking at anything else.

use crate::catalog::{group_ref, policy_ref};
use crate::diagnostic::{Diagnostic, ObjectRef};
use crate::group::{Peer, SecurityGroup, SgId};
use crate::policy::Policy;
use crate::settings::Settings;
use std::collections::{BTreeMap, BTreeSet};

/// One place that names a group: the object, the field, and the EC2 error
/// code EC2 would answer if the group did not exist.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Referrer {
    pub object: ObjectRef,
    pub path: String,
    pub code: &'static str,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct References {
    by_group: BTreeMap<SgId, BTreeSet<Referrer>>,
    by_object: BTreeMap<ObjectRef, Vec<(SgId, Referrer)>>,
}

impl References {
    /// Replaces what `object` names.
    pub fn set(&mut self, object: &ObjectRef, names: Vec<(SgId, Referrer)>) {
        self.clear(object);
        for (id, referrer) in &names {
            self.by_group.entry(id.clone()).or_default().insert(referrer.clone());
        }
        if !names.is_empty() {
            self.by_object.insert(object.clone(), names);
        }
    }

    pub fn clear(&mut self, object: &ObjectRef) {
        for (id, referrer) in self.by_object.remove(object).unwrap_or_default() {
            if let Some(referrers) = self.by_group.get_mut(&id) {
                referrers.remove(&referrer);
                if referrers.is_empty() {
                    self.by_group.remove(&id);
                }
            }
        }
    }

    /// The places that name `id`.
    pub fn of(&self, id: &SgId) -> impl Iterator<Item = &Referrer> {
        self.by_group.get(id).into_iter().flatten()
    }

    /// Every place that names a group for which `exists` is false.
    pub fn missing(&self, exists: impl Fn(&SgId) -> bool) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for (id, referrers) in self.by_group.iter().filter(|(id, _)| !exists(id)) {
            for r in referrers {
                out.push(not_found(r, id));
            }
        }
        out
    }
}

pub fn not_found(r: &Referrer, id: &SgId) -> Diagnostic {
    Diagnostic::error(r.path.clone(), Some(id.to_string()), not_found_message(r.code, id)).at(None, Some(&r.object))
}

/// EC2's words for a group that does not exist, with a note when the ID
/// does not even look like one.
pub fn not_found_message(code: &str, id: &SgId) -> String {
    format!("{code}: {id} does not exist{}", id.shape_note())
}

/// The EC2 error code of a pod's or SGP's group that does not exist.
pub const SECURITY_GROUP_NOT_FOUND: &str = "InvalidSecurityGroupID.NotFound";

/// The groups an SGP names, and where.
pub fn in_policy(policy: &Policy) -> Vec<(SgId, Referrer)> {
    let object = policy_ref(policy);
    let path = |i| format!("spec.securityGroups.groupIds[{i}]");
    named(&object, policy.group_ids.iter().enumerate().map(|(i, id)| (path(i), id)), SECURITY_GROUP_NOT_FOUND)
}

/// The groups a group's rules name, and where.
pub fn in_group(group: &SecurityGroup) -> Vec<(SgId, Referrer)> {
    let mut places = Vec::new();
    for (direction, rules) in [("ingress", &group.ingress), ("egress", &group.egress)] {
        for (i, rule) in rules.iter().enumerate() {
            let pairs = rule.peers.iter().filter_map(|p| match p {
                Peer::Group { id, .. } => Some(id),
                Peer::Cidr { .. } => None,
            });
            for (j, id) in pairs.enumerate() {
                places.push((format!("spec.{direction}[{i}].userIdGroupPairs[{j}].groupId"), id));
            }
        }
    }
    named(&group_ref(&group.id), places.into_iter(), "InvalidGroup.NotFound")
}

/// The default groups the cluster's settings name, on the object `config`.
pub fn in_settings(settings: &Settings, config: &ObjectRef) -> Vec<(SgId, Referrer)> {
    let places =
        settings.default_group_ids.iter().enumerate().map(|(i, id)| (format!("spec.defaultGroupIds[{i}]"), id));
    named(config, places, SECURITY_GROUP_NOT_FOUND)
}

fn named<'a>(
    object: &ObjectRef,
    places: impl Iterator<Item = (String, &'a SgId)>,
    code: &'static str,
) -> Vec<(SgId, Referrer)> {
    places.map(|(path, id)| (id.clone(), Referrer { object: object.clone(), path, code })).collect()
}
