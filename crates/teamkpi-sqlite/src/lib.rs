//! # teamkpi-sqlite
//!
//! The embedded default store of teamkpi: every storage trait of the core on a bundled SQLite
//! (no server), with versioned, idempotent migrations, the KPI tables (`kpi_definitions`,
//! `user_kpis`, `kpi_measurements`), manual values, rollups and activity tables (tickets, calls,
//! sessions, contacts, campaigns, agents, company settings, SLA policies).
//!
//! Every query is scoped to one tenant (`''` in the `tenant` columns stands for no tenant).
//! Decimals are stored as text, so targets, weights and achievements keep their exact value —
//! an achievement of 30 000 % stores fine, unlike the KPI tables' `DECIMAL(5,2)`. Batches run in one
//! transaction: a failing row leaves nothing half-written.
//!
//! ```
//! use teamkpi::{DefinitionStore, from_json};
//! let store = teamkpi_sqlite::SqliteStore::open_in_memory().unwrap();
//! store.upsert_definition(&from_json(serde_json::json!({
//!     "key": "resolved", "name": "Cases Resolved", "unit": "count",
//!     "target_type": "higher_better", "aggregation_period": "weekly",
//!     "source": {"type": "query", "query_key": "cases_resolved_count"}})).unwrap()).unwrap();
//! assert_eq!(store.definitions(None).unwrap().len(), 1);
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use rust_decimal::Decimal;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard};
use teamkpi::store::tenant_of_key as opt_tenant;
use teamkpi::Timestamp;

use teamkpi::limits::{db_id, db_id_opt};
use teamkpi::metrics::{AgentSession, Call, Campaign, Contact, Ticket};
use teamkpi::store::merged_rollup;
use teamkpi::{
    ActivitySource, AgentState, AssignmentFilter, AssignmentStore, DefinitionStore, KpiAssignment,
    KpiDefinition, KpiSource, ManualValue, ManualValueStore, Measurement, MeasurementStore,
    Mergeable, NewKpiAssignment, RollupKey, RollupStore,
};

/// Errors of the SQLite store. Through the core's traits they become `teamkpi::Error::Storage`
/// (code `storage`); input errors keep their core code.
#[derive(Debug, thiserror::Error)]
pub enum SqliteError {
    /// SQLite reported an error (including "file is not a database").
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored value does not decode.
    #[error("corrupt row in {table}: {reason}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// An error of the core (bad input).
    #[error(transparent)]
    Core(#[from] teamkpi::Error),
}

impl SqliteError {
    /// The stable code: `storage` for database problems, the core's code for input errors.
    pub fn code(&self) -> &'static str {
        match self {
            SqliteError::Core(e) => e.code(),
            _ => "storage",
        }
    }
}

impl From<SqliteError> for teamkpi::Error {
    fn from(e: SqliteError) -> Self {
        match e {
            SqliteError::Core(e) => e,
            other => teamkpi::Error::Storage(other.to_string()),
        }
    }
}

type Result<T, E = SqliteError> = std::result::Result<T, E>;

mod live;
#[cfg(test)]
mod upgrade_tests;

