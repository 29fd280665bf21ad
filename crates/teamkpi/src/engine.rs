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
use crate::error::{Error, EventIssue, Result};
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
    snapshot_from_views(tenant, events.into_iter().map(EventView::of))
}

/// What the snapshot reads of an event, borrowed: from an [`Event`] or from a held event of
/// the engine's compact store alike, so a rebuild allocates nothing per held event.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EventView<'a> {
    pub(crate) id: &'a str,
    pub(crate) at: DateTime<Utc>,
    pub(crate) what: What<'a>,
}

/// The part of an event kind a snapshot reads.
#[derive(Debug, Clone, Copy)]
pub(crate) enum What<'a> {
    Created(Creation<&'a str>),
    /// An assignment or a transfer (the snapshot derives `from` from the history).
    Assigned(u64),
    AgentReplied(Option<u64>),
    Status(&'a str),
    Resolved,
    Reopened,
    Closed,
    /// Customer messages, and anything else that changes no figure.
    Other,
}

impl<'a> EventView<'a> {
    pub(crate) fn of(e: &'a Event) -> Self {
        let what = match &e.kind {
            EventKind::TicketCreated {
                ticket_id,
                agent_id,
                team,
                priority,
                kind,
            } => What::Created(Creation {
                ticket_id: *ticket_id,
                agent_id: *agent_id,
                team: team.as_deref(),
                priority: priority.as_deref(),
                kind: *kind,
            }),
            EventKind::TicketAssigned { agent_id: to, .. }
            | EventKind::TicketTransferred { to, .. } => What::Assigned(*to),
            EventKind::AgentReplied { agent_id, .. } => What::AgentReplied(*agent_id),
            EventKind::StatusChanged { status, .. } => What::Status(status),
            EventKind::Resolved { .. } => What::Resolved,
            EventKind::Reopened { .. } => What::Reopened,
            EventKind::Closed { .. } => What::Closed,
            _ => What::Other,
        };
        EventView {
            id: &e.id,
            at: e.at,
            what,
        }
    }
}

pub(crate) fn snapshot_from_views<'a>(
    tenant: Option<&str>,
    events: impl IntoIterator<Item = EventView<'a>>,
) -> Result<Option<Ticket>> {
    let mut sorted: Vec<EventView<'a>> = events.into_iter().collect();
    sorted.sort_by(|a, b| (a.at, a.id).cmp(&(b.at, b.id)));
    sorted.dedup_by(|a, b| a.id == b.id);
    let Some((created_at, c)) = sorted.iter().find_map(|e| match e.what {
        What::Created(c) => Some((e.at, c)),
        _ => None,
    }) else {
        return Ok(None);
    };
    let mut t = Ticket {
        tenant: tenant.map(str::to_owned),
        id: c.ticket_id,
        kind: c.kind,
        agent_id: c.agent_id,
        team: c.team.map(str::to_owned),
        priority: c.priority.map(str::to_owned),
        created_at,
        ..Ticket::default()
    };
    let mut current = c.agent_id;
    let mut resolved: Option<DateTime<Utc>> = None;
    for (index, e) in sorted.iter().enumerate() {
        if e.at < created_at {
            return Err(Error::EventsOutOfOrder {
                index,
                at: e.at.to_rfc3339(),
                problem: "before the ticket's creation".into(),
            });
        }
        match e.what {
            What::Assigned(to) if current != Some(to) => {
                t.transfers.push(Transfer {
                    at: e.at,
                    from: current,
                    to,
                    id: None,
                });
                current = Some(to);
            }
            What::AgentReplied(agent_id) => {
                if t.first_response_at.is_none() {
                    t.first_response_at = Some(e.at);
                }
                t.agent_messages.push(AgentMessage {
                    at: e.at,
                    agent_id,
                    id: None,
                });
            }
            What::Status(status) => t.status = Some(status.to_owned()),
            What::Resolved => resolved = Some(e.at),
            What::Reopened if resolved.is_some() || t.closed_at.is_some() => {
                resolved = None;
                t.reopened_at.push(e.at);
                t.closed_at = None;
            }
            What::Closed => t.closed_at = Some(e.at),
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

#[derive(Debug, Clone, Default)]
struct TicketLog {
    /// The ticket's events in arrival order, each as its slot in [`EventStore`] (low 32 bits)
    /// and a 32-bit fingerprint of its id (high 32 bits): a fingerprint found nowhere proves an
    /// event new in one scan of memory the append touches anyway; a match is confirmed against
    /// the held id, so a collision can neither drop an event nor let a duplicate through.
    events: Vec<u64>,
    /// A Bloom filter of the fingerprints in `events` (128 bits, two per id): most new events
    /// are proved new here, in the map entry already loaded, without reading `events` (a cache
    /// miss that was half the cost of a customer message).
    prints: u128,
    finished: bool,
    last_at: Option<DateTime<Utc>>,
    /// The creation instant, once the creation event is in.
    created_at: Option<DateTime<Utc>>,
    /// The assignment history (as the snapshot's `assignments()`; its last agent is the current
    /// assignee) and whether a first response exists (for the in-order paths).
    assignments: Vec<(DateTime<Utc>, u64)>,
    /// The last agent of `assignments`, kept beside it (by [`TicketLog::assign`] and
    /// [`TicketLog::set_assignments`] only) so that a reply by the assignee reads no second
    /// allocation: ~50 ns of a ~300 ns reply.
    assignee: Option<u64>,
    responded: bool,
}

/// The 32-bit fingerprint of an event id kept beside its slot.
fn id_print(id: &str) -> u32 {
    (fingerprint(id.as_bytes()) >> 32) as u32
}

/// The two bits a fingerprint sets in [`TicketLog::prints`].
fn print_bits(print: u32) -> u128 {
    1u128 << (print & 127) | 1u128 << ((print >> 7) & 127)
}

impl TicketLog {
    /// Keeps an event (already checked not to be held) whose id has fingerprint `print`.
    fn record(&mut self, store: &mut EventStore, event: &Event, print: u32) {
        let slot = store.insert(event);
        self.prints |= print_bits(print);
        self.events.push(u64::from(print) << 32 | u64::from(slot));
        self.last_at = self.last_at.max(Some(event.at));
    }

    /// Whether an event with this id (of fingerprint `print`) is held.
    fn holds(&self, store: &EventStore, id: &str, print: u32) -> bool {
        let bits = print_bits(print);
        if self.prints & bits != bits {
            return false;
        }
        let print = u64::from(print);
        self.events
            .iter()
            .any(|e| e >> 32 == print && store.view(*e as u32).is_some_and(|v| v.id == id))
    }

    /// The current assignee.
    fn assignee(&self) -> Option<u64> {
        self.assignee
    }

    /// Adds an assignment at the end of the history.
    fn assign(&mut self, at: DateTime<Utc>, to: u64) {
        self.assignments.push((at, to));
        self.assignee = Some(to);
    }

    /// Replaces the assignment history.
    fn set_assignments(&mut self, assignments: Vec<(DateTime<Utc>, u64)>) {
        self.assignee = assignments.last().map(|(_, a)| *a);
        self.assignments = assignments;
    }

    /// The ticket's events, in arrival order.
    fn held<'s>(&self, store: &'s EventStore) -> impl Iterator<Item = EventView<'s>> + use<'s, '_> {
        self.events.iter().filter_map(|e| store.view(*e as u32))
    }
}

/// A held ticket event, compact (40 bytes against ~180 for an [`Event`]): the tenant is the
/// engine's, the ticket is the log's, the id lives in the store's text arena, and an
/// assignment and a transfer are the same thing to a snapshot. Writing less per event is most of
/// what the delta paths cost (~100 of ~270 ns for a customer message with whole events).
#[derive(Debug, Clone)]
struct HeldEvent {
    at: DateTime<Utc>,
    id_len: u32,
    /// Where the id starts in [`EventStore::text`].
    id_start: usize,
    what: Held,
}

#[derive(Debug, Clone)]
enum Held {
    Created(Box<Creation<Box<str>>>),
    Assigned(u64),
    RepliedBy(u64),
    RepliedByAssignee,
    Status(Box<str>),
    Resolved,
    Reopened,
    Closed,
    Other,
}

/// A creation's fields, with its texts borrowed (in a view) or owned (held).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Creation<S> {
    pub(crate) ticket_id: u64,
    pub(crate) agent_id: Option<u64>,
    pub(crate) team: Option<S>,
    pub(crate) priority: Option<S>,
    pub(crate) kind: TicketKind,
}

