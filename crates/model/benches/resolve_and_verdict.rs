//! Resolution of 100k pods against 10k SGPs, and verdicts per second over the
//! resulting endpoints. `cargo bench -p podsg-model`; numbers in BENCHMARKS.md.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use podsg_model::flow::Service;
use podsg_model::group::{SecurityGroup, SgId};
use podsg_model::policy::Policy;
use podsg_model::resolve::{PodFacts, PolicyIndex};
use podsg_model::settings::EnforcingMode;
use podsg_model::verdict::{Decision, Endpoint, Engine, Role};
use podsg_model::workload::Workload;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

const PODS: usize = 100_000;
const POLICIES: usize = 10_000;
const GROUPS: usize = 2_000;

mod synthetic;
use synthetic::{Account, Rng, Sizes, cluster, sg};

fn world(namespaces: usize, rng: &mut Rng) -> (Vec<Policy>, Vec<Workload>, Vec<Account>) {
    let sizes = Sizes { pods: PODS, policies: POLICIES, groups: GROUPS, namespaces, nodes: 50 };
    let c = cluster(&sizes, rng);
    (c.policies, c.pods, c.accounts)
}

fn index(policies: &[Policy], accounts: &[Account]) -> PolicyIndex {
    let mut index = PolicyIndex::new();
    index.set_default_groups(vec![sg(0)]);
    for p in policies {
        index.apply_policy(p.clone());
    }
    for (ns, name, labels) in accounts {
        index.apply_service_account(ns, name, labels.clone());
    }
    index
}

fn facts(p: &Workload) -> PodFacts<'_> {
    PodFacts { namespace: &p.namespace, labels: &p.labels, service_account: &p.service_account, host_network: false }
}

fn groups(rng: &mut Rng) -> BTreeMap<SgId, SecurityGroup> {
    (0..GROUPS).map(|i| synthetic::group(i, GROUPS, rng)).map(|g| (g.id.clone(), g)).collect()
}

fn bench(c: &mut Criterion) {
    let mut rng = Rng(0x5eed);
    for namespaces in [100, 1] {
        let (policies, pods, accounts) = world(namespaces, &mut rng);
        let mut g = c.benchmark_group(format!("resolve_{namespaces}ns"));
        g.sample_size(10);
        g.throughput(Throughput::Elements(POLICIES as u64));
        g.bench_function("index_10k_sgps", |b| b.iter(|| black_box(index(&policies, &accounts))));
        let idx = index(&policies, &accounts);
        g.throughput(Throughput::Elements(PODS as u64));
        g.bench_function("resolve_100k_pods", |b| {
            b.iter(|| pods.iter().map(|p| idx.resolve(facts(p)).groups.len()).sum::<usize>())
        });
        g.finish();
    }

    let (policies, pods, accounts) = world(100, &mut rng);
    let idx = index(&policies, &accounts);
    let groups = groups(&mut rng);
    let endpoints: Vec<Endpoint> = pods
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let r = idx.resolve(facts(p));
            Endpoint {
                id: format!("pod-{i}"),
                role: Role::Pod { node: Some(format!("node-{}", i % 50)), restricted: true },
                addresses: vec![IpAddr::V4(Ipv4Addr::new(10, (i % 8) as u8, (i / 256 % 256) as u8, (i % 256) as u8))],
                groups: r.groups,
                why: String::new(),
            }
        })
        .collect();
    let engine = Engine::new(&groups, EnforcingMode::Strict);
    const FLOWS: usize = 10_000;
    let mut g = c.benchmark_group("verdict");
    g.throughput(Throughput::Elements(FLOWS as u64));
    let flows = |rng: &mut Rng| {
        (0..FLOWS).map(|_| (rng.below(PODS), rng.below(PODS), 1000 + rng.below(120) as u16)).collect::<Vec<_>>()
    };
    let mut bench = |name: &str, allowed: &dyn Fn(&Endpoint, &Endpoint, Service) -> bool| {
        g.bench_function(name, |b| {
            b.iter_batched(
                || flows(&mut rng),
                |flows| {
                    flows
                        .iter()
                        .filter(|(s, d, port)| allowed(&endpoints[*s], &endpoints[*d], Service::Tcp(*port)))
                        .count()
                },
                BatchSize::LargeInput,
            )
        });
    };
    bench("decide_random_pod_pairs", &|s, d, svc| engine.decide(s, d, svc) == Decision::Allow);
    bench("explain_random_pod_pairs", &|s, d, svc| engine.verdict(s, d, svc).verdict == Decision::Allow);
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