/// The migrations, in order. Each runs once, recorded in `schema_migrations`.
const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        "CREATE TABLE kpi_definitions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            tenant TEXT NOT NULL DEFAULT '',
            key TEXT NOT NULL,
            name TEXT NOT NULL,
            description TEXT,
            category TEXT,
            calculation_type TEXT NOT NULL,
            config TEXT,
            unit TEXT NOT NULL,
            target_type TEXT NOT NULL,
            aggregation_period TEXT NOT NULL,
            is_active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
            updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
            UNIQUE (tenant, key)
        );
        CREATE TABLE user_kpis (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            tenant TEXT NOT NULL DEFAULT '',
            user_id INTEGER NOT NULL,
            kpi_definition_id INTEGER NOT NULL REFERENCES kpi_definitions(id) ON DELETE CASCADE,
            target_value TEXT NOT NULL,
            weight TEXT NOT NULL DEFAULT '100',
            start_date TEXT NOT NULL,
            end_date TEXT,
            assigned_by INTEGER,
            assigned_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
            is_active INTEGER NOT NULL DEFAULT 1
        );
        CREATE UNIQUE INDEX user_kpis_one_active
            ON user_kpis (tenant, user_id, kpi_definition_id, start_date) WHERE is_active = 1;
        CREATE INDEX idx_user_kpis_user ON user_kpis (tenant, user_id) WHERE is_active = 1;
        CREATE TABLE kpi_measurements (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            tenant TEXT NOT NULL DEFAULT '',
            user_kpi_id INTEGER NOT NULL REFERENCES user_kpis(id) ON DELETE CASCADE,
            period_start TEXT NOT NULL,
            period_end TEXT NOT NULL,
            complete INTEGER NOT NULL,
            actual_value TEXT NOT NULL,
            target_value TEXT NOT NULL,
            achievement_percentage TEXT NOT NULL,
            metadata TEXT NOT NULL DEFAULT '{}',
            calculated_at TEXT NOT NULL,
            UNIQUE (user_kpi_id, period_start, period_end)
        );
        CREATE INDEX idx_kpi_measurements_lookup ON kpi_measurements (user_kpi_id, period_start DESC);
        CREATE TABLE kpi_manual_values (
            tenant TEXT NOT NULL DEFAULT '',
            user_kpi_id INTEGER NOT NULL REFERENCES user_kpis(id) ON DELETE CASCADE,
            period_start TEXT NOT NULL,
            period_end TEXT NOT NULL,
            value TEXT NOT NULL,
            recorded_by INTEGER,
            recorded_at TEXT NOT NULL,
            PRIMARY KEY (user_kpi_id, period_start, period_end)
        );
        CREATE TABLE kpi_rollups (
            tenant TEXT NOT NULL DEFAULT '',
            name TEXT NOT NULL,
            grp TEXT NOT NULL,
            period_start TEXT NOT NULL,
            partial_id TEXT NOT NULL,
            state TEXT NOT NULL,
            PRIMARY KEY (tenant, name, grp, period_start, partial_id)
        );",
    ),
    (
        2,
        "CREATE TABLE tickets (
            tenant TEXT NOT NULL DEFAULT '',
            id INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            last_activity_at INTEGER NOT NULL,
            is_open INTEGER NOT NULL,
            agent_id INTEGER,
            record TEXT NOT NULL,
            PRIMARY KEY (tenant, id)
        );
        CREATE INDEX idx_tickets_window ON tickets (tenant, last_activity_at, created_at);
        CREATE TABLE calls (
            tenant TEXT NOT NULL DEFAULT '',
            id INTEGER NOT NULL,
            agent_id INTEGER NOT NULL,
            started_at INTEGER NOT NULL,
            record TEXT NOT NULL,
            PRIMARY KEY (tenant, id)
        );
        CREATE INDEX idx_calls_window ON calls (tenant, started_at);
        CREATE TABLE agent_sessions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            tenant TEXT NOT NULL DEFAULT '',
            agent_id INTEGER NOT NULL,
            start INTEGER NOT NULL,
            end INTEGER,
            record TEXT NOT NULL
        );
        CREATE INDEX idx_sessions_window ON agent_sessions (tenant, start);
        CREATE TABLE contacts (
            tenant TEXT NOT NULL DEFAULT '',
            id INTEGER NOT NULL,
            record TEXT NOT NULL,
            PRIMARY KEY (tenant, id)
        );
        CREATE TABLE campaigns (
            tenant TEXT NOT NULL DEFAULT '',
            id INTEGER NOT NULL,
            record TEXT NOT NULL,
            PRIMARY KEY (tenant, id)
        );
        CREATE TABLE agents (
            tenant TEXT NOT NULL DEFAULT '',
            id INTEGER NOT NULL,
            name TEXT,
            record TEXT NOT NULL,
            PRIMARY KEY (tenant, id)
        );
        CREATE TABLE company_settings (
            tenant TEXT NOT NULL PRIMARY KEY,
            timezone TEXT NOT NULL DEFAULT 'UTC',
            assignment TEXT NOT NULL,
            sla_policy TEXT
        );",
    ),
    (3, live::MIGRATION),
    (4, live::MIGRATION_OPEN),
    (5, live::MIGRATION_ROWID),
    (
        6,
        "CREATE TABLE sla_alerts (
            tenant TEXT NOT NULL,
            key TEXT NOT NULL,
            alerted_at INTEGER NOT NULL,
            PRIMARY KEY (tenant, key)
        );",
    ),
    (7, "ALTER TABLE company_settings ADD COLUMN calendar TEXT;"),
    (
        // Ad-hoc measurements of requested ranges sit beside the natural ones, same bounds too;
        // SQLite cannot change a UNIQUE constraint in place, so the table is rebuilt.
        8,
        "CREATE TABLE kpi_measurements_next (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            tenant TEXT NOT NULL DEFAULT '',
            user_kpi_id INTEGER NOT NULL REFERENCES user_kpis(id) ON DELETE CASCADE,
            period_start TEXT NOT NULL,
            period_end TEXT NOT NULL,
            complete INTEGER NOT NULL,
            actual_value TEXT NOT NULL,
            target_value TEXT NOT NULL,
            achievement_percentage TEXT NOT NULL,
            metadata TEXT NOT NULL DEFAULT '{}',
            calculated_at TEXT NOT NULL,
            ad_hoc INTEGER NOT NULL DEFAULT 0,
            UNIQUE (user_kpi_id, period_start, period_end, ad_hoc)
        );
        INSERT INTO kpi_measurements_next (id, tenant, user_kpi_id, period_start, period_end,
            complete, actual_value, target_value, achievement_percentage, metadata, calculated_at)
        SELECT id, tenant, user_kpi_id, period_start, period_end, complete, actual_value,
            target_value, achievement_percentage, metadata, calculated_at FROM kpi_measurements;
        DROP TABLE kpi_measurements;
        ALTER TABLE kpi_measurements_next RENAME TO kpi_measurements;
        CREATE INDEX idx_kpi_measurements_lookup ON kpi_measurements (user_kpi_id, period_start DESC);",
    ),
];

fn t(tenant: Option<&str>) -> &str {
    teamkpi::store::tenant_key(tenant)
}

fn corrupt(table: &'static str, reason: impl ToString) -> SqliteError {
    SqliteError::Corrupt {
        table,
        reason: reason.to_string(),
    }
}

fn dec(table: &'static str, s: &str) -> Result<Decimal> {
    Decimal::from_str(s).map_err(|e| corrupt(table, format!("{s:?}: {e}")))
}

fn date(table: &'static str, s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| corrupt(table, format!("{s:?}: {e}")))
}

fn instant(table: &'static str, s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| corrupt(table, format!("{s:?}: {e}")))
}

fn json<T: serde::de::DeserializeOwned>(table: &'static str, s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| corrupt(table, e))
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| corrupt("json", e))
}

