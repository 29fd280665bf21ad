//! SLA analytics: the tasks created in a window counted per group (all, agent, team, policy),
//! breached and resolved on time, with their rates.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::num::{percent_of as percent, serde_number_opt};

use super::{SlaEvaluation, SlaPolicy, TicketTimeline};

/// How SLA analytics are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaGroupBy {
    /// One row for everything.
    All,
    /// One row per assignee (tickets without one are grouped under `null`).
    Agent,
    /// One row per team.
    Team,
    /// One row per policy.
    Policy,
}

/// The support automation's SLA analytics for one group. Rates are percents rounded to 2 places; `null`
/// when the group has no SLA task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaAnalytics {
    /// The agent of the row (agent grouping).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<u64>,
    /// The team of the row (team grouping).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// The policy of the row (policy grouping).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Tickets with an SLA created in the window, pending ones included.
    pub total_sla_tasks: u64,
    /// Of those, tickets with any target breached.
    pub breached_count: u64,
    /// Of those, tickets resolved with no target breached.
    pub resolved_on_time: u64,
    /// resolved_on_time / total × 100.
    #[serde(with = "serde_number_opt")]
    pub compliance_rate_percent: Option<Decimal>,
    /// breached_count / total × 100.
    #[serde(with = "serde_number_opt")]
    pub breach_rate_percent: Option<Decimal>,
}

/// The support automation's SLA analytics over evaluations (see [`SlaPolicy::evaluate`]) of tickets created in
/// `[from, to)`, grouped as asked, rows ordered by group.
///
/// ```
/// use teamkpi::{sla_analytics, SlaGroupBy};
/// use chrono::{TimeZone, Utc};
/// let from = Utc.with_ymd_and_hms(2025, 11, 1, 0, 0, 0).unwrap();
/// let rows = sla_analytics(&[], from, from, SlaGroupBy::All).unwrap();
/// assert_eq!(rows[0].total_sla_tasks, 0);
/// assert_eq!(rows[0].compliance_rate_percent, None);
/// ```
pub fn sla_analytics(
    evaluations: &[SlaEvaluation],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    group_by: SlaGroupBy,
) -> Result<Vec<SlaAnalytics>> {
    if to < from {
        return Err(Error::range("window", from, to));
    }
    let mut groups = SlaCounts::new(group_by);
    for e in evaluations
        .iter()
        .filter(|e| e.has_sla && e.created_at >= from && e.created_at < to)
    {
        let key = match group_by {
            SlaGroupBy::All => (None, None, None),
            SlaGroupBy::Agent => (e.agent_id, None, None),
            SlaGroupBy::Team => (None, e.team.clone(), None),
            SlaGroupBy::Policy => (None, None, Some(e.policy.clone())),
        };
        groups.count(key, 1, e.is_breached(), e.resolved);
    }
    Ok(groups.rows())
}

/// SLA tasks counted per group: (total, breached, resolved on time).
pub(crate) struct SlaCounts(BTreeMap<SlaGroupKey, (u64, u64, u64)>);

/// A group of SLA analytics: agent, team, policy (the ones not grouped by are `None`).
pub(crate) type SlaGroupKey = (Option<u64>, Option<String>, Option<String>);

impl SlaCounts {
    /// No tasks yet; grouped by nothing, the one row exists even when empty.
    pub(crate) fn new(group_by: SlaGroupBy) -> Self {
        let mut groups = BTreeMap::new();
        if group_by == SlaGroupBy::All {
            groups.insert((None, None, None), (0, 0, 0));
        }
        SlaCounts(groups)
    }

    /// Counts `n` tasks of a group, breached or (else) resolved on time or neither.
    pub(crate) fn count(&mut self, key: SlaGroupKey, n: u64, breached: bool, resolved: bool) {
        let g = self.0.entry(key).or_insert((0, 0, 0));
        g.0 += n;
        if breached {
            g.1 += n;
        } else if resolved {
            g.2 += n;
        }
    }

    /// The rows, ordered by group.
    pub(crate) fn rows(self) -> Vec<SlaAnalytics> {
        self.0
            .into_iter()
            .map(
                |((agent_id, team, policy), (total, breached, on_time))| SlaAnalytics {
                    agent_id,
                    team,
                    policy,
                    total_sla_tasks: total,
                    breached_count: breached,
                    resolved_on_time: on_time,
                    compliance_rate_percent: percent(on_time, total),
                    breach_rate_percent: percent(breached, total),
                },
            )
            .collect()
    }
}

/// The SLA analytics of ticket timelines: each evaluated with `policy` at `now`, then counted as
/// [`sla_analytics`] does. What every surface (Python, Node, the CLI's report) calls.
pub fn sla_analytics_of(
    policy: &SlaPolicy,
    timelines: &[TicketTimeline],
    now: DateTime<Utc>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    group_by: SlaGroupBy,
) -> Result<Vec<SlaAnalytics>> {
    let evaluations = timelines
        .iter()
        .map(|t| policy.evaluate(t, now))
        .collect::<Result<Vec<_>>>()?;
    sla_analytics(&evaluations, from, to, group_by)
}
