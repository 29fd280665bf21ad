//! SLA policies, timeline evaluation, breach scans and SLA analytics.
//!
//! A policy gives each priority targets for first response, next response and resolution, counted
//! in business time on a [`BusinessCalendar`] (24/7 UTC when none is given). Time spent in pause
//! statuses does not count. Rules (docs/semantics.md):
//! - A target is met when it stops (agent reply, resolution) at or before its due instant, and
//!   breached when it stops later or is still running after it. A reply exactly at the due
//!   instant is met.
//! - Next response: after the first agent reply, a customer message opens a cycle, the next agent
//!   reply (or the resolution) closes it; one cycle is open at a time; cycles are numbered from 1.
//! - Resolution runs from creation to resolution; a reopened ticket's clock resumes (the resolved
//!   time in between does not count).
//! - States: `met`, `breached` (wins over paused), `paused`, `at_risk` (business time used ≥ the
//!   threshold), `pending`. A priority the policy does not list has no SLA.
//! - Alert keys are `ticket:target:cycle:state`, stable across scans, so a job that runs every
//!   5 minutes and remembers the keys it alerted alerts each breach once.

use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

use crate::calendar::BusinessCalendar;
use crate::choice::string_enum;
use crate::error::{Error, Result};

string_enum! {
    /// What an SLA target measures.
    pub enum SlaTarget ("target") {
        /// Creation to the first agent reply.
        FirstResponse = "first_response" | "first_response_time" | "response",
        /// A customer message to the next agent reply.
        NextResponse = "next_response" | "next_response_time",
        /// Creation to resolution.
        Resolution = "resolution" | "resolution_time",
    }
}

string_enum! {
    /// The state of one SLA target.
    pub enum SlaState ("state") {
        /// Running, not yet at risk.
        Pending = "pending",
        /// Running, with business time used at or above the at-risk threshold.
        AtRisk = "at_risk" | "at-risk" | "warning",
        /// Stopped at or before its due instant.
        Met = "met",
        /// Stopped after its due instant, or still running after it.
        Breached = "breached",
        /// Not yet due and the clock is stopped by a pause status.
        Paused = "paused",
    }
}

/// Targets of one priority, in business seconds; `None` means no such target.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PriorityTargets {
    /// First response target.
    pub first_response: Option<i64>,
    /// Next response target.
    pub next_response: Option<i64>,
    /// Resolution target.
    pub resolution: Option<i64>,
}

impl PriorityTargets {
    fn get(&self, target: SlaTarget) -> Option<i64> {
        match target {
            SlaTarget::FirstResponse => self.first_response,
            SlaTarget::NextResponse => self.next_response,
            SlaTarget::Resolution => self.resolution,
        }
    }
}

/// When a running target counts as at risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AtRiskThreshold {
    /// When this many business seconds have been used.
    UsedSeconds(i64),
    /// When this many business seconds or fewer remain.
    RemainingSeconds(i64),
    /// When this fraction (0–1) of the target has been used.
    Fraction(#[serde(with = "crate::num::serde_number")] Decimal),
}

impl AtRiskThreshold {
    fn used_threshold(&self, target: i64) -> i64 {
        match *self {
            AtRiskThreshold::UsedSeconds(s) => s,
            AtRiskThreshold::RemainingSeconds(s) => target - s,
            AtRiskThreshold::Fraction(f) => (f * Decimal::from(target))
                .ceil()
                .to_i64()
                .unwrap_or(target),
        }
    }
}

/// An SLA policy as data (what JSON configuration and the bindings pass in).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaPolicySpec {
    /// The policy's name (used to group analytics).
    #[serde(default)]
    pub name: String,
    /// Priority label (e.g. `low`, `normal`, `high`, `urgent`) to targets.
    pub targets: BTreeMap<String, PriorityTargets>,
    /// The business calendar; `None` counts around the clock in UTC.
    #[serde(default)]
    pub calendar: Option<BusinessCalendar>,
    /// Statuses that stop the clock (e.g. `pending_customer`, `on_hold`).
    #[serde(default)]
    pub pause_statuses: BTreeSet<String>,
    /// When a running target is at risk; `None` never warns.
    #[serde(default)]
    pub at_risk: Option<AtRiskThreshold>,
}