/// The store.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (or creates) a database file and runs pending migrations.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let conn = Connection::open(path)?;
        Self::init(conn)
    }

    /// A private in-memory database (tests, examples).
    pub fn open_in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // WAL with synchronous=NORMAL: a commit survives the process being killed (the WAL is
        // written before commit returns) and costs no fsync; only an OS crash or power loss can
        // lose the last commits, never corrupt the file.
        // 8 KiB pages (a new file only; an existing one keeps its size): a team's live day row
        // is a few kilobytes, and on 4 KiB pages most spilled to overflow pages — batched
        // apply at 100 000 retained tickets +10 %, single events unchanged (16 KiB pages
        // write twice the bytes per single event).
        conn.execute_batch(
            "PRAGMA page_size = 8192; PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
             PRAGMA cache_size = -32768;",
        )?;
        let store = SqliteStore {
            conn: Mutex::new(conn),
        };
        store.migrate()?;
        Ok(store)
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>> {
        self.conn
            .lock()
            .map_err(|_| corrupt("connection", "lock poisoned"))
    }

    /// Runs the migrations not yet applied; running it again changes nothing. Returns the
    /// schema version.
    pub fn migrate(&self) -> Result<i64> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY,
                applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)",
        )?;
        let current: i64 = tx.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )?;
        for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (version) VALUES (?1)",
                [version],
            )?;
        }
        tx.commit()?;
        Ok(MIGRATIONS.last().map_or(0, |m| m.0))
    }

    /// The applied schema version.
    pub fn schema_version(&self) -> Result<i64> {
        let conn = self.lock()?;
        Ok(conn.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )?)
    }

    /// Runs `f` in one transaction: all of it is written or none.
    pub fn transaction<R>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<R>) -> Result<R> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        let r = f(&tx)?;
        tx.commit()?;
        Ok(r)
    }

    /// The integer row ids of the tenant's definitions with their keys (the KPI tables'
    /// `kpi_definitions.id`, which front ends send as `kpi_definition_id`), by id.
    pub fn definition_ids(&self, tenant: Option<&str>) -> Result<Vec<(u64, String)>> {
        let conn = self.lock()?;
        let mut stmt = conn
            .prepare_cached("SELECT id, key FROM kpi_definitions WHERE tenant = ?1 ORDER BY id")?;
        let rows = stmt.query_map(params![t(tenant)], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    // ---- activity ------------------------------------------------------------------------

    /// Inserts or replaces tickets, in one transaction (validated first).
    pub fn put_tickets(&self, tickets: &[Ticket]) -> Result<usize> {
        for tk in tickets {
            tk.validate()?;
        }
        self.transaction(|tx| {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO tickets (tenant, id, created_at, last_activity_at, is_open, agent_id, record)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (tenant, id) DO UPDATE SET created_at = excluded.created_at,
                   last_activity_at = excluded.last_activity_at, is_open = excluded.is_open,
                   agent_id = excluded.agent_id, record = excluded.record",
            )?;
            for tk in tickets {
                let last = tk.last_activity_at().timestamp();
                stmt.execute(params![
                    t(tk.tenant.as_deref()),
                    db_id("id", tk.id)?,
                    tk.created_at.timestamp(),
                    last,
                    tk.is_open(),
                    db_id_opt("agent_id", tk.agent_id)?,
                    to_json(tk)?
                ])?;
            }
            Ok(tickets.len())
        })
    }

    /// Open tickets of a tenant (neither resolved nor closed), by id.
    pub fn open_tickets(&self, tenant: Option<&str>) -> Result<Vec<Ticket>> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare_cached(
            "SELECT record FROM tickets WHERE tenant = ?1 AND is_open = 1 ORDER BY id",
        )?;
        let rows = stmt.query_map([t(tenant)], |r| r.get::<_, String>(0))?;
        rows.map(|r| json("tickets", &r?)).collect()
    }

    /// One ticket.
    pub fn ticket(&self, tenant: Option<&str>, id: u64) -> Result<Option<Ticket>> {
        let conn = self.lock()?;
        let rec: Option<String> = conn
            .query_row(
                "SELECT record FROM tickets WHERE tenant = ?1 AND id = ?2",
                params![t(tenant), db_id("id", id)?],
                |r| r.get(0),
            )
            .optional()?;
        rec.map(|r| json("tickets", &r)).transpose()
    }

    /// Inserts or replaces calls, in one transaction.
    pub fn put_calls(&self, calls: &[Call]) -> Result<usize> {
        for c in calls {
            c.validate()?;
        }
        self.transaction(|tx| {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO calls (tenant, id, agent_id, started_at, record) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (tenant, id) DO UPDATE SET agent_id = excluded.agent_id,
                   started_at = excluded.started_at, record = excluded.record",
            )?;
            for c in calls {
                stmt.execute(params![
                    t(c.tenant.as_deref()),
                    db_id("id", c.id)?,
                    db_id("agent_id", c.agent_id)?,
                    c.started_at.timestamp(),
                    to_json(c)?
                ])?;
            }
            Ok(calls.len())
        })
    }

    /// Adds session intervals, in one transaction.
    pub fn put_sessions(&self, sessions: &[AgentSession]) -> Result<usize> {
        for s in sessions {
            s.validate()?;
        }
        self.transaction(|tx| {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO agent_sessions (tenant, agent_id, start, end, record) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for s in sessions {
                stmt.execute(params![
                    t(s.tenant.as_deref()),
                    db_id("agent_id", s.agent_id)?,
                    s.start.timestamp(),
                    s.end.map(|e| e.timestamp()),
                    to_json(s)?
                ])?;
            }
            Ok(sessions.len())
        })
    }

    /// Inserts or replaces contacts.
    pub fn put_contacts(&self, contacts: &[Contact]) -> Result<usize> {
        self.put_records("contacts", contacts, |c| (c.tenant.as_deref(), c.id))
    }

    /// Inserts or replaces campaigns.
    pub fn put_campaigns(&self, campaigns: &[Campaign]) -> Result<usize> {
        self.put_records("campaigns", campaigns, |c| (c.tenant.as_deref(), c.id))
    }

    fn put_records<T: serde::Serialize>(
        &self,
        table: &'static str,
        records: &[T],
        key: impl Fn(&T) -> (Option<&str>, u64),
    ) -> Result<usize> {
        self.transaction(|tx| {
            let mut stmt = tx.prepare_cached(&format!(
                "INSERT INTO {table} (tenant, id, record) VALUES (?1, ?2, ?3)
                 ON CONFLICT (tenant, id) DO UPDATE SET record = excluded.record"
            ))?;
            for r in records {
                let (tenant, id) = key(r);
                stmt.execute(params![t(tenant), db_id("id", id)?, to_json(r)?])?;
            }
            Ok(records.len())
        })
    }

    fn records<T: serde::de::DeserializeOwned>(
        &self,
        table: &'static str,
        tenant: Option<&str>,
    ) -> Result<Vec<T>> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT record FROM {table} WHERE tenant = ?1 ORDER BY id"
        ))?;
        let rows = stmt.query_map([t(tenant)], |r| r.get::<_, String>(0))?;
        rows.map(|r| json(table, &r?)).collect()
    }

    /// All contacts of a tenant.
    pub fn contacts(&self, tenant: Option<&str>) -> Result<Vec<Contact>> {
        self.records("contacts", tenant)
    }

    /// All campaigns of a tenant.
    pub fn campaigns(&self, tenant: Option<&str>) -> Result<Vec<Campaign>> {
        self.records("campaigns", tenant)
    }

    /// The SLA alert keys already sent for a tenant (an SLA job alerts each key once).
    pub fn sla_alerted(&self, tenant: Option<&str>) -> Result<std::collections::BTreeSet<String>> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare_cached("SELECT key FROM sla_alerts WHERE tenant = ?1")?;
        let rows = stmt.query_map([t(tenant)], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records alert keys as sent at `at` and forgets `forget` (keys no longer current), in one
    /// transaction.
    pub fn record_sla_alerts(
        &self,
        tenant: Option<&str>,
        sent: &[String],
        forget: &[String],
        at: DateTime<Utc>,
    ) -> Result<()> {
        let mut conn = self.lock()?;
        let tx = conn.transaction()?;
        {
            let mut put = tx.prepare_cached(
                "INSERT INTO sla_alerts (tenant, key, alerted_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (tenant, key) DO NOTHING",
            )?;
            for k in sent {
                put.execute(params![t(tenant), k, at.timestamp()])?;
            }
            let mut gone =
                tx.prepare_cached("DELETE FROM sla_alerts WHERE tenant = ?1 AND key = ?2")?;
            for k in forget {
                gone.execute(params![t(tenant), k])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Inserts or replaces agents (with an optional display name).
    pub fn put_agents(&self, agents: &[(AgentState, Option<String>)]) -> Result<usize> {
        self.transaction(|tx| {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO agents (tenant, id, name, record) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (tenant, id) DO UPDATE SET name = excluded.name, record = excluded.record",
            )?;
            for (a, name) in agents {
                stmt.execute(params![t(a.tenant.as_deref()), db_id("id", a.id)?, name, to_json(a)?])?;
            }
            Ok(agents.len())
        })
    }

    /// All agents of a tenant with their names, by id.
    pub fn agents(&self, tenant: Option<&str>) -> Result<Vec<(AgentState, Option<String>)>> {
        let conn = self.lock()?;
        let mut stmt =
            conn.prepare_cached("SELECT record, name FROM agents WHERE tenant = ?1 ORDER BY id")?;
        let rows = stmt.query_map([t(tenant)], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
        })?;
        rows.map(|r| {
            let (rec, name) = r?;
            Ok((json("agents", &rec)?, name))
        })
        .collect()
    }

    /// Saves a company's settings (time zone, assignment settings, SLA policy, calendar).
    pub fn put_settings(
        &self,
        tenant: Option<&str>,
        settings: &teamkpi::settings::CompanySettings,
    ) -> Result<()> {
        teamkpi::parse_timezone(&settings.timezone)?;
        let conn = self.lock()?;
        conn.execute(
            "INSERT INTO company_settings (tenant, timezone, assignment, sla_policy, calendar)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (tenant) DO UPDATE SET timezone = excluded.timezone,
               assignment = excluded.assignment, sla_policy = excluded.sla_policy,
               calendar = excluded.calendar",
            params![
                t(tenant),
                settings.timezone,
                to_json(&settings.assignment)?,
                settings.sla.as_ref().map(to_json).transpose()?,
                settings.calendar.as_ref().map(to_json).transpose()?
            ],
        )?;
        Ok(())
    }

    /// A company's settings ([`CompanySettings::default`](teamkpi::settings::CompanySettings)
    /// without a row).
    pub fn settings(&self, tenant: Option<&str>) -> Result<teamkpi::settings::CompanySettings> {
        let conn = self.lock()?;
        let row: Option<(String, String, Option<String>, Option<String>)> = conn
            .query_row(
                "SELECT timezone, assignment, sla_policy, calendar FROM company_settings
                 WHERE tenant = ?1",
                [t(tenant)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((timezone, assignment, sla, calendar)) = row else {
            return Ok(Default::default());
        };
        Ok(teamkpi::settings::CompanySettings {
            timezone,
            assignment: json("company_settings", &assignment)?,
            sla: sla.map(|s| json("company_settings", &s)).transpose()?,
            calendar: calendar.map(|s| json("company_settings", &s)).transpose()?,
        })
    }

    /// Every measurement of a tenant, by assignment then period.
    pub fn all_measurements(&self, tenant: Option<&str>) -> Result<Vec<Measurement>> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare_cached(&format!(
            "{MEASUREMENT_SELECT} WHERE m.tenant = ?1 ORDER BY m.user_kpi_id, m.period_start"
        ))?;
        let rows = stmt.query_map([t(tenant)], measurement_row)?;
        rows.map(|r| r?.decode()).collect()
    }
}

const DEFINITION_SELECT: &str =
    "SELECT tenant, key, name, description, category, calculation_type, config,
    unit, target_type, aggregation_period, is_active FROM kpi_definitions";

fn definition_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<[Option<String>; 11]> {
    let mut out: [Option<String>; 11] = Default::default();
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = match i {
            10 => Some(r.get::<_, i64>(i)?.to_string()),
            _ => r.get::<_, Option<String>>(i)?,
        };
    }
    Ok(out)
}

fn decode_definition(cols: [Option<String>; 11]) -> Result<KpiDefinition> {
    let [tenant, key, name, description, category, calc, config, unit, target_type, period, active] =
        cols;
    let s = |v: Option<String>, what: &str| {
        v.ok_or_else(|| corrupt("kpi_definitions", format!("{what} is null")))
    };
    let config: serde_json::Value = match config {
        Some(c) => json("kpi_definitions", &c)?,
        None => serde_json::Value::Null,
    };
    Ok(KpiDefinition {
        tenant: tenant.and_then(opt_tenant),
        key: s(key, "key")?,
        name: s(name, "name")?,
        description,
        category,
        unit: teamkpi::Unit::parse(&s(unit, "unit")?)?,
        direction: teamkpi::Direction::parse(&s(target_type, "target_type")?)?,
        period: teamkpi::PeriodKind::parse(&s(period, "aggregation_period")?)?,
        source: KpiSource::from_calculation_type(&s(calc, "calculation_type")?, &config)?,
        active: active.as_deref() != Some("0"),
    })
}

impl DefinitionStore for SqliteStore {
    fn upsert_definition(&self, d: &KpiDefinition) -> teamkpi::Result<()> {
        if d.key.trim().is_empty() {
            return Err(teamkpi::Error::argument_error("key", "must not be empty"));
        }
        let conn = self.lock()?;
        conn.execute(
            "INSERT INTO kpi_definitions (tenant, key, name, description, category, calculation_type,
               config, unit, target_type, aggregation_period, is_active)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT (tenant, key) DO UPDATE SET name = excluded.name,
               description = excluded.description, category = excluded.category,
               calculation_type = excluded.calculation_type, config = excluded.config,
               unit = excluded.unit, target_type = excluded.target_type,
               aggregation_period = excluded.aggregation_period, is_active = excluded.is_active,
               updated_at = CURRENT_TIMESTAMP",
            params![
                t(d.tenant.as_deref()),
                d.key,
                d.name,
                d.description,
                d.category,
                d.source.kind(),
                d.source.config().to_string(),
                d.unit.as_str(),
                d.direction.as_str(),
                d.period.as_str(),
                d.active
            ],
        )
        .map_err(SqliteError::from)?;
        Ok(())
    }

    fn definition(
        &self,
        tenant: Option<&str>,
        key: &str,
    ) -> teamkpi::Result<Option<KpiDefinition>> {
        let conn = self.lock()?;
        let cols = conn
            .query_row(
                &format!("{DEFINITION_SELECT} WHERE tenant = ?1 AND key = ?2"),
                params![t(tenant), key],
                definition_row,
            )
            .optional()
            .map_err(SqliteError::from)?;
        Ok(cols.map(decode_definition).transpose()?)
    }

    fn definitions(&self, tenant: Option<&str>) -> teamkpi::Result<Vec<KpiDefinition>> {
        let conn = self.lock()?;
        let mut stmt = conn
            .prepare_cached(&format!(
                "{DEFINITION_SELECT} WHERE tenant = ?1 ORDER BY key"
            ))
            .map_err(SqliteError::from)?;
        let rows = stmt
            .query_map([t(tenant)], definition_row)
            .map_err(SqliteError::from)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(decode_definition(r.map_err(SqliteError::from)?)?);
        }
        Ok(out)
    }
}

