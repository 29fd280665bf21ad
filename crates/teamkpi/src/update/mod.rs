//! `update_kpis`: recompute measurements for active assignments over a date, the last N days or
//! one agent (the support desk's `--date`, `--days`, `--agent`), against the store traits.
//!
//! Rules (docs/semantics.md): no option means today; `--days N` is the N local days ending today; a weekly
//! or monthly KPI touched by the range is recomputed for its whole natural period and stored with
//! its full bounds and a `complete` flag (false while the period is not over). A KPI whose input
//! has no data in the period is skipped, not stored as 0; manual KPIs use the values managers
//! recorded, external KPIs the host's provider; neither is a failure. One failing KPI never stops
//! the others (the KPI tables' weekly job).

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::formula::Formula;
use crate::kpi::{ExternalValueProvider, KpiAssignment, KpiDefinition, KpiSource, Measurement};
use crate::metrics::{
    AgentSession, Bucketing, Call, CallFigures, GroupBy, GroupKey, MetricCatalog, MetricsOptions,
    Ticket, TicketAggregate, TicketMetrics, TicketMetricsAggregator, TicketMetricsState,
};
use crate::num::round2;
use crate::period::{last_n_days, today, DateRange, Period, PeriodKind};

mod range;
use crate::score::{achievement, overall_score, AchievementPolicy, WeightedAchievement};
use crate::store::{AssignmentFilter, KpiStore};
pub use range::{measure_range, RangeMeasurement, RangeRequest};

/// Which days to recompute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateRange {
    /// Today (no option).
    Today,
    /// The N local days ending today, today included (`--days N`).
    Days(u32),
    /// One day (`--date YYYY-MM-DD`).
    Date(NaiveDate),
}

impl UpdateRange {
    /// The range a surface's options name: `date` (one day), `days` (the N days ending today),
    /// neither (today); both is `invalid_argument`. Every surface (the CLI, Python, Node)
    /// resolves its options here.
    ///
    /// ```
    /// use teamkpi::update::UpdateRange;
    /// assert_eq!(UpdateRange::from_options(None, Some(7)).unwrap(), UpdateRange::Days(7));
    /// assert_eq!(UpdateRange::from_options(None, None).unwrap(), UpdateRange::Today);
    /// let day = chrono::NaiveDate::from_ymd_opt(2025, 11, 3);
    /// assert_eq!(UpdateRange::from_options(day, Some(7)).unwrap_err().code(), "invalid_argument");
    /// ```
    pub fn from_options(date: Option<NaiveDate>, days: Option<u32>) -> Result<Self> {
        match (date, days) {
            (Some(_), Some(_)) => Err(Error::argument("date", "give date or days, not both")),
            (Some(d), None) => Ok(UpdateRange::Date(d)),
            (None, Some(n)) => Ok(UpdateRange::Days(n)),
            (None, None) => Ok(UpdateRange::Today),
        }
    }
}

/// One `update_kpis` run.
#[derive(Debug, Clone)]
pub struct UpdateRequest {
    /// The company.
    pub tenant: Option<String>,
    /// Which days.
    pub range: UpdateRange,
    /// Only this agent (`--agent ID`).
    pub agent_id: Option<u64>,
    /// The current instant.
    pub now: DateTime<Utc>,
    /// The zone of the days.
    pub timezone: Tz,
    /// Cap, floor and zero-target rule of achievements.
    pub policy: AchievementPolicy,
}

impl UpdateRequest {
    /// The local dates the run covers.
    pub fn dates(&self) -> Result<DateRange> {
        match self.range {
            UpdateRange::Today => Ok(DateRange::day(today(self.now, self.timezone))),
            UpdateRange::Days(n) => last_n_days(self.now, self.timezone, n),
            UpdateRange::Date(d) => Ok(DateRange::day(d)),
        }
    }
}

/// Metric values per agent, for natural periods (`update_kpis`) and requested ranges of days
/// ([`measure_range`]).
pub trait MetricSource {
    /// The agent's figures for the period; `None` when the agent had no activity in it.
    fn metrics(&self, agent_id: u64, period: &Period) -> Result<Option<TicketMetrics>>;
    /// The agent's figures over the local days of `range`, counted as one window (a ticket
    /// assigned on several of its days counts once); `None` when the agent had no activity in
    /// it.
    fn range_metrics(&self, agent_id: u64, range: &DateRange) -> Result<Option<TicketMetrics>>;
}

