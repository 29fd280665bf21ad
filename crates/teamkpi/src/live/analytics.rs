//! Analytics over live day rows: the same results as over the ticket snapshots of the same
//! activity, from one read of the window's day rows instead of a ticket scan.

use chrono::{DateTime, NaiveDate, Utc};
use std::collections::{BTreeMap, BTreeSet};

use super::{decoded_rows, lite_day_rows, plan::ticket_snapshot, LiveQuery, LiveStore};
use crate::error::Result;
use crate::metrics::analytics::{sla_breach_list, SlaBreachList};
use crate::metrics::analytics::{
    AnalyticsOptions, Scope, WindowSource, WindowTotals, WorkloadDistribution,
};
use crate::metrics::{GroupBy, GroupKey, Ticket, TicketAggregate};
use crate::period::{local_date, PeriodKind};
use crate::sla::{SlaAnalytics, SlaCounts, SlaGroupBy, SlaPolicy, TicketTimeline};

/// A [`WindowSource`] over a store's live day rows, as of the options' `now`: each window's
/// total merges the day rows in it ([`TicketAggregate::window_total`]), the tenant's from its
/// team rows (a ticket belongs to one team). The workload reads the open backlog.
///
/// ```
/// use teamkpi::engine::{EngineOptions, Event, EventKind};
/// use teamkpi::live::{LiveStore, LiveWindows};
/// use teamkpi::metrics::analytics::{performance_of, AnalyticsOptions};
/// use teamkpi::InMemoryStore;
/// use chrono::{TimeZone, Utc};
/// let store = InMemoryStore::new();
/// let at = Utc.with_ymd_and_hms(2025, 11, 3, 9, 0, 0).unwrap();
/// let created = Event { id: "ticket:1:created".into(), tenant: None, at,
///     kind: EventKind::TicketCreated { ticket_id: 1, agent_id: Some(7), team: None,
///         priority: None, kind: Default::default() } };
/// store.live_apply(&EngineOptions::new(chrono_tz::UTC), &[created]).unwrap();
/// let options = AnalyticsOptions::new(chrono_tz::UTC, at, 30);
/// let p = performance_of(&LiveWindows::new(&store, &options), &options, Some(7)).unwrap();
/// assert_eq!(p.tickets_handled, 1);
/// ```
pub struct LiveWindows<'a> {
    store: &'a dyn LiveStore,
    options: &'a AnalyticsOptions,
}

impl<'a> LiveWindows<'a> {
    /// The live figures of `options.tenant` in `store`, as of `options.now`.
    pub fn new(store: &'a dyn LiveStore, options: &'a AnalyticsOptions) -> Self {
        LiveWindows { store, options }
    }
}

impl WindowSource for LiveWindows<'_> {
    fn totals(
        &self,
        scope: Scope,
        windows: &[(NaiveDate, NaiveDate)],
    ) -> Result<Vec<WindowTotals>> {
        let (Some(from), Some(to)) = (
            windows.iter().map(|w| w.0).min(),
            windows.iter().map(|w| w.1).max(),
        ) else {
            return Ok(Vec::new());
        };
        let (group_by, group) = match scope {
            Scope::Agent(a) => (GroupBy::Agent, Some(GroupKey::Agent(Some(a)))),
            Scope::Agents => (GroupBy::Agent, None),
            Scope::Tenant => (GroupBy::Team, None),
        };
        let query = LiveQuery {
            tenant: self.options.tenant.clone(),
            period: PeriodKind::Day,
            group_by,
            group,
            from,
            to,
        };
        let mut by_group: BTreeMap<GroupKey, Vec<(NaiveDate, TicketAggregate)>> = BTreeMap::new();
        for (key, _, agg) in lite_day_rows(self.store, &query, self.options.now)? {
            by_group
                .entry(key.group)
                .or_default()
                .push((key.start, agg));
        }
        Ok(windows
            .iter()
            .map(|(from, to)| {
                let mut out = WindowTotals::new();
                for (group, rows) in &by_group {
                    let total = TicketAggregate::window_total(
                        rows.iter().map(|(d, a)| (*d, a)),
                        *from,
                        *to,
                    );
                    if total.counts_nothing() {
                        continue;
                    }
                    let key = match scope {
                        Scope::Tenant => GroupKey::Tenant,
                        _ => group.clone(),
                    };
                    match out.get_mut(&key) {
                        Some(acc) => crate::metrics::Mergeable::merge(acc, &total),
                        None => {
                            out.insert(key, total);
                        }
                    }
                }
                out
            })
            .collect())
    }

    fn workload(&self) -> Result<WorkloadDistribution> {
        // Counted by the store per assignee and kind: no ticket state is read.
        Ok(WorkloadDistribution::from_counts(
            self.store
                .live_open_counts(self.options.tenant.as_deref())?,
        ))
    }
}