const ASSIGNMENT_SELECT: &str = "SELECT a.id, a.tenant, a.user_id, d.key, a.target_value, a.weight,
    a.start_date, a.end_date, a.is_active, a.assigned_by
    FROM user_kpis a JOIN kpi_definitions d ON d.id = a.kpi_definition_id";

type AssignmentCols = (
    i64,
    String,
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    bool,
    Option<i64>,
);

fn assignment_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AssignmentCols> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
    ))
}

fn decode_assignment(c: AssignmentCols) -> Result<KpiAssignment> {
    let (id, tenant, user, key, target, weight, start, end, active, by) = c;
    Ok(KpiAssignment {
        id: id as u64,
        tenant: opt_tenant(tenant),
        agent_id: user as u64,
        definition: key,
        target: dec("user_kpis", &target)?,
        weight: dec("user_kpis", &weight)?,
        valid_from: date("user_kpis", &start)?,
        valid_to: end.map(|e| date("user_kpis", &e)).transpose()?,
        active,
        assigned_by: by.map(|b| b as u64),
    })
}

fn definition_id(conn: &Connection, tenant: Option<&str>, key: &str) -> Result<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT id FROM kpi_definitions WHERE tenant = ?1 AND key = ?2",
            params![t(tenant), key],
            |r| r.get(0),
        )
        .optional()?)
}