impl MetricSource for Engine {
    fn metrics(&self, agent_id: u64, period: &Period) -> Result<Option<TicketMetrics>> {
        Ok(self.agent_metrics(Some(agent_id), period))
    }

    /// From the tickets the engine holds: a range reaching before what it evicted cannot be
    /// counted whole (`invalid_argument`).
    fn range_metrics(&self, agent_id: u64, range: &DateRange) -> Result<Option<TicketMetrics>> {
        let options = self.options();
        if let Some(w) = self.watermark() {
            if range.utc_bounds(options.timezone).0 < w {
                return Err(Error::argument(
                    "range",
                    format!("the engine evicted tickets before {w}: measure a range after it"),
                ));
            }
        }
        let metrics = options.metrics_by(PeriodKind::Day, GroupBy::Agent);
        SnapshotMetrics::for_range(&self.snapshots(), &metrics, *range)?
            .range_metrics(agent_id, range)
    }
}

/// A [`MetricSource`] over ticket snapshots (e.g. read from the host's tables), computed once
/// per period kind ([`new`](Self::new)) or for one requested range ([`for_range`](Self::for_range)).
#[derive(Debug, Clone)]
pub struct SnapshotMetrics {
    states: BTreeMap<PeriodKind, TicketMetricsState>,
    range: Option<(DateRange, TicketMetricsState)>,
}

impl SnapshotMetrics {
    /// Computes daily, weekly and monthly agent figures from `tickets`; `options` gives the
    /// zone, tenant, calendar and SLA (its bucketing and grouping are replaced).
    pub fn new(tickets: &[Ticket], options: &MetricsOptions) -> Result<Self> {
        let mut states = BTreeMap::new();
        for kind in [PeriodKind::Day, PeriodKind::Week, PeriodKind::Month] {
            let mut o = options.clone();
            o.bucketing = Bucketing::Period(kind);
            o.group_by = GroupBy::Agent;
            let mut agg = TicketMetricsAggregator::new(o)?;
            for t in tickets {
                agg.add(t)?;
            }
            states.insert(kind, agg.into_state());
        }
        Ok(SnapshotMetrics {
            states,
            range: None,
        })
    }

    /// Computes agent figures over the one window `range` from `tickets` (for
    /// [`measure_range`]); it has no natural-period figures.
    pub fn for_range(
        tickets: &[Ticket],
        options: &MetricsOptions,
        range: DateRange,
    ) -> Result<Self> {
        let mut o = options.clone();
        o.bucketing = Bucketing::range(range.start, range.end)?;
        o.group_by = GroupBy::Agent;
        let mut agg = TicketMetricsAggregator::new(o)?;
        for t in tickets {
            agg.add(t)?;
        }
        Ok(SnapshotMetrics {
            states: BTreeMap::new(),
            range: Some((range, agg.into_state())),
        })
    }
}

impl MetricSource for SnapshotMetrics {
    fn metrics(&self, agent_id: u64, period: &Period) -> Result<Option<TicketMetrics>> {
        let key = GroupKey::Agent(Some(agent_id));
        Ok(self
            .states
            .get(&period.kind)
            .and_then(|s| s.get(&key, period.start))
            .filter(|a| !a.is_empty())
            .map(|a| TicketMetrics::from_aggregate(&key, period.start, period.end, a)))
    }

    fn range_metrics(&self, agent_id: u64, range: &DateRange) -> Result<Option<TicketMetrics>> {
        let Some((computed, state)) = self.range.as_ref().filter(|(r, _)| r == range) else {
            return Err(Error::argument(
                "range",
                format!(
                    "these figures were not computed for {} to {} (SnapshotMetrics::for_range)",
                    range.start, range.end
                ),
            ));
        };
        let key = GroupKey::Agent(Some(agent_id));
        Ok(state
            .get(&key, computed.start)
            .filter(|a| !a.is_empty())
            .map(|a| TicketMetrics::from_aggregate(&key, computed.start, computed.end, a)))
    }
}

