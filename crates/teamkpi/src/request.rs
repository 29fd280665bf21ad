//! The options of each workflow as a surface passes them (the CLI's flags, Python's keywords,
//! Node's options object): one serde-decodable type per workflow that resolves into the core's
//! typed options. Every surface decodes into these and calls `resolve`, so the names, the
//! defaults and the errors are the same everywhere (docs/semantics.md, "Options").

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer};

use crate::calendar::BusinessCalendar;
use crate::error::{Error, Result};
use crate::live::LiveQuery;
use crate::metrics::analytics::{
    analytics, AnalyticsKind, AnalyticsOptions, AnalyticsResult, Snapshots, WindowSource,
};
use crate::metrics::{Bucketing, GroupBy, GroupKey, MetricsOptions, Ticket};
use crate::period::PeriodKind;
use crate::score::AchievementPolicy;
use crate::sla::SlaPolicy;
use crate::update::{UpdateRange, UpdateRequest};

/// Decodes an IANA zone name with the library's own check (`invalid_timezone`).
pub fn zone_opt<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<Tz>, D::Error> {
    let name = Option::<std::borrow::Cow<'de, str>>::deserialize(d)?;
    name.map(|n| crate::period::parse_timezone(&n))
        .transpose()
        .map_err(|e| serde::de::Error::custom(crate::error::Coded(e)))
}

/// `count` consecutive windows of `days` local days from `start` (the support automation's
/// weekly trends, or one window over a whole range).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Windows {
    /// First day of the first window.
    pub start: NaiveDate,
    /// Days per window (≥ 1).
    pub days: u32,
    /// Number of windows (≥ 1).
    pub count: u32,
}

/// The options of a ticket-metrics computation (`ticket_metrics`, `ticketMetrics`, the
/// aggregators and the streaming kernel).
///
/// ```
/// use teamkpi::request::MetricsSettings;
/// let s: MetricsSettings = serde_json::from_value(serde_json::json!({
///     "timezone": "Europe/Berlin", "period": "week", "group_by": "team"
/// })).unwrap();
/// let options = s.options().unwrap();
/// assert_eq!(options.timezone, chrono_tz::Europe::Berlin);
/// assert!(options.quantiles);
/// let both = serde_json::json!({"period": "week",
///                               "windows": {"start": "2025-11-03", "days": 7, "count": 2}});
/// let s: MetricsSettings = serde_json::from_value(both).unwrap();
/// assert_eq!(s.options().unwrap_err().code(), "invalid_argument");
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MetricsSettings {
    /// The tenant in scope; records of another tenant are rejected.
    pub tenant: Option<String>,
    /// The zone whose local days define periods (UTC when absent).
    #[serde(deserialize_with = "zone_opt")]
    pub timezone: Option<Tz>,
    /// Natural periods (`day` when neither this nor `windows` is given).
    pub period: Option<PeriodKind>,
    /// Windows instead of natural periods.
    pub windows: Option<Windows>,
    /// Agent (the default), team or tenant rows.
    pub group_by: Option<GroupBy>,
    /// A business calendar for business-second durations.
    pub calendar: Option<BusinessCalendar>,
    /// An SLA policy for SLA met / breached.
    pub sla: Option<SlaPolicy>,
    /// The instant the data is as of.
    pub as_of: Option<DateTime<Utc>>,
    /// Keep quantile sketches for median and p90 (on when absent).
    pub quantiles: Option<bool>,
}

impl MetricsSettings {
    /// The typed options; `period` with `windows` is `invalid_argument`.
    pub fn options(&self) -> Result<MetricsOptions> {
        let bucketing = match (self.period, self.windows) {
            (Some(_), Some(_)) => {
                return Err(Error::argument(
                    "windows",
                    "give period or windows, not both",
                ))
            }
            (_, Some(w)) => Bucketing::Windows {
                start: w.start,
                days: w.days,
                count: w.count,
            },
            (p, None) => Bucketing::Period(p.unwrap_or(PeriodKind::Day)),
        };
        Ok(MetricsOptions {
            tenant: self.tenant.clone(),
            timezone: self.timezone.unwrap_or(chrono_tz::UTC),
            bucketing,
            group_by: self.group_by.unwrap_or(GroupBy::Agent),
            calendar: self.calendar.clone(),
            sla: self.sla.clone(),
            as_of: self.as_of,
            quantiles: self.quantiles.unwrap_or(true),
        })
    }
}

