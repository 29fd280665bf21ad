//! # teamkpi-postgres
//!
//! teamkpi's store traits on PostgreSQL, with the KPI tables (`kpi_definitions`,
//! `user_kpis`, `kpi_measurements`) plus manual values and rollups. The migration adopts a
//! database that already holds the KPI tables' original tables, keeping their rows: it adds the
//! `tenant` and `key` columns, widens `achievement_percentage` and the value columns from
//! `DECIMAL(5,2)` / `DECIMAL(10,2)` to `NUMERIC` (a lower-better KPI easily passes 999.99 %), and
//! replaces the all-rows uniqueness of `user_kpis` by "one active assignment per (agent, KPI,
//! start)". Upserts use `ON CONFLICT`; rollup partials are keyed by writer, so concurrent writers
//! give exact totals. Activity is read from tables whose names and columns are configurable — an
//! existing `support_cases` table, for instance ([`ActivityTables::support_cases`]).
//!
//! The tests run against a real server: `PG_TEST_URL` (the README's test command starts a
//! throwaway cluster when none is reachable).
#![warn(missing_docs)]
#![forbid(unsafe_code)]

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use postgres::{Client, NoTls, Transaction};
use rust_decimal::Decimal;
use std::sync::{Mutex, MutexGuard};
use teamkpi::store::tenant_of_key as opt_tenant;
use teamkpi::Timestamp;

use teamkpi::limits::{db_id, db_id32, db_id32_opt, db_id_opt};
use teamkpi::metrics::{AgentSession, Call, Ticket};
use teamkpi::{
    ActivitySource, AssignmentFilter, AssignmentStore, DefinitionStore, KpiAssignment,
    KpiDefinition, KpiSource, ManualValue, ManualValueStore, Measurement, MeasurementStore,
    NewKpiAssignment, RollupKey, RollupStore,
};

/// Errors of the PostgreSQL store; through the core's traits they become
/// `teamkpi::Error::Storage` (code `storage`), input errors keep their core code.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// The server or the driver reported an error (the server's own message and SQLSTATE when it
    /// sent one: "password authentication failed", "database … does not exist").
    #[error("postgres: {}", describe(.0))]
    Postgres(#[from] postgres::Error),
    /// The server did not answer within the connect timeout.
    #[error("postgres: no answer from the server within {0} s (connect_timeout)")]
    Timeout(u64),
    /// The host asked to stop waiting for the server (an interrupt).
    #[error("postgres: connecting was cancelled")]
    Cancelled,
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

/// A driver error with the server's message: the driver's own text for a server error is only
/// "db error".
fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({}: {})", db.message(), db.severity(), db.code().code()),
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}

impl PgError {
    /// The stable code: `storage` for database problems, the core's code for input errors.
    pub fn code(&self) -> &'static str {
        match self {
            PgError::Core(e) => e.code(),
            _ => "storage",
        }
    }
}

impl From<PgError> for teamkpi::Error {
    fn from(e: PgError) -> Self {
        match e {
            PgError::Core(e) => e,
            other => teamkpi::Error::Storage(other.to_string()),
        }
    }
}

type Result<T, E = PgError> = std::result::Result<T, E>;

mod activity;
mod live;

pub use activity::{ActivityTables, CustomerMessagesTable, StatusHistoryTable};

fn corrupt(table: &'static str, reason: impl ToString) -> PgError {
    PgError::Corrupt {
        table,
        reason: reason.to_string(),
    }
}

fn pg(e: postgres::Error) -> teamkpi::Error {
    PgError::from(e).into()
}

fn t(tenant: Option<&str>) -> &str {
    teamkpi::store::tenant_key(tenant)
}

