//! The randomized harness (see `podsg_k8s::fuzzing`):
//! `fuzz admission|manifests|watch|nflog [INPUTS] [SEED]`, on every core. Exit 1 when
//! an input broke a property; the inputs are written to fuzz-failures/.

use podsg_k8s::fuzzing::{Target, corpus, run};
use std::time::Instant;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let target = match args.first().map(String::as_str) {
        Some("admission") => Target::Admission,
        Some("manifests") => Target::Manifests,
        Some("watch") => Target::Watch,
        Some("nflog") => Target::Nflog,
        _ => {
            eprintln!("usage: fuzz admission|manifests|watch|nflog [INPUTS (default 10000000)] [SEED (default 1)]");
            return 2.into();
        }
    };
    let inputs: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10_000_000);
    let seed: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let corpus = corpus(target).expect("the committed corpus");
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get) as u64;
    let started = Instant::now();
    let failures: Vec<(Vec<u8>, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let corpus = &corpus;
                let share = inputs / threads + u64::from(t < inputs % threads);
                scope.spawn(move || run(target, corpus, share, seed.wrapping_add(t * 1_000_003), 10))
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("a fuzz thread")).collect()
    });
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{target:?}: {inputs} inputs from {} seeds on {threads} threads in {seconds:.1} s ({:.0}/s), seed {seed}: {} failures",
        corpus.len(),
        inputs as f64 / seconds,
        failures.len()
    );
    if failures.is_empty() {
        return 0.into();
    }
    std::fs::create_dir_all("fuzz-failures").expect("fuzz-failures/");
    for (i, (input, why)) in failures.iter().enumerate() {
        println!("failure {i}: {why}");
        std::fs::write(format!("fuzz-failures/{target:?}-{i}"), input).expect("writing a failure");
    }
    1.into()
}
