//! `measure_range`: one assignment measured over exactly the days a caller asks for (the KPI
//! tables' `POST /calculate/{id}`), stored as an ad-hoc measurement beside the natural periods
//! `update_kpis` keeps. Ad-hoc measurements never become a scorecard's latest or feed AgentKPI.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::{actual_for, measurement_of, MetricSource};
use crate::error::{Error, Result};
use crate::kpi::{ExternalValueProvider, Measurement};
use crate::metrics::MetricCatalog;
use crate::period::{DateRange, Period};
use crate::score::AchievementPolicy;
use crate::store::KpiStore;

/// One `measure_range` call.
#[derive(Debug, Clone)]
pub struct RangeRequest {
    /// The company.
    pub tenant: Option<String>,
    /// The assignment to measure.
    pub assignment_id: u64,
    /// The local days measured, both ends included.
    pub range: DateRange,
    /// The current instant (the measurement's `calculated_at`; `complete` once the range is
    /// over).
    pub now: DateTime<Utc>,
    /// The zone of the days.
    pub timezone: Tz,
    /// Cap, floor and zero-target rule of achievements.
    pub policy: AchievementPolicy,
}

/// What `measure_range` did: the stored measurement and its row id, or why nothing was stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RangeMeasurement {
    /// The row id of the stored measurement (`None` when skipped).
    pub measurement_id: Option<u64>,
    /// The measurement stored, flagged `ad_hoc` (`None` when skipped).
    pub measurement: Option<Measurement>,
    /// Why nothing was stored: no data in the range, an inactive definition, an assignment
    /// not valid in the range (`None` when stored).
    #[serde(default)]
    pub reason: Option<String>,
}

impl RangeMeasurement {
    fn skipped(why: impl Into<String>) -> Self {
        RangeMeasurement {
            measurement_id: None,
            measurement: None,
            reason: Some(why.into()),
        }
    }
}

/// Measures one assignment over exactly `request.range` and stores the result as an ad-hoc
/// measurement (replacing an earlier ad-hoc one of the same range). Metric and formula KPIs
/// read `source`'s figures over the range as one window; manual KPIs the value recorded for
/// exactly that range; external KPIs the provider, asked with the range as the period.
/// A range without data stores nothing (not a 0). An unknown assignment is
/// `unknown_assignment`, a KPI that cannot be computed fails with its own error.
///
/// ```
/// use teamkpi::update::{measure_range, RangeRequest, SnapshotMetrics};
/// use teamkpi::metrics::{MetricsOptions, Ticket};
/// use teamkpi::*;
/// use chrono::{NaiveDate, TimeZone, Utc};
/// let store = InMemoryStore::new();
/// store.upsert_definition(&from_json(serde_json::json!({"key": "resolved",
///     "name": "Cases Resolved", "unit": "count", "direction": "higher_better",
///     "period": "weekly", "source": {"type": "metric", "metric": "tickets_resolved"}}))
///     .unwrap()).unwrap();
/// store.insert_assignment(from_json(serde_json::json!({"agent_id": 7, "definition": "resolved",
///     "target": 4, "valid_from": "2025-11-01"})).unwrap()).unwrap();
/// let at = |d| Utc.with_ymd_and_hms(2025, 11, d, 10, 0, 0).unwrap();
/// // Resolved on Wednesday and Friday; the range is Thursday to Saturday.
/// let tickets: Vec<Ticket> = [(1, 5), (2, 7)].map(|(id, d)| Ticket { id, agent_id: Some(7),
///     created_at: at(d) - chrono::Duration::hours(2), resolved_at: Some(at(d)),
///     ..Ticket::default() }).into();
/// let range = DateRange::new(NaiveDate::from_ymd_opt(2025, 11, 6).unwrap(),
///     NaiveDate::from_ymd_opt(2025, 11, 8).unwrap()).unwrap();
/// let source = SnapshotMetrics::for_range(&tickets, &MetricsOptions::daily(chrono_tz::UTC), range)
///     .unwrap();
/// let req = RangeRequest { tenant: None, assignment_id: 1, range, now: at(20),
///     timezone: chrono_tz::UTC, policy: AchievementPolicy::default() };
/// let done = measure_range(&store, &source, None, &MetricCatalog::builtin(), &req).unwrap();
/// let m = done.measurement.unwrap();
/// assert!(m.ad_hoc && m.complete);
/// assert_eq!(m.actual.to_string(), "1.00");
/// assert_eq!(m.achievement.to_string(), "25.00");
/// // The scorecard's latest is a natural period's; this assignment has none yet.
/// assert!(store.latest_measurement(None, 1).unwrap().is_none());
/// ```
pub fn measure_range(
    store: &dyn KpiStore,
    source: &dyn MetricSource,
    external: Option<&dyn ExternalValueProvider>,
    catalog: &MetricCatalog,
    request: &RangeRequest,
) -> Result<RangeMeasurement> {
    request.policy.validate()?;
    let tenant = request.tenant.as_deref();
    let a = store
        .assignment(tenant, request.assignment_id)?
        .ok_or(Error::UnknownAssignment(request.assignment_id))?;
    let def = store
        .definition(tenant, &a.definition)?
        .ok_or_else(|| Error::UnknownDefinition(a.definition.clone()))?;
    let range = request.range;
    if !def.active {
        return Ok(RangeMeasurement::skipped("the KPI definition is inactive"));
    }
    if !a.applies_between(range.start, range.end) {
        return Ok(RangeMeasurement::skipped(
            "the assignment is not active in the range",
        ));
    }
    // The requested bounds, labelled with the definition's period kind: manual values and
    // external providers are asked for exactly these days.
    let period = Period {
        kind: def.period,
        start: range.start,
        end: range.end,
    };
    let row_of = || source.range_metrics(a.agent_id, &range);
    let actual = actual_for(&def, &a, &period, store, &row_of, external, catalog)?;
    let (now, tz) = (request.now, request.timezone);
    match measurement_of(actual, &def, &a, &period, now, tz, &request.policy)? {
        Ok(mut m) => {
            m.ad_hoc = true;
            let id = store.upsert_measurement(&m)?;
            Ok(RangeMeasurement {
                measurement_id: Some(id),
                measurement: Some(m.rounded_for_storage()),
                reason: None,
            })
        }
        Err(why) => Ok(RangeMeasurement::skipped(why)),
    }
}
