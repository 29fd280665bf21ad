//! Ticket metrics from columnar slices (struct of arrays), for Arrow, numpy and bulk exports.
//!
//! Columns carry the columnar subset of a ticket: agent, priority, created, first response, resolved.
//! Instants are Unix seconds; a missing instant is [`NULL_INSTANT`] (`i64::MIN`, numpy's NaT).
//! The result equals the row path ([`TicketMetricsAggregator`]) over the same tickets. Without
//! a business calendar or a non-24/7 SLA calendar, a dense kernel does the work: one hash probe
//! per ticket for its agent and array arithmetic for the rest. With quantiles, the kernel also
//! records each duration's sketch bucket, and the sketches are built from those samples sorted.

mod index;
mod kernel;
mod samples;

pub(crate) use index::*;
pub(crate) use kernel::*;
pub(crate) use samples::*;

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::metrics::batch::{
    MetricsOptions, RejectedRecord, TicketMetricsAggregator, TicketMetricsReport,
    TicketMetricsState,
};
use crate::metrics::records::Ticket;
use crate::metrics::repeats::KeptRows;
use crate::metrics::Mergeable;

/// A missing instant in a column (numpy's NaT has the same bits).
pub const NULL_INSTANT: i64 = i64::MIN;

/// The columns of a ticket table. All slices have the same length.
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
    /// The columns every table has: assignees (all present), creation, first response and
    /// resolution; no ids (rows are numbered by position) and no priorities.
    ///
    /// ```
    /// use teamkpi::metrics::{TicketColumns, NULL_INSTANT};
    /// let labels = vec!["low".to_string(), "high".to_string()];
    /// let cols = TicketColumns::new(&[7], &[0], &[600], &[NULL_INSTANT])
    ///     .with_priority(&[1], &labels)
    ///     .with_ids(&[42]);
    /// assert_eq!(cols.ticket(0).unwrap().priority.as_deref(), Some("high"));
    /// ```
    pub fn new(
        agent_id: &'a [u64],
        created_at: &'a [i64],
        first_response_at: &'a [i64],
        resolved_at: &'a [i64],
    ) -> Self {
        TicketColumns {
            id: None,
            agent_id,
            agent_valid: None,
            priority: None,
            priority_labels: &[],
            created_at,
            first_response_at,
            resolved_at,
        }
    }

    /// With priority codes, indexes into `labels`.
    pub fn with_priority(self, priority: &'a [u32], labels: &'a [String]) -> Self {
        TicketColumns {
            priority: Some(priority),
            priority_labels: labels,
            ..self
        }
    }

    /// With ticket ids (rejections name them).
    pub fn with_ids(self, id: &'a [u64]) -> Self {
        TicketColumns {
            id: Some(id),
            ..self
        }
    }

    /// With which assignee ids are present.
    pub fn with_agent_valid(self, agent_valid: &'a [bool]) -> Self {
        TicketColumns {
            agent_valid: Some(agent_valid),
            ..self
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::sketch::QuantileSketch;
    use crate::metrics::Bucketing;
    use crate::period::PeriodKind;
    use std::collections::BTreeMap;

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
        let cols = TicketColumns::new(&agent, &created, &fr, &res).with_priority(&prio, &labels);
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