/// The migrations, in order; each runs once (recorded in `schema_migrations`) and every
/// statement tolerates the KPI tables being there already.
const MIGRATIONS: &[(i32, &str)] = &[
    (
        1,
    "CREATE TABLE IF NOT EXISTS kpi_definitions (
        id SERIAL PRIMARY KEY,
        name VARCHAR(255) NOT NULL,
        description TEXT,
        category VARCHAR(100),
        calculation_type VARCHAR(50) NOT NULL,
        config JSONB,
        unit VARCHAR(50),
        target_type VARCHAR(50),
        aggregation_period VARCHAR(50),
        is_active BOOLEAN DEFAULT true,
        created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
        updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
    ALTER TABLE kpi_definitions ADD COLUMN IF NOT EXISTS tenant TEXT NOT NULL DEFAULT '';
    ALTER TABLE kpi_definitions ADD COLUMN IF NOT EXISTS key TEXT;
    UPDATE kpi_definitions SET key = 'kpi_' || id WHERE key IS NULL;
    ALTER TABLE kpi_definitions ALTER COLUMN key SET NOT NULL;
    CREATE UNIQUE INDEX IF NOT EXISTS kpi_definitions_tenant_key ON kpi_definitions (tenant, key);

    CREATE TABLE IF NOT EXISTS user_kpis (
        id SERIAL PRIMARY KEY,
        user_id INTEGER NOT NULL,
        kpi_definition_id INTEGER REFERENCES kpi_definitions(id) ON DELETE CASCADE,
        target_value NUMERIC,
        weight NUMERIC,
        start_date DATE NOT NULL,
        end_date DATE,
        assigned_by INTEGER,
        assigned_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
        is_active BOOLEAN DEFAULT true);
    ALTER TABLE user_kpis ADD COLUMN IF NOT EXISTS tenant TEXT NOT NULL DEFAULT '';
    ALTER TABLE user_kpis ALTER COLUMN target_value TYPE NUMERIC, ALTER COLUMN weight TYPE NUMERIC;
    ALTER TABLE user_kpis DROP CONSTRAINT IF EXISTS user_kpis_user_id_kpi_definition_id_start_date_key;
    CREATE UNIQUE INDEX IF NOT EXISTS user_kpis_one_active
        ON user_kpis (tenant, user_id, kpi_definition_id, start_date) WHERE is_active;
    CREATE INDEX IF NOT EXISTS idx_user_kpis_user ON user_kpis(user_id) WHERE is_active = true;

    CREATE TABLE IF NOT EXISTS kpi_measurements (
        id SERIAL PRIMARY KEY,
        user_kpi_id INTEGER REFERENCES user_kpis(id) ON DELETE CASCADE,
        period_start DATE NOT NULL,
        period_end DATE NOT NULL,
        actual_value NUMERIC,
        target_value NUMERIC,
        achievement_percentage NUMERIC,
        metadata JSONB,
        calculated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
        UNIQUE(user_kpi_id, period_start, period_end));
    ALTER TABLE kpi_measurements
        ALTER COLUMN actual_value TYPE NUMERIC,
        ALTER COLUMN target_value TYPE NUMERIC,
        ALTER COLUMN achievement_percentage TYPE NUMERIC;
    ALTER TABLE kpi_measurements ADD COLUMN IF NOT EXISTS tenant TEXT NOT NULL DEFAULT '';
    ALTER TABLE kpi_measurements ADD COLUMN IF NOT EXISTS complete BOOLEAN NOT NULL DEFAULT true;
    CREATE INDEX IF NOT EXISTS idx_kpi_measurements_lookup
        ON kpi_measurements(user_kpi_id, period_start DESC);

    CREATE TABLE IF NOT EXISTS kpi_manual_values (
        tenant TEXT NOT NULL DEFAULT '',
        user_kpi_id INTEGER NOT NULL REFERENCES user_kpis(id) ON DELETE CASCADE,
        period_start DATE NOT NULL,
        period_end DATE NOT NULL,
        value NUMERIC NOT NULL,
        recorded_by BIGINT,
        recorded_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (user_kpi_id, period_start, period_end));
    CREATE TABLE IF NOT EXISTS kpi_rollups (
        tenant TEXT NOT NULL DEFAULT '',
        name TEXT NOT NULL,
        grp TEXT NOT NULL,
        period_start DATE NOT NULL,
        partial_id TEXT NOT NULL,
        state JSONB NOT NULL,
        PRIMARY KEY (tenant, name, grp, period_start, partial_id));",
    ),
    (
        2,
        "CREATE TABLE IF NOT EXISTS teamkpi_tickets (
            tenant TEXT NOT NULL DEFAULT '', id BIGINT NOT NULL, created_at BIGINT NOT NULL,
            last_activity_at BIGINT NOT NULL, is_open BOOLEAN NOT NULL, agent_id BIGINT,
            record JSONB NOT NULL, PRIMARY KEY (tenant, id));
        CREATE INDEX IF NOT EXISTS teamkpi_tickets_window
            ON teamkpi_tickets (tenant, last_activity_at, created_at);
        CREATE TABLE IF NOT EXISTS teamkpi_calls (
            tenant TEXT NOT NULL DEFAULT '', id BIGINT NOT NULL, started_at BIGINT NOT NULL,
            record JSONB NOT NULL, PRIMARY KEY (tenant, id));
        CREATE TABLE IF NOT EXISTS teamkpi_sessions (
            id BIGSERIAL PRIMARY KEY, tenant TEXT NOT NULL DEFAULT '', start_at BIGINT NOT NULL,
            end_at BIGINT, record JSONB NOT NULL);
        CREATE TABLE IF NOT EXISTS teamkpi_contacts (
            tenant TEXT NOT NULL DEFAULT '', id BIGINT NOT NULL, record JSONB NOT NULL,
            PRIMARY KEY (tenant, id));
        CREATE TABLE IF NOT EXISTS teamkpi_campaigns (
            tenant TEXT NOT NULL DEFAULT '', id BIGINT NOT NULL, record JSONB NOT NULL,
            PRIMARY KEY (tenant, id));
        CREATE TABLE IF NOT EXISTS teamkpi_agents (
            tenant TEXT NOT NULL DEFAULT '', id BIGINT NOT NULL, name TEXT, record JSONB NOT NULL,
            PRIMARY KEY (tenant, id));
        CREATE TABLE IF NOT EXISTS teamkpi_company_settings (
            tenant TEXT NOT NULL PRIMARY KEY, timezone TEXT NOT NULL DEFAULT 'UTC',
            assignment JSONB NOT NULL, sla_policy JSONB);",
    ),
    (3, live::MIGRATION),
    (4, live::MIGRATION_OPEN),
    (5, live::MIGRATION_BINARY),
    (
        6,
        "CREATE TABLE IF NOT EXISTS teamkpi_sla_alerts (
            tenant TEXT NOT NULL, key TEXT NOT NULL, alerted_at BIGINT NOT NULL,
            PRIMARY KEY (tenant, key));",
    ),
    (
        7,
        "ALTER TABLE teamkpi_company_settings ADD COLUMN IF NOT EXISTS calendar JSONB;",
    ),
    (
        // Ad-hoc measurements of requested ranges sit beside the natural ones, same bounds too.
        8,
        "ALTER TABLE kpi_measurements ADD COLUMN IF NOT EXISTS ad_hoc BOOLEAN NOT NULL DEFAULT false;
        ALTER TABLE kpi_measurements
            DROP CONSTRAINT IF EXISTS kpi_measurements_user_kpi_id_period_start_period_end_key;
        CREATE UNIQUE INDEX IF NOT EXISTS kpi_measurements_period_key
            ON kpi_measurements (user_kpi_id, period_start, period_end, ad_hoc);",
    ),
];

