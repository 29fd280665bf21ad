//! Duration samples for the quantile sketches: buffered as (accumulator, bucket) keys, radix
//! sorted and folded into sketches when the buffer fills.

use std::collections::BTreeMap;

use crate::metrics::sketch::{bucket_of, QuantileSketch};

/// Where the counting loop sends each duration it adds to an accumulator: nowhere without
/// quantiles (the calls compile away), or to [`SketchSamples`].
pub(crate) trait Samples {
    /// A first-response time added to accumulator `acc`.
    fn first_response(&mut self, acc: usize, seconds: i64);
    /// A resolution time added to accumulator `acc`.
    fn resolution(&mut self, acc: usize, seconds: i64);
}

/// No quantiles: nothing recorded.
pub(crate) struct NoSamples;

impl Samples for NoSamples {
    #[inline(always)]
    fn first_response(&mut self, _: usize, _: i64) {}
    #[inline(always)]
    fn resolution(&mut self, _: usize, _: i64) {}
}

/// Duration samples packed as `sketch key << 13 | sketch bucket` (a bucket fits 13 bits), where
/// the key is `acc << 1 | kind` (0 first response, 1 resolution): sorting a buffer of them groups
/// each sketch's buckets into runs. The buffer is folded into the sketches whenever it fills,
/// so memory stays bounded by the groups, not the rows.
pub(crate) struct SketchSamples {
    pub(crate) buffer: Vec<u64>,
    pub(crate) scratch: Vec<u64>,
    /// Samples buffered before a fold.
    pub(crate) limit: usize,
    pub(crate) sketches: BTreeMap<u64, QuantileSketch>,
}

pub(crate) const SAMPLE_BUCKET_BITS: u32 = 13;

/// Samples buffered before a fold: 32 MiB (and as much again while sorting). Fewer folds mean
/// longer runs per sketch bucket, which is what the fold pays for.
pub(crate) const SAMPLE_BUFFER: usize = 1 << 22;

impl SketchSamples {
    pub(crate) fn new(limit: usize) -> Self {
        SketchSamples {
            buffer: Vec::new(),
            scratch: Vec::new(),
            limit,
            sketches: BTreeMap::new(),
        }
    }

    #[inline(always)]
    pub(crate) fn push(&mut self, key: u64, seconds: i64) {
        // The loop adds durations of valid rows only: never negative.
        let bucket = bucket_of(seconds.max(0) as u64);
        self.buffer
            .push(key << SAMPLE_BUCKET_BITS | u64::from(bucket));
        if self.buffer.len() >= self.limit {
            self.fold();
        }
    }

    /// Moves the buffered samples into the sketches.
    #[cold]
    pub(crate) fn fold(&mut self) {
        radix_sort(&mut self.buffer, &mut self.scratch);
        let mut rest = self.buffer.as_slice();
        let mut runs: Vec<(u32, u64)> = Vec::new();
        while let Some(&first) = rest.first() {
            let key = first >> SAMPLE_BUCKET_BITS;
            runs.clear();
            while let Some(&sample) = rest.first() {
                if sample >> SAMPLE_BUCKET_BITS != key {
                    break;
                }
                let run = rest.iter().take_while(|s| **s == sample).count();
                runs.push((
                    (sample & ((1 << SAMPLE_BUCKET_BITS) - 1)) as u32,
                    run as u64,
                ));
                rest = rest.get(run..).unwrap_or(&[]);
            }
            self.sketches
                .entry(key)
                .or_default()
                .add_sorted_buckets(&runs);
        }
        self.buffer.clear();
    }

    pub(crate) fn into_sketches(mut self) -> BTreeMap<u64, QuantileSketch> {
        self.fold();
        self.sketches
    }
}

impl Samples for SketchSamples {
    #[inline(always)]
    fn first_response(&mut self, acc: usize, seconds: i64) {
        self.push((acc as u64) << 1, seconds);
    }
    #[inline(always)]
    fn resolution(&mut self, acc: usize, seconds: i64) {
        self.push((acc as u64) << 1 | 1, seconds);
    }
}

/// Sorts by least-significant-digit radix over the bits in use, 11 at a time (a pass's counts
/// stay in L1): about three passes for the kernel's samples, several times quicker than a
/// comparison sort of them.
pub(crate) fn radix_sort(v: &mut Vec<u64>, scratch: &mut Vec<u64>) {
    const DIGIT: u32 = 11;
    const MASK: u64 = (1 << DIGIT) - 1;
    let bits = 64 - v.iter().copied().fold(0, u64::max).leading_zeros();
    scratch.clear();
    scratch.resize(v.len(), 0);
    let mut shift = 0;
    while shift < bits {
        let mut starts = [0usize; 1 << DIGIT];
        for x in v.iter() {
            if let Some(c) = starts.get_mut(((x >> shift) & MASK) as usize) {
                *c += 1;
            }
        }
        let mut total = 0;
        for c in starts.iter_mut() {
            (*c, total) = (total, total + *c);
        }
        for x in v.iter() {
            if let Some(at) = starts.get_mut(((x >> shift) & MASK) as usize) {
                if let Some(slot) = scratch.get_mut(*at) {
                    *slot = *x;
                }
                *at += 1;
            }
        }
        std::mem::swap(v, scratch);
        shift += DIGIT;
    }
}
