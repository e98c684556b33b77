//! `podsg diff` at 5,000 pods: the flows a change touches, found and
//! explained. `cargo bench -p podsg-model --bench diff`; numbers in
//! BENCHMARKS.md. Each case prints how many pairs of endpoint classes and
//! probes it asked, and what changed.

use criterion::{Criterion, criterion_group, criterion_main};
use podsg_model::Catalog;
use podsg_model::flow_diff::{Change, diff};
use podsg_model::group::{Peer, Ports, Protocol, Rule};
use std::hint::black_box;

mod synthetic;
use synthetic::{Rng, Sizes, cluster, sg};

const PODS: usize = 5_000;

fn catalog() -> Catalog {
    let sizes = Sizes { pods: PODS, policies: 500, groups: 200, namespaces: 50, nodes: 50 };
    let c = cluster(&sizes, &mut Rng(0xd1ff));
    let mut out = Catalog::default();
    out.groups = c.groups.into_iter().map(|g| (g.id.clone(), g)).collect();
    out.workloads = c.pods;
    out.nodes = c.nodes;
    out.settings.default_group_ids = vec![sg(0)];
    out.index.set_default_groups(vec![sg(0)]);
    for p in c.policies {
        out.index.apply_policy(p);
    }
    for (ns, name, labels) in c.accounts {
        out.index.apply_service_account(&ns, &name, labels);
    }
    out
}

fn bench(c: &mut Criterion) {
    let old = catalog();
    // One group's rule opens a new port to another group.
    let mut rule_added = old.clone();
    rule_added.groups.get_mut(&sg(7)).unwrap().ingress.push(Rule {
        protocol: Protocol::TCP,
        ports: Ports::Range { from: 5432, to: 5432 },
        peers: vec![Peer::Group { id: sg(9), description: None }],
    });
    // One group's rules narrowed: its first rule removed.
    let mut rule_removed = old.clone();
    rule_removed.groups.get_mut(&sg(11)).unwrap().ingress.remove(0);
    let cases = [("unchanged", &old), ("one_rule_added", &rule_added), ("one_rule_removed", &rule_removed)];
    for (name, new) in cases {
        let d = diff(&old, new);
        eprintln!(
            "diff {name}: {} pairs of endpoint classes, {} probes; {} newly allowed, {} newly denied, {} unknown",
            d.pairs,
            d.probes,
            d.of(Change::NewlyAllowed).count(),
            d.of(Change::NewlyDenied).count(),
            d.of(Change::Unknown).count()
        );
    }
    let mut g = c.benchmark_group("diff_5k_pods");
    g.sample_size(10);
    for (name, new) in cases {
        g.bench_function(name, |b| b.iter(|| black_box(diff(&old, new))));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
