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

/// A 64-bit fingerprint of an id's bytes, eight at a time (event ids are often 36-byte UUIDs:
/// five mixing steps instead of 36 dependent multiplies byte by byte), then avalanched. Equal
/// ids give equal fingerprints; callers confirm a match against the stored id.
pub(crate) fn fingerprint(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let step = |h: u64, word: u64| (h ^ word).wrapping_mul(K).rotate_left(29);
    let mut h = (bytes.len() as u64).wrapping_mul(K);
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        h = step(h, u64::from_le_bytes(b));
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut b = [0u8; 8];
        for (d, s) in b.iter_mut().zip(rest) {
            *d = *s;
        }
        h = step(h, u64::from_le_bytes(b));
    }
    // MurmurHash3's finaliser: every input bit reaches the high bits the engine keeps.
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    h = h.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    h ^ (h >> 33)
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
        // The length counts (a trailing zero byte is not padding), and so does every byte of a
        // long id.
        assert_ne!(fingerprint(b"a"), fingerprint(b"a\0"));
        assert_ne!(fingerprint(b""), fingerprint(b"\0"));
        let uuid = *b"0b6f8e1c-3a4d-4f6e-9a7b-1c2d3e4f5a6b";
        for i in 0..uuid.len() {
            let mut other = uuid;
            other[i] ^= 1;
            assert_ne!(
                fingerprint(&uuid) >> 32,
                fingerprint(&other) >> 32,
                "byte {i}"
            );
        }
    }
}
