//! Live metrics in PostgreSQL: the core's planner over the `teamkpi_live_*` tables. A batch is
//! one transaction that first takes a per-tenant advisory lock, so concurrent writers (any
//! number of processes) queue instead of planning against the same rows: no lost update, no
//! deadlock. Reads and writes go in one round trip per table (arrays and `unnest`).

use chrono::{DateTime, NaiveDate, Utc};
use postgres::Transaction;
use teamkpi::Timestamp;

use teamkpi::engine::{BatchReport, EngineOptions, Event};
use teamkpi::limits::{db_id, db_id_opt};
use teamkpi::live::session_key_column;
use teamkpi::live::{
    group_kind_text, group_text, period_text, plan, LiveChanges, LiveMeta, LiveQuery, LiveReads,
    LiveStore, RowKey, State,
};
use teamkpi::metrics::{AgentSession, Call, GroupBy, TicketKind};

use crate::{corrupt, pg, t, PgError, PgStore};

/// The live tables. Ids are stored as their 64-bit patterns (`u64` as `i64`).
pub(crate) const MIGRATION: &str = "
    CREATE TABLE IF NOT EXISTS teamkpi_live_meta (
        tenant TEXT NOT NULL PRIMARY KEY,
        settings TEXT NOT NULL,
        watermark BIGINT);
    CREATE TABLE IF NOT EXISTS teamkpi_live_tickets (
        tenant TEXT NOT NULL, id BIGINT NOT NULL, state TEXT, finished BOOLEAN NOT NULL,
        last_at BIGINT NOT NULL, PRIMARY KEY (tenant, id));
    CREATE INDEX IF NOT EXISTS teamkpi_live_tickets_evictable
        ON teamkpi_live_tickets (tenant, last_at) WHERE finished AND state IS NOT NULL;
    CREATE TABLE IF NOT EXISTS teamkpi_live_aggregates (
        tenant TEXT NOT NULL, period TEXT NOT NULL, grp TEXT NOT NULL, period_start TEXT NOT NULL,
        grp_kind TEXT NOT NULL, period_end TEXT NOT NULL, state TEXT NOT NULL,
        PRIMARY KEY (tenant, period, grp, period_start));
    CREATE INDEX IF NOT EXISTS teamkpi_live_aggregates_range
        ON teamkpi_live_aggregates (tenant, period, grp_kind, period_start);
    CREATE TABLE IF NOT EXISTS teamkpi_live_calls (
        tenant TEXT NOT NULL, id BIGINT NOT NULL, started_at BIGINT NOT NULL,
        record JSONB NOT NULL, PRIMARY KEY (tenant, id));
    CREATE INDEX IF NOT EXISTS teamkpi_live_calls_window ON teamkpi_live_calls (tenant, started_at);
    CREATE TABLE IF NOT EXISTS teamkpi_live_sessions (
        tenant TEXT NOT NULL, id BIGINT NOT NULL, agent_id BIGINT NOT NULL, start_at BIGINT,
        end_at BIGINT, state TEXT NOT NULL, PRIMARY KEY (tenant, id));
    CREATE INDEX IF NOT EXISTS teamkpi_live_sessions_window
        ON teamkpi_live_sessions (tenant, start_at);";

/// The open backlog's index (the workload reads open tickets without scanning the history) and
/// each ticket's SLA breach instant (the breaches list reads only open breached tickets).
pub(crate) const MIGRATION_OPEN: &str = "
    ALTER TABLE teamkpi_live_tickets ADD COLUMN IF NOT EXISTS breach_at BIGINT;
    ALTER TABLE teamkpi_live_tickets ADD COLUMN IF NOT EXISTS agent_id BIGINT;
    ALTER TABLE teamkpi_live_tickets ADD COLUMN IF NOT EXISTS kind TEXT NOT NULL DEFAULT 'ticket';
    CREATE INDEX IF NOT EXISTS teamkpi_live_tickets_open
        ON teamkpi_live_tickets (tenant, agent_id, kind) WHERE NOT finished;
    CREATE INDEX IF NOT EXISTS teamkpi_live_tickets_breached
        ON teamkpi_live_tickets (tenant, breach_at) WHERE NOT finished AND breach_at IS NOT NULL;";

