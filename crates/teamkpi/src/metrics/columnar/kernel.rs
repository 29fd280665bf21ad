//! The dense kernel: one pass over the columns into flat accumulators per (agent slot, day
//! bucket), the late rows in a second pass, and the totals turned into mergeable states.

use chrono::{DateTime, NaiveDate};
use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::metrics::aggregate::TicketAggregate;
use crate::metrics::batch::{
    Bucketing, GroupBy, GroupKey, MetricsOptions, RejectedRecord, TicketMetricsReport,
};
use crate::metrics::repeats::RowCopy;
use crate::metrics::rows::TicketMetrics;
use crate::metrics::sketch::QuantileSketch;
use crate::metrics::Mergeable;
use crate::period::{local_midnight, PeriodKind, ZoneOffsets};

use super::*;

/// Accumulators of the dense kernel: 32-bit counters (one call counts at most `u32::MAX` tickets
/// per group and bucket; `ticket_metrics_columns` splits longer inputs) and 64-bit sums, 40
/// bytes. A slot holds either rows with an assignee or rows without one (team and tenant
/// grouping use two slots, merged on output), so the tickets created there are also the tickets
/// assigned there, or none: one counter serves both, and a day of 1 000 agents fits in L1.
#[derive(Debug, Clone, Copy, Default)]
#[repr(C)]
pub(crate) struct Acc {
    pub(crate) fr_sum: i64,
    pub(crate) res_sum: i64,
    pub(crate) created: u32,
    /// Of `created`, the ones resolved by the period's end (or `as_of`).
    pub(crate) created_resolved: u32,
    pub(crate) resolved: u32,
    pub(crate) fr_count: u32,
    pub(crate) sla_met: u32,
    pub(crate) sla_breached: u32,
}

impl Acc {
    pub(crate) fn touched(&self) -> bool {
        self.created > 0
            || self.resolved > 0
            || self.fr_count > 0
            || self.sla_met > 0
            || self.sla_breached > 0
    }

    /// The aggregate of these counts, for a slot of rows with an assignee (`assigned`) or
    /// without; with `quantiles`, its duration stats keep sketches (filled by the caller).
    pub(crate) fn to_aggregate(self, assigned: bool, quantiles: bool) -> TicketAggregate {
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

/// Maps local day numbers to bucket ordinals over a known range of days.
pub(crate) struct DenseBuckets {
    pub(crate) first_day: i64,
    /// Per local day (from `first_day`): its bucket ordinal, or `u32::MAX` outside windows.
    pub(crate) day_to_bucket: Vec<u32>,
    /// Per bucket: (first day, last day, UTC end instant).
    pub(crate) buckets: Vec<(NaiveDate, NaiveDate, i64)>,
}

pub(crate) const MAX_DENSE_DAYS: i64 = 4 * 366;

/// How far past the last creation the dense layout reaches before a row counts as late (see
/// [`dense_kernel`]): a week, where most answers and resolutions of the last days fall (the benchmark
/// data's within three). Empty days cost only their zeroed accumulators; a DST change inside the
/// margin sends the counting to the general bucket function, as one inside the data does.
pub(crate) const LATE_MARGIN: i64 = 7 * 86_400;

pub(crate) fn date_of_day(day: i64) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(day + 719_163).ok()?)
}