/// A [`MetricSource`] that adds each agent's call-center figures ([`CallFigures`]: leads,
/// calls, call time, work, logged and break time) to another source's rows, so KPIs and formulas
/// on `calls_connected`, `total_work_time`… have data. An agent with calls or sessions but no
/// tickets in a period gets a row with zero ticket figures.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use teamkpi::metrics::{AgentSession, Call, CallOutcome, SessionKind};
/// use teamkpi::update::{MetricSource, SnapshotMetrics, WithCallFigures};
/// use teamkpi::{Period, PeriodKind};
/// let at = Utc.with_ymd_and_hms(2025, 11, 10, 9, 0, 0).unwrap();
/// let call = |id, secs, outcome| Call {
///     tenant: None, id, agent_id: 7, started_at: at, duration_seconds: secs, outcome,
///     contact_id: None, campaign_id: None,
/// };
/// let calls = [call(1, 120, CallOutcome::Lead), call(2, 0, CallOutcome::NoAnswer)];
/// let tickets = SnapshotMetrics::new(&[], &teamkpi::metrics::MetricsOptions::daily(chrono_tz::UTC)).unwrap();
/// let source = WithCallFigures::new(&tickets, &calls, &[], None, chrono_tz::UTC, at).unwrap();
/// let day = Period::containing(PeriodKind::Day, at.date_naive());
/// let row = source.metrics(7, &day).unwrap().unwrap();
/// assert_eq!(row.metric("calls_connected"), Some(1.into()));
/// assert_eq!(row.metric("leads"), Some(1.into()));
/// assert_eq!(row.metric("tickets_resolved"), Some(0.into()));
/// assert!(source.metrics(8, &day).unwrap().is_none());
/// ```
pub struct WithCallFigures<'a> {
    inner: &'a dyn MetricSource,
    by_agent: BTreeMap<u64, (Vec<Call>, Vec<AgentSession>)>,
    timezone: Tz,
    now: DateTime<Utc>,
}

impl<'a> WithCallFigures<'a> {
    /// `inner`'s rows with the figures of `calls` and `sessions` of `tenant`, periods in
    /// `timezone`, open sessions counted up to `now`. Every record is checked here (tenant,
    /// durations), so a bad one fails the run before any KPI is measured.
    pub fn new(
        inner: &'a dyn MetricSource,
        calls: &[Call],
        sessions: &[AgentSession],
        tenant: Option<&str>,
        timezone: Tz,
        now: DateTime<Utc>,
    ) -> Result<Self> {
        // Checked once, whole: the per-agent lists then hold only good records.
        CallFigures::check(&tenant.map(str::to_owned), calls, sessions)?;
        let mut by_agent: BTreeMap<u64, (Vec<Call>, Vec<AgentSession>)> = BTreeMap::new();
        for c in calls {
            by_agent.entry(c.agent_id).or_default().0.push(c.clone());
        }
        for s in sessions {
            by_agent.entry(s.agent_id).or_default().1.push(s.clone());
        }
        Ok(WithCallFigures {
            inner,
            by_agent,
            timezone,
            now,
        })
    }
}

impl MetricSource for WithCallFigures<'_> {
    fn metrics(&self, agent_id: u64, period: &Period) -> Result<Option<TicketMetrics>> {
        let row = self.inner.metrics(agent_id, period)?;
        let range = DateRange {
            start: period.start,
            end: period.end,
        };
        Ok(self.with_calls(agent_id, &range, row))
    }

    fn range_metrics(&self, agent_id: u64, range: &DateRange) -> Result<Option<TicketMetrics>> {
        let row = self.inner.range_metrics(agent_id, range)?;
        Ok(self.with_calls(agent_id, range, row))
    }
}

impl WithCallFigures<'_> {
    /// `row` with the agent's call-center figures over `range` (a row of zero ticket figures
    /// when it had none).
    fn with_calls(
        &self,
        agent_id: u64,
        range: &DateRange,
        row: Option<TicketMetrics>,
    ) -> Option<TicketMetrics> {
        let Some((calls, sessions)) = self.by_agent.get(&agent_id) else {
            return row;
        };
        let bounds = range.utc_bounds(self.timezone);
        let f = CallFigures::of_agent(agent_id, bounds, self.now, calls, sessions);
        if f.is_empty() {
            return row;
        }
        let mut row = row.unwrap_or_else(|| {
            let key = GroupKey::Agent(Some(agent_id));
            TicketMetrics::from_aggregate(&key, range.start, range.end, &TicketAggregate::default())
        });
        row.calls = Some(f);
        Some(row)
    }
}

