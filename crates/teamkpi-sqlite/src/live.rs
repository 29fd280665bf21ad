//! Live metrics in SQLite: the core's planner over the `live_*` tables, one immediate
//! transaction per batch (writers queue on SQLite's lock within the busy timeout).

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};
use teamkpi::Timestamp;

use teamkpi::engine::{BatchReport, EngineOptions, Event};
use teamkpi::limits::{db_id, db_id_opt};
use teamkpi::live::session_key_column;
use teamkpi::live::{
    group_kind_text, group_text, period_text, plan, LiveChanges, LiveMeta, LiveQuery, LiveReads,
    LiveStore, RowKey, State,
};
use teamkpi::metrics::{AgentSession, Call, GroupBy, TicketKind};

use crate::{date, json, t, to_json, SqliteError, SqliteStore};

/// The live tables. Ids are stored as their 64-bit patterns (`u64` as `i64`).
pub(crate) const MIGRATION: &str = "
    CREATE TABLE live_meta (
        tenant TEXT NOT NULL PRIMARY KEY,
        settings TEXT NOT NULL,
        watermark INTEGER
    );
    CREATE TABLE live_tickets (
        tenant TEXT NOT NULL,
        id INTEGER NOT NULL,
        state TEXT,
        finished INTEGER NOT NULL,
        last_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, id)
    ) WITHOUT ROWID;
    CREATE INDEX live_tickets_evictable ON live_tickets (tenant, last_at)
        WHERE finished = 1 AND state IS NOT NULL;
    CREATE TABLE live_aggregates (
        tenant TEXT NOT NULL,
        period TEXT NOT NULL,
        grp TEXT NOT NULL,
        period_start TEXT NOT NULL,
        grp_kind TEXT NOT NULL,
        period_end TEXT NOT NULL,
        state TEXT NOT NULL,
        PRIMARY KEY (tenant, period, grp, period_start)
    ) WITHOUT ROWID;
    CREATE INDEX live_aggregates_range ON live_aggregates (tenant, period, grp_kind, period_start);
    CREATE TABLE live_calls (
        tenant TEXT NOT NULL,
        id INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (tenant, id)
    );
    CREATE INDEX live_calls_window ON live_calls (tenant, started_at);
    CREATE TABLE live_sessions (
        tenant TEXT NOT NULL,
        id INTEGER NOT NULL,
        agent_id INTEGER NOT NULL,
        start INTEGER,
        end INTEGER,
        state TEXT NOT NULL,
        PRIMARY KEY (tenant, id)
    );
    CREATE INDEX live_sessions_window ON live_sessions (tenant, start);";

/// The open backlog's index (the workload reads open tickets without scanning the history) and
/// each ticket's SLA breach instant (the breaches list reads only open breached tickets).
pub(crate) const MIGRATION_OPEN: &str = "
    ALTER TABLE live_tickets ADD COLUMN breach_at INTEGER;
    ALTER TABLE live_tickets ADD COLUMN agent_id INTEGER;
    ALTER TABLE live_tickets ADD COLUMN kind TEXT NOT NULL DEFAULT 'ticket';
    CREATE INDEX live_tickets_open ON live_tickets (tenant, agent_id, kind) WHERE finished = 0;
    CREATE INDEX live_tickets_breached ON live_tickets (tenant, breach_at)
        WHERE finished = 0 AND breach_at IS NOT NULL;";

