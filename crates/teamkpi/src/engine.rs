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

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::calendar::BusinessCalendar;
use crate::error::{Error, Result};
use crate::hashing::{fingerprint, FastBuild};
use crate::metrics::{
    AgentMessage, AgentSession, Bucketing, Call, GroupBy, GroupKey, MetricsOptions, SessionKind,
    Ticket, TicketKind, TicketMetrics, TicketMetricsAggregator, TicketMetricsState, Transfer,
};
use crate::metrics::{Contribution, Keyed};
use crate::period::{local_date, local_midnight, Period, PeriodKind, ZoneOffsets};
use crate::sla::SlaPolicy;

/// A lifecycle event. `id` makes it idempotent: the same id twice changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The event's unique id (e.g. the host's audit-log id or a UUID).
    pub id: String,
    /// The company.
    #[serde(default)]
    pub tenant: Option<String>,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// A ticket (or dispute, order, client) was created.
    TicketCreated {
        /// The ticket.
        ticket_id: u64,
        /// Its first assignee.
        #[serde(default)]
        agent_id: Option<u64>,
        /// Its team.
        #[serde(default)]
        team: Option<String>,
        /// Its priority label.
        #[serde(default)]
        priority: Option<String>,
        /// What it is.
        #[serde(default)]
        kind: TicketKind,
    },
    /// The ticket was assigned (or re-assigned) to an agent.
    TicketAssigned {
        /// The ticket.
        ticket_id: u64,
        /// The new assignee.
        agent_id: u64,
    },
    /// The ticket moved from one agent to another (seed 000's transfer; both are credited).
    TicketTransferred {
        /// The ticket.
        ticket_id: u64,
        /// The previous assignee as the host saw it (the engine derives it from history).
        #[serde(default)]
        from: Option<u64>,
        /// The new assignee.
        to: u64,
    },
    /// An agent replied.
    AgentReplied {
        /// The ticket.
        ticket_id: u64,
        /// Who replied (`None`: the assignee).
        #[serde(default)]
        agent_id: Option<u64>,
    },
    /// The customer wrote.
    CustomerReplied {
        /// The ticket.
        ticket_id: u64,
    },
    /// The ticket's status changed.
    StatusChanged {
        /// The ticket.
        ticket_id: u64,
        /// The new status.
        status: String,
    },
    /// The ticket was resolved.
    Resolved {
        /// The ticket.
        ticket_id: u64,
    },
    /// The ticket was reopened.
    Reopened {
        /// The ticket.
        ticket_id: u64,
    },
    /// The ticket was closed.
    Closed {
        /// The ticket.
        ticket_id: u64,
    },
    /// A call ended (seed 004).
    CallEnded {
        /// The call.
        call: Call,
    },
    /// An agent session interval started.
    SessionStarted {
        /// The session.
        session_id: u64,
        /// The agent.
        agent_id: u64,
        /// What it records.
        kind: SessionKind,
    },
    /// An agent session interval ended.
    SessionEnded {
        /// The session.
        session_id: u64,
    },
}

impl EventKind {
    /// The ticket the event is about, if any.
    pub fn ticket_id(&self) -> Option<u64> {
        match self {
            EventKind::TicketCreated { ticket_id, .. }
            | EventKind::TicketAssigned { ticket_id, .. }
            | EventKind::TicketTransferred { ticket_id, .. }
            | EventKind::AgentReplied { ticket_id, .. }
            | EventKind::CustomerReplied { ticket_id }
            | EventKind::StatusChanged { ticket_id, .. }
            | EventKind::Resolved { ticket_id }
            | EventKind::Reopened { ticket_id }
            | EventKind::Closed { ticket_id } => Some(*ticket_id),
            _ => None,
        }
    }
}