/// What happened to one KPI for one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KpiOutcomeKind {
    /// A measurement was stored.
    Stored,
    /// No data for the period; nothing stored.
    Skipped,
    /// The KPI failed; the others went on.
    Failed,
}

/// The outcome of one (assignment, period).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KpiOutcome {
    /// The assignment.
    pub assignment_id: u64,
    /// The agent.
    pub agent_id: u64,
    /// The definition key.
    pub definition: String,
    /// First day of the period.
    pub period_start: NaiveDate,
    /// Last day of the period.
    pub period_end: NaiveDate,
    /// Stored, skipped or failed.
    pub outcome: KpiOutcomeKind,
    /// Why it was skipped or failed (an error code for failures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The report of an `update_kpis` run (the KPI tables' success / fail counts, and skips).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateReport {
    /// Measurements stored.
    pub successes: usize,
    /// KPIs without data.
    pub skipped: usize,
    /// KPIs that failed.
    pub failures: usize,
    /// Every (assignment, period), in assignment then period order.
    pub outcomes: Vec<KpiOutcome>,
}

/// The actual value of one KPI for one period, or why there is none.
pub(crate) enum Actual {
    Value(Decimal, BTreeMap<String, serde_json::Value>),
    NoData(String),
}

fn decimal_json(d: Decimal) -> serde_json::Value {
    serde_json::Value::String(d.normalize().to_string())
}

/// The figures a KPI reads: the agent's row for the period (natural or requested), fetched
/// only when the KPI is on metrics.
pub(crate) type RowOf<'a> = &'a dyn Fn() -> Result<Option<TicketMetrics>>;

pub(crate) fn actual_for(
    def: &KpiDefinition,
    a: &KpiAssignment,
    period: &Period,
    store: &dyn KpiStore,
    row_of: RowOf<'_>,
    external: Option<&dyn ExternalValueProvider>,
    catalog: &MetricCatalog,
) -> Result<Actual> {
    let mut meta = BTreeMap::new();
    meta.insert("source".to_owned(), def.source.kind().into());
    match &def.source {
        KpiSource::Metric { metric } => {
            let info = catalog.require(metric)?;
            let Some(row) = row_of()? else {
                return Ok(Actual::NoData("no activity in the period".into()));
            };
            let Some(raw) = row.metric(&info.key) else {
                return Ok(Actual::NoData(format!("no data for {}", info.key)));
            };
            meta.insert("metric".into(), info.key.clone().into());
            meta.insert("metric_value".into(), decimal_json(raw));
            meta.insert("metric_unit".into(), info.unit.as_str().into());
            Ok(Actual::Value(info.unit.convert(raw, def.unit)?, meta))
        }
        KpiSource::Formula { expression } => {
            let f = Formula::parse(expression, catalog)?;
            let Some(row) = row_of()? else {
                return Ok(Actual::NoData("no activity in the period".into()));
            };
            let mut inputs = serde_json::Map::new();
            for m in f.metrics() {
                inputs.insert(
                    m.to_owned(),
                    row.metric(m).map_or(serde_json::Value::Null, decimal_json),
                );
            }
            meta.insert("formula".into(), expression.clone().into());
            meta.insert("inputs".into(), inputs.into());
            match f.evaluate(&|m: &str| row.metric(m))? {
                Some(v) => Ok(Actual::Value(v, meta)),
                None => Ok(Actual::NoData("the formula has no value".into())),
            }
        }
        KpiSource::Manual => {
            match store.manual_value(a.tenant.as_deref(), a.id, period.start, period.end)? {
                Some(v) => {
                    if let Some(by) = v.recorded_by {
                        meta.insert("recorded_by".into(), by.into());
                    }
                    Ok(Actual::Value(v.value, meta))
                }
                None => Ok(Actual::NoData("no manual value recorded".into())),
            }
        }
        KpiSource::External { provider_key } => {
            if let Some(k) = provider_key {
                meta.insert("provider_key".into(), k.clone().into());
            }
            match external {
                Some(p) => match p.value(def, a, period)? {
                    Some(v) => Ok(Actual::Value(v, meta)),
                    None => Ok(Actual::NoData("the provider has no value".into())),
                },
                None => Ok(Actual::NoData("no external provider".into())),
            }
        }
    }
}

