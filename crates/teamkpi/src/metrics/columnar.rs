//! Ticket metrics from columnar slices (struct of arrays), for Arrow, numpy and bulk exports.
//!
//! Columns carry the W1 subset of a ticket: agent, priority, created, first response, resolved.
//! Instants are Unix seconds; a missing instant is [`NULL_INSTANT`] (`i64::MIN`, numpy's NaT).
//! The result equals the row path ([`TicketMetricsAggregator`]) over the same tickets. Without
//! a business calendar or a non-24/7 SLA calendar, a dense kernel does the work: one hash probe
//! per ticket for its agent and array arithmetic for the rest. With quantiles, the kernel also
//! records each duration's sketch bucket, and the sketches are built from those samples sorted.

use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::metrics::aggregate::TicketAggregate;
use crate::metrics::batch::{
    Bucketing, GroupBy, GroupKey, MetricsOptions, RejectedRecord, TicketMetrics,
    TicketMetricsAggregator, TicketMetricsReport, TicketMetricsState,
};
use crate::metrics::records::Ticket;
use crate::metrics::repeats::{KeptRows, RowCopy};
use crate::metrics::sketch::{bucket_of, QuantileSketch};
use crate::metrics::Mergeable;
use crate::period::{local_midnight, PeriodKind, ZoneOffsets};

/// A missing instant in a column (numpy's NaT has the same bits).
pub const NULL_INSTANT: i64 = i64::MIN;

/// The W1 columns of a ticket table. All slices have the same length.
#[derive(Debug, Clone, Copy)]
pub struct TicketColumns<'a> {
    /// Ticket ids (for rejection reports); `None` numbers them by position.
    pub id: Option<&'a [u64]>,
    /// Assignee ids.
    pub agent_id: &'a [u64],
    /// Which assignee ids are present; `None` means all.
    pub agent_valid: Option<&'a [bool]>,
    /// Priority codes, indexes into `priority_labels`; `None` means no priority.
    pub priority: Option<&'a [u32]>,
    /// The labels priority codes stand for.
    pub priority_labels: &'a [String],
    /// Creation, Unix seconds.
    pub created_at: &'a [i64],
    /// First response, Unix seconds or [`NULL_INSTANT`].
    pub first_response_at: &'a [i64],
    /// Resolution, Unix seconds or [`NULL_INSTANT`].
    pub resolved_at: &'a [i64],
}

impl<'a> TicketColumns<'a> {
    pub(crate) fn len(&self) -> Result<usize> {
        let n = self.created_at.len();
        let lengths = [
            self.agent_id.len(),
            self.first_response_at.len(),
            self.resolved_at.len(),
            self.id.map_or(n, <[u64]>::len),
            self.agent_valid.map_or(n, <[bool]>::len),
            self.priority.map_or(n, <[u32]>::len),
        ];
        if lengths.iter().any(|l| *l != n) {
            return Err(Error::argument(
                "columns",
                "all columns must have the same length",
            ));
        }
        Ok(n)
    }

    /// Rows `start..end` (clamped to the columns' length).
    pub fn slice(&self, start: usize, end: usize) -> TicketColumns<'a> {
        fn cut<T>(v: &[T], start: usize, end: usize) -> &[T] {
            let end = end.min(v.len());
            v.get(start.min(end)..end).unwrap_or(&[])
        }
        TicketColumns {
            id: self.id.map(|v| cut(v, start, end)),
            agent_id: cut(self.agent_id, start, end),
            agent_valid: self.agent_valid.map(|v| cut(v, start, end)),
            priority: self.priority.map(|v| cut(v, start, end)),
            priority_labels: self.priority_labels,
            created_at: cut(self.created_at, start, end),
            first_response_at: cut(self.first_response_at, start, end),
            resolved_at: cut(self.resolved_at, start, end),
        }
    }

    fn instant(t: i64) -> Option<DateTime<Utc>> {
        if t == NULL_INSTANT {
            None
        } else {
            DateTime::from_timestamp(t, 0)
        }
    }

    /// Row `i` as a [`Ticket`] (for the general path and for checks).
    pub fn ticket(&self, i: usize) -> Option<Ticket> {
        let created_at = Self::instant(*self.created_at.get(i)?)?;
        let valid = self
            .agent_valid
            .and_then(|v| v.get(i).copied())
            .unwrap_or(true);
        let priority = match self.priority {
            Some(p) => {
                let code = *p.get(i)? as usize;
                Some(self.priority_labels.get(code)?.clone())
            }
            None => None,
        };
        Some(Ticket {
            id: self
                .id
                .and_then(|ids| ids.get(i).copied())
                .unwrap_or(i as u64),
            agent_id: if valid {
                self.agent_id.get(i).copied()
            } else {
                None
            },
            priority,
            created_at,
            first_response_at: Self::instant(*self.first_response_at.get(i)?),
            resolved_at: Self::instant(*self.resolved_at.get(i)?),
            ..Ticket::default()
        })
    }
}

/// Accumulators of the dense kernel: 32-bit counters (one call counts at most `u32::MAX` tickets
/// per group and bucket; `ticket_metrics_columns` splits longer inputs) and 64-bit sums, 40
/// bytes. A slot holds either rows with an assignee or rows without one (team and tenant
/// grouping use two slots, merged on output), so the tickets created there are also the tickets
/// assigned there, or none: one counter serves both, and a day of 1 000 agents fits in L1.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C)]
struct Acc {
    fr_sum: i64,
    res_sum: i64,
    created: u32,
    /// Of `created`, the ones resolved by the period's end (or `as_of`).
    created_resolved: u32,
    resolved: u32,
    fr_count: u32,
    sla_met: u32,
    sla_breached: u32,
}

impl Acc {
    fn touched(&self) -> bool {
        self.created > 0
            || self.resolved > 0
            || self.fr_count > 0
            || self.sla_met > 0
            || self.sla_breached > 0
    }

    /// The aggregate of these counts, for a slot of rows with an assignee (`assigned`) or
    /// without; with `quantiles`, its duration stats keep sketches (filled by the caller).
    fn to_aggregate(self, assigned: bool, quantiles: bool) -> TicketAggregate {
        let mut a = TicketAggregate {
            tickets_assigned: if assigned { u64::from(self.created) } else { 0 },
            assigned_resolved: if assigned {
                u64::from(self.created_resolved)
            } else {
                0
            },
            tickets_created: u64::from(self.created),
            tickets_resolved: u64::from(self.resolved),
            sla_met: u64::from(self.sla_met),
            sla_breached: u64::from(self.sla_breached),
            ..TicketAggregate::new(quantiles)
        };
        a.first_response.count = u64::from(self.fr_count);
        a.first_response.sum = self.fr_sum;
        a.resolution.count = u64::from(self.resolved);
        a.resolution.sum = self.res_sum;
        a
    }
}

