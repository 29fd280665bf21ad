//! KPI definitions, assignments (the KPI tables' `user_kpis`), measurements, manual values and the
//! provider of external values.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::catalog::MetricCatalog;
use crate::choice::string_enum;
use crate::error::{Error, Result};
use crate::formula::Formula;
use crate::num::serde_number;
use crate::period::{Period, PeriodKind};

string_enum! {
    /// The unit of a KPI or a metric. `%` is accepted for `percent` (the KPI tables).
    pub enum Unit ("unit") {
        /// A number of things.
        Count = "count",
        /// A percentage, 0–100.
        Percent = "percent" | "%" | "pct",
        /// A fraction, 0–1.
        Ratio = "ratio" | "fraction",
        /// Seconds.
        Seconds = "seconds" | "s" | "sec",
        /// Minutes.
        Minutes = "minutes" | "min",
        /// Hours.
        Hours = "hours" | "h",
        /// Days of 24 hours.
        Days = "days",
        /// Money, in the host's currency.
        Currency = "currency",
        /// A score on 0–100.
        Score = "score" | "points",
    }
}

impl Unit {
    /// Seconds per unit for durations, `None` for other units.
    fn seconds_per_unit(self) -> Option<i64> {
        match self {
            Unit::Seconds => Some(1),
            Unit::Minutes => Some(60),
            Unit::Hours => Some(3600),
            Unit::Days => Some(86_400),
            _ => None,
        }
    }

    /// Converts `value` expressed in `self` to `to`. Durations convert among seconds, minutes,
    /// hours and days; percent and ratio convert into each other; anything else only to itself.
    ///
    /// ```
    /// use teamkpi::Unit;
    /// use rust_decimal::Decimal;
    /// let hours = Unit::Seconds.convert(Decimal::from(5400), Unit::Hours).unwrap();
    /// assert_eq!(hours, Decimal::new(15, 1));
    /// ```
    pub fn convert(self, value: Decimal, to: Unit) -> Result<Decimal> {
        if self == to {
            return Ok(value);
        }
        let overflow = || Error::ArithmeticOverflow("unit conversion".into());
        if let (Some(a), Some(b)) = (self.seconds_per_unit(), to.seconds_per_unit()) {
            let seconds = value.checked_mul(Decimal::from(a)).ok_or_else(overflow)?;
            return seconds.checked_div(Decimal::from(b)).ok_or_else(overflow);
        }
        match (self, to) {
            (Unit::Ratio, Unit::Percent) => {
                value.checked_mul(Decimal::ONE_HUNDRED).ok_or_else(overflow)
            }
            (Unit::Percent, Unit::Ratio) => {
                value.checked_div(Decimal::ONE_HUNDRED).ok_or_else(overflow)
            }
            _ => Err(Error::UnitMismatch {
                from: self.as_str().into(),
                to: to.as_str().into(),
            }),
        }
    }

    /// True when [`Unit::convert`] from `self` to `to` succeeds.
    pub fn converts_to(self, to: Unit) -> bool {
        self.convert(Decimal::ZERO, to).is_ok()
    }
}

string_enum! {
    /// Which way is better (the KPI tables' `target_type`).
    pub enum Direction ("direction") {
        /// More is better: achievement = actual / target × 100.
        HigherBetter = "higher_better" | "higher-better" | "higher",
        /// Less is better: achievement = target / actual × 100; actual ≤ 0 gives 100.
        LowerBetter = "lower_better" | "lower-better" | "lower",
        /// Closer is better: achievement = max(0, 100 − |actual − target| / target × 100).
        Exact = "exact",
    }
}

/// Where a KPI's actual value comes from.
///
/// The KPI tables' `calculation_type` strings are accepted: `query` means `metric` (its `query_key` is
/// the metric) and `api` means `external`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum KpiSource {
    /// A built-in or host-registered metric of the catalogue.
    #[serde(alias = "query")]
    Metric {
        /// The metric key (aliases such as `cases_resolved_count` are accepted).
        #[serde(alias = "query_key")]
        metric: String,
    },
    /// A formula over metrics (see [`crate::formula`]).
    Formula {
        /// The formula text.
        expression: String,
    },
    /// Values a manager records per period.
    Manual,
    /// Values the host supplies through an [`ExternalValueProvider`].
    #[serde(alias = "api")]
    External {
        /// The provider's own key for this value (e.g. `intercom.first_response_time`).
        #[serde(default)]
        provider_key: Option<String>,
    },
}