/// A validated SLA policy.
///
/// ```
/// use teamkpi::{SlaPolicy, SlaPolicySpec, PriorityTargets, TicketTimeline, TimelineEvent,
///               TimelineEventKind, SlaState};
/// use chrono::{TimeZone, Utc};
/// let policy = SlaPolicy::new(SlaPolicySpec {
///     name: "standard".into(),
///     targets: [("high".to_string(), PriorityTargets {
///         first_response: Some(3600), next_response: None, resolution: Some(8 * 3600) })].into(),
///     ..SlaPolicySpec::default()
/// }).unwrap();
/// let created = Utc.with_ymd_and_hms(2025, 11, 3, 9, 0, 0).unwrap();
/// let ticket = TicketTimeline {
///     ticket_id: 7, priority: "high".into(), created_at: created,
///     events: vec![TimelineEvent { at: created + chrono::Duration::minutes(30),
///                                  kind: TimelineEventKind::AgentReplied }],
///     ..TicketTimeline::default()
/// };
/// let eval = policy.evaluate(&ticket, created + chrono::Duration::hours(10)).unwrap();
/// assert_eq!(eval.targets[0].state, SlaState::Met);       // first response in 30 min
/// assert_eq!(eval.targets[1].state, SlaState::Breached);  // unresolved after 10 h
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "SlaPolicySpec", into = "SlaPolicySpec")]
pub struct SlaPolicy {
    spec: SlaPolicySpec,
    calendar: BusinessCalendar,
}

impl TryFrom<SlaPolicySpec> for SlaPolicy {
    type Error = crate::error::Coded;
    fn try_from(spec: SlaPolicySpec) -> std::result::Result<Self, Self::Error> {
        SlaPolicy::new(spec).map_err(crate::error::Coded)
    }
}

impl From<SlaPolicy> for SlaPolicySpec {
    fn from(p: SlaPolicy) -> Self {
        p.spec
    }
}

/// One status change, reply, message or resolution on a ticket's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEvent {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What happened.
    #[serde(flatten)]
    pub kind: TimelineEventKind,
}

/// The kinds of timeline event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TimelineEventKind {
    /// The ticket's status changed (pause statuses stop the clock).
    StatusChanged {
        /// The new status.
        status: String,
    },
    /// An agent replied to the customer.
    #[serde(alias = "agent_message")]
    AgentReplied,
    /// The customer wrote.
    #[serde(alias = "customer_message")]
    CustomerReplied,
    /// The ticket was resolved.
    #[serde(alias = "closed")]
    Resolved,
    /// The ticket was reopened.
    Reopened,
}

/// One ticket's SLA-relevant history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketTimeline {
    /// The ticket.
    #[serde(alias = "id")]
    pub ticket_id: u64,
    /// The company.
    #[serde(default)]
    pub tenant: Option<String>,
    /// Priority label, a key of the policy's targets.
    pub priority: String,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// The assignee, for analytics.
    #[serde(default)]
    pub agent_id: Option<u64>,
    /// The team, for analytics.
    #[serde(default)]
    pub team: Option<String>,
    /// Events in time order, none before creation.
    #[serde(default)]
    pub events: Vec<TimelineEvent>,
}