/// Builds a ticket snapshot from its events (in any order; duplicates by id are ignored).
/// `None` until the creation event is among them.
pub fn snapshot_from_events<'a>(
    tenant: Option<&str>,
    events: impl IntoIterator<Item = &'a Event>,
) -> Result<Option<Ticket>> {
    let mut sorted: Vec<&Event> = events.into_iter().collect();
    sorted.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    sorted.dedup_by(|a, b| a.id == b.id);
    let Some(created) = sorted.iter().find_map(|e| match &e.kind {
        EventKind::TicketCreated {
            ticket_id,
            agent_id,
            team,
            priority,
            kind,
        } => Some((
            e.at,
            *ticket_id,
            *agent_id,
            team.clone(),
            priority.clone(),
            *kind,
        )),
        _ => None,
    }) else {
        return Ok(None);
    };
    let (created_at, id, first_agent, team, priority, kind) = created;
    let mut t = Ticket {
        tenant: tenant.map(str::to_owned),
        id,
        kind,
        agent_id: first_agent,
        team,
        priority,
        created_at,
        ..Ticket::default()
    };
    let mut current = first_agent;
    let mut resolved: Option<DateTime<Utc>> = None;
    for (index, e) in sorted.iter().enumerate() {
        if e.at < created_at {
            return Err(Error::EventsOutOfOrder {
                index,
                at: e.at.to_rfc3339(),
                problem: "before the ticket's creation".into(),
            });
        }
        match &e.kind {
            EventKind::TicketAssigned { agent_id: to, .. }
            | EventKind::TicketTransferred { to, .. }
                if current != Some(*to) =>
            {
                t.transfers.push(Transfer {
                    at: e.at,
                    from: current,
                    to: *to,
                });
                current = Some(*to);
            }
            EventKind::AgentReplied { agent_id, .. } => {
                if t.first_response_at.is_none() {
                    t.first_response_at = Some(e.at);
                }
                t.agent_messages.push(AgentMessage {
                    at: e.at,
                    agent_id: *agent_id,
                });
            }
            EventKind::StatusChanged { status, .. } => t.status = Some(status.clone()),
            EventKind::Resolved { .. } => resolved = Some(e.at),
            EventKind::Reopened { .. } if resolved.is_some() || t.closed_at.is_some() => {
                resolved = None;
                t.reopened_at.push(e.at);
                t.closed_at = None;
            }
            EventKind::Closed { .. } => t.closed_at = Some(e.at),
            _ => {}
        }
    }
    t.resolved_at = resolved;
    // The current assignee; with a history, the first transfer's `from` is the first one.
    t.agent_id = current;
    Ok(Some(t))
}

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
        MetricsOptions {
            tenant: self.tenant.clone(),
            timezone: self.timezone,
            bucketing: Bucketing::Period(kind),
            group_by: GroupBy::Agent,
            calendar: self.calendar.clone(),
            sla: self.sla.clone(),
            as_of: None,
            quantiles: self.quantiles,
        }
    }
}

const KINDS: [PeriodKind; 3] = [PeriodKind::Day, PeriodKind::Week, PeriodKind::Month];

#[derive(Debug, Clone, Default)]
struct TicketLog {
    /// Slots in [`EventStore`] of the ticket's events, in arrival order.
    events: Vec<u32>,
    finished: bool,
    last_at: Option<DateTime<Utc>>,
    /// The creation instant, once the creation event is in.
    created_at: Option<DateTime<Utc>>,
    /// The assignment history (as the snapshot's `assignments()`; its last agent is the current
    /// assignee) and whether a first response exists (for the in-order paths).
    assignments: Vec<(DateTime<Utc>, u64)>,
    responded: bool,
}

impl TicketLog {
    /// Keeps an event (already checked not to be held).
    fn record(&mut self, store: &mut EventStore, event: &Event) {
        self.events.push(store.insert(event.clone()));
        self.last_at = self.last_at.max(Some(event.at));
    }

    /// The current assignee.
    fn assignee(&self) -> Option<u64> {
        self.assignments.last().map(|(_, a)| *a)
    }

    /// The ticket's events, in arrival order.
    fn held<'s>(&self, store: &'s EventStore) -> impl Iterator<Item = &'s Event> + use<'s, '_> {
        self.events.iter().filter_map(|slot| store.get(*slot))
    }
}

/// Every held ticket event of the engine in one slab, with the slots of evicted events reused.
/// Appending to one array whose end stays in cache costs a fraction of growing a vector of
/// whole events per ticket (the reply path's largest cost before: ~460 of ~900 ns); a ticket
/// keeps only the slots.
#[derive(Debug, Clone, Default)]
struct EventStore {
    slots: Vec<Option<Event>>,
    free: Vec<u32>,
}

impl EventStore {
    fn insert(&mut self, event: Event) -> u32 {
        if let Some(slot) = self.free.pop() {
            if let Some(s) = self.slots.get_mut(slot as usize) {
                *s = Some(event);
                return slot;
            }
        }
        self.slots.push(Some(event));
        // Four billion events held at once would exhaust memory long before the slot numbers.
        (self.slots.len() - 1) as u32
    }

