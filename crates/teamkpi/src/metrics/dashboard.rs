//! The call-center dashboard's call-center dashboard: the 12 daily figures of one agent, with its JSON keys.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::metrics::records::{
    AgentSession, Call, CallOutcome, Campaign, Contact, ContactReason, SessionKind,
};
use crate::num::{round2, serde_number};
use crate::period::{local_midnight, DateRange};

/// The call-center dashboard's `stats` object. Times are seconds; the average is over connected calls (0 when
/// none), rounded to 2 places.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardStats {
    /// Calls with outcome `lead` today.
    pub leads_today: u64,
    /// All call attempts today.
    pub calls_total_today: u64,
    /// Calls with a duration above 0 today.
    pub calls_connected_today: u64,
    /// Calls with outcome `no_answer` today.
    pub calls_missed_today: u64,
    /// Sum of call durations today.
    pub total_call_time_today: i64,
    /// Mean duration of connected calls today.
    #[serde(with = "serde_number")]
    pub average_call_time_today: Decimal,
    /// Working-session time within today (open sessions clipped to `now`).
    pub total_work_time_today: i64,
    /// Logged-in time within today.
    pub total_logged_time_today: i64,
    /// Break time within today.
    pub total_break_time_today: i64,
    /// Contacts assigned to the agent.
    pub total_contacts: u64,
    /// Of those, contacts with reason `rescheduled` (`przełożenie`).
    pub total_rescheduled: u64,
    /// Campaigns marked active.
    pub active_campaigns: u64,
    /// `now` as local wall time, `YYYY-MM-DDTHH:MM:SS`.
    pub timestamp: String,
    /// The day reported.
    pub date: NaiveDate,
}

/// Who and when a dashboard is for.
#[derive(Debug, Clone)]
pub struct DashboardRequest {
    /// The company in scope.
    pub tenant: Option<String>,
    /// The agent (the call-center dashboard's ankieter).
    pub agent_id: u64,
    /// The local day (the call-center dashboard's optional `date`, default today).
    pub date: NaiveDate,
    /// The zone of the day.
    pub timezone: Tz,
    /// The current instant: open sessions end here.
    pub now: DateTime<Utc>,
}

fn check_tenant(expected: &Option<String>, got: &Option<String>) -> Result<()> {
    if expected != got {
        return Err(Error::TenantMismatch {
            expected: expected.clone(),
            got: got.clone(),
        });
    }
    Ok(())
}

/// Computes the 12 figures of the call-center dashboard for one agent and day.
///
/// ```
/// use teamkpi::metrics::{call_center_dashboard, Call, CallOutcome, DashboardRequest};
/// use chrono::{NaiveDate, TimeZone, Utc};
/// let at = Utc.with_ymd_and_hms(2025, 10, 10, 10, 0, 0).unwrap();
/// let calls = vec![
///     Call { tenant: None, id: 1, agent_id: 5, started_at: at, duration_seconds: 240,
///            outcome: CallOutcome::Lead, contact_id: None, campaign_id: None },
///     Call { tenant: None, id: 2, agent_id: 5, started_at: at, duration_seconds: 0,
///            outcome: "no-answer".parse().unwrap(), contact_id: None, campaign_id: None },
/// ];
/// let req = DashboardRequest { tenant: None, agent_id: 5,
///     date: NaiveDate::from_ymd_opt(2025, 10, 10).unwrap(), timezone: chrono_tz::Europe::Warsaw,
///     now: at + chrono::Duration::hours(4) };
/// let stats = call_center_dashboard(&req, &calls, &[], &[], &[]).unwrap();
/// assert_eq!((stats.leads_today, stats.calls_connected_today, stats.calls_missed_today), (1, 1, 1));
/// assert_eq!(stats.timestamp, "2025-10-10T16:00:00");
/// ```
pub fn call_center_dashboard(
    req: &DashboardRequest,
    calls: &[Call],
    sessions: &[AgentSession],
    contacts: &[Contact],
    campaigns: &[Campaign],
) -> Result<DashboardStats> {
    let (day_start, day_end) = DateRange::day(req.date).utc_bounds(req.timezone);
    let mut s = DashboardStats {
        leads_today: 0,
        calls_total_today: 0,
        calls_connected_today: 0,
        calls_missed_today: 0,
        total_call_time_today: 0,
        average_call_time_today: Decimal::ZERO,
        total_work_time_today: 0,
        total_logged_time_today: 0,
        total_break_time_today: 0,
        total_contacts: 0,
        total_rescheduled: 0,
        active_campaigns: 0,
        timestamp: req
            .now
            .with_timezone(&req.timezone)
            .format("%Y-%m-%dT%H:%M:%S")
            .to_string(),
        date: req.date,
    };
    CallFigures::check(&req.tenant, calls, sessions)?;
    let f = CallFigures::of_agent(req.agent_id, (day_start, day_end), req.now, calls, sessions);
    s.leads_today = f.leads;
    s.calls_total_today = f.calls_total;
    s.calls_connected_today = f.calls_connected;
    s.calls_missed_today = f.calls_missed;
    s.total_call_time_today = f.total_call_time;
    s.average_call_time_today = f.average_call_time.unwrap_or(Decimal::ZERO);
    s.total_work_time_today = f.total_work_time;
    s.total_logged_time_today = f.total_logged_time;
    s.total_break_time_today = f.total_break_time;
    for c in contacts {
        check_tenant(&req.tenant, &c.tenant)?;
        if c.agent_id == Some(req.agent_id) {
            s.total_contacts += 1;
            if c.reason == Some(ContactReason::Rescheduled) {
                s.total_rescheduled += 1;
            }
        }
    }
    for c in campaigns {
        check_tenant(&req.tenant, &c.tenant)?;
        if c.active {
            s.active_campaigns += 1;
        }
    }
    Ok(s)
}

