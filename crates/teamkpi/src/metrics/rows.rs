//! The metric rows a computation reports: one per (group, period), with the catalogue's figures.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::metrics::aggregate::TicketAggregate;
use crate::metrics::batch::{GroupKey, TicketMetricsState};
use crate::num::{percent_of as pct, serde_number_opt};

/// Rows of a state, ordered by group then period.
pub fn rows_of(state: &TicketMetricsState) -> Vec<TicketMetrics> {
    state
        .iter()
        .filter(|(_, _, _, a)| !a.is_empty())
        .map(|(g, start, end, a)| TicketMetrics::from_aggregate(g, start, end, a))
        .collect()
}

/// The mean of durations less the `paused` part of their sum; `None` with no durations.
fn active_mean(d: &crate::metrics::DurationStats, paused: i64) -> Option<Decimal> {
    (d.count > 0).then(|| Decimal::from(d.sum - paused) / Decimal::from(d.count))
}

/// One row of ticket metrics: a group and a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketMetrics {
    /// The agent (agent grouping; `null` = unassigned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<u64>,
    /// The team (team grouping).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// First day of the period.
    pub period_start: NaiveDate,
    /// Last day of the period, inclusive.
    pub period_end: NaiveDate,
    /// Tickets assigned in the period (the support automation's tickets_handled).
    pub tickets_assigned: u64,
    /// Tickets created in the period.
    pub tickets_created: u64,
    /// Resolutions in the period.
    pub tickets_resolved: u64,
    /// Reopenings in the period.
    pub tickets_reopened: u64,
    /// Transfers in.
    pub transfers_in: u64,
    /// Transfers out.
    pub transfers_out: u64,
    /// Agent messages.
    pub agent_messages: u64,
    /// Of tickets assigned in the period, the percent resolved by its end (2 places).
    #[serde(with = "serde_number_opt")]
    pub resolution_rate_percent: Option<Decimal>,
    /// First responses in the period.
    pub first_response_count: u64,
    /// Sum of first-response seconds.
    pub first_response_seconds_sum: i64,
    /// Mean first-response seconds.
    #[serde(with = "serde_number_opt")]
    pub avg_first_response_seconds: Option<Decimal>,
    /// Median first-response seconds (sketch, ≤ 0.4 % error).
    pub median_first_response_seconds: Option<u64>,
    /// 90th percentile first-response seconds (sketch).
    pub p90_first_response_seconds: Option<u64>,
    /// Mean first-response business seconds.
    #[serde(with = "serde_number_opt")]
    pub avg_first_response_business_seconds: Option<Decimal>,
    /// Median first-response business seconds.
    pub median_first_response_business_seconds: Option<u64>,
    /// 90th percentile first-response business seconds.
    pub p90_first_response_business_seconds: Option<u64>,
    /// Resolutions with a duration (= tickets_resolved).
    pub resolution_count: u64,
    /// Sum of resolution seconds.
    pub resolution_seconds_sum: i64,
    /// Mean resolution seconds.
    #[serde(with = "serde_number_opt")]
    pub avg_resolution_seconds: Option<Decimal>,
    /// Median resolution seconds.
    pub median_resolution_seconds: Option<u64>,
    /// 90th percentile resolution seconds.
    pub p90_resolution_seconds: Option<u64>,
    /// Mean resolution business seconds.
    #[serde(with = "serde_number_opt")]
    pub avg_resolution_business_seconds: Option<Decimal>,
    /// Median resolution business seconds.
    pub median_resolution_business_seconds: Option<u64>,
    /// 90th percentile resolution business seconds.
    pub p90_resolution_business_seconds: Option<u64>,
    /// Of the resolution seconds, the sum spent in the SLA policy's pause statuses (0 when it
    /// pauses on none).
    pub resolution_paused_seconds_sum: i64,
    /// Mean resolution seconds with the time in pause statuses left out (= the mean resolution
    /// seconds when nothing paused).
    #[serde(with = "serde_number_opt")]
    pub avg_resolution_active_seconds: Option<Decimal>,
    /// The same in business seconds.
    #[serde(with = "serde_number_opt")]
    pub avg_resolution_active_business_seconds: Option<Decimal>,
    /// SLA targets met.
    pub sla_met: u64,
    /// SLA targets breached.
    pub sla_breached: u64,
    /// sla_met / (met + breached) × 100 (2 places).
    #[serde(with = "serde_number_opt")]
    pub sla_compliance_percent: Option<Decimal>,
    /// The agent's call-center figures in the period, when the source reads calls and sessions
    /// ([`WithCallFigures`](crate::update::WithCallFigures)); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calls: Option<crate::metrics::CallFigures>,
}

