//! Live metrics: the incremental engine's state held in a store, so every process of a host — web
//! workers, a task queue's workers, a scheduled job, a command line — applies events to the same
//! figures and reads them without scanning tickets.
//!
//! A store that keeps live state ([`LiveStore`]: the in-memory store, SQLite, PostgreSQL) holds
//! three things per tenant:
//! - per ticket, its events in a compact form (id, instant, what changed) — enough to rebuild its
//!   snapshot when any later event arrives, in any order — and whether it is finished;
//! - per (agent or team, day / ISO week / month) a mergeable [`TicketAggregate`], stored in the
//!   versioned binary form of [`encode_aggregate`] ([`State`]);
//! - the calls and agent sessions seen, for the call-center dashboard.
//!
//! An event's id is its idempotency key: the ids a ticket has seen are its ledger, so a repeated
//! event — in an earlier call or earlier in the same one — is a duplicate and changes nothing.
//! Applying a batch ([`LiveStore::live_apply`]) is one transaction that follows the engine's batch
//! rules ([`Engine::apply_batch`](crate::engine::Engine::apply_batch)): a batch with an event that
//! does not validate is refused whole (`invalid_events`); an event refused in context
//! (`late_event`, `events_out_of_order`, `unknown_ticket` in strict mode) is reported in
//! `rejected` and the others are applied. After any set of applied batches, in any order, by any
//! number of processes, the live rows equal
//! [`batch_rows_from_events`](crate::engine::batch_rows_from_events) over the same events.
//!
//! The settings that change figures (zone, calendar, SLA policy, quantiles) are fixed by the
//! first apply; applying with other settings is `incompatible_state` until
//! [`LiveStore::live_reset`] clears the tenant's state for a rebuild.
//!
//! The planning — which events are new, what each ticket now contributes, which aggregate rows
//! change and how — is pure logic in this module ([`plan`]); a store only reads the rows it is
//! asked for and writes the [`LiveChanges`] inside its own transaction.

mod analytics;
mod backfill;
mod codec;
mod memory;
mod plan;
mod state;

pub use analytics::{live_open_snapshots, LiveWindows};
pub use backfill::{
    apply_records, backfill, call_event, session_events, session_id, session_key_column,
    ticket_events, BackfillProgress, BackfillReport,
};
pub(crate) use codec::decode_state;
pub use codec::{decode_aggregate, encode_aggregate, STATE_VERSION};

/// A stored live state (an aggregate row, a ticket's or a session's state) in the versioned
/// binary form: the bytes `TK`, the version ([`STATE_VERSION`]), the kind, the state. Stores keep
/// it as a blob (`BLOB`, `BYTEA`); version 1's JSON text is still read.
pub type State = Vec<u8>;
pub(crate) use memory::MemoryTables;
pub use plan::plan;

use crate::period::Timestamp;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::engine::{BatchReport, EngineOptions, Event};
use crate::error::{Error, Result};
use crate::metrics::{
    call_center_dashboard, AgentSession, Call, Campaign, Contact, DashboardRequest, DashboardStats,
    GroupBy, GroupKey, QuantileSketch, TicketAggregate, TicketMetrics,
};
use crate::metrics::{Mergeable, TicketKind};
use crate::period::{DateRange, Period, PeriodKind};
use crate::update::MetricSource;

/// Identifies one live aggregate row: period kind, group (agent or team) and period start.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RowKey {
    /// Day, ISO week or month.
    pub period: PeriodKind,
    /// The agent or team.
    pub group: GroupKey,
    /// The period's first day.
    pub start: NaiveDate,
}

