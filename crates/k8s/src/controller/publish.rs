//! Member slices (docs/membership.md): the controller cuts each group's
//! member addresses into MemberSlices that the agents watch. The model's
//! `Slices` decides which address goes where; this keeps what the API
//! server shows and plans the writes that bring it to that.

use super::queue::Target;
use super::state::State;
use super::writes::Write;
use crate::crd;
use podsg_model::group::SgId;
use podsg_model::slices::{DEFAULT_CAPACITY, Slices, parse_slice_name, slice_name};
use podsg_model::world::AddressDelta;
use std::collections::{BTreeMap, BTreeSet};

impl State {
    /// Every watch has listed: the slices start from those the API server
    /// holds (so that a restarted controller moves nothing that is right)
    /// and are brought to the world's members.
    pub fn start_publishing(&mut self) {
        let mut slices = Slices::new(DEFAULT_CAPACITY);
        for (name, addresses) in &self.published {
            if let Some((group, index)) = parse_slice_name(name) {
                slices.restore(&group, index, addresses.iter().copied());
            }
        }
        let groups: BTreeSet<SgId> = slices.groups().chain(self.world.member_groups()).cloned().collect();
        for group in groups {
            for write in slices.reconcile(&group, &self.world.member_addresses(&group)) {
                self.queue.push(Target::Slice(write.name()));
            }
        }
        self.slices = Some(slices);
        // Slices that no group's slicing names (unreadable names) go.
        self.requeue_slices();
    }

    /// Publishes what a change of the world did to member sets.
    pub(super) fn publish(&mut self, members: &BTreeMap<SgId, AddressDelta>) {
        let Some(slices) = self.slices.as_mut() else { return };
        for (group, delta) in members {
            for write in slices.change(group, &delta.added, &delta.removed) {
                self.queue.push(Target::Slice(write.name()));
            }
        }
    }

    pub fn apply_slice(&mut self, slice: &crd::MemberSlice) {
        let Some(name) = slice.metadata.name.clone() else { return };
        self.published.insert(name.clone(), slice.spec.addresses.clone());
        self.queue.push(Target::Slice(name));
    }

    pub fn delete_slice(&mut self, name: &str) {
        self.published.remove(name);
        self.queue.push(Target::Slice(name.to_string()));
    }

    pub fn slice_names(&self) -> Vec<String> {
        self.published.keys().cloned().collect()
    }

    /// Queues every slice, published or due.
    pub(super) fn requeue_slices(&mut self) {
        let mut names: BTreeSet<String> = self.published.keys().cloned().collect();
        if let Some(slices) = &self.slices {
            for group in slices.groups() {
                names.extend(slices.of(group).map(|(index, _)| slice_name(group, index)));
            }
        }
        names.into_iter().for_each(|n| self.queue.push(Target::Slice(n)));
    }

    /// The write that makes slice `name` what the slicing says: nothing
    /// before publishing starts (a slice is never deleted from a partial
    /// view), and a delete for a slice the slicing does not have.
    pub(super) fn plan_slice(&self, name: &str) -> Option<Write> {
        let slices = self.slices.as_ref()?;
        let shown = self.published.get(name);
        let wanted = parse_slice_name(name).and_then(|(group, index)| Some((slices.get(&group, index)?, group, index)));
        match wanted {
            Some((addresses, _, _)) if Some(addresses) == shown => None,
            Some((addresses, group, index)) => Some(Write::PutSlice { group, index, addresses: addresses.clone() }),
            None => shown.map(|_| Write::DeleteSlice { name: name.to_string() }),
        }
    }
}
