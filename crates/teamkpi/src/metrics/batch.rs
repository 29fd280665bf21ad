//! Batch computation of ticket metrics per agent, team or tenant and per period.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

use crate::calendar::BusinessCalendar;
use crate::choice::string_enum;
use crate::error::{Error, Result};
use crate::hashing::FastBuild;
use crate::metrics::aggregate::TicketAggregate;
use crate::metrics::records::Ticket;
use crate::metrics::repeats::repeated_ticket;
use crate::metrics::rows::{rows_of, TicketMetrics};
use crate::metrics::Mergeable;

use crate::period::{local_date, local_midnight, Period, PeriodKind, ZoneOffsets};
use crate::sla::{SlaPolicy, SlaTarget};

string_enum! {
    /// What metrics are grouped by.
    pub enum GroupBy ("group_by") {
        /// One row per agent (credited per the attribution rules (docs/semantics.md)).
        Agent = "agent" | "agents",
        /// One row per team.
        Team = "team" | "teams",
        /// One row for the whole tenant (account).
        Tenant = "tenant" | "account" | "all" | "company",
    }
}

/// The group a row belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKey {
    /// An agent (`None`: unassigned).
    Agent(Option<u64>),
    /// A team (`None`: no team).
    Team(Option<String>),
    /// The whole tenant.
    Tenant,
}

/// How instants are bucketed into periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucketing {
    /// Natural periods: local days, ISO weeks or months.
    Period(PeriodKind),
    /// `count` consecutive windows of `days` local days from `start` (the support automation's weekly trends,
    /// or one window over a whole range); instants outside them are not counted.
    Windows {
        /// First day of the first window.
        start: NaiveDate,
        /// Days per window (≥ 1).
        days: u32,
        /// Number of windows (≥ 1).
        count: u32,
    },
}

impl Bucketing {
    /// One window over `[start, end]`.
    pub fn range(start: NaiveDate, end: NaiveDate) -> Result<Self> {
        if end < start {
            return Err(Error::range("range", start, end));
        }
        let days = u32::try_from((end - start).num_days() + 1)
            .map_err(|_| Error::argument("range", "too long"))?;
        Ok(Bucketing::Windows {
            start,
            days,
            count: 1,
        })
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if let Bucketing::Windows { days, count, .. } = self {
            crate::limits::check_days("windows", u64::from(*days) * u64::from(*count))?;
            if *days == 0 || *count == 0 {
                return Err(Error::argument(
                    "windows",
                    "days and count must be at least 1",
                ));
            }
        }
        Ok(())
    }

    /// The bucket (first and last day) containing a local date, if any.
    pub fn bucket(&self, date: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        match *self {
            Bucketing::Period(kind) => {
                let p = Period::containing(kind, date);
                Some((p.start, p.end))
            }
            Bucketing::Windows { start, days, count } => {
                let offset = (date - start).num_days();
                let days = i64::from(days);
                if offset < 0 || offset >= days * i64::from(count) {
                    return None;
                }
                let first = start + Duration::days(offset / days * days);
                Some((first, first + Duration::days(days - 1)))
            }
        }
    }
}

/// What to compute and how.
#[derive(Debug, Clone)]
pub struct MetricsOptions {
    /// The tenant in scope; records of another tenant are rejected.
    pub tenant: Option<String>,
    /// The zone whose local days define periods.
    pub timezone: Tz,
    /// Periods or windows.
    pub bucketing: Bucketing,
    /// Agent, team or tenant rows.
    pub group_by: GroupBy,
    /// A business calendar for business-second durations.
    pub calendar: Option<BusinessCalendar>,
    /// An SLA policy for SLA met / breached (snapshots carry no status history, so pauses are
    /// not applied here; [`SlaPolicy::evaluate`] applies them on full timelines).
    pub sla: Option<SlaPolicy>,
    /// The instant the data is as of: a resolution after it does not count for the resolution
    /// rate, and an SLA target unanswered past its due instant before it counts as breached.
    pub as_of: Option<DateTime<Utc>>,
    /// Keep quantile sketches for median and p90.
    pub quantiles: bool,
}

