//! Member addresses per group, counted: a pod, an external member and a
//! node may share an address, and it stays a member until the last of them
//! goes.

use super::Changes;
use crate::group::SgId;
use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

#[derive(Clone, Debug, Default)]
pub(super) struct Members(HashMap<SgId, HashMap<IpAddr, u32>>);

impl Members {
    /// `before` pairs stop being members, `after` pairs become members;
    /// pairs in both are left alone.
    pub fn replace(&mut self, before: &[(SgId, IpAddr)], after: &[(SgId, IpAddr)], changes: &mut Changes) {
        for (g, a) in before.iter().filter(|p| !after.contains(p)) {
            self.remove(g, *a, changes);
        }
        for (g, a) in after.iter().filter(|p| !before.contains(p)) {
            self.add(g, *a, changes);
        }
    }

    pub fn add(&mut self, group: &SgId, address: IpAddr, changes: &mut Changes) {
        let addresses = match self.0.get_mut(group) {
            Some(addresses) => addresses,
            None => self.0.entry(group.clone()).or_default(),
        };
        let count = addresses.entry(address).or_insert(0);
        *count += 1;
        if *count == 1 {
            changes.address(group, address, true);
        }
    }

    pub fn remove(&mut self, group: &SgId, address: IpAddr, changes: &mut Changes) {
        let Some(addresses) = self.0.get_mut(group) else { return };
        let Some(count) = addresses.get_mut(&address) else { return };
        *count -= 1;
        if *count == 0 {
            addresses.remove(&address);
            if addresses.is_empty() {
                self.0.remove(group);
            }
            changes.address(group, address, false);
        }
    }

    pub fn of(&self, group: &SgId) -> BTreeSet<IpAddr> {
        self.0.get(group).map(|a| a.keys().copied().collect()).unwrap_or_default()
    }
}