impl KpiSource {
    /// Builds a source from the KPI tables' `calculation_type` and `config` JSON.
    ///
    /// ```
    /// use teamkpi::KpiSource;
    /// let cfg = serde_json::json!({"query_key": "avg_resolution_time"});
    /// let src = KpiSource::from_calculation_type("query", &cfg).unwrap();
    /// assert_eq!(src, KpiSource::Metric { metric: "avg_resolution_time".into() });
    /// ```
    pub fn from_calculation_type(
        calculation_type: &str,
        config: &serde_json::Value,
    ) -> Result<Self> {
        let text = |keys: &[&str]| {
            keys.iter()
                .find_map(|k| config.get(*k).and_then(|v| v.as_str()))
                .map(str::to_owned)
        };
        match calculation_type.trim().to_lowercase().as_str() {
            "query" | "metric" => text(&["query_key", "metric"])
                .map(|metric| KpiSource::Metric { metric })
                .ok_or_else(|| {
                    Error::argument(
                        "config",
                        "a metric source needs \"query_key\" or \"metric\"",
                    )
                }),
            "formula" => {
                let expression = text(&["expression", "formula"]).ok_or_else(|| {
                    Error::argument("config", "a formula source needs \"expression\"")
                })?;
                // Checked as `KpiDefinition::validate` checks it: a source that cannot be
                // parsed is refused here, not when a KPI first runs.
                crate::formula::Formula::parse(&expression, &crate::MetricCatalog::builtin())?;
                Ok(KpiSource::Formula { expression })
            }
            "manual" => Ok(KpiSource::Manual),
            "api" | "external" => Ok(KpiSource::External {
                provider_key: text(&["provider_key", "provider", "key"]),
            }),
            _ => Err(Error::choice(
                "calculation_type",
                calculation_type,
                "metric query formula manual external api",
            )),
        }
    }

    /// The source's `config` JSON in the KPI tables' form (the inverse of
    /// [`KpiSource::from_calculation_type`]).
    pub fn config(&self) -> serde_json::Value {
        match self {
            KpiSource::Metric { metric } => serde_json::json!({ "query_key": metric }),
            KpiSource::Formula { expression } => serde_json::json!({ "expression": expression }),
            KpiSource::Manual => serde_json::json!({}),
            KpiSource::External { provider_key } => {
                serde_json::json!({ "provider_key": provider_key })
            }
        }
    }

    /// The canonical calculation type string.
    pub fn kind(&self) -> &'static str {
        match self {
            KpiSource::Metric { .. } => "metric",
            KpiSource::Formula { .. } => "formula",
            KpiSource::Manual => "manual",
            KpiSource::External { .. } => "external",
        }
    }
}

fn yes() -> bool {
    true
}

/// A KPI type (the KPI tables' `kpi_definitions` row). Unique per (tenant, key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KpiDefinition {
    /// The company the definition belongs to; `None` for a single-tenant host.
    #[serde(default)]
    pub tenant: Option<String>,
    /// Stable identifier, unique per tenant.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Longer description.
    #[serde(default)]
    pub description: Option<String>,
    /// Free category, e.g. `customer_support`.
    #[serde(default)]
    pub category: Option<String>,
    /// Unit of the actual value and the target.
    pub unit: Unit,
    /// Which way is better.
    #[serde(alias = "target_type")]
    pub direction: Direction,
    /// The natural period measurements cover.
    #[serde(alias = "aggregation_period")]
    pub period: PeriodKind,
    /// Where the actual value comes from.
    pub source: KpiSource,
    /// Inactive definitions are not computed.
    #[serde(default = "yes", alias = "is_active")]
    pub active: bool,
}

impl KpiDefinition {
    /// Checks the definition against a metric catalogue: a non-empty key and name, a known metric
    /// whose unit converts to the definition's unit, and a formula that parses.
    pub fn validate(&self, catalog: &MetricCatalog) -> Result<()> {
        if self.key.trim().is_empty() {
            return Err(Error::argument("key", "must not be empty"));
        }
        if self.name.trim().is_empty() {
            return Err(Error::argument("name", "must not be empty"));
        }
        match &self.source {
            KpiSource::Metric { metric } => {
                let info = catalog.require(metric)?;
                info.unit.convert(Decimal::ZERO, self.unit)?;
            }
            KpiSource::Formula { expression } => {
                Formula::parse(expression, catalog)?;
            }
            KpiSource::Manual | KpiSource::External { .. } => {}
        }
        Ok(())
    }
}