/// The ticket states and aggregates as rowid tables keyed by unique indexes. A `WITHOUT ROWID`
/// table keeps whole rows in its interior pages, and these rows are kilobytes: every key
/// lookup copied overflowing states into memory to compare keys (SQLite advises such tables
/// only for rows under ~1/20 of a page). States are blobs in the binary stored form; a state
/// written as JSON text before is still read. The unique keys lead with their most selective
/// column (the ticket id, the period start): a lookup compares an integer or a date first, not
/// the tenant every row shares (`live_sessions.state` keeps its `TEXT`
/// declaration, which stores blobs unchanged).
pub(crate) const MIGRATION_ROWID: &str = "
    CREATE TABLE live_tickets_rowid (
        tenant TEXT NOT NULL,
        id INTEGER NOT NULL,
        state BLOB,
        finished INTEGER NOT NULL,
        last_at INTEGER NOT NULL,
        breach_at INTEGER,
        agent_id INTEGER,
        kind TEXT NOT NULL DEFAULT 'ticket'
    );
    INSERT INTO live_tickets_rowid (tenant, id, state, finished, last_at, breach_at, agent_id, kind)
        SELECT tenant, id, state, finished, last_at, breach_at, agent_id, kind FROM live_tickets;
    DROP TABLE live_tickets;
    ALTER TABLE live_tickets_rowid RENAME TO live_tickets;
    CREATE UNIQUE INDEX live_tickets_key ON live_tickets (id, tenant);
    CREATE INDEX live_tickets_evictable ON live_tickets (tenant, last_at)
        WHERE finished = 1 AND state IS NOT NULL;
    CREATE INDEX live_tickets_open ON live_tickets (tenant, agent_id, kind) WHERE finished = 0;
    CREATE INDEX live_tickets_breached ON live_tickets (tenant, breach_at)
        WHERE finished = 0 AND breach_at IS NOT NULL;
    CREATE TABLE live_aggregates_rowid (
        tenant TEXT NOT NULL,
        period TEXT NOT NULL,
        grp TEXT NOT NULL,
        period_start TEXT NOT NULL,
        grp_kind TEXT NOT NULL,
        period_end TEXT NOT NULL,
        state BLOB NOT NULL
    );
    INSERT INTO live_aggregates_rowid
        SELECT tenant, period, grp, period_start, grp_kind, period_end, state FROM live_aggregates;
    DROP TABLE live_aggregates;
    ALTER TABLE live_aggregates_rowid RENAME TO live_aggregates;
    CREATE UNIQUE INDEX live_aggregates_key
        ON live_aggregates (period_start, grp, period, tenant);
    CREATE INDEX live_aggregates_range ON live_aggregates (tenant, period, grp_kind, period_start);";

struct Reads<'a> {
    tx: &'a Transaction<'a>,
    tenant: &'a str,
    /// The rowids of the rows read, so the write updates them by rowid instead of seeking the
    /// text keys again (the transaction is immediate: they cannot move in between).
    rows: RowIds,
}

#[derive(Default)]
struct RowIds {
    tickets: std::collections::HashMap<u64, i64>,
    aggregates: std::collections::BTreeMap<RowKey, i64>,
}

fn storage(e: rusqlite::Error) -> teamkpi::Error {
    SqliteError::from(e).into()
}

/// A stored state: a blob, or text written before states were binary.
fn state_at(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<State>> {
    use rusqlite::types::{FromSqlError, ValueRef};
    match r.get_ref(i)? {
        ValueRef::Null => Ok(None),
        ValueRef::Blob(b) | ValueRef::Text(b) => Ok(Some(b.to_vec())),
        other => Err(rusqlite::Error::FromSqlConversionFailure(
            i,
            other.data_type(),
            Box::new(FromSqlError::InvalidType),
        )),
    }
}

/// A state column that is never null.
fn state_req(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<State> {
    state_at(r, i)?.ok_or(rusqlite::Error::InvalidColumnType(
        i,
        "state".into(),
        rusqlite::types::Type::Null,
    ))
}

impl LiveReads for Reads<'_> {
    fn meta(&mut self) -> teamkpi::Result<Option<LiveMeta>> {
        self.tx
            .query_row(
                "SELECT settings, watermark FROM live_meta WHERE tenant = ?1",
                [self.tenant],
                |r| {
                    Ok(LiveMeta {
                        settings: r.get(0)?,
                        watermark: r.get(1)?,
                    })
                },
            )
            .optional()
            .map_err(storage)
    }

    fn tickets(&mut self, ids: &[u64]) -> teamkpi::Result<Vec<(u64, Option<State>)>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT rowid, state FROM live_tickets WHERE tenant = ?1 AND id = ?2")
            .map_err(storage)?;
        let mut out = Vec::new();
        for id in ids {
            let row = stmt
                .query_row(params![self.tenant, db_id("id", *id)?], |r| {
                    Ok((r.get::<_, i64>(0)?, state_at(r, 1)?))
                })
                .optional()
                .map_err(storage)?;
            if let Some((rowid, state)) = row {
                self.rows.tickets.insert(*id, rowid);
                out.push((*id, state));
            }
        }
        Ok(out)
    }

    fn aggregates(&mut self, keys: &[RowKey]) -> teamkpi::Result<Vec<(RowKey, State)>> {
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT rowid, state FROM live_aggregates
                 WHERE tenant = ?1 AND period = ?2 AND grp = ?3 AND period_start = ?4",
            )
            .map_err(storage)?;
        let mut out = Vec::new();
        for k in keys {
            let start = k.start.to_string();
            let row = stmt
                .query_row(
                    params![self.tenant, k.period_text(), k.group_text(), start],
                    |r| Ok((r.get::<_, i64>(0)?, state_req(r, 1)?)),
                )
                .optional()
                .map_err(storage)?;
            if let Some((rowid, s)) = row {
                self.rows.aggregates.insert(k.clone(), rowid);
                out.push((k.clone(), s));
            }
        }
        Ok(out)
    }

    fn calls(&mut self, ids: &[u64]) -> teamkpi::Result<Vec<u64>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT 1 FROM live_calls WHERE tenant = ?1 AND id = ?2")
            .map_err(storage)?;
        let mut out = Vec::new();
        for id in ids {
            if stmt
                .exists(params![self.tenant, db_id("id", *id)?])
                .map_err(storage)?
            {
                out.push(*id);
            }
        }
        Ok(out)
    }

    fn sessions(&mut self, ids: &[u64]) -> teamkpi::Result<Vec<(u64, State)>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT state FROM live_sessions WHERE tenant = ?1 AND id = ?2")
            .map_err(storage)?;
        let mut out = Vec::new();
        for id in ids {
            let state: Option<State> = stmt
                .query_row(params![self.tenant, session_key_column(*id)], |r| {
                    state_req(r, 0)
                })
                .optional()
                .map_err(storage)?;
            if let Some(s) = state {
                out.push((*id, s));
            }
        }
        Ok(out)
    }
}