/// States become `BYTEA` in the binary stored form; JSON text written before is kept as its
/// UTF-8 bytes, which the core still reads.
pub(crate) const MIGRATION_BINARY: &str = "
    ALTER TABLE teamkpi_live_tickets ALTER COLUMN state TYPE BYTEA USING convert_to(state, 'UTF8');
    ALTER TABLE teamkpi_live_aggregates
        ALTER COLUMN state TYPE BYTEA USING convert_to(state, 'UTF8');
    ALTER TABLE teamkpi_live_sessions
        ALTER COLUMN state TYPE BYTEA USING convert_to(state, 'UTF8');";

struct Reads<'a, 'b> {
    tx: &'a mut Transaction<'b>,
    tenant: &'a str,
}

/// Ids as `BIGINT`s, each checked to fit (`out_of_range`).
fn db_ids(field: &str, ids: impl Iterator<Item = u64>) -> teamkpi::Result<Vec<i64>> {
    ids.map(|id| db_id(field, id)).collect()
}

fn ids_of(ids: &[u64]) -> teamkpi::Result<Vec<i64>> {
    ids.iter().map(|i| db_id("id", *i)).collect()
}

impl LiveReads for Reads<'_, '_> {
    fn meta(&mut self) -> teamkpi::Result<Option<LiveMeta>> {
        let row = self
            .tx
            .query_opt(
                "SELECT settings, watermark FROM teamkpi_live_meta WHERE tenant = $1",
                &[&self.tenant],
            )
            .map_err(pg)?;
        Ok(row.map(|r| LiveMeta {
            settings: r.get(0),
            watermark: r.get(1),
        }))
    }

    fn tickets(&mut self, ids: &[u64]) -> teamkpi::Result<Vec<(u64, Option<State>)>> {
        let rows = self
            .tx
            .query(
                "SELECT id, state FROM teamkpi_live_tickets WHERE tenant = $1 AND id = ANY($2)",
                &[&self.tenant, &ids_of(ids)?],
            )
            .map_err(pg)?;
        Ok(id_and_second(&rows))
    }

    fn aggregates(&mut self, keys: &[RowKey]) -> teamkpi::Result<Vec<(RowKey, State)>> {
        let periods: Vec<&str> = keys.iter().map(RowKey::period_text).collect();
        let groups: Vec<String> = keys.iter().map(RowKey::group_text).collect();
        let starts: Vec<String> = keys.iter().map(|k| k.start.to_string()).collect();
        let rows = self
            .tx
            .query(
                "SELECT a.period, a.grp, a.period_start, a.state
                 FROM teamkpi_live_aggregates a
                 JOIN unnest($2::text[], $3::text[], $4::text[]) AS k(period, grp, start)
                   ON a.period = k.period AND a.grp = k.grp AND a.period_start = k.start
                 WHERE a.tenant = $1",
                &[&self.tenant, &periods, &groups, &starts],
            )
            .map_err(pg)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let start: String = r.get(2);
            let key = RowKey::parse(r.get(0), r.get(1), day(&start)?)?;
            out.push((key, r.get(3)));
        }
        Ok(out)
    }

    fn calls(&mut self, ids: &[u64]) -> teamkpi::Result<Vec<u64>> {
        let rows = self
            .tx
            .query(
                "SELECT id FROM teamkpi_live_calls WHERE tenant = $1 AND id = ANY($2)",
                &[&self.tenant, &ids_of(ids)?],
            )
            .map_err(pg)?;
        Ok(rows.iter().map(|r| r.get::<_, i64>(0) as u64).collect())
    }

    fn sessions(&mut self, ids: &[u64]) -> teamkpi::Result<Vec<(u64, State)>> {
        let rows = self
            .tx
            .query(
                "SELECT id, state FROM teamkpi_live_sessions WHERE tenant = $1 AND id = ANY($2)",
                &[
                    &self.tenant,
                    &ids.iter()
                        .map(|i| session_key_column(*i))
                        .collect::<Vec<_>>(),
                ],
            )
            .map_err(pg)?;
        Ok(id_and_second(&rows))
    }
}

/// Rows of (id, value): ids are stored as their 64-bit patterns.
fn id_and_second<'a, T: postgres::types::FromSql<'a>>(rows: &'a [postgres::Row]) -> Vec<(u64, T)> {
    rows.iter()
        .map(|r| (r.get::<_, i64>(0) as u64, r.get(1)))
        .collect()
}

