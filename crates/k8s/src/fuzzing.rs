//! A long-running randomized harness for the inputs that come from the
//! network: AdmissionReviews (bytes → decision), manifests (text →
//! decoded objects and diagnostics), and the watch events the node agent's
//! source reads (an object of one of its kinds → the world's input). Each input is a committed seed
//! (`crates/k8s/fuzz/`) changed by a few random mutations, byte-level and
//! YAML/JSON-aware. The properties: nothing panics; an answer always
//! serializes; input that is not JSON is refused; an allowed review answers
//! the UID it was asked with (the API server discards any other answer); a
//! watched object's input has the key its deletion would use (else the
//! agent would hold an object it can never remove); a refused packet read
//! from nfnetlink_log bytes is consistent with itself. `cargo run --release -p podsg-k8s --bin fuzz`
//! runs it; a test runs a short round.

use crate::webhook::{Rules, review};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// What is fuzzed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Admission,
    Manifests,
    /// Watch events as the node agent's source takes them (one JSON line).
    Watch,
    /// Datagrams from nfnetlink_log: refused packets as the node agent reads them.
    Nflog,
}

/// A small, fast generator (xorshift*), reproducible by seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// Fragments that mean something to a YAML or JSON reader.
const TOKENS: &[&str] = &[
    "\"",
    "'",
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\n",
    "\n- ",
    "\n  ",
    "- ",
    "#",
    "&a ",
    "*a",
    "!!str ",
    "!!binary ",
    "|",
    ">",
    "|-",
    "---\n",
    "...\n",
    "null",
    "true",
    "~",
    "0x1F",
    "1e999",
    "-1",
    "99999999999999999999",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\u{2028}",
    "\u{feff}",
    "\t",
    "\r",
    "<<: *a",
    "? ",
    "%YAML 1.2\n",
    "sg-",
    "sg-0a1b",
    "apiVersion",
    "kind",
    "metadata",
    "spec",
    "groupIds",
    "podSelector",
    "matchExpressions",
    "operator",
    "values",
    "ipProtocol",
    "fromPort",
    "icmpv6",
    "vpc.amazonaws.com/pod-eni",
    "CREATE",
    "UPDATE",
    "DELETE",
    "object",
    "oldObject",
    "request",
    "userInfo",
];

/// `seed` changed by one to eight random mutations; `corpus` gives splices.
pub fn mutate(seed: &[u8], corpus: &[Vec<u8>], rng: &mut Rng) -> Vec<u8> {
    let mut out = seed.to_vec();
    for _ in 0..=rng.below(8) {
        let at = rng.below(out.len() + 1);
        match rng.below(8) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 => out.insert(at, rng.next_u64() as u8),
            2 if !out.is_empty() => {
                let len = rng.below(16.min(out.len() - at.min(out.len())) + 1);
                out.drain(at.min(out.len())..(at + len).min(out.len()));
            }
            3 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                out.splice(at..at, token.iter().copied());
            }
            4 if !out.is_empty() => {
                // Repeat a piece (deep nesting, long lists).
                let start = rng.below(out.len());
                let end = (start + rng.below(64) + 1).min(out.len());
                let piece = out[start..end].repeat(rng.below(4) + 1);
                out.splice(at..at, piece);
            }
            5 if !corpus.is_empty() => {
                // Splice in a piece of another seed.
                let other = &corpus[rng.below(corpus.len())];
                let start = rng.below(other.len());
                let end = (start + rng.below(128) + 1).min(other.len());
                out.splice(at..at, other[start..end].iter().copied());
            }
            6 if !out.is_empty() => {
                // Replace a digit run's neighbourhood with an extreme number.
                let i = rng.below(out.len());
                let number: &[u8] =
                    [b"-0".as_slice(), b"65536", b"4294967296", b"-2147483649", b"1.5", b"NaN"][rng.below(6)];
                out.splice(i..(i + 1).min(out.len()), number.iter().copied());
            }
            _ => {
                let i = rng.below(out.len() + 1);
                out.truncate(i.max(out.len() / 2));
            }
        }
    }
    out
}

/// Runs one input; `Err` describes a broken property.
pub fn run_one(target: Target, input: &[u8], rules: &Rules) -> Result<(), String> {
    let outcome = catch_unwind(AssertUnwindSafe(|| match target {
        Target::Admission => {
            let answer = review(input, rules);
            let response = answer.response.as_ref().ok_or("a review without a response")?;
            // Read leniently (serde skips unknown fields without checking
            // their UTF-8, so the decision's reader may accept more).
            let lenient = serde_json::from_str::<serde_json::Value>(&String::from_utf8_lossy(input)).ok();
            let uid = lenient.as_ref().and_then(|v| v.get("request")?.get("uid")?.as_str().map(String::from));
            match (response.allowed, lenient) {
                (true, None) => return Err("input that is not JSON was allowed".into()),
                (true, Some(_)) if uid.as_deref() != Some(response.uid.as_str()) => {
                    return Err(format!("allowed with uid {:?}, asked with {uid:?}", response.uid));
                }
                _ => {}
            }
            serde_json::to_vec(&answer).map_err(|e| format!("the answer does not serialize: {e}"))?;
            Ok(())
        }
        Target::Manifests => {
            let text = String::from_utf8_lossy(input);
            let decoded = podsg_model::decode::decode(&text, "fuzz.yaml", podsg_model::decode::Format::Yaml);
            let _ = podsg_model::Catalog::build_knowing(decoded.objects, decoded.unreadable);
            Ok(())
        }
        Target::Watch => watch_event(input),
        Target::Nflog => nflog_datagram(input),
    }));
    match outcome {
        Ok(result) => result,
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(ToString::to_string))
                .unwrap_or_default();
            Err(format!("panicked: {message}"))
        }
    }
}