/// The store: one connection, serialised by a mutex (open one store per thread for parallel
/// writers; the database keeps them consistent).
pub struct PgStore {
    client: Mutex<Client>,
    activity: Option<ActivityTables>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("activity", &self.activity)
            .finish()
    }
}

impl PgStore {
    /// Connects (`postgres://user@host:port/db`) and runs pending migrations.
    ///
    /// Every wait on the server is bounded: connecting (and the server's first answer) waits at
    /// most `connect_timeout` seconds (default 10, from the URL's `connect_timeout` parameter),
    /// and each statement at most `statement_timeout` (default 30 s, the server setting, given in
    /// the URL as `options=-c statement_timeout=…` to change it).
    pub fn connect(url: &str) -> Result<Self> {
        Self::connect_cancellable(url, &mut || false)
    }

    /// [`PgStore::connect`], asking `cancelled` about ten times a second while it waits for the
    /// server: a host's interrupt (Ctrl-C in Python) ends the wait with [`PgError::Cancelled`]
    /// instead of at the timeout.
    ///
    /// TCP keepalives (idle 10 s, every 5 s, 3 probes) and a TCP user timeout (30 s) are on
    /// unless the URL sets them, so a connection to a host that vanished fails instead of
    /// waiting forever.
    pub fn connect_cancellable(url: &str, cancelled: &mut dyn FnMut() -> bool) -> Result<Self> {
        let mut config: postgres::Config = url.parse()?;
        if config.get_tcp_user_timeout().is_none() {
            config.tcp_user_timeout(std::time::Duration::from_secs(30));
        }
        if config.get_keepalives() && !url.contains("keepalives_idle") {
            config
                .keepalives_idle(std::time::Duration::from_secs(10))
                .keepalives_interval(std::time::Duration::from_secs(5))
                .keepalives_retries(3);
        }
        let wait = config
            .get_connect_timeout()
            .map_or(10, |d| d.as_secs().max(1));
        config.connect_timeout(std::time::Duration::from_secs(wait));
        if !config
            .get_options()
            .is_some_and(|o| o.contains("statement_timeout"))
        {
            let options = match config.get_options() {
                Some(o) => format!("{o} -c statement_timeout=30000"),
                None => "-c statement_timeout=30000".to_owned(),
            };
            config.options(&options);
        }
        // The driver's timeout covers the TCP connect only: a server that accepts and never
        // answers would hang the handshake, so the whole connect runs under a deadline.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(config.connect(NoTls));
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(wait);
        let client = loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(PgError::Timeout(wait));
            }
            match rx.recv_timeout(left.min(std::time::Duration::from_millis(100))) {
                Ok(connected) => break connected?,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) if cancelled() => {
                    return Err(PgError::Cancelled)
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(PgError::Timeout(wait))
                }
            }
        };
        let store = PgStore {
            client: Mutex::new(client),
            activity: None,
        };
        store.migrate()?;
        Ok(store)
    }

    /// Reads activity from the host's tables.
    pub fn with_activity(mut self, tables: ActivityTables) -> Result<Self> {
        tables.validate()?;
        self.activity = Some(tables);
        Ok(self)
    }

    fn lock(&self) -> Result<MutexGuard<'_, Client>> {
        self.client
            .lock()
            .map_err(|_| corrupt("connection", "lock poisoned"))
    }

    /// Runs the migrations not yet applied (serialised by an advisory lock, so concurrent
    /// starts are safe); running it again changes nothing. Returns the schema version.
    pub fn migrate(&self) -> Result<i32> {
        let mut client = self.lock()?;
        let mut tx = client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock(7355608)", &[])?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        )?;
        let current: i32 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                &[],
            )?
            .get(0);
        for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
            tx.batch_execute(sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (version) VALUES ($1)",
                &[version],
            )?;
        }
        tx.commit()?;
        Ok(MIGRATIONS.last().map_or(0, |m| m.0))
    }

    /// Runs `f` in one transaction: all of it is written or none.
    pub fn transaction<R>(&self, f: impl FnOnce(&mut Transaction<'_>) -> Result<R>) -> Result<R> {
        let mut client = self.lock()?;
        let mut tx = client.transaction()?;
        let r = f(&mut tx)?;
        tx.commit()?;
        Ok(r)
    }

    /// Runs SQL on the store's connection (tests and host scripts).
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        self.lock()?.batch_execute(sql)?;
        Ok(())
    }
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| corrupt("json", e))
}

fn from_value<T: serde::de::DeserializeOwned>(
    table: &'static str,
    v: serde_json::Value,
) -> Result<T> {
    serde_json::from_value(v).map_err(|e| corrupt(table, e))
}

/// teamkpi's own activity tables (`teamkpi_tickets`, `teamkpi_calls`, …): what the `teamkpi`
/// command writes and reads when no [`ActivityTables`] mapping is given.
impl PgStore {
    /// The integer row ids of the tenant's definitions with their keys (the KPI tables'
    /// `kpi_definitions.id`, which front ends send as `kpi_definition_id`), by id.
    pub fn definition_ids(&self, tenant: Option<&str>) -> Result<Vec<(u64, String)>> {
        let rows = self.lock()?.query(
            "SELECT id, key FROM kpi_definitions WHERE tenant = $1 ORDER BY id",
            &[&t(tenant)],
        )?;
        Ok(rows
            .iter()
            .map(|r| (r.get::<_, i32>(0) as u64, r.get::<_, String>(1)))
            .collect())
    }

