//! The aggregates the engine keeps current: one mergeable state per period kind (day, week, month)
//! and the day buckets that map instants to them.

use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;

use crate::hashing::FastBuild;
use crate::metrics::Contribution;
use crate::metrics::{GroupKey, MetricsOptions, TicketMetricsState};
use crate::period::{local_date, local_midnight, ZoneOffsets};

/// The aggregates of the three period kinds (day, week, month) and how instants map to them.
#[derive(Debug, Clone)]
pub(crate) struct Ledger {
    pub(crate) metrics: [MetricsOptions; 3],
    pub(crate) offsets: ZoneOffsets,
    pub(crate) states: [TicketMetricsState; 3],
    pub(crate) day: DayBuckets,
    pub(crate) quantiles: bool,
}

/// The periods (day, week, month) of the last local day seen: events mostly arrive for "today",
/// so most bucket look-ups are two integer compares, and most aggregate updates go straight to
/// the agent's three rows (one small hash probe instead of three keyed by group and period:
/// ~25 against ~130 ns for a reply).
#[derive(Debug, Clone, Default)]
pub(crate) struct DayBuckets {
    /// The local day's UTC bounds `[from, until)`; empty until the first look-up.
    pub(crate) from: i64,
    pub(crate) until: i64,
    pub(crate) buckets: [Option<(NaiveDate, NaiveDate)>; 3],
    /// Each agent's row slots in the three states for `buckets`; emptied with the window and
    /// whenever the states are pruned.
    pub(crate) slots: HashMap<Option<u64>, [u32; 3], FastBuild>,
}

impl DayBuckets {
    pub(crate) fn get(
        &mut self,
        metrics: &[MetricsOptions; 3],
        offsets: &ZoneOffsets,
        at: DateTime<Utc>,
    ) -> [Option<(NaiveDate, NaiveDate)>; 3] {
        let t = at.timestamp();
        if self.from <= t && t < self.until {
            return self.buckets;
        }
        let buckets = [0, 1, 2].map(|i| metrics[i].bucket_at(offsets, at));
        let tz = metrics[0].timezone;
        let date = local_date(tz, at);
        let from = local_midnight(tz, date).timestamp();
        let until = date.succ_opt().map(|d| local_midnight(tz, d).timestamp());
        // Cached only for a day with one UTC offset throughout (no DST change inside it), so
        // every instant of the window has this local date.
        if let Some(until) = until {
            let steady = offsets.offset_at(tz, from) == offsets.offset_at(tz, until - 1);
            if steady && from <= t && t < until {
                *self = DayBuckets {
                    from,
                    until,
                    buckets,
                    slots: HashMap::default(),
                };
            }
        }
        buckets
    }
}

impl Ledger {
    /// The buckets (day, week, month) of an instant.
    pub(crate) fn buckets(&mut self, at: DateTime<Utc>) -> [Option<(NaiveDate, NaiveDate)>; 3] {
        self.day.get(&self.metrics, &self.offsets, at)
    }

    /// Adds `c` to the agent's rows of the periods (day, week, month) that `periods` selects,
    /// for the instant `at`; returns the local day.
    pub(crate) fn credit(
        &mut self,
        at: DateTime<Utc>,
        agent: Option<u64>,
        c: Contribution,
        periods: [bool; 3],
    ) -> Option<NaiveDate> {
        let buckets = self.buckets(at);
        let (quantiles, day_window, states) = (self.quantiles, &mut self.day, &mut self.states);
        if periods == [false; 3] {
            return buckets[0].map(|b| b.0);
        }
        let t = at.timestamp();
        let cached = day_window.from <= t && t < day_window.until;
        if let (true, [Some(day), Some(week), Some(month)]) = (cached, buckets) {
            let slots = match day_window.slots.get(&agent) {
                Some(slots) => *slots,
                None => {
                    let [d, w, m] = &mut *states;
                    let g = GroupKey::Agent(agent);
                    let slots = [
                        d.slot(g.clone(), day, quantiles),
                        w.slot(g.clone(), week, quantiles),
                        m.slot(g, month, quantiles),
                    ];
                    day_window.slots.insert(agent, slots);
                    slots
                }
            };
            for ((slot, state), on) in slots.into_iter().zip(states.iter_mut()).zip(periods) {
                if on {
                    c.apply(state.at_slot(slot), 1);
                }
            }
        } else {
            for ((bucket, state), on) in buckets.into_iter().zip(states.iter_mut()).zip(periods) {
                if let (Some(b), true) = (bucket, on) {
                    c.apply(state.entry(GroupKey::Agent(agent), b, quantiles), 1);
                }
            }
        }
        buckets[0].map(|b| b.0)
    }
}
