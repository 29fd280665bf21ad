//! The incremental engine: lifecycle events in, agent-period aggregates kept current.
//!
//! Each ticket's events are kept (deduplicated by event id; the engine holds them all in one
//! slab whose freed slots are reused, a ticket only their slots), and the aggregates always hold
//! exactly the contributions of each ticket's snapshot (its events ordered by instant then id).
//! Events whose effect is known add it directly (a customer message or status change adds
//! nothing; a later agent reply on an answered ticket adds one message; a later assignment or
//! transfer adds the new agent's assignment and the transfer out and in); any other event rebuilds
//! the ticket's snapshot and writes the difference between its old and new contributions. So a
//! repeated event changes nothing, any arrival order gives the same result, and after any stream
//! the aggregates equal a batch computation ([`TicketMetricsAggregator`]) over the resulting
//! snapshots — the property tests check both.
//! Finished tickets older than a horizon can be evicted to bound memory; a later event for an
//! evicted ticket is rejected with `late_event`, never applied to a wrong state.

mod batch;
mod events;
mod ledger;
mod log;

pub use batch::*;
pub use events::*;
pub(crate) use ledger::*;
pub(crate) use log::*;

use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::calendar::BusinessCalendar;
use crate::error::{Error, Result};
use crate::hashing::FastBuild;
use crate::metrics::{
    AgentSession, Bucketing, Call, GroupBy, GroupKey, MetricsOptions, Ticket, TicketMetrics,
    TicketMetricsAggregator, TicketMetricsState,
};
use crate::metrics::{Contribution, Keyed};
use crate::period::{Period, PeriodKind, ZoneOffsets};
use crate::sla::SlaPolicy;

/// How the engine computes.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// The tenant in scope; events of another tenant are rejected.
    pub tenant: Option<String>,
    /// The zone of the periods.
    pub timezone: chrono_tz::Tz,
    /// Business calendar for business-second durations.
    pub calendar: Option<BusinessCalendar>,
    /// SLA policy for SLA met / breached (snapshot rules, see [`MetricsOptions::sla`]).
    pub sla: Option<SlaPolicy>,
    /// Keep quantile sketches.
    pub quantiles: bool,
    /// Reject events for tickets whose creation has not been seen (`unknown_ticket`) instead
    /// of holding them until it arrives.
    pub require_created_first: bool,
}

impl EngineOptions {
    /// Daily, weekly and monthly agent metrics in `timezone`.
    pub fn new(timezone: chrono_tz::Tz) -> Self {
        EngineOptions {
            tenant: None,
            timezone,
            calendar: None,
            sla: None,
            quantiles: true,
            require_created_first: false,
        }
    }

    fn metrics(&self, kind: PeriodKind) -> MetricsOptions {
        self.metrics_by(kind, GroupBy::Agent)
    }

    /// The batch options of one period kind and grouping (live metrics keep agent and team rows).
    pub(crate) fn metrics_by(&self, kind: PeriodKind, group_by: GroupBy) -> MetricsOptions {
        MetricsOptions {
            tenant: self.tenant.clone(),
            timezone: self.timezone,
            bucketing: Bucketing::Period(kind),
            group_by,
            calendar: self.calendar.clone(),
            sla: self.sla.clone(),
            as_of: None,
            quantiles: self.quantiles,
        }
    }
}

pub(crate) const KINDS: [PeriodKind; 3] = [PeriodKind::Day, PeriodKind::Week, PeriodKind::Month];

/// The incremental engine.
///
/// ```
/// use teamkpi::engine::{Engine, EngineOptions, Event, EventKind};
/// use chrono::{TimeZone, Utc};
/// let mut engine = Engine::new(EngineOptions::new(chrono_tz::UTC));
/// let t0 = Utc.with_ymd_and_hms(2025, 11, 3, 9, 0, 0).unwrap();
/// let created = Event { id: "e1".into(), tenant: None, at: t0, kind: EventKind::TicketCreated {
///     ticket_id: 1, agent_id: Some(7), team: None, priority: None, kind: Default::default() } };
/// engine.apply(&created).unwrap();
/// assert!(engine.apply(&created).unwrap().duplicate);
/// let day = engine.rows(teamkpi::PeriodKind::Day);
/// assert_eq!(day[0].tickets_assigned, 1);
/// ```
#[derive(Debug, Clone)]
pub struct Engine {
    options: EngineOptions,
    ledger: Ledger,
    tickets: HashMap<u64, TicketLog, FastBuild>,
    calls: BTreeMap<u64, Call>,
    sessions: BTreeMap<u64, SessionLog>,
    evicted: HashSet<u64, FastBuild>,
    watermark: Option<DateTime<Utc>>,
    store: EventStore,
}