impl TicketMetrics {
    /// Builds a row from an aggregate.
    pub fn from_aggregate(
        group: &GroupKey,
        start: NaiveDate,
        end: NaiveDate,
        a: &TicketAggregate,
    ) -> Self {
        let (agent_id, team) = match group {
            GroupKey::Agent(a) => (*a, None),
            GroupKey::Team(t) => (None, t.clone()),
            GroupKey::Tenant => (None, None),
        };
        TicketMetrics {
            agent_id,
            team,
            period_start: start,
            period_end: end,
            tickets_assigned: a.tickets_assigned,
            tickets_created: a.tickets_created,
            tickets_resolved: a.tickets_resolved,
            tickets_reopened: a.tickets_reopened,
            transfers_in: a.transfers_in,
            transfers_out: a.transfers_out,
            agent_messages: a.agent_messages,
            resolution_rate_percent: pct(a.assigned_resolved, a.tickets_assigned),
            first_response_count: a.first_response.count,
            first_response_seconds_sum: a.first_response.sum,
            avg_first_response_seconds: a.first_response.mean(),
            median_first_response_seconds: a.first_response.quantile(0.5),
            p90_first_response_seconds: a.first_response.quantile(0.9),
            avg_first_response_business_seconds: a.first_response_business.mean(),
            median_first_response_business_seconds: a.first_response_business.quantile(0.5),
            p90_first_response_business_seconds: a.first_response_business.quantile(0.9),
            resolution_count: a.resolution.count,
            resolution_seconds_sum: a.resolution.sum,
            avg_resolution_seconds: a.resolution.mean(),
            median_resolution_seconds: a.resolution.quantile(0.5),
            p90_resolution_seconds: a.resolution.quantile(0.9),
            avg_resolution_business_seconds: a.resolution_business.mean(),
            median_resolution_business_seconds: a.resolution_business.quantile(0.5),
            p90_resolution_business_seconds: a.resolution_business.quantile(0.9),
            resolution_paused_seconds_sum: a.resolution_paused,
            avg_resolution_active_seconds: active_mean(&a.resolution, a.resolution_paused),
            avg_resolution_active_business_seconds: active_mean(
                &a.resolution_business,
                a.resolution_paused_business,
            ),
            sla_met: a.sla_met,
            sla_breached: a.sla_breached,
            sla_compliance_percent: pct(a.sla_met, a.sla_met + a.sla_breached),
            calls: None,
        }
    }

    /// The value of a catalogue metric for this row, in the metric's unit; `None` when the row
    /// has no data for it (e.g. an average with no durations).
    pub fn metric(&self, key: &str) -> Option<Decimal> {
        let n = |v: u64| Some(Decimal::from(v));
        let q = |v: Option<u64>| v.map(Decimal::from);
        match key {
            "tickets_assigned" => n(self.tickets_assigned),
            "tickets_created" => n(self.tickets_created),
            "tickets_resolved" => n(self.tickets_resolved),
            "tickets_reopened" => n(self.tickets_reopened),
            "transfers_in" => n(self.transfers_in),
            "transfers_out" => n(self.transfers_out),
            "agent_messages" => n(self.agent_messages),
            "resolution_rate" => self.resolution_rate_percent,
            "first_response_count" => n(self.first_response_count),
            "first_response_time_sum" => Some(Decimal::from(self.first_response_seconds_sum)),
            "avg_first_response_time" => self.avg_first_response_seconds,
            "median_first_response_time" => q(self.median_first_response_seconds),
            "p90_first_response_time" => q(self.p90_first_response_seconds),
            "avg_first_response_business_time" => self.avg_first_response_business_seconds,
            "resolution_count" => n(self.resolution_count),
            "resolution_time_sum" => Some(Decimal::from(self.resolution_seconds_sum)),
            "avg_resolution_time" => self.avg_resolution_seconds,
            "median_resolution_time" => q(self.median_resolution_seconds),
            "p90_resolution_time" => q(self.p90_resolution_seconds),
            "avg_resolution_business_time" => self.avg_resolution_business_seconds,
            "resolution_paused_time_sum" => Some(Decimal::from(self.resolution_paused_seconds_sum)),
            "avg_resolution_active_time" => self.avg_resolution_active_seconds,
            "avg_resolution_active_business_time" => self.avg_resolution_active_business_seconds,
            "sla_met" => n(self.sla_met),
            "sla_breached" => n(self.sla_breached),
            "sla_compliance" => self.sla_compliance_percent,
            _ => self.calls.as_ref().and_then(|c| c.metric(key)),
        }
    }
}
