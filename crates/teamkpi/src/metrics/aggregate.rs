//! Mergeable aggregate states: counts, duration statistics and the per-group ticket aggregate.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::metrics::sketch::QuantileSketch;
use crate::metrics::Mergeable;

/// Count, sum and (optionally) a quantile sketch of durations in seconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DurationStats {
    /// How many durations.
    pub count: u64,
    /// Their sum in seconds.
    pub sum: i64,
    /// Their distribution, when quantiles were asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sketch: Option<QuantileSketch>,
}

impl DurationStats {
    /// Stats that keep a sketch (for median and p90).
    pub fn with_sketch() -> Self {
        DurationStats {
            sketch: Some(QuantileSketch::new()),
            ..Self::default()
        }
    }

    /// Adds a duration.
    pub fn add(&mut self, seconds: i64) {
        self.count += 1;
        self.sum += seconds;
        if let Some(s) = self.sketch.as_mut() {
            s.insert(seconds.max(0) as u64);
        }
    }

    /// Removes a duration added before.
    pub fn remove(&mut self, seconds: i64) {
        self.count = self.count.saturating_sub(1);
        self.sum -= seconds;
        if let Some(s) = self.sketch.as_mut() {
            s.remove(seconds.max(0) as u64);
        }
    }

    /// The mean in seconds (exact decimal); `None` with no data.
    pub fn mean(&self) -> Option<Decimal> {
        (self.count > 0).then(|| Decimal::from(self.sum) / Decimal::from(self.count))
    }

    /// A quantile in seconds from the sketch; `None` with no data or no sketch.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        self.sketch.as_ref().and_then(|s| s.quantile(q))
    }
}

impl Mergeable for DurationStats {
    fn merge(&mut self, other: &Self) {
        // An empty side is the identity whether or not it keeps a sketch; otherwise a side
        // without a sketch makes the merged quantiles unknowable, so they are dropped rather
        // than reported from a distribution that misses values.
        match (self.sketch.as_mut(), other.sketch.as_ref()) {
            (Some(a), Some(b)) => a.merge(b),
            (None, Some(b)) if self.count == 0 => self.sketch = Some(b.clone()),
            (Some(_), None) if other.count > 0 => self.sketch = None,
            _ => {}
        }
        self.count += other.count;
        self.sum += other.sum;
    }
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

/// Everything counted for one group (agent, team or tenant) and one period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketAggregate {
    /// Tickets assigned to the group in the period (handled).
    pub tickets_assigned: u64,
    /// Of those, the ones resolved by the period's end (or `as_of`).
    pub assigned_resolved: u64,
    /// Tickets created in the period (credited to their first assignee).
    pub tickets_created: u64,
    /// Resolutions in the period.
    pub tickets_resolved: u64,
    /// Reopenings in the period.
    pub tickets_reopened: u64,
    /// Tickets transferred to the group.
    pub transfers_in: u64,
    /// Tickets transferred away from the group.
    pub transfers_out: u64,
    /// Agent messages sent.
    pub agent_messages: u64,
    /// First-response times (calendar seconds), bucketed by the response instant.
    pub first_response: DurationStats,
    /// First-response times in business seconds (when a calendar is given).
    pub first_response_business: DurationStats,
    /// Resolution times (calendar seconds), bucketed by the resolution instant.
    pub resolution: DurationStats,
    /// Resolution times in business seconds (when a calendar is given).
    pub resolution_business: DurationStats,
    /// Of the counted resolution times, the seconds spent in the SLA policy's pause statuses
    /// (0 when it pauses on none): `resolution.sum - resolution_paused` is the time worked.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub resolution_paused: i64,
    /// The same in business seconds, of the resolutions counted in `resolution_business`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub resolution_paused_business: i64,
    /// SLA targets met.
    pub sla_met: u64,
    /// SLA targets breached.
    pub sla_breached: u64,
    /// What a live row keeps beyond its counters (see [`WindowDetail`]); `None` elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<WindowDetail>,
}