impl RowKey {
    /// The period kind as stored (`day`, `week`, `month`).
    pub fn period_text(&self) -> &'static str {
        period_text(self.period)
    }

    /// The group as stored: `agent:12`, `agent` (unassigned), `team:tier-1`, `team` (none).
    pub fn group_text(&self) -> String {
        group_text(&self.group)
    }

    /// Reads a key back from its stored parts.
    pub fn parse(period: &str, group: &str, start: NaiveDate) -> Result<Self> {
        Ok(RowKey {
            period: PeriodKind::parse(period)?,
            group: parse_group(group)?,
            start,
        })
    }
}

/// The stored text of a period kind.
pub fn period_text(kind: PeriodKind) -> &'static str {
    match kind {
        PeriodKind::Day => "day",
        PeriodKind::Week => "week",
        PeriodKind::Month => "month",
    }
}

/// The stored text of a group (see [`RowKey::group_text`]).
pub fn group_text(group: &GroupKey) -> String {
    match group {
        GroupKey::Agent(Some(a)) => format!("agent:{a}"),
        GroupKey::Agent(None) => "agent".into(),
        GroupKey::Team(Some(t)) => format!("team:{t}"),
        GroupKey::Team(None) => "team".into(),
        GroupKey::Tenant => "tenant".into(),
    }
}

/// The kind column of a group (`agent` or `team`), for reads filtered by grouping.
pub fn group_kind_text(group: &GroupKey) -> &'static str {
    match group {
        GroupKey::Agent(_) => "agent",
        GroupKey::Team(_) => "team",
        GroupKey::Tenant => "tenant",
    }
}

fn parse_group(text: &str) -> Result<GroupKey> {
    let bad = || Error::Storage(format!("live row group {text:?} does not decode"));
    Ok(match text.split_once(':') {
        None if text == "agent" => GroupKey::Agent(None),
        None if text == "team" => GroupKey::Team(None),
        None if text == "tenant" => GroupKey::Tenant,
        Some(("agent", id)) => GroupKey::Agent(Some(id.parse().map_err(|_| bad())?)),
        Some(("team", name)) => GroupKey::Team(Some(name.to_owned())),
        _ => return Err(bad()),
    })
}

/// A tenant's live settings row: the fingerprint of the settings that change figures, and the
/// eviction horizon (events for unknown tickets dated before it are `late_event`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveMeta {
    /// [`settings_fingerprint`] of the options the state was built with.
    pub settings: String,
    /// The latest eviction horizon, in Unix seconds.
    pub watermark: Option<i64>,
}

/// What live rows hold: it changes when they gain a field a reader relies on or a field's form
/// changes (layout 4: window detail and quantile sketches in day rows only, SLA tasks as
/// delta-coded quadruples), so state built before is `incompatible_state` until rebuilt.
const LIVE_LAYOUT: u32 = 4;

/// What identifies the settings that change live figures: zone, calendar, SLA policy and
/// quantiles, after a prefix that changes with the rows' layout. The stored form's version is
/// not in it: every form version stays readable, so a store written by version 1 (JSON text)
/// keeps its live state across the upgrade.
pub fn settings_fingerprint(options: &EngineOptions) -> Result<String> {
    let text = serde_json::to_string(&(
        options.timezone.name(),
        &options.calendar,
        &options.sla,
        options.quantiles,
    ))
    .map_err(|e| Error::Storage(format!("settings do not encode: {e}")))?;
    Ok(format!(
        "v1.{LIVE_LAYOUT}:{:016x}",
        crate::hashing::fingerprint(text.as_bytes())
    ))
}

/// The rows a store reads for [`plan`], inside the transaction that will write the changes. Each
/// method is asked once per batch with every key it needs; rows that do not exist are left out.
pub trait LiveReads {
    /// The tenant's settings row.
    fn meta(&mut self) -> Result<Option<LiveMeta>>;
    /// Ticket states by id: `Some(state)` for a held ticket, `None` for an evicted one.
    fn tickets(&mut self, ids: &[u64]) -> Result<Vec<(u64, Option<State>)>>;
    /// Aggregate rows, as stored ([`encode_aggregate`]).
    fn aggregates(&mut self, keys: &[RowKey]) -> Result<Vec<(RowKey, State)>>;
    /// Which of these call ids are held.
    fn calls(&mut self, ids: &[u64]) -> Result<Vec<u64>>;
    /// Session states by session id.
    fn sessions(&mut self, ids: &[u64]) -> Result<Vec<(u64, State)>>;
}