/// Recomputes and stores measurements (see the module docs for the rules).
///
/// ```
/// use teamkpi::update::{update_kpis, SnapshotMetrics, UpdateRange, UpdateRequest};
/// use teamkpi::metrics::{MetricsOptions, Ticket};
/// use teamkpi::*;
/// use chrono::{TimeZone, Utc};
/// let store = InMemoryStore::new();
/// store.upsert_definition(&from_json(serde_json::json!({"key": "resolved", "name": "Cases Resolved",
///     "unit": "count", "direction": "higher_better", "period": "daily",
///     "source": {"type": "query", "query_key": "cases_resolved_count"}})).unwrap()).unwrap();
/// store.insert_assignment(from_json(serde_json::json!({"agent_id": 7, "definition": "resolved",
///     "target": 2, "valid_from": "2025-11-01"})).unwrap()).unwrap();
/// let now = Utc.with_ymd_and_hms(2025, 11, 3, 18, 0, 0).unwrap();
/// let t = Ticket { id: 1, agent_id: Some(7), created_at: now - chrono::Duration::hours(5),
///                  resolved_at: Some(now - chrono::Duration::hours(1)), ..Ticket::default() };
/// let source = SnapshotMetrics::new(&[t], &MetricsOptions::daily(chrono_tz::UTC)).unwrap();
/// let req = UpdateRequest { tenant: None, range: UpdateRange::Today, agent_id: None, now,
///     timezone: chrono_tz::UTC, policy: AchievementPolicy::default() };
/// let report = update_kpis(&store, &source, None, &MetricCatalog::builtin(), &req).unwrap();
/// assert_eq!(report.successes, 1);
/// let m = store.latest_measurement(None, 1).unwrap().unwrap();
/// assert_eq!(m.achievement.to_string(), "50.00");
/// ```
pub fn update_kpis(
    store: &dyn KpiStore,
    source: &dyn MetricSource,
    external: Option<&dyn ExternalValueProvider>,
    catalog: &MetricCatalog,
    request: &UpdateRequest,
) -> Result<UpdateReport> {
    request.policy.validate()?;
    let dates = request.dates()?;
    let assignments = store.assignments(&AssignmentFilter {
        tenant: request.tenant.clone(),
        agent_id: request.agent_id,
        definition: None,
        applies_between: Some((dates.start, dates.end)),
        include_inactive: false,
    })?;
    let mut report = UpdateReport::default();
    // Written together at the end, in one transaction: a run is stored whole or not at all.
    let mut measured: Vec<Measurement> = Vec::new();
    let mut definitions: BTreeMap<String, Option<KpiDefinition>> = BTreeMap::new();
    for a in &assignments {
        let def = match definitions.get(&a.definition) {
            Some(d) => d.clone(),
            None => {
                let d = store.definition(request.tenant.as_deref(), &a.definition)?;
                definitions.insert(a.definition.clone(), d.clone());
                d
            }
        };
        let Some(def) = def else {
            report.push_failure(a, &dates, "unknown_definition");
            continue;
        };
        if !def.active {
            continue;
        }
        for period in dates.periods(def.period) {
            if !a.applies_between(period.start, period.end) {
                continue;
            }
            let outcome = measure(store, source, external, catalog, request, &def, a, &period);
            let (kind, reason) = match outcome {
                Ok(Ok(m)) => {
                    measured.push(m);
                    (KpiOutcomeKind::Stored, None)
                }
                Ok(Err(why)) => (KpiOutcomeKind::Skipped, Some(why)),
                Err(e) => (KpiOutcomeKind::Failed, Some(e.code().to_owned())),
            };
            match kind {
                KpiOutcomeKind::Stored => report.successes += 1,
                KpiOutcomeKind::Skipped => report.skipped += 1,
                KpiOutcomeKind::Failed => report.failures += 1,
            }
            report.outcomes.push(KpiOutcome {
                assignment_id: a.id,
                agent_id: a.agent_id,
                definition: a.definition.clone(),
                period_start: period.start,
                period_end: period.end,
                outcome: kind,
                reason,
            });
        }
    }
    // A KPI that fails to compute is a failure of its own; a store that cannot write fails the
    // run, and nothing of it is kept.
    store.upsert_measurements(&measured)?;
    Ok(report)
}

