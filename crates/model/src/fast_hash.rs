//! A fast, non-cryptographic hasher (the Fx hash of Firefox and rustc) for
//! the world's in-memory indexes, whose keys are not chosen by an attacker
//! in a way that matters (group IDs and addresses of the cluster's own
//! objects); SipHash was a tenth of an SGP edit's time.

use std::hash::{BuildHasherDefault, Hasher};

#[derive(Clone, Copy, Default)]
pub struct FxHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    /// Rotated, as rustc-hash 2 does: the multiply mixes upwards, so the
    /// low bits (which pick a hash table's bucket) depend only on the low
    /// bits of the input. An IPv4 address hashes as its bytes, so without
    /// this 100,000 addresses of one network fell into 16 buckets' worth
    /// of low bits and a member set's inserts took microseconds each.
    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
    }
}

pub type FxBuild = BuildHasherDefault<FxHasher>;
pub type FxHashMap<K, V> = std::collections::HashMap<K, V, FxBuild>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, Hash};

    fn hash(value: impl Hash) -> u64 {
        FxBuild::default().hash_one(value)
    }

    #[test]
    fn equal_keys_hash_alike_and_near_keys_apart() {
        assert_eq!(hash("sg-00000000000000001"), hash(String::from("sg-00000000000000001")));
        let hashes: std::collections::HashSet<u64> = (0..10_000).map(|i| hash(format!("sg-{i:017x}"))).collect();
        assert_eq!(hashes.len(), 10_000, "no collisions among near IDs");
        let addresses: std::collections::HashSet<u64> =
            (0..10_000u32).map(|i| hash(std::net::IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i)))).collect();
        assert_eq!(addresses.len(), 10_000);
    }

    #[test]
    fn the_low_bits_that_pick_a_bucket_spread_addresses() {
        // Every other address of 11.0.0.0/8, as a big member set may be.
        let low: std::collections::HashSet<u64> = (0..100_000u32)
            .map(|i| hash(std::net::IpAddr::from(std::net::Ipv4Addr::from(0x0b00_0000 + 2 * i))) & 0x3_ffff)
            .collect();
        // Random keys would give about 83,000 distinct values in 2^18.
        assert!(low.len() > 60_000, "{} distinct low values", low.len());
    }
}