/// One watch event through the agent source's reading and its collector.
fn watch_event(input: &[u8]) -> Result<(), String> {
    use crate::agent_source::{Collector, Seen, Watch};
    use crate::sgp_api::SgpApi;
    use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
    let Ok(event) = serde_json::from_slice::<serde_json::Value>(input) else { return Ok(()) };
    let object = event.get("object").cloned().unwrap_or_default();
    let group = object.get("apiVersion").and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let kind = object.get("kind").and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let read = match (kind.as_str(), group.split('/').next().unwrap_or_default()) {
        ("Pod", _) => read::<Pod>(object, Watch::Pods),
        ("ServiceAccount", _) => read::<ServiceAccount>(object, Watch::ServiceAccounts),
        ("SecurityGroupPolicy", "vpcresources.tke.cloud.tencent.com") => {
            read::<crate::crd::tke::SecurityGroupPolicy>(object, Watch::Policies(SgpApi::Tke))
        }
        ("SecurityGroupPolicy", _) => read::<crate::crd::SecurityGroupPolicy>(object, Watch::Policies(SgpApi::Eks)),
        ("SecurityGroup", _) => read::<crate::crd::SecurityGroup>(object, Watch::Groups),
        ("MemberSlice", _) => read::<crate::crd::MemberSlice>(object, Watch::Slices),
        _ => return Ok(()),
    }?;
    let Some((watch, key, input)) = read else { return Ok(()) };
    let mut collector = Collector::new(podsg_model::settings::Settings::default());
    for w in Watch::CONTROL {
        collector.see(w, 0, Seen::Listing);
        collector.see(w, 0, Seen::ListDone);
    }
    let deleted = event.get("type").and_then(|t| t.as_str()) == Some("DELETED");
    collector.see(watch, 0, if deleted { Seen::Deleted(key) } else { Seen::Applied(key, input) });
    collector.report().ok_or("the collector reported nothing after its first lists")?;
    Ok(())
}

/// The object as `K`, its key and its input; `Err` when the input's key is
/// not the object's.
#[allow(clippy::type_complexity)]
fn read<K: crate::agent_source::Fed>(
    object: serde_json::Value,
    watch: crate::agent_source::Watch,
) -> Result<Option<(crate::agent_source::Watch, podsg_model::world::InputKey, Option<podsg_model::world::Input>)>, String>
{
    let Ok(object) = serde_json::from_value::<K>(object) else { return Ok(None) };
    let Some(key) = object.key() else { return Ok(None) };
    let input = object.input().ok();
    if let Some(i) = &input
        && i.key() != key
    {
        return Err(format!("the input's key {:?} is not the object's {key:?}", i.key()));
    }
    Ok(Some((watch, key, input)))
}

/// Runs `inputs` mutated inputs from `corpus`; the failures found (input
/// and what broke), at most `keep`.
pub fn run(target: Target, corpus: &[Vec<u8>], inputs: u64, seed: u64, keep: usize) -> Vec<(Vec<u8>, String)> {
    let rules = Rules { controller: "system:serviceaccount:podsg-system:podsg-controller".into() };
    let mut rng = Rng::new(seed);
    let mut failures = Vec::new();
    for _ in 0..inputs {
        let input = mutate(&corpus[rng.below(corpus.len())], corpus, &mut rng);
        if let Err(why) = run_one(target, &input, &rules) {
            failures.push((input, why));
            if failures.len() >= keep {
                break;
            }
        }
    }
    failures
}

/// A refused packet read from any bytes is consistent with itself: a port
/// only for TCP, UDP and SCTP, an ICMP type only for ICMP and ICMPv6, and
/// addresses of one family.
fn nflog_datagram(input: &[u8]) -> Result<(), String> {
    for r in podsg_nft::parse_nflog(input) {
        if r.port.is_some() && ![6, 17, 132].contains(&r.protocol) {
            return Err(format!("a port for protocol {}", r.protocol));
        }
        if r.icmp.is_some() && ![1, 58].contains(&r.protocol) {
            return Err(format!("an ICMP type for protocol {}", r.protocol));
        }
        if r.source.is_ipv4() != r.destination.is_ipv4() {
            return Err(format!("{} and {} are of two families", r.source, r.destination));
        }
    }
    Ok(())
}

/// The committed seeds of `target`.
pub fn corpus(target: Target) -> std::io::Result<Vec<Vec<u8>>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz").join(match target {
        Target::Admission => "admission",
        Target::Manifests => "manifests",
        Target::Watch => "watch",
        Target::Nflog => "nflog",
    });
    let mut paths: Vec<_> = std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    paths.sort();
    paths.iter().map(std::fs::read).collect()
}