    fn get(&self, slot: u32) -> Option<&Event> {
        self.slots.get(slot as usize).and_then(Option::as_ref)
    }

    fn remove(&mut self, slot: u32) -> Option<Event> {
        let event = self.slots.get_mut(slot as usize).and_then(Option::take);
        if event.is_some() {
            self.free.push(slot);
        }
        event
    }
}

/// The key of a (ticket, event id) pair in [`EventKeys`].
fn event_key(ticket_id: u64, event_id: &str) -> u64 {
    fingerprint(event_id.as_bytes()) ^ ticket_id.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Which (ticket, event id) pairs are held, as counted 64-bit keys: a key that is absent proves
/// the event new in one probe; a present one is confirmed against the ticket's events, so a
/// collision can neither drop an event nor let a duplicate through.
#[derive(Debug, Clone, Default)]
struct EventKeys(HashMap<u64, u32, FastBuild>);

impl EventKeys {
    fn maybe_holds(&self, key: u64) -> bool {
        self.0.contains_key(&key)
    }

    fn insert(&mut self, key: u64) {
        *self.0.entry(key).or_insert(0) += 1;
    }

    fn remove(&mut self, key: u64) {
        if let Some(n) = self.0.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                self.0.remove(&key);
            }
        }
    }
}

#[derive(Debug, Clone, Default)]
struct SessionLog {
    agent_id: u64,
    kind: Option<SessionKind>,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    ids: BTreeSet<String>,
}

/// What an applied event changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    /// The event id was seen before; nothing changed.
    pub duplicate: bool,
    /// The ticket's creation has not been seen yet; the event is held until it is.
    pub pending: bool,
    /// Agents and local days whose daily figures changed (seed 000 recomputes AgentKPI for
    /// these — both agents of a transfer).
    pub touched: Vec<(Option<u64>, NaiveDate)>,
}

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
    metrics: [MetricsOptions; 3],
    offsets: ZoneOffsets,
    tickets: HashMap<u64, TicketLog, FastBuild>,
    states: [TicketMetricsState; 3],
    calls: BTreeMap<u64, Call>,
    sessions: BTreeMap<u64, SessionLog>,
    evicted: HashSet<u64, FastBuild>,
    watermark: Option<DateTime<Utc>>,
    day_buckets: DayBuckets,
    event_keys: EventKeys,
    store: EventStore,
}

/// The periods (day, week, month) of the last local day seen: events mostly arrive for "today",
/// so most bucket look-ups are two integer compares.
#[derive(Debug, Clone, Default)]
struct DayBuckets {
    /// The local day's UTC bounds `[from, until)`; empty until the first look-up.
    from: i64,
    until: i64,
    buckets: [Option<(NaiveDate, NaiveDate)>; 3],
}

impl DayBuckets {
    fn get(
        &mut self,
        metrics: &[MetricsOptions; 3],
        offsets: &ZoneOffsets,
        at: DateTime<Utc>,
    ) -> [Option<(NaiveDate, NaiveDate)>; 3] {
        let t = at.timestamp();
        if self.from <= t && t < self.until {
            return self.buckets;
        }
        let buckets = [0, 1, 2].map(|i| metrics[i].bucket_at(offsets, at));
        let tz = metrics[0].timezone;
        let date = local_date(tz, at);
        let from = local_midnight(tz, date).timestamp();
        let until = date.succ_opt().map(|d| local_midnight(tz, d).timestamp());
        // Cached only for a day with one UTC offset throughout (no DST change inside it), so
        // every instant of the window has this local date.
        if let Some(until) = until {
            let steady = offsets.offset_at(tz, from) == offsets.offset_at(tz, until - 1);
            if steady && from <= t && t < until {
                *self = DayBuckets {
                    from,
                    until,
                    buckets,
                };
            }
        }
        buckets
    }
}

impl Engine {
    /// An empty engine.
    pub fn new(options: EngineOptions) -> Self {
        let metrics = KINDS.map(|k| options.metrics(k));
        Engine {
            options,
            metrics,
            offsets: ZoneOffsets::new(),
            tickets: HashMap::default(),
            states: Default::default(),
            calls: BTreeMap::new(),
            sessions: BTreeMap::new(),
            evicted: HashSet::default(),
            watermark: None,
            day_buckets: DayBuckets::default(),
            event_keys: EventKeys::default(),
            store: EventStore::default(),
        }
    }