fn load_assignments(conn: &Connection, filter: &AssignmentFilter) -> Result<Vec<KpiAssignment>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{ASSIGNMENT_SELECT} WHERE a.tenant = ?1 AND (?2 IS NULL OR a.user_id = ?2)
           AND (?3 IS NULL OR d.key = ?3) ORDER BY a.id"
    ))?;
    let rows = stmt.query_map(
        params![
            t(filter.tenant.as_deref()),
            db_id_opt("agent_id", filter.agent_id)?,
            filter.definition
        ],
        assignment_row,
    )?;
    let mut out = Vec::new();
    for r in rows {
        let a = decode_assignment(r?)?;
        if filter.matches(&a) {
            out.push(a);
        }
    }
    Ok(out)
}

impl AssignmentStore for SqliteStore {
    fn insert_assignment(&self, new: NewKpiAssignment) -> teamkpi::Result<KpiAssignment> {
        let mut conn = self.lock()?;
        let tx = conn.transaction().map_err(SqliteError::from)?;
        let def_id = definition_id(&tx, new.tenant.as_deref(), &new.definition)?;
        let def = match def_id {
            Some(_) => self_def(&tx, new.tenant.as_deref(), &new.definition)?,
            None => None,
        };
        let existing = load_assignments(&tx, &AssignmentFilter::same_kpi(&new))?;
        teamkpi::store::check_new_assignment(&new, def.as_ref(), &existing, None)?;
        let def_id =
            def_id.ok_or_else(|| teamkpi::Error::UnknownDefinition(new.definition.clone()))?;
        tx.execute(
            "INSERT INTO user_kpis (tenant, user_id, kpi_definition_id, target_value, weight,
               start_date, end_date, assigned_by, is_active)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                t(new.tenant.as_deref()),
                db_id("agent_id", new.agent_id)?,
                def_id,
                new.target.to_string(),
                new.weight.to_string(),
                new.valid_from.to_string(),
                new.valid_to.map(|d| d.to_string()),
                db_id_opt("assigned_by", new.assigned_by)?,
                new.active
            ],
        )
        .map_err(SqliteError::from)?;
        let id = tx.last_insert_rowid() as u64;
        tx.commit().map_err(SqliteError::from)?;
        Ok(new.with_id(id))
    }

    fn update_assignment(&self, a: &KpiAssignment) -> teamkpi::Result<()> {
        let mut conn = self.lock()?;
        let tx = conn.transaction().map_err(SqliteError::from)?;
        let old = load_assignments(&tx, &AssignmentFilter::all(a.tenant.as_deref()))?;
        if !old.iter().any(|x| x.id == a.id) {
            return Err(teamkpi::Error::UnknownAssignment(a.id));
        }
        let new = a.to_new();
        let def = self_def(&tx, a.tenant.as_deref(), &a.definition)?;
        teamkpi::store::check_new_assignment(&new, def.as_ref(), &old, Some(a.id))?;
        let def_id = definition_id(&tx, a.tenant.as_deref(), &a.definition)?
            .ok_or_else(|| teamkpi::Error::UnknownDefinition(a.definition.clone()))?;
        tx.execute(
            "UPDATE user_kpis SET user_id = ?2, kpi_definition_id = ?3, target_value = ?4, weight = ?5,
               start_date = ?6, end_date = ?7, assigned_by = ?8, is_active = ?9 WHERE id = ?1",
            params![
                db_id("id", a.id)?,
                db_id("agent_id", a.agent_id)?,
                def_id,
                a.target.to_string(),
                a.weight.to_string(),
                a.valid_from.to_string(),
                a.valid_to.map(|d| d.to_string()),
                db_id_opt("assigned_by", a.assigned_by)?,
                a.active
            ],
        )
        .map_err(SqliteError::from)?;
        tx.commit().map_err(SqliteError::from)?;
        Ok(())
    }

    fn assignment(&self, tenant: Option<&str>, id: u64) -> teamkpi::Result<Option<KpiAssignment>> {
        let conn = self.lock()?;
        let row = conn
            .query_row(
                &format!("{ASSIGNMENT_SELECT} WHERE a.tenant = ?1 AND a.id = ?2"),
                params![t(tenant), db_id("id", id)?],
                assignment_row,
            )
            .optional()
            .map_err(SqliteError::from)?;
        Ok(row.map(decode_assignment).transpose()?)
    }

    fn assignments(&self, filter: &AssignmentFilter) -> teamkpi::Result<Vec<KpiAssignment>> {
        let conn = self.lock()?;
        Ok(load_assignments(&conn, filter)?)
    }
}