impl TicketTimeline {
    /// A timeline reconstructed from a ticket snapshot: agent messages (and the first response)
    /// as agent replies, customer messages (which open next-response cycles), the status history
    /// (pause statuses stop the clocks; without a history, the current status from the last
    /// activity), resolution, reopenings and closing.
    ///
    /// ```
    /// use chrono::{Duration, TimeZone, Utc};
    /// use teamkpi::metrics::{StatusChange, Ticket};
    /// use teamkpi::{from_json, SlaPolicy, TicketTimeline};
    /// let policy: SlaPolicy = from_json(serde_json::json!({"name": "desk",
    ///     "pause_statuses": ["pending"], "targets": {"normal": {"resolution": 3600}}})).unwrap();
    /// let at = Utc.with_ymd_and_hms(2025, 11, 3, 9, 0, 0).unwrap();
    /// let status = |m, s: &str| StatusChange { at: at + Duration::minutes(m), status: s.into(),
    ///     id: None };
    /// let t = Ticket { id: 1, priority: Some("normal".into()), created_at: at,
    ///     status_history: vec![status(10, "pending"), status(40, "open")], ..Ticket::default() };
    /// let eval = policy.evaluate(&TicketTimeline::from_ticket(&t), at + Duration::hours(2)).unwrap();
    /// // 30 minutes on hold move the due instant from 10:00 to 10:30.
    /// assert_eq!(eval.targets[0].due_at, Some(at + Duration::minutes(90)));
    /// ```
    pub fn from_ticket(t: &crate::metrics::Ticket) -> TicketTimeline {
        let mut events = Vec::new();
        for m in &t.customer_messages {
            events.push(TimelineEvent {
                at: m.at,
                kind: TimelineEventKind::CustomerReplied,
            });
        }
        let mut replies: Vec<DateTime<Utc>> = t.agent_messages.iter().map(|m| m.at).collect();
        if let Some(fr) = t.first_response_at {
            if !replies.contains(&fr) {
                replies.push(fr);
            }
        }
        for at in replies {
            events.push(TimelineEvent {
                at,
                kind: TimelineEventKind::AgentReplied,
            });
        }
        let mut resolutions: Vec<DateTime<Utc>> = t.reopened_at.clone();
        resolutions.sort();
        for at in &resolutions {
            events.push(TimelineEvent {
                at: *at,
                kind: TimelineEventKind::Reopened,
            });
        }
        if let Some(at) = t.resolved_at.or(t.closed_at) {
            events.push(TimelineEvent {
                at,
                kind: TimelineEventKind::Resolved,
            });
        }
        // A status set at the instant of another event follows it (an agent replies, then sets
        // the ticket waiting on the customer): the stable sort keeps it last among equals.
        for s in t.statuses() {
            events.push(TimelineEvent {
                at: s.at,
                kind: TimelineEventKind::StatusChanged { status: s.status },
            });
        }
        // Reopenings before the final resolution imply earlier resolutions at unknown instants;
        // keep the order valid by placing events in time order.
        events.sort_by_key(|e| e.at);
        TicketTimeline {
            ticket_id: t.id,
            tenant: t.tenant.clone(),
            priority: t.priority.clone().unwrap_or_default(),
            created_at: t.created_at,
            agent_id: t.agent_id,
            team: t.team.clone(),
            events,
        }
    }
}

/// The evaluation of one target (one cycle for next response).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetEvaluation {
    /// Which target.
    pub target: SlaTarget,
    /// Cycle number, from 1 (always 1 for first response and resolution).
    pub cycle: u32,
    /// The state at `now`.
    pub state: SlaState,
    /// The target in business seconds.
    pub target_seconds: i64,
    /// When the clock started.
    pub started_at: DateTime<Utc>,
    /// When it stopped (reply or resolution), if it did.
    pub stopped_at: Option<DateTime<Utc>>,
    /// The due instant; `None` while paused before it could be known.
    pub due_at: Option<DateTime<Utc>>,
    /// Business seconds used up to the stop or `now`, pauses excluded.
    pub used_seconds: i64,
    /// Business seconds left (0 once used up).
    pub remaining_seconds: i64,
    /// Seconds past the due instant at the stop or `now`, when breached.
    pub late_seconds: Option<i64>,
}