fn day(s: &str) -> teamkpi::Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| corrupt("teamkpi_live_aggregates", format!("{s:?}: {e}")).into())
}

fn write(tx: &mut Transaction<'_>, tenant: &str, c: &LiveChanges) -> Result<(), PgError> {
    if let Some(m) = &c.meta {
        tx.execute(
            "INSERT INTO teamkpi_live_meta (tenant, settings, watermark) VALUES ($1, $2, $3)
             ON CONFLICT (tenant) DO UPDATE SET settings = excluded.settings",
            &[&tenant, &m.settings, &m.watermark],
        )?;
    }
    if !c.tickets.is_empty() {
        let ids = db_ids("id", c.tickets.iter().map(|w| w.id))?;
        let states: Vec<&[u8]> = c.tickets.iter().map(|w| w.state.as_slice()).collect();
        let finished: Vec<bool> = c.tickets.iter().map(|w| w.finished).collect();
        let last: Vec<i64> = c.tickets.iter().map(|w| w.last_at).collect();
        let breach: Vec<Option<i64>> = c.tickets.iter().map(|w| w.breach_at).collect();
        let agents: Vec<Option<i64>> = c
            .tickets
            .iter()
            .map(|w| db_id_opt("agent_id", w.agent_id))
            .collect::<teamkpi::Result<_>>()?;
        let kinds: Vec<&str> = c.tickets.iter().map(|w| w.kind.as_str()).collect();
        tx.execute(
            "INSERT INTO teamkpi_live_tickets
               (tenant, id, state, finished, last_at, breach_at, agent_id, kind)
             SELECT $1, * FROM unnest($2::bigint[], $3::bytea[], $4::bool[], $5::bigint[],
                                      $6::bigint[], $7::bigint[], $8::text[])
             ON CONFLICT (tenant, id) DO UPDATE SET state = excluded.state,
               finished = excluded.finished, last_at = excluded.last_at,
               breach_at = excluded.breach_at, agent_id = excluded.agent_id,
               kind = excluded.kind",
            &[
                &tenant, &ids, &states, &finished, &last, &breach, &agents, &kinds,
            ],
        )?;
    }
    let (put, gone): (Vec<_>, Vec<_>) = c.aggregates.iter().partition(|a| a.state.is_some());
    if !put.is_empty() {
        let periods: Vec<&str> = put.iter().map(|a| a.key.period_text()).collect();
        let groups: Vec<String> = put.iter().map(|a| a.key.group_text()).collect();
        let starts: Vec<String> = put.iter().map(|a| a.key.start.to_string()).collect();
        let kinds: Vec<&str> = put.iter().map(|a| group_kind_text(&a.key.group)).collect();
        let ends: Vec<String> = put.iter().map(|a| a.end.to_string()).collect();
        let states: Vec<&[u8]> = put
            .iter()
            .map(|a| a.state.as_deref().unwrap_or_default())
            .collect();
        tx.execute(
            "INSERT INTO teamkpi_live_aggregates
               (tenant, period, grp, period_start, grp_kind, period_end, state)
             SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[],
               $6::text[], $7::bytea[])
             ON CONFLICT (tenant, period, grp, period_start) DO UPDATE SET state = excluded.state",
            &[&tenant, &periods, &groups, &starts, &kinds, &ends, &states],
        )?;
    }
    if !gone.is_empty() {
        let periods: Vec<&str> = gone.iter().map(|a| a.key.period_text()).collect();
        let groups: Vec<String> = gone.iter().map(|a| a.key.group_text()).collect();
        let starts: Vec<String> = gone.iter().map(|a| a.key.start.to_string()).collect();
        tx.execute(
            "DELETE FROM teamkpi_live_aggregates a
             USING unnest($2::text[], $3::text[], $4::text[]) AS k(period, grp, start)
             WHERE a.tenant = $1 AND a.period = k.period AND a.grp = k.grp
               AND a.period_start = k.start",
            &[&tenant, &periods, &groups, &starts],
        )?;
    }
    if !c.calls.is_empty() {
        let ids = db_ids("id", c.calls.iter().map(|x| x.id))?;
        let started: Vec<i64> = c.calls.iter().map(|x| x.started_at.timestamp()).collect();
        let records = c
            .calls
            .iter()
            .map(|x| serde_json::to_value(x).map_err(|e| corrupt("teamkpi_live_calls", e)))
            .collect::<Result<Vec<serde_json::Value>, _>>()?;
        tx.execute(
            "INSERT INTO teamkpi_live_calls (tenant, id, started_at, record)
             SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::jsonb[])
             ON CONFLICT (tenant, id) DO UPDATE SET started_at = excluded.started_at,
               record = excluded.record",
            &[&tenant, &ids, &started, &records],
        )?;
    }
    if !c.sessions.is_empty() {
        let ids: Vec<i64> = c
            .sessions
            .iter()
            .map(|s| session_key_column(s.id))
            .collect();
        let agents = db_ids("agent_id", c.sessions.iter().map(|s| s.agent_id))?;
        let starts: Vec<Option<i64>> = c.sessions.iter().map(|s| s.start).collect();
        let ends: Vec<Option<i64>> = c.sessions.iter().map(|s| s.end).collect();
        let states: Vec<&[u8]> = c.sessions.iter().map(|s| s.state.as_slice()).collect();
        tx.execute(
            "INSERT INTO teamkpi_live_sessions (tenant, id, agent_id, start_at, end_at, state)
             SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[],
               $6::bytea[])
             ON CONFLICT (tenant, id) DO UPDATE SET agent_id = excluded.agent_id,
               start_at = excluded.start_at, end_at = excluded.end_at, state = excluded.state",
            &[&tenant, &ids, &agents, &starts, &ends, &states],
        )?;
    }
    Ok(())
}