/// A ticket row to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketWrite {
    /// The ticket.
    pub id: u64,
    /// Its state.
    pub state: State,
    /// Resolved or closed: eligible for eviction once `last_at` is past the horizon.
    pub finished: bool,
    /// Its latest event instant, in Unix seconds.
    pub last_at: i64,
    /// When its SLA counts as breached from (Unix seconds): the earliest due instant of a target
    /// missed or still open; `None` without one.
    pub breach_at: Option<i64>,
    /// Its current assignee (the open backlog's workload is counted per assignee and kind).
    pub agent_id: Option<u64>,
    /// Its kind.
    pub kind: TicketKind,
}

/// An aggregate row to write or delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregateWrite {
    /// The row.
    pub key: RowKey,
    /// The period's last day.
    pub end: NaiveDate,
    /// The new state; `None` deletes the row (everything in it was retracted).
    pub state: Option<State>,
}

/// A session row to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionWrite {
    /// The session.
    pub id: u64,
    /// Its state.
    pub state: State,
    /// The agent.
    pub agent_id: u64,
    /// Start and end in Unix seconds, when known.
    pub start: Option<i64>,
    /// End, when over.
    pub end: Option<i64>,
}

/// Everything a batch changes, for the store to write in the transaction it read in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveChanges {
    /// The settings row, when it is new.
    pub meta: Option<LiveMeta>,
    /// Ticket rows to insert or replace.
    pub tickets: Vec<TicketWrite>,
    /// Aggregate rows to insert, replace or delete.
    pub aggregates: Vec<AggregateWrite>,
    /// Calls to insert or replace.
    pub calls: Vec<Call>,
    /// Session rows to insert or replace.
    pub sessions: Vec<SessionWrite>,
}

/// Which live rows to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveQuery {
    /// The tenant.
    pub tenant: Option<String>,
    /// Day, ISO week or month rows.
    pub period: PeriodKind,
    /// Agent or team rows.
    pub group_by: GroupBy,
    /// One group only (an agent or team), or all.
    pub group: Option<GroupKey>,
    /// Rows whose period starts on or after this day…
    pub from: NaiveDate,
    /// …and on or before this one.
    pub to: NaiveDate,
}

impl LiveQuery {
    /// Checks the range and grouping.
    pub fn validate(&self) -> Result<()> {
        if self.to < self.from {
            return Err(Error::range("live rows", self.from, self.to));
        }
        if self.group_by == GroupBy::Tenant {
            return Err(Error::argument(
                "group_by",
                "live rows are kept per agent and per team",
            ));
        }
        Ok(())
    }
}