    /// Inserts or replaces tickets, in one transaction (validated first).
    pub fn put_tickets(&self, tickets: &[Ticket]) -> Result<usize> {
        for tk in tickets {
            tk.validate()?;
        }
        self.transaction(|tx| {
            for tk in tickets {
                tx.execute(
                    "INSERT INTO teamkpi_tickets (tenant, id, created_at, last_activity_at, is_open, agent_id, record)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)
                     ON CONFLICT (tenant, id) DO UPDATE SET created_at = EXCLUDED.created_at,
                       last_activity_at = EXCLUDED.last_activity_at, is_open = EXCLUDED.is_open,
                       agent_id = EXCLUDED.agent_id, record = EXCLUDED.record",
                    &[&t(tk.tenant.as_deref()), &db_id("id", tk.id)?, &tk.created_at.timestamp(), &tk.last_activity_at().timestamp(),
                      &tk.is_open(), &db_id_opt("agent_id", tk.agent_id)?, &to_value(tk)?],
                )?;
            }
            Ok(tickets.len())
        })
    }

    /// Open tickets of a tenant, by id.
    pub fn open_tickets(&self, tenant: Option<&str>) -> Result<Vec<Ticket>> {
        let rows = self.lock()?.query(
            "SELECT record FROM teamkpi_tickets WHERE tenant = $1 AND is_open ORDER BY id",
            &[&t(tenant)],
        )?;
        rows.into_iter()
            .map(|r| from_value("teamkpi_tickets", r.get(0)))
            .collect()
    }