impl DenseBuckets {
    pub(crate) fn new(options: &MetricsOptions, first_day: i64, last_day: i64) -> Option<Self> {
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
    pub(crate) fn bucket(&self, day: i64) -> Option<usize> {
        let b = *self
            .day_to_bucket
            .get(usize::try_from(day - self.first_day).ok()?)?;
        (b != u32::MAX).then_some(b as usize)
    }
}

/// The dense kernel; `None` when the data does not fit it (too long a date range, or instants
/// outside the cached years).
pub(crate) fn dense_kernel(
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
pub(crate) fn dense_counts<S: Samples>(
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
pub(crate) struct DenseTotals {
    /// Groups in output order, with their slot.
    pub(crate) groups: Vec<(GroupKey, usize)>,
    /// Per bucket: (first day, last day, UTC end instant).
    pub(crate) buckets: Vec<(NaiveDate, NaiveDate, i64)>,
    /// Layout: bucket × slots + slot.
    pub(crate) accs: Vec<Acc>,
    /// Slots per bucket.
    pub(crate) na: usize,
    /// Team and tenant grouping: the one group is slots 0 (no assignee) and 1 together.
    pub(crate) merge_pair: bool,
    pub(crate) rejected: Vec<RejectedRecord>,
    /// With quantiles: the duration sketches by `accumulator << 1 | kind` (see [`SketchSamples`]).
    pub(crate) sketches: Option<BTreeMap<u64, QuantileSketch>>,
}

impl DenseTotals {
    /// Each touched (group, period) with its aggregate, in the row path's order (the sketches
    /// move into the aggregates).
    pub(crate) fn for_each(
        &mut self,
        mut f: impl FnMut(&GroupKey, NaiveDate, NaiveDate, TicketAggregate),
    ) {
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

    pub(crate) fn into_report(mut self) -> TicketMetricsReport {
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

/// Where the accumulation loop writes: the accumulators, the duration samples, the rejected
/// rows and the rows found late.
pub(crate) struct Tally<'a, S> {
    pub(crate) accs: &'a mut [Acc],
    pub(crate) samples: &'a mut S,
    pub(crate) rejected: &'a mut Vec<RejectedRecord>,
    pub(crate) late: &'a mut Vec<usize>,
}

/// What the accumulation loop reads besides the rows.
pub(crate) struct Ctx<'a, 'c> {
    pub(crate) c: &'a TicketColumns<'c>,
    pub(crate) sla_targets: &'a [(i64, i64)],
    pub(crate) cutoffs: &'a [i64],
    pub(crate) as_of: i64,
    /// Slots (groups) per bucket (layout: bucket × na + slot).
    pub(crate) na: usize,
    /// The last instant the layout covers; a valid row with a later instant is late.
    pub(crate) hi: i64,
}

impl Ctx<'_, '_> {
    /// Adds every row to `accs`; `slot` gives a row's accumulator slot. Rows with an answer or a resolution after `hi` go to `late`, those parts
    /// uncounted.
    #[inline(always)]
    pub(crate) fn accumulate<S: Samples>(
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
pub(crate) fn get_acc(accs: &mut [Acc], k: usize) -> Option<(usize, &mut Acc)> {
    accs.get_mut(k).map(|a| (k, a))
}

/// What the dense kernel reads before it counts: the earliest and the latest creation instant
/// (nulls left out; `(i64::MAX, i64::MIN)` when there is none) and the largest agent id of the
/// rows with an assignee (0 when not asked for or none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scan {
    pub(crate) min_created: i64,
    pub(crate) max_created: i64,
    pub(crate) max_agent: u64,
}

/// One pass over the creation and agent columns for [`Scan`], in lanes of eight and branch-free
/// (a null is the identity of both extremes), so that the compiler vectorises it.
pub(crate) fn scan(c: &TicketColumns<'_>, with_agents: bool) -> Scan {
    scan_lanes(c, with_agents)
}

#[inline(always)]
pub(crate) fn scan_lanes(c: &TicketColumns<'_>, with_agents: bool) -> Scan {
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
pub(crate) fn latest(col: &[i64]) -> i64 {
    col.iter().copied().fold(NULL_INSTANT, i64::max)
}

/// Whether row `i` has an assignee.
#[inline(always)]
pub(crate) fn agent_present(c: &TicketColumns<'_>, i: usize) -> bool {
    c.agent_valid
        .is_none_or(|v| v.get(i).copied().unwrap_or(false))
}

/// Per bucket, the instant before which a resolution counts as "resolved by the period's end"
/// (the period's end, or just after `as_of` when that comes first).
pub(crate) fn cutoffs_of(
    options: &MetricsOptions,
    buckets: &[(NaiveDate, NaiveDate, i64)],
) -> Vec<i64> {
    buckets
        .iter()
        .map(|b| {
            options
                .as_of
                .map_or(b.2, |a| a.timestamp().saturating_add(1).min(b.2))
        })
        .collect()
}

/// The rejection of a row whose instants are missing or out of order (kept out of the hot loop).
#[cold]
#[inline(never)]
pub(crate) fn invalid_row(c: &TicketColumns<'_>, i: usize) -> RejectedRecord {
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
pub(crate) fn invalid_priority(c: &TicketColumns<'_>, i: usize) -> RejectedRecord {
    reject(c, i, &missing_creation(c, i))
}

pub(crate) fn range_error(field: &str, created: i64, at: i64) -> Error {
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