impl Engine {
    /// An empty engine.
    pub fn new(options: EngineOptions) -> Self {
        let metrics = KINDS.map(|k| options.metrics(k));
        Engine {
            ledger: Ledger {
                metrics,
                offsets: ZoneOffsets::new(),
                states: Default::default(),
                day: DayBuckets::default(),
                quantiles: options.quantiles,
            },
            options,
            tickets: HashMap::default(),
            calls: BTreeMap::new(),
            sessions: BTreeMap::new(),
            evicted: HashSet::default(),
            watermark: None,
            store: EventStore::default(),
        }
    }

    /// The options.
    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    /// Applies one event. A failing event changes nothing.
    pub fn apply(&mut self, event: &Event) -> Result<Applied> {
        // Checked before anything changes: an id, an instant within the limits (a local day
        // near the end of the calendar could not be computed), the tenant, a call's fields.
        validate_event(self.options.tenant.as_deref(), event)?;
        self.apply_valid(event)
    }

    /// [`apply`](Self::apply) for an event already validated.
    fn apply_valid(&mut self, event: &Event) -> Result<Applied> {
        match &event.kind {
            // The call's fields and tenant were checked with the event.
            EventKind::CallEnded { call } => {
                let duplicate = self.calls.insert(call.id, call.clone()).is_some();
                Ok(Applied {
                    duplicate,
                    ..Applied::default()
                })
            }
            EventKind::SessionStarted { session_id, .. }
            | EventKind::SessionEnded { session_id } => {
                let new = self.sessions.entry(*session_id).or_default().record(event);
                Ok(Applied {
                    duplicate: !new,
                    ..Applied::default()
                })
            }
            kind => {
                let ticket_id = kind.ticket_id().unwrap_or_default();
                self.apply_ticket_event(ticket_id, event)
            }
        }
    }

    /// Applies a batch. Events that do not validate (empty id, an instant outside the years
    /// 1000-9000, another tenant, a bad call) reject the whole batch with `invalid_events`, and
    /// nothing is applied; an event refused in context (`late_event`, `events_out_of_order`,
    /// `unknown_ticket`) is listed in `rejected` and the others are applied.
    ///
    /// ```
    /// use teamkpi::engine::{Engine, EngineOptions, Event, EventKind};
    /// use chrono::{TimeZone, Utc};
    /// let mut engine = Engine::new(EngineOptions::new(chrono_tz::UTC));
    /// let at = Utc.with_ymd_and_hms(2025, 11, 3, 9, 0, 0).unwrap();
    /// let created = Event { id: "t1".into(), tenant: None, at, kind: EventKind::TicketCreated {
    ///     ticket_id: 1, agent_id: Some(7), team: None, priority: None, kind: Default::default() } };
    /// let early = Event { id: "r0".into(), tenant: None, at: at - chrono::Duration::hours(1),
    ///     kind: EventKind::AgentReplied { ticket_id: 1, agent_id: None } };
    /// let report = engine.apply_batch(&[created.clone(), created, early]).unwrap();
    /// assert_eq!((report.applied, report.duplicates), (1, 1));
    /// assert_eq!(report.rejected[0].code, "events_out_of_order");
    /// ```
    pub fn apply_batch(&mut self, events: &[Event]) -> Result<BatchReport> {
        validate_batch(self.options.tenant.as_deref(), events)?;
        let mut report = BatchReport::default();
        for (index, e) in events.iter().enumerate() {
            let outcome = self.apply_valid(e);
            report.count(index, &e.id, outcome);
        }
        Ok(report.finish())
    }