fn self_def(conn: &Connection, tenant: Option<&str>, key: &str) -> Result<Option<KpiDefinition>> {
    let cols = conn
        .query_row(
            &format!("{DEFINITION_SELECT} WHERE tenant = ?1 AND key = ?2"),
            params![t(tenant), key],
            definition_row,
        )
        .optional()?;
    cols.map(decode_definition).transpose()
}

const MEASUREMENT_SELECT: &str = "SELECT m.user_kpi_id, m.tenant, a.user_id, d.key, m.period_start,
    m.period_end, m.complete, m.actual_value, m.target_value, m.achievement_percentage, m.metadata,
    m.calculated_at, m.ad_hoc FROM kpi_measurements m JOIN user_kpis a ON a.id = m.user_kpi_id
    JOIN kpi_definitions d ON d.id = a.kpi_definition_id";

struct MeasurementCols([String; 13]);

fn measurement_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MeasurementCols> {
    let mut out: [String; 13] = Default::default();
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = match i {
            0 | 2 => r.get::<_, i64>(i)?.to_string(),
            6 | 12 => r.get::<_, bool>(i)?.to_string(),
            _ => r.get::<_, String>(i)?,
        };
    }
    Ok(MeasurementCols(out))
}

impl MeasurementCols {
    fn decode(self) -> Result<Measurement> {
        let [uk, tenant, user, key, start, end, complete, actual, target, ach, meta, at, ad_hoc] =
            self.0;
        let table = "kpi_measurements";
        Ok(Measurement {
            assignment_id: uk.parse().map_err(|e| corrupt(table, e))?,
            tenant: opt_tenant(tenant),
            agent_id: user.parse().map_err(|e| corrupt(table, e))?,
            definition: key,
            period_start: date(table, &start)?,
            period_end: date(table, &end)?,
            complete: complete == "true",
            actual: dec(table, &actual)?,
            target: dec(table, &target)?,
            achievement: dec(table, &ach)?,
            metadata: json(table, &meta)?,
            calculated_at: instant(table, &at)?,
            ad_hoc: ad_hoc == "true",
        })
    }
}