impl<S> Creation<S> {
    /// The same fields without texts, to take other ones.
    fn without_text<T>(&self) -> Creation<T> {
        Creation {
            ticket_id: self.ticket_id,
            agent_id: self.agent_id,
            team: None,
            priority: None,
            kind: self.kind,
        }
    }
}

/// Every held ticket event of the engine in one slab, with the slots of evicted events reused,
/// and every held id in one text arena (no allocation per event). A ticket keeps only slots.
#[derive(Debug, Clone, Default)]
struct EventStore {
    slots: Vec<Option<HeldEvent>>,
    free: Vec<u32>,
    text: String,
    /// Bytes of `text` no held event uses any more (evicted ids).
    garbage: usize,
}

impl EventStore {
    fn insert(&mut self, event: &Event) -> u32 {
        let what = match EventView::of(event).what {
            What::Created(c) => Held::Created(Box::new(Creation {
                team: c.team.map(Box::from),
                priority: c.priority.map(Box::from),
                ..c.without_text()
            })),
            What::Assigned(to) => Held::Assigned(to),
            What::AgentReplied(Some(a)) => Held::RepliedBy(a),
            What::AgentReplied(None) => Held::RepliedByAssignee,
            What::Status(status) => Held::Status(Box::from(status)),
            What::Resolved => Held::Resolved,
            What::Reopened => Held::Reopened,
            What::Closed => Held::Closed,
            What::Other => Held::Other,
        };
        let held = HeldEvent {
            at: event.at,
            // Ids are short; one longer than 4 GiB could not have been received.
            id_len: event.id.len() as u32,
            id_start: self.text.len(),
            what,
        };
        self.text.push_str(&event.id);
        if let Some(slot) = self.free.pop() {
            if let Some(s) = self.slots.get_mut(slot as usize) {
                *s = Some(held);
                return slot;
            }
        }
        self.slots.push(Some(held));
        // Four billion events held at once would exhaust memory long before the slot numbers.
        (self.slots.len() - 1) as u32
    }