impl MetricsOptions {
    /// Daily metrics per agent in `timezone`, no calendar, no SLA, with quantiles.
    pub fn daily(timezone: Tz) -> Self {
        MetricsOptions {
            tenant: None,
            timezone,
            bucketing: Bucketing::Period(PeriodKind::Day),
            group_by: GroupBy::Agent,
            calendar: None,
            sla: None,
            as_of: None,
            quantiles: true,
        }
    }
}

/// A record that was not counted, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedRecord {
    /// The record's id.
    pub id: u64,
    /// Its position in the input (0-based).
    pub index: usize,
    /// The error code.
    pub code: String,
    /// Why.
    pub reason: String,
}

/// The mergeable state of a ticket metrics computation: aggregates per (group, period start).
/// Partials from any split of the input, merged in any order, equal one pass.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(from = "Vec<(GroupKey, NaiveDate, NaiveDate, TicketAggregate)>")]
#[serde(into = "Vec<(GroupKey, NaiveDate, NaiveDate, TicketAggregate)>")]
pub struct TicketMetricsState {
    /// Where each (group, period start) is in `rows`: hashed for the engine's per-event
    /// updates; every listing sorts by key.
    index: HashMap<(GroupKey, NaiveDate), u32, FastBuild>,
    /// (group, period start, period end, aggregate), in order of first use. A row keeps its
    /// slot until [`prune`](Self::prune), so the engine can update a hot agent's three periods
    /// without hashing a key each time.
    rows: Vec<(GroupKey, NaiveDate, NaiveDate, TicketAggregate)>,
}

impl PartialEq for TicketMetricsState {
    /// The same aggregates under the same keys, whatever order they were first used in.
    fn eq(&self, other: &Self) -> bool {
        self.rows.len() == other.rows.len()
            && self.rows.iter().all(|(g, start, end, agg)| {
                other
                    .find(g, *start)
                    .is_some_and(|(_, _, e, a)| e == end && a == agg)
            })
    }
}

impl Eq for TicketMetricsState {}

impl From<Vec<(GroupKey, NaiveDate, NaiveDate, TicketAggregate)>> for TicketMetricsState {
    fn from(rows: Vec<(GroupKey, NaiveDate, NaiveDate, TicketAggregate)>) -> Self {
        let mut s = TicketMetricsState::default();
        for (g, start, end, agg) in rows {
            s.entry(g, (start, end), false).merge(&agg);
        }
        s
    }
}

impl From<TicketMetricsState> for Vec<(GroupKey, NaiveDate, NaiveDate, TicketAggregate)> {
    fn from(s: TicketMetricsState) -> Self {
        let mut rows = s.rows;
        rows.sort_unstable_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        rows
    }
}

impl Mergeable for TicketMetricsState {
    fn merge(&mut self, other: &Self) {
        for (g, start, end, agg) in &other.rows {
            self.entry(g.clone(), (*start, *end), false).merge(agg);
        }
    }
}

impl TicketMetricsState {
    pub(crate) fn entry(
        &mut self,
        group: GroupKey,
        bucket: (NaiveDate, NaiveDate),
        quantiles: bool,
    ) -> &mut TicketAggregate {
        let slot = self.slot(group, bucket, quantiles);
        self.at_slot(slot)
    }

    /// The slot of a (group, period)'s row, added empty when missing.
    pub(crate) fn slot(
        &mut self,
        group: GroupKey,
        bucket: (NaiveDate, NaiveDate),
        quantiles: bool,
    ) -> u32 {
        let rows = &mut self.rows;
        *self
            .index
            .entry((group, bucket.0))
            .or_insert_with_key(|(g, start)| {
                rows.push((g.clone(), *start, bucket.1, TicketAggregate::new(quantiles)));
                // More than four billion (group, period) rows would exhaust memory first.
                (rows.len() - 1) as u32
            })
    }

