//! Input records, as a host already has them in its database: tickets (and disputes, orders, CRM
//! clients), calls, agent sessions, contacts and campaigns.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::choice::string_enum;
use crate::error::{Error, Result};

string_enum! {
    /// What a ticket-like record is (the support automation tracks tickets, disputes and orders; the CRM assignment CRM
    /// clients).
    #[derive(Default)]
    pub enum TicketKind ("kind") {
        /// A support ticket.
        #[default]
        Ticket = "ticket" | "case" | "conversation",
        /// A dispute.
        Dispute = "dispute",
        /// An order handled by support.
        Order = "order",
        /// A CRM client or lead assigned to an agent.
        Client = "client" | "lead" | "contact",
    }
}

/// A change of assignee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// The previous assignee (`None` for a first assignment).
    #[serde(default)]
    pub from: Option<u64>,
    /// The new assignee.
    pub to: u64,
    /// The host's id of the transfer record, when it has one: live events derived from the
    /// snapshot are then named by it (`transfer:{id}`), so a real-time hook can name its event
    /// the same way without counting the ticket's earlier transfers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// Why it moved, when a rule moved it (`not_contacted`, `agent_inactive`, `backlog`, …: the
    /// assignment's audit trail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A message an agent sent on a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentMessage {
    /// When it was sent.
    pub at: DateTime<Utc>,
    /// Who sent it (`None`: the assignee at that instant).
    #[serde(default)]
    pub agent_id: Option<u64>,
    /// The host's id of the message record, when it has one (live events are then named
    /// `message:{id}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
}

/// A status change: the ticket entered `status` at `at`. While a ticket is in one of an SLA
/// policy's pause statuses, its clocks stop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    /// When the status was set.
    pub at: DateTime<Utc>,
    /// The status entered.
    pub status: String,
    /// The host's id of the status-change record, when it has one (live events are then named
    /// `status:{id}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
}

/// A message from the customer: after an agent's reply it opens a next-response cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerMessage {
    /// When it was received.
    pub at: DateTime<Utc>,
    /// The host's id of the message record, when it has one (live events are then named
    /// `customer_message:{id}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
}

/// A ticket snapshot (also disputes, orders and CRM clients, by `kind`).
///
/// Attribution (docs/semantics.md): the ticket is assigned to an agent at each assignment instant of its
/// transfer history (with no history: to `agent_id` at `created_at`); a transfer counts for both
/// agents; a response, resolution or reopening is credited to the assignee at that instant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// The company.
    #[serde(default)]
    pub tenant: Option<String>,
    /// The record's id.
    pub id: u64,
    /// What the record is.
    #[serde(default)]
    pub kind: TicketKind,
    /// The current assignee (the support desk's `assigned_agent`).
    #[serde(default, alias = "assigned_to", alias = "assigned_agent")]
    pub agent_id: Option<u64>,
    /// The team.
    #[serde(default)]
    pub team: Option<String>,
    /// Priority label (`low`, `normal`, `high`, `urgent` — the keys of SLA policies).
    #[serde(default)]
    pub priority: Option<String>,
    /// Free status text.
    #[serde(default)]
    pub status: Option<String>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// First agent response.
    #[serde(default)]
    pub first_response_at: Option<DateTime<Utc>>,
    /// Resolution.
    #[serde(default)]
    pub resolved_at: Option<DateTime<Utc>>,
    /// Closing.
    #[serde(default)]
    pub closed_at: Option<DateTime<Utc>>,
    /// Instants the ticket was reopened.
    #[serde(default)]
    pub reopened_at: Vec<DateTime<Utc>>,
    /// Assignment history, in time order.
    #[serde(default)]
    pub transfers: Vec<Transfer>,
    /// Agent messages.
    #[serde(default)]
    pub agent_messages: Vec<AgentMessage>,
    /// When the agent last contacted the client (the CRM assignment's `last_contacted_at`).
    #[serde(default)]
    pub last_contacted_at: Option<DateTime<Utc>>,
    /// The status history, in any order. Without one, the ticket is taken to have entered its
    /// current `status` at its last activity (the instant a backfill gives that status too).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status_history: Vec<StatusChange>,
    /// Customer messages, in any order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub customer_messages: Vec<CustomerMessage>,
}