    fn apply_ticket_event(&mut self, ticket_id: u64, event: &Event) -> Result<Applied> {
        let print = id_print(&event.id);
        let is_creation = matches!(event.kind, EventKind::TicketCreated { .. });
        let pauses = self.pauses_on_status(&event.kind);
        match self.tickets.get_mut(&ticket_id) {
            None => {
                let late = self.evicted.contains(&ticket_id)
                    || self.watermark.is_some_and(|w| event.at < w);
                if late {
                    return Err(Error::LateEvent {
                        ticket_id,
                        event_id: event.id.clone(),
                    });
                }
                if self.options.require_created_first && !is_creation {
                    return Err(Error::UnknownTicket(ticket_id));
                }
            }
            Some(log) => {
                if log.holds(&self.store, &event.id, print) {
                    return Ok(Applied {
                        duplicate: true,
                        ..Applied::default()
                    });
                }
                if let Some(created) = log.created_at {
                    match &event.kind {
                        // Customer messages change no figure of a created ticket, nor do status
                        // changes under a policy that pauses on no status: record them without
                        // rebuilding (the common case on a busy desk).
                        EventKind::CustomerReplied { .. } | EventKind::StatusChanged { .. }
                            if !pauses =>
                        {
                            if event.at < created {
                                return Err(Error::EventsOutOfOrder {
                                    index: log.events.len(),
                                    at: event.at.to_rfc3339(),
                                    problem: "before the ticket's creation".into(),
                                });
                            }
                            log.record(&mut self.store, event, print);
                            return Ok(Applied::default());
                        }
                        // An assignment or transfer after every held event changes the
                        // assignee from now on only: everything credited so far happened before
                        // it (and the engine counts no breach of a target still open), so it adds
                        // the new agent's assignment (once per agent and period, not resolved in
                        // time: any resolution came before) and, from a previous assignee, the
                        // transfer out and in — what a rebuild would write, without one.
                        EventKind::TicketAssigned { agent_id: to, .. }
                        | EventKind::TicketTransferred { to, .. }
                            if log.last_at.is_some_and(|l| event.at > l) =>
                        {
                            let (to, from) = (*to, log.assignee());
                            let mut touched = Vec::new();
                            if from != Some(to) {
                                let ledger = &mut self.ledger;
                                let buckets = ledger.buckets(event.at);
                                // Whether `to` held the ticket before in each period (then it is
                                // not counted as assigned again there).
                                let mut seen = [false; 3];
                                for ((s, bucket), m) in
                                    seen.iter_mut().zip(buckets).zip(&ledger.metrics)
                                {
                                    *s = bucket.is_some_and(|b| {
                                        log.assignments.iter().any(|(at, a)| {
                                            *a == to
                                                && m.bucket_at(&ledger.offsets, *at)
                                                    .is_some_and(|x| x.0 == b.0)
                                        })
                                    });
                                }
                                let mut credit =
                                    |agent, c, periods| ledger.credit(event.at, agent, c, periods);
                                let assigned = Contribution::Assigned {
                                    resolved_in_time: false,
                                };
                                let day = credit(Some(to), assigned, seen.map(|s| !s));
                                if let Some(f) = from {
                                    credit(Some(f), Contribution::TransferOut, [true; 3]);
                                    credit(Some(to), Contribution::TransferIn, [true; 3]);
                                }
                                if let Some(day) = day {
                                    if from.is_some() {
                                        touched.push((from, day));
                                    }
                                    if from.is_some() || !seen[0] {
                                        touched.push((Some(to), day));
                                    }
                                }
                                log.assign(event.at, to);
                            }
                            touched.sort_unstable();
                            log.record(&mut self.store, event, print);
                            return Ok(Applied {
                                touched,
                                ..Applied::default()
                            });
                        }
                        // A later agent reply on a ticket already answered adds one message,
                        // credited to the replying agent or the current assignee: add just that.
                        EventKind::AgentReplied { agent_id, .. }
                            if log.responded && log.last_at.is_some_and(|l| event.at > l) =>
                        {
                            let agent = agent_id.or(log.assignee());
                            let day = self.ledger.credit(
                                event.at,
                                agent,
                                Contribution::AgentMessage,
                                [true; 3],
                            );
                            log.record(&mut self.store, event, print);
                            return Ok(Applied {
                                touched: day.map(|d| vec![(agent, d)]).unwrap_or_default(),
                                ..Applied::default()
                            });
                        }
                        _ => {}
                    }
                }
            }
        }
        // Compute the new snapshot and contributions before touching anything.
        let held: Vec<EventView<'_>> = self
            .tickets
            .get(&ticket_id)
            .map_or_else(Vec::new, |l| l.held(&self.store).collect());
        // The figures read the status history only under a policy that pauses, and never the
        // customer messages.
        let keep = Keep {
            statuses: self.pauses_on_any_status(),
            customer_messages: false,
        };
        let snapshot = snapshot_with(
            self.options.tenant.as_deref(),
            held.iter()
                .copied()
                .chain(std::iter::once(EventView::of(event))),
            keep,
        )?;
        let mut fresh: [Vec<Keyed>; 3] = Default::default();
        if let Some(t) = &snapshot {
            for (i, m) in self.ledger.metrics.iter().enumerate() {
                fresh[i] = m.contributions(&self.ledger.offsets, t)?;
            }
        }
        // What the held events contribute now is recomputed rather than stored per ticket: the
        // aggregates always hold exactly the contributions of each ticket's snapshot (the delta
        // paths add what a rebuild would), and keeping three lists per ticket cost more in
        // allocation on every reply than recomputing them on the rarer rebuilds.
        let mut old: [Vec<Keyed>; 3] = Default::default();
        if !held.is_empty() {
            if let Some(t) = snapshot_with(self.options.tenant.as_deref(), held, keep)? {
                for (i, m) in self.ledger.metrics.iter().enumerate() {
                    old[i] = m.contributions(&self.ledger.offsets, &t)?;
                }
            }
        }
        let log = self.tickets.entry(ticket_id).or_default();
        let mut touched = BTreeSet::new();
        let q = self.options.quantiles;
        for (i, state) in self.ledger.states.iter_mut().enumerate() {
            // Only what differs between the old and the new contribution is written: a rebuild
            // after a transfer or a first reply leaves most of a ticket's figures where they were.
            fresh[i].sort_unstable();
            old[i].sort_unstable();
            let (gone, added) = multiset_difference(&old[i], &fresh[i]);
            for (sign, list) in [(-1, gone), (1, added)] {
                for (g, b, c) in list {
                    if i == 0 {
                        if let GroupKey::Agent(a) = g {
                            touched.insert((*a, b.0));
                        }
                    }
                    c.apply(state.entry(g.clone(), *b, q), sign);
                }
            }
        }
        log.record(&mut self.store, event, print);
        log.finished = snapshot
            .as_ref()
            .is_some_and(|t| t.resolved_at.is_some() || t.closed_at.is_some());
        log.created_at = snapshot.as_ref().map(|t| t.created_at);
        log.set_assignments(snapshot.as_ref().map_or_else(Vec::new, |t| t.assignments()));
        log.responded = snapshot
            .as_ref()
            .is_some_and(|t| t.first_response_at.is_some());
        Ok(Applied {
            duplicate: false,
            pending: snapshot.is_none(),
            touched: touched.into_iter().collect(),
        })
    }

