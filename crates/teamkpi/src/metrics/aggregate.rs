//! Mergeable aggregate states: counts, duration statistics and the per-group ticket aggregate.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::metrics::sketch::QuantileSketch;
use crate::metrics::Mergeable;

/// Count, sum and (optionally) a quantile sketch of durations in seconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DurationStats {
    /// How many durations.
    pub count: u64,
    /// Their sum in seconds.
    pub sum: i64,
    /// Their distribution, when quantiles were asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sketch: Option<QuantileSketch>,
}

impl DurationStats {
    /// Stats that keep a sketch (for median and p90).
    pub fn with_sketch() -> Self {
        DurationStats {
            sketch: Some(QuantileSketch::new()),
            ..Self::default()
        }
    }

    /// Adds a duration.
    pub fn add(&mut self, seconds: i64) {
        self.count += 1;
        self.sum += seconds;
        if let Some(s) = self.sketch.as_mut() {
            s.insert(seconds.max(0) as u64);
        }
    }

    /// Removes a duration added before.
    pub fn remove(&mut self, seconds: i64) {
        self.count = self.count.saturating_sub(1);
        self.sum -= seconds;
        if let Some(s) = self.sketch.as_mut() {
            s.remove(seconds.max(0) as u64);
        }
    }

    /// The mean in seconds (exact decimal); `None` with no data.
    pub fn mean(&self) -> Option<Decimal> {
        (self.count > 0).then(|| Decimal::from(self.sum) / Decimal::from(self.count))
    }

    /// A quantile in seconds from the sketch; `None` with no data or no sketch.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        self.sketch.as_ref().and_then(|s| s.quantile(q))
    }
}

impl Mergeable for DurationStats {
    fn merge(&mut self, other: &Self) {
        // An empty side is the identity whether or not it keeps a sketch; otherwise a side
        // without a sketch makes the merged quantiles unknowable, so they are dropped rather
        // than reported from a distribution that misses values.
        match (self.sketch.as_mut(), other.sketch.as_ref()) {
            (Some(a), Some(b)) => a.merge(b),
            (None, Some(b)) if self.count == 0 => self.sketch = Some(b.clone()),
            (Some(_), None) if other.count > 0 => self.sketch = None,
            _ => {}
        }
        self.count += other.count;
        self.sum += other.sum;
    }
}

/// Everything counted for one group (agent, team or tenant) and one period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketAggregate {
    /// Tickets assigned to the group in the period (handled).
    pub tickets_assigned: u64,
    /// Of those, the ones resolved by the period's end (or `as_of`).
    pub assigned_resolved: u64,
    /// Tickets created in the period (credited to their first assignee).
    pub tickets_created: u64,
    /// Resolutions in the period.
    pub tickets_resolved: u64,
    /// Reopenings in the period.
    pub tickets_reopened: u64,
    /// Tickets transferred to the group.
    pub transfers_in: u64,
    /// Tickets transferred away from the group.
    pub transfers_out: u64,
    /// Agent messages sent.
    pub agent_messages: u64,
    /// First-response times (calendar seconds), bucketed by the response instant.
    pub first_response: DurationStats,
    /// First-response times in business seconds (when a calendar is given).
    pub first_response_business: DurationStats,
    /// Resolution times (calendar seconds), bucketed by the resolution instant.
    pub resolution: DurationStats,
    /// Resolution times in business seconds (when a calendar is given).
    pub resolution_business: DurationStats,
    /// SLA targets met.
    pub sla_met: u64,
    /// SLA targets breached.
    pub sla_breached: u64,
}

impl Mergeable for TicketAggregate {
    fn merge(&mut self, o: &Self) {
        self.tickets_assigned += o.tickets_assigned;
        self.assigned_resolved += o.assigned_resolved;
        self.tickets_created += o.tickets_created;
        self.tickets_resolved += o.tickets_resolved;
        self.tickets_reopened += o.tickets_reopened;
        self.transfers_in += o.transfers_in;
        self.transfers_out += o.transfers_out;
        self.agent_messages += o.agent_messages;
        self.first_response.merge(&o.first_response);
        self.first_response_business
            .merge(&o.first_response_business);
        self.resolution.merge(&o.resolution);
        self.resolution_business.merge(&o.resolution_business);
        self.sla_met += o.sla_met;
        self.sla_breached += o.sla_breached;
    }
}

impl TicketAggregate {
    /// An empty aggregate whose duration stats keep sketches when `quantiles` is set.
    pub fn new(quantiles: bool) -> Self {
        let d = || {
            if quantiles {
                DurationStats::with_sketch()
            } else {
                DurationStats::default()
            }
        };
        TicketAggregate {
            first_response: d(),
            first_response_business: d(),
            resolution: d(),
            resolution_business: d(),
            ..Self::default()
        }
    }

    /// True when nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.tickets_assigned == 0
            && self.tickets_created == 0
            && self.tickets_resolved == 0
            && self.tickets_reopened == 0
            && self.transfers_in == 0
            && self.transfers_out == 0
            && self.agent_messages == 0
            && self.first_response.count == 0
            && self.resolution.count == 0
            && self.sla_met == 0
            && self.sla_breached == 0
    }
}