    fn view(&self, slot: u32) -> Option<EventView<'_>> {
        let h = self.slots.get(slot as usize)?.as_ref()?;
        let id = self
            .text
            .get(h.id_start..h.id_start + h.id_len as usize)
            .unwrap_or_default();
        let what = match &h.what {
            Held::Created(c) => What::Created(Creation {
                team: c.team.as_deref(),
                priority: c.priority.as_deref(),
                ..c.without_text()
            }),
            Held::Assigned(to) => What::Assigned(*to),
            Held::RepliedBy(a) => What::AgentReplied(Some(*a)),
            Held::RepliedByAssignee => What::AgentReplied(None),
            Held::Status(s) => What::Status(s),
            Held::Resolved => What::Resolved,
            Held::Reopened => What::Reopened,
            Held::Closed => What::Closed,
            Held::Other => What::Other,
        };
        Some(EventView { id, at: h.at, what })
    }

    fn remove(&mut self, slot: u32) {
        if let Some(h) = self.slots.get_mut(slot as usize).and_then(Option::take) {
            self.garbage += h.id_len as usize;
            self.free.push(slot);
        }
    }

    /// Rewrites the text arena without evicted ids once they are most of it, so memory stays
    /// bounded by the events held.
    fn compact(&mut self) {
        if self.garbage < 1 << 16 || self.garbage * 2 < self.text.len() {
            return;
        }
        let mut text = String::with_capacity(self.text.len() - self.garbage);
        for h in self.slots.iter_mut().flatten() {
            let id = self
                .text
                .get(h.id_start..h.id_start + h.id_len as usize)
                .unwrap_or_default();
            h.id_start = text.len();
            text.push_str(id);
        }
        self.text = text;
        self.garbage = 0;
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

/// An agent and local day whose daily figures an event changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Touched {
    /// The agent (`None`: unassigned work).
    pub agent_id: Option<u64>,
    /// The local day.
    pub day: NaiveDate,
}

/// An event of a batch that was refused in context (`late_event`, `events_out_of_order`,
/// `unknown_ticket`); the batch's other events were applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedEvent {
    /// Its position in the batch (0-based).
    pub index: usize,
    /// Its id.
    pub id: String,
    /// The stable code.
    pub code: String,
    /// Why.
    pub message: String,
}

impl RejectedEvent {
    pub(crate) fn new(index: usize, id: &str, e: &Error) -> Self {
        RejectedEvent {
            index,
            id: id.to_owned(),
            code: e.code().to_owned(),
            message: e.to_string(),
        }
    }
}

