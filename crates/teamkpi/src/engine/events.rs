//! Lifecycle events and the ticket snapshots they rebuild.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::metrics::{
    AgentMessage, Call, CustomerMessage, SessionKind, StatusChange, Ticket, TicketKind, Transfer,
};

use super::*;

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

impl Event {
    /// An event in the single-tenant scope (set `tenant` for a company's).
    ///
    /// ```
    /// use teamkpi::engine::{Event, EventKind};
    /// let at = chrono::DateTime::from_timestamp(1_762_329_600, 0).unwrap();
    /// let e = Event::new("ticket:1:created", at, EventKind::created(1, Some(7)));
    /// assert_eq!(e.kind.ticket_id(), Some(1));
    /// ```
    pub fn new(id: impl Into<String>, at: DateTime<Utc>, kind: EventKind) -> Self {
        Event {
            id: id.into(),
            tenant: None,
            at,
            kind,
        }
    }
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
    /// The ticket moved from one agent to another (the support desk's transfer; both are credited).
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
    /// A call ended (the call-center dashboard).
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
    /// A ticket created with its first assignee and no team or priority (set them on the
    /// variant for more).
    ///
    /// ```
    /// let kind = teamkpi::engine::EventKind::created(1, Some(7));
    /// assert_eq!(kind.ticket_id(), Some(1));
    /// ```
    pub fn created(ticket_id: u64, agent_id: Option<u64>) -> Self {
        EventKind::TicketCreated {
            ticket_id,
            agent_id,
            team: None,
            priority: None,
            kind: TicketKind::default(),
        }
    }

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
    /// A customer message (opens a next-response cycle).
    CustomerMessage,
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
            // Calls and sessions name no ticket: no ticket's log holds them.
            EventKind::CustomerReplied { .. }
            | EventKind::CallEnded { .. }
            | EventKind::SessionStarted { .. }
            | EventKind::SessionEnded { .. } => What::CustomerMessage,
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
    snapshot_with(tenant, events, Keep::ALL)
}

/// Which lists a snapshot keeps that not every reader needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keep {
    /// The status history (SLA clocks pause on it).
    pub(crate) statuses: bool,
    /// The customer messages (next-response cycles open on them).
    pub(crate) customer_messages: bool,
}

impl Keep {
    pub(crate) const ALL: Keep = Keep {
        statuses: true,
        customer_messages: true,
    };
}

/// [`snapshot_from_views`] keeping only the lists `keep` names (the engine's figures read no
/// customer message, and no status history under a policy that pauses on none: leaving them
/// out saves an allocation per rebuild).
pub(crate) fn snapshot_with<'a>(
    tenant: Option<&str>,
    events: impl IntoIterator<Item = EventView<'a>>,
    keep: Keep,
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
                    reason: None,
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
            What::Status(status) => {
                t.status = Some(status.to_owned());
                if keep.statuses {
                    t.status_history.push(StatusChange {
                        at: e.at,
                        status: status.to_owned(),
                        id: None,
                    });
                }
            }
            What::CustomerMessage if keep.customer_messages => t
                .customer_messages
                .push(CustomerMessage { at: e.at, id: None }),
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