/// The snapshots of the open tickets held in live state (neither resolved nor closed), by id.
pub fn live_open_snapshots(store: &dyn LiveStore, tenant: Option<&str>) -> Result<Vec<Ticket>> {
    let mut out = Vec::new();
    for (id, state) in store.live_open_tickets(tenant)? {
        if let Some(t) = ticket_snapshot(tenant, id, &state)? {
            out.push(t);
        }
    }
    out.sort_by_key(|t| t.id);
    Ok(out)
}

impl LiveWindows<'_> {
    /// The desk's SLA analytics of the tickets created in `[from, to)`, as
    /// [`sla_analytics`](crate::sla::sla_analytics) gives them over the tickets' evaluations at
    /// the options' `now` (their SLA tasks, in the live day rows of their creation): grouped as
    /// asked, or one agent's tasks (the current assignee's) grouped by nothing.
    pub fn sla_analytics(
        &self,
        policy: &SlaPolicy,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        group_by: SlaGroupBy,
        agent: Option<u64>,
    ) -> Result<Vec<SlaAnalytics>> {
        if to < from {
            return Err(crate::error::Error::range("window", from, to));
        }
        if agent.is_some() && group_by == SlaGroupBy::Team {
            return Err(crate::error::Error::argument(
                "group_by",
                "one agent's SLA tasks are not grouped by team",
            ));
        }
        let tz = self.options.timezone;
        let by_agent = agent.is_some() || group_by == SlaGroupBy::Agent;
        let query = LiveQuery {
            tenant: self.options.tenant.clone(),
            period: PeriodKind::Day,
            group_by: if by_agent {
                GroupBy::Agent
            } else {
                GroupBy::Team
            },
            group: agent.map(|a| GroupKey::Agent(Some(a))),
            from: local_date(tz, from),
            to: local_date(tz, to),
        };
        let (from_s, to_s, now) = (
            from.timestamp(),
            to.timestamp(),
            self.options.now.timestamp(),
        );
        let name = policy.spec().name.clone();
        let mut counts = SlaCounts::new(group_by);
        for (key, _, row) in decoded_rows(self.store, &query, None, true)? {
            let Some(w) = &row.window else { continue };
            let group = match group_by {
                SlaGroupBy::All => (None, None, None),
                SlaGroupBy::Agent => match &key.group {
                    GroupKey::Agent(a) => (*a, None, None),
                    _ => continue,
                },
                SlaGroupBy::Team => match &key.group {
                    GroupKey::Team(t) => (None, t.clone(), None),
                    _ => continue,
                },
                SlaGroupBy::Policy => (None, None, Some(name.clone())),
            };
            for ((_, breach), (n, resolved)) in
                w.sla_tasks.range((from_s, i64::MIN)..(to_s, i64::MIN))
            {
                if *breach < now {
                    counts.count(group.clone(), *n, true, false);
                } else {
                    counts.count(group.clone(), *resolved, false, true);
                    counts.count(group.clone(), n.saturating_sub(*resolved), false, false);
                }
            }
        }
        Ok(counts.rows())
    }

    /// The desk's list of active SLA breaches at the options' `now`: every breached target of the
    /// open tickets (neither resolved nor closed), one agent's (the current assignee's) when
    /// asked — as [`SlaPolicy::scan`] finds them in the open tickets' snapshots, reading only the
    /// open tickets whose SLA counts as breached.
    pub fn sla_breaches(&self, policy: &SlaPolicy, agent: Option<u64>) -> Result<SlaBreachList> {
        let tenant = self.options.tenant.as_deref();
        let mut timelines = Vec::new();
        for (id, state) in self.store.live_breached_tickets(tenant, self.options.now)? {
            if let Some(t) = ticket_snapshot(tenant, id, &state)? {
                timelines.push(TicketTimeline::from_ticket(&t));
            }
        }
        let scan = policy.scan(&timelines, self.options.now, &BTreeSet::new());
        Ok(sla_breach_list(&scan, agent))
    }
}