/// What a batch of events changed ([`Engine::apply_batch`], and live metrics in a store).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchReport {
    /// Events applied (held ones included).
    pub applied: u64,
    /// Events whose id was applied before (in an earlier call or earlier in this one).
    pub duplicates: u64,
    /// Of the applied ones, events held until their ticket's creation arrives.
    pub pending: u64,
    /// Events refused in context, with their index and code.
    pub rejected: Vec<RejectedEvent>,
    /// Agents and local days whose daily figures changed, ordered.
    pub touched: Vec<Touched>,
}

/// The instants an event may carry: the documented limits, years 1000 to 9000.
fn check_instant(at: DateTime<Utc>) -> Result<()> {
    crate::limits::check_instant("at", at)
}

/// Checks a batch before anything is applied: every event's id, instant and tenant (and a call's
/// fields). The bad ones, each with its index and code, make one `invalid_events` error.
pub fn validate_batch(tenant: Option<&str>, events: &[Event]) -> Result<()> {
    let mut errors = Vec::new();
    for (index, e) in events.iter().enumerate() {
        if let Err(err) = validate_event(tenant, e) {
            errors.push(EventIssue::of(index, &err));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::InvalidEvents { errors })
    }
}

#[inline]
fn validate_event(tenant: Option<&str>, e: &Event) -> Result<()> {
    if e.id.is_empty() {
        return Err(Error::argument("id", "an event id must not be empty"));
    }
    check_instant(e.at)?;
    let mismatch = |got: &Option<String>| Error::TenantMismatch {
        expected: tenant.map(str::to_owned),
        got: got.clone(),
    };
    if e.tenant.as_deref() != tenant {
        return Err(mismatch(&e.tenant));
    }
    if let EventKind::CallEnded { call } = &e.kind {
        call.validate()?;
        check_instant(call.started_at)?;
        if call.tenant.as_deref() != tenant {
            return Err(mismatch(&call.tenant));
        }
    }
    Ok(())
}

/// Decodes a batch of JSON events. Every event that does not decode (a missing field, an unknown
/// type, an instant without an offset) or validate is reported with its index and code in one
/// `invalid_events` error.
pub fn decode_batch(tenant: Option<&str>, values: Vec<serde_json::Value>) -> Result<Vec<Event>> {
    collect_batch(
        tenant,
        values
            .into_iter()
            .enumerate()
            .map(|(index, v)| crate::from_json::<Event>(v).map_err(|e| EventIssue::of(index, &e)))
            .collect(),
    )
}

/// A batch a binding decoded from its own objects, one result per event (a failure as the
/// event's issue): the events that decoded are validated too, and every bad event — not decoded
/// or not valid — is reported with its index and code in one `invalid_events` error, in index
/// order, as [`decode_batch`] does for JSON.
pub fn collect_batch(
    tenant: Option<&str>,
    decoded: Vec<std::result::Result<Event, EventIssue>>,
) -> Result<Vec<Event>> {
    let mut errors = Vec::new();
    let mut events = Vec::with_capacity(decoded.len());
    for (index, d) in decoded.into_iter().enumerate() {
        match d {
            Ok(e) => match validate_event(tenant, &e) {
                Ok(()) => events.push(e),
                Err(err) => errors.push(EventIssue::of(index, &err)),
            },
            Err(issue) => errors.push(EventIssue { index, ..issue }),
        }
    }
    if errors.is_empty() {
        Ok(events)
    } else {
        Err(Error::InvalidEvents { errors })
    }
}

impl BatchReport {
    /// Counts one event's outcome.
    pub(crate) fn count(&mut self, index: usize, id: &str, outcome: Result<Applied>) {
        match outcome {
            Ok(a) if a.duplicate => self.duplicates += 1,
            Ok(a) => {
                self.applied += 1;
                self.pending += u64::from(a.pending);
                self.touched.extend(
                    a.touched
                        .into_iter()
                        .map(|(agent_id, day)| Touched { agent_id, day }),
                );
            }
            Err(e) => self.rejected.push(RejectedEvent::new(index, id, &e)),
        }
    }