fn write(
    tx: &Transaction<'_>,
    tenant: &str,
    c: &LiveChanges,
    rows: &RowIds,
) -> Result<(), SqliteError> {
    if let Some(m) = &c.meta {
        tx.execute(
            "INSERT INTO live_meta (tenant, settings, watermark) VALUES (?1, ?2, ?3)
             ON CONFLICT (tenant) DO UPDATE SET settings = excluded.settings",
            params![tenant, m.settings, m.watermark],
        )?;
    }
    let mut stmt = tx.prepare_cached(
        "INSERT INTO live_tickets (tenant, id, state, finished, last_at, breach_at, agent_id, kind)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (tenant, id) DO UPDATE SET state = excluded.state,
           finished = excluded.finished, last_at = excluded.last_at,
           breach_at = excluded.breach_at, agent_id = excluded.agent_id, kind = excluded.kind",
    )?;
    let mut update = tx.prepare_cached(
        "UPDATE live_tickets SET state = ?2, finished = ?3, last_at = ?4, breach_at = ?5,
           agent_id = ?6, kind = ?7 WHERE rowid = ?1",
    )?;
    for w in &c.tickets {
        if let Some(rowid) = rows.tickets.get(&w.id) {
            update.execute(params![
                rowid,
                w.state,
                w.finished,
                w.last_at,
                w.breach_at,
                db_id_opt("agent_id", w.agent_id)?,
                w.kind.as_str()
            ])?;
            continue;
        }
        stmt.execute(params![
            tenant,
            db_id("id", w.id)?,
            w.state,
            w.finished,
            w.last_at,
            w.breach_at,
            db_id_opt("agent_id", w.agent_id)?,
            w.kind.as_str()
        ])?;
    }
    let mut put = tx.prepare_cached(
        "INSERT INTO live_aggregates (tenant, period, grp, period_start, grp_kind, period_end, state)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (tenant, period, grp, period_start) DO UPDATE SET state = excluded.state",
    )?;
    let mut delete = tx.prepare_cached(
        "DELETE FROM live_aggregates WHERE tenant = ?1 AND period = ?2 AND grp = ?3
           AND period_start = ?4",
    )?;
    let mut update = tx.prepare_cached("UPDATE live_aggregates SET state = ?2 WHERE rowid = ?1")?;
    let mut delete_row = tx.prepare_cached("DELETE FROM live_aggregates WHERE rowid = ?1")?;
    for a in &c.aggregates {
        if let Some(rowid) = rows.aggregates.get(&a.key) {
            match &a.state {
                Some(s) => update.execute(params![rowid, s])?,
                None => delete_row.execute(params![rowid])?,
            };
            continue;
        }
        let (period, grp, start) = (
            a.key.period_text(),
            a.key.group_text(),
            a.key.start.to_string(),
        );
        match &a.state {
            Some(s) => put.execute(params![
                tenant,
                period,
                grp,
                start,
                group_kind_text(&a.key.group),
                a.end.to_string(),
                s
            ])?,
            None => delete.execute(params![tenant, period, grp, start])?,
        };
    }
    let mut stmt = tx.prepare_cached(
        "INSERT INTO live_calls (tenant, id, started_at, record) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (tenant, id) DO UPDATE SET started_at = excluded.started_at,
           record = excluded.record",
    )?;
    for call in &c.calls {
        stmt.execute(params![
            tenant,
            db_id("id", call.id)?,
            call.started_at.timestamp(),
            to_json(call)?
        ])?;
    }
    let mut stmt = tx.prepare_cached(
        "INSERT INTO live_sessions (tenant, id, agent_id, start, end, state)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (tenant, id) DO UPDATE SET agent_id = excluded.agent_id,
           start = excluded.start, end = excluded.end, state = excluded.state",
    )?;
    for s in &c.sessions {
        stmt.execute(params![
            tenant,
            session_key_column(s.id),
            db_id("agent_id", s.agent_id)?,
            s.start,
            s.end,
            s.state
        ])?;
    }
    Ok(())
}