/// One agent's call-center figures over a window: the calls started in it, and the time of the
/// sessions inside it (an open session counts up to `now`). The call-center dashboard's figures
/// are those of one day; KPIs read them per day, week or month.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallFigures {
    /// Calls with outcome `lead`.
    pub leads: u64,
    /// All call attempts.
    pub calls_total: u64,
    /// Calls with a duration above 0.
    pub calls_connected: u64,
    /// Calls with outcome `no_answer`.
    pub calls_missed: u64,
    /// Sum of call durations, seconds.
    pub total_call_time: i64,
    /// Mean duration of connected calls, seconds (2 places); `None` without one.
    #[serde(with = "crate::num::serde_number_opt")]
    pub average_call_time: Option<Decimal>,
    /// Seconds in working sessions.
    pub total_work_time: i64,
    /// Seconds logged in.
    pub total_logged_time: i64,
    /// Seconds on break.
    pub total_break_time: i64,
}

impl CallFigures {
    /// Checks that every record is of `tenant` and valid (what [`CallFigures::of_agent`] then
    /// counts without checking again).
    pub fn check(tenant: &Option<String>, calls: &[Call], sessions: &[AgentSession]) -> Result<()> {
        for c in calls {
            check_tenant(tenant, &c.tenant)?;
            c.validate()?;
        }
        for s in sessions {
            check_tenant(tenant, &s.tenant)?;
            s.validate()?;
        }
        Ok(())
    }

    /// The figures of `agent_id` over `[from, to)` from records [`CallFigures::check`] accepted.
    pub fn of_agent(
        agent_id: u64,
        (from, to): (DateTime<Utc>, DateTime<Utc>),
        now: DateTime<Utc>,
        calls: &[Call],
        sessions: &[AgentSession],
    ) -> Self {
        let mut f = CallFigures::default();
        let mut connected_seconds = 0i64;
        for c in calls {
            if c.agent_id != agent_id || c.started_at < from || c.started_at >= to {
                continue;
            }
            f.calls_total += 1;
            f.total_call_time = f.total_call_time.saturating_add(c.duration_seconds);
            if c.duration_seconds > 0 {
                f.calls_connected += 1;
                connected_seconds = connected_seconds.saturating_add(c.duration_seconds);
            }
            match c.outcome {
                CallOutcome::Lead => f.leads += 1,
                CallOutcome::NoAnswer => f.calls_missed += 1,
                _ => {}
            }
        }
        if f.calls_connected > 0 {
            f.average_call_time = Some(round2(
                Decimal::from(connected_seconds) / Decimal::from(f.calls_connected),
            ));
        }
        let clip_end = to.min(now);
        for sess in sessions {
            if sess.agent_id != agent_id {
                continue;
            }
            let end = sess.end.unwrap_or(now).min(clip_end);
            let start = sess.start.max(from);
            let secs = (end - start).num_seconds().max(0);
            let total = match sess.kind {
                SessionKind::Working => &mut f.total_work_time,
                SessionKind::LoggedIn => &mut f.total_logged_time,
                SessionKind::Break => &mut f.total_break_time,
            };
            *total = total.saturating_add(secs);
        }
        f
    }

    /// Whether nothing was counted (no call, no session time).
    pub fn is_empty(&self) -> bool {
        *self == CallFigures::default()
    }

    /// The value of a call-center metric of the catalogue (`leads`, `calls_total`, …); `None`
    /// for another name or an average without data.
    pub fn metric(&self, key: &str) -> Option<Decimal> {
        let n = |v: u64| Some(Decimal::from(v));
        let s = |v: i64| Some(Decimal::from(v));
        match key {
            "leads" => n(self.leads),
            "calls_total" => n(self.calls_total),
            "calls_connected" => n(self.calls_connected),
            "calls_missed" => n(self.calls_missed),
            "total_call_time" => s(self.total_call_time),
            "average_call_time" => self.average_call_time,
            "total_work_time" => s(self.total_work_time),
            "total_logged_time" => s(self.total_logged_time),
            "total_break_time" => s(self.total_break_time),
            _ => None,
        }
    }
}

/// The day's local midnight bounds, re-exported for hosts that query their own tables.
pub fn day_bounds(date: NaiveDate, timezone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let next = date.succ_opt().unwrap_or(date);
    (
        local_midnight(timezone, date),
        local_midnight(timezone, next),
    )
}