/// A ticket's SLA evaluation at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaEvaluation {
    /// The ticket.
    pub ticket_id: u64,
    /// The company.
    pub tenant: Option<String>,
    /// The policy's name.
    pub policy: String,
    /// The ticket's priority.
    pub priority: String,
    /// The assignee.
    pub agent_id: Option<u64>,
    /// The team.
    pub team: Option<String>,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// True when the ticket is resolved at `now`.
    pub resolved: bool,
    /// True when the policy has targets for the ticket's priority.
    pub has_sla: bool,
    /// Targets in order: first response, next response cycles, resolution.
    pub targets: Vec<TargetEvaluation>,
}

impl SlaEvaluation {
    /// True when any target is breached.
    pub fn is_breached(&self) -> bool {
        self.targets.iter().any(|t| t.state == SlaState::Breached)
    }
}

/// A clock: business time counted from `start` except inside `pauses`, stopped at `stop`.
struct Clock<'a> {
    cal: &'a BusinessCalendar,
    start: i64,
    /// Sorted, non-overlapping pause intervals; `i64::MAX` end = still paused.
    pauses: &'a [(i64, i64)],
}

impl Clock<'_> {
    /// Running segments from `start`, in order; the last may end at `i64::MAX`.
    fn segments(&self) -> impl Iterator<Item = (i64, i64)> + '_ {
        let mut cursor = self.start;
        let mut pauses = self.pauses.iter().filter(move |p| p.1 > self.start);
        let mut done = false;
        std::iter::from_fn(move || loop {
            if done {
                return None;
            }
            match pauses.next() {
                Some(&(ps, pe)) => {
                    let seg = (cursor, ps.max(cursor));
                    cursor = pe.max(cursor);
                    if pe == i64::MAX {
                        done = true;
                    }
                    if seg.1 > seg.0 {
                        return Some(seg);
                    }
                }
                None => {
                    done = true;
                    return Some((cursor, i64::MAX));
                }
            }
        })
    }

    fn used_until(&self, until: i64) -> i64 {
        self.segments()
            .take_while(|s| s.0 < until)
            .map(|(a, b)| self.cal.between_secs(a, b.min(until)))
            .sum()
    }

    fn due(&self, target: i64) -> Result<Option<i64>> {
        let mut used = 0;
        for (a, b) in self.segments() {
            if b == i64::MAX {
                return self.cal.add_secs(a, target - used).map(Some);
            }
            let len = self.cal.between_secs(a, b);
            if used + len >= target {
                return self.cal.add_secs(a, target - used).map(Some);
            }
            used += len;
        }
        Ok(None)
    }
}

impl SlaPolicy {
    /// The spans (Unix seconds) a status history spends in the policy's pause statuses, merged
    /// and in order; `i64::MAX` ends the span of a status still held. Empty when the policy
    /// pauses on no status.
    pub(crate) fn status_pauses(
        &self,
        statuses: &[crate::metrics::StatusChange],
    ) -> Vec<(i64, i64)> {
        let mut out = Vec::new();
        if self.spec.pause_statuses.is_empty() {
            return out;
        }
        let mut since: Option<i64> = None;
        for s in statuses {
            let pauses = self.spec.pause_statuses.contains(&s.status);
            match (pauses, since) {
                (true, None) => since = Some(s.at.timestamp()),
                (false, Some(from)) => {
                    out.push((from, s.at.timestamp()));
                    since = None;
                }
                _ => {}
            }
        }
        if let Some(from) = since {
            out.push((from, i64::MAX));
        }
        merge_spans(out)
    }

    /// The instant `secs` business seconds after `start` on the policy's calendar, the clock
    /// stopped during `pauses` (from [`status_pauses`](Self::status_pauses)); `None` while a
    /// pause still held began before it falls due.
    pub(crate) fn due_after_pauses(
        &self,
        start: DateTime<Utc>,
        secs: i64,
        pauses: &[(i64, i64)],
    ) -> Result<Option<DateTime<Utc>>> {
        let clock = Clock {
            cal: &self.calendar,
            start: start.timestamp(),
            pauses,
        };
        Ok(clock.due(secs)?.map(instant))
    }
}