impl SqliteStore {
    /// `(id, state)` rows of live tickets a query selects.
    fn ticket_states(
        &self,
        sql: &str,
        args: impl rusqlite::Params,
    ) -> teamkpi::Result<Vec<(u64, State)>> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare_cached(sql).map_err(storage)?;
        let rows = stmt
            .query_map(args, |r| Ok((r.get::<_, i64>(0)? as u64, state_req(r, 1)?)))
            .map_err(storage)?;
        rows.map(|r| r.map_err(storage)).collect()
    }
}

impl LiveStore for SqliteStore {
    fn live_apply(
        &self,
        options: &EngineOptions,
        events: &[Event],
    ) -> teamkpi::Result<BatchReport> {
        teamkpi::engine::validate_batch(options.tenant.as_deref(), events)?;
        let tenant = t(options.tenant.as_deref());
        let mut conn = self.lock()?;
        // Immediate: the write lock is taken before anything is read, so two processes never
        // plan against the same rows (no lost update, no upgrade deadlock).
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(storage)?;
        let mut reads = Reads {
            tx: &tx,
            tenant,
            rows: RowIds::default(),
        };
        let (changes, report) = plan(options, events, &mut reads)?;
        let rows = reads.rows;
        write(&tx, tenant, &changes, &rows)?;
        tx.commit().map_err(storage)?;
        Ok(report)
    }

