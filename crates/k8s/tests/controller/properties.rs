//! The controller's plans, by the thousand: random sequences of objects
//! applied and deleted, every planned write carried out (as a fake API
//! server that accepts everything would), and then what the cluster shows
//! must be what the world says, and planning again must write nothing.

use super::{fixed_time, group, pod, sa_sgp, service_account, sgp};
use podsg_k8s::controller::{State, Write};
use podsg_k8s::sgp_api::SgpApi;
use podsg_model::pod_eni;
use podsg_model::resolve::GroupSource;
use podsg_model::settings::{AppliesTo, Settings};
use podsg_model::slices::{DEFAULT_CAPACITY, parse_slice_name, slice_name};
use podsg_model::workload::{WorkloadKey, WorkloadKind};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// A small deterministic generator (no dependency, reproducible by seed).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const GROUPS: [&str; 4] = ["sg-1", "sg-2", "sg-3", "sg-4"];

/// Member slices as the API server holds them, by name.
type Published = BTreeMap<String, BTreeSet<IpAddr>>;

/// Carries out every planned write: the pods' annotations and the member
/// slices become what the API server would now hold.
fn settle(state: &mut State, annotations: &mut BTreeMap<String, (String, Option<String>)>, slices: &mut Published) {
    while let Some(target) = state.next_target() {
        for write in state.plan(&target) {
            match &write {
                Write::PodAnnotation { namespace, name, uid, value } => {
                    let key = format!("{namespace}/{name}");
                    let held = annotations.get(&key).expect("a write for a pod the cluster has");
                    assert_eq!(&held.0, uid, "a write for {key} reached another pod");
                    annotations.insert(key, (uid.clone(), value.clone()));
                }
                Write::PutSlice { group, index, addresses } => {
                    assert!(!addresses.is_empty() && addresses.len() <= DEFAULT_CAPACITY, "{group}-{index}");
                    slices.insert(slice_name(group, *index), addresses.clone());
                }
                Write::DeleteSlice { name } => {
                    assert!(slices.remove(name).is_some(), "{name} deleted but not published");
                }
                _ => {}
            }
            state.written(&write);
        }
    }
}

/// Each group's members as the published slices say.
fn published_members(slices: &Published) -> BTreeMap<String, BTreeSet<IpAddr>> {
    let mut out: BTreeMap<String, BTreeSet<IpAddr>> = BTreeMap::new();
    for (name, addresses) in slices {
        let (group, _) = parse_slice_name(name).expect("a slice name");
        let held = out.entry(group.to_string()).or_default();
        for a in addresses {
            assert!(held.insert(*a), "{a} in two slices of {group}");
        }
    }
    out
}

fn run(seed: u64, applies_to: AppliesTo) {
    let mut rng = Rng(seed);
    let mut state = State::new(Settings::default(), Some(applies_to), fixed_time);
    // namespace/name -> (uid, annotation), as the API server holds pods.
    let mut cluster: BTreeMap<String, (String, Option<String>)> = BTreeMap::new();
    let mut pinned: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut next_uid = 0;
    let mut slices = Published::new();
    // Every watch lists at some point of the sequence (or at its end).
    let (lists_at, mut publishing) = (rng.below(50), false);
    for step in 0..40 {
        if step == lists_at {
            state.start_publishing();
            publishing = true;
        }
        match rng.below(9) {
            0 | 1 => {
                let name = format!("p{}", rng.below(5));
                let key = format!("prod/{name}");
                // Sometimes the pod is recreated under its name.
                let uid = match cluster.get(&key) {
                    Some((uid, _)) if rng.below(4) > 0 => uid.clone(),
                    _ => {
                        next_uid += 1;
                        pinned.remove(&key);
                        cluster.insert(key.clone(), (format!("u{next_uid}"), None));
                        format!("u{next_uid}")
                    }
                };
                let labels = json!({"app": rng.pick(&["a", "b"])});
                let ip = if rng.below(2) == 0 { None } else { Some(format!("10.0.0.{}", rng.below(5) + 1)) };
                let mut p = pod("prod", &name, &uid, labels, rng.pick(&["s1", "s2"]), ip.as_deref());
                if let Some(value) = &cluster[&key].1 {
                    p.metadata.annotations = Some([(pod_eni::POD_ENI.to_string(), value.clone())].into());
                }
                state.apply_pod(&p).unwrap();
            }
            2 => {
                let name = format!("p{}", rng.below(5));
                cluster.remove(&format!("prod/{name}"));
                state.delete_pod("prod", &name);
            }
            3 | 4 => {
                let name = format!("sgp{}", rng.below(3));
                let groups: Vec<&str> = (0..rng.below(2) + 1).map(|_| rng.pick(&GROUPS)).collect();
                let object = if rng.below(2) == 0 {
                    sgp("prod", &name, json!({"matchLabels": {"app": rng.pick(&["a", "b"])}}), &groups)
                } else {
                    sa_sgp("prod", &name, json!({"matchLabels": {"role": rng.pick(&["x", "y"])}}), &groups)
                };
                state.apply_policy(SgpApi::Eks, object);
            }
            5 => state.delete_policy(SgpApi::Eks, "prod", &format!("sgp{}", rng.below(3))),
            6 => state.apply_group(&group(rng.pick(&GROUPS))).unwrap(),
            7 => state.delete_group(rng.pick(&GROUPS)),
            _ => {
                let sa = service_account("prod", rng.pick(&["s1", "s2"]), json!({"role": rng.pick(&["x", "y"])}));
                state.apply_service_account(&sa).unwrap();
            }
        }
        if rng.below(3) == 0 {
            settle(&mut state, &mut cluster, &mut slices);
            check(&state, &cluster, applies_to, &mut pinned, seed);
            check_slices(&state, &slices, publishing, seed);
        }
    }
    if !publishing {
        state.start_publishing();
        publishing = true;
    }
    settle(&mut state, &mut cluster, &mut slices);
    check(&state, &cluster, applies_to, &mut pinned, seed);
    check_slices(&state, &slices, publishing, seed);
    // A fixpoint: planning everything again writes nothing.
    state.requeue_all();
    while let Some(target) = state.next_target() {
        assert_eq!(state.plan(&target), [], "seed {seed}: {target:?} planned again");
    }
}