/// A store that keeps live metrics. Every method is one transaction.
pub trait LiveStore {
    /// Applies a batch of events (see the module docs for the rules). `options` must be the
    /// settings the tenant's state was built with, else `incompatible_state`.
    fn live_apply(&self, options: &EngineOptions, events: &[Event]) -> Result<BatchReport>;
    /// Aggregate rows as stored, by group then period start.
    fn live_aggregates(&self, query: &LiveQuery) -> Result<Vec<(RowKey, NaiveDate, State)>>;
    /// Calls held, started in `[from, to)`, by id.
    fn live_calls(&self, tenant: Option<&str>, from: Timestamp, to: Timestamp)
        -> Result<Vec<Call>>;
    /// Sessions held that overlap `[from, to)` (open ones included).
    fn live_sessions(
        &self,
        tenant: Option<&str>,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<AgentSession>>;
    /// Forgets the events of finished tickets whose last event is before `before` (their figures
    /// stay); a later event for one of them, or for an unknown ticket dated before the horizon,
    /// is `late_event`. Returns how many tickets were evicted.
    fn live_evict(&self, tenant: Option<&str>, before: DateTime<Utc>) -> Result<usize>;
    /// Deletes all of a tenant's live state (to rebuild it with other settings).
    fn live_reset(&self, tenant: Option<&str>) -> Result<()>;
    /// The [`settings_fingerprint`] the tenant's live state was built with; `None` without live
    /// state.
    fn live_settings(&self, tenant: Option<&str>) -> Result<Option<String>>;
    /// The states of the tickets held that are neither resolved nor closed, by id (the open
    /// backlog: its size, not the history's, bounds the read).
    fn live_open_tickets(&self, tenant: Option<&str>) -> Result<Vec<(u64, State)>>;
    /// The open backlog counted per current assignee and kind.
    fn live_open_counts(&self, tenant: Option<&str>)
        -> Result<Vec<(Option<u64>, TicketKind, u64)>>;
    /// The states of the open tickets held (neither resolved nor closed) whose SLA counts as
    /// breached before `now` ([`TicketWrite::breach_at`]), by id.
    fn live_breached_tickets(
        &self,
        tenant: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Vec<(u64, State)>>;
}

/// Live rows as [`TicketMetrics`], by group then period.
///
/// ```
/// use teamkpi::engine::{EngineOptions, Event, EventKind};
/// use teamkpi::live::{live_rows, LiveQuery, LiveStore};
/// use teamkpi::metrics::GroupBy;
/// use teamkpi::{InMemoryStore, PeriodKind};
/// use chrono::{NaiveDate, TimeZone, Utc};
/// let store = InMemoryStore::new();
/// let options = EngineOptions::new(chrono_tz::UTC);
/// let at = Utc.with_ymd_and_hms(2025, 11, 3, 9, 0, 0).unwrap();
/// let created = Event { id: "ticket:1:created".into(), tenant: None, at,
///     kind: EventKind::TicketCreated { ticket_id: 1, agent_id: Some(7), team: None,
///         priority: None, kind: Default::default() } };
/// store.live_apply(&options, &[created.clone()]).unwrap();
/// assert_eq!(store.live_apply(&options, &[created]).unwrap().duplicates, 1);
/// let day = NaiveDate::from_ymd_opt(2025, 11, 3).unwrap();
/// let rows = live_rows(&store, &LiveQuery { tenant: None, period: PeriodKind::Day,
///     group_by: GroupBy::Agent, group: None, from: day, to: day }).unwrap();
/// assert_eq!((rows[0].agent_id, rows[0].tickets_assigned), (Some(7), 1));
/// ```
pub fn live_rows(store: &dyn LiveStore, query: &LiveQuery) -> Result<Vec<TicketMetrics>> {
    live_rows_as_of(store, query, None)
}

/// [`live_rows`] as of an instant: SLA targets still open past their due by `as_of` count as
/// breached, as a computation from snapshots with that `as_of` counts them.
pub fn live_rows_as_of(
    store: &dyn LiveStore,
    query: &LiveQuery,
    as_of: Option<DateTime<Utc>>,
) -> Result<Vec<TicketMetrics>> {
    Ok(live_aggregate_rows(store, query, as_of)?
        .into_iter()
        .map(|(key, end, agg)| TicketMetrics::from_aggregate(&key.group, key.start, end, &agg))
        .collect())
}

/// The decoded live aggregates of a query, by group then period, settled as of `as_of`; rows
/// that count nothing (only open SLA targets due in their period) are left out.
pub fn live_aggregate_rows(
    store: &dyn LiveStore,
    query: &LiveQuery,
    as_of: Option<DateTime<Utc>>,
) -> Result<Vec<(RowKey, NaiveDate, TicketAggregate)>> {
    decoded_rows(store, query, as_of, false)
}

/// The decoded rows of a query; with `detail`, rows that hold only window detail too.
pub(crate) fn decoded_rows(
    store: &dyn LiveStore,
    query: &LiveQuery,
    as_of: Option<DateTime<Utc>>,
    detail: bool,
) -> Result<Vec<(RowKey, NaiveDate, TicketAggregate)>> {
    decode_rows(store, query, as_of, detail, false)
}

/// Day rows of a query for window analytics: as of `as_of`, without quantile sketches and SLA
/// tasks (which they do not read).
pub(crate) fn lite_day_rows(
    store: &dyn LiveStore,
    query: &LiveQuery,
    as_of: DateTime<Utc>,
) -> Result<Vec<(RowKey, NaiveDate, TicketAggregate)>> {
    decode_rows(store, query, Some(as_of), false, true)
}

fn decode_rows(
    store: &dyn LiveStore,
    query: &LiveQuery,
    as_of: Option<DateTime<Utc>>,
    detail: bool,
    lite: bool,
) -> Result<Vec<(RowKey, NaiveDate, TicketAggregate)>> {
    query.validate()?;
    let mut rows: BTreeMap<RowKey, (NaiveDate, TicketAggregate)> = BTreeMap::new();
    for (key, end, text) in store.live_aggregates(query)? {
        let mut agg: TicketAggregate = if lite && query.period == PeriodKind::Day {
            codec::decode_lite_aggregate(&text)?
        } else {
            decode_state(codec::AGGREGATE, &text)?
        };
        if let Some(at) = as_of {
            agg.settle(at);
        }
        rows.insert(key, (end, agg));
    }
    // Only day rows keep window detail and quantile sketches (week and month rows would carry
    // every open target and a sketch of their whole period on every write): a week's or
    // month's targets overdue at `as_of`, and its sketches, are those of its days.
    if query.period != PeriodKind::Day {
        let days = LiveQuery {
            period: PeriodKind::Day,
            from: Period::containing(query.period, query.from).start,
            to: Period::containing(query.period, query.to).end,
            ..query.clone()
        };
        let mut sketches: BTreeMap<RowKey, [Option<QuantileSketch>; 4]> = BTreeMap::new();
        for (key, _, text) in store.live_aggregates(&days)? {
            let mut day: TicketAggregate = decode_state(codec::AGGREGATE, &text)?;
            let period = Period::containing(query.period, key.start);
            if period.start < query.from || period.start > query.to {
                continue;
            }
            let row = RowKey {
                period: query.period,
                group: key.group,
                start: period.start,
            };
            let acc = sketches.entry(row.clone()).or_default();
            for (slot, stats) in acc.iter_mut().zip(day.duration_stats()) {
                if let Some(s) = &stats.sketch {
                    slot.get_or_insert_with(QuantileSketch::new).merge(s);
                }
            }
            if let Some(at) = as_of {
                let before = day.sla_breached;
                day.settle(at);
                let overdue = day.sla_breached - before;
                if overdue > 0 {
                    rows.entry(row)
                        .or_insert_with(|| (period.end, TicketAggregate::default()))
                        .1
                        .sla_breached += overdue;
                }
            }
        }
        for (key, (_, agg)) in rows.iter_mut() {
            if let Some(acc) = sketches.remove(key) {
                for (stats, sketch) in agg.duration_stats_mut().into_iter().zip(acc) {
                    if sketch.is_some() {
                        stats.sketch = sketch;
                    }
                }
            }
        }
    }
    // Ordered by group (agent ids numerically), then period.
    Ok(rows
        .into_iter()
        .filter(|(_, (_, agg))| detail || !agg.counts_nothing())
        .map(|(key, (end, agg))| (key, end, agg))
        .collect())
}

/// One group's live figures for a natural period, as of `as_of` (see [`live_rows_as_of`]);
/// `None` when nothing was counted.
pub fn live_metrics(
    store: &dyn LiveStore,
    tenant: Option<&str>,
    group: &GroupKey,
    period: &Period,
    as_of: Option<DateTime<Utc>>,
) -> Result<Option<TicketMetrics>> {
    let group_by = match group {
        GroupKey::Team(_) => GroupBy::Team,
        _ => GroupBy::Agent,
    };
    let rows = live_rows_as_of(
        store,
        &LiveQuery {
            tenant: tenant.map(str::to_owned),
            period: period.kind,
            group_by,
            group: Some(group.clone()),
            from: period.start,
            to: period.start,
        },
        as_of,
    )?;
    Ok(rows.into_iter().next())
}

/// A [`MetricSource`] over a store's live aggregates: `update_kpis` and AgentKPI read one row
/// per (agent, period) instead of scanning tickets.
pub struct LiveMetrics<'a> {
    store: &'a dyn LiveStore,
    tenant: Option<String>,
    as_of: Option<DateTime<Utc>>,
}

impl<'a> LiveMetrics<'a> {
    /// The live figures of `tenant` in `store`, as of `as_of` (`update_kpis` passes its `now`,
    /// as its computation from snapshots does).
    pub fn new(
        store: &'a dyn LiveStore,
        tenant: Option<&str>,
        as_of: Option<DateTime<Utc>>,
    ) -> Self {
        LiveMetrics {
            store,
            tenant: tenant.map(str::to_owned),
            as_of,
        }
    }
}

impl MetricSource for LiveMetrics<'_> {
    fn metrics(&self, agent_id: u64, period: &Period) -> Result<Option<TicketMetrics>> {
        live_metrics(
            self.store,
            self.tenant.as_deref(),
            &GroupKey::Agent(Some(agent_id)),
            period,
            self.as_of,
        )
    }

