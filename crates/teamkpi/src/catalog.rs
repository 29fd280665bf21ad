//! The metric catalogue: every metric name a KPI definition or a formula may use, with its unit.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::kpi::Unit;

/// A metric's name, unit and meaning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricInfo {
    /// The canonical key.
    pub key: String,
    /// The unit of its values.
    pub unit: Unit,
    /// What it measures.
    pub description: String,
}

/// The metrics a definition or a formula may name: the built-in ones plus any the host registers.
///
/// ```
/// use teamkpi::{MetricCatalog, Unit};
/// let catalog = MetricCatalog::builtin();
/// // The KPI tables' query keys are aliases.
/// assert_eq!(catalog.get("cases_resolved_count").unwrap().key, "tickets_resolved");
/// assert_eq!(catalog.get("avg_resolution_time").unwrap().unit, Unit::Seconds);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricCatalog {
    metrics: BTreeMap<String, MetricInfo>,
    aliases: BTreeMap<String, String>,
}

const BUILTIN: &[(&str, Unit, &str)] = &[
    (
        "tickets_assigned",
        Unit::Count,
        "tickets assigned to the agent in the period (handled)",
    ),
    (
        "tickets_created",
        Unit::Count,
        "tickets created in the period",
    ),
    (
        "tickets_resolved",
        Unit::Count,
        "tickets resolved in the period",
    ),
    (
        "tickets_reopened",
        Unit::Count,
        "tickets reopened in the period",
    ),
    (
        "transfers_in",
        Unit::Count,
        "tickets transferred to the agent",
    ),
    (
        "transfers_out",
        Unit::Count,
        "tickets transferred away from the agent",
    ),
    ("agent_messages", Unit::Count, "messages the agent sent"),
    (
        "resolution_rate",
        Unit::Percent,
        "of tickets assigned in the period, the share resolved",
    ),
    (
        "first_response_count",
        Unit::Count,
        "first responses in the period",
    ),
    (
        "first_response_time_sum",
        Unit::Seconds,
        "sum of first-response times",
    ),
    (
        "avg_first_response_time",
        Unit::Seconds,
        "mean first-response time",
    ),
    (
        "median_first_response_time",
        Unit::Seconds,
        "median first-response time",
    ),
    (
        "p90_first_response_time",
        Unit::Seconds,
        "90th percentile first-response time",
    ),
    (
        "avg_first_response_business_time",
        Unit::Seconds,
        "mean first-response time in business seconds",
    ),
    ("resolution_count", Unit::Count, "resolutions in the period"),
    (
        "resolution_time_sum",
        Unit::Seconds,
        "sum of resolution times",
    ),
    (
        "avg_resolution_time",
        Unit::Seconds,
        "mean time from creation to resolution",
    ),
    (
        "median_resolution_time",
        Unit::Seconds,
        "median resolution time",
    ),
    (
        "p90_resolution_time",
        Unit::Seconds,
        "90th percentile resolution time",
    ),
    (
        "avg_resolution_business_time",
        Unit::Seconds,
        "mean resolution time in business seconds",
    ),
    (
        "resolution_paused_time_sum",
        Unit::Seconds,
        "of the resolution times, the time in the SLA policy's pause statuses",
    ),
    (
        "avg_resolution_active_time",
        Unit::Seconds,
        "mean resolution time without the time in pause statuses",
    ),
    (
        "avg_resolution_active_business_time",
        Unit::Seconds,
        "mean resolution time in business seconds without the time in pause statuses",
    ),
    ("sla_met", Unit::Count, "SLA targets met"),
    ("sla_breached", Unit::Count, "SLA targets breached"),
    ("sla_compliance", Unit::Percent, "share of SLA targets met"),
    ("leads", Unit::Count, "calls with outcome lead"),
    ("calls_total", Unit::Count, "all call attempts"),
    (
        "calls_connected",
        Unit::Count,
        "calls with a duration above 0",
    ),
    ("calls_missed", Unit::Count, "calls with outcome no_answer"),
    ("total_call_time", Unit::Seconds, "sum of call durations"),
    (
        "average_call_time",
        Unit::Seconds,
        "mean duration of connected calls",
    ),
    ("total_work_time", Unit::Seconds, "time in working sessions"),
    ("total_logged_time", Unit::Seconds, "time logged in"),
    ("total_break_time", Unit::Seconds, "time on break"),
];

const ALIASES: &[(&str, &str)] = &[
    ("cases_resolved_count", "tickets_resolved"),
    ("tickets_handled", "tickets_assigned"),
    ("avg_response_time", "avg_first_response_time"),
    ("sla_compliance_rate", "sla_compliance"),
];

impl MetricCatalog {
    /// The built-in metrics and seed aliases.
    pub fn builtin() -> Self {
        let metrics = BUILTIN
            .iter()
            .map(|(key, unit, description)| {
                (
                    (*key).to_owned(),
                    MetricInfo {
                        key: (*key).to_owned(),
                        unit: *unit,
                        description: (*description).to_owned(),
                    },
                )
            })
            .collect();
        let aliases = ALIASES
            .iter()
            .map(|(a, k)| ((*a).to_owned(), (*k).to_owned()))
            .collect();
        MetricCatalog { metrics, aliases }
    }

    /// Adds a host metric (e.g. a value the host computes itself and passes in).
    pub fn register(&mut self, key: &str, unit: Unit, description: &str) -> Result<()> {
        let valid = key
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid || matches!(key, "and" | "or" | "not" | "min" | "max" | "if") {
            return Err(Error::argument(
                "metric",
                format!("{key:?} is not a valid metric name (letters, digits, _)"),
            ));
        }
        self.metrics.insert(
            key.to_owned(),
            MetricInfo {
                key: key.to_owned(),
                unit,
                description: description.to_owned(),
            },
        );
        Ok(())
    }

    /// Looks a metric up by key or alias.
    pub fn get(&self, name: &str) -> Option<&MetricInfo> {
        let key = self.aliases.get(name).map(String::as_str).unwrap_or(name);
        self.metrics.get(key)
    }

    /// A metric by key or alias, or `unknown_metric`.
    pub fn require(&self, name: &str) -> Result<&MetricInfo> {
        self.get(name).ok_or_else(|| Error::UnknownMetric {
            name: name.to_owned(),
            position: None,
        })
    }

    /// The canonical key of a name or alias.
    pub fn canonical(&self, name: &str) -> Result<&str> {
        self.require(name).map(|m| m.key.as_str())
    }

    /// All metrics, by key.
    pub fn iter(&self) -> impl Iterator<Item = &MetricInfo> {
        self.metrics.values()
    }
}

impl Default for MetricCatalog {
    fn default() -> Self {
        Self::builtin()
    }
}
