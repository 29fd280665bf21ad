//! Fast, deterministic hashing for the in-memory indexes (ticket ids, aggregate keys, event ids).
//!
//! std's default SipHash is built to resist hash flooding from untrusted keys; these maps hold
//! the host's own ids and cost a few nanoseconds per probe instead. Maps keyed with them are
//! never iterated into output without sorting, so results stay deterministic.

use std::hash::{BuildHasherDefault, Hasher};

const K: u64 = 0x517C_C1B7_2722_0A95;

/// A word-at-a-time multiplicative hasher (the Fx scheme), with a final mix so that the low
/// bits hashbrown indexes by depend on every bit of the key.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FastHasher(u64);

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 29)
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_i32(&mut self, n: i32) {
        self.add(n as u32 as u64);
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    #[inline]
    fn write_isize(&mut self, n: isize) {
        self.add(n as u64);
    }
}

/// Builds [`FastHasher`]s for `HashMap` / `HashSet`.
pub(crate) type FastBuild = BuildHasherDefault<FastHasher>;

/// A 64-bit fingerprint of an id's bytes (FNV-1a, then mixed). Equal ids give equal
/// fingerprints; callers confirm a match against the stored id.
pub(crate) fn fingerprint(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for b in bytes {
        h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01B3);
    }
    (h ^ (h >> 32)).wrapping_mul(0xD6E8_FEB8_6659_FD93)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, Hash};

    fn hash<T: Hash>(v: &T) -> u64 {
        FastBuild::default().hash_one(v)
    }

    #[test]
    fn every_part_of_a_key_counts() {
        assert_ne!(hash(&(1u64, 2i32)), hash(&(1u64, 3i32)));
        assert_ne!(hash(&(1u64, 2i32)), hash(&(2u64, 2i32)));
        assert_ne!(hash(&Some(5u64)), hash(&None::<u64>));
        assert_ne!(hash(&"abcdefghi"), hash(&"abcdefghj"));
        assert_eq!(fingerprint(b"evt-1"), fingerprint(b"evt-1"));
        assert_ne!(fingerprint(b"evt-1"), fingerprint(b"evt-2"));
    }
}
