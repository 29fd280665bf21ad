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
    let mut connected_seconds = 0i64;
    for c in calls {
        check_tenant(&req.tenant, &c.tenant)?;
        c.validate()?;
        if c.agent_id != req.agent_id || c.started_at < day_start || c.started_at >= day_end {
            continue;
        }
        s.calls_total_today += 1;
        s.total_call_time_today += c.duration_seconds;
        if c.duration_seconds > 0 {
            s.calls_connected_today += 1;
            connected_seconds += c.duration_seconds;
        }
        match c.outcome {
            CallOutcome::Lead => s.leads_today += 1,
            CallOutcome::NoAnswer => s.calls_missed_today += 1,
            _ => {}
        }
    }
    if s.calls_connected_today > 0 {
        s.average_call_time_today =
            round2(Decimal::from(connected_seconds) / Decimal::from(s.calls_connected_today));
    }
    let clip_end = day_end.min(req.now);
    for sess in sessions {
        check_tenant(&req.tenant, &sess.tenant)?;
        sess.validate()?;
        if sess.agent_id != req.agent_id {
            continue;
        }
        let end = sess.end.unwrap_or(req.now).min(clip_end);
        let start = sess.start.max(day_start);
        let secs = (end - start).num_seconds().max(0);
        match sess.kind {
            SessionKind::Working => s.total_work_time_today += secs,
            SessionKind::LoggedIn => s.total_logged_time_today += secs,
            SessionKind::Break => s.total_break_time_today += secs,
        }
    }
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

/// The day's local midnight bounds, re-exported for hosts that query their own tables.
pub fn day_bounds(date: NaiveDate, timezone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let next = date.succ_opt().unwrap_or(date);
    (
        local_midnight(timezone, date),
        local_midnight(timezone, next),
    )
}