fn upsert_in(tx: &Connection, m: &Measurement) -> Result<u64> {
    teamkpi::store::check_period(m.period_start, m.period_end)?;
    let owner: Option<String> = tx
        .query_row(
            "SELECT tenant FROM user_kpis WHERE id = ?1",
            [db_id("assignment_id", m.assignment_id)?],
            |r| r.get(0),
        )
        .optional()?;
    teamkpi::store::check_owner(owner.as_deref(), m.tenant.as_deref(), m.assignment_id)?;
    let s = m.rounded_for_storage();
    let id: i64 = tx.query_row(
        "INSERT INTO kpi_measurements (tenant, user_kpi_id, period_start, period_end, complete,
           actual_value, target_value, achievement_percentage, metadata, calculated_at, ad_hoc)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (user_kpi_id, period_start, period_end, ad_hoc) DO UPDATE SET
           complete = excluded.complete, actual_value = excluded.actual_value,
           target_value = excluded.target_value,
           achievement_percentage = excluded.achievement_percentage,
           metadata = excluded.metadata, calculated_at = excluded.calculated_at
         RETURNING id",
        params![
            t(s.tenant.as_deref()),
            db_id("assignment_id", s.assignment_id)?,
            s.period_start.to_string(),
            s.period_end.to_string(),
            s.complete,
            s.actual.to_string(),
            s.target.to_string(),
            s.achievement.to_string(),
            to_json(&s.metadata)?,
            s.calculated_at.to_rfc3339(),
            s.ad_hoc
        ],
        |r| r.get(0),
    )?;
    Ok(id as u64)
}

impl MeasurementStore for SqliteStore {
    fn upsert_measurement(&self, m: &Measurement) -> teamkpi::Result<u64> {
        let conn = self.lock()?;
        Ok(upsert_in(&conn, m)?)
    }

    fn upsert_measurements(&self, ms: &[Measurement]) -> teamkpi::Result<Vec<u64>> {
        Ok(self.transaction(|tx| ms.iter().map(|m| upsert_in(tx, m)).collect())?)
    }

    fn measurements(
        &self,
        tenant: Option<&str>,
        assignment_id: u64,
    ) -> teamkpi::Result<Vec<Measurement>> {
        let conn = self.lock()?;
        let mut stmt = conn
            .prepare_cached(&format!(
                "{MEASUREMENT_SELECT} WHERE m.tenant = ?1 AND m.user_kpi_id = ?2 \
                 ORDER BY m.period_start, m.period_end, m.ad_hoc"
            ))
            .map_err(SqliteError::from)?;
        let rows = stmt
            .query_map(
                params![t(tenant), db_id("assignment_id", assignment_id)?],
                measurement_row,
            )
            .map_err(SqliteError::from)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r.map_err(SqliteError::from)?.decode()?);
        }
        Ok(out)
    }
}

impl ManualValueStore for SqliteStore {
    fn record_manual_value(&self, tenant: Option<&str>, v: &ManualValue) -> teamkpi::Result<()> {
        teamkpi::store::check_period(v.period_start, v.period_end)?;
        let conn = self.lock()?;
        let owner: Option<String> = conn
            .query_row(
                "SELECT tenant FROM user_kpis WHERE id = ?1",
                [db_id("assignment_id", v.assignment_id)?],
                |r| r.get(0),
            )
            .optional()
            .map_err(SqliteError::from)?;
        teamkpi::store::check_owner(owner.as_deref(), tenant, v.assignment_id)?;
        conn.execute(
            "INSERT INTO kpi_manual_values (tenant, user_kpi_id, period_start, period_end, value,
               recorded_by, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (user_kpi_id, period_start, period_end) DO UPDATE SET value = excluded.value,
               recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at",
            params![
                t(tenant),
                db_id("assignment_id", v.assignment_id)?,
                v.period_start.to_string(),
                v.period_end.to_string(),
                v.value.to_string(),
                db_id_opt("recorded_by", v.recorded_by)?,
                v.recorded_at.to_rfc3339()
            ],
        )
        .map_err(SqliteError::from)?;
        Ok(())
    }

