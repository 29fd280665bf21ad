//! Live metrics in the in-memory store: the same planner over maps, under the store's lock.

use crate::period::Timestamp;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeMap;

use super::{
    group_kind_text, plan, LiveChanges, LiveMeta, LiveQuery, LiveReads, LiveStore, RowKey, State,
};
use crate::engine::{BatchReport, EngineOptions, Event};
use crate::error::Result;
use crate::metrics::{AgentSession, Call, TicketKind};
use crate::store::InMemoryStore;

/// A live ticket row.
#[derive(Debug, Clone)]
struct TicketRow {
    /// `None` once evicted.
    state: Option<State>,
    finished: bool,
    last_at: i64,
    breach_at: Option<i64>,
    agent_id: Option<u64>,
    kind: TicketKind,
}

/// One tenant's live tables.
#[derive(Debug, Clone, Default)]
pub(crate) struct MemoryTables {
    meta: Option<LiveMeta>,
    tickets: BTreeMap<u64, TicketRow>,
    aggregates: BTreeMap<RowKey, (NaiveDate, State)>,
    calls: BTreeMap<u64, Call>,
    sessions: BTreeMap<u64, State>,
}

impl LiveReads for &MemoryTables {
    fn meta(&mut self) -> Result<Option<LiveMeta>> {
        Ok(self.meta.clone())
    }
    fn tickets(&mut self, ids: &[u64]) -> Result<Vec<(u64, Option<State>)>> {
        Ok(ids
            .iter()
            .filter_map(|id| self.tickets.get(id).map(|t| (*id, t.state.clone())))
            .collect())
    }
    fn aggregates(&mut self, keys: &[RowKey]) -> Result<Vec<(RowKey, State)>> {
        Ok(keys
            .iter()
            .filter_map(|k| self.aggregates.get(k).map(|(_, s)| (k.clone(), s.clone())))
            .collect())
    }
    fn calls(&mut self, ids: &[u64]) -> Result<Vec<u64>> {
        Ok(ids
            .iter()
            .filter(|id| self.calls.contains_key(id))
            .copied()
            .collect())
    }
    fn sessions(&mut self, ids: &[u64]) -> Result<Vec<(u64, State)>> {
        Ok(ids
            .iter()
            .filter_map(|id| self.sessions.get(id).map(|s| (*id, s.clone())))
            .collect())
    }
}

impl MemoryTables {
    fn write(&mut self, changes: LiveChanges) {
        if let Some(m) = changes.meta {
            self.meta = Some(m);
        }
        for t in changes.tickets {
            self.tickets.insert(
                t.id,
                TicketRow {
                    state: Some(t.state),
                    finished: t.finished,
                    last_at: t.last_at,
                    breach_at: t.breach_at,
                    agent_id: t.agent_id,
                    kind: t.kind,
                },
            );
        }
        for a in changes.aggregates {
            match a.state {
                Some(s) => self.aggregates.insert(a.key, (a.end, s)),
                None => self.aggregates.remove(&a.key),
            };
        }
        for c in changes.calls {
            self.calls.insert(c.id, c);
        }
        for s in changes.sessions {
            self.sessions.insert(s.id, s.state);
        }
    }
}

impl InMemoryStore {
    /// The states of a tenant's open tickets held that `keep` accepts, by id.
    fn held_open(
        &self,
        tenant: Option<&str>,
        keep: impl Fn(&TicketRow) -> bool,
    ) -> Result<Vec<(u64, State)>> {
        let inner = self.lock()?;
        Ok(inner
            .live
            .get(&tenant.map(str::to_owned))
            .map_or_else(Vec::new, |t| {
                t.tickets
                    .iter()
                    .filter_map(|(id, row)| match &row.state {
                        Some(s) if !row.finished && keep(row) => Some((*id, s.clone())),
                        _ => None,
                    })
                    .collect()
            }))
    }
}

impl LiveStore for InMemoryStore {
    fn live_apply(&self, options: &EngineOptions, events: &[Event]) -> Result<BatchReport> {
        let mut inner = self.lock()?;
        let tables = inner.live.entry(options.tenant.clone()).or_default();
        let (changes, report) = plan(options, events, &mut &*tables)?;
        tables.write(changes);
        Ok(report)
    }

