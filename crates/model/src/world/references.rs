//! Which objects name which groups, so that a group that does not exist is
//! reported on every object that names it, and stops being reported when
//! it is applied, without looking at anything else.

use crate::diagnostic::{Diagnostic, ObjectRef};
use crate::group::SgId;
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
pub(super) struct References {
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
    let message = format!("{}: {id} does not exist{}", r.code, id.shape_note());
    Diagnostic::error(r.path.clone(), Some(id.to_string()), message).at(None, Some(&r.object))
}
