//! What the model's benchmark binaries share: their `name=value`
//! arguments and the process's memory.
#![allow(dead_code)]

/// The value of argument `name=…`, or `default`.
pub fn arg(name: &str, default: usize) -> usize {
    std::env::args()
        .filter_map(|a| a.strip_prefix(&format!("{name}=")).map(str::to_string))
        .next()
        .map_or(default, |v| v.parse().expect("a number"))
}

/// Whether the binary runs as `cargo bench` (full size) rather than under
/// `cargo test --benches` (small, once).
pub fn full() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// The cluster's size: Kubernetes' limits under `cargo bench`, a
/// hundredth under `cargo test --benches`; each overridable by argument.
pub fn sizes() -> crate::synthetic::Sizes {
    let scale = |n: usize| if full() { n } else { (n / 100).max(2) };
    crate::synthetic::Sizes {
        pods: arg("pods", scale(150_000)),
        policies: arg("policies", scale(10_000)),
        groups: arg("groups", scale(5_000)),
        nodes: arg("nodes", scale(5_000)),
        namespaces: arg("namespaces", scale(1_000)),
    }
}

/// How many rounds of each change to time.
pub fn rounds() -> usize {
    arg("rounds", if full() { 2_000 } else { 10 })
}

/// The process's resident and peak memory, in MB.
pub fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches(" kB").parse::<f64>().ok())
    };
    (kb("VmRSS:").unwrap_or(0.0) / 1024.0, kb("VmHWM:").unwrap_or(0.0) / 1024.0)
}