/// Once publishing, the slices hold exactly each group's members; before,
/// nothing is published.
fn check_slices(state: &State, slices: &Published, publishing: bool, seed: u64) {
    let published = published_members(slices);
    if !publishing {
        assert!(published.is_empty(), "seed {seed}: slices before every watch listed");
        return;
    }
    for group in GROUPS {
        let id = podsg_model::group::SgId::parse(group).unwrap();
        let want = state.world().member_addresses(&id);
        assert_eq!(published.get(group).cloned().unwrap_or_default(), want, "seed {seed}: {group}'s slices");
    }
}

fn check(
    state: &State,
    cluster: &BTreeMap<String, (String, Option<String>)>,
    applies_to: AppliesTo,
    pinned: &mut BTreeMap<String, Vec<String>>,
    seed: u64,
) {
    let world = state.world();
    for (key, (_, annotation)) in cluster {
        let (ns, name) = key.split_once('/').unwrap();
        let wk = WorkloadKey { kind: WorkloadKind::Pod, namespace: ns.into(), name: name.into() };
        let resolution = world.resolution(&wk).expect("every pod of the cluster is in the world");
        let selected = matches!(resolution.source, GroupSource::Policies(_));
        let complete = resolution.groups.iter().all(|g| world.group(g).is_some());
        let groups = annotation.as_deref().map(|a| pod_eni::groups(a).unwrap());
        match applies_to {
            AppliesTo::AllPods => {
                let wanted: Option<Vec<String>> =
                    (selected && complete).then(|| resolution.groups.iter().map(ToString::to_string).collect());
                assert_eq!(groups, wanted, "seed {seed}: {key} carries what its resolution says");
            }
            AppliesTo::NewPods => {
                // The world counts what the pod carries: its record once it
                // has one, and it gets one when an SGP selects it.
                let kept = matches!(resolution.source, GroupSource::Kept(_));
                let wanted: Option<Vec<String>> = ((selected && complete) || kept)
                    .then(|| resolution.groups.iter().map(ToString::to_string).collect());
                assert_eq!(groups, wanted, "seed {seed}: {key} carries what the world says");
                if let Some(groups) = groups {
                    let first = pinned.entry(key.clone()).or_insert_with(|| groups.clone());
                    assert_eq!(&groups, first, "seed {seed}: {key} keeps the groups it was given first");
                }
            }
        }
        if let Some(a) = annotation {
            let address = world.workload(&wk).unwrap().addresses.first().copied();
            assert_eq!(pod_eni::parse(a).unwrap()[0].private_ip, address, "seed {seed}: {key}'s address");
        }
    }
}

#[test]
fn what_the_cluster_shows_is_what_the_world_says() {
    for seed in 0..2_000 {
        run(seed, AppliesTo::AllPods);
    }
}

#[test]
fn with_new_pods_a_pod_keeps_its_first_groups() {
    for seed in 0..2_000 {
        run(seed, AppliesTo::NewPods);
    }
}