fn instant(t: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(t, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

impl SlaPolicy {
    /// Validates a policy: every target positive, the at-risk threshold sensible.
    pub fn new(spec: SlaPolicySpec) -> Result<Self> {
        for (priority, t) in &spec.targets {
            for (name, v) in [
                ("first_response", t.first_response),
                ("next_response", t.next_response),
                ("resolution", t.resolution),
            ] {
                if let Some(v) = v {
                    if v <= 0 {
                        return Err(Error::InvalidSlaTarget {
                            field: format!("{priority}.{name}"),
                            value: v,
                        });
                    }
                }
            }
        }
        match spec.at_risk {
            Some(AtRiskThreshold::Fraction(f)) if f <= Decimal::ZERO || f > Decimal::ONE => {
                return Err(Error::RateOutOfRange {
                    field: "at_risk.fraction".into(),
                    value: f.to_string(),
                })
            }
            Some(AtRiskThreshold::UsedSeconds(s)) | Some(AtRiskThreshold::RemainingSeconds(s))
                if s < 0 =>
            {
                return Err(Error::NegativeDuration {
                    field: "at_risk".into(),
                    value: s.to_string(),
                })
            }
            _ => {}
        }
        let calendar = match &spec.calendar {
            Some(c) => c.clone(),
            None => BusinessCalendar::always_open("UTC")?,
        };
        Ok(SlaPolicy { spec, calendar })
    }

    /// The policy's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The policy as data.
    pub fn spec(&self) -> &SlaPolicySpec {
        &self.spec
    }

    /// The calendar targets are counted on.
    pub fn calendar(&self) -> &BusinessCalendar {
        &self.calendar
    }

    /// Evaluates a ticket's timeline at `now`. Events after `now` are not yet known and ignored.
    pub fn evaluate(&self, ticket: &TicketTimeline, now: DateTime<Utc>) -> Result<SlaEvaluation> {
        // An evaluation before the ticket existed has no answer (it is not "pending").
        if now < ticket.created_at {
            return Err(Error::range(
                "now",
                ticket.created_at.to_rfc3339(),
                now.to_rfc3339(),
            ));
        }
        let created = ticket.created_at.timestamp();
        let now_s = now.timestamp();
        let mut prev = created;
        for (index, e) in ticket.events.iter().enumerate() {
            let at = e.at.timestamp();
            if at < prev {
                return Err(Error::EventsOutOfOrder {
                    index,
                    at: e.at.to_rfc3339(),
                    problem: if at < created {
                        "before the ticket's creation".into()
                    } else {
                        "earlier than the event before it".into()
                    },
                });
            }
            prev = at;
        }
        let mut eval = SlaEvaluation {
            ticket_id: ticket.ticket_id,
            tenant: ticket.tenant.clone(),
            policy: self.spec.name.clone(),
            priority: ticket.priority.clone(),
            agent_id: ticket.agent_id,
            team: ticket.team.clone(),
            created_at: ticket.created_at,
            resolved: false,
            has_sla: false,
            targets: Vec::new(),
        };
        let known: Vec<&TimelineEvent> = ticket
            .events
            .iter()
            .filter(|e| e.at.timestamp() <= now_s)
            .collect();
        // Status pauses and resolved stretches, from the events known at `now`.
        let mut status_pauses: Vec<(i64, i64)> = Vec::new();
        let mut resolved_spans: Vec<(i64, i64)> = Vec::new();
        let mut paused_since: Option<i64> = None;
        let mut resolved_since: Option<i64> = None;
        let mut first_reply: Option<i64> = None;
        let mut cycles: Vec<(i64, Option<i64>)> = Vec::new();
        for e in &known {
            let at = e.at.timestamp();
            match &e.kind {
                TimelineEventKind::StatusChanged { status } => {
                    let pauses = self.spec.pause_statuses.contains(status);
                    match (pauses, paused_since) {
                        (true, None) => paused_since = Some(at),
                        (false, Some(since)) => {
                            status_pauses.push((since, at));
                            paused_since = None;
                        }
                        _ => {}
                    }
                }
                TimelineEventKind::AgentReplied => {
                    if first_reply.is_none() {
                        first_reply = Some(at);
                    } else if let Some(last) = cycles.last_mut() {
                        if last.1.is_none() {
                            last.1 = Some(at);
                        }
                    }
                }
                TimelineEventKind::CustomerReplied => {
                    let open = cycles.last().is_some_and(|c| c.1.is_none());
                    if first_reply.is_some() && !open && resolved_since.is_none() {
                        cycles.push((at, None));
                    }
                }
                TimelineEventKind::Resolved => {
                    if resolved_since.is_none() {
                        resolved_since = Some(at);
                    }
                    if let Some(last) = cycles.last_mut() {
                        if last.1.is_none() {
                            last.1 = Some(at);
                        }
                    }
                }
                TimelineEventKind::Reopened => {
                    if let Some(since) = resolved_since.take() {
                        resolved_spans.push((since, at));
                    }
                }
            }
        }
        if let Some(since) = paused_since {
            status_pauses.push((since, i64::MAX));
        }
        eval.resolved = resolved_since.is_some();
        let Some(targets) = self.spec.targets.get(&ticket.priority) else {
            return Ok(eval);
        };
        eval.has_sla = true;
        let paused_now = paused_since.is_some();
        let mut resolution_pauses = status_pauses.clone();
        resolution_pauses.extend(resolved_spans.iter().copied());
        if let Some(since) = resolved_since {
            resolution_pauses.push((since, i64::MAX));
        }
        let resolution_pauses = merge_spans(resolution_pauses);

        if let Some(target) = targets.get(SlaTarget::FirstResponse) {
            eval.targets.push(self.judge(
                SlaTarget::FirstResponse,
                1,
                target,
                created,
                first_reply,
                &status_pauses,
                paused_now,
                now_s,
            )?);
        }
        if let Some(target) = targets.get(SlaTarget::NextResponse) {
            for (i, (start, stop)) in cycles.iter().enumerate() {
                eval.targets.push(self.judge(
                    SlaTarget::NextResponse,
                    u32::try_from(i + 1).unwrap_or(u32::MAX),
                    target,
                    *start,
                    *stop,
                    &status_pauses,
                    paused_now,
                    now_s,
                )?);
            }
        }
        if let Some(target) = targets.get(SlaTarget::Resolution) {
            eval.targets.push(self.judge(
                SlaTarget::Resolution,
                1,
                target,
                created,
                resolved_since,
                &resolution_pauses,
                paused_now,
                now_s,
            )?);
        }
        Ok(eval)
    }

    #[allow(clippy::too_many_arguments)]
    fn judge(
        &self,
        target: SlaTarget,
        cycle: u32,
        target_seconds: i64,
        start: i64,
        stop: Option<i64>,
        pauses: &[(i64, i64)],
        paused_now: bool,
        now: i64,
    ) -> Result<TargetEvaluation> {
        let clock = Clock {
            cal: &self.calendar,
            start,
            pauses,
        };
        let until = stop.unwrap_or(now);
        let used = clock.used_until(until);
        let due = clock.due(target_seconds)?;
        let (state, late) = match (stop, due) {
            (Some(p), Some(d)) if p > d => (SlaState::Breached, Some(p - d)),
            (Some(_), _) => (SlaState::Met, None),
            (None, Some(d)) if now > d => (SlaState::Breached, Some(now - d)),
            (None, _) if paused_now => (SlaState::Paused, None),
            (None, _) => {
                let at_risk = self
                    .spec
                    .at_risk
                    .is_some_and(|t| used >= t.used_threshold(target_seconds));
                if at_risk {
                    (SlaState::AtRisk, None)
                } else {
                    (SlaState::Pending, None)
                }
            }
        };
        Ok(TargetEvaluation {
            target,
            cycle,
            state,
            target_seconds,
            started_at: instant(start),
            stopped_at: stop.map(instant),
            due_at: due.map(instant),
            used_seconds: used,
            remaining_seconds: (target_seconds - used).max(0),
            late_seconds: late,
        })
    }

    /// Scans tickets at `now` for breaches and at-risk targets whose alert keys are not in
    /// `already_alerted`. A ticket whose timeline is invalid is reported in `rejected` and the
    /// scan goes on.
    pub fn scan<'a>(
        &self,
        tickets: impl IntoIterator<Item = &'a TicketTimeline>,
        now: DateTime<Utc>,
        already_alerted: &BTreeSet<String>,
    ) -> BreachScan {
        let mut scan = BreachScan::default();
        for ticket in tickets {
            let eval = match self.evaluate(ticket, now) {
                Ok(e) => e,
                Err(error) => {
                    scan.rejected.push(RejectedTicket {
                        ticket_id: ticket.ticket_id,
                        code: error.code().to_owned(),
                        reason: error.to_string(),
                    });
                    continue;
                }
            };
            for t in &eval.targets {
                let list = match t.state {
                    SlaState::Breached => &mut scan.breaches,
                    SlaState::AtRisk => &mut scan.at_risk,
                    _ => continue,
                };
                let key = alert_key(eval.ticket_id, t.target, t.cycle, t.state);
                if already_alerted.contains(&key) {
                    continue;
                }
                list.push(SlaAlert {
                    key,
                    ticket_id: eval.ticket_id,
                    target: t.target,
                    cycle: t.cycle,
                    state: t.state,
                    due_at: t.due_at,
                    late_seconds: t.late_seconds,
                    remaining_seconds: t.remaining_seconds,
                    agent_id: eval.agent_id,
                    team: eval.team.clone(),
                    priority: eval.priority.clone(),
                });
            }
        }
        let order = |a: &SlaAlert, b: &SlaAlert| {
            (a.ticket_id, a.target, a.cycle).cmp(&(b.ticket_id, b.target, b.cycle))
        };
        scan.breaches.sort_by(order);
        scan.at_risk.sort_by(order);
        scan
    }
}

fn merge_spans(mut spans: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    spans.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(spans.len());
    for (s, e) in spans {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// The stable alert key `ticket:target:cycle:state`.
pub fn alert_key(ticket_id: u64, target: SlaTarget, cycle: u32, state: SlaState) -> String {
    format!("{ticket_id}:{target}:{cycle}:{state}")
}

/// One alert of a breach scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaAlert {
    /// `ticket:target:cycle:state`.
    pub key: String,
    /// The ticket.
    pub ticket_id: u64,
    /// The target.
    pub target: SlaTarget,
    /// The cycle.
    pub cycle: u32,
    /// `breached` or `at_risk`.
    pub state: SlaState,
    /// The due instant.
    pub due_at: Option<DateTime<Utc>>,
    /// Seconds past due (breaches).
    pub late_seconds: Option<i64>,
    /// Business seconds left (at-risk alerts).
    pub remaining_seconds: i64,
    /// The assignee.
    pub agent_id: Option<u64>,
    /// The team.
    pub team: Option<String>,
    /// The priority.
    pub priority: String,
}

/// A ticket a scan could not evaluate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedTicket {
    /// The ticket.
    pub ticket_id: u64,
    /// The error code.
    pub code: String,
    /// Why.
    pub reason: String,
}

/// The result of a breach scan, ordered by ticket, target and cycle.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreachScan {
    /// New breaches.
    pub breaches: Vec<SlaAlert>,
    /// New at-risk warnings.
    pub at_risk: Vec<SlaAlert>,
    /// Tickets whose timelines were invalid.
    pub rejected: Vec<RejectedTicket>,
}

mod analytics;
pub use analytics::*;