    /// Inserts or replaces calls, in one transaction.
    pub fn put_calls(&self, calls: &[Call]) -> Result<usize> {
        for c in calls {
            c.validate()?;
        }
        self.transaction(|tx| {
            for c in calls {
                tx.execute(
                    "INSERT INTO teamkpi_calls (tenant, id, started_at, record) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (tenant, id) DO UPDATE SET started_at = EXCLUDED.started_at, record = EXCLUDED.record",
                    &[&t(c.tenant.as_deref()), &db_id("id", c.id)?, &c.started_at.timestamp(), &to_value(c)?],
                )?;
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
            for s in sessions {
                tx.execute(
                    "INSERT INTO teamkpi_sessions (tenant, start_at, end_at, record) VALUES ($1, $2, $3, $4)",
                    &[&t(s.tenant.as_deref()), &s.start.timestamp(), &s.end.map(|e| e.timestamp()), &to_value(s)?],
                )?;
            }
            Ok(sessions.len())
        })
    }

    fn put_records<T: serde::Serialize>(
        &self,
        table: &str,
        records: &[T],
        key: impl Fn(&T) -> (Option<&str>, u64),
    ) -> Result<usize> {
        self.transaction(|tx| {
            for r in records {
                let (tenant, id) = key(r);
                tx.execute(
                    &format!(
                        "INSERT INTO {table} (tenant, id, record) VALUES ($1, $2, $3)
                              ON CONFLICT (tenant, id) DO UPDATE SET record = EXCLUDED.record"
                    ),
                    &[&t(tenant), &db_id("id", id)?, &to_value(r)?],
                )?;
            }
            Ok(records.len())
        })
    }

    fn records<T: serde::de::DeserializeOwned>(
        &self,
        table: &'static str,
        tenant: Option<&str>,
    ) -> Result<Vec<T>> {
        let rows = self.lock()?.query(
            &format!("SELECT record FROM {table} WHERE tenant = $1 ORDER BY id"),
            &[&t(tenant)],
        )?;
        rows.into_iter()
            .map(|r| from_value(table, r.get(0)))
            .collect()
    }

    /// Inserts or replaces contacts.
    pub fn put_contacts(&self, contacts: &[teamkpi::metrics::Contact]) -> Result<usize> {
        self.put_records("teamkpi_contacts", contacts, |c| {
            (c.tenant.as_deref(), c.id)
        })
    }

    /// Inserts or replaces campaigns.
    pub fn put_campaigns(&self, campaigns: &[teamkpi::metrics::Campaign]) -> Result<usize> {
        self.put_records("teamkpi_campaigns", campaigns, |c| {
            (c.tenant.as_deref(), c.id)
        })
    }

    /// All contacts of a tenant.
    pub fn contacts(&self, tenant: Option<&str>) -> Result<Vec<teamkpi::metrics::Contact>> {
        self.records("teamkpi_contacts", tenant)
    }

    /// All campaigns of a tenant.
    pub fn campaigns(&self, tenant: Option<&str>) -> Result<Vec<teamkpi::metrics::Campaign>> {
        self.records("teamkpi_campaigns", tenant)
    }

    /// The SLA alert keys already sent for a tenant (an SLA job alerts each key once).
    pub fn sla_alerted(&self, tenant: Option<&str>) -> Result<std::collections::BTreeSet<String>> {
        let rows = self.lock()?.query(
            "SELECT key FROM teamkpi_sla_alerts WHERE tenant = $1",
            &[&t(tenant)],
        )?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Records alert keys as sent at `at` and forgets `forget` (keys no longer current), in one
    /// transaction.
    pub fn record_sla_alerts(
        &self,
        tenant: Option<&str>,
        sent: &[String],
        forget: &[String],
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        let mut client = self.lock()?;
        let mut tx = client.transaction()?;
        tx.execute(
            "INSERT INTO teamkpi_sla_alerts (tenant, key, alerted_at)
             SELECT $1, k, $3 FROM unnest($2::text[]) AS k ON CONFLICT (tenant, key) DO NOTHING",
            &[&t(tenant), &sent, &at.timestamp()],
        )?;
        tx.execute(
            "DELETE FROM teamkpi_sla_alerts WHERE tenant = $1 AND key = ANY($2)",
            &[&t(tenant), &forget],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Inserts or replaces agents with their display names.
    pub fn put_agents(&self, agents: &[(teamkpi::AgentState, Option<String>)]) -> Result<usize> {
        self.transaction(|tx| {
            for (a, name) in agents {
                tx.execute(
                    "INSERT INTO teamkpi_agents (tenant, id, name, record) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (tenant, id) DO UPDATE SET name = EXCLUDED.name, record = EXCLUDED.record",
                    &[&t(a.tenant.as_deref()), &db_id("id", a.id)?, name, &to_value(a)?],
                )?;
            }
            Ok(agents.len())
        })
    }

    /// All agents of a tenant with their names, by id.
    pub fn agents(
        &self,
        tenant: Option<&str>,
    ) -> Result<Vec<(teamkpi::AgentState, Option<String>)>> {
        let rows = self.lock()?.query(
            "SELECT record, name FROM teamkpi_agents WHERE tenant = $1 ORDER BY id",
            &[&t(tenant)],
        )?;
        rows.into_iter()
            .map(|r| Ok((from_value("teamkpi_agents", r.get(0))?, r.get(1))))
            .collect()
    }

    /// Saves a company's settings (time zone, assignment settings, SLA policy, calendar).
    pub fn put_settings(
        &self,
        tenant: Option<&str>,
        settings: &teamkpi::settings::CompanySettings,
    ) -> Result<()> {
        teamkpi::parse_timezone(&settings.timezone)?;
        let sla = settings.sla.as_ref().map(to_value).transpose()?;
        let calendar = settings.calendar.as_ref().map(to_value).transpose()?;
        self.lock()?.execute(
            "INSERT INTO teamkpi_company_settings (tenant, timezone, assignment, sla_policy, calendar)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant) DO UPDATE SET timezone = EXCLUDED.timezone,
               assignment = EXCLUDED.assignment, sla_policy = EXCLUDED.sla_policy,
               calendar = EXCLUDED.calendar",
            &[
                &t(tenant),
                &settings.timezone,
                &to_value(&settings.assignment)?,
                &sla,
                &calendar,
            ],
        )?;
        Ok(())
    }

    /// A company's settings ([`CompanySettings::default`](teamkpi::settings::CompanySettings)
    /// without a row).
    pub fn settings(&self, tenant: Option<&str>) -> Result<teamkpi::settings::CompanySettings> {
        let row = self.lock()?.query_opt(
            "SELECT timezone, assignment, sla_policy, calendar FROM teamkpi_company_settings
             WHERE tenant = $1",
            &[&t(tenant)],
        )?;
        let Some(r) = row else {
            return Ok(Default::default());
        };
        let opt = |i: usize| r.get::<_, Option<serde_json::Value>>(i);
        Ok(teamkpi::settings::CompanySettings {
            timezone: r.get(0),
            assignment: from_value("teamkpi_company_settings", r.get(1))?,
            sla: opt(2)
                .map(|v| from_value("teamkpi_company_settings", v))
                .transpose()?,
            calendar: opt(3)
                .map(|v| from_value("teamkpi_company_settings", v))
                .transpose()?,
        })
    }

    fn own_window<T: serde::de::DeserializeOwned>(
        &self,
        table: &'static str,
        sql: &str,
        tenant: Option<&str>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> teamkpi::Result<Vec<T>> {
        let rows = self
            .lock()?
            .query(sql, &[&t(tenant), &from.timestamp(), &to.timestamp()])
            .map_err(pg)?;
        Ok(rows
            .into_iter()
            .map(|r| from_value(table, r.get(0)))
            .collect::<Result<_>>()?)
    }
}

const DEFINITION_SELECT: &str = "SELECT tenant, key, name, description, category, calculation_type,
    config, unit, target_type, aggregation_period, COALESCE(is_active, true) FROM kpi_definitions";

fn decode_definition(r: &postgres::Row) -> Result<KpiDefinition> {
    let s = |i: usize, what: &str| -> Result<String> {
        r.get::<_, Option<String>>(i)
            .ok_or_else(|| corrupt("kpi_definitions", format!("{what} is null")))
    };
    let config: Option<serde_json::Value> = r.get(6);
    Ok(KpiDefinition {
        tenant: opt_tenant(r.get(0)),
        key: r.get(1),
        name: r.get(2),
        description: r.get(3),
        category: r.get(4),
        source: KpiSource::from_calculation_type(
            &s(5, "calculation_type")?,
            &config.unwrap_or(serde_json::Value::Null),
        )?,
        unit: teamkpi::Unit::parse(&s(7, "unit")?)?,
        direction: teamkpi::Direction::parse(&s(8, "target_type")?)?,
        period: teamkpi::PeriodKind::parse(&s(9, "aggregation_period")?)?,
        active: r.get(10),
    })
}

impl DefinitionStore for PgStore {
    fn upsert_definition(&self, d: &KpiDefinition) -> teamkpi::Result<()> {
        if d.key.trim().is_empty() {
            return Err(teamkpi::Error::argument_error("key", "must not be empty"));
        }
        let mut c = self.lock()?;
        c.execute(
            "INSERT INTO kpi_definitions (tenant, key, name, description, category, calculation_type,
               config, unit, target_type, aggregation_period, is_active)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT (tenant, key) DO UPDATE SET name = EXCLUDED.name,
               description = EXCLUDED.description, category = EXCLUDED.category,
               calculation_type = EXCLUDED.calculation_type, config = EXCLUDED.config,
               unit = EXCLUDED.unit, target_type = EXCLUDED.target_type,
               aggregation_period = EXCLUDED.aggregation_period, is_active = EXCLUDED.is_active,
               updated_at = CURRENT_TIMESTAMP",
            &[
                &t(d.tenant.as_deref()),
                &d.key,
                &d.name,
                &d.description,
                &d.category,
                &d.source.kind(),
                &d.source.config(),
                &d.unit.as_str(),
                &d.direction.as_str(),
                &d.period.as_str(),
                &d.active,
            ],
        )
        .map_err(pg)?;
        Ok(())
    }

    fn definition(
        &self,
        tenant: Option<&str>,
        key: &str,
    ) -> teamkpi::Result<Option<KpiDefinition>> {
        let mut c = self.lock()?;
        let row = c
            .query_opt(
                &format!("{DEFINITION_SELECT} WHERE tenant = $1 AND key = $2"),
                &[&t(tenant), &key],
            )
            .map_err(pg)?;
        Ok(row.as_ref().map(decode_definition).transpose()?)
    }

    fn definitions(&self, tenant: Option<&str>) -> teamkpi::Result<Vec<KpiDefinition>> {
        let mut c = self.lock()?;
        let rows = c
            .query(
                &format!("{DEFINITION_SELECT} WHERE tenant = $1 ORDER BY key"),
                &[&t(tenant)],
            )
            .map_err(pg)?;
        Ok(rows.iter().map(decode_definition).collect::<Result<_>>()?)
    }
}

const ASSIGNMENT_SELECT: &str = "SELECT a.id, a.tenant, a.user_id, d.key, a.target_value,
    COALESCE(a.weight, 100), a.start_date, a.end_date, COALESCE(a.is_active, true), a.assigned_by
    FROM user_kpis a JOIN kpi_definitions d ON d.id = a.kpi_definition_id";

fn decode_assignment(r: &postgres::Row) -> Result<KpiAssignment> {
    let target: Option<Decimal> = r.get(4);
    Ok(KpiAssignment {
        id: r.get::<_, i32>(0) as u64,
        tenant: opt_tenant(r.get(1)),
        agent_id: r.get::<_, i32>(2) as u64,
        definition: r.get(3),
        target: target.ok_or_else(|| corrupt("user_kpis", "target_value is null"))?,
        weight: r.get(5),
        valid_from: r.get(6),
        valid_to: r.get(7),
        active: r.get(8),
        assigned_by: r.get::<_, Option<i32>>(9).map(|b| b as u64),
    })
}

fn load_assignments(
    c: &mut impl postgres::GenericClient,
    f: &AssignmentFilter,
) -> Result<Vec<KpiAssignment>> {
    let agent = db_id32_opt("agent_id", f.agent_id)?;
    let rows = c.query(
        &format!(
            "{ASSIGNMENT_SELECT} WHERE a.tenant = $1 AND ($2::INT IS NULL OR a.user_id = $2)
               AND ($3::TEXT IS NULL OR d.key = $3) ORDER BY a.id"
        ),
        &[&t(f.tenant.as_deref()), &agent, &f.definition],
    )?;
    let mut out = Vec::new();
    for r in &rows {
        let a = decode_assignment(r)?;
        if f.matches(&a) {
            out.push(a);
        }
    }
    Ok(out)
}

fn definition_in(
    c: &mut impl postgres::GenericClient,
    tenant: Option<&str>,
    key: &str,
) -> Result<Option<(i32, KpiDefinition)>> {
    let id: Option<i32> = c
        .query_opt(
            "SELECT id FROM kpi_definitions WHERE tenant = $1 AND key = $2",
            &[&t(tenant), &key],
        )?
        .map(|r| r.get(0));
    let Some(id) = id else { return Ok(None) };
    let row = c.query_one(&format!("{DEFINITION_SELECT} WHERE id = $1"), &[&id])?;
    Ok(Some((id, decode_definition(&row)?)))
}

fn unique_violation(e: &postgres::Error) -> bool {
    e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION)
}

impl AssignmentStore for PgStore {
    fn insert_assignment(&self, new: NewKpiAssignment) -> teamkpi::Result<KpiAssignment> {
        let mut c = self.lock()?;
        let mut tx = c.transaction().map_err(pg)?;
        let def = definition_in(&mut tx, new.tenant.as_deref(), &new.definition)?;
        let existing = load_assignments(&mut tx, &AssignmentFilter::same_kpi(&new))?;
        teamkpi::store::check_new_assignment(&new, def.as_ref().map(|d| &d.1), &existing, None)?;
        let def_id = def
            .map(|d| d.0)
            .ok_or_else(|| teamkpi::Error::UnknownDefinition(new.definition.clone()))?;
        let row = tx
            .query_one(
                "INSERT INTO user_kpis (tenant, user_id, kpi_definition_id, target_value, weight,
                   start_date, end_date, assigned_by, is_active)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                &[
                    &t(new.tenant.as_deref()),
                    &db_id32("agent_id", new.agent_id)?,
                    &def_id,
                    &new.target,
                    &new.weight,
                    &new.valid_from,
                    &new.valid_to,
                    &db_id32_opt("assigned_by", new.assigned_by)?,
                    &new.active,
                ],
            )
            .map_err(|e| {
                if unique_violation(&e) {
                    teamkpi::Error::DuplicateAssignment {
                        agent_id: new.agent_id,
                        definition: new.definition.clone(),
                        start: new.valid_from.to_string(),
                    }
                } else {
                    pg(e)
                }
            })?;
        let id: i32 = row.get(0);
        tx.commit().map_err(pg)?;
        Ok(new.with_id(id as u64))
    }

    fn update_assignment(&self, a: &KpiAssignment) -> teamkpi::Result<()> {
        let mut c = self.lock()?;
        let mut tx = c.transaction().map_err(pg)?;
        let all = load_assignments(&mut tx, &AssignmentFilter::all(a.tenant.as_deref()))?;
        if !all.iter().any(|x| x.id == a.id) {
            return Err(teamkpi::Error::UnknownAssignment(a.id));
        }
        let new = a.to_new();
        let def = definition_in(&mut tx, a.tenant.as_deref(), &a.definition)?;
        teamkpi::store::check_new_assignment(&new, def.as_ref().map(|d| &d.1), &all, Some(a.id))?;
        let def_id = def
            .map(|d| d.0)
            .ok_or_else(|| teamkpi::Error::UnknownDefinition(a.definition.clone()))?;
        tx.execute(
            "UPDATE user_kpis SET user_id = $2, kpi_definition_id = $3, target_value = $4, weight = $5,
               start_date = $6, end_date = $7, assigned_by = $8, is_active = $9 WHERE id = $1",
            &[
                &db_id32("id", a.id)?,
                &db_id32("agent_id", a.agent_id)?,
                &def_id,
                &a.target,
                &a.weight,
                &a.valid_from,
                &a.valid_to,
                &db_id32_opt("assigned_by", a.assigned_by)?,
                &a.active,
            ],
        )
        .map_err(pg)?;
        tx.commit().map_err(pg)?;
        Ok(())
    }

    fn assignment(&self, tenant: Option<&str>, id: u64) -> teamkpi::Result<Option<KpiAssignment>> {
        let mut c = self.lock()?;
        let row = c
            .query_opt(
                &format!("{ASSIGNMENT_SELECT} WHERE a.tenant = $1 AND a.id = $2"),
                &[&t(tenant), &db_id32("id", id)?],
            )
            .map_err(pg)?;
        Ok(row.as_ref().map(decode_assignment).transpose()?)
    }

    fn assignments(&self, filter: &AssignmentFilter) -> teamkpi::Result<Vec<KpiAssignment>> {
        let mut c = self.lock()?;
        Ok(load_assignments(&mut *c, filter)?)
    }
}

const MEASUREMENT_SELECT: &str = "SELECT m.user_kpi_id, m.tenant, a.user_id, d.key, m.period_start,
    m.period_end, m.complete, m.actual_value, m.target_value, m.achievement_percentage,
    m.metadata, m.calculated_at, m.ad_hoc FROM kpi_measurements m
    JOIN user_kpis a ON a.id = m.user_kpi_id
    JOIN kpi_definitions d ON d.id = a.kpi_definition_id";

fn decode_measurement(r: &postgres::Row) -> Result<Measurement> {
    let table = "kpi_measurements";
    let num = |i: usize| -> Result<Decimal> {
        r.get::<_, Option<Decimal>>(i)
            .ok_or_else(|| corrupt(table, "a value column is null"))
    };
    let metadata: Option<serde_json::Value> = r.get(10);
    let at: Option<NaiveDateTime> = r.get(11);
    Ok(Measurement {
        assignment_id: r.get::<_, i32>(0) as u64,
        tenant: opt_tenant(r.get(1)),
        agent_id: r.get::<_, i32>(2) as u64,
        definition: r.get(3),
        period_start: r.get(4),
        period_end: r.get(5),
        complete: r.get(6),
        actual: num(7)?,
        target: num(8)?,
        achievement: num(9)?,
        metadata: match metadata {
            Some(serde_json::Value::Object(m)) => m.into_iter().collect(),
            _ => Default::default(),
        },
        calculated_at: at.map(|a| a.and_utc()).unwrap_or_default(),
        ad_hoc: r.get(12),
    })
}

fn upsert_in(c: &mut impl postgres::GenericClient, m: &Measurement) -> Result<u64> {
    teamkpi::store::check_period(m.period_start, m.period_end)?;
    let owner: Option<String> = c
        .query_opt(
            "SELECT tenant FROM user_kpis WHERE id = $1",
            &[&db_id32("assignment_id", m.assignment_id)?],
        )?
        .map(|r| r.get(0));
    teamkpi::store::check_owner(owner.as_deref(), m.tenant.as_deref(), m.assignment_id)?;
    let s = m.rounded_for_storage();
    let metadata = serde_json::Value::Object(s.metadata.clone().into_iter().collect());
    let row = c.query_one(
        "INSERT INTO kpi_measurements (tenant, user_kpi_id, period_start, period_end, complete,
           actual_value, target_value, achievement_percentage, metadata, calculated_at, ad_hoc)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (user_kpi_id, period_start, period_end, ad_hoc) DO UPDATE SET
           complete = EXCLUDED.complete, actual_value = EXCLUDED.actual_value,
           target_value = EXCLUDED.target_value,
           achievement_percentage = EXCLUDED.achievement_percentage,
           metadata = EXCLUDED.metadata, calculated_at = EXCLUDED.calculated_at
         RETURNING id",
        &[
            &t(s.tenant.as_deref()),
            &db_id32("assignment_id", s.assignment_id)?,
            &s.period_start,
            &s.period_end,
            &s.complete,
            &s.actual,
            &s.target,
            &s.achievement,
            &metadata,
            &s.calculated_at.naive_utc(),
            &s.ad_hoc,
        ],
    )?;
    Ok(row.get::<_, i32>(0) as u64)
}

impl MeasurementStore for PgStore {
    fn upsert_measurement(&self, m: &Measurement) -> teamkpi::Result<u64> {
        let mut c = self.lock()?;
        Ok(upsert_in(&mut *c, m)?)
    }