/// What a live row keeps beyond its counters, so that the rows of consecutive days merge into
/// the figures of any window of days exactly as a computation over that window counts them,
/// and so that SLA targets still open count as breached when read as of an instant past their
/// due (see [`TicketAggregate::window_total`] and [`TicketAggregate::settle`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowDetail {
    /// The row's counted assignments by `(back, gap)`: `back` is how many days before this
    /// row's start the same group's previous period with an assignment of the ticket started
    /// (0: none), and `gap` is the local day of the ticket's resolution after the assignment,
    /// counted from this row's start, plus one (0: not resolved).
    #[serde(with = "flat")]
    pub assignments: BTreeMap<(u32, u32), u64>,
    /// SLA targets not yet stopped, by due instant (Unix seconds), in the row of the due
    /// instant.
    #[serde(with = "flat")]
    pub sla_pending: BTreeMap<(i64, i64), u64>,
    /// The SLA tasks of tickets created in the row's day, in the row of their current assignee
    /// (and of their team), by `(created, breach)` — the creation instant and the instant after
    /// which the ticket counts as breached (`i64::MAX`: never), both Unix seconds — as
    /// (tasks, of them resolved).
    #[serde(default, with = "tasks", skip_serializing_if = "BTreeMap::is_empty")]
    pub sla_tasks: BTreeMap<(i64, i64), (u64, u64)>,
}

impl WindowDetail {
    fn is_empty(&self) -> bool {
        self.assignments.is_empty() && self.sla_pending.is_empty() && self.sla_tasks.is_empty()
    }

    fn merge(&mut self, o: &Self) {
        for (k, n) in &o.assignments {
            *self.assignments.entry(*k).or_insert(0) += n;
        }
        for (k, n) in &o.sla_pending {
            *self.sla_pending.entry(*k).or_insert(0) += n;
        }
        for (k, (n, r)) in &o.sla_tasks {
            let e = self.sla_tasks.entry(*k).or_insert((0, 0));
            e.0 += n;
            e.1 += r;
        }
    }
}

/// SLA tasks stored as one flat array of `[created, breach, tasks, resolved]` quadruples, the
/// creation instant as the difference from the one before and the breach instant as the
/// difference from the creation (`-1`: never): a day row holds one per ticket created that day,
/// and small numbers keep the row small.
mod tasks {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    type Tasks = BTreeMap<(i64, i64), (u64, u64)>;

    pub fn serialize<S: Serializer>(m: &Tasks, s: S) -> Result<S::Ok, S::Error> {
        let mut out: Vec<i64> = Vec::with_capacity(m.len() * 4);
        let mut last = 0i64;
        for ((created, breach), (n, r)) in m {
            let rel = if *breach == i64::MAX {
                -1
            } else {
                breach.saturating_sub(*created)
            };
            out.extend([
                created.saturating_sub(last),
                rel,
                i64::try_from(*n).unwrap_or(i64::MAX),
                i64::try_from(*r).unwrap_or(i64::MAX),
            ]);
            last = *created;
        }
        out.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Tasks, D::Error> {
        let flat = Vec::<i64>::deserialize(d)?;
        if flat.len() % 4 != 0 {
            return Err(D::Error::custom("a flat array of quadruples"));
        }
        let count = |v: i64| u64::try_from(v).map_err(|_| D::Error::custom("a negative count"));
        let mut out = BTreeMap::new();
        let mut last = 0i64;
        for q in flat.chunks_exact(4) {
            let created = last
                .checked_add(q[0])
                .ok_or_else(|| D::Error::custom("an instant out of range"))?;
            let breach = if q[1] < 0 {
                i64::MAX
            } else {
                created
                    .checked_add(q[1])
                    .ok_or_else(|| D::Error::custom("an instant out of range"))?
            };
            out.insert((created, breach), (count(q[2])?, count(q[3])?));
            last = created;
        }
        Ok(out)
    }
}

/// Counts by a pair of numbers, stored as one flat array `[a, b, count, a, b, count, …]`.
mod flat {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    pub fn serialize<S, K>(m: &BTreeMap<(K, K), u64>, s: S) -> Result<S::Ok, S::Error>
    where
        S: Serializer,
        K: Copy + Into<i64>,
    {
        let mut out: Vec<i64> = Vec::with_capacity(m.len() * 3);
        for ((a, b), n) in m {
            out.extend([
                (*a).into(),
                (*b).into(),
                i64::try_from(*n).unwrap_or(i64::MAX),
            ]);
        }
        out.serialize(s)
    }

