//! Analytics over live day rows: the same results as over the ticket snapshots of the same
//! activity, from one read of the window's day rows instead of a ticket scan.

use chrono::NaiveDate;
use std::collections::BTreeMap;

use super::{live_aggregate_rows, plan::ticket_snapshot, LiveQuery, LiveStore};
use crate::error::Result;
use crate::metrics::analytics::{
    workload_distribution, AnalyticsOptions, Scope, WindowSource, WindowTotals,
    WorkloadDistribution,
};
use crate::metrics::{GroupBy, GroupKey, Ticket, TicketAggregate};
use crate::period::PeriodKind;

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
        for (key, _, agg) in live_aggregate_rows(self.store, &query, Some(self.options.now))? {
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
        let tickets = live_open_snapshots(self.store, self.options.tenant.as_deref())?;
        Ok(workload_distribution(
            &tickets,
            self.options.tenant.as_deref(),
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
