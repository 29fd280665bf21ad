//! Ticket metrics from columnar slices (struct of arrays), for Arrow, numpy and bulk exports.
//!
//! Columns carry the W1 subset of a ticket: agent, priority, created, first response, resolved.
//! Instants are Unix seconds; a missing instant is [`NULL_INSTANT`] (`i64::MIN`, numpy's NaT).
//! The result equals the row path ([`TicketMetricsAggregator`]) over the same tickets. Without
//! quantiles, a business calendar or a non-24/7 SLA calendar, a dense kernel does the work: one
//! hash probe per ticket for its agent and array arithmetic for the rest.

use chrono::{DateTime, NaiveDate, Utc};

use crate::error::{Error, Result};
use crate::metrics::aggregate::TicketAggregate;
use crate::metrics::batch::{
    rows_of, GroupBy, GroupKey, MetricsOptions, RejectedRecord, TicketMetricsAggregator,
    TicketMetricsReport, TicketMetricsState,
};
use crate::metrics::records::Ticket;
use crate::metrics::Mergeable;
use crate::period::{local_midnight, ZoneOffsets};

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
    fn len(&self) -> Result<usize> {
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

/// Accumulators of the dense kernel.
#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    assigned: u64,
    assigned_resolved: u64,
    resolved: u64,
    fr_count: u64,
    fr_sum: i64,
    res_sum: i64,
    sla_met: u64,
    sla_breached: u64,
}

/// An agent id → dense index table (open addressing, deterministic hashing).
struct AgentIndex {
    keys: Vec<u64>,
    slots: Vec<u32>,
    mask: usize,
    count: usize,
}

const EMPTY: u32 = u32::MAX;

impl AgentIndex {
    fn new() -> Self {
        AgentIndex {
            keys: Vec::new(),
            slots: vec![EMPTY; 1024],
            mask: 1023,
            count: 0,
        }
    }