    /// Forgets finished tickets whose last event is before `before` (their figures stay in the
    /// aggregates), and calls and sessions that ended before it. Later events for them, or for
    /// unknown tickets dated before `before`, are rejected with `late_event`. Returns how many
    /// tickets were evicted.
    pub fn evict_before(&mut self, before: DateTime<Utc>) -> usize {
        let old: Vec<u64> = self
            .tickets
            .iter()
            .filter(|(_, l)| l.finished && l.last_at.is_some_and(|t| t < before))
            .map(|(id, _)| *id)
            .collect();
        for id in &old {
            if let Some(log) = self.tickets.remove(id) {
                for e in &log.events {
                    self.store.remove(*e as u32);
                }
            }
            self.evicted.insert(*id);
        }
        self.store.compact();
        self.calls.retain(|_, c| c.started_at >= before);
        self.sessions
            .retain(|_, s| s.end.is_none_or(|e| e >= before));
        self.watermark = self.watermark.max(Some(before));
        for s in &mut self.ledger.states {
            s.prune();
        }
        // Pruning moved the rows.
        self.ledger.day = DayBuckets::default();
        old.len()
    }

    /// True for a status change while the SLA policy pauses on some status: the ticket's SLA
    /// figures can move (pause time stops the clocks).
    fn pauses_on_status(&self, kind: &EventKind) -> bool {
        matches!(kind, EventKind::StatusChanged { .. }) && self.pauses_on_any_status()
    }