fn after_creation(field: &str, created: DateTime<Utc>, at: DateTime<Utc>) -> Result<()> {
    if at < created {
        return Err(Error::range(field, created, at));
    }
    Ok(())
}

impl Ticket {
    /// Checks instants: nothing before creation, transfers in time order.
    pub fn validate(&self) -> Result<()> {
        let c = self.created_at;
        if let Some(t) = self.first_response_at {
            after_creation("first_response_at", c, t)?;
        }
        if let Some(t) = self.resolved_at {
            after_creation("resolved_at", c, t)?;
        }
        if let Some(t) = self.closed_at {
            after_creation("closed_at", c, t)?;
        }
        for t in &self.reopened_at {
            after_creation("reopened_at", c, *t)?;
        }
        let mut prev = c;
        for t in &self.transfers {
            if t.at < prev {
                return Err(Error::range("transfers", prev, t.at));
            }
            prev = t.at;
        }
        for m in &self.agent_messages {
            after_creation("agent_messages", c, m.at)?;
        }
        for s in &self.status_history {
            after_creation("status_history", c, s.at)?;
        }
        for m in &self.customer_messages {
            after_creation("customer_messages", c, m.at)?;
        }
        Ok(())
    }

    /// The status history in time order (ties keep their order); without a recorded history,
    /// the current status entered at the last activity (see [`status_history`](Self::status_history)).
    pub fn statuses(&self) -> Vec<StatusChange> {
        if self.status_history.is_empty() {
            return self
                .status
                .iter()
                .map(|status| StatusChange {
                    at: self.last_activity_at(),
                    status: status.clone(),
                    id: None,
                })
                .collect();
        }
        let mut out = self.status_history.clone();
        out.sort_by_key(|s| s.at);
        out
    }

    /// The assignment instants and agents, in order (docs/semantics.md).
    pub fn assignments(&self) -> Vec<(DateTime<Utc>, u64)> {
        let mut out = Vec::with_capacity(self.transfers.len() + 1);
        match self.transfers.first() {
            None => {
                if let Some(a) = self.agent_id {
                    out.push((self.created_at, a));
                }
            }
            Some(first) => {
                if let Some(from) = first.from {
                    out.push((self.created_at, from));
                }
            }
        }
        out.extend(self.transfers.iter().map(|t| (t.at, t.to)));
        out
    }

    /// The assignee at an instant (the last assignment at or before it).
    pub fn assignee_at(&self, at: DateTime<Utc>) -> Option<u64> {
        let mut who = None;
        for (t, a) in self.assignments() {
            if t <= at {
                who = Some(a);
            } else {
                break;
            }
        }
        who
    }

    /// The latest instant the record mentions (stores index tickets by it for window reads).
    pub fn last_activity_at(&self) -> DateTime<Utc> {
        [
            self.first_response_at,
            self.resolved_at,
            self.closed_at,
            self.last_contacted_at,
        ]
        .into_iter()
        .flatten()
        .chain(self.reopened_at.iter().copied())
        .chain(self.transfers.iter().map(|tr| tr.at))
        .chain(self.agent_messages.iter().map(|m| m.at))
        .chain(self.status_history.iter().map(|s| s.at))
        .chain(self.customer_messages.iter().map(|m| m.at))
        .fold(self.created_at, DateTime::max)
    }

    /// True while neither resolved nor closed.
    pub fn is_open(&self) -> bool {
        self.resolved_at.is_none() && self.closed_at.is_none()
    }
}

