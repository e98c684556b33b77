//! What the agent's watches have seen and what the agent has yet to be
//! told: each watch's objects go in as they come; `report` hands out the
//! changes since the last report, once every watch has listed. Pure: the
//! watch tasks feed it, the agent's thread drains it, and tests drive it
//! directly.
//!
//! Three rules live here:
//! - a relist deletes what it no longer lists (a deletion missed while a
//!   watch was down);
//! - an object changed several times between reports is reported once, as
//!   it is last (a burst is one change; a relist of what the agent already
//!   has is none);
//! - an SGP with the name of one in the other API group is shadowed: the
//!   first one seen stays in force, as in the controller, and the other
//!   takes its place when it goes.

use super::interest::SliceSelector;
use crate::sgp_api::SgpApi;
use podsg_model::group::SgId;
use podsg_model::settings::Settings;
use podsg_model::world::{Input, InputChange, InputKey};
use std::collections::{BTreeSet, HashMap, HashSet};

/// One watch of the agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Watch {
    /// The pods scheduled to this node.
    Pods,
    Policies(SgpApi),
    Groups,
    ServiceAccounts,
    /// The MemberSlices of the groups the agent needs.
    Slices,
}

impl Watch {
    /// The watches that must list before the agent hears anything (the
    /// slice watch starts once the agent says what it needs).
    pub const CONTROL: [Watch; 5] = [
        Watch::Pods,
        Watch::Policies(SgpApi::Eks),
        Watch::Policies(SgpApi::Tke),
        Watch::Groups,
        Watch::ServiceAccounts,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Watch::Pods => "Pod",
            Watch::Policies(SgpApi::Eks) => "SecurityGroupPolicy",
            Watch::Policies(SgpApi::Tke) => "SecurityGroupPolicy.tke",
            Watch::Groups => "SecurityGroup",
            Watch::ServiceAccounts => "ServiceAccount",
            Watch::Slices => "MemberSlice",
        }
    }
}

/// What a watch saw. An object the model refuses comes as `Applied(key,
/// None)`: the agent's world drops it (fail closed: an SGP it cannot read
/// selects nothing, a group it cannot read is missing).
#[derive(Clone, Debug, PartialEq)]
pub enum Seen {
    /// A (re)list begins.
    Listing,
    Listed(InputKey, Option<Input>),
    /// The (re)list is complete.
    ListDone,
    Applied(InputKey, Option<Input>),
    Deleted(InputKey),
}

#[derive(Debug, Default)]
struct Keys {
    held: HashSet<InputKey>,
    /// The keys a relist in progress has listed.
    relisting: Option<HashSet<InputKey>>,
    listed: bool,
}

#[derive(Debug)]
pub struct Collector {
    /// The objects as the agent's world should hold them.
    current: HashMap<InputKey, Input>,
    /// Keys whose object changed since the last report.
    dirty: BTreeSet<InputKey>,
    watches: HashMap<Watch, Keys>,
    /// Which API group's SGP is in force under a namespace/name held by both.
    policy_owner: HashMap<InputKey, SgpApi>,
    shadowed: HashMap<InputKey, (SgpApi, Option<Input>)>,
    /// The slice selector last asked for, and its number.
    selector: SliceSelector,
    generation: u64,
    /// The generation whose first list the agent waits for.
    fetching: Option<u64>,
    /// A report is owed even if nothing changed (the first one, or the
    /// end of a fetch the agent waits for).
    owed: bool,
    ended: bool,
}

impl Collector {
    /// `settings` are the cluster's (the ClusterConfig file), in the first report.
    pub fn new(settings: Settings) -> Collector {
        let mut c = Collector {
            current: HashMap::new(),
            dirty: BTreeSet::new(),
            watches: HashMap::new(),
            policy_owner: HashMap::new(),
            shadowed: HashMap::new(),
            selector: SliceSelector::Nothing,
            generation: 0,
            fetching: None,
            owed: true,
            ended: false,
        };
        c.put(InputKey::Settings, Some(Input::Settings(settings)));
        c
    }