    /// The aggregate in a slot [`slot`](Self::slot) gave (valid until [`prune`](Self::prune)).
    pub(crate) fn at_slot(&mut self, slot: u32) -> &mut TicketAggregate {
        // Slots come from `slot` and rows are only removed by `prune`, which callers are told
        // invalidates them: an index out of range is a bug in the crate, not bad input.
        &mut self.rows[slot as usize].3
    }

    fn find(
        &self,
        group: &GroupKey,
        start: NaiveDate,
    ) -> Option<&(GroupKey, NaiveDate, NaiveDate, TicketAggregate)> {
        let slot = self.index.get(&(group.clone(), start))?;
        self.rows.get(*slot as usize)
    }

    /// The aggregates, ordered by group then period start.
    pub fn iter(
        &self,
    ) -> impl Iterator<Item = (&GroupKey, NaiveDate, NaiveDate, &TicketAggregate)> {
        let mut rows: Vec<_> = self
            .rows
            .iter()
            .map(|(g, start, end, agg)| (g, *start, *end, agg))
            .collect();
        rows.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        rows.into_iter()
    }

    /// The aggregate of one group and period start.
    pub fn get(&self, group: &GroupKey, start: NaiveDate) -> Option<&TicketAggregate> {
        self.find(group, start).map(|(_, _, _, a)| a)
    }

    /// Drops groups with nothing counted (left behind by retractions). Rows move to new slots.
    pub fn prune(&mut self) {
        self.rows.retain(|(_, _, _, agg)| !agg.is_empty());
        self.index = self
            .rows
            .iter()
            .enumerate()
            .map(|(slot, (g, start, _, _))| ((g.clone(), *start), slot as u32))
            .collect();
    }

    /// Number of (group, period) entries.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Computes ticket metrics from snapshots, streaming: memory grows with the number of
/// (group, period) pairs, not with the number of tickets.
///
/// ```
/// use teamkpi::metrics::{MetricsOptions, Ticket, TicketMetricsAggregator};
/// use chrono::{TimeZone, Utc};
/// let mut agg = TicketMetricsAggregator::new(MetricsOptions::daily(chrono_tz::UTC)).unwrap();
/// let created = Utc.with_ymd_and_hms(2025, 11, 3, 9, 0, 0).unwrap();
/// agg.add(&Ticket {
///     id: 1, agent_id: Some(7), created_at: created,
///     first_response_at: Some(created + chrono::Duration::minutes(30)),
///     resolved_at: Some(created + chrono::Duration::hours(4)),
///     ..Ticket::default()
/// }).unwrap();
/// let report = agg.finish();
/// let row = &report.rows[0];
/// assert_eq!((row.agent_id, row.tickets_assigned, row.tickets_resolved), (Some(7), 1, 1));
/// assert_eq!(row.avg_first_response_seconds, Some(1800.into()));
/// ```
#[derive(Debug, Clone)]
pub struct TicketMetricsAggregator {
    options: MetricsOptions,
    offsets: ZoneOffsets,
    state: TicketMetricsState,
    rejected: Vec<RejectedRecord>,
    seen: usize,
    /// Ids taken by `add_all`, to refuse a second copy.
    ids: HashSet<u64, FastBuild>,
}

/// The result of a batch computation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketMetricsReport {
    /// One row per (group, period), ordered by group then period.
    pub rows: Vec<TicketMetrics>,
    /// Records that were not counted.
    pub rejected: Vec<RejectedRecord>,
}

/// A contribution of one ticket, computed before anything is written so that a failing ticket
/// changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Contribution {
    Assigned {
        resolved_in_time: bool,
    },
    Created,
    Resolved {
        seconds: i64,
        business: Option<i64>,
    },
    /// Of a resolution's time, the part in the SLA policy's pause statuses (calendar and
    /// business seconds), beside its `Resolved`; only when some of it was paused.
    Paused {
        seconds: i64,
        business: i64,
    },
    Reopened,
    TransferIn,
    TransferOut,
    AgentMessage,
    FirstResponse {
        seconds: i64,
        business: Option<i64>,
    },
    SlaMet,
    SlaBreached,
    /// Live rows only, right after the `Assigned` it details: see
    /// [`WindowDetail::assignments`](crate::metrics::WindowDetail).
    Window {
        back: u32,
        gap: u32,
    },
    /// Live rows only: an SLA target not yet stopped, due at `due` (target 0: first response,
    /// 1: resolution).
    SlaPending {
        due: i64,
        target: i64,
    },
    /// Live day rows only: a ticket's SLA task, in the row of its creation day (see
    /// [`WindowDetail::sla_tasks`](crate::metrics::WindowDetail)).
    SlaTask {
        created: i64,
        breach: i64,
        resolved: bool,
    },
}

