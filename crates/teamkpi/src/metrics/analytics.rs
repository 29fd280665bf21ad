//! The support automation's analytics results, with its JSON keys: performance, weekly trends, agent
//! comparison, workload distribution, performance metrics, performance trends and the SLA breaches
//! list (SLA analytics live in [`crate::sla::sla_analytics`]).
//!
//! Every result covers the last `days` local days up to `now` (today included) in the options'
//! zone. Rates are percents and times hours, rounded to 2 places for display; a figure with no
//! data is `null`, not 0.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::choice::string_enum;
use crate::error::Result;
use crate::metrics::aggregate::TicketAggregate;
use crate::metrics::batch::{
    Bucketing, GroupBy, GroupKey, MetricsOptions, TicketMetricsAggregator,
};
use crate::metrics::records::{Ticket, TicketKind};
use crate::num::{percent_of as pct, round2, serde_number_opt};
use crate::period::{last_n_days, today, Period, PeriodKind};
use crate::score::{performance_score, PerformanceInputs, PerformanceWeights};
use crate::sla::{BreachScan, SlaAlert, SlaPolicy};

/// The scope of an analytics call.
#[derive(Debug, Clone)]
pub struct AnalyticsOptions {
    /// The company in scope.
    pub tenant: Option<String>,
    /// The zone of the days.
    pub timezone: Tz,
    /// The current instant.
    pub now: DateTime<Utc>,
    /// How many local days back, today included (the support automation's `?days=30`).
    pub days: u32,
    /// SLA policy for SLA compliance (on snapshots).
    pub sla: Option<SlaPolicy>,
    /// Weights and horizon of the performance score.
    pub weights: PerformanceWeights,
}

impl AnalyticsOptions {
    /// The last `days` days up to `now` in `timezone`, no SLA, the support automation's weights.
    pub fn new(timezone: Tz, now: DateTime<Utc>, days: u32) -> Self {
        AnalyticsOptions {
            tenant: None,
            timezone,
            now,
            days,
            sla: None,
            weights: PerformanceWeights::default(),
        }
    }

    fn metrics(&self, bucketing: Bucketing, group_by: GroupBy) -> MetricsOptions {
        MetricsOptions {
            tenant: self.tenant.clone(),
            timezone: self.timezone,
            bucketing,
            group_by,
            calendar: None,
            sla: self.sla.clone(),
            as_of: Some(self.now),
            quantiles: false,
        }
    }

    fn aggregate(
        &self,
        tickets: &[Ticket],
        bucketing: Bucketing,
        group_by: GroupBy,
    ) -> Result<TicketMetricsAggregator> {
        // Strict: analytics shown to people fail on a bad record rather than leave it out.
        let mut agg = TicketMetricsAggregator::new(self.metrics(bucketing, group_by))?;
        for t in tickets.iter().filter(|t| t.kind == TicketKind::Ticket) {
            agg.add(t)?;
        }
        Ok(agg)
    }
}

/// Which groups a window total covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One agent (key `GroupKey::Agent(Some(id))`).
    Agent(u64),
    /// Every agent (keys `GroupKey::Agent(…)`).
    Agents,
    /// The whole tenant (key `GroupKey::Tenant`).
    Tenant,
}

impl Scope {
    fn of(agent: Option<u64>) -> Self {
        agent.map_or(Scope::Tenant, Scope::Agent)
    }

    fn key(agent: Option<u64>) -> GroupKey {
        match agent {
            Some(a) => GroupKey::Agent(Some(a)),
            None => GroupKey::Tenant,
        }
    }
}

/// The totals of a window of days per group.
pub type WindowTotals = BTreeMap<GroupKey, TicketAggregate>;

/// Where analytics read their figures: ticket snapshots ([`Snapshots`]) or a store's live day
/// rows ([`crate::live::LiveWindows`]). Both give the same numbers for the same activity.
pub trait WindowSource {
    /// For each window `[from, to]` of local days (inclusive), the totals of each group in
    /// `scope` with anything counted, as of the options' `now`.
    fn totals(&self, scope: Scope, windows: &[(NaiveDate, NaiveDate)])
        -> Result<Vec<WindowTotals>>;
    /// Open work per current assignee.
    fn workload(&self) -> Result<WorkloadDistribution>;
}

/// Analytics over ticket snapshots (of kind `ticket`; other kinds count only in the workload).
pub struct Snapshots<'a> {
    tickets: &'a [Ticket],
    options: &'a AnalyticsOptions,
}

