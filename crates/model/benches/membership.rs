//! How group membership reaches the node agents, simulated at Kubernetes'
//! scale limits (docs/membership.md): 150,000 pods on 5,000 nodes, 10,000
//! SGPs, 5,000 groups. The controller publishes each group's member
//! addresses as MemberSlices of at most 100 addresses; each agent watches
//! its own pods and the slices of the groups that its pods' groups' rules
//! name. Prints the objects and bytes in the API, what each agent lists at
//! start and holds, and, per pod churn event (a pod deleted and created
//! again with another address), the slice writes and the watch events and
//! bytes that reach agents, beside two designs users would try first:
//! every agent watching every pod, and every agent watching every slice.
//!
//! `cargo bench -p podsg-model --bench membership -- [pods=150000] [policies=10000] [groups=5000] [nodes=5000] [namespaces=1000] [rounds=2000] [capacity=100] [pod_bytes=4000]`
//! Under `cargo test --benches` (no `--bench`) it runs a small cluster once.

mod runs;
mod synthetic;

use podsg_model::group::SgId;
use podsg_model::settings::Settings;
use podsg_model::slices::{SliceWrite, Slices};
use podsg_model::world::{Changes, World};
use runs::{arg, memory, rounds, sizes};
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};
use synthetic::{Rng, address, cluster, sg};

/// The bytes of one watch event carrying slice `write`, as the API server
/// sends it (JSON; metadata as a real object carries it).
fn event_bytes(write: &SliceWrite) -> usize {
    let (kind, addresses) = match write {
        SliceWrite::Put { addresses, .. } => ("MODIFIED", addresses.iter().map(ToString::to_string).collect()),
        SliceWrite::Delete { .. } => ("DELETED", Vec::new()),
    };
    let group = write.name().rsplit_once('-').map(|(g, _)| g.to_string()).unwrap_or_default();
    let event = serde_json::json!({
        "type": kind,
        "object": {
            "apiVersion": "podsg.io/v1alpha1",
            "kind": "MemberSlice",
            "metadata": {
                "name": write.name(),
                "labels": {"podsg.io/group": group},
                "uid": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
                "resourceVersion": "123456789",
                "generation": 1,
                "creationTimestamp": "2026-11-22T00:00:00Z",
            },
            "addresses": addresses,
        }
    });
    event.to_string().len() + 1
}

struct Percentiles(Vec<f64>);

impl Percentiles {
    fn show(mut self, unit: &str) -> String {
        self.0.sort_by(f64::total_cmp);
        let at = |q: f64| self.0[((self.0.len() - 1) as f64 * q) as usize];
        let mean = self.0.iter().sum::<f64>() / self.0.len() as f64;
        format!(
            "mean {mean:>10.1}{unit}  median {:>10.1}{unit}  p99 {:>10.1}{unit}  max {:>10.1}{unit}",
            at(0.5),
            at(0.99),
            at(1.0)
        )
    }
}