/// A KPI given to an agent with a target and a weight (the KPI tables' `user_kpis` row), before a store
/// gives it an id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewKpiAssignment {
    /// The company; must match the definition's.
    #[serde(default)]
    pub tenant: Option<String>,
    /// The agent (the KPI tables' `user_id`).
    #[serde(alias = "user_id")]
    pub agent_id: u64,
    /// The definition key.
    pub definition: String,
    /// The target, in the definition's unit; never negative.
    #[serde(with = "serde_number", alias = "target_value")]
    pub target: Decimal,
    /// Importance in percent, 0–100 (the KPI tables defaults to 100).
    #[serde(with = "serde_number", default = "hundred")]
    pub weight: Decimal,
    /// First day the assignment applies (the KPI tables' `start_date`).
    #[serde(alias = "start_date")]
    pub valid_from: NaiveDate,
    /// Last day it applies, inclusive; `None` for open-ended (the KPI tables' `end_date`).
    #[serde(default, alias = "end_date")]
    pub valid_to: Option<NaiveDate>,
    /// Inactive assignments are not computed.
    #[serde(default = "yes", alias = "is_active")]
    pub active: bool,
    /// Who assigned it.
    #[serde(default)]
    pub assigned_by: Option<u64>,
}

fn hundred() -> Decimal {
    Decimal::ONE_HUNDRED
}

impl NewKpiAssignment {
    /// An active, open-ended assignment of `definition` to `agent_id` from `valid_from`, in no
    /// tenant and by nobody (set the fields for more).
    ///
    /// ```
    /// use rust_decimal::Decimal;
    /// let day = chrono::NaiveDate::from_ymd_opt(2025, 11, 1).unwrap();
    /// let a = teamkpi::NewKpiAssignment::new(7, "avg_resolution", Decimal::from(3), Decimal::from(60), day);
    /// assert!(a.active && a.valid_to.is_none() && a.validate().is_ok());
    /// ```
    pub fn new(
        agent_id: u64,
        definition: impl Into<String>,
        target: Decimal,
        weight: Decimal,
        valid_from: NaiveDate,
    ) -> Self {
        NewKpiAssignment {
            tenant: None,
            agent_id,
            definition: definition.into(),
            target,
            weight,
            valid_from,
            valid_to: None,
            active: true,
            assigned_by: None,
        }
    }

    /// Checks target ≥ 0, weight in 0..=100 and `valid_to` ≥ `valid_from`.
    pub fn validate(&self) -> Result<()> {
        if self.target.is_sign_negative() && !self.target.is_zero() {
            return Err(Error::NegativeTarget(self.target.to_string()));
        }
        validate_weight(self.weight)?;
        if let Some(end) = self.valid_to {
            if end < self.valid_from {
                return Err(Error::range("valid_to", self.valid_from, end));
            }
        }
        if self.definition.trim().is_empty() {
            return Err(Error::argument("definition", "must not be empty"));
        }
        Ok(())
    }

    /// Gives the assignment its store id.
    pub fn with_id(self, id: u64) -> KpiAssignment {
        KpiAssignment {
            id,
            tenant: self.tenant,
            agent_id: self.agent_id,
            definition: self.definition,
            target: self.target,
            weight: self.weight,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            active: self.active,
            assigned_by: self.assigned_by,
        }
    }
}

/// Checks a weight is within 0..=100.
pub fn validate_weight(weight: Decimal) -> Result<()> {
    if weight < Decimal::ZERO || weight > Decimal::ONE_HUNDRED {
        return Err(Error::WeightOutOfRange(weight.to_string()));
    }
    Ok(())
}

/// A stored assignment (the KPI tables' `user_kpis` row with its id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KpiAssignment {
    /// The store's id (the KPI tables' `user_kpis.id`).
    pub id: u64,
    /// The company.
    #[serde(default)]
    pub tenant: Option<String>,
    /// The agent.
    pub agent_id: u64,
    /// The definition key.
    pub definition: String,
    /// The target, in the definition's unit.
    #[serde(with = "serde_number")]
    pub target: Decimal,
    /// Importance in percent, 0–100.
    #[serde(with = "serde_number")]
    pub weight: Decimal,
    /// First day the assignment applies.
    pub valid_from: NaiveDate,
    /// Last day it applies, inclusive.
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
    /// Inactive assignments are not computed.
    pub active: bool,
    /// Who assigned it.
    #[serde(default)]
    pub assigned_by: Option<u64>,
}

