//! Backfill: existing tickets, calls and sessions turned into events with ids derived from the
//! records, so a backfill can run again — or after real-time events with the same ids — and
//! change nothing.
//!
//! The ids (the scheme a host's real-time hooks use for teamkpi's own activity tables):
//!
//! | record | event | id |
//! |---|---|---|
//! | ticket | created | `ticket:{id}:created` |
//! | ticket | a transfer with the host's record id | `transfer:{id}` |
//! | ticket | n-th transfer of its history (no record id) | `ticket:{id}:transfer:{n}` |
//! | ticket | first response without a matching message | `ticket:{id}:first_response` |
//! | ticket | an agent message with the host's record id | `message:{id}` |
//! | ticket | n-th agent message, time order (no record id) | `ticket:{id}:message:{n}` |
//! | ticket | n-th reopening (and the resolution it undid) | `ticket:{id}:reopen:{n}:1` (`…:0`) |
//! | ticket | resolved / closed | `ticket:{id}:resolved`, `ticket:{id}:closed` |
//! | ticket | a status change with the host's record id | `status:{id}` |
//! | ticket | n-th change of its status history, time order (no record id) | `ticket:{id}:status:{n}` |
//! | ticket | its current status (no status history) | `ticket:{id}:status` |
//! | ticket | a customer message with the host's record id | `customer_message:{id}` |
//! | ticket | n-th customer message, time order (no record id) | `ticket:{id}:customer_message:{n}` |
//! | call | ended | `call:{id}` |
//! | session | started / ended | `session:{agent}:{kind}:{start}:start` / `…:end` |

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::LiveStore;
use crate::engine::{EngineOptions, Event, EventKind};
use crate::error::{Error, Result};
use crate::metrics::{AgentSession, Call, Ticket};
use crate::store::ActivitySource;

/// The events that rebuild a ticket snapshot. A first response that precedes every recorded
/// agent message (or a ticket with a first response and no messages) becomes an agent reply of
/// its own, so live figures count it as a message too.
pub fn ticket_events(t: &Ticket) -> Vec<Event> {
    let id = t.id;
    let named = |name: String, at: DateTime<Utc>, kind: EventKind| Event {
        id: name,
        tenant: t.tenant.clone(),
        at,
        kind,
    };
    let ev = |suffix: String, at: DateTime<Utc>, kind: EventKind| {
        named(format!("ticket:{id}:{suffix}"), at, kind)
    };
    // A record id names the event by itself; without one, the position in the history does.
    let name = |record: Option<u64>, what: &str, n: usize| match record {
        Some(r) => format!("{what}:{r}"),
        None => format!("ticket:{id}:{what}:{n}"),
    };
    let first_agent = match t.transfers.first() {
        Some(first) => first.from,
        None => t.agent_id,
    };
    let mut out = vec![ev(
        "created".into(),
        t.created_at,
        EventKind::TicketCreated {
            ticket_id: id,
            agent_id: first_agent,
            team: t.team.clone(),
            priority: t.priority.clone(),
            kind: t.kind,
        },
    )];
    for (n, tr) in t.transfers.iter().enumerate() {
        out.push(named(
            name(tr.id, "transfer", n),
            tr.at,
            EventKind::TicketTransferred {
                ticket_id: id,
                from: tr.from,
                to: tr.to,
            },
        ));
    }
    let mut messages: Vec<_> = t.agent_messages.clone();
    messages.sort_by_key(|m| m.at);
    if let Some(fr) = t.first_response_at {
        if messages.first().is_none_or(|m| m.at > fr) {
            out.push(ev(
                "first_response".into(),
                fr,
                EventKind::AgentReplied {
                    ticket_id: id,
                    agent_id: None,
                },
            ));
        }
    }
    for (n, m) in messages.iter().enumerate() {
        out.push(named(
            name(m.id, "message", n),
            m.at,
            EventKind::AgentReplied {
                ticket_id: id,
                agent_id: m.agent_id,
            },
        ));
    }
    // A reopening undid a resolution the snapshot no longer records: both at the reopening's
    // instant, ordered by their ids.
    for (n, r) in t.reopened_at.iter().enumerate() {
        out.push(ev(
            format!("reopen:{n}:0"),
            *r,
            EventKind::Resolved { ticket_id: id },
        ));
        out.push(ev(
            format!("reopen:{n}:1"),
            *r,
            EventKind::Reopened { ticket_id: id },
        ));
    }
    if let Some(r) = t.resolved_at {
        out.push(ev(
            "resolved".into(),
            r,
            EventKind::Resolved { ticket_id: id },
        ));
    }
    if let Some(c) = t.closed_at {
        out.push(ev("closed".into(), c, EventKind::Closed { ticket_id: id }));
    }
    let mut customer: Vec<_> = t.customer_messages.clone();
    customer.sort_by_key(|m| m.at);
    for (n, m) in customer.iter().enumerate() {
        out.push(named(
            name(m.id, "customer_message", n),
            m.at,
            EventKind::CustomerReplied { ticket_id: id },
        ));
    }
    // The history as it is; without one, the current status from the last activity (the
    // instant a snapshot without history is taken to have entered it).
    let single = t.status_history.is_empty();
    for (n, s) in t.statuses().into_iter().enumerate() {
        let event = if single {
            format!("ticket:{id}:status")
        } else {
            name(s.id, "status", n)
        };
        let kind = EventKind::StatusChanged {
            ticket_id: id,
            status: s.status,
        };
        out.push(named(event, s.at, kind));
    }
    out
}