    fn live_aggregates(&self, q: &LiveQuery) -> teamkpi::Result<Vec<(RowKey, NaiveDate, State)>> {
        q.validate()?;
        let conn = self.lock()?;
        let kind = match q.group_by {
            GroupBy::Team => "team",
            _ => "agent",
        };
        let group = q.group.as_ref().map(group_text);
        let mut stmt = conn
            .prepare_cached(
                "SELECT grp, period_start, period_end, state FROM live_aggregates
                 WHERE tenant = ?1 AND period = ?2 AND grp_kind = ?3
                   AND period_start >= ?4 AND period_start <= ?5 AND (?6 IS NULL OR grp = ?6)",
            )
            .map_err(storage)?;
        let rows = stmt
            .query_map(
                params![
                    t(q.tenant.as_deref()),
                    period_text(q.period),
                    kind,
                    q.from.to_string(),
                    q.to.to_string(),
                    group
                ],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        state_req(r, 3)?,
                    ))
                },
            )
            .map_err(storage)?;
        let mut out = Vec::new();
        for row in rows {
            let (grp, start, end, state) = row.map_err(storage)?;
            let key = RowKey::parse(
                period_text(q.period),
                &grp,
                date("live_aggregates", &start)?,
            )?;
            out.push((key, date("live_aggregates", &end)?, state));
        }
        Ok(out)
    }

    fn live_breached_tickets(
        &self,
        tenant: Option<&str>,
        now: DateTime<Utc>,
    ) -> teamkpi::Result<Vec<(u64, State)>> {
        self.ticket_states(
            "SELECT id, state FROM live_tickets
             WHERE tenant = ?1 AND finished = 0 AND breach_at < ?2 AND state IS NOT NULL
             ORDER BY id",
            params![t(tenant), now.timestamp()],
        )
    }

    fn live_open_counts(
        &self,
        tenant: Option<&str>,
    ) -> teamkpi::Result<Vec<(Option<u64>, TicketKind, u64)>> {
        let conn = self.lock()?;
        let mut stmt = conn
            .prepare_cached(
                // Open tickets are never evicted: the count reads the covering index alone.
                "SELECT agent_id, kind, COUNT(*) FROM live_tickets
                 WHERE tenant = ?1 AND finished = 0 GROUP BY agent_id, kind",
            )
            .map_err(storage)?;
        let rows = stmt
            .query_map(params![t(tenant)], |r| {
                Ok((
                    r.get::<_, Option<i64>>(0)?.map(|a| a as u64),
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .map_err(storage)?;
        let mut out = Vec::new();
        for r in rows {
            let (agent, kind, n) = r.map_err(storage)?;
            out.push((agent, TicketKind::parse(&kind)?, n as u64));
        }
        Ok(out)
    }

    fn live_open_tickets(&self, tenant: Option<&str>) -> teamkpi::Result<Vec<(u64, State)>> {
        self.ticket_states(
            "SELECT id, state FROM live_tickets
             WHERE tenant = ?1 AND finished = 0 AND state IS NOT NULL ORDER BY id",
            params![t(tenant)],
        )
    }

    fn live_calls(
        &self,
        tenant: Option<&str>,
        from: Timestamp,
        to: Timestamp,
    ) -> teamkpi::Result<Vec<Call>> {
        let conn = self.lock()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT record FROM live_calls WHERE tenant = ?1 AND started_at >= ?2
                   AND started_at < ?3 ORDER BY id",
            )
            .map_err(storage)?;
        let rows = stmt
            .query_map(params![t(tenant), from.timestamp(), to.timestamp()], |r| {
                r.get::<_, String>(0)
            })
            .map_err(storage)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(json("live_calls", &r.map_err(storage)?)?);
        }
        Ok(out)
    }

    fn live_sessions(
        &self,
        tenant: Option<&str>,
        from: Timestamp,
        to: Timestamp,
    ) -> teamkpi::Result<Vec<AgentSession>> {
        let conn = self.lock()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT agent_id, state FROM live_sessions WHERE tenant = ?1 AND start < ?3
                   AND (end IS NULL OR end > ?2) ORDER BY id",
            )
            .map_err(storage)?;
        let rows = stmt
            .query_map(params![t(tenant), from.timestamp(), to.timestamp()], |r| {
                state_req(r, 1)
            })
            .map_err(storage)?;
        let mut out = Vec::new();
        for r in rows {
            if let Some(s) = teamkpi::live::session_record(tenant, &r.map_err(storage)?)? {
                out.push(s);
            }
        }
        Ok(out)
    }

    fn live_evict(&self, tenant: Option<&str>, before: DateTime<Utc>) -> teamkpi::Result<usize> {
        let mut conn = self.lock()?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(storage)?;
        let n = tx
            .execute(
                "UPDATE live_tickets SET state = NULL
                 WHERE tenant = ?1 AND finished = 1 AND state IS NOT NULL AND last_at < ?2",
                params![t(tenant), before.timestamp()],
            )
            .map_err(storage)?;
        tx.execute(
            "UPDATE live_meta SET watermark = MAX(COALESCE(watermark, ?2), ?2) WHERE tenant = ?1",
            params![t(tenant), before.timestamp()],
        )
        .map_err(storage)?;
        tx.commit().map_err(storage)?;
        Ok(n)
    }

    fn live_settings(&self, tenant: Option<&str>) -> teamkpi::Result<Option<String>> {
        let conn = self.lock()?;
        conn.query_row(
            "SELECT settings FROM live_meta WHERE tenant = ?1",
            [t(tenant)],
            |r| r.get(0),
        )
        .optional()
        .map_err(storage)
    }

    fn live_reset(&self, tenant: Option<&str>) -> teamkpi::Result<()> {
        let mut conn = self.lock()?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(storage)?;
        for table in [
            "live_meta",
            "live_tickets",
            "live_aggregates",
            "live_calls",
            "live_sessions",
        ] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE tenant = ?1"),
                [t(tenant)],
            )
            .map_err(storage)?;
        }
        tx.commit().map_err(storage)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file written before states were binary (schema 4, JSON text states, made by that
    /// version from the first half of the conformance's version-1 fixture stream) upgrades,
    /// keeps its live state and goes on applying.
    #[test]
    fn a_store_with_version_1_states_upgrades_and_keeps_applying() {
        let (dir, path) = crate::upgrade_tests::file_at_schema("state-v1", 4);
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch(include_str!("../tests/fixtures/live-state-v1.sql"))
                .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), 8);

        teamkpi::conformance::live::version_1_state_keeps_applying(&store);

        let kinds: Vec<String> = {
            let conn = store.lock().unwrap();
            let mut stmt = conn
                .prepare("SELECT DISTINCT typeof(state) FROM live_aggregates ORDER BY 1")
                .unwrap();
            let rows = stmt.query_map([], |r| r.get(0)).unwrap();
            rows.map(Result::unwrap).collect()
        };
        assert_eq!(
            kinds,
            ["blob", "text"],
            "rewritten rows are binary, the others kept"
        );
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