impl KpiAssignment {
    /// The assignment's fields without its id (what stores check an update against).
    pub fn to_new(&self) -> NewKpiAssignment {
        let mut new = NewKpiAssignment::new(
            self.agent_id,
            self.definition.clone(),
            self.target,
            self.weight,
            self.valid_from,
        );
        new.tenant.clone_from(&self.tenant);
        new.valid_to = self.valid_to;
        new.active = self.active;
        new.assigned_by = self.assigned_by;
        new
    }

    /// True when the assignment is active and its validity overlaps `[start, end]`.
    pub fn applies_between(&self, start: NaiveDate, end: NaiveDate) -> bool {
        self.active && self.valid_from <= end && self.valid_to.is_none_or(|to| to >= start)
    }
}

/// A computed KPI value for one assignment and period (the KPI tables' `kpi_measurements` row).
/// Unique per (assignment, period start, period end, ad hoc); recomputing replaces it.
///
/// `update_kpis` measures natural periods; [`measure_range`](crate::update::measure_range)
/// measures a requested range and flags it `ad_hoc`. An ad-hoc measurement is kept beside the
/// natural ones (even with the same bounds) and never becomes a scorecard's latest or feeds
/// AgentKPI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// The assignment measured.
    #[serde(alias = "user_kpi_id")]
    pub assignment_id: u64,
    /// The company.
    #[serde(default)]
    pub tenant: Option<String>,
    /// The agent.
    pub agent_id: u64,
    /// The definition key.
    pub definition: String,
    /// First day of the period.
    pub period_start: NaiveDate,
    /// Last day of the period, inclusive.
    pub period_end: NaiveDate,
    /// False while the period is not over.
    pub complete: bool,
    /// The actual value in the definition's unit (exact).
    #[serde(with = "serde_number", alias = "actual_value")]
    pub actual: Decimal,
    /// The target at the time of calculation.
    #[serde(with = "serde_number", alias = "target_value")]
    pub target: Decimal,
    /// Achievement in percent (exact; stores round it to 2 places).
    #[serde(with = "serde_number", alias = "achievement_percentage")]
    pub achievement: Decimal,
    /// Inputs used (metric values, source, counts).
    #[serde(default)]
    pub metadata: BTreeMap<String, serde_json::Value>,
    /// When it was calculated (the `now` passed in).
    pub calculated_at: DateTime<Utc>,
    /// True for a measurement of a requested range rather than a natural period.
    #[serde(default)]
    pub ad_hoc: bool,
}

impl Measurement {
    /// The period as a [`Period`] value of the given kind.
    pub fn period(&self, kind: PeriodKind) -> Period {
        Period {
            kind,
            start: self.period_start,
            end: self.period_end,
        }
    }
}

/// A value a manager records for a manual KPI and a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManualValue {
    /// The assignment.
    pub assignment_id: u64,
    /// First day of the period.
    pub period_start: NaiveDate,
    /// Last day of the period, inclusive.
    pub period_end: NaiveDate,
    /// The value, in the definition's unit.
    #[serde(with = "serde_number")]
    pub value: Decimal,
    /// Who recorded it.
    #[serde(default)]
    pub recorded_by: Option<u64>,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
}

/// Supplies values for `external` KPIs (e.g. from Intercom or Aircall). Return `Ok(None)` when the
/// provider has no value for the period; the KPI is then skipped, not failed.
pub trait ExternalValueProvider {
    /// The value of `definition` for `assignment` over `period`, in the definition's unit.
    fn value(
        &self,
        definition: &KpiDefinition,
        assignment: &KpiAssignment,
        period: &Period,
    ) -> Result<Option<Decimal>>;
}

/// An [`ExternalValueProvider`] over a fixed table, keyed by (assignment id, period start).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StaticValues {
    values: BTreeMap<(u64, NaiveDate), Decimal>,
}

impl StaticValues {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the value for an assignment's period starting on `period_start`.
    pub fn insert(&mut self, assignment_id: u64, period_start: NaiveDate, value: Decimal) {
        self.values.insert((assignment_id, period_start), value);
    }
}

impl ExternalValueProvider for StaticValues {
    fn value(
        &self,
        _definition: &KpiDefinition,
        assignment: &KpiAssignment,
        period: &Period,
    ) -> Result<Option<Decimal>> {
        Ok(self.values.get(&(assignment.id, period.start)).copied())
    }
}