    /// Orders and deduplicates `touched`.
    pub(crate) fn finish(mut self) -> Self {
        self.touched.sort_unstable();
        self.touched.dedup();
        self
    }
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
    ledger: Ledger,
    tickets: HashMap<u64, TicketLog, FastBuild>,
    calls: BTreeMap<u64, Call>,
    sessions: BTreeMap<u64, SessionLog>,
    evicted: HashSet<u64, FastBuild>,
    watermark: Option<DateTime<Utc>>,
    store: EventStore,
}

/// The aggregates of the three period kinds (day, week, month) and how instants map to them.
#[derive(Debug, Clone)]
struct Ledger {
    metrics: [MetricsOptions; 3],
    offsets: ZoneOffsets,
    states: [TicketMetricsState; 3],
    day: DayBuckets,
    quantiles: bool,
}

/// The periods (day, week, month) of the last local day seen: events mostly arrive for "today",
/// so most bucket look-ups are two integer compares, and most aggregate updates go straight to
/// the agent's three rows (one small hash probe instead of three keyed by group and period:
/// ~25 against ~130 ns for a reply).
#[derive(Debug, Clone, Default)]
struct DayBuckets {
    /// The local day's UTC bounds `[from, until)`; empty until the first look-up.
    from: i64,
    until: i64,
    buckets: [Option<(NaiveDate, NaiveDate)>; 3],
    /// Each agent's row slots in the three states for `buckets`; emptied with the window and
    /// whenever the states are pruned.
    slots: HashMap<Option<u64>, [u32; 3], FastBuild>,
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
                    slots: HashMap::default(),
                };
            }
        }
        buckets
    }
}

impl Ledger {
    /// The buckets (day, week, month) of an instant.
    fn buckets(&mut self, at: DateTime<Utc>) -> [Option<(NaiveDate, NaiveDate)>; 3] {
        self.day.get(&self.metrics, &self.offsets, at)
    }

    /// Adds `c` to the agent's rows of the periods (day, week, month) that `periods` selects,
    /// for the instant `at`; returns the local day.
    fn credit(
        &mut self,
        at: DateTime<Utc>,
        agent: Option<u64>,
        c: Contribution,
        periods: [bool; 3],
    ) -> Option<NaiveDate> {
        let buckets = self.buckets(at);
        let (quantiles, day_window, states) = (self.quantiles, &mut self.day, &mut self.states);
        if periods == [false; 3] {
            return buckets[0].map(|b| b.0);
        }
        let t = at.timestamp();
        let cached = day_window.from <= t && t < day_window.until;
        if let (true, [Some(day), Some(week), Some(month)]) = (cached, buckets) {
            let slots = match day_window.slots.get(&agent) {
                Some(slots) => *slots,
                None => {
                    let [d, w, m] = &mut *states;
                    let g = GroupKey::Agent(agent);
                    let slots = [
                        d.slot(g.clone(), day, quantiles),
                        w.slot(g.clone(), week, quantiles),
                        m.slot(g, month, quantiles),
                    ];
                    day_window.slots.insert(agent, slots);
                    slots
                }
            };
            for ((slot, state), on) in slots.into_iter().zip(states.iter_mut()).zip(periods) {
                if on {
                    c.apply(state.at_slot(slot), 1);
                }
            }
        } else {
            for ((bucket, state), on) in buckets.into_iter().zip(states.iter_mut()).zip(periods) {
                if let (Some(b), true) = (bucket, on) {
                    c.apply(state.entry(GroupKey::Agent(agent), b, quantiles), 1);
                }
            }
        }
        buckets[0].map(|b| b.0)
    }
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
        let snapshot = snapshot_from_views(
            self.options.tenant.as_deref(),
            held.iter()
                .copied()
                .chain(std::iter::once(EventView::of(event))),
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
            if let Some(t) = snapshot_from_views(self.options.tenant.as_deref(), held)? {
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
    use chrono::{Duration, TimeZone};

    fn event(id: String, at: DateTime<Utc>, kind: EventKind) -> Event {
        Event {
            id,
            tenant: None,
            at,
            kind,
        }
    }

    /// Three events per ticket, each id 48 bytes long; resolved when `resolve`.
    fn ticket_events(ticket_id: u64, at: DateTime<Utc>, resolve: bool) -> Vec<Event> {
        let id = |n: u32| format!("{ticket_id:020}-{n:027}");
        let mut events = vec![
            event(
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
            event(
                id(1),
                at + Duration::minutes(5),
                EventKind::AgentReplied {
                    ticket_id,
                    agent_id: None,
                },
            ),
        ];
        if resolve {
            events.push(event(
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