impl Contribution {
    pub(crate) fn apply(self, agg: &mut TicketAggregate, sign: i64) {
        let bump = |n: &mut u64| {
            if sign > 0 {
                *n += 1;
            } else {
                *n = n.saturating_sub(1);
            }
        };
        let stat = |s: &mut crate::metrics::DurationStats, v: i64| {
            if sign > 0 {
                s.add(v)
            } else {
                s.remove(v)
            }
        };
        match self {
            Contribution::Assigned { resolved_in_time } => {
                bump(&mut agg.tickets_assigned);
                if resolved_in_time {
                    bump(&mut agg.assigned_resolved);
                }
            }
            Contribution::Created => bump(&mut agg.tickets_created),
            Contribution::Resolved { seconds, business } => {
                bump(&mut agg.tickets_resolved);
                stat(&mut agg.resolution, seconds);
                if let Some(b) = business {
                    stat(&mut agg.resolution_business, b);
                }
            }
            Contribution::Paused { seconds, business } => {
                agg.resolution_paused += sign * seconds;
                agg.resolution_paused_business += sign * business;
            }
            Contribution::Reopened => bump(&mut agg.tickets_reopened),
            Contribution::TransferIn => bump(&mut agg.transfers_in),
            Contribution::TransferOut => bump(&mut agg.transfers_out),
            Contribution::AgentMessage => bump(&mut agg.agent_messages),
            Contribution::FirstResponse { seconds, business } => {
                stat(&mut agg.first_response, seconds);
                if let Some(b) = business {
                    stat(&mut agg.first_response_business, b);
                }
            }
            Contribution::SlaMet => bump(&mut agg.sla_met),
            Contribution::SlaBreached => bump(&mut agg.sla_breached),
            Contribution::Window { back, gap } => {
                let w = agg.window.get_or_insert_with(Default::default);
                count(&mut w.assignments, (back, gap), sign);
            }
            Contribution::SlaPending { due, target } => {
                let w = agg.window.get_or_insert_with(Default::default);
                count(&mut w.sla_pending, (due, target), sign);
            }
            Contribution::SlaTask {
                created,
                breach,
                resolved,
            } => {
                let w = agg.window.get_or_insert_with(Default::default);
                let r = u64::from(resolved);
                let e = w.sla_tasks.entry((created, breach)).or_insert((0, 0));
                if sign > 0 {
                    *e = (e.0 + 1, e.1 + r);
                } else {
                    *e = (e.0.saturating_sub(1), e.1.saturating_sub(r));
                }
                if e.0 == 0 {
                    w.sla_tasks.remove(&(created, breach));
                }
            }
        }
    }
}

/// Adds one to a count, or takes one away (dropping it at zero).
fn count<K: Ord>(m: &mut std::collections::BTreeMap<K, u64>, key: K, sign: i64) {
    if sign > 0 {
        *m.entry(key).or_insert(0) += 1;
    } else if let std::collections::btree_map::Entry::Occupied(mut e) = m.entry(key) {
        if *e.get() > 1 {
            *e.get_mut() -= 1;
        } else {
            e.remove();
        }
    }
}

/// One keyed contribution: group, bucket, what.
pub(crate) type Keyed = (GroupKey, (NaiveDate, NaiveDate), Contribution);

/// Whole days from `a` to a later `b` (0 when `b` is not later; capped, never wrapping).
fn days_between(a: NaiveDate, b: NaiveDate) -> u32 {
    u32::try_from((b - a).num_days().max(0)).unwrap_or(u32::MAX)
}