/// The event of an ended call.
pub fn call_event(c: &Call) -> Event {
    Event {
        id: format!("call:{}", c.id),
        tenant: c.tenant.clone(),
        at: c.started_at + Duration::seconds(c.duration_seconds.max(0)),
        kind: EventKind::CallEnded { call: c.clone() },
    }
}

fn session_key(s: &AgentSession) -> String {
    format!(
        "session:{}:{}:{}",
        s.agent_id,
        s.kind.as_str(),
        s.start.timestamp()
    )
}

/// The session id derived from a session record (agent, kind, start).
pub fn session_id(s: &AgentSession) -> u64 {
    crate::hashing::fingerprint(session_key(s).as_bytes())
}

/// A session key ([`session_id`], a fingerprint) as a signed 64-bit column: its bits are stored
/// unchanged, so every key round-trips (host ids, which are numbers, are range-checked instead).
pub fn session_key_column(id: u64) -> i64 {
    i64::from_ne_bytes(id.to_ne_bytes())
}

/// The events of a session record: started, and ended when it is over.
pub fn session_events(s: &AgentSession) -> Vec<Event> {
    let key = session_key(s);
    let session_id = session_id(s);
    let mut out = vec![Event {
        id: format!("{key}:start"),
        tenant: s.tenant.clone(),
        at: s.start,
        kind: EventKind::SessionStarted {
            session_id,
            agent_id: s.agent_id,
            kind: s.kind,
        },
    }];
    if let Some(end) = s.end {
        out.push(Event {
            id: format!("{key}:end"),
            tenant: s.tenant.clone(),
            at: end,
            kind: EventKind::SessionEnded { session_id },
        });
    }
    out
}

/// How far a backfill has come.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackfillProgress {
    /// Days of the range done.
    pub days_done: u64,
    /// Days in the range.
    pub days_total: u64,
    /// Records read.
    pub tickets: u64,
    /// Calls read.
    pub calls: u64,
    /// Sessions read.
    pub sessions: u64,
    /// Events applied (new).
    pub applied: u64,
    /// Events already applied before.
    pub duplicates: u64,
    /// Events refused in context.
    pub rejected: u64,
}

/// What a backfill did (the last progress).
pub type BackfillReport = BackfillProgress;

/// Loads the tickets, calls and sessions of `[from, to)` from `source` into `store`'s live state,
/// a day at a time (each ticket once, on the day it was created; those created before `from` with
/// activity in the range on the first day), in batches of at most `batch` events, calling
/// `progress` after each day.
pub fn backfill(
    store: &dyn LiveStore,
    source: &dyn ActivitySource,
    options: &EngineOptions,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    batch: usize,
    progress: &mut dyn FnMut(&BackfillProgress),
) -> Result<BackfillReport> {
    if to < from {
        return Err(Error::range("backfill", from, to));
    }
    let batch = crate::limits::check_batch("batch", batch)?;
    let days = (to - from).num_days() + 1;
    if days > 36_600 {
        return Err(Error::OutOfRange {
            field: "backfill".into(),
            reason: format!("{days} days is more than 36 600"),
        });
    }
    let tenant = options.tenant.as_deref();
    let mut p = BackfillProgress {
        days_total: days as u64,
        ..BackfillProgress::default()
    };
    let mut start = from;
    while start < to {
        let end = (start + Duration::days(1)).min(to);
        let first = start == from;
        let mut events = Vec::new();
        for t in source.tickets(tenant, start, end)? {
            if t.created_at >= start || first {
                p.tickets += 1;
                events.extend(ticket_events(&t));
            }
        }
        for c in source.calls(tenant, start, end)? {
            p.calls += 1;
            events.push(call_event(&c));
        }
        for s in source.sessions(tenant, start, end)? {
            if s.start >= start || first {
                p.sessions += 1;
                events.extend(session_events(&s));
            }
        }
        for chunk in events.chunks(batch) {
            let r = store.live_apply(options, chunk)?;
            p.applied += r.applied;
            p.duplicates += r.duplicates;
            p.rejected += r.rejected.len() as u64;
        }
        p.days_done += 1;
        progress(&p);
        start = end;
    }
    Ok(p)
}

/// Applies the events of records a host loads from its own tables — ticket snapshots
/// ([`ticket_events`]), calls ([`call_event`]), agent sessions ([`session_events`]) — in batches
/// of at most `batch` events: a backfill, a real-time hook that has the record rather than the
/// event, or the repair of a hook that failed (events applied before are duplicates). A
/// ticket's or session's events stay in one batch. Returns the counts summed.
pub fn apply_records(
    store: &dyn LiveStore,
    options: &EngineOptions,
    tickets: &[Ticket],
    calls: &[Call],
    sessions: &[AgentSession],
    batch: usize,
) -> Result<BackfillReport> {
    let batch = crate::limits::check_batch("batch", batch)?;
    let mut p = BackfillProgress::default();
    let mut events = Vec::with_capacity(batch.min(4096) + 16);
    let flush = |events: &mut Vec<Event>, p: &mut BackfillProgress| -> Result<()> {
        if !events.is_empty() {
            let r = store.live_apply(options, events)?;
            p.applied += r.applied;
            p.duplicates += r.duplicates;
            p.rejected += r.rejected.len() as u64;
            events.clear();
        }
        Ok(())
    };
    let records = tickets
        .iter()
        .map(ticket_events)
        .chain(calls.iter().map(|c| vec![call_event(c)]))
        .chain(sessions.iter().map(session_events));
    for mine in records {
        if events.len() + mine.len() > batch {
            flush(&mut events, &mut p)?;
        }
        events.extend(mine);
    }
    flush(&mut events, &mut p)?;
    p.tickets = tickets.len() as u64;
    p.calls = calls.len() as u64;
    p.sessions = sessions.len() as u64;
    Ok(p)
}
