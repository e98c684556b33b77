//! The incremental world at Kubernetes' scale limits: 150,000 pods, 10,000
//! SGPs, 5,000 groups, 5,000 nodes. Prints the time to apply everything,
//! the process's memory, and the index time of single changes (a pod's
//! labels, an SGP's groups, an SGP's selector, a group's rule, a ServiceAccount's labels, a
//! pod created and deleted), each as median, 99th percentile and maximum
//! over many rounds, with how much each touched.
//!
//! `cargo bench -p podsg-model --bench world -- [pods=150000] [policies=10000] [groups=5000] [nodes=5000] [namespaces=1000] [rounds=2000]`
//! Under `cargo test --benches` (no `--bench`) it runs a small world once.

mod runs;
mod synthetic;

use podsg_model::labels::{Labels, Selector};
use podsg_model::settings::Settings;
use podsg_model::world::{Changes, World};
use runs::{memory, rounds, sizes};
use std::time::{Duration, Instant};
use synthetic::{Rng, cluster, sg};

/// Median, 99th percentile and maximum of the times, and the mean number
/// of pods and member sets each change touched.
fn report(what: &str, mut times: Vec<Duration>, touched: (usize, usize)) {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    let n = times.len().max(1);
    println!(
        "{what:<28} median {:>8.1} µs   p99 {:>8.1} µs   max {:>8.1} µs   ({} rounds; {:.1} pods, {:.1} member sets changed each)",
        at(0.5).as_secs_f64() * 1e6,
        at(0.99).as_secs_f64() * 1e6,
        times[times.len() - 1].as_secs_f64() * 1e6,
        times.len(),
        touched.0 as f64 / n as f64,
        touched.1 as f64 / n as f64,
    );
}

/// Runs `change` `rounds` times, timing each.
fn measure(rounds: usize, mut change: impl FnMut(usize) -> Changes) -> (Vec<Duration>, (usize, usize)) {
    let mut times = Vec::with_capacity(rounds);
    let mut touched = (0, 0);
    for i in 0..rounds {
        let start = Instant::now();
        let changes = change(i);
        times.push(start.elapsed());
        touched.0 += changes.pods.len();
        touched.1 += changes.members.len();
    }
    (times, touched)
}

fn main() {
    let (sizes, rounds) = (sizes(), rounds());
    let mut rng = Rng(0x5eed);
    let (before, _) = memory();
    let c = cluster(&sizes, &mut rng);
    // Samples to change later (the originals move into the world).
    let pods: Vec<_> = (0..rounds).map(|_| c.pods[rng.below(c.pods.len())].clone()).collect();
    let policies: Vec<_> = (0..rounds).map(|_| c.policies[rng.below(c.policies.len())].clone()).collect();
    let groups: Vec<_> = (0..rounds).map(|_| c.groups[rng.below(c.groups.len())].clone()).collect();
    let accounts: Vec<_> = (0..rounds).map(|_| c.accounts[rng.below(c.accounts.len())].clone()).collect();
    let (generated, _) = memory();

    let start = Instant::now();
    let mut world = World::new();
    world.apply_settings(Settings { default_group_ids: vec![sg(0)], ..Settings::default() });
    for g in c.groups {
        world.apply_group(g);
    }
    for (ns, name, labels) in c.accounts {
        world.apply_service_account(&ns, &name, labels);
    }
    for p in c.policies {
        world.apply_policy(p);
    }
    for n in c.nodes {
        world.apply_node(n);
    }
    for w in c.pods {
        world.apply_workload(w);
    }
    let built = start.elapsed();
    let (rss, peak) = memory();
    println!(
        "world of {} pods, {} SGPs, {} groups, {} nodes in {} namespaces",
        sizes.pods, sizes.policies, sizes.groups, sizes.nodes, sizes.namespaces
    );
    println!(
        "apply everything: {:.2} s; resident {:.0} MB (peak {:.0} MB; {:.0} MB before generating, {:.0} MB generated)",
        built.as_secs_f64(),
        rss,
        peak,
        before,
        generated - before,
    );

    let (times, touched) = measure(rounds, |i| {
        let mut pod = pods[i].clone();
        pod.labels.insert("app".into(), format!("app-{}", i % 7));
        world.apply_workload(pod)
    });
    report("pod label change", times, touched);

    let (times, touched) = measure(rounds, |i| {
        let mut policy = policies[i].clone();
        policy.group_ids = vec![sg(i % sizes.groups), sg((i * 7 + 1) % sizes.groups)];
        world.apply_policy(policy)
    });
    report("SGP groups edit", times, touched);

    let (times, touched) = measure(rounds, |i| {
        let mut policy = policies[i].clone();
        policy.pod_selector = Some(Selector::new(vec![Selector::equals("app", &format!("app-{}", i % 7))]));
        world.apply_policy(policy)
    });
    report("SGP selector edit", times, touched);

    let (times, touched) = measure(rounds, |i| {
        let mut group = groups[i].clone();
        if let Some(rule) = group.ingress.first_mut() {
            rule.ports = podsg_model::group::Ports::Range { from: 2000 + (i % 100) as u16, to: 2100 };
        }
        world.apply_group(group)
    });
    report("SG rule edit", times, touched);

    let (times, touched) = measure(rounds, |i| {
        let (ns, name, _) = &accounts[i];
        world.apply_service_account(ns, name, Labels::from([("team".to_string(), format!("team-{}", i % 3))]))
    });
    report("ServiceAccount label change", times, touched);

    let (times, touched) = measure(rounds, |i| {
        let mut pod = pods[i].clone();
        pod.name = format!("{}-new", pod.name);
        let key = pod.key();
        let mut changes = world.apply_workload(pod);
        let deleted = world.delete_workload(&key);
        changes.pods.extend(deleted.pods);
        changes
    });
    report("pod created and deleted", times, touched);
}