    #[inline]
    fn hash(k: u64) -> usize {
        (k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize
    }

    #[inline]
    fn get_or_insert(&mut self, k: u64) -> usize {
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
    let sla_fast = options
        .sla
        .as_ref()
        .is_none_or(|p| p.calendar().is_always_open());
    let fast =
        !options.quantiles && options.calendar.is_none() && sla_fast && options.tenant.is_none();
    if fast {
        if let Some(report) = dense_kernel(columns, options, n)? {
            return Ok(report);
        }
    }
    // The general path: each row as a ticket through the row aggregator.
    let mut agg = TicketMetricsAggregator::new(options.clone())?;
    let mut rejected = Vec::new();
    for i in 0..n {
        match columns.ticket(i) {
            Some(t) => {
                if let Err(e) = agg.add(&t) {
                    rejected.push(reject(columns, i, &e));
                }
            }
            None => rejected.push(reject(columns, i, &missing_creation(columns, i))),
        }
    }
    let mut report = agg.finish();
    report.rejected = rejected;
    Ok(report)
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

/// The dense kernel; `None` when the data does not fit it (too long a date range).
fn dense_kernel(
    c: &TicketColumns<'_>,
    options: &MetricsOptions,
    n: usize,
) -> Result<Option<TicketMetricsReport>> {
    let tz = options.timezone;
    let offsets = ZoneOffsets::new();
    let local_day = |t: i64| (t + offsets.offset_at(tz, t)).div_euclid(86_400);
    // The day range the instants span.
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    for col in [c.created_at, c.first_response_at, c.resolved_at] {
        for &t in col {
            if t != NULL_INSTANT {
                lo = lo.min(t);
                hi = hi.max(t);
            }
        }
    }
    if n == 0 || lo > hi {
        return Ok(Some(TicketMetricsReport {
            rows: Vec::new(),
            rejected: Vec::new(),
        }));
    }
    // SLA targets per priority code (24/7: due = created + target).
    let sla_targets: Vec<(Option<i64>, Option<i64>)> = match &options.sla {
        Some(p) => c
            .priority_labels
            .iter()
            .map(|l| {
                p.spec()
                    .targets
                    .get(l)
                    .map_or((None, None), |t| (t.first_response, t.resolution))
            })
            .collect(),
        None => Vec::new(),
    };
    let (first_day, last_day) = (local_day(lo), local_day(hi));
    let Some(dense) = DenseBuckets::new(options, first_day, last_day) else {
        return Ok(None);
    };
    let nb = dense.buckets.len().max(1);
    let as_of = options.as_of.map(|a| a.timestamp());
    let mut agents = AgentIndex::new();
    let mut accs: Vec<Acc> = Vec::new();
    let mut created_counts: Vec<u64> = Vec::new();
    // Slot for rows without an assignee (agent grouping): the unassigned row.
    let mut none_base: Option<usize> = None;
    let mut rejected = Vec::new();
    let grow = |accs: &mut Vec<Acc>, cc: &mut Vec<u64>, slot: usize| {
        if accs.len() < (slot + 1) * nb {
            accs.resize((slot + 1) * nb, Acc::default());
            cc.resize((slot + 1) * nb, 0);
        }
        slot * nb
    };
    let mut slots_used = 0usize;
    let mut slot_of_agent: Vec<usize> = Vec::new();
    for i in 0..n {
        let created = c.created_at[i];
        let fr = c.first_response_at[i];
        let res = c.resolved_at[i];
        if created == NULL_INSTANT {
            rejected.push(reject(c, i, &missing_creation(c, i)));
            continue;
        }
        if fr != NULL_INSTANT && fr < created {
            rejected.push(reject(c, i, &range_error("first_response_at", created, fr)));
            continue;
        }
        if res != NULL_INSTANT && res < created {
            rejected.push(reject(c, i, &range_error("resolved_at", created, res)));
            continue;
        }
        let code = match c.priority {
            Some(p) => {
                let code = p[i] as usize;
                if code >= c.priority_labels.len() {
                    rejected.push(reject(c, i, &missing_creation(c, i)));
                    continue;
                }
                Some(code)
            }
            None => None,
        };
        let assigned = c.agent_valid.is_none_or(|v| v[i]);
        // The row's group: its agent, or the unassigned row; one group for team and tenant
        // grouping (columns carry no team).
        let base = if assigned && options.group_by == GroupBy::Agent {
            let a = agents.get_or_insert(c.agent_id[i]);
            if a == slot_of_agent.len() {
                slot_of_agent.push(slots_used);
                slots_used += 1;
            }
            grow(&mut accs, &mut created_counts, slot_of_agent[a])
        } else {
            let slot = *none_base.get_or_insert_with(|| {
                slots_used += 1;
                slots_used - 1
            });
            grow(&mut accs, &mut created_counts, slot)
        };
        if let Some(b) = dense.bucket(local_day(created)) {
            if assigned {
                let acc = &mut accs[base + b];
                acc.assigned += 1;
                let cutoff = as_of.map_or(dense.buckets[b].2, |a| a.min(dense.buckets[b].2));
                if res != NULL_INSTANT && res < cutoff {
                    acc.assigned_resolved += 1;
                }
            }
            created_counts[base + b] += 1;
        }
        let (fr_target, res_target) = code
            .and_then(|code| sla_targets.get(code).copied())
            .unwrap_or((None, None));
        if fr != NULL_INSTANT {
            if let Some(b) = dense.bucket(local_day(fr)) {
                let acc = &mut accs[base + b];
                acc.fr_count += 1;
                acc.fr_sum += fr - created;
                if let Some(t) = fr_target {
                    if fr <= created + t {
                        acc.sla_met += 1;
                    } else {
                        acc.sla_breached += 1;
                    }
                }
            }
        } else if let (Some(t), Some(a)) = (fr_target, as_of) {
            let due = created + t;
            if a > due {
                if let Some(b) = dense.bucket(local_day(due)) {
                    accs[base + b].sla_breached += 1;
                }
            }
        }
        if res != NULL_INSTANT {
            if let Some(b) = dense.bucket(local_day(res)) {
                let acc = &mut accs[base + b];
                acc.resolved += 1;
                acc.res_sum += res - created;
                if let Some(t) = res_target {
                    if res <= created + t {
                        acc.sla_met += 1;
                    } else {
                        acc.sla_breached += 1;
                    }
                }
            }
        } else if let (Some(t), Some(a)) = (res_target, as_of) {
            let due = created + t;
            if a > due {
                if let Some(b) = dense.bucket(local_day(due)) {
                    accs[base + b].sla_breached += 1;
                }
            }
        }
    }
    // Into the shared state, so rows come out exactly as on the row path.
    let mut state = TicketMetricsState::default();
    let mut groups: Vec<(GroupKey, usize)> = agents
        .keys
        .iter()
        .zip(&slot_of_agent)
        .map(|(k, slot)| (GroupKey::Agent(Some(*k)), *slot))
        .collect();
    if let Some(slot) = none_base {
        let key = match options.group_by {
            GroupBy::Agent => GroupKey::Agent(None),
            GroupBy::Team => GroupKey::Team(None),
            GroupBy::Tenant => GroupKey::Tenant,
        };
        groups.push((key, slot));
    }
    for (group, slot) in groups {
        for (b, (start, end, _)) in dense.buckets.iter().enumerate() {
            let acc = accs[slot * nb + b];
            let created = created_counts[slot * nb + b];
            let touched = acc.assigned > 0
                || created > 0
                || acc.resolved > 0
                || acc.fr_count > 0
                || acc.sla_met > 0
                || acc.sla_breached > 0;
            if touched {
                state
                    .entry(group.clone(), (*start, *end), false)
                    .merge(&to_aggregate(&acc, created));
            }
        }
    }
    Ok(Some(TicketMetricsReport {
        rows: rows_of(&state),
        rejected,
    }))
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

fn to_aggregate(acc: &Acc, created: u64) -> TicketAggregate {
    let mut a = TicketAggregate {
        tickets_assigned: acc.assigned,
        assigned_resolved: acc.assigned_resolved,
        tickets_created: created,
        tickets_resolved: acc.resolved,
        sla_met: acc.sla_met,
        sla_breached: acc.sla_breached,
        ..TicketAggregate::default()
    };
    a.first_response.count = acc.fr_count;
    a.first_response.sum = acc.fr_sum;
    a.resolution.count = acc.resolved;
    a.resolution.sum = acc.res_sum;
    a
}
