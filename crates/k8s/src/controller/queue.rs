//! What needs another look: de-duplicated FIFOs of targets, pods first
//! (a pod waits for its annotation to start), then member slices (other
//! nodes' agents enforce from them), then SGP statuses, then group
//! statuses (both only informative). The controller is level-based:
//! a target is planned from the state as it is when its turn comes, so a
//! target queued twice is planned once.

use podsg_model::group::SgId;
use podsg_model::workload::WorkloadKey;
use std::collections::{HashSet, VecDeque};

/// One object whose writes may be due.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// A pod's annotation and events.
    Pod(WorkloadKey),
    /// An SGP's status (namespace, name).
    Policy(String, String),
    /// A SecurityGroup's status.
    Group(SgId),
    /// A MemberSlice, by name.
    Slice(String),
}

#[derive(Debug, Default)]
pub struct Queue {
    /// Pods, slices, SGPs, groups.
    order: [VecDeque<Target>; 4],
    queued: HashSet<Target>,
}

impl Queue {
    pub fn push(&mut self, target: Target) {
        if self.queued.insert(target.clone()) {
            let class = match target {
                Target::Pod(_) => 0,
                Target::Slice(_) => 1,
                Target::Policy(..) => 2,
                Target::Group(_) => 3,
            };
            self.order[class].push_back(target);
        }
    }

    pub fn pop(&mut self) -> Option<Target> {
        let target = self.order.iter_mut().find_map(VecDeque::pop_front)?;
        self.queued.remove(&target);
        Some(target)
    }

    pub fn len(&self) -> usize {
        self.queued.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pods_go_first_then_policies_then_groups() {
        let mut q = Queue::default();
        let group = Target::Group(podsg_model::group::SgId::parse("sg-1").unwrap());
        let policy = Target::Policy("ns".into(), "p".into());
        let pod = Target::Pod(WorkloadKey {
            kind: podsg_model::workload::WorkloadKind::Pod,
            namespace: "ns".into(),
            name: "a".into(),
        });
        q.push(group.clone());
        q.push(policy.clone());
        q.push(pod.clone());
        assert_eq!((q.pop(), q.pop(), q.pop(), q.pop()), (Some(pod), Some(policy), Some(group), None));
    }

    #[test]
    fn a_target_queued_twice_is_taken_once_in_first_queued_order() {
        let mut q = Queue::default();
        let (a, b) = (Target::Policy("ns".into(), "a".into()), Target::Policy("ns".into(), "b".into()));
        q.push(a.clone());
        q.push(b.clone());
        q.push(a.clone());
        assert_eq!(q.len(), 2);
        assert_eq!(q.pop(), Some(a.clone()));
        q.push(a.clone());
        assert_eq!((q.pop(), q.pop(), q.pop()), (Some(b), Some(a), None));
        assert_eq!(q.len(), 0);
    }
}