    pub fn deserialize<'de, D, K>(d: D) -> Result<BTreeMap<(K, K), u64>, D::Error>
    where
        D: Deserializer<'de>,
        K: Copy + Ord + TryFrom<i64>,
    {
        let flat = Vec::<i64>::deserialize(d)?;
        if flat.len() % 3 != 0 {
            return Err(D::Error::custom("a flat array of triples"));
        }
        let key = |v: i64| K::try_from(v).map_err(|_| D::Error::custom("a key out of range"));
        let mut out = BTreeMap::new();
        for t in flat.chunks_exact(3) {
            let n = u64::try_from(t[2]).map_err(|_| D::Error::custom("a negative count"))?;
            out.insert((key(t[0])?, key(t[1])?), n);
        }
        Ok(out)
    }
}

impl Mergeable for TicketAggregate {
    fn merge(&mut self, o: &Self) {
        self.merge_figures(o);
        if let Some(w) = &o.window {
            self.window
                .get_or_insert_with(WindowDetail::default)
                .merge(w);
        }
    }
}

impl TicketAggregate {
    /// Merges everything but the window detail.
    fn merge_figures(&mut self, o: &Self) {
        self.tickets_assigned += o.tickets_assigned;
        self.assigned_resolved += o.assigned_resolved;
        self.tickets_created += o.tickets_created;
        self.tickets_resolved += o.tickets_resolved;
        self.tickets_reopened += o.tickets_reopened;
        self.transfers_in += o.transfers_in;
        self.transfers_out += o.transfers_out;
        self.agent_messages += o.agent_messages;
        self.first_response.merge(&o.first_response);
        self.first_response_business
            .merge(&o.first_response_business);
        self.resolution.merge(&o.resolution);
        self.resolution_business.merge(&o.resolution_business);
        self.resolution_paused += o.resolution_paused;
        self.resolution_paused_business += o.resolution_paused_business;
        self.sla_met += o.sla_met;
        self.sla_breached += o.sla_breached;
        if let Some(w) = &o.window {
            self.window
                .get_or_insert_with(WindowDetail::default)
                .merge(w);
        }
    }
}

impl TicketAggregate {
    /// An empty aggregate whose duration stats keep sketches when `quantiles` is set.
    pub fn new(quantiles: bool) -> Self {
        let d = || {
            if quantiles {
                DurationStats::with_sketch()
            } else {
                DurationStats::default()
            }
        };
        TicketAggregate {
            first_response: d(),
            first_response_business: d(),
            resolution: d(),
            resolution_business: d(),
            ..Self::default()
        }
    }

    /// The four duration statistics: first response, first response in business seconds,
    /// resolution, resolution in business seconds.
    pub fn duration_stats(&self) -> [&DurationStats; 4] {
        [
            &self.first_response,
            &self.first_response_business,
            &self.resolution,
            &self.resolution_business,
        ]
    }

    /// The four duration statistics, to change.
    pub fn duration_stats_mut(&mut self) -> [&mut DurationStats; 4] {
        [
            &mut self.first_response,
            &mut self.first_response_business,
            &mut self.resolution,
            &mut self.resolution_business,
        ]
    }

    /// True when nothing was counted (live window detail included).
    pub fn is_empty(&self) -> bool {
        self.counts_nothing() && self.window.as_ref().is_none_or(WindowDetail::is_empty)
    }