    fn upsert_measurements(&self, ms: &[Measurement]) -> teamkpi::Result<Vec<u64>> {
        Ok(self.transaction(|tx| ms.iter().map(|m| upsert_in(tx, m)).collect())?)
    }

    fn measurements(
        &self,
        tenant: Option<&str>,
        assignment_id: u64,
    ) -> teamkpi::Result<Vec<Measurement>> {
        let mut c = self.lock()?;
        let rows = c
            .query(
                &format!(
                    "{MEASUREMENT_SELECT} WHERE m.tenant = $1 AND m.user_kpi_id = $2 \
                     ORDER BY m.period_start, m.period_end, m.ad_hoc"
                ),
                &[&t(tenant), &db_id32("assignment_id", assignment_id)?],
            )
            .map_err(pg)?;
        Ok(rows.iter().map(decode_measurement).collect::<Result<_>>()?)
    }
}

impl ManualValueStore for PgStore {
    fn record_manual_value(&self, tenant: Option<&str>, v: &ManualValue) -> teamkpi::Result<()> {
        teamkpi::store::check_period(v.period_start, v.period_end)?;
        let mut c = self.lock()?;
        let owner: Option<String> = c
            .query_opt(
                "SELECT tenant FROM user_kpis WHERE id = $1",
                &[&db_id32("assignment_id", v.assignment_id)?],
            )
            .map_err(pg)?
            .map(|r| r.get(0));
        teamkpi::store::check_owner(owner.as_deref(), tenant, v.assignment_id)?;
        c.execute(
            "INSERT INTO kpi_manual_values (tenant, user_kpi_id, period_start, period_end, value,
               recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (user_kpi_id, period_start, period_end) DO UPDATE SET value = EXCLUDED.value,
               recorded_by = EXCLUDED.recorded_by, recorded_at = EXCLUDED.recorded_at",
            &[
                &t(tenant),
                &db_id32("assignment_id", v.assignment_id)?,
                &v.period_start,
                &v.period_end,
                &v.value,
                &db_id_opt("recorded_by", v.recorded_by)?,
                &v.recorded_at,
            ],
        )
        .map_err(pg)?;
        Ok(())
    }

