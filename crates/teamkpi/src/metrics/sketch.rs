//! A mergeable quantile sketch for durations in whole seconds, with a relative error under 0.4 %.
//!
//! Values below 256 are kept exactly; larger values fall into log-linear buckets of 128 per power
//! of two (the scheme of HDR histograms with 8 significant bits), and a quantile is reported as its
//! bucket's midpoint, within 1/256 of the true value. Everything is integer arithmetic, so the
//! result is the same on every platform and in every binding. Buckets are counts: merging adds
//! them (associative and commutative) and removing a value subtracts it, which the incremental
//! engine uses to retract a ticket's old contribution.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::metrics::Mergeable;

/// The sketch's bound on relative error (1/256).
pub const SKETCH_RELATIVE_ERROR: f64 = 1.0 / 256.0;

/// A quantile sketch over non-negative integer values.
///
/// ```
/// use teamkpi::metrics::QuantileSketch;
/// let mut s = QuantileSketch::default();
/// for v in [60, 120, 180, 3600, 7200] { s.insert(v); }
/// assert_eq!(s.quantile(0.5), Some(180));
/// let p90 = s.quantile(0.9).unwrap();
/// assert!((p90 as f64 - 7200.0).abs() <= 7200.0 / 256.0);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuantileSketch {
    count: u64,
    #[serde(with = "flat_buckets")]
    buckets: BTreeMap<u32, u64>,
}

/// Buckets serialise as one flat array `[bucket, count, bucket, count, …]`: stored states (live
/// aggregates, rollups) read and write it several times faster than an object with text keys,
/// which is still accepted on reading.
mod flat_buckets {
    use serde::de::{Error, MapAccess, SeqAccess, Visitor};
    use serde::ser::SerializeSeq;
    use serde::{Deserializer, Serializer};
    use std::collections::BTreeMap;

    pub fn serialize<S: Serializer>(b: &BTreeMap<u32, u64>, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(b.len() * 2))?;
        for (k, v) in b {
            seq.serialize_element(&u64::from(*k))?;
            seq.serialize_element(v)?;
        }
        seq.end()
    }

    struct Flat;

    impl<'de> Visitor<'de> for Flat {
        type Value = BTreeMap<u32, u64>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a flat array of bucket and count pairs")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(k) = seq.next_element::<u32>()? {
                let v = seq
                    .next_element::<u64>()?
                    .ok_or_else(|| A::Error::custom("a bucket without its count"))?;
                out.insert(k, v);
            }
            Ok(out)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some((k, v)) = map.next_entry::<u32, u64>()? {
                out.insert(k, v);
            }
            Ok(out)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<u32, u64>, D::Error> {
        d.deserialize_any(Flat)
    }
}

/// The bucket a value falls in (below 7 424 for any `u64`).
pub(crate) fn bucket_of(v: u64) -> u32 {
    if v < 256 {
        return v as u32;
    }
    let e = 63 - v.leading_zeros(); // ≥ 8
    let shift = e - 7;
    let m = (v >> shift) as u32; // 128..=255
    256 + (shift - 1) * 128 + (m - 128)
}

fn midpoint_of(bucket: u32) -> u64 {
    if bucket < 256 {
        return u64::from(bucket);
    }
    let shift = (bucket - 256) / 128 + 1;
    let m = u64::from((bucket - 256) % 128 + 128);
    let lower = m << shift;
    lower + (1u64 << (shift - 1)) - 1
}

impl QuantileSketch {
    /// An empty sketch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a value.
    pub fn insert(&mut self, value: u64) {
        *self.buckets.entry(bucket_of(value)).or_insert(0) += 1;
        self.count += 1;
    }

    /// Adds runs of `(bucket, count)` in increasing bucket order; into an empty sketch they are
    /// built in one pass.
    pub(crate) fn add_sorted_buckets(&mut self, runs: &[(u32, u64)]) {
        let n: u64 = runs.iter().map(|r| r.1).sum();
        if self.buckets.is_empty() {
            self.buckets = runs.iter().copied().collect();
        } else {
            for (b, c) in runs {
                *self.buckets.entry(*b).or_insert(0) += c;
            }
        }
        self.count += n;
    }