impl<'a> Snapshots<'a> {
    /// The snapshots' analytics under `options`.
    pub fn new(tickets: &'a [Ticket], options: &'a AnalyticsOptions) -> Self {
        Snapshots { tickets, options }
    }
}

impl WindowSource for Snapshots<'_> {
    fn totals(
        &self,
        scope: Scope,
        windows: &[(NaiveDate, NaiveDate)],
    ) -> Result<Vec<WindowTotals>> {
        let group_by = match scope {
            Scope::Tenant => GroupBy::Tenant,
            _ => GroupBy::Agent,
        };
        let keep = |g: &GroupKey| match scope {
            Scope::Agent(a) => *g == GroupKey::Agent(Some(a)),
            _ => true,
        };
        // Consecutive windows of one length are one pass; anything else a pass per window.
        let (first, len) = match windows.first() {
            Some((f, t)) => (*f, (*t - *f).num_days() + 1),
            None => return Ok(Vec::new()),
        };
        let regular = windows.iter().enumerate().all(|(i, (f, t))| {
            (*t - *f).num_days() + 1 == len
                && *f == first + Duration::days(len * i64::try_from(i).unwrap_or(i64::MAX / 2))
        });
        let passes: Vec<(Bucketing, &[(NaiveDate, NaiveDate)])> = if regular {
            let days = u32::try_from(len)
                .map_err(|_| crate::error::Error::argument("window", "too long"))?;
            let count = u32::try_from(windows.len())
                .map_err(|_| crate::error::Error::argument("windows", "too many"))?;
            vec![(
                Bucketing::Windows {
                    start: first,
                    days,
                    count,
                },
                windows,
            )]
        } else {
            windows
                .iter()
                .map(|w| Ok((Bucketing::range(w.0, w.1)?, std::slice::from_ref(w))))
                .collect::<Result<_>>()?
        };
        let mut out = Vec::with_capacity(windows.len());
        for (bucketing, ws) in passes {
            let agg = self.options.aggregate(self.tickets, bucketing, group_by)?;
            for (from, _) in ws {
                out.push(
                    agg.state()
                        .iter()
                        .filter(|(g, start, ..)| *start == *from && keep(g))
                        .map(|(g, _, _, a)| (g.clone(), a.clone()))
                        .collect(),
                );
            }
        }
        Ok(out)
    }

    fn workload(&self) -> Result<WorkloadDistribution> {
        Ok(workload_distribution(
            self.tickets,
            self.options.tenant.as_deref(),
        ))
    }
}

/// The one window's totals.
fn total_of(
    source: &dyn WindowSource,
    scope: Scope,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<WindowTotals> {
    Ok(source
        .totals(scope, &[(from, to)])?
        .into_iter()
        .next()
        .unwrap_or_default())
}

fn hours(seconds: Option<Decimal>) -> Option<Decimal> {
    seconds.map(|s| round2(s / Decimal::from(3600)))
}

fn frac(part: u64, total: u64) -> Option<Decimal> {
    (total > 0).then(|| Decimal::from(part) / Decimal::from(total))
}

fn score_of(a: &TicketAggregate, weights: &PerformanceWeights) -> Result<Option<Decimal>> {
    let inputs = PerformanceInputs {
        resolution_rate: frac(a.assigned_resolved, a.tickets_assigned),
        avg_response_hours: a.first_response.mean().map(|s| s / Decimal::from(3600)),
        sla_compliance_rate: frac(a.sla_met, a.sla_met + a.sla_breached),
    };
    Ok(performance_score(&inputs, weights)?.map(round2))
}

/// The support automation's performance analytics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerformanceAnalytics {
    /// Tickets assigned in the window.
    pub tickets_handled: u64,
    /// Tickets resolved in the window.
    pub tickets_resolved: u64,
    /// Of tickets assigned in the window, percent resolved by `now`.
    #[serde(with = "serde_number_opt")]
    pub resolution_rate_percent: Option<Decimal>,
    /// Mean resolution time, hours.
    #[serde(with = "serde_number_opt")]
    pub avg_resolution_time_hours: Option<Decimal>,
    /// Mean first-response time, hours.
    #[serde(with = "serde_number_opt")]
    pub avg_response_time_hours: Option<Decimal>,
    /// SLA targets met, percent.
    #[serde(with = "serde_number_opt")]
    pub sla_compliance_rate_percent: Option<Decimal>,
}