    /// Takes what watch `watch` saw. Slice events carry the generation of
    /// the selector their watch runs with.
    pub fn see(&mut self, watch: Watch, generation: u64, seen: Seen) {
        match seen {
            Seen::Listing => self.keys(watch).relisting = Some(HashSet::new()),
            Seen::Listed(key, input) => {
                self.keys(watch).relisting.get_or_insert_with(HashSet::new).insert(key.clone());
                self.apply(watch, key, input);
            }
            Seen::ListDone => {
                let keys = self.keys(watch);
                let listed = keys.relisting.take().unwrap_or_default();
                let gone: Vec<InputKey> = keys.held.iter().filter(|k| !listed.contains(*k)).cloned().collect();
                keys.listed = true;
                for key in gone {
                    self.delete(watch, key);
                }
                if watch == Watch::Slices && self.fetching == Some(generation) {
                    self.fetching = None;
                    self.owed = true;
                }
            }
            Seen::Applied(key, input) => self.apply(watch, key, input),
            Seen::Deleted(key) => self.delete(watch, key),
        }
    }

    /// The watches ended: the agent keeps what it has.
    pub fn end(&mut self) {
        self.ended = true;
    }

    pub fn ended(&self) -> bool {
        self.ended
    }

    /// The changes since the last report, once every control watch has
    /// listed and no fetch is under way; `None` when there is nothing to say.
    pub fn report(&mut self) -> Option<Vec<InputChange>> {
        let listed = Watch::CONTROL.iter().all(|w| self.watches.get(w).is_some_and(|k| k.listed));
        if !listed || self.fetching.is_some() || (self.dirty.is_empty() && !self.owed) {
            return None;
        }
        self.owed = false;
        let dirty = std::mem::take(&mut self.dirty);
        Some(
            dirty
                .into_iter()
                .map(|key| match self.current.get(&key) {
                    Some(input) => InputChange::Apply(input.clone()),
                    None => InputChange::Delete(key),
                })
                .collect(),
        )
    }

    /// The agent needs the members of `groups`: the selector the slice
    /// watch must run with, and its generation, when it changes. The agent
    /// then waits for that watch's first list (`fetching`), unless nothing
    /// is wanted: then the slices held go at once.
    pub fn want(&mut self, groups: &BTreeSet<SgId>) -> Option<(u64, SliceSelector)> {
        let selector = SliceSelector::for_groups(groups);
        if selector == self.selector {
            return None;
        }
        self.selector = selector.clone();
        self.generation += 1;
        if selector == SliceSelector::Nothing {
            self.fetching = None;
            let held: Vec<InputKey> = self.keys(Watch::Slices).held.iter().cloned().collect();
            held.into_iter().for_each(|k| self.delete(Watch::Slices, k));
        } else {
            self.fetching = Some(self.generation);
        }
        Some((self.generation, selector))
    }

    /// Whether the agent waits for slices.
    pub fn fetching(&self) -> bool {
        self.fetching.is_some()
    }

    fn keys(&mut self, watch: Watch) -> &mut Keys {
        self.watches.entry(watch).or_default()
    }

    fn apply(&mut self, watch: Watch, key: InputKey, input: Option<Input>) {
        self.keys(watch).held.insert(key.clone());
        let Watch::Policies(api) = watch else {
            return self.put(key, input);
        };
        match self.policy_owner.get(&key) {
            Some(owner) if *owner != api => {
                self.shadowed.insert(key, (api, input));
            }
            _ => {
                self.policy_owner.insert(key.clone(), api);
                self.put(key, input);
            }
        }
    }

    fn delete(&mut self, watch: Watch, key: InputKey) {
        if !self.keys(watch).held.remove(&key) {
            return;
        }
        let Watch::Policies(api) = watch else {
            return self.put(key, None);
        };
        if self.policy_owner.get(&key) != Some(&api) {
            // The shadowed one went; the one in force stays.
            self.shadowed.remove(&key);
            return;
        }
        match self.shadowed.remove(&key) {
            Some((other, input)) => {
                self.policy_owner.insert(key.clone(), other);
                self.put(key, input);
            }
            None => {
                self.policy_owner.remove(&key);
                self.put(key, None);
            }
        }
    }

    /// Sets what the agent's world should hold under `key`.
    fn put(&mut self, key: InputKey, input: Option<Input>) {
        let changed = match input {
            Some(input) => self.current.insert(key.clone(), input.clone()).as_ref() != Some(&input),
            None => self.current.remove(&key).is_some(),
        };
        if changed {
            self.dirty.insert(key);
        }
    }
}