/// Takes the tenant's live-state lock for the rest of the transaction.
fn lock_tenant(tx: &mut Transaction<'_>, tenant: &str) -> Result<(), PgError> {
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('teamkpi-live:' || $1, 0))",
        &[&tenant],
    )?;
    Ok(())
}

impl LiveStore for PgStore {
    fn live_apply(
        &self,
        options: &EngineOptions,
        events: &[Event],
    ) -> teamkpi::Result<BatchReport> {
        teamkpi::engine::validate_batch(options.tenant.as_deref(), events)?;
        let tenant = t(options.tenant.as_deref());
        let mut client = self.lock()?;
        let mut tx = client.transaction().map_err(pg)?;
        lock_tenant(&mut tx, tenant)?;
        let (changes, report) = plan(
            options,
            events,
            &mut Reads {
                tx: &mut tx,
                tenant,
            },
        )?;
        write(&mut tx, tenant, &changes)?;
        tx.commit().map_err(pg)?;
        Ok(report)
    }

    fn live_aggregates(&self, q: &LiveQuery) -> teamkpi::Result<Vec<(RowKey, NaiveDate, State)>> {
        q.validate()?;
        let kind = match q.group_by {
            GroupBy::Team => "team",
            _ => "agent",
        };
        let group = q.group.as_ref().map(group_text);
        let rows = self
            .lock()?
            .query(
                "SELECT grp, period_start, period_end, state FROM teamkpi_live_aggregates
                 WHERE tenant = $1 AND period = $2 AND grp_kind = $3
                   AND period_start >= $4 AND period_start <= $5
                   AND ($6::text IS NULL OR grp = $6)",
                &[
                    &t(q.tenant.as_deref()),
                    &period_text(q.period),
                    &kind,
                    &q.from.to_string(),
                    &q.to.to_string(),
                    &group,
                ],
            )
            .map_err(pg)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let (start, end): (String, String) = (r.get(1), r.get(2));
            let key = RowKey::parse(period_text(q.period), r.get(0), day(&start)?)?;
            out.push((key, day(&end)?, r.get(3)));
        }
        Ok(out)
    }

    fn live_breached_tickets(
        &self,
        tenant: Option<&str>,
        now: DateTime<Utc>,
    ) -> teamkpi::Result<Vec<(u64, State)>> {
        let rows = self
            .lock()?
            .query(
                "SELECT id, state FROM teamkpi_live_tickets
                 WHERE tenant = $1 AND NOT finished AND breach_at < $2 AND state IS NOT NULL
                 ORDER BY id",
                &[&t(tenant), &now.timestamp()],
            )
            .map_err(pg)?;
        Ok(id_and_second(&rows))
    }

    fn live_open_counts(
        &self,
        tenant: Option<&str>,
    ) -> teamkpi::Result<Vec<(Option<u64>, TicketKind, u64)>> {
        let rows = self
            .lock()?
            .query(
                "SELECT agent_id, kind, COUNT(*) FROM teamkpi_live_tickets
                 WHERE tenant = $1 AND NOT finished GROUP BY agent_id, kind",
                &[&t(tenant)],
            )
            .map_err(pg)?;
        rows.into_iter()
            .map(|r| {
                Ok((
                    r.get::<_, Option<i64>>(0).map(|a| a as u64),
                    TicketKind::parse(r.get::<_, &str>(1))?,
                    r.get::<_, i64>(2) as u64,
                ))
            })
            .collect()
    }

    fn live_open_tickets(&self, tenant: Option<&str>) -> teamkpi::Result<Vec<(u64, State)>> {
        let rows = self
            .lock()?
            .query(
                "SELECT id, state FROM teamkpi_live_tickets
                 WHERE tenant = $1 AND NOT finished AND state IS NOT NULL ORDER BY id",
                &[&t(tenant)],
            )
            .map_err(pg)?;
        Ok(id_and_second(&rows))
    }

    fn live_calls(
        &self,
        tenant: Option<&str>,
        from: Timestamp,
        to: Timestamp,
    ) -> teamkpi::Result<Vec<Call>> {
        let rows = self
            .lock()?
            .query(
                "SELECT record FROM teamkpi_live_calls WHERE tenant = $1 AND started_at >= $2
                   AND started_at < $3 ORDER BY id",
                &[&t(tenant), &from.timestamp(), &to.timestamp()],
            )
            .map_err(pg)?;
        rows.into_iter()
            .map(|r| {
                serde_json::from_value(r.get(0))
                    .map_err(|e| corrupt("teamkpi_live_calls", e).into())
            })
            .collect()
    }

    fn live_sessions(
        &self,
        tenant: Option<&str>,
        from: Timestamp,
        to: Timestamp,
    ) -> teamkpi::Result<Vec<AgentSession>> {
        let rows = self
            .lock()?
            .query(
                "SELECT state FROM teamkpi_live_sessions WHERE tenant = $1 AND start_at < $3
                   AND (end_at IS NULL OR end_at > $2) ORDER BY id",
                &[&t(tenant), &from.timestamp(), &to.timestamp()],
            )
            .map_err(pg)?;
        let mut out = Vec::new();
        for r in rows {
            let state: State = r.get(0);
            if let Some(s) = teamkpi::live::session_record(tenant, &state)? {
                out.push(s);
            }
        }
        Ok(out)
    }

    fn live_evict(&self, tenant: Option<&str>, before: DateTime<Utc>) -> teamkpi::Result<usize> {
        let mut client = self.lock()?;
        let mut tx = client.transaction().map_err(pg)?;
        lock_tenant(&mut tx, t(tenant))?;
        let n = tx
            .execute(
                "UPDATE teamkpi_live_tickets SET state = NULL
                 WHERE tenant = $1 AND finished AND state IS NOT NULL AND last_at < $2",
                &[&t(tenant), &before.timestamp()],
            )
            .map_err(pg)?;
        tx.execute(
            "UPDATE teamkpi_live_meta SET watermark = GREATEST(COALESCE(watermark, $2), $2)
             WHERE tenant = $1",
            &[&t(tenant), &before.timestamp()],
        )
        .map_err(pg)?;
        tx.commit().map_err(pg)?;
        Ok(n as usize)
    }

    fn live_settings(&self, tenant: Option<&str>) -> teamkpi::Result<Option<String>> {
        let row = self
            .lock()?
            .query_opt(
                "SELECT settings FROM teamkpi_live_meta WHERE tenant = $1",
                &[&t(tenant)],
            )
            .map_err(pg)?;
        Ok(row.map(|r| r.get(0)))
    }

    fn live_reset(&self, tenant: Option<&str>) -> teamkpi::Result<()> {
        let mut client = self.lock()?;
        let mut tx = client.transaction().map_err(pg)?;
        lock_tenant(&mut tx, t(tenant))?;
        for table in [
            "teamkpi_live_meta",
            "teamkpi_live_tickets",
            "teamkpi_live_aggregates",
            "teamkpi_live_calls",
            "teamkpi_live_sessions",
        ] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE tenant = $1"),
                &[&t(tenant)],
            )
            .map_err(pg)?;
        }
        tx.commit().map_err(pg)?;
        Ok(())
    }
}