impl PerformanceAnalytics {
    fn of(a: &TicketAggregate) -> Self {
        PerformanceAnalytics {
            tickets_handled: a.tickets_assigned,
            tickets_resolved: a.tickets_resolved,
            resolution_rate_percent: pct(a.assigned_resolved, a.tickets_assigned),
            avg_resolution_time_hours: hours(a.resolution.mean()),
            avg_response_time_hours: hours(a.first_response.mean()),
            sla_compliance_rate_percent: pct(a.sla_met, a.sla_met + a.sla_breached),
        }
    }
}

/// The support automation's `/dashboard/analytics/performance/`: one agent's figures, or the team's when
/// `agent` is `None`.
pub fn performance_analytics(
    tickets: &[Ticket],
    options: &AnalyticsOptions,
    agent: Option<u64>,
) -> Result<PerformanceAnalytics> {
    performance_of(&Snapshots::new(tickets, options), options, agent)
}

/// [`performance_analytics`] from any [`WindowSource`].
pub fn performance_of(
    source: &dyn WindowSource,
    options: &AnalyticsOptions,
    agent: Option<u64>,
) -> Result<PerformanceAnalytics> {
    let r = last_n_days(options.now, options.timezone, options.days)?;
    let totals = total_of(source, Scope::of(agent), r.start, r.end)?;
    let total = totals.get(&Scope::key(agent)).cloned().unwrap_or_default();
    Ok(PerformanceAnalytics::of(&total))
}

/// One week of the support automation's trends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeekTrend {
    /// 1-based week number within the range.
    pub week: u32,
    /// First day.
    pub week_start: NaiveDate,
    /// The day after the last (the support automation's sample: 2024-11-01 → 2024-11-08).
    pub week_end: NaiveDate,
    /// Tickets created.
    pub tickets_created: u64,
    /// Tickets resolved.
    pub tickets_resolved: u64,
    /// Of tickets assigned in the week, percent resolved by its end (or `now`).
    #[serde(with = "serde_number_opt")]
    pub resolution_rate: Option<Decimal>,
}

/// The support automation's `/dashboard/analytics/trends/` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyTrends {
    /// Consecutive 7-day windows anchored at the start of the range (docs/semantics.md).
    pub trends: Vec<WeekTrend>,
}

/// The support automation's weekly trends: 7-day windows from the first day of the range.
pub fn weekly_trends(
    tickets: &[Ticket],
    options: &AnalyticsOptions,
    agent: Option<u64>,
) -> Result<WeeklyTrends> {
    weekly_trends_of(&Snapshots::new(tickets, options), options, agent)
}

/// [`weekly_trends`] from any [`WindowSource`].
pub fn weekly_trends_of(
    source: &dyn WindowSource,
    options: &AnalyticsOptions,
    agent: Option<u64>,
) -> Result<WeeklyTrends> {
    let range = last_n_days(options.now, options.timezone, options.days)?;
    let count = options.days.div_ceil(7).max(1);
    let windows: Vec<(NaiveDate, NaiveDate)> = (0..count)
        .map(|i| {
            let start = range.start + Duration::days(i64::from(i) * 7);
            (start, start + Duration::days(6))
        })
        .collect();
    let key = Scope::key(agent);
    let totals = source.totals(Scope::of(agent), &windows)?;
    let trends = windows
        .iter()
        .zip(totals)
        .zip(1..)
        .map(|(((start, _), t), week)| {
            let a = t.get(&key).cloned().unwrap_or_default();
            WeekTrend {
                week,
                week_start: *start,
                week_end: *start + Duration::days(7),
                tickets_created: a.tickets_created,
                tickets_resolved: a.tickets_resolved,
                resolution_rate: pct(a.assigned_resolved, a.tickets_assigned),
            }
        })
        .collect();
    Ok(WeeklyTrends { trends })
}

/// One agent in the comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentComparisonRow {
    /// 1-based rank by performance score (agents without a score last, then by id).
    pub rank: u32,
    /// The agent.
    pub agent_id: u64,
    /// The performance figures.
    #[serde(flatten)]
    pub performance: PerformanceAnalytics,
    /// The support automation's performance score, 0–100.
    #[serde(with = "serde_number_opt")]
    pub performance_score: Option<Decimal>,
}

/// The support automation's `/dashboard/analytics/comparison/` (admin only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentComparison {
    /// Agents ranked.
    pub agents: Vec<AgentComparisonRow>,
}