/// Where the counting loop sends each duration it adds to an accumulator: nowhere without
/// quantiles (the calls compile away), or to [`SketchSamples`].
trait Samples {
    /// A first-response time added to accumulator `acc`.
    fn first_response(&mut self, acc: usize, seconds: i64);
    /// A resolution time added to accumulator `acc`.
    fn resolution(&mut self, acc: usize, seconds: i64);
}

/// No quantiles: nothing recorded.
struct NoSamples;

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
struct SketchSamples {
    buffer: Vec<u64>,
    scratch: Vec<u64>,
    /// Samples buffered before a fold.
    limit: usize,
    sketches: BTreeMap<u64, QuantileSketch>,
}

const SAMPLE_BUCKET_BITS: u32 = 13;
/// Samples buffered before a fold: 32 MiB (and as much again while sorting). Fewer folds mean
/// longer runs per sketch bucket, which is what the fold pays for.
const SAMPLE_BUFFER: usize = 1 << 22;

impl SketchSamples {
    fn new(limit: usize) -> Self {
        SketchSamples {
            buffer: Vec::new(),
            scratch: Vec::new(),
            limit,
            sketches: BTreeMap::new(),
        }
    }

    #[inline(always)]
    fn push(&mut self, key: u64, seconds: i64) {
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
    fn fold(&mut self) {
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

    fn into_sketches(mut self) -> BTreeMap<u64, QuantileSketch> {
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

/// An agent id → dense index table (open addressing, deterministic hashing).
struct AgentIndex {
    keys: Vec<u64>,
    slots: Vec<u32>,
    mask: usize,
    count: usize,
    /// For small ids (the common case: database serials), a direct id → index table.
    direct: Vec<u32>,
}

/// Ids below this use the direct table (256 KiB at most).
const DIRECT_IDS: u64 = 1 << 16;

const EMPTY: u32 = u32::MAX;

impl AgentIndex {
    fn new() -> Self {
        AgentIndex {
            keys: Vec::new(),
            slots: vec![EMPTY; 1024],
            mask: 1023,
            count: 0,
            direct: Vec::new(),
        }
    }

    #[inline]
    fn hash(k: u64) -> usize {
        (k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize
    }

    /// The dense index of `k`, inserting it when new. Small ids take the direct table inline;
    /// the rest go to the (out-of-line) hash table.
    #[inline(always)]
    fn get_or_insert(&mut self, k: u64) -> usize {
        if let Some(slot) = self.direct.get(k as usize) {
            if k < DIRECT_IDS && *slot != EMPTY {
                return *slot as usize;
            }
        }
        self.insert_slow(k)
    }

    #[inline(never)]
    fn insert_slow(&mut self, k: u64) -> usize {
        if k < DIRECT_IDS {
            // Small ids (database serials) index a direct table, grown on demand.
            let at = k as usize;
            if at >= self.direct.len() {
                self.direct.resize((at + 1).next_power_of_two(), EMPTY);
            }
            if let Some(slot) = self.direct.get_mut(at) {
                if *slot == EMPTY {
                    *slot = self.count as u32;
                    self.keys.push(k);
                    self.count += 1;
                }
                return *slot as usize;
            }
        }
        let mut i = Self::hash(k) & self.mask;
        loop {
            let s = self.slots[i];
            if s == EMPTY {
                break;
            }
            if self.keys[s as usize] == k {
                return s as usize;
            }
            i = (i + 1) & self.mask;
        }
        let idx = self.count;
        self.slots[i] = idx as u32;
        self.keys.push(k);
        self.count += 1;
        if self.count * 2 > self.slots.len() {
            self.grow();
        }
        idx
    }

    fn grow(&mut self) {
        let size = self.slots.len() * 2;
        self.slots = vec![EMPTY; size];
        self.mask = size - 1;
        for (idx, k) in self.keys.iter().enumerate() {
            let mut i = Self::hash(*k) & self.mask;
            while self.slots[i] != EMPTY {
                i = (i + 1) & self.mask;
            }
            self.slots[i] = idx as u32;
        }
    }
}

/// Maps local day numbers to bucket ordinals over a known range of days.
struct DenseBuckets {
    first_day: i64,
    /// Per local day (from `first_day`): its bucket ordinal, or `u32::MAX` outside windows.
    day_to_bucket: Vec<u32>,
    /// Per bucket: (first day, last day, UTC end instant).
    buckets: Vec<(NaiveDate, NaiveDate, i64)>,
}

const MAX_DENSE_DAYS: i64 = 4 * 366;

/// How far past the last creation the dense layout reaches before a row counts as late (see
/// [`dense_kernel`]): a week, where most answers and resolutions of the last days fall (W1's
/// within three). Empty days cost only their zeroed accumulators; a DST change inside the
/// margin sends the counting to the general bucket function, as one inside the data does.
const LATE_MARGIN: i64 = 7 * 86_400;

fn date_of_day(day: i64) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(day + 719_163).ok()?)
}

impl DenseBuckets {
    fn new(options: &MetricsOptions, first_day: i64, last_day: i64) -> Option<Self> {
        if last_day - first_day > MAX_DENSE_DAYS {
            return None;
        }
        let mut day_to_bucket = Vec::with_capacity((last_day - first_day + 1) as usize);
        let mut buckets: Vec<(NaiveDate, NaiveDate, i64)> = Vec::new();
        for day in first_day..=last_day {
            let date = date_of_day(day)?;
            match options.bucketing.bucket(date) {
                Some((start, end)) => {
                    if buckets.last().map(|b| b.0) != Some(start) {
                        let after = end.succ_opt()?;
                        let end_utc = local_midnight(options.timezone, after).timestamp();
                        buckets.push((start, end, end_utc));
                    }
                    day_to_bucket.push((buckets.len() - 1) as u32);
                }
                None => day_to_bucket.push(u32::MAX),
            }
        }
        Some(DenseBuckets {
            first_day,
            day_to_bucket,
            buckets,
        })
    }

    #[inline]
    fn bucket(&self, day: i64) -> Option<usize> {
        let b = *self
            .day_to_bucket
            .get(usize::try_from(day - self.first_day).ok()?)?;
        (b != u32::MAX).then_some(b as usize)
    }
}

/// Computes ticket metrics from columns; invalid rows are reported in `rejected`.
///
/// ```
/// use teamkpi::metrics::{ticket_metrics_columns, MetricsOptions, TicketColumns, NULL_INSTANT};
/// let created = [1_762_160_400, 1_762_164_000]; // 2025-11-03 09:00 and 10:00 UTC
/// let cols = TicketColumns {
///     id: None, agent_id: &[7, 7], agent_valid: None, priority: None, priority_labels: &[],
///     created_at: &created,
///     first_response_at: &[1_762_162_200, NULL_INSTANT],
///     resolved_at: &[1_762_174_800, NULL_INSTANT],
/// };
/// let mut options = MetricsOptions::daily(chrono_tz::UTC);
/// options.quantiles = false;
/// let report = ticket_metrics_columns(&cols, &options).unwrap();
/// assert_eq!(report.rows[0].tickets_assigned, 2);
/// assert_eq!(report.rows[0].avg_first_response_seconds, Some(1800.into()));
/// ```
pub fn ticket_metrics_columns(
    columns: &TicketColumns<'_>,
    options: &MetricsOptions,
) -> Result<TicketMetricsReport> {
    let n = columns.len()?;
    // The options are checked as the row aggregator checks them, whatever path counts.
    options.bucketing.validate()?;
    if let Some(kept) = KeptRows::of(columns) {
        let mut report = ticket_metrics_columns(&kept.columns(columns), options)?;
        kept.restore(&mut report.rejected);
        return Ok(report);
    }
    if options.dense_eligible() && n <= u32::MAX as usize {
        if let Some(totals) = dense_kernel(columns, options, n)? {
            return Ok(totals.into_report());
        }
    }
    // The general path: each row as a ticket through the row aggregator.
    let mut agg = ColumnarAggregator::new(options.clone())?;
    agg.rejected = agg.add_rows(columns, n);
    agg.seen = n;
    Ok(agg.finish())
}

/// Ticket metrics over a stream of column chunks (Arrow record batches, numpy chunks, pages of
/// a database export): memory grows with the number of (group, period) pairs, not with the
/// rows. Each chunk goes through the same kernel as [`ticket_metrics_columns`], and the
/// chunks' mergeable states are merged, so any chunking gives the same result as one call.
///
/// ```
/// use teamkpi::metrics::{ColumnarAggregator, MetricsOptions, TicketColumns, NULL_INSTANT};
/// let mut options = MetricsOptions::daily(chrono_tz::UTC);
/// options.quantiles = false;
/// let mut agg = ColumnarAggregator::new(options).unwrap();
/// for created in [[1_762_160_400_i64], [1_762_164_000]] {
///     agg.add(&TicketColumns {
///         id: None, agent_id: &[7], agent_valid: None, priority: None, priority_labels: &[],
///         created_at: &created, first_response_at: &[NULL_INSTANT], resolved_at: &[NULL_INSTANT],
///     }).unwrap();
/// }
/// let report = agg.finish();
/// assert_eq!(report.rows[0].tickets_assigned, 2);
/// ```
#[derive(Debug, Clone)]
pub struct ColumnarAggregator {
    inner: TicketMetricsAggregator,
    rejected: Vec<RejectedRecord>,
    seen: usize,
}

impl ColumnarAggregator {
    /// A new computation.
    pub fn new(options: MetricsOptions) -> Result<Self> {
        Ok(ColumnarAggregator {
            inner: TicketMetricsAggregator::new(options)?,
            rejected: Vec::new(),
            seen: 0,
        })
    }

    /// Counts one chunk. Invalid rows are recorded as rejected (their `index`, and their `id` when
    /// the chunk has no id column, count from the first row of the first chunk); only columns of
    /// unequal lengths fail the call. A chunk is one batch: a second copy of an id in it is
    /// rejected as `duplicate_record` (the first copy counts); ids are not remembered across
    /// chunks, so memory stays flat.
    pub fn add(&mut self, columns: &TicketColumns<'_>) -> Result<()> {
        let n = columns.len()?;
        match KeptRows::of(columns) {
            None => self.add_unique(columns, n),
            Some(kept) => {
                let offset = self.seen;
                let cols = kept.columns(columns);
                let mut rejected = self.count(&cols, cols.len()?)?;
                kept.restore(&mut rejected);
                self.record(rejected, offset, columns.id.is_none());
                self.seen = offset + n;
                Ok(())
            }
        }
    }

    /// [`ColumnarAggregator::add`] for a chunk known to hold no repeated id.
    fn add_unique(&mut self, columns: &TicketColumns<'_>, n: usize) -> Result<()> {
        let offset = self.seen;
        let rejected = self.count(columns, n)?;
        self.record(rejected, offset, columns.id.is_none());
        self.seen += n;
        Ok(())
    }

    /// Keeps a chunk's rejections, numbered from the first row of the first chunk.
    fn record(&mut self, mut rejected: Vec<RejectedRecord>, offset: usize, by_position: bool) {
        for r in &mut rejected {
            r.index += offset;
            if by_position {
                // Without an id column a row is known by its position in the whole input.
                r.id = r.index as u64;
            }
        }
        self.rejected.append(&mut rejected);
    }

    /// Counts a chunk's rows; returns the rejections with chunk positions.
    fn count(&mut self, columns: &TicketColumns<'_>, n: usize) -> Result<Vec<RejectedRecord>> {
        let options = self.inner.options();
        Ok(if options.dense_eligible() && n <= u32::MAX as usize {
            match dense_kernel(columns, options, n)? {
                Some(mut totals) => {
                    let q = options.quantiles;
                    let state = self.inner.state_mut();
                    totals.for_each(|g, start, end, agg| {
                        state.entry(g.clone(), (start, end), q).merge(&agg);
                    });
                    totals.rejected
                }
                None => self.add_rows(columns, n),
            }
        } else {
            self.add_rows(columns, n)
        })
    }

    fn add_rows(&mut self, columns: &TicketColumns<'_>, n: usize) -> Vec<RejectedRecord> {
        let mut rejected = Vec::new();
        for i in 0..n {
            let added = match columns.ticket(i) {
                Some(t) => self.inner.add(&t),
                None => Err(missing_creation(columns, i)),
            };
            if let Err(e) = added {
                rejected.push(reject(columns, i, &e));
            }
        }
        rejected
    }

    /// A computation whose first row is row `offset` of a larger input (a parallel share).
    fn starting_at(options: MetricsOptions, offset: usize) -> Result<Self> {
        let mut agg = Self::new(options)?;
        agg.seen = offset;
        Ok(agg)
    }

    /// Takes in the computation of the share that follows this one.
    fn absorb(&mut self, other: ColumnarAggregator) {
        self.inner.merge_state(other.inner.state());
        self.rejected.extend(other.rejected);
        self.seen = self.seen.max(other.seen);
    }

    /// The mergeable state so far.
    pub fn state(&self) -> &TicketMetricsState {
        self.inner.state()
    }

    /// Rows processed so far (counted or rejected).
    pub fn rows_seen(&self) -> usize {
        self.seen
    }

    /// The rows and the rejected records.
    pub fn finish(self) -> TicketMetricsReport {
        let mut report = self.inner.finish();
        report.rejected = self.rejected;
        report
    }
}

/// Rows per thread below which [`ticket_metrics_columns_parallel`] uses fewer threads: spawning
/// and merging cost about what the kernel does on this many rows.
const MIN_ROWS_PER_THREAD: usize = 200_000;

/// [`ticket_metrics_columns`] over `threads` scoped threads, each counting a contiguous share of
/// the rows; their mergeable states are merged in row order, so the result (rejected rows and
/// their positions included) equals the one-thread call. Inputs under 200 000 rows per thread use
/// fewer threads. Holds no global state: the threads live for the call.
///
/// ```
/// use teamkpi::metrics::{ticket_metrics_columns_parallel, MetricsOptions, TicketColumns, NULL_INSTANT};
/// let created = [1_762_160_400, 1_762_164_000];
/// let cols = TicketColumns {
///     id: None, agent_id: &[7, 8], agent_valid: None, priority: None, priority_labels: &[],
///     created_at: &created, first_response_at: &[NULL_INSTANT; 2], resolved_at: &[NULL_INSTANT; 2],
/// };
/// let mut options = MetricsOptions::daily(chrono_tz::UTC);
/// options.quantiles = false;
/// let report = ticket_metrics_columns_parallel(&cols, &options, 2).unwrap();
/// assert_eq!(report.rows.len(), 2);
/// ```
pub fn ticket_metrics_columns_parallel(
    columns: &TicketColumns<'_>,
    options: &MetricsOptions,
    threads: usize,
) -> Result<TicketMetricsReport> {
    parallel(columns, options, threads, MIN_ROWS_PER_THREAD)
}

fn parallel(
    columns: &TicketColumns<'_>,
    options: &MetricsOptions,
    threads: usize,
    min_rows: usize,
) -> Result<TicketMetricsReport> {
    let n = columns.len()?;
    let threads = threads.clamp(1, 256).min(n / min_rows.max(1)).max(1);
    if threads == 1 {
        return ticket_metrics_columns(columns, options);
    }
    // Repeats are found over the whole input, so a copy in another share still counts once.
    if let Some(kept) = KeptRows::of(columns) {
        let mut report = parallel(&kept.columns(columns), options, threads, min_rows)?;
        kept.restore(&mut report.rejected);
        return Ok(report);
    }
    let share = n.div_ceil(threads);
    let parts: Vec<TicketColumns<'_>> = (0..threads)
        .map(|t| columns.slice(t * share, (t + 1) * share))
        .collect();
    let partials: Vec<Result<ColumnarAggregator>> = std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .iter()
            .enumerate()
            .map(|(t, part)| {
                scope.spawn(move || {
                    let mut agg = ColumnarAggregator::starting_at(options.clone(), t * share)?;
                    agg.add_unique(part, part.len()?)?;
                    Ok(agg)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut merged: Option<ColumnarAggregator> = None;
    for partial in partials {
        let partial = partial?;
        match merged.as_mut() {
            None => merged = Some(partial),
            Some(m) => m.absorb(partial),
        }
    }
    match merged {
        Some(m) => Ok(m.finish()),
        None => ticket_metrics_columns(columns, options),
    }
}

fn missing_creation(columns: &TicketColumns<'_>, i: usize) -> Error {
    match columns.priority.and_then(|p| p.get(i)) {
        Some(code) if (*code as usize) >= columns.priority_labels.len() => {
            Error::argument("priority", format!("code {code} has no label"))
        }
        _ => Error::argument("created_at", "missing or out of range"),
    }
}

fn reject(columns: &TicketColumns<'_>, i: usize, e: &Error) -> RejectedRecord {
    RejectedRecord {
        id: columns
            .id
            .and_then(|ids| ids.get(i).copied())
            .unwrap_or(i as u64),
        index: i,
        code: e.code().to_owned(),
        reason: e.to_string(),
    }
}

impl MetricsOptions {
    /// Whether the dense kernel can count with these options: no business calendar, an SLA (if
    /// any) on a 24/7 calendar, no tenant filter.
    fn dense_eligible(&self) -> bool {
        self.calendar.is_none()
            && self.tenant.is_none()
            && self
                .sla
                .as_ref()
                .is_none_or(|p| p.calendar().is_always_open())
    }
}

/// The dense kernel; `None` when the data does not fit it (too long a date range, or instants
/// outside the cached years).
fn dense_kernel(
    c: &TicketColumns<'_>,
    options: &MetricsOptions,
    n: usize,
) -> Result<Option<DenseTotals>> {
    if !options.quantiles {
        return dense_counts(c, options, n, &mut NoSamples);
    }
    let mut samples = SketchSamples::new(SAMPLE_BUFFER);
    let totals = dense_counts(c, options, n, &mut samples)?;
    Ok(totals.map(|t| DenseTotals {
        sketches: Some(samples.into_sketches()),
        ..t
    }))
}

/// The dense kernel's counting, each duration also sent to `samples`.
fn dense_counts<S: Samples>(
    c: &TicketColumns<'_>,
    options: &MetricsOptions,
    n: usize,
    samples: &mut S,
) -> Result<Option<DenseTotals>> {
    // The range the layout covers. A valid row's answers come after its creation, so the
    // earliest creation bounds the range from below (invalid rows are rejected before use). Above,
    // it covers the creations and `LATE_MARGIN` after the last one, where answers and
    // resolutions mostly fall: rows with an instant beyond are counted after the loop on buckets
    // appended then, so the answer and resolution columns are read once, by the loop (a pass for
    // their maxima cost a tenth of the kernel: 160 MB at 10 M rows).
    let by_agent = options.group_by == GroupBy::Agent;
    let Scan {
        min_created: lo,
        max_created,
        max_agent,
    } = scan(c, by_agent);
    if n == 0 {
        return Ok(Some(DenseTotals {
            groups: Vec::new(),
            buckets: Vec::new(),
            accs: Vec::new(),
            na: 1,
            merge_pair: false,
            rejected: Vec::new(),
            sketches: None,
        }));
    }
    if lo > max_created {
        // No valid creation at all: the general path reports every row.
        return Ok(None);
    }
    let mut hi = max_created.saturating_add(LATE_MARGIN);
    // An unanswered SLA target breaches at its due instant (before `as_of`), which can lie
    // after every instant of the data.
    if let (Some(policy), Some(as_of)) = (&options.sla, options.as_of) {
        let max_target = policy
            .spec()
            .targets
            .values()
            .flat_map(|t| [t.first_response, t.resolution])
            .flatten()
            .max()
            .unwrap_or(0);
        let last_due = max_created
            .saturating_add(max_target)
            .min(as_of.timestamp().saturating_sub(1));
        hi = hi.max(last_due);
    }
    let tz = options.timezone;
    let span = ZoneOffsets::new().span(tz, lo, hi);
    if !span.exact {
        return Ok(None);
    }
    let local_day = |t: i64| (t + span.at(t)).div_euclid(86_400);
    // SLA targets per priority code (24/7: due = created + target); i64::MAX = no target.
    let sla_targets: Vec<(i64, i64)> = match &options.sla {
        Some(p) => c
            .priority_labels
            .iter()
            .map(|l| {
                p.spec().targets.get(l).map_or((i64::MAX, i64::MAX), |t| {
                    (
                        t.first_response.unwrap_or(i64::MAX),
                        t.resolution.unwrap_or(i64::MAX),
                    )
                })
            })
            .collect(),
        None => vec![(i64::MAX, i64::MAX); c.priority_labels.len()],
    };
    let (first_day, last_day) = (local_day(lo), local_day(hi));
    let Some(dense) = DenseBuckets::new(options, first_day, last_day) else {
        return Ok(None);
    };
    let nb = dense.buckets.len().max(1);
    let cutoffs = cutoffs_of(options, &dense.buckets);
    let as_of = options.as_of.map_or(i64::MIN, |a| a.timestamp());
    // Accumulators are laid out bucket-major, so that the rows of one day (in creation order, as
    // exports give them) update one contiguous stretch that stays in cache. Database serials
    // (small ids) take slot `id + 1` straight away, found by one max pass; other ids go through
    // an index filled before the counting.
    let direct = if by_agent {
        direct_slots(max_agent, nb, n)
    } else {
        None
    };
    let mut agents = AgentIndex::new();
    if by_agent && direct.is_none() {
        for (i, a) in c.agent_id.iter().enumerate() {
            if agent_present(c, i) {
                agents.get_or_insert(*a);
            }
        }
    }
    // Slot 0 holds the rows without an assignee; with agent grouping each agent has a slot after
    // it, with team and tenant grouping slot 1 holds every row with an assignee.
    let na = match direct {
        Some(max_id) => max_id as usize + 2,
        None if by_agent => agents.count + 1,
        None => 2,
    };
    let mut accs: Vec<Acc> = vec![Acc::default(); nb * na];
    let mut rejected = Vec::new();
    let mut late = Vec::new();
    let ctx = Ctx {
        c,
        sla_targets: &sla_targets,
        cutoffs: &cutoffs,
        as_of,
        na,
        hi,
    };
    // One loop per way of finding a row's slot and bucket, each specialised by the compiler.
    macro_rules! count_rows {
        ($ctx:expr, $late:expr, $bucket:expr) => {{
            let ctx = &$ctx;
            let cols = ctx.c;
            let out = Tally {
                accs: &mut accs,
                samples: &mut *samples,
                rejected: &mut rejected,
                late: $late,
            };
            match (by_agent, direct) {
                (true, Some(_)) => ctx.accumulate(out, $bucket, |i| match cols.agent_id.get(i) {
                    Some(a) if agent_present(cols, i) => *a as usize + 1,
                    _ => 0,
                }),
                (true, None) => ctx.accumulate(out, $bucket, |i| match cols.agent_id.get(i) {
                    Some(a) if agent_present(cols, i) => agents.get_or_insert(*a) + 1,
                    _ => 0,
                }),
                (false, _) => ctx.accumulate(out, $bucket, |i| usize::from(agent_present(cols, i))),
            }
        }};
    }
    // A steady offset (no DST change in the layout's range) and daily buckets make a bucket one
    // add, one division and one compare. Every bucket function answers `None` past `hi`: the
    // zone's offsets were read up to there.
    let steady = span.transitions.is_empty().then_some(span.first);
    let daily = options.bucketing == Bucketing::Period(PeriodKind::Day);
    match (steady, daily) {
        (Some(off), true) => {
            // Unsigned offsets from the first day's start: cheaper than `div_euclid`, and an
            // instant before it wraps to a huge value that the range check rejects.
            let base = first_day * 86_400 - off;
            let limit = (hi - base) as u64;
            count_rows!(ctx, &mut late, |t: i64| {
                let x = t.wrapping_sub(base) as u64;
                (x <= limit).then_some((x / 86_400) as usize)
            })
        }
        (Some(off), false) => count_rows!(ctx, &mut late, |t: i64| {
            (t <= hi)
                .then(|| dense.bucket((t + off).div_euclid(86_400)))
                .flatten()
        }),
        (None, _) => count_rows!(ctx, &mut late, |t: i64| {
            (t <= hi)
                .then(|| dense.bucket((t + span.at(t)).div_euclid(86_400)))
                .flatten()
        }),
    }
    let mut buckets = dense.buckets;
    if !late.is_empty() {
        // Rows answered or resolved after `hi`: the layout grows by whole buckets at its end (the
        // bucket-major layout keeps every slot where it is), and those rows go through the loop
        // again with a bucket function that skips what the first pass counted.
        let late_cols = RowCopy::gather(c, &late, false);
        let cols = late_cols.columns(c.priority_labels);
        let hi2 = latest(cols.first_response_at).max(latest(cols.resolved_at));
        let span2 = ZoneOffsets::new().span(tz, lo, hi2);
        if !span2.exact {
            return Ok(None);
        }
        let local_day2 = |t: i64| (t + span2.at(t)).div_euclid(86_400);
        let Some(dense2) = DenseBuckets::new(options, first_day, local_day2(hi2)) else {
            return Ok(None);
        };
        if local_day2(lo) != first_day || !dense2.buckets.starts_with(&buckets) {
            return Ok(None);
        }
        buckets = dense2.buckets.clone();
        accs.resize(buckets.len().max(1) * na, Acc::default());
        let cutoffs2 = cutoffs_of(options, &buckets);
        let ctx2 = Ctx {
            c: &cols,
            cutoffs: &cutoffs2,
            hi: i64::MAX,
            ..ctx
        };
        count_rows!(ctx2, &mut Vec::new(), |t: i64| {
            (t > hi).then(|| dense2.bucket(local_day2(t))).flatten()
        });
    }
    // Groups in the row path's order: the group without an agent first, then agents by id.
    let none_key = match options.group_by {
        GroupBy::Agent => GroupKey::Agent(None),
        GroupBy::Team => GroupKey::Team(None),
        GroupBy::Tenant => GroupKey::Tenant,
    };
    let mut groups: Vec<(GroupKey, usize)> = vec![(none_key, 0)];
    match direct {
        Some(max_id) => {
            groups.extend((0..=max_id).map(|id| (GroupKey::Agent(Some(id)), id as usize + 1)))
        }
        None => {
            let mut by_id: Vec<(u64, usize)> = agents
                .keys
                .iter()
                .enumerate()
                .map(|(a, k)| (*k, a + 1))
                .collect();
            by_id.sort_unstable();
            groups.extend(
                by_id
                    .into_iter()
                    .map(|(k, a)| (GroupKey::Agent(Some(k)), a)),
            );
        }
    }
    Ok(Some(DenseTotals {
        groups,
        buckets,
        accs,
        na,
        merge_pair: !by_agent,
        rejected,
        sketches: None,
    }))
}

/// What the dense kernel counted: accumulators per (bucket, group slot).
struct DenseTotals {
    /// Groups in output order, with their slot.
    groups: Vec<(GroupKey, usize)>,
    /// Per bucket: (first day, last day, UTC end instant).
    buckets: Vec<(NaiveDate, NaiveDate, i64)>,
    /// Layout: bucket × slots + slot.
    accs: Vec<Acc>,
    /// Slots per bucket.
    na: usize,
    /// Team and tenant grouping: the one group is slots 0 (no assignee) and 1 together.
    merge_pair: bool,
    rejected: Vec<RejectedRecord>,
    /// With quantiles: the duration sketches by `accumulator << 1 | kind` (see [`SketchSamples`]).
    sketches: Option<BTreeMap<u64, QuantileSketch>>,
}

impl DenseTotals {
    /// Each touched (group, period) with its aggregate, in the row path's order (the sketches
    /// move into the aggregates).
    fn for_each(&mut self, mut f: impl FnMut(&GroupKey, NaiveDate, NaiveDate, TicketAggregate)) {
        let parts = if self.merge_pair { 2 } else { 1 };
        for (group, slot) in &self.groups {
            for (b, (start, end, _)) in self.buckets.iter().enumerate() {
                let mut total: Option<TicketAggregate> = None;
                for s in *slot..*slot + parts {
                    let k = b * self.na + s;
                    if let Some(acc) = self.accs.get(k).filter(|a| a.touched()) {
                        let mut agg = acc.to_aggregate(s > 0, self.sketches.is_some());
                        if let Some(sketches) = self.sketches.as_mut() {
                            let key = (k as u64) << 1;
                            agg.first_response.sketch =
                                Some(sketches.remove(&key).unwrap_or_default());
                            agg.resolution.sketch =
                                Some(sketches.remove(&(key | 1)).unwrap_or_default());
                        }
                        match total.as_mut() {
                            Some(t) => t.merge(&agg),
                            None => total = Some(agg),
                        }
                    }
                }
                if let Some(agg) = total {
                    f(group, *start, *end, agg);
                }
            }
        }
    }

    fn into_report(mut self) -> TicketMetricsReport {
        let mut rows = Vec::with_capacity(self.accs.iter().filter(|a| a.touched()).count());
        self.for_each(|g, start, end, agg| {
            rows.push(TicketMetrics::from_aggregate(g, start, end, &agg));
        });
        TicketMetricsReport {
            rows,
            rejected: self.rejected,
        }
    }
}

/// Sorts by least-significant-digit radix over the bits in use, 11 at a time (a pass's counts
/// stay in L1): about three passes for the kernel's samples, several times quicker than a
/// comparison sort of them.
fn radix_sort(v: &mut Vec<u64>, scratch: &mut Vec<u64>) {
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

/// Where the accumulation loop writes: the accumulators, the duration samples, the rejected
/// rows and the rows found late.
struct Tally<'a, S> {
    accs: &'a mut [Acc],
    samples: &'a mut S,
    rejected: &'a mut Vec<RejectedRecord>,
    late: &'a mut Vec<usize>,
}

/// What the accumulation loop reads besides the rows.
struct Ctx<'a, 'c> {
    c: &'a TicketColumns<'c>,
    sla_targets: &'a [(i64, i64)],
    cutoffs: &'a [i64],
    as_of: i64,
    /// Slots (groups) per bucket (layout: bucket × na + slot).
    na: usize,
    /// The last instant the layout covers; a valid row with a later instant is late.
    hi: i64,
}

impl Ctx<'_, '_> {
    /// Adds every row to `accs`; `slot` gives a row's accumulator slot. Rows with an answer or a resolution after `hi` go to `late`, those parts
    /// uncounted.
    #[inline(always)]
    fn accumulate<S: Samples>(
        &self,
        out: Tally<'_, S>,
        bucket: impl Fn(i64) -> Option<usize>,
        mut slot: impl FnMut(usize) -> usize,
    ) {
        let Tally {
            accs,
            samples,
            rejected,
            late,
        } = out;
        let c = self.c;
        let na = self.na;
        let rows = c
            .created_at
            .iter()
            .zip(c.first_response_at)
            .zip(c.resolved_at);
        for (i, ((&created, &fr), &res)) in rows.enumerate() {
            if created == NULL_INSTANT
                || (fr != NULL_INSTANT && fr < created)
                || (res != NULL_INSTANT && res < created)
            {
                rejected.push(invalid_row(c, i));
                continue;
            }
            // One target pair per label: a code without a label finds none.
            let (fr_target, res_target) = match c.priority {
                Some(p) => match p
                    .get(i)
                    .and_then(|code| self.sla_targets.get(*code as usize))
                {
                    Some(t) => *t,
                    None => {
                        rejected.push(invalid_priority(c, i));
                        continue;
                    }
                },
                None => (i64::MAX, i64::MAX),
            };
            let slot = slot(i);
            let at = |b: usize| b * na + slot;
            if let Some(b) = bucket(created) {
                if let (Some(acc), Some(&cutoff)) = (accs.get_mut(at(b)), self.cutoffs.get(b)) {
                    acc.created += 1;
                    acc.created_resolved += u32::from(res != NULL_INSTANT && res < cutoff);
                }
            }
            if fr != NULL_INSTANT {
                if let Some((k, acc)) = bucket(fr).and_then(|b| get_acc(accs, at(b))) {
                    acc.fr_count += 1;
                    acc.fr_sum += fr - created;
                    samples.first_response(k, fr - created);
                    if fr_target != i64::MAX {
                        let met = fr - created <= fr_target;
                        acc.sla_met += u32::from(met);
                        acc.sla_breached += u32::from(!met);
                    }
                } else if fr > self.hi {
                    late.push(i);
                }
            } else if fr_target != i64::MAX && self.as_of > created.saturating_add(fr_target) {
                if let Some(acc) =
                    bucket(created.saturating_add(fr_target)).and_then(|b| accs.get_mut(at(b)))
                {
                    acc.sla_breached += 1;
                }
            }
            if res != NULL_INSTANT {
                if let Some((k, acc)) = bucket(res).and_then(|b| get_acc(accs, at(b))) {
                    acc.resolved += 1;
                    acc.res_sum += res - created;
                    samples.resolution(k, res - created);
                    if res_target != i64::MAX {
                        let met = res - created <= res_target;
                        acc.sla_met += u32::from(met);
                        acc.sla_breached += u32::from(!met);
                    }
                } else if res > self.hi && late.last() != Some(&i) {
                    late.push(i);
                }
            } else if res_target != i64::MAX && self.as_of > created.saturating_add(res_target) {
                if let Some(acc) =
                    bucket(created.saturating_add(res_target)).and_then(|b| accs.get_mut(at(b)))
                {
                    acc.sla_breached += 1;
                }
            }
        }
    }
}

/// Accumulator `k` with its index.
#[inline(always)]
fn get_acc(accs: &mut [Acc], k: usize) -> Option<(usize, &mut Acc)> {
    accs.get_mut(k).map(|a| (k, a))
}

/// What the dense kernel reads before it counts: the earliest and the latest creation instant
/// (nulls left out; `(i64::MAX, i64::MIN)` when there is none) and the largest agent id of the
/// rows with an assignee (0 when not asked for or none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Scan {
    min_created: i64,
    max_created: i64,
    max_agent: u64,
}

/// One pass over the creation and agent columns for [`Scan`], in lanes of eight and branch-free
/// (a null is the identity of both extremes), so that the compiler vectorises it.
fn scan(c: &TicketColumns<'_>, with_agents: bool) -> Scan {
    scan_lanes(c, with_agents)
}

#[inline(always)]
fn scan_lanes(c: &TicketColumns<'_>, with_agents: bool) -> Scan {
    const L: usize = 8;
    let (mut lo, mut hi) = ([i64::MAX; L], [i64::MIN; L]);
    let mut created = c.created_at.chunks_exact(L);
    for chunk in &mut created {
        for ((l, h), &t) in lo.iter_mut().zip(hi.iter_mut()).zip(chunk) {
            *l = (*l).min(if t == NULL_INSTANT { i64::MAX } else { t });
            *h = (*h).max(t);
        }
    }
    for (l, &t) in lo.iter_mut().zip(created.remainder()) {
        *l = (*l).min(if t == NULL_INSTANT { i64::MAX } else { t });
        hi[0] = hi[0].max(t);
    }
    let mut max_agent = 0;
    if with_agents {
        let mut m = [0u64; L];
        match c.agent_valid {
            None => {
                let mut agents = c.agent_id.chunks_exact(L);
                for chunk in &mut agents {
                    for (m, &a) in m.iter_mut().zip(chunk) {
                        *m = (*m).max(a);
                    }
                }
                for (m, &a) in m.iter_mut().zip(agents.remainder()) {
                    *m = (*m).max(a);
                }
            }
            Some(valid) => {
                for (a, ok) in c.agent_id.iter().zip(valid) {
                    m[0] = m[0].max(if *ok { *a } else { 0 });
                }
            }
        }
        max_agent = m.into_iter().fold(0, u64::max);
    }
    Scan {
        min_created: lo.into_iter().fold(i64::MAX, i64::min),
        max_created: hi.into_iter().fold(i64::MIN, i64::max),
        max_agent,
    }
}

/// The latest instant of a column (`NULL_INSTANT`, the smallest `i64`, never wins).
fn latest(col: &[i64]) -> i64 {
    col.iter().copied().fold(NULL_INSTANT, i64::max)
}

/// Whether row `i` has an assignee.
#[inline(always)]
fn agent_present(c: &TicketColumns<'_>, i: usize) -> bool {
    c.agent_valid
        .is_none_or(|v| v.get(i).copied().unwrap_or(false))
}

/// Per bucket, the instant before which a resolution counts as "resolved by the period's end"
/// (the period's end, or just after `as_of` when that comes first).
fn cutoffs_of(options: &MetricsOptions, buckets: &[(NaiveDate, NaiveDate, i64)]) -> Vec<i64> {
    buckets
        .iter()
        .map(|b| {
            options
                .as_of
                .map_or(b.2, |a| a.timestamp().saturating_add(1).min(b.2))
        })
        .collect()
}

/// `max_id`, the largest agent id of the rows with an assignee, when it is small enough for ids
/// to index the accumulators directly: under [`DIRECT_IDS`], and no more slots than about twice
/// the rows.
fn direct_slots(max_id: u64, buckets: usize, rows: usize) -> Option<u64> {
    if max_id >= DIRECT_IDS {
        return None;
    }
    let slots = (max_id as usize + 2).saturating_mul(buckets);
    (slots <= rows.saturating_mul(2).max(4096)).then_some(max_id)
}

/// The rejection of a row whose instants are missing or out of order (kept out of the hot loop).
#[cold]
#[inline(never)]
fn invalid_row(c: &TicketColumns<'_>, i: usize) -> RejectedRecord {
    let created = c.created_at.get(i).copied().unwrap_or(NULL_INSTANT);
    let fr = c.first_response_at.get(i).copied().unwrap_or(NULL_INSTANT);
    let res = c.resolved_at.get(i).copied().unwrap_or(NULL_INSTANT);
    let e = if created == NULL_INSTANT {
        missing_creation(c, i)
    } else if fr != NULL_INSTANT && fr < created {
        range_error("first_response_at", created, fr)
    } else {
        range_error("resolved_at", created, res)
    };
    reject(c, i, &e)
}

#[cold]
#[inline(never)]
fn invalid_priority(c: &TicketColumns<'_>, i: usize) -> RejectedRecord {
    reject(c, i, &missing_creation(c, i))
}

fn range_error(field: &str, created: i64, at: i64) -> Error {
    let fmt = |t: i64| {
        DateTime::from_timestamp(t, 0)
            .map(|d| d.to_string())
            .unwrap_or_else(|| t.to_string())
    };
    Error::InvalidRange {
        field: field.to_owned(),
        start: fmt(created),
        end: fmt(at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::PeriodKind;

    #[test]
    fn scan_equals_a_plain_fold_at_every_length() {
        // Every remainder length of the lanes, nulls and absent assignees included.
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for n in 0..40 {
            let created: Vec<i64> = (0..n)
                .map(|_| match next() % 5 {
                    0 => NULL_INSTANT,
                    _ => (next() % 1_000_000) as i64 - 500_000,
                })
                .collect();
            let agents: Vec<u64> = (0..n).map(|_| next() >> (next() % 64)).collect();
            let valid: Vec<bool> = (0..n).map(|_| next() % 3 != 0).collect();
            for agent_valid in [None, Some(valid.as_slice())] {
                let cols = TicketColumns {
                    id: None,
                    agent_id: &agents,
                    agent_valid,
                    priority: None,
                    priority_labels: &[],
                    created_at: &created,
                    first_response_at: &created,
                    resolved_at: &created,
                };
                let present = created.iter().filter(|t| **t != NULL_INSTANT);
                let expected = Scan {
                    min_created: present.clone().copied().min().unwrap_or(i64::MAX),
                    max_created: created.iter().copied().max().unwrap_or(i64::MIN),
                    max_agent: (0..n)
                        .filter(|i| agent_valid.is_none_or(|v| v[*i]))
                        .map(|i| agents[i])
                        .max()
                        .unwrap_or(0),
                };
                assert_eq!(scan(&cols, true), expected, "{n} rows");
                assert_eq!(scan(&cols, false).max_agent, 0);
            }
        }
    }

    #[test]
    fn sketch_samples_fold_whenever_the_buffer_fills() {
        // More samples than one buffer holds, over a few sketches: the folded sketches equal
        // ones filled value by value.
        let mut samples = SketchSamples::new(5000);
        let mut expected: BTreeMap<u64, QuantileSketch> = BTreeMap::new();
        for i in 0..23_456_i64 {
            let (acc, seconds) = ((i % 7) as usize, (i * 7919) % 400_000);
            if i % 3 == 0 {
                samples.resolution(acc, seconds);
                expected
                    .entry((acc as u64) << 1 | 1)
                    .or_default()
                    .insert(seconds as u64);
            } else {
                samples.first_response(acc, seconds);
                expected
                    .entry((acc as u64) << 1)
                    .or_default()
                    .insert(seconds as u64);
            }
        }
        assert!(
            !samples.sketches.is_empty(),
            "the buffer was folded once already"
        );
        assert_eq!(samples.into_sketches(), expected);
    }

    /// The parallel split (forced onto small inputs) equals one call, rejected rows included.
    #[test]
    fn parallel_equals_one_call() {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        let n = 3_001;
        let t0 = 1_761_955_200; // 2025-11-01 00:00 UTC
        let agent: Vec<u64> = (0..n).map(|_| next(40)).collect();
        let prio: Vec<u32> = (0..n).map(|_| next(3) as u32).collect();
        let mut created: Vec<i64> = (0..n).map(|_| t0 + next(40 * 86_400) as i64).collect();
        let fr: Vec<i64> = created
            .iter()
            .map(|c| match next(5) {
                0 => NULL_INSTANT,
                1 => c - 60, // before creation: rejected
                _ => c + next(20_000) as i64,
            })
            .collect();
        let res: Vec<i64> = created
            .iter()
            .map(|c| match next(3) {
                0 => NULL_INSTANT,
                _ => c + next(300_000) as i64,
            })
            .collect();
        for i in (0..n).step_by(97) {
            created[i] = NULL_INSTANT;
        }
        let labels: Vec<String> = ["low", "normal", "urgent"].map(String::from).to_vec();
        let cols = TicketColumns {
            id: None,
            agent_id: &agent,
            agent_valid: None,
            priority: Some(&prio),
            priority_labels: &labels,
            created_at: &created,
            first_response_at: &fr,
            resolved_at: &res,
        };
        // Ids with repeats, sparse enough for the hash-set layout in one run and dense enough
        // for the bitmap in the other: every path keeps the first copy of each id.
        for spread in [2_500_u64, 1 << 50] {
            let ids: Vec<u64> = (0..n).map(|_| next(2_500) * (spread / 2_500)).collect();
            // Every row a ticket, so the row aggregator sees the rows the kernel sees.
            let created: Vec<i64> = created
                .iter()
                .map(|c| if *c == NULL_INSTANT { t0 } else { *c })
                .collect();
            let with_ids = TicketColumns {
                id: Some(&ids),
                created_at: &created,
                ..cols
            };
            let mut options = MetricsOptions::daily(chrono_tz::UTC);
            options.quantiles = true;
            let one = ticket_metrics_columns(&with_ids, &options).unwrap();
            let repeats: Vec<usize> = one
                .rejected
                .iter()
                .filter(|r| r.code == "duplicate_record")
                .map(|r| r.index)
                .collect();
            let mut first = std::collections::HashSet::new();
            let expected: Vec<usize> = (0..n).filter(|i| !first.insert(ids[*i])).collect();
            assert_eq!(repeats, expected);
            assert!(one.rejected.windows(2).all(|w| w[0].index < w[1].index));
            for threads in [2, 3] {
                assert_eq!(parallel(&with_ids, &options, threads, 1).unwrap(), one);
            }
            let mut chunked = ColumnarAggregator::new(options.clone()).unwrap();
            chunked.add(&with_ids).unwrap();
            assert_eq!(chunked.finish(), one);
            // The row aggregator, fed the same rows, keeps the same copies.
            let mut rows = TicketMetricsAggregator::new(options.clone()).unwrap();
            let tickets: Vec<_> = (0..n).filter_map(|i| with_ids.ticket(i)).collect();
            assert_eq!(tickets.len(), n);
            rows.add_all(&tickets);
            let rows = rows.finish();
            assert_eq!(rows.rows, one.rows);
            assert_eq!(rows.rejected, one.rejected);
        }
        for (kind, quantiles, zone) in [
            (PeriodKind::Day, false, chrono_tz::UTC),
            (PeriodKind::Week, false, chrono_tz::America::New_York),
            (PeriodKind::Month, true, chrono_tz::Europe::Warsaw),
        ] {
            let mut options = MetricsOptions::daily(zone);
            options.bucketing = Bucketing::Period(kind);
            options.quantiles = quantiles;
            let one = ticket_metrics_columns(&cols, &options).unwrap();
            assert!(!one.rejected.is_empty());
            for threads in [2, 3, 7] {
                let split = parallel(&cols, &options, threads, 1).unwrap();
                assert_eq!(split, one, "{threads} threads, {kind:?}");
            }
        }
    }
}