    /// True when no counter holds anything (a live row may still hold window detail: open SLA
    /// targets due in its period).
    pub fn counts_nothing(&self) -> bool {
        self.tickets_assigned == 0
            && self.tickets_created == 0
            && self.tickets_resolved == 0
            && self.tickets_reopened == 0
            && self.transfers_in == 0
            && self.transfers_out == 0
            && self.agent_messages == 0
            && self.first_response.count == 0
            && self.resolution.count == 0
            && self.sla_met == 0
            && self.sla_breached == 0
    }

    /// The row as of `as_of`: SLA targets still open whose due instant is before it count as
    /// breached (as a computation from snapshots with that `as_of` counts them).
    pub fn settle(&mut self, as_of: DateTime<Utc>) {
        if let Some(w) = self.window.as_mut() {
            let cut = as_of.timestamp();
            let overdue: u64 = w.sla_pending.range(..(cut, 0)).map(|(_, n)| *n).sum();
            self.sla_breached += overdue;
            w.sla_pending = w.sla_pending.split_off(&(cut, 0));
        }
    }

    /// The figures of the window of days `[from, to]` from the live day rows of one group
    /// (`(day, row)`, any order, days outside the window ignored; [`settle`](Self::settle) them
    /// first to read them as of an instant): counters,
    /// durations and SLA figures add up; a ticket assigned to the group on several days of the
    /// window counts once, from its first assignment in the window, and as resolved when its
    /// resolution falls on or before `to`.
    pub fn window_total<'a>(
        rows: impl IntoIterator<Item = (NaiveDate, &'a TicketAggregate)>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> TicketAggregate {
        let mut total = TicketAggregate::default();
        let (mut assigned, mut resolved) = (0u64, 0u64);
        for (day, row) in rows {
            if day < from || day > to {
                continue;
            }
            if let Some(w) = &row.window {
                for ((back, gap), n) in &w.assignments {
                    let earlier = day - Duration::days(i64::from(*back));
                    if *back != 0 && earlier >= from {
                        continue;
                    }
                    assigned += n;
                    if *gap != 0 && day + Duration::days(i64::from(*gap) - 1) <= to {
                        resolved += n;
                    }
                }
            }
            total.merge_figures(row);
        }
        total.tickets_assigned = assigned;
        total.assigned_resolved = resolved;
        total
    }
}

/// A stored aggregate read without its quantile sketches and SLA tasks: the figures window
/// analytics use (counts, sums, assignment links, open SLA targets). Skipping the sketches'
/// buckets and the per-ticket tasks makes the read several times cheaper.
#[derive(Deserialize)]
pub(crate) struct LiteAggregate {
    #[serde(default)]
    tickets_assigned: u64,
    #[serde(default)]
    assigned_resolved: u64,
    #[serde(default)]
    tickets_created: u64,
    #[serde(default)]
    tickets_resolved: u64,
    #[serde(default)]
    tickets_reopened: u64,
    #[serde(default)]
    transfers_in: u64,
    #[serde(default)]
    transfers_out: u64,
    #[serde(default)]
    agent_messages: u64,
    #[serde(default)]
    first_response: LiteStats,
    #[serde(default)]
    first_response_business: LiteStats,
    #[serde(default)]
    resolution: LiteStats,
    #[serde(default)]
    resolution_business: LiteStats,
    #[serde(default)]
    resolution_paused: i64,
    #[serde(default)]
    resolution_paused_business: i64,
    #[serde(default)]
    sla_met: u64,
    #[serde(default)]
    sla_breached: u64,
    #[serde(default)]
    window: Option<LiteWindow>,
}

#[derive(Default, Deserialize)]
struct LiteStats {
    #[serde(default)]
    count: u64,
    #[serde(default)]
    sum: i64,
}

#[derive(Deserialize)]
struct LiteWindow {
    #[serde(default, with = "flat")]
    assignments: BTreeMap<(u32, u32), u64>,
    #[serde(default, with = "flat")]
    sla_pending: BTreeMap<(i64, i64), u64>,
}

impl From<LiteStats> for DurationStats {
    fn from(s: LiteStats) -> Self {
        DurationStats {
            count: s.count,
            sum: s.sum,
            sketch: None,
        }
    }
}

impl From<LiteAggregate> for TicketAggregate {
    fn from(a: LiteAggregate) -> Self {
        TicketAggregate {
            tickets_assigned: a.tickets_assigned,
            assigned_resolved: a.assigned_resolved,
            tickets_created: a.tickets_created,
            tickets_resolved: a.tickets_resolved,
            tickets_reopened: a.tickets_reopened,
            transfers_in: a.transfers_in,
            transfers_out: a.transfers_out,
            agent_messages: a.agent_messages,
            first_response: a.first_response.into(),
            first_response_business: a.first_response_business.into(),
            resolution: a.resolution.into(),
            resolution_business: a.resolution_business.into(),
            resolution_paused: a.resolution_paused,
            resolution_paused_business: a.resolution_paused_business,
            sla_met: a.sla_met,
            sla_breached: a.sla_breached,
            window: a.window.map(|w| WindowDetail {
                assignments: w.assignments,
                sla_pending: w.sla_pending,
                sla_tasks: BTreeMap::new(),
            }),
        }
    }
}

mod compact_form {
    //! The binary stored form: counters, the duration stats with each sketch in a sized part,
    //! then the window detail with the SLA tasks in a sized part, so that a lite read skips the
    //! sketches and tasks without decoding them.
    use super::{DurationStats, TicketAggregate, WindowDetail};
    use crate::compact::{put_i64, put_opt, put_sized, put_u64, Compact, Reader};
    use crate::error::{Error, Result};
    use crate::metrics::sketch::QuantileSketch;
    use std::collections::BTreeMap;