string_enum! {
    /// How a call ended. Twilio's `no-answer` is accepted for `no_answer`.
    pub enum CallOutcome ("outcome") {
        /// The contact became a lead.
        Lead = "lead",
        /// The call completed.
        Completed = "completed",
        /// Nobody answered.
        NoAnswer = "no_answer" | "no-answer" | "noanswer",
        /// The line was busy.
        Busy = "busy",
        /// The call failed.
        Failed = "failed" | "canceled" | "cancelled",
    }
}

/// A call (the call-center dashboard).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    /// The company.
    #[serde(default)]
    pub tenant: Option<String>,
    /// The call.
    pub id: u64,
    /// The agent who made or took it.
    pub agent_id: u64,
    /// When it started.
    #[serde(alias = "call_date", alias = "start_time")]
    pub started_at: DateTime<Utc>,
    /// Duration in seconds (0 when not connected).
    #[serde(alias = "duration")]
    pub duration_seconds: i64,
    /// How it ended (the call-center dashboard's `status`).
    #[serde(alias = "status")]
    pub outcome: CallOutcome,
    /// The contact called.
    #[serde(default)]
    pub contact_id: Option<u64>,
    /// The campaign.
    #[serde(default)]
    pub campaign_id: Option<u64>,
}

impl Call {
    /// Checks the duration is not negative.
    pub fn validate(&self) -> Result<()> {
        if self.duration_seconds < 0 {
            return Err(Error::NegativeDuration {
                field: "duration_seconds".into(),
                value: self.duration_seconds.to_string(),
            });
        }
        Ok(())
    }
}

string_enum! {
    /// What an agent session interval records.
    pub enum SessionKind ("session kind") {
        /// Logged in.
        LoggedIn = "logged_in" | "login" | "logged",
        /// Working (the call-center dashboard's activity time).
        Working = "working" | "work" | "active",
        /// On a break.
        Break = "break" | "pause",
    }
}

/// An agent session interval; `end` = `None` while still open (clipped to `now`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentSession {
    /// The company.
    #[serde(default)]
    pub tenant: Option<String>,
    /// The agent.
    pub agent_id: u64,
    /// What the interval records.
    pub kind: SessionKind,
    /// Start.
    pub start: DateTime<Utc>,
    /// End, if over.
    #[serde(default)]
    pub end: Option<DateTime<Utc>>,
}

impl AgentSession {
    /// Checks end ≥ start.
    pub fn validate(&self) -> Result<()> {
        if let Some(end) = self.end {
            if end < self.start {
                return Err(Error::range("session", self.start, end));
            }
        }
        Ok(())
    }
}

string_enum! {
    /// A contact's business reason (the call-center dashboard); its Polish values are accepted.
    pub enum ContactReason ("business_reason") {
        /// Rescheduled (`przełożenie`).
        Rescheduled = "rescheduled" | "przełożenie" | "przelozenie",
        /// Rejected the offer (`odrzucenie`).
        Rejected = "rejected" | "odrzucenie",
        /// Became a lead.
        Lead = "lead",
        /// Did not answer (`brak_odpowiedzi`).
        NoAnswer = "no_answer" | "brak_odpowiedzi" | "no-answer",
    }
}

/// A contact assigned to an agent (the call-center dashboard).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// The company.
    #[serde(default)]
    pub tenant: Option<String>,
    /// The contact.
    pub id: u64,
    /// The assigned agent.
    #[serde(default, alias = "assigned_ankieter_id")]
    pub agent_id: Option<u64>,
    /// The business reason, if classified.
    #[serde(default, alias = "business_reason")]
    pub reason: Option<ContactReason>,
}

/// A campaign (the call-center dashboard); the host says which are active.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Campaign {
    /// The company.
    #[serde(default)]
    pub tenant: Option<String>,
    /// The campaign.
    pub id: u64,
    /// Active or not (the call-center dashboard's `is_active`).
    #[serde(alias = "is_active")]
    pub active: bool,
}