impl UpdateReport {
    fn push_failure(&mut self, a: &KpiAssignment, dates: &DateRange, code: &str) {
        self.failures += 1;
        self.outcomes.push(KpiOutcome {
            assignment_id: a.id,
            agent_id: a.agent_id,
            definition: a.definition.clone(),
            period_start: dates.start,
            period_end: dates.end,
            outcome: KpiOutcomeKind::Failed,
            reason: Some(code.to_owned()),
        });
    }
}

/// Measures one (assignment, period): `Ok(Ok(measurement))` to store, `Ok(Err(why))` skipped.
#[allow(clippy::too_many_arguments)]
fn measure(
    store: &dyn KpiStore,
    source: &dyn MetricSource,
    external: Option<&dyn ExternalValueProvider>,
    catalog: &MetricCatalog,
    request: &UpdateRequest,
    def: &KpiDefinition,
    a: &KpiAssignment,
    period: &Period,
) -> Result<std::result::Result<Measurement, String>> {
    let row_of = || source.metrics(a.agent_id, period);
    let actual = actual_for(def, a, period, store, &row_of, external, catalog)?;
    measurement_of(
        actual,
        def,
        a,
        period,
        request.now,
        request.timezone,
        &request.policy,
    )
}

/// The measurement of an actual value (`Err(why)` when there is none), not ad hoc.
pub(crate) fn measurement_of(
    actual: Actual,
    def: &KpiDefinition,
    a: &KpiAssignment,
    period: &Period,
    now: DateTime<Utc>,
    timezone: Tz,
    policy: &AchievementPolicy,
) -> Result<std::result::Result<Measurement, String>> {
    let (actual, metadata) = match actual {
        Actual::Value(v, m) => (v, m),
        Actual::NoData(why) => return Ok(Err(why)),
    };
    let ach = achievement(actual, a.target, def.direction, policy)?;
    Ok(Ok(Measurement {
        assignment_id: a.id,
        tenant: a.tenant.clone(),
        agent_id: a.agent_id,
        definition: def.key.clone(),
        period_start: period.start,
        period_end: period.end,
        complete: period.is_complete(now, timezone),
        actual,
        target: a.target,
        achievement: ach,
        metadata,
        calculated_at: now,
        ad_hoc: false,
    }))
}

/// The support desk's AgentKPI row: an agent's day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentKpi {
    /// The agent.
    pub agent_id: u64,
    /// The day.
    pub kpi_date: NaiveDate,
    /// Tickets assigned to the agent that day.
    pub total_tickets: u64,
    /// The weighted overall score of the agent's measurements covering the day (2 places);
    /// `None` when no KPI has a measurement.
    #[serde(with = "crate::num::serde_number_opt")]
    pub overall_kpi_score: Option<Decimal>,
}

/// The support desk's AgentKPI for an agent and day: total tickets from `source`, and the overall score
/// over the stored natural-period measurements of the agent's assignments whose period contains
/// the day (run `update_kpis` for the day first to refresh them; ad-hoc measurements never
/// count).
pub fn agent_kpi(
    store: &dyn KpiStore,
    source: &dyn MetricSource,
    tenant: Option<&str>,
    agent_id: u64,
    day: NaiveDate,
    policy: &AchievementPolicy,
) -> Result<AgentKpi> {
    let total_tickets = source
        .metrics(agent_id, &Period::containing(PeriodKind::Day, day))?
        .map_or(0, |r| r.tickets_assigned);
    let assignments = store.assignments(&AssignmentFilter {
        tenant: tenant.map(str::to_owned),
        agent_id: Some(agent_id),
        definition: None,
        applies_between: Some((day, day)),
        include_inactive: false,
    })?;
    let mut items = Vec::new();
    for a in &assignments {
        let measurement = store
            .measurements(tenant, a.id)?
            .into_iter()
            .find(|m| !m.ad_hoc && m.period_start <= day && day <= m.period_end);
        items.push(WeightedAchievement {
            weight: a.weight,
            achievement: measurement.map(|m| m.achievement),
        });
    }
    Ok(AgentKpi {
        agent_id,
        kpi_date: day,
        total_tickets,
        overall_kpi_score: overall_score(&items, policy)?.map(round2),
    })
}