impl MetricsOptions {
    pub(crate) fn group(&self, ticket: &Ticket, agent: Option<u64>) -> GroupKey {
        match self.group_by {
            GroupBy::Agent => GroupKey::Agent(agent),
            GroupBy::Team => GroupKey::Team(ticket.team.clone()),
            GroupBy::Tenant => GroupKey::Tenant,
        }
    }

    /// The local day of an instant in the options' zone.
    pub(crate) fn local_day_at(
        &self,
        offsets: &ZoneOffsets,
        at: DateTime<Utc>,
    ) -> Option<NaiveDate> {
        let t = at.timestamp();
        let day = (t + offsets.offset_at(self.timezone, t)).div_euclid(86_400);
        i32::try_from(day + 719_163)
            .ok()
            .and_then(NaiveDate::from_num_days_from_ce_opt)
    }

    pub(crate) fn bucket_at(
        &self,
        offsets: &ZoneOffsets,
        at: DateTime<Utc>,
    ) -> Option<(NaiveDate, NaiveDate)> {
        let t = at.timestamp();
        let day = (t + offsets.offset_at(self.timezone, t)).div_euclid(86_400);
        let date = i32::try_from(day + 719_163)
            .ok()
            .and_then(NaiveDate::from_num_days_from_ce_opt)
            .unwrap_or_else(|| local_date(self.timezone, at));
        self.bucketing.bucket(date)
    }

    fn bucket_end_utc(&self, bucket: (NaiveDate, NaiveDate)) -> DateTime<Utc> {
        let after = bucket.1.succ_opt().unwrap_or(bucket.1);
        local_midnight(self.timezone, after)
    }