    /// True when the SLA policy pauses on some status.
    fn pauses_on_any_status(&self) -> bool {
        self.options
            .sla
            .as_ref()
            .is_some_and(|p| !p.spec().pause_statuses.is_empty())
    }

    /// The latest `before` of [`evict_before`](Self::evict_before): figures of what came
    /// earlier live only in the aggregates.
    pub fn watermark(&self) -> Option<DateTime<Utc>> {
        self.watermark
    }

    /// Tickets held in memory.
    pub fn tickets_in_memory(&self) -> usize {
        self.tickets.len()
    }

    /// Tickets with events but no creation yet, by id.
    pub fn pending(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self
            .tickets
            .iter()
            .filter(|(_, l)| {
                !l.held(&self.store)
                    .any(|e| matches!(e.what, What::Created { .. }))
            })
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        ids
    }

    /// The current snapshots of the tickets in memory, by id.
    pub fn snapshots(&self) -> Vec<Ticket> {
        let mut logs: Vec<(&u64, &TicketLog)> = self.tickets.iter().collect();
        logs.sort_unstable_by_key(|(id, _)| **id);
        logs.into_iter()
            .filter_map(|(_, l)| {
                snapshot_from_views(self.options.tenant.as_deref(), l.held(&self.store))
                    .ok()
                    .flatten()
            })
            .collect()
    }

    /// Agent rows of one period kind, ordered by agent then period.
    pub fn rows(&self, kind: PeriodKind) -> Vec<TicketMetrics> {
        let i = KINDS.iter().position(|k| *k == kind).unwrap_or(0);
        crate::metrics::rows_of(&self.ledger.states[i])
    }

    /// The mergeable state of one period kind.
    pub fn state(&self, kind: PeriodKind) -> &TicketMetricsState {
        let i = KINDS.iter().position(|k| *k == kind).unwrap_or(0);
        &self.ledger.states[i]
    }

    /// One agent's figures for a natural period; `None` when nothing was counted.
    pub fn agent_metrics(&self, agent_id: Option<u64>, period: &Period) -> Option<TicketMetrics> {
        let state = self.state(period.kind);
        state
            .get(&GroupKey::Agent(agent_id), period.start)
            .filter(|a| !a.is_empty())
            .map(|a| {
                TicketMetrics::from_aggregate(
                    &GroupKey::Agent(agent_id),
                    period.start,
                    period.end,
                    a,
                )
            })
    }

    /// Calls seen, by id.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.values().cloned().collect()
    }

    /// Session intervals seen (open ones have no end), by session id.
    pub fn sessions(&self) -> Vec<AgentSession> {
        self.sessions
            .values()
            .filter_map(|s| {
                Some(AgentSession {
                    tenant: self.options.tenant.clone(),
                    agent_id: s.agent_id,
                    kind: s.kind?,
                    start: s.start?,
                    end: s.end,
                })
            })
            .collect()
    }
}

/// The items of sorted `old` missing from sorted `new`, and the items of `new` missing from `old`
/// (counting repeats).
pub(crate) fn multiset_difference<'a>(
    old: &'a [Keyed],
    new: &'a [Keyed],
) -> (Vec<&'a Keyed>, Vec<&'a Keyed>) {
    let (mut gone, mut added) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        match (old.get(i), new.get(j)) {
            (Some(a), Some(b)) if a == b => {
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a < b => {
                gone.push(a);
                i += 1;
            }
            (Some(_), Some(b)) | (None, Some(b)) => {
                added.push(b);
                j += 1;
            }
            (Some(a), None) => {
                gone.push(a);
                i += 1;
            }
            (None, None) => break,
        }
    }
    (gone, added)
}