    /// The options.
    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    /// Applies one event. A failing event changes nothing.
    pub fn apply(&mut self, event: &Event) -> Result<Applied> {
        if event.tenant != self.options.tenant {
            return Err(Error::TenantMismatch {
                expected: self.options.tenant.clone(),
                got: event.tenant.clone(),
            });
        }
        match &event.kind {
            EventKind::CallEnded { call } => {
                call.validate()?;
                if call.tenant != self.options.tenant {
                    return Err(Error::TenantMismatch {
                        expected: self.options.tenant.clone(),
                        got: call.tenant.clone(),
                    });
                }
                let duplicate = self.calls.insert(call.id, call.clone()).is_some();
                Ok(Applied {
                    duplicate,
                    ..Applied::default()
                })
            }
            EventKind::SessionStarted {
                session_id,
                agent_id,
                kind,
            } => {
                let log = self.sessions.entry(*session_id).or_default();
                if !log.ids.insert(event.id.clone()) {
                    return Ok(Applied {
                        duplicate: true,
                        ..Applied::default()
                    });
                }
                log.agent_id = *agent_id;
                log.kind = Some(*kind);
                log.start = Some(event.at);
                Ok(Applied::default())
            }
            EventKind::SessionEnded { session_id } => {
                let log = self.sessions.entry(*session_id).or_default();
                if !log.ids.insert(event.id.clone()) {
                    return Ok(Applied {
                        duplicate: true,
                        ..Applied::default()
                    });
                }
                log.end = Some(event.at);
                Ok(Applied::default())
            }
            kind => {
                let ticket_id = kind.ticket_id().unwrap_or_default();
                self.apply_ticket_event(ticket_id, event)
            }
        }
    }