    /// The range's day rows merged into one window (a ticket assigned on several of its days
    /// counts once), as a computation from snapshots over that window counts them.
    fn range_metrics(&self, agent_id: u64, range: &DateRange) -> Result<Option<TicketMetrics>> {
        let group = GroupKey::Agent(Some(agent_id));
        let query = LiveQuery {
            tenant: self.tenant.clone(),
            period: PeriodKind::Day,
            group_by: GroupBy::Agent,
            group: Some(group.clone()),
            from: range.start,
            to: range.end,
        };
        let rows = decoded_rows(self.store, &query, self.as_of, true)?;
        let total = TicketAggregate::window_total(
            rows.iter().map(|(key, _, agg)| (key.start, agg)),
            range.start,
            range.end,
        );
        Ok((!total.counts_nothing())
            .then(|| TicketMetrics::from_aggregate(&group, range.start, range.end, &total)))
    }
}

/// The call-center dashboard from live calls and sessions of the request's day (sessions still
/// open are clipped to `req.now`); contacts and campaigns are the host's.
pub fn live_dashboard(
    store: &dyn LiveStore,
    req: &DashboardRequest,
    contacts: &[Contact],
    campaigns: &[Campaign],
) -> Result<DashboardStats> {
    let (from, to) = crate::metrics::day_bounds(req.date, req.timezone);
    let calls = store.live_calls(req.tenant.as_deref(), from, to)?;
    let sessions = store.live_sessions(req.tenant.as_deref(), from, to)?;
    call_center_dashboard(req, &calls, &sessions, contacts, campaigns)
}

/// A stored session state as the session record it describes; `None` until its start is known.
pub fn session_record(tenant: Option<&str>, state: &[u8]) -> Result<Option<AgentSession>> {
    let s: crate::engine::SessionLog = decode_state(codec::SESSION, state)?;
    Ok(match (s.kind, s.start) {
        (Some(kind), Some(start)) => Some(AgentSession {
            tenant: tenant.map(str::to_owned),
            agent_id: s.agent_id,
            kind,
            start,
            end: s.end,
        }),
        _ => None,
    })
}