    fn manual_value(
        &self,
        tenant: Option<&str>,
        assignment_id: u64,
        start: NaiveDate,
        end: NaiveDate,
    ) -> teamkpi::Result<Option<ManualValue>> {
        let mut c = self.lock()?;
        let row = c
            .query_opt(
                "SELECT value, recorded_by, recorded_at FROM kpi_manual_values
                 WHERE tenant = $1 AND user_kpi_id = $2 AND period_start = $3 AND period_end = $4",
                &[
                    &t(tenant),
                    &db_id32("assignment_id", assignment_id)?,
                    &start,
                    &end,
                ],
            )
            .map_err(pg)?;
        Ok(row.map(|r| ManualValue {
            assignment_id,
            period_start: start,
            period_end: end,
            value: r.get(0),
            recorded_by: r.get::<_, Option<i64>>(1).map(|b| b as u64),
            recorded_at: r.get(2),
        }))
    }
}

impl RollupStore for PgStore {
    fn merge_rollup(
        &self,
        key: &RollupKey,
        partial_id: &str,
        state: &serde_json::Value,
    ) -> teamkpi::Result<()> {
        let mut c = self.lock()?;
        c.execute(
            "INSERT INTO kpi_rollups (tenant, name, grp, period_start, partial_id, state)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (tenant, name, grp, period_start, partial_id) DO UPDATE SET state = EXCLUDED.state",
            &[&t(key.tenant.as_deref()), &key.name, &key.group, &key.period_start, &partial_id, state],
        )
        .map_err(pg)?;
        Ok(())
    }