/// Ranks every agent with activity in the window by performance score.
pub fn agent_comparison(tickets: &[Ticket], options: &AnalyticsOptions) -> Result<AgentComparison> {
    agent_comparison_of(&Snapshots::new(tickets, options), options)
}

/// [`agent_comparison`] from any [`WindowSource`].
pub fn agent_comparison_of(
    source: &dyn WindowSource,
    options: &AnalyticsOptions,
) -> Result<AgentComparison> {
    let r = last_n_days(options.now, options.timezone, options.days)?;
    let mut rows = Vec::new();
    for (g, a) in total_of(source, Scope::Agents, r.start, r.end)? {
        if let GroupKey::Agent(Some(agent_id)) = g {
            rows.push(AgentComparisonRow {
                rank: 0,
                agent_id,
                performance: PerformanceAnalytics::of(&a),
                performance_score: score_of(&a, &options.weights)?,
            });
        }
    }
    rows.sort_by(|x, y| {
        y.performance_score
            .is_some()
            .cmp(&x.performance_score.is_some())
            .then(y.performance_score.cmp(&x.performance_score))
            .then(x.agent_id.cmp(&y.agent_id))
    });
    for (i, r) in rows.iter_mut().enumerate() {
        r.rank = u32::try_from(i + 1).unwrap_or(u32::MAX);
    }
    Ok(AgentComparison { agents: rows })
}

/// One agent's open work (the support automation's workload tracker).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentWorkload {
    /// The agent.
    pub agent_id: u64,
    /// Open tickets.
    pub open_tickets: u64,
    /// Open disputes.
    pub open_disputes: u64,
    /// Open orders.
    pub open_orders: u64,
    /// Open CRM clients.
    pub open_clients: u64,
    /// All of them.
    pub total_open: u64,
}

/// The support automation's `/dashboard/analytics/workload/` (admin only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadDistribution {
    /// Per agent, by id.
    pub agents: Vec<AgentWorkload>,
    /// Open items assigned to nobody.
    pub unassigned_open: u64,
    /// All open items.
    pub total_open: u64,
}

/// Open items (neither resolved nor closed) per current assignee and kind.
pub fn workload_distribution(tickets: &[Ticket], tenant: Option<&str>) -> WorkloadDistribution {
    WorkloadDistribution::from_counts(
        tickets
            .iter()
            .filter(|t| t.tenant.as_deref() == tenant && t.is_open())
            .map(|t| (t.agent_id, t.kind, 1)),
    )
}

impl WorkloadDistribution {
    /// The distribution of open items counted per `(current assignee, kind, count)`.
    pub fn from_counts(counts: impl IntoIterator<Item = (Option<u64>, TicketKind, u64)>) -> Self {
        let mut per: BTreeMap<u64, AgentWorkload> = BTreeMap::new();
        let mut unassigned = 0;
        let mut total = 0;
        for (agent, kind, n) in counts {
            total += n;
            let Some(agent_id) = agent else {
                unassigned += n;
                continue;
            };
            let w = per.entry(agent_id).or_insert(AgentWorkload {
                agent_id,
                open_tickets: 0,
                open_disputes: 0,
                open_orders: 0,
                open_clients: 0,
                total_open: 0,
            });
            match kind {
                TicketKind::Ticket => w.open_tickets += n,
                TicketKind::Dispute => w.open_disputes += n,
                TicketKind::Order => w.open_orders += n,
                TicketKind::Client => w.open_clients += n,
            }
            w.total_open += n;
        }
        WorkloadDistribution {
            agents: per.into_values().collect(),
            unassigned_open: unassigned,
            total_open: total,
        }
    }
}

/// The support automation's `/dashboard/performance/metrics/` for one agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerformanceMetrics {
    /// The support automation's performance score, 0–100.
    #[serde(with = "serde_number_opt")]
    pub performance_score: Option<Decimal>,
    /// Tickets assigned in the window.
    pub tickets_handled: u64,
    /// Tickets resolved in the window.
    pub tickets_resolved: u64,
    /// Percent of handled tickets resolved.
    #[serde(with = "serde_number_opt")]
    pub resolution_rate: Option<Decimal>,
    /// Mean first-response time, hours.
    #[serde(with = "serde_number_opt")]
    pub avg_response_time_hours: Option<Decimal>,
    /// Mean resolution time, hours.
    #[serde(with = "serde_number_opt")]
    pub avg_resolution_time_hours: Option<Decimal>,
    /// SLA targets met, percent.
    #[serde(with = "serde_number_opt")]
    pub sla_compliance_rate: Option<Decimal>,
    /// Resolutions today (local).
    pub tickets_resolved_today: u64,
    /// Resolutions this ISO week.
    pub tickets_resolved_this_week: u64,
    /// Resolutions this month.
    pub tickets_resolved_this_month: u64,
}