/// The options of the support automation's analytics results (`analytics(result, tickets, …)`).
///
/// ```
/// use teamkpi::request::AnalyticsRequest;
/// use chrono::{TimeZone, Utc};
/// let now = Utc.with_ymd_and_hms(2025, 11, 3, 9, 0, 0).unwrap();
/// let r: AnalyticsRequest = serde_json::from_value(serde_json::json!({"days": 35})).unwrap();
/// let out = r.over_tickets("trends".parse().unwrap(), now, &[]).unwrap();
/// assert_eq!(serde_json::to_value(out).unwrap()["trends"].as_array().unwrap().len(), 5);
/// assert_eq!(AnalyticsRequest::default().days, 30);
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AnalyticsRequest {
    /// How many local days back, today included (30 by default).
    pub days: u32,
    /// One agent, or the team (`None`).
    pub agent_id: Option<u64>,
    /// The zone of the days (UTC when absent).
    #[serde(deserialize_with = "zone_opt")]
    pub timezone: Option<Tz>,
    /// SLA policy for SLA compliance.
    pub sla: Option<SlaPolicy>,
    /// The company in scope.
    pub tenant: Option<String>,
}

impl Default for AnalyticsRequest {
    fn default() -> Self {
        AnalyticsRequest {
            days: 30,
            agent_id: None,
            timezone: None,
            sla: None,
            tenant: None,
        }
    }
}

impl AnalyticsRequest {
    /// The scope of the computation at `now`.
    pub fn options(&self, now: DateTime<Utc>) -> AnalyticsOptions {
        let mut o = AnalyticsOptions::new(self.timezone.unwrap_or(chrono_tz::UTC), now, self.days);
        o.sla = self.sla.clone();
        o.tenant = self.tenant.clone();
        o
    }

    /// The `result` from any source (snapshots, live aggregates) in the scope `options`.
    pub fn run(
        &self,
        result: AnalyticsKind,
        source: &dyn WindowSource,
        options: &AnalyticsOptions,
    ) -> Result<AnalyticsResult> {
        analytics(result, source, options, self.agent_id)
    }

    /// The `result` at `now` over ticket snapshots.
    pub fn over_tickets(
        &self,
        result: AnalyticsKind,
        now: DateTime<Utc>,
        tickets: &[Ticket],
    ) -> Result<AnalyticsResult> {
        let o = self.options(now);
        self.run(result, &Snapshots::new(tickets, &o), &o)
    }
}

/// The arguments of `update_kpis` (the support desk's `--date`, `--days`, `--agent`).
///
/// ```
/// use teamkpi::request::UpdateOptions;
/// use chrono::{TimeZone, Utc};
/// let now = Utc.with_ymd_and_hms(2025, 11, 3, 9, 0, 0).unwrap();
/// let o: UpdateOptions =
///     serde_json::from_value(serde_json::json!({"days": 7, "cap": 120})).unwrap();
/// let stored = teamkpi::settings::CompanySettings::default();
/// let (run, _) = o.resolve(now, &stored).unwrap();
/// assert_eq!(run.range, teamkpi::update::UpdateRange::Days(7));
/// let both = serde_json::json!({"days": 7, "date": "2025-11-01"});
/// let o: UpdateOptions = serde_json::from_value(both).unwrap();
/// assert_eq!(o.resolve(now, &stored).unwrap_err().code(), "invalid_argument");
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct UpdateOptions {
    /// The company.
    pub tenant: Option<String>,
    /// One day (`--date`).
    pub date: Option<NaiveDate>,
    /// The N local days ending today (`--days`).
    pub days: Option<u32>,
    /// Only this agent (`--agent`).
    pub agent_id: Option<u64>,
    /// The zone of the days (the company settings' zone when absent).
    #[serde(deserialize_with = "zone_opt")]
    pub timezone: Option<Tz>,
    /// Cap, floor and zero-target rule of achievements (`cap`, `floor`, `zero_target`).
    #[serde(flatten)]
    pub policy: AchievementPolicy,
    /// A business calendar for business-second metrics computed from snapshots (the company
    /// settings' calendar when absent).
    pub calendar: Option<BusinessCalendar>,
    /// The SLA policy for SLA metrics computed from snapshots (the company settings' policy
    /// when absent).
    pub sla: Option<SlaPolicy>,
}

