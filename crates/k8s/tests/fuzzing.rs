//! A short round of the randomized harness on every build; the long run
//! (10 million inputs) is `cargo run --release -p podsg-k8s --bin fuzz`.

use podsg_k8s::fuzzing::{Rng, Target, corpus, mutate, run, run_one};
use podsg_k8s::webhook::Rules;

#[test]
fn the_committed_seeds_hold_the_properties() {
    let rules = Rules { controller: "system:serviceaccount:podsg-system:podsg-controller".into() };
    for target in [Target::Admission, Target::Manifests, Target::Watch, Target::Nflog] {
        let seeds = corpus(target).unwrap();
        assert!(seeds.len() >= 8, "{target:?}: {} seeds", seeds.len());
        for seed in &seeds {
            run_one(target, seed, &rules).unwrap();
        }
    }
}

#[test]
fn mutated_inputs_hold_the_properties() {
    for target in [Target::Admission, Target::Manifests, Target::Watch, Target::Nflog] {
        let failures = run(target, &corpus(target).unwrap(), 20_000, 7, 3);
        let shown: Vec<(String, &String)> =
            failures.iter().map(|(i, w)| (String::from_utf8_lossy(i).into_owned(), w)).collect();
        assert!(failures.is_empty(), "{target:?}: {shown:#?}");
    }
}

#[test]
fn mutations_change_inputs_and_stay_reproducible() {
    let corpus = corpus(Target::Admission).unwrap();
    let (mut a, mut b) = (Rng::new(3), Rng::new(3));
    let mut changed = 0;
    for _ in 0..1_000 {
        let x = mutate(&corpus[0], &corpus, &mut a);
        assert_eq!(x, mutate(&corpus[0], &corpus, &mut b), "the same seed, the same input");
        changed += usize::from(x != corpus[0]);
    }
    assert!(changed > 950, "only {changed} of 1000 inputs differ from their seed");
}