fn main() {
    let (sizes, rounds) = (sizes(), rounds());
    let capacity = arg("capacity", 100);
    let pod_bytes = arg("pod_bytes", 4_000);
    let mut rng = Rng(0x5eed);
    let c = cluster(&sizes, &mut rng);
    let churned: Vec<_> = (0..rounds).map(|_| c.pods[rng.below(c.pods.len())].clone()).collect();
    let node_of = |name: &Option<String>| -> usize {
        name.as_deref().and_then(|n| n.strip_prefix("node-")).and_then(|i| i.parse().ok()).expect("node-N")
    };
    let mut local_pods = vec![0usize; sizes.nodes];
    for p in &c.pods {
        local_pods[node_of(&p.node_name)] += 1;
    }
    let namespaces: BTreeSet<String> = c.pods.iter().map(|p| p.namespace.clone()).collect();

    // The controller's world and slices.
    let mut world = World::new();
    world.apply_settings(Settings { default_group_ids: vec![sg(0)], ..Settings::default() });
    c.groups.into_iter().for_each(|g| drop(world.apply_group(g)));
    c.accounts.into_iter().for_each(|(ns, name, labels)| drop(world.apply_service_account(&ns, &name, labels)));
    c.policies.into_iter().for_each(|p| drop(world.apply_policy(p)));
    c.nodes.into_iter().for_each(|n| drop(world.apply_node(n)));
    c.pods.into_iter().for_each(|w| drop(world.apply_workload(w)));
    let (with_world, _) = memory();
    let ids: Vec<SgId> = (0..sizes.groups).map(sg).collect();
    let mut slices = Slices::new(capacity);
    let mut slice_bytes: HashMap<SgId, usize> = HashMap::new();
    let mut api_bytes = 0;
    for id in &ids {
        let writes = slices.reconcile(id, &world.member_addresses(id));
        let bytes: usize = writes.iter().map(event_bytes).sum();
        slice_bytes.insert(id.clone(), bytes);
        api_bytes += bytes;
    }
    let (with_slices, _) = memory();

    // What each node's agent needs: the groups its pods' groups' rules name.
    let mut needs: Vec<BTreeSet<SgId>> = vec![BTreeSet::new(); sizes.nodes];
    for ns in &namespaces {
        for (w, r) in world.in_namespace(ns) {
            let need = &mut needs[node_of(&w.node_name)];
            for g in r.groups.iter().filter_map(|g| world.group(g)) {
                need.extend(g.referenced_groups().cloned());
            }
        }
    }
    // Which agents watch each group's slices.
    let mut watchers: HashMap<SgId, Vec<u32>> = HashMap::new();
    for (node, need) in needs.iter().enumerate() {
        for id in need {
            watchers.entry(id.clone()).or_default().push(node as u32);
        }
    }
    let groups_needed = Percentiles(needs.iter().map(|n| n.len() as f64).collect());
    let held =
        Percentiles(needs.iter().map(|n| n.iter().map(|g| world.member_count(g)).sum::<usize>() as f64).collect());
    let listed = Percentiles(
        needs
            .iter()
            .zip(&local_pods)
            .map(|(n, pods)| {
                (n.iter().map(|g| slice_bytes.get(g).copied().unwrap_or(0)).sum::<usize>() + pods * pod_bytes) as f64
                    / 1e3
            })
            .collect(),
    );

    println!(
        "{} pods on {} nodes, {} SGPs, {} groups, {} namespaces; slices of {capacity} addresses; a pod object {pod_bytes} B",
        sizes.pods, sizes.nodes, sizes.policies, sizes.groups, sizes.namespaces
    );
    println!(
        "API: {} slices, {:.1} MB (the pods themselves: {:.0} MB); controller resident: {:.0} MB with the world, {:.0} MB with the slices",
        slices.count(),
        api_bytes as f64 / 1e6,
        (sizes.pods * pod_bytes) as f64 / 1e6,
        with_world,
        with_slices,
    );
    println!("per agent: groups watched        {}", groups_needed.show(""));
    println!("per agent: members held (pairs)  {}", held.show(""));
    println!("per agent: listed at start       {}", listed.show(" kB"));
    println!(
        "                 every agent watching every pod lists {:.0} MB at start",
        (sizes.pods * pod_bytes) as f64 / 1e6
    );

    // Pod churn: a pod deleted, and created again with another address.
    let (mut writes_n, mut reached, mut bytes, mut heaviest, mut work) = (vec![], vec![], vec![], vec![], vec![]);
    let (mut all_slices_bytes, mut all_pods_bytes) = (0usize, 0usize);
    for (i, pod) in churned.into_iter().enumerate() {
        let key = pod.key();
        let mut again = pod.clone();
        again.addresses = vec![address(sizes.pods + i)];
        let mut round = |changes: Changes| {
            let start = Instant::now();
            let writes: Vec<SliceWrite> =
                changes.members.iter().flat_map(|(g, delta)| slices.change(g, &delta.added, &delta.removed)).collect();
            work.push(start.elapsed());
            // The pod's own agent sees the pod; the watchers of each
            // group written see its slice.
            let (mut events, mut sent, mut per_agent) = (1usize, pod_bytes, HashMap::<u32, usize>::new());
            for w in &writes {
                let group = SgId::parse(w.name().rsplit_once('-').unwrap().0).unwrap();
                let nodes = watchers.get(&group).map(Vec::as_slice).unwrap_or_default();
                events += nodes.len();
                sent += nodes.len() * event_bytes(w);
                nodes.iter().for_each(|n| *per_agent.entry(*n).or_default() += 1);
                all_slices_bytes += sizes.nodes * event_bytes(w);
            }
            all_pods_bytes += sizes.nodes * pod_bytes;
            writes_n.push(writes.len() as f64);
            reached.push(events as f64);
            bytes.push(sent as f64 / 1e3);
            heaviest.push(per_agent.values().max().copied().unwrap_or(0).max(1) as f64);
        };
        round(world.delete_workload(&key));
        round(world.apply_workload(again));
    }
    let events = reached.len() as f64;
    let work = Percentiles(work.iter().map(Duration::as_secs_f64).map(|s| s * 1e6).collect());
    println!("per pod event ({} events: each churn is a delete and a create):", reached.len());
    println!("  slice writes                     {}", Percentiles(writes_n).show(""));
    println!("  watch events, all agents         {}", Percentiles(reached).show(""));
    println!("  bytes to all agents              {}", Percentiles(bytes.clone()).show(" kB"));
    println!("  most events to one agent         {}", Percentiles(heaviest).show(""));
    println!("  controller slice work            {}", work.show(" µs"));
    let mean_bytes = bytes.iter().sum::<f64>() / events;
    println!(
        "  bytes to all agents, mean: slices by group {:.1} kB; every agent watching every slice {:.1} kB ({:.0}x); every agent watching every pod {:.1} kB ({:.0}x)",
        mean_bytes,
        all_slices_bytes as f64 / events / 1e3,
        all_slices_bytes as f64 / events / 1e3 / mean_bytes,
        all_pods_bytes as f64 / events / 1e3,
        all_pods_bytes as f64 / events / 1e3 / mean_bytes,
    );
}
