//! Results of applying events, and the batch rules: decode and validate every event first, refuse
//! the call naming each bad one, list the ones refused in context.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, EventIssue, Result};

use super::*;

/// What an applied event changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    /// The event id was seen before; nothing changed.
    pub duplicate: bool,
    /// The ticket's creation has not been seen yet; the event is held until it is.
    pub pending: bool,
    /// Agents and local days whose daily figures changed (the support desk recomputes AgentKPI for
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
pub(crate) fn check_instant(at: DateTime<Utc>) -> Result<()> {
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
pub(crate) fn validate_event(tenant: Option<&str>, e: &Event) -> Result<()> {
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