impl UpdateOptions {
    /// The run at `now`, and the metric options that snapshot sources compute with.
    /// `stored` are the company settings: their zone, SLA policy and calendar apply where the
    /// options name none.
    pub fn resolve(
        &self,
        now: DateTime<Utc>,
        stored: &crate::settings::CompanySettings,
    ) -> Result<(UpdateRequest, MetricsOptions)> {
        self.policy.validate()?;
        let timezone = match self.timezone {
            Some(z) => z,
            None => crate::parse_timezone(&stored.timezone)?,
        };
        let request = UpdateRequest {
            tenant: self.tenant.clone(),
            range: UpdateRange::from_options(self.date, self.days)?,
            agent_id: self.agent_id,
            now,
            timezone,
            policy: self.policy.clone(),
        };
        let mut metrics = MetricsOptions::daily(timezone);
        metrics.tenant = self.tenant.clone();
        metrics.calendar = self.calendar.clone().or_else(|| stored.calendar.clone());
        metrics.sla = self.sla.clone().or_else(|| stored.sla.clone());
        metrics.as_of = Some(now);
        Ok((request, metrics))
    }
}

/// A read of live rows (`LiveMetrics.rows`): per agent or team, one agent's or team's with
/// `agent_id` / `team`, as of `now` when given.
///
/// ```
/// use teamkpi::request::LiveRowsRequest;
/// let day = |d| chrono::NaiveDate::from_ymd_opt(2025, 11, d).unwrap();
/// let r: LiveRowsRequest =
///     serde_json::from_value(serde_json::json!({"period": "week", "team": "tier-1"})).unwrap();
/// assert_eq!(r.query(None, day(1), day(30)).unwrap().period, teamkpi::PeriodKind::Week);
/// let both = serde_json::json!({"agent_id": 7, "team": "tier-1"});
/// let r: LiveRowsRequest = serde_json::from_value(both).unwrap();
/// assert_eq!(r.query(None, day(1), day(30)).unwrap_err().code(), "invalid_argument");
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LiveRowsRequest {
    /// Day (the default), week or month rows.
    pub period: Option<PeriodKind>,
    /// Agent (the default) or team rows.
    pub group_by: Option<GroupBy>,
    /// One agent's rows.
    pub agent_id: Option<u64>,
    /// One team's rows.
    pub team: Option<String>,
    /// Open SLA targets past due at this instant count as breached.
    pub now: Option<DateTime<Utc>>,
}

impl LiveRowsRequest {
    /// The rows of `tenant` whose period starts in `[start, end]`; `agent_id` with `team` is
    /// `invalid_argument`.
    pub fn query(
        &self,
        tenant: Option<&str>,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<LiveQuery> {
        let group = match (self.agent_id, &self.team) {
            (Some(_), Some(_)) => {
                return Err(Error::argument(
                    "agent_id",
                    "give agent_id or team, not both",
                ))
            }
            (Some(a), None) => Some(GroupKey::Agent(Some(a))),
            (None, Some(t)) => Some(GroupKey::Team(Some(t.clone()))),
            (None, None) => None,
        };
        Ok(LiveQuery {
            tenant: tenant.map(str::to_owned),
            period: self.period.unwrap_or(PeriodKind::Day),
            group_by: self.group_by.unwrap_or(GroupBy::Agent),
            group,
            from: start,
            to: end,
        })
    }
}
