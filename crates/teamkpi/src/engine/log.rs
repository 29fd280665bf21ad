//! What the engine keeps of each ticket: its events (deduplicated, in one slab), the events held
//! until their ticket's creation arrives, and the sessions.

use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

use crate::hashing::fingerprint;
use crate::metrics::{SessionKind, TicketKind};

use super::*;

#[derive(Debug, Clone, Default)]
pub(crate) struct TicketLog {
    /// The ticket's events in arrival order, each as its slot in [`EventStore`] (low 32 bits)
    /// and a 32-bit fingerprint of its id (high 32 bits): a fingerprint found nowhere proves an
    /// event new in one scan of memory the append touches anyway; a match is confirmed against
    /// the held id, so a collision can neither drop an event nor let a duplicate through.
    pub(crate) events: Vec<u64>,
    /// A Bloom filter of the fingerprints in `events` (128 bits, two per id): most new events
    /// are proved new here, in the map entry already loaded, without reading `events` (a cache
    /// miss that was half the cost of a customer message).
    pub(crate) prints: u128,
    pub(crate) finished: bool,
    pub(crate) last_at: Option<DateTime<Utc>>,
    /// The creation instant, once the creation event is in.
    pub(crate) created_at: Option<DateTime<Utc>>,
    /// The assignment history (as the snapshot's `assignments()`; its last agent is the current
    /// assignee) and whether a first response exists (for the in-order paths).
    pub(crate) assignments: Vec<(DateTime<Utc>, u64)>,
    /// The last agent of `assignments`, kept beside it (by [`TicketLog::assign`] and
    /// [`TicketLog::set_assignments`] only) so that a reply by the assignee reads no second
    /// allocation: ~50 ns of a ~300 ns reply.
    pub(crate) assignee: Option<u64>,
    pub(crate) responded: bool,
}

/// The 32-bit fingerprint of an event id kept beside its slot.
pub(crate) fn id_print(id: &str) -> u32 {
    (fingerprint(id.as_bytes()) >> 32) as u32
}

/// The two bits a fingerprint sets in [`TicketLog::prints`].
pub(crate) fn print_bits(print: u32) -> u128 {
    1u128 << (print & 127) | 1u128 << ((print >> 7) & 127)
}

impl TicketLog {
    /// Keeps an event (already checked not to be held) whose id has fingerprint `print`.
    pub(crate) fn record(&mut self, store: &mut EventStore, event: &Event, print: u32) {
        let slot = store.insert(event);
        self.prints |= print_bits(print);
        self.events.push(u64::from(print) << 32 | u64::from(slot));
        self.last_at = self.last_at.max(Some(event.at));
    }

    /// Whether an event with this id (of fingerprint `print`) is held.
    pub(crate) fn holds(&self, store: &EventStore, id: &str, print: u32) -> bool {
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
    pub(crate) fn assignee(&self) -> Option<u64> {
        self.assignee
    }

    /// Adds an assignment at the end of the history.
    pub(crate) fn assign(&mut self, at: DateTime<Utc>, to: u64) {
        self.assignments.push((at, to));
        self.assignee = Some(to);
    }

    /// Replaces the assignment history.
    pub(crate) fn set_assignments(&mut self, assignments: Vec<(DateTime<Utc>, u64)>) {
        self.assignee = assignments.last().map(|(_, a)| *a);
        self.assignments = assignments;
    }

    /// The ticket's events, in arrival order.
    pub(crate) fn held<'s>(
        &self,
        store: &'s EventStore,
    ) -> impl Iterator<Item = EventView<'s>> + use<'s, '_> {
        self.events.iter().filter_map(|e| store.view(*e as u32))
    }
}

/// A held ticket event, compact (40 bytes against ~180 for an [`Event`]): the tenant is the
/// engine's, the ticket is the log's, the id lives in the store's text arena, and an
/// assignment and a transfer are the same thing to a snapshot. Writing less per event is most of
/// what the delta paths cost (~100 of ~270 ns for a customer message with whole events).
#[derive(Debug, Clone)]
pub(crate) struct HeldEvent {
    pub(crate) at: DateTime<Utc>,
    pub(crate) id_len: u32,
    /// Where the id starts in [`EventStore::text`].
    pub(crate) id_start: usize,
    pub(crate) what: Held,
}

#[derive(Debug, Clone)]
pub(crate) enum Held {
    Created(Box<Creation<Box<str>>>),
    Assigned(u64),
    RepliedBy(u64),
    RepliedByAssignee,
    Status(Box<str>),
    Resolved,
    Reopened,
    Closed,
    CustomerMessage,
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
    pub(crate) fn without_text<T>(&self) -> Creation<T> {
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
pub(crate) struct EventStore {
    pub(crate) slots: Vec<Option<HeldEvent>>,
    pub(crate) free: Vec<u32>,
    pub(crate) text: String,
    /// Bytes of `text` no held event uses any more (evicted ids).
    pub(crate) garbage: usize,
}

impl EventStore {
    pub(crate) fn insert(&mut self, event: &Event) -> u32 {
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
            What::CustomerMessage => Held::CustomerMessage,
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

    pub(crate) fn view(&self, slot: u32) -> Option<EventView<'_>> {
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
            Held::CustomerMessage => What::CustomerMessage,
        };
        Some(EventView { id, at: h.at, what })
    }

    pub(crate) fn remove(&mut self, slot: u32) {
        if let Some(h) = self.slots.get_mut(slot as usize).and_then(Option::take) {
            self.garbage += h.id_len as usize;
            self.free.push(slot);
        }
    }

    /// Rewrites the text arena without evicted ids once they are most of it, so memory stays
    /// bounded by the events held.
    pub(crate) fn compact(&mut self) {
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

/// A session's log: what its start and end events said, and the ids applied (the engine's
/// sessions, and a live store's session state).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct SessionLog {
    pub(crate) agent_id: u64,
    pub(crate) kind: Option<SessionKind>,
    pub(crate) start: Option<DateTime<Utc>>,
    pub(crate) end: Option<DateTime<Utc>>,
    pub(crate) ids: BTreeSet<String>,
}

impl SessionLog {
    /// Records a session start or end event; false (and nothing changes) when its id was
    /// recorded before. Other events change nothing.
    pub(crate) fn record(&mut self, e: &super::Event) -> bool {
        if !matches!(
            e.kind,
            super::EventKind::SessionStarted { .. } | super::EventKind::SessionEnded { .. }
        ) || !self.ids.insert(e.id.clone())
        {
            return false;
        }
        match &e.kind {
            super::EventKind::SessionStarted { agent_id, kind, .. } => {
                self.agent_id = *agent_id;
                self.kind = Some(*kind);
                self.start = Some(e.at);
            }
            _ => self.end = Some(e.at),
        }
        true
    }
}