/// A batch computation over the events: snapshots per ticket, then [`TicketMetricsAggregator`].
/// The engine's rows equal this for every stream (the reference the property tests use).
pub fn batch_rows_from_events(
    options: &EngineOptions,
    kind: PeriodKind,
    events: &[Event],
) -> Result<Vec<TicketMetrics>> {
    batch_rows_from_events_by(options, kind, GroupBy::Agent, events)
}

/// [`batch_rows_from_events`] with agent or team rows (live metrics keep both).
pub fn batch_rows_from_events_by(
    options: &EngineOptions,
    kind: PeriodKind,
    group_by: GroupBy,
    events: &[Event],
) -> Result<Vec<TicketMetrics>> {
    let mut by_ticket: BTreeMap<u64, Vec<&Event>> = BTreeMap::new();
    for e in events {
        if let Some(t) = e.kind.ticket_id() {
            by_ticket.entry(t).or_default().push(e);
        }
    }
    let mut agg = TicketMetricsAggregator::new(options.metrics_by(kind, group_by))?;
    for list in by_ticket.values() {
        if let Some(t) = snapshot_from_events(options.tenant.as_deref(), list.iter().copied())? {
            agg.add(&t)?;
        }
    }
    Ok(agg.finish().rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::TicketKind;
    use chrono::{Duration, TimeZone};

    /// Three events per ticket, each id 48 bytes long; resolved when `resolve`.
    fn ticket_events(ticket_id: u64, at: DateTime<Utc>, resolve: bool) -> Vec<Event> {
        let id = |n: u32| format!("{ticket_id:020}-{n:027}");
        let mut events = vec![
            Event::new(
                id(0),
                at,
                EventKind::TicketCreated {
                    ticket_id,
                    agent_id: Some(ticket_id % 7),
                    team: Some("tier-1".into()),
                    priority: Some("high".into()),
                    kind: TicketKind::Ticket,
                },
            ),
            Event::new(
                id(1),
                at + Duration::minutes(5),
                EventKind::AgentReplied {
                    ticket_id,
                    agent_id: None,
                },
            ),
        ];
        if resolve {
            events.push(Event::new(
                id(2),
                at + Duration::minutes(9),
                EventKind::Resolved { ticket_id },
            ));
        }
        events
    }

    #[test]
    fn eviction_compacts_the_id_text_and_keeps_later_tickets_whole() {
        let t0 = Utc.with_ymd_and_hms(2025, 11, 3, 9, 0, 0).unwrap();
        let opts = EngineOptions::new(chrono_tz::UTC);
        let mut engine = Engine::new(opts.clone());
        let mut fresh = Engine::new(opts);
        for t in 0..2_000 {
            for e in ticket_events(t, t0, true) {
                engine.apply(&e).unwrap();
            }
        }
        let later: Vec<Event> = (2_000..3_000)
            .flat_map(|t| ticket_events(t, t0 + Duration::days(2), false))
            .collect();
        for e in &later {
            engine.apply(e).unwrap();
            fresh.apply(e).unwrap();
        }
        let before = engine.store.text.len();
        assert_eq!(engine.evict_before(t0 + Duration::days(1)), 2_000);
        // 288 000 of 384 000 bytes were evicted ids: the arena was rewritten with the rest.
        assert_eq!(engine.store.garbage, 0);
        assert_eq!(engine.store.text.len(), before - 2_000 * 3 * 48);
        for e in &later {
            assert!(engine.apply(e).unwrap().duplicate, "{} is held", e.id);
        }
        assert_eq!(engine.snapshots(), fresh.snapshots());
        // Slots freed by eviction take new events, whose ids are read back intact.
        let newer = ticket_events(5_000, t0 + Duration::days(3), true);
        for e in &newer {
            assert!(!engine.apply(e).unwrap().duplicate);
            assert!(engine.apply(e).unwrap().duplicate);
        }
        assert!(engine.store.free.len() < 2_000 * 3);
    }
}