    fn live_aggregates(&self, q: &LiveQuery) -> Result<Vec<(RowKey, NaiveDate, State)>> {
        q.validate()?;
        let inner = self.lock()?;
        let Some(tables) = inner.live.get(&q.tenant) else {
            return Ok(Vec::new());
        };
        let kind = super::group_kind_text(&match q.group_by {
            crate::metrics::GroupBy::Team => crate::metrics::GroupKey::Team(None),
            _ => crate::metrics::GroupKey::Agent(None),
        });
        Ok(tables
            .aggregates
            .iter()
            .filter(|(k, _)| {
                k.period == q.period
                    && group_kind_text(&k.group) == kind
                    && q.group.as_ref().is_none_or(|g| *g == k.group)
                    && q.from <= k.start
                    && k.start <= q.to
            })
            .map(|(k, (end, s))| (k.clone(), *end, s.clone()))
            .collect())
    }

    fn live_calls(
        &self,
        tenant: Option<&str>,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Call>> {
        let inner = self.lock()?;
        let key = tenant.map(str::to_owned);
        Ok(inner.live.get(&key).map_or_else(Vec::new, |t| {
            t.calls
                .values()
                .filter(|c| from <= c.started_at && c.started_at < to)
                .cloned()
                .collect()
        }))
    }

    fn live_sessions(
        &self,
        tenant: Option<&str>,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<AgentSession>> {
        let inner = self.lock()?;
        let key = tenant.map(str::to_owned);
        let mut out = Vec::new();
        if let Some(t) = inner.live.get(&key) {
            for text in t.sessions.values() {
                if let Some(s) = super::session_record(tenant, text)? {
                    if s.start < to && s.end.is_none_or(|e| e > from) {
                        out.push(s);
                    }
                }
            }
        }
        Ok(out)
    }

    fn live_evict(&self, tenant: Option<&str>, before: DateTime<Utc>) -> Result<usize> {
        let mut inner = self.lock()?;
        let t = inner.live.entry(tenant.map(str::to_owned)).or_default();
        let horizon = before.timestamp();
        let mut evicted = 0;
        for row in t.tickets.values_mut() {
            if row.state.is_some() && row.finished && row.last_at < horizon {
                row.state = None;
                evicted += 1;
            }
        }
        if let Some(m) = t.meta.as_mut() {
            m.watermark = m.watermark.max(Some(horizon));
        }
        Ok(evicted)
    }

    fn live_reset(&self, tenant: Option<&str>) -> Result<()> {
        self.lock()?.live.remove(&tenant.map(str::to_owned));
        Ok(())
    }

    fn live_settings(&self, tenant: Option<&str>) -> Result<Option<String>> {
        let inner = self.lock()?;
        let tables = inner.live.get(&tenant.map(str::to_owned));
        Ok(tables
            .and_then(|t| t.meta.as_ref())
            .map(|m| m.settings.clone()))
    }

    fn live_breached_tickets(
        &self,
        tenant: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Vec<(u64, State)>> {
        let now = now.timestamp();
        self.held_open(tenant, |row| row.breach_at.is_some_and(|b| b < now))
    }

    fn live_open_tickets(&self, tenant: Option<&str>) -> Result<Vec<(u64, State)>> {
        self.held_open(tenant, |_| true)
    }

    fn live_open_counts(
        &self,
        tenant: Option<&str>,
    ) -> Result<Vec<(Option<u64>, TicketKind, u64)>> {
        let inner = self.lock()?;
        let mut counts: BTreeMap<(Option<u64>, &'static str), (TicketKind, u64)> = BTreeMap::new();
        if let Some(t) = inner.live.get(&tenant.map(str::to_owned)) {
            for row in t
                .tickets
                .values()
                .filter(|r| !r.finished && r.state.is_some())
            {
                counts
                    .entry((row.agent_id, row.kind.as_str()))
                    .or_insert((row.kind, 0))
                    .1 += 1;
            }
        }
        Ok(counts
            .into_iter()
            .map(|((agent, _), (kind, n))| (agent, kind, n))
            .collect())
    }
}