    fn business(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Option<i64>> {
        match &self.calendar {
            Some(cal) => cal.business_seconds_between(from, to).map(Some),
            None => Ok(None),
        }
    }

    /// The part of `[from, to]` inside `pauses` (Unix-second spans, merged and in order) as a
    /// `Paused` contribution, in calendar seconds and in business seconds on the metrics
    /// calendar (0 without one); `None` when nothing of it was paused. Never more than the
    /// whole duration (whole-second truncation of sub-second instants).
    fn paused_within(
        &self,
        pauses: &[(i64, i64)],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Option<Contribution>> {
        let (lo, hi) = (from.timestamp(), to.timestamp());
        let (mut seconds, mut business) = (0i64, 0i64);
        for &(a, b) in pauses {
            let (a, b) = (a.max(lo), b.min(hi));
            if b <= a {
                continue;
            }
            seconds += b - a;
            if self.calendar.is_some() {
                let at = |t: i64| DateTime::from_timestamp(t, 0).unwrap_or(from);
                business += self.business(at(a), at(b))?.unwrap_or(0);
            }
        }
        if seconds == 0 {
            return Ok(None);
        }
        let whole = (to - from).num_seconds();
        let business_whole = self.business(from, to)?.unwrap_or(0);
        Ok(Some(Contribution::Paused {
            seconds: seconds.min(whole),
            business: business.min(business_whole),
        }))
    }

    /// Everything one ticket contributes (the attribution rules of docs/semantics.md), or the reason it is rejected.
    pub(crate) fn contributions(&self, offsets: &ZoneOffsets, t: &Ticket) -> Result<Vec<Keyed>> {
        self.contributions_as(offsets, t, false)
    }

    /// [`contributions`](Self::contributions), with the window detail of live rows when `live`
    /// is set: each counted assignment's `Window` right after it, and each SLA target not yet
    /// stopped as `SlaPending`.
    pub(crate) fn contributions_as(
        &self,
        offsets: &ZoneOffsets,
        t: &Ticket,
        live: bool,
    ) -> Result<Vec<Keyed>> {
        if t.tenant != self.tenant {
            return Err(Error::TenantMismatch {
                expected: self.tenant.clone(),
                got: t.tenant.clone(),
            });
        }
        t.validate()?;
        let mut out: Vec<Keyed> = Vec::new();
        let assignments = t.assignments();
        let assignee_at = |at: DateTime<Utc>| {
            assignments
                .iter()
                .take_while(|(t0, _)| *t0 <= at)
                .last()
                .map(|(_, a)| *a)
        };
        let mut push = |agent: Option<u64>, at: DateTime<Utc>, c: Contribution| {
            if let Some(b) = self.bucket_at(offsets, at) {
                out.push((self.group(t, agent), b, c));
            }
        };
        // Assignments, each (group, bucket) once per ticket.
        let mut seen: Vec<(GroupKey, NaiveDate)> = Vec::new();
        for (at, agent) in &assignments {
            let Some(b) = self.bucket_at(offsets, *at) else {
                continue;
            };
            let g = self.group(t, Some(*agent));
            if seen.iter().any(|(sg, sd)| *sg == g && *sd == b.0) {
                continue;
            }
            // The group's previous period with an assignment (assignments are in time order).
            let back = seen
                .iter()
                .rev()
                .find(|(sg, _)| *sg == g)
                .map_or(0, |(_, sd)| days_between(*sd, b.0));
            seen.push((g, b.0));
            // Resolved before the period's (exclusive) end and at or before `as_of`: a
            // resolution stamped at the very instant the data is as of has happened.
            let cutoff = match self.as_of {
                Some(a) => (a + chrono::Duration::seconds(1)).min(self.bucket_end_utc(b)),
                None => self.bucket_end_utc(b),
            };
            let resolved_in_time = t.resolved_at.is_some_and(|r| r >= *at && r < cutoff);
            push(
                Some(*agent),
                *at,
                Contribution::Assigned { resolved_in_time },
            );
            if live {
                let gap = match t.resolved_at {
                    Some(r) if r >= *at => self
                        .local_day_at(offsets, r)
                        .map_or(0, |d| days_between(b.0, d).saturating_add(1)),
                    _ => 0,
                };
                push(Some(*agent), *at, Contribution::Window { back, gap });
            }
        }
        push(
            assignee_at(t.created_at),
            t.created_at,
            Contribution::Created,
        );
        for tr in &t.transfers {
            if let Some(from) = tr.from {
                if from != tr.to {
                    push(Some(from), tr.at, Contribution::TransferOut);
                    push(Some(tr.to), tr.at, Contribution::TransferIn);
                }
            }
        }
        for m in &t.agent_messages {
            push(
                m.agent_id.or_else(|| assignee_at(m.at)),
                m.at,
                Contribution::AgentMessage,
            );
        }
        type Durations = fn(i64, Option<i64>) -> Contribution;
        let first: Durations =
            |seconds, business| Contribution::FirstResponse { seconds, business };
        let resolved: Durations = |seconds, business| Contribution::Resolved { seconds, business };
        // Spans in the SLA policy's pause statuses: they stop the SLA clocks and are left out
        // of the worked resolution time (none without pause statuses: today's figures).
        let pauses = match &self.sla {
            Some(p) if !p.spec().pause_statuses.is_empty() => p.status_pauses(&t.statuses()),
            _ => Vec::new(),
        };
        for (at, contribution) in [(t.first_response_at, first), (t.resolved_at, resolved)] {
            if let Some(at) = at {
                let seconds = (at - t.created_at).num_seconds();
                let business = self.business(t.created_at, at)?;
                push(assignee_at(at), at, contribution(seconds, business));
            }
        }
        if let (Some(at), false) = (t.resolved_at, pauses.is_empty()) {
            if let Some(paused) = self.paused_within(&pauses, t.created_at, at)? {
                push(assignee_at(at), at, paused);
            }
        }
        for r in &t.reopened_at {
            push(assignee_at(*r), *r, Contribution::Reopened);
        }
        if let (Some(policy), Some(priority)) = (&self.sla, &t.priority) {
            if let Some(targets) = policy.spec().targets.get(priority) {
                for (target, stop) in [
                    (SlaTarget::FirstResponse, t.first_response_at),
                    (SlaTarget::Resolution, t.resolved_at),
                ] {
                    let secs = match target {
                        SlaTarget::FirstResponse => targets.first_response,
                        _ => targets.resolution,
                    };
                    let Some(secs) = secs else { continue };
                    let due = if pauses.is_empty() {
                        policy.calendar().add_business_seconds(t.created_at, secs)?
                    } else {
                        match policy.due_after_pauses(t.created_at, secs, &pauses)? {
                            Some(d) => d,
                            // Paused before it fell due, and still: met if it stopped, else
                            // not due (not pending either: no instant to settle at).
                            None => {
                                if let Some(s) = stop {
                                    push(assignee_at(s), s, Contribution::SlaMet);
                                }
                                continue;
                            }
                        }
                    };
                    match stop {
                        Some(s) if s <= due => push(assignee_at(s), s, Contribution::SlaMet),
                        Some(s) => push(assignee_at(s), s, Contribution::SlaBreached),
                        None if self.as_of.is_some_and(|a| a > due) => {
                            push(assignee_at(due), due, Contribution::SlaBreached)
                        }
                        None if live => {
                            let target = i64::from(target == SlaTarget::Resolution);
                            let due_at = due.timestamp();
                            push(
                                assignee_at(due),
                                due,
                                Contribution::SlaPending {
                                    due: due_at,
                                    target,
                                },
                            )
                        }
                        None => {}
                    }
                }
            }
        }
        Ok(out)
    }
}

impl TicketMetricsAggregator {
    /// A new computation.
    pub fn new(options: MetricsOptions) -> Result<Self> {
        options.bucketing.validate()?;
        Ok(TicketMetricsAggregator {
            options,
            offsets: ZoneOffsets::new(),
            state: TicketMetricsState::default(),
            rejected: Vec::new(),
            seen: 0,
            ids: HashSet::default(),
        })
    }

    /// Resumes from a state computed elsewhere (a partial of another worker).
    pub fn from_state(options: MetricsOptions, state: TicketMetricsState) -> Result<Self> {
        let mut a = Self::new(options)?;
        a.state = state;
        Ok(a)
    }

    /// The options.
    pub fn options(&self) -> &MetricsOptions {
        &self.options
    }

    /// Counts one ticket; an invalid ticket returns its error and changes nothing.
    pub fn add(&mut self, ticket: &Ticket) -> Result<()> {
        let contributions = self.options.contributions(&self.offsets, ticket)?;
        let q = self.options.quantiles;
        for (g, b, c) in contributions {
            c.apply(self.state.entry(g, b, q), 1);
        }
        Ok(())
    }

    /// Counts many tickets; invalid ones are recorded as rejected (id, position, reason) and the
    /// rest are counted. All `add_all` calls of one aggregator are one batch: a second copy of a
    /// ticket id is rejected as `duplicate_record` and the first copy counts.
    pub fn add_all<'a>(&mut self, tickets: impl IntoIterator<Item = &'a Ticket>) {
        for t in tickets {
            let index = self.seen;
            self.seen += 1;
            if !self.ids.insert(t.id) {
                self.rejected.push(repeated_ticket(t.id, index));
                continue;
            }
            if let Err(e) = self.add(t) {
                self.rejected.push(RejectedRecord {
                    id: t.id,
                    index,
                    code: e.code().to_owned(),
                    reason: e.to_string(),
                });
            }
        }
    }

    /// Merges another computation's state (same options).
    pub fn merge_state(&mut self, other: &TicketMetricsState) {
        self.state.merge(other);
    }

    /// The mergeable state.
    pub fn state(&self) -> &TicketMetricsState {
        &self.state
    }

    pub(crate) fn state_mut(&mut self) -> &mut TicketMetricsState {
        &mut self.state
    }

    /// Takes the state out.
    pub fn into_state(self) -> TicketMetricsState {
        self.state
    }

    /// The rows and the rejected records.
    pub fn finish(self) -> TicketMetricsReport {
        TicketMetricsReport {
            rows: rows_of(&self.state),
            rejected: self.rejected,
        }
    }
}