/// One agent's performance metrics over the window, with today / week / month counters.
pub fn performance_metrics(
    tickets: &[Ticket],
    options: &AnalyticsOptions,
    agent: u64,
) -> Result<PerformanceMetrics> {
    performance_metrics_of(&Snapshots::new(tickets, options), options, agent)
}

/// [`performance_metrics`] from any [`WindowSource`].
pub fn performance_metrics_of(
    source: &dyn WindowSource,
    options: &AnalyticsOptions,
    agent: u64,
) -> Result<PerformanceMetrics> {
    let key = GroupKey::Agent(Some(agent));
    let r = last_n_days(options.now, options.timezone, options.days)?;
    let a = total_of(source, Scope::Agent(agent), r.start, r.end)?
        .remove(&key)
        .unwrap_or_default();
    let p = PerformanceAnalytics::of(&a);
    let day = today(options.now, options.timezone);
    let resolved_in = |kind: PeriodKind| -> Result<u64> {
        let period = Period::containing(kind, day);
        Ok(
            total_of(source, Scope::Agent(agent), period.start, period.end)?
                .get(&key)
                .map_or(0, |a| a.tickets_resolved),
        )
    };
    Ok(PerformanceMetrics {
        performance_score: score_of(&a, &options.weights)?,
        tickets_handled: p.tickets_handled,
        tickets_resolved: p.tickets_resolved,
        resolution_rate: p.resolution_rate_percent,
        avg_response_time_hours: p.avg_response_time_hours,
        avg_resolution_time_hours: p.avg_resolution_time_hours,
        sla_compliance_rate: p.sla_compliance_rate_percent,
        tickets_resolved_today: resolved_in(PeriodKind::Day)?,
        tickets_resolved_this_week: resolved_in(PeriodKind::Week)?,
        tickets_resolved_this_month: resolved_in(PeriodKind::Month)?,
    })
}

/// One day of performance trends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayTrend {
    /// The day.
    pub date: NaiveDate,
    /// Tickets assigned that day.
    pub tickets_handled: u64,
    /// Tickets resolved that day.
    pub tickets_resolved: u64,
    /// Percent of the day's assigned tickets resolved by its end (or `now`).
    #[serde(with = "serde_number_opt")]
    pub resolution_rate: Option<Decimal>,
    /// Mean first-response time of the day's responses, hours.
    #[serde(with = "serde_number_opt")]
    pub avg_response_time_hours: Option<Decimal>,
    /// Mean resolution time of the day's resolutions, hours.
    #[serde(with = "serde_number_opt")]
    pub avg_resolution_time_hours: Option<Decimal>,
    /// The day's performance score.
    #[serde(with = "serde_number_opt")]
    pub performance_score: Option<Decimal>,
}

/// The support automation's `/dashboard/performance/trends/` (the automation gives no shape; this is teamkpi's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerformanceTrends {
    /// Every day of the window, oldest first (days without data have zeros and nulls).
    pub trends: Vec<DayTrend>,
}

/// Daily performance over the window for one agent, or the team when `agent` is `None`.
pub fn performance_trends(
    tickets: &[Ticket],
    options: &AnalyticsOptions,
    agent: Option<u64>,
) -> Result<PerformanceTrends> {
    performance_trends_of(&Snapshots::new(tickets, options), options, agent)
}

/// [`performance_trends`] from any [`WindowSource`].
pub fn performance_trends_of(
    source: &dyn WindowSource,
    options: &AnalyticsOptions,
    agent: Option<u64>,
) -> Result<PerformanceTrends> {
    let range = last_n_days(options.now, options.timezone, options.days)?;
    let key = Scope::key(agent);
    let days: Vec<NaiveDate> = range.days().collect();
    let windows: Vec<(NaiveDate, NaiveDate)> = days.iter().map(|d| (*d, *d)).collect();
    let totals = source.totals(Scope::of(agent), &windows)?;
    let mut trends = Vec::new();
    for (date, t) in days.into_iter().zip(totals) {
        let a = t.get(&key).cloned().unwrap_or_default();
        trends.push(DayTrend {
            date,
            tickets_handled: a.tickets_assigned,
            tickets_resolved: a.tickets_resolved,
            resolution_rate: pct(a.assigned_resolved, a.tickets_assigned),
            avg_response_time_hours: hours(a.first_response.mean()),
            avg_resolution_time_hours: hours(a.resolution.mean()),
            performance_score: score_of(&a, &options.weights)?,
        });
    }
    Ok(PerformanceTrends { trends })
}