    fn rollup_partials(
        &self,
        key: &RollupKey,
    ) -> teamkpi::Result<Vec<(String, serde_json::Value)>> {
        let mut c = self.lock()?;
        let rows = c
            .query(
                "SELECT partial_id, state FROM kpi_rollups
                 WHERE tenant = $1 AND name = $2 AND grp = $3 AND period_start = $4 ORDER BY partial_id",
                &[&t(key.tenant.as_deref()), &key.name, &key.group, &key.period_start],
            )
            .map_err(pg)?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}

impl ActivitySource for PgStore {
    fn tickets(
        &self,
        tenant: Option<&str>,
        from: Timestamp,
        to: Timestamp,
    ) -> teamkpi::Result<Vec<Ticket>> {
        teamkpi::store::check_window("tickets", from, to)?;
        let Some(a) = &self.activity else {
            return self.own_window(
                "teamkpi_tickets",
                "SELECT record FROM teamkpi_tickets WHERE tenant = $1 AND created_at < $3
                   AND last_activity_at >= $2 ORDER BY id",
                tenant,
                from,
                to,
            );
        };
        let mut c = self.lock()?;
        activity::host_tickets(&mut c, a, tenant, from, to)
    }

    fn calls(
        &self,
        tenant: Option<&str>,
        from: Timestamp,
        to: Timestamp,
    ) -> teamkpi::Result<Vec<Call>> {
        teamkpi::store::check_window("calls", from, to)?;
        // Calls and sessions always come from teamkpi's own tables (host ticket tables are
        // mapped by `ActivityTables`; the KPI tables has no call tables to map).
        self.own_window(
            "teamkpi_calls",
            "SELECT record FROM teamkpi_calls WHERE tenant = $1 AND started_at >= $2
               AND started_at < $3 ORDER BY started_at, id",
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
        self.own_window(
            "teamkpi_sessions",
            "SELECT record FROM teamkpi_sessions WHERE tenant = $1 AND start_at < $3
               AND (end_at IS NULL OR end_at > $2) ORDER BY start_at, id",
            tenant,
            from,
            to,
        )
    }
}