    fn manual_value(
        &self,
        tenant: Option<&str>,
        assignment_id: u64,
        start: NaiveDate,
        end: NaiveDate,
    ) -> teamkpi::Result<Option<ManualValue>> {
        let conn = self.lock()?;
        let row: Option<(String, Option<i64>, String)> = conn
            .query_row(
                "SELECT value, recorded_by, recorded_at FROM kpi_manual_values
                 WHERE tenant = ?1 AND user_kpi_id = ?2 AND period_start = ?3 AND period_end = ?4",
                params![
                    t(tenant),
                    db_id("assignment_id", assignment_id)?,
                    start.to_string(),
                    end.to_string()
                ],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(SqliteError::from)?;
        let Some((value, by, at)) = row else {
            return Ok(None);
        };
        Ok(Some(ManualValue {
            assignment_id,
            period_start: start,
            period_end: end,
            value: dec("kpi_manual_values", &value)?,
            recorded_by: by.map(|b| b as u64),
            recorded_at: instant("kpi_manual_values", &at)?,
        }))
    }
}

impl RollupStore for SqliteStore {
    fn merge_rollup(
        &self,
        key: &RollupKey,
        partial_id: &str,
        state: &serde_json::Value,
    ) -> teamkpi::Result<()> {
        let conn = self.lock()?;
        conn.execute(
            "INSERT INTO kpi_rollups (tenant, name, grp, period_start, partial_id, state)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (tenant, name, grp, period_start, partial_id) DO UPDATE SET state = excluded.state",
            params![
                t(key.tenant.as_deref()),
                key.name,
                key.group,
                key.period_start.to_string(),
                partial_id,
                state.to_string()
            ],
        )
        .map_err(SqliteError::from)?;
        Ok(())
    }

    fn rollup_partials(
        &self,
        key: &RollupKey,
    ) -> teamkpi::Result<Vec<(String, serde_json::Value)>> {
        let conn = self.lock()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT partial_id, state FROM kpi_rollups
                 WHERE tenant = ?1 AND name = ?2 AND grp = ?3 AND period_start = ?4 ORDER BY partial_id",
            )
            .map_err(SqliteError::from)?;
        let rows = stmt
            .query_map(
                params![
                    t(key.tenant.as_deref()),
                    key.name,
                    key.group,
                    key.period_start.to_string()
                ],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
            )
            .map_err(SqliteError::from)?;
        let mut out = Vec::new();
        for r in rows {
            let (id, s) = r.map_err(SqliteError::from)?;
            out.push((id, json("kpi_rollups", &s)?));
        }
        Ok(out)
    }
}

impl SqliteStore {
    /// Decodes the JSON `record` column of a windowed query (tenant, from, to).
    fn window<T: serde::de::DeserializeOwned>(
        &self,
        table: &'static str,
        sql: &str,
        tenant: Option<&str>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> teamkpi::Result<Vec<T>> {
        let conn = self.lock()?;
        let mut stmt = conn.prepare_cached(sql).map_err(SqliteError::from)?;
        let rows = stmt
            .query_map(params![t(tenant), from.timestamp(), to.timestamp()], |r| {
                r.get::<_, String>(0)
            })
            .map_err(SqliteError::from)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(json(table, &r.map_err(SqliteError::from)?)?);
        }
        Ok(out)
    }
}

impl ActivitySource for SqliteStore {
    fn tickets(
        &self,
        tenant: Option<&str>,
        from: Timestamp,
        to: Timestamp,
    ) -> teamkpi::Result<Vec<Ticket>> {
        teamkpi::store::check_window("tickets", from, to)?;
        self.window(
            "tickets",
            "SELECT record FROM tickets WHERE tenant = ?1 AND created_at < ?3
               AND last_activity_at >= ?2 ORDER BY id",
            tenant,
            from,
            to,
        )
    }

    fn calls(
        &self,
        tenant: Option<&str>,
        from: Timestamp,
        to: Timestamp,
    ) -> teamkpi::Result<Vec<Call>> {
        teamkpi::store::check_window("calls", from, to)?;
        self.window(
            "calls",
            "SELECT record FROM calls WHERE tenant = ?1 AND started_at >= ?2 AND started_at < ?3
               ORDER BY id",
            tenant,
            from,
            to,
        )
    }

    fn sessions(
        &self,
        tenant: Option<&str>,
        from: Timestamp,
        to: Timestamp,
    ) -> teamkpi::Result<Vec<AgentSession>> {
        teamkpi::store::check_window("sessions", from, to)?;
        self.window(
            "agent_sessions",
            "SELECT record FROM agent_sessions WHERE tenant = ?1 AND start < ?3
               AND (end IS NULL OR end > ?2) ORDER BY id",
            tenant,
            from,
            to,
        )
    }
}

/// Reads a rollup of this store and merges its partials (see [`teamkpi::store::merged_rollup`]).
pub fn read_rollup<S: Mergeable + serde::de::DeserializeOwned>(
    store: &SqliteStore,
    key: &RollupKey,
) -> teamkpi::Result<Option<S>> {
    merged_rollup(store, key)
}