/// The support automation's `/dashboard/sla/breaches/` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaBreachList {
    /// Active breaches.
    pub breaches: Vec<SlaAlert>,
    /// How many.
    pub count: usize,
}

/// The breaches of a scan, optionally only an agent's (an agent sees only its own).
pub fn sla_breach_list(scan: &BreachScan, agent: Option<u64>) -> SlaBreachList {
    let breaches: Vec<SlaAlert> = scan
        .breaches
        .iter()
        .filter(|b| agent.is_none() || b.agent_id == agent)
        .cloned()
        .collect();
    SlaBreachList {
        count: breaches.len(),
        breaches,
    }
}

string_enum! {
    /// The analytics results by name: the names hosts pass (`"performance"`, `"trends"`, …).
    pub enum AnalyticsKind ("result") {
        /// [`performance_of`].
        Performance = "performance",
        /// [`weekly_trends_of`].
        Trends = "trends",
        /// [`agent_comparison_of`] (all agents; the agent filter does not apply).
        Comparison = "comparison",
        /// The open backlog per assignee ([`WindowSource::workload`]).
        Workload = "workload",
        /// [`performance_metrics_of`] (needs an agent).
        PerformanceMetrics = "performance_metrics",
        /// [`performance_trends_of`].
        PerformanceTrends = "performance_trends",
    }
}

/// One analytics result, serialised in its own shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum AnalyticsResult {
    /// See [`PerformanceAnalytics`].
    Performance(PerformanceAnalytics),
    /// See [`WeeklyTrends`].
    Trends(WeeklyTrends),
    /// See [`AgentComparison`].
    Comparison(AgentComparison),
    /// See [`WorkloadDistribution`].
    Workload(WorkloadDistribution),
    /// See [`PerformanceMetrics`].
    PerformanceMetrics(PerformanceMetrics),
    /// See [`PerformanceTrends`].
    PerformanceTrends(PerformanceTrends),
}

/// The analytics result `kind` for one agent or (`None`) the team, from any source.
///
/// ```
/// use teamkpi::metrics::analytics::{analytics, AnalyticsOptions, Snapshots};
/// use chrono::{TimeZone, Utc};
/// let now = Utc.with_ymd_and_hms(2025, 11, 3, 9, 0, 0).unwrap();
/// let options = AnalyticsOptions::new(chrono_tz::UTC, now, 30);
/// let result = analytics("trends".parse().unwrap(), &Snapshots::new(&[], &options), &options, None)
///     .unwrap();
/// assert_eq!(serde_json::to_value(&result).unwrap()["trends"].as_array().unwrap().len(), 5);
/// assert_eq!("nope".parse::<teamkpi::metrics::analytics::AnalyticsKind>().unwrap_err().code(),
///            "invalid_choice");
/// ```
pub fn analytics(
    kind: AnalyticsKind,
    source: &dyn WindowSource,
    options: &AnalyticsOptions,
    agent: Option<u64>,
) -> Result<AnalyticsResult> {
    Ok(match kind {
        AnalyticsKind::Performance => {
            AnalyticsResult::Performance(performance_of(source, options, agent)?)
        }
        AnalyticsKind::Trends => AnalyticsResult::Trends(weekly_trends_of(source, options, agent)?),
        AnalyticsKind::Comparison => {
            AnalyticsResult::Comparison(agent_comparison_of(source, options)?)
        }
        AnalyticsKind::Workload => AnalyticsResult::Workload(source.workload()?),
        AnalyticsKind::PerformanceMetrics => {
            let agent = agent.ok_or_else(|| {
                crate::error::Error::argument("agent_id", "required for this result")
            })?;
            AnalyticsResult::PerformanceMetrics(performance_metrics_of(source, options, agent)?)
        }
        AnalyticsKind::PerformanceTrends => {
            AnalyticsResult::PerformanceTrends(performance_trends_of(source, options, agent)?)
        }
    })
}