    /// Removes a value added before; returns false (and changes nothing) if no such value is
    /// in the sketch.
    pub fn remove(&mut self, value: u64) -> bool {
        let b = bucket_of(value);
        match self.buckets.get_mut(&b) {
            Some(n) if *n > 1 => *n -= 1,
            Some(_) => {
                self.buckets.remove(&b);
            }
            None => return false,
        }
        self.count -= 1;
        true
    }

    /// How many values the sketch holds.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The `q`-quantile (0 ≤ q ≤ 1) by nearest rank: the value of rank ⌈q·n⌉ (at least 1) in
    /// sorted order, exact below 256 and within 1/256 above. `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        if self.count == 0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (b, n) in &self.buckets {
            seen += n;
            if seen >= rank {
                return Some(midpoint_of(*b));
            }
        }
        None
    }
}

impl Mergeable for QuantileSketch {
    fn merge(&mut self, other: &Self) {
        for (b, n) in &other.buckets {
            *self.buckets.entry(*b).or_insert(0) += n;
        }
        self.count += other.count;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_bound_relative_error() {
        for v in (0..5000u64).chain([65_535, 1 << 20, 123_456_789, u64::MAX / 3]) {
            let m = midpoint_of(bucket_of(v));
            let err = (m as f64 - v as f64).abs();
            assert!(err <= v as f64 / 256.0, "{v} -> {m}");
            if v < 256 {
                assert_eq!(m, v);
            }
        }
    }

    #[test]
    fn buckets_fit_in_13_bits() {
        // The columnar kernel packs a bucket into the low 13 bits of a sample.
        assert!(bucket_of(u64::MAX) < 1 << 13);
    }

    #[test]
    fn buckets_are_monotone() {
        let mut prev = 0;
        for v in 0..200_000u64 {
            let b = bucket_of(v);
            assert!(b >= prev);
            prev = b;
        }
    }

    #[test]
    fn remove_undoes_insert() {
        let mut s = QuantileSketch::new();
        s.insert(5);
        s.insert(70_000);
        let before = s.clone();
        s.insert(999);
        assert!(s.remove(999));
        assert_eq!(s, before);
        assert!(!s.remove(12));
    }
}

#[cfg(test)]
mod serde_tests {
    use super::QuantileSketch;

    #[test]
    fn buckets_round_trip_flat_and_read_the_object_form() {
        let mut s = QuantileSketch::new();
        for v in [5, 5, 300, 70_000] {
            s.insert(v);
        }
        let text = serde_json::to_string(&s).unwrap();
        assert!(text.contains(r#""buckets":[5,2,"#), "{text}");
        assert_eq!(serde_json::from_str::<QuantileSketch>(&text).unwrap(), s);
        let old = r#"{"count": 2, "buckets": {"5": 2}}"#;
        let mut two = QuantileSketch::new();
        two.insert(5);
        two.insert(5);
        assert_eq!(serde_json::from_str::<QuantileSketch>(old).unwrap(), two);
    }
}

impl crate::compact::Compact for QuantileSketch {
    /// Count, then the buckets as (bucket delta, count) pairs in bucket order.
    fn put(&self, w: &mut Vec<u8>) {
        use crate::compact::put_u64;
        put_u64(w, self.count);
        put_u64(w, self.buckets.len() as u64);
        let mut last = 0u32;
        for (b, n) in &self.buckets {
            put_u64(w, u64::from(b - last));
            put_u64(w, *n);
            last = *b;
        }
    }

    fn get(r: &mut crate::compact::Reader<'_>) -> crate::error::Result<Self> {
        let count = r.u64()?;
        let n = r.len()?;
        let mut last = 0u32;
        let mut runs = Vec::with_capacity(n);
        for _ in 0..n {
            last = last
                .checked_add(r.u32()?)
                .ok_or_else(|| crate::Error::Storage("a sketch bucket out of range".into()))?;
            runs.push((last, r.u64()?));
        }
        Ok(QuantileSketch {
            count,
            // Sorted and distinct as written: collected in one pass.
            buckets: runs.into_iter().collect(),
        })
    }
}