    fn range() -> Error {
        Error::Storage("a stored aggregate holds a value out of range".into())
    }

    fn put_stats(w: &mut Vec<u8>, d: &DurationStats) {
        put_u64(w, d.count);
        put_i64(w, d.sum);
        put_sized(w, |w| put_opt(w, &d.sketch, |w, s| s.put(w)));
    }

    fn get_stats(r: &mut Reader<'_>, lite: bool) -> Result<DurationStats> {
        let (count, sum) = (r.u64()?, r.i64()?);
        let sketch = if lite {
            r.skip_sized()?;
            None
        } else {
            let mut part = r.sized()?;
            part.opt(QuantileSketch::get)?
        };
        Ok(DurationStats { count, sum, sketch })
    }

    fn put_window(w: &mut Vec<u8>, d: &WindowDetail) {
        put_u64(w, d.assignments.len() as u64);
        for ((back, gap), n) in &d.assignments {
            put_u64(w, u64::from(*back));
            put_u64(w, u64::from(*gap));
            put_u64(w, *n);
        }
        put_u64(w, d.sla_pending.len() as u64);
        let mut last = 0i64;
        for ((due, met), n) in &d.sla_pending {
            put_i64(w, due.wrapping_sub(last));
            put_i64(w, *met);
            put_u64(w, *n);
            last = *due;
        }
        put_sized(w, |w| {
            put_u64(w, d.sla_tasks.len() as u64);
            let mut last = 0i64;
            for ((created, breach), (n, resolved)) in &d.sla_tasks {
                put_i64(w, created.wrapping_sub(last));
                // The breach instant from the creation, plus one (0: never).
                let rel = if *breach == i64::MAX {
                    0
                } else {
                    breach.wrapping_sub(*created).wrapping_add(1)
                };
                put_i64(w, rel);
                put_u64(w, *n);
                put_u64(w, *resolved);
                last = *created;
            }
        });
    }