    fn apply_ticket_event(&mut self, ticket_id: u64, event: &Event) -> Result<Applied> {
        let key = event_key(ticket_id, &event.id);
        let is_creation = matches!(event.kind, EventKind::TicketCreated { .. });
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
                if self.event_keys.maybe_holds(key)
                    && log.held(&self.store).any(|e| e.id == event.id)
                {
                    return Ok(Applied {
                        duplicate: true,
                        ..Applied::default()
                    });
                }
                if let Some(created) = log.created_at {
                    match &event.kind {
                        // Customer messages and status changes change no figure of a created
                        // ticket: record them without rebuilding (the common case on a busy
                        // desk).
                        EventKind::CustomerReplied { .. } | EventKind::StatusChanged { .. } => {
                            if event.at < created {
                                return Err(Error::EventsOutOfOrder {
                                    index: log.events.len(),
                                    at: event.at.to_rfc3339(),
                                    problem: "before the ticket's creation".into(),
                                });
                            }
                            log.record(&mut self.store, event);
                            self.event_keys.insert(key);
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
                                let buckets =
                                    self.day_buckets.get(&self.metrics, &self.offsets, event.at);
                                let q = self.options.quantiles;
                                for (i, bucket) in buckets.into_iter().enumerate() {
                                    let Some(b) = bucket else { continue };
                                    let (m, state) = (&self.metrics[i], &mut self.states[i]);
                                    let seen = log.assignments.iter().any(|(at, a)| {
                                        *a == to
                                            && m.bucket_at(&self.offsets, *at)
                                                .is_some_and(|x| x.0 == b.0)
                                    });
                                    let to_key = GroupKey::Agent(Some(to));
                                    if !seen {
                                        Contribution::Assigned {
                                            resolved_in_time: false,
                                        }
                                        .apply(state.entry(to_key.clone(), b, q), 1);
                                    }
                                    if let Some(f) = from {
                                        Contribution::TransferOut
                                            .apply(state.entry(GroupKey::Agent(Some(f)), b, q), 1);
                                        Contribution::TransferIn
                                            .apply(state.entry(to_key, b, q), 1);
                                    }
                                    if i == 0 {
                                        if from.is_some() {
                                            touched.push((from, b.0));
                                        }
                                        if from.is_some() || !seen {
                                            touched.push((Some(to), b.0));
                                        }
                                    }
                                }
                                log.assignments.push((event.at, to));
                            }
                            touched.sort_unstable();
                            log.record(&mut self.store, event);
                            self.event_keys.insert(key);
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
                            let g = GroupKey::Agent(agent);
                            let c = Contribution::AgentMessage;
                            let mut touched = Vec::with_capacity(1);
                            let buckets =
                                self.day_buckets.get(&self.metrics, &self.offsets, event.at);
                            for (i, bucket) in buckets.into_iter().enumerate() {
                                if let Some(b) = bucket {
                                    let q = self.options.quantiles;
                                    c.apply(self.states[i].entry(g.clone(), b, q), 1);
                                    if i == 0 {
                                        touched.push((agent, b.0));
                                    }
                                }
                            }
                            log.record(&mut self.store, event);
                            self.event_keys.insert(key);
                            return Ok(Applied {
                                touched,
                                ..Applied::default()
                            });
                        }
                        _ => {}
                    }
                }
            }
        }
        // Compute the new snapshot and contributions before touching anything.
        let held: Vec<&Event> = self
            .tickets
            .get(&ticket_id)
            .map_or_else(Vec::new, |l| l.held(&self.store).collect());
        let snapshot = snapshot_from_events(
            self.options.tenant.as_deref(),
            held.iter().copied().chain(std::iter::once(event)),
        )?;
        let mut fresh: [Vec<Keyed>; 3] = Default::default();
        if let Some(t) = &snapshot {
            for (i, m) in self.metrics.iter().enumerate() {
                fresh[i] = m.contributions(&self.offsets, t)?;
            }
        }
        // What the held events contribute now is recomputed rather than stored per ticket: the
        // aggregates always hold exactly the contributions of each ticket's snapshot (the delta
        // paths add what a rebuild would), and keeping three lists per ticket cost more in
        // allocation on every reply than recomputing them on the rarer rebuilds.
        let mut old: [Vec<Keyed>; 3] = Default::default();
        if !held.is_empty() {
            if let Some(t) = snapshot_from_events(self.options.tenant.as_deref(), held)? {
                for (i, m) in self.metrics.iter().enumerate() {
                    old[i] = m.contributions(&self.offsets, &t)?;
                }
            }
        }
        let log = self.tickets.entry(ticket_id).or_default();
        let mut touched = BTreeSet::new();
        let q = self.options.quantiles;
        for (i, state) in self.states.iter_mut().enumerate() {
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
        log.record(&mut self.store, event);
        self.event_keys.insert(key);
        log.finished = snapshot
            .as_ref()
            .is_some_and(|t| t.resolved_at.is_some() || t.closed_at.is_some());
        log.created_at = snapshot.as_ref().map(|t| t.created_at);
        log.assignments = snapshot.as_ref().map_or_else(Vec::new, |t| t.assignments());
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
                for slot in &log.events {
                    if let Some(e) = self.store.remove(*slot) {
                        self.event_keys.remove(event_key(*id, &e.id));
                    }
                }
            }
            self.evicted.insert(*id);
        }
        self.calls.retain(|_, c| c.started_at >= before);
        self.sessions
            .retain(|_, s| s.end.is_none_or(|e| e >= before));
        self.watermark = self.watermark.max(Some(before));
        for s in &mut self.states {
            s.prune();
        }
        old.len()
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
                    .any(|e| matches!(e.kind, EventKind::TicketCreated { .. }))
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
                snapshot_from_events(self.options.tenant.as_deref(), l.held(&self.store))
                    .ok()
                    .flatten()
            })
            .collect()
    }

    /// Agent rows of one period kind, ordered by agent then period.
    pub fn rows(&self, kind: PeriodKind) -> Vec<TicketMetrics> {
        let i = KINDS.iter().position(|k| *k == kind).unwrap_or(0);
        crate::metrics::rows_of(&self.states[i])
    }

    /// The mergeable state of one period kind.
    pub fn state(&self, kind: PeriodKind) -> &TicketMetricsState {
        let i = KINDS.iter().position(|k| *k == kind).unwrap_or(0);
        &self.states[i]
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
fn multiset_difference<'a>(old: &'a [Keyed], new: &'a [Keyed]) -> (Vec<&'a Keyed>, Vec<&'a Keyed>) {
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
    let mut by_ticket: BTreeMap<u64, Vec<&Event>> = BTreeMap::new();
    for e in events {
        if let Some(t) = e.kind.ticket_id() {
            by_ticket.entry(t).or_default().push(e);
        }
    }
    let mut agg = TicketMetricsAggregator::new(options.metrics(kind))?;
    for list in by_ticket.values() {
        if let Some(t) = snapshot_from_events(options.tenant.as_deref(), list.iter().copied())? {
            agg.add(&t)?;
        }
    }
    Ok(agg.finish().rows)
}
