//! Resolution of 100k pods against 10k SGPs, and verdicts per second over the
//! resulting endpoints. `cargo bench -p podsg-model`; numbers in BENCHMARKS.md.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use podsg_model::flow::Service;
use podsg_model::group::{Peer, Ports, Protocol, Rule, SecurityGroup, SgId};
use podsg_model::labels::{Labels, Operator, Requirement, Selector};
use podsg_model::policy::Policy;
use podsg_model::resolve::{PodFacts, PolicyIndex};
use podsg_model::settings::EnforcingMode;
use podsg_model::verdict::{Decision, Endpoint, Engine, Role};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

const PODS: usize = 100_000;
const POLICIES: usize = 10_000;
const GROUPS: usize = 2_000;

/// A small deterministic generator (xorshift64*), so runs compare.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn sg(i: usize) -> SgId {
    SgId::parse(&format!("sg-{i:017x}")).unwrap()
}

struct Pod {
    namespace: String,
    labels: Labels,
    service_account: String,
}

/// `namespaces` namespaces; one SGP per namespace selects every pod (an
/// empty selector), one in ten select by service account labels (a team),
/// the rest `app=app-N`, a fifth of those with a `tier in (web, db)`
/// expression. Pods carry app, tier and version labels and one of 40
/// service accounts.
/// `(namespace, name, labels)` of a service account.
type Account = (String, String, Labels);

fn world(namespaces: usize, rng: &mut Rng) -> (Vec<Policy>, Vec<Pod>, Vec<Account>) {
    let apps_per_ns = (POLICIES / namespaces).max(1);
    let teams = (apps_per_ns / 10).max(1);
    let ns = |i: usize| format!("ns-{i}");
    let policies = (0..POLICIES)
        .map(|i| {
            let namespace = ns(i % namespaces);
            let groups = (0..1 + rng.below(3)).map(|_| sg(rng.below(GROUPS))).collect();
            let (pod_selector, sa_selector) = match i % 100 {
                _ if i < namespaces => (Some(Selector::everything()), None),
                1..=10 => {
                    (None, Some(Selector::new(vec![Selector::equals("team", &format!("team-{}", rng.below(teams)))])))
                }
                11..=30 => (
                    Some(Selector::new(vec![
                        Selector::equals("app", &format!("app-{}", rng.below(apps_per_ns))),
                        Requirement { key: "tier".into(), operator: Operator::In(["web".into(), "db".into()].into()) },
                    ])),
                    None,
                ),
                _ => (
                    Some(Selector::new(vec![Selector::equals("app", &format!("app-{}", rng.below(apps_per_ns)))])),
                    None,
                ),
            };
            Policy {
                namespace,
                name: format!("sgp-{i}"),
                pod_selector,
                service_account_selector: sa_selector,
                service_account_names: Vec::new(),
                group_ids: groups,
            }
        })
        .collect();
    let tiers = ["web", "db", "cache"];
    let pods = (0..PODS)
        .map(|i| Pod {
            namespace: ns(i % namespaces),
            labels: [
                ("app".to_string(), format!("app-{}", rng.below(apps_per_ns * 2))),
                ("tier".to_string(), tiers[rng.below(3)].to_string()),
                ("version".to_string(), format!("v{}", rng.below(5))),
            ]
            .into(),
            service_account: format!("sa-{}", rng.below(40)),
        })
        .collect();
    let accounts = (0..namespaces)
        .flat_map(|n| {
            (0..40).map(move |a| {
                (ns(n), format!("sa-{a}"), Labels::from([("team".to_string(), format!("team-{}", a % teams))]))
            })
        })
        .collect();
    (policies, pods, accounts)
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

fn facts(p: &Pod) -> PodFacts<'_> {
    PodFacts { namespace: &p.namespace, labels: &p.labels, service_account: &p.service_account, host_network: false }
}

/// Groups with a few rules each, half by group reference, half by CIDR.
fn groups(rng: &mut Rng) -> BTreeMap<SgId, SecurityGroup> {
    (0..GROUPS)
        .map(|i| {
            let mut g = SecurityGroup::new(sg(i));
            g.ingress = (0..3)
                .map(|_| {
                    let port = 1000 + rng.below(100) as u16;
                    let peer = if rng.below(2) == 0 {
                        Peer::Group { id: sg(rng.below(GROUPS)), description: None }
                    } else {
                        Peer::Cidr { cidr: format!("10.{}.0.0/16", rng.below(4)).parse().unwrap(), description: None }
                    };
                    Rule {
                        protocol: Protocol::TCP,
                        ports: Ports::Range { from: port, to: port + 10 },
                        peers: vec![peer],
                    }
                })
                .collect();
            (g.id.clone(), g)
        })
        .collect()
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