    fn get_window(r: &mut Reader<'_>, lite: bool) -> Result<WindowDetail> {
        let n = r.len()?;
        let mut assignments = Vec::with_capacity(n);
        for _ in 0..n {
            assignments.push(((r.u32()?, r.u32()?), r.u64()?));
        }
        let n = r.len()?;
        let mut pending = Vec::with_capacity(n);
        let mut last = 0i64;
        for _ in 0..n {
            last = last.checked_add(r.i64()?).ok_or_else(range)?;
            pending.push(((last, r.i64()?), r.u64()?));
        }
        let mut sla_tasks = BTreeMap::new();
        if lite {
            r.skip_sized()?;
        } else {
            let mut part = r.sized()?;
            let n = part.len()?;
            let mut tasks = Vec::with_capacity(n);
            let mut last = 0i64;
            for _ in 0..n {
                let created = last.checked_add(part.i64()?).ok_or_else(range)?;
                let breach = match part.i64()? {
                    0 => i64::MAX,
                    rel => created
                        .checked_add(rel.checked_sub(1).ok_or_else(range)?)
                        .ok_or_else(range)?,
                };
                tasks.push(((created, breach), (part.u64()?, part.u64()?)));
                last = created;
            }
            sla_tasks = tasks.into_iter().collect();
        }
        Ok(WindowDetail {
            assignments: assignments.into_iter().collect(),
            sla_pending: pending.into_iter().collect(),
            sla_tasks,
        })
    }

    impl TicketAggregate {
        /// Reads the binary form; `lite` leaves out the quantile sketches and SLA tasks.
        pub(crate) fn get_form(r: &mut Reader<'_>, lite: bool) -> Result<Self> {
            Self::get_version_form(r, crate::live::STATE_VERSION, lite)
        }

        /// Reads the binary form of `version`: version 2 had no paused seconds (read as 0).
        pub(crate) fn get_version_form(
            r: &mut Reader<'_>,
            version: u32,
            lite: bool,
        ) -> Result<Self> {
            let mut c = [0u64; 8];
            for v in &mut c {
                *v = r.u64()?;
            }
            let stats = [
                get_stats(r, lite)?,
                get_stats(r, lite)?,
                get_stats(r, lite)?,
                get_stats(r, lite)?,
            ];
            let (sla_met, sla_breached) = (r.u64()?, r.u64()?);
            let (resolution_paused, resolution_paused_business) = if version >= 3 {
                (r.i64()?, r.i64()?)
            } else {
                (0, 0)
            };
            let window = r.opt(|r| get_window(r, lite))?;
            let [first_response, first_response_business, resolution, resolution_business] = stats;
            Ok(TicketAggregate {
                tickets_assigned: c[0],
                assigned_resolved: c[1],
                tickets_created: c[2],
                tickets_resolved: c[3],
                tickets_reopened: c[4],
                transfers_in: c[5],
                transfers_out: c[6],
                agent_messages: c[7],
                first_response,
                first_response_business,
                resolution,
                resolution_business,
                resolution_paused,
                resolution_paused_business,
                sla_met,
                sla_breached,
                window,
            })
        }
    }

    impl Compact for TicketAggregate {
        fn put(&self, w: &mut Vec<u8>) {
            for v in [
                self.tickets_assigned,
                self.assigned_resolved,
                self.tickets_created,
                self.tickets_resolved,
                self.tickets_reopened,
                self.transfers_in,
                self.transfers_out,
                self.agent_messages,
            ] {
                put_u64(w, v);
            }
            for d in self.duration_stats() {
                put_stats(w, d);
            }
            put_u64(w, self.sla_met);
            put_u64(w, self.sla_breached);
            put_i64(w, self.resolution_paused);
            put_i64(w, self.resolution_paused_business);
            put_opt(w, &self.window, put_window);
        }

        fn get(r: &mut Reader<'_>) -> Result<Self> {
            Self::get_form(r, false)
        }

        fn get_version(r: &mut Reader<'_>, version: u32) -> Result<Self> {
            Self::get_version_form(r, version, false)
        }
    }
}
