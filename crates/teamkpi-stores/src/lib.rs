//! teamkpi's stores behind one trait, for the command line and the bindings: SQLite (a file) or
//! PostgreSQL (a `postgres://` URL), with teamkpi's own activity tables, agents and company
//! settings; and `update_kpis` over the activity a store holds.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeSet;
use teamkpi::engine::{Engine, EngineOptions};
use teamkpi::live::{LiveMetrics, LiveStore};
use teamkpi::metrics::MetricsOptions;
use teamkpi::request::UpdateOptions;
use teamkpi::update::{
    measure_range as measure_range_of, update_kpis, MetricSource, RangeMeasurement, RangeRequest,
    SnapshotMetrics, UpdateReport, UpdateRequest, WithCallFigures,
};
use teamkpi::{ExternalValueProvider, MetricCatalog};

use teamkpi::metrics::{AgentSession, Call, Campaign, Contact, Ticket};
use teamkpi::{ActivitySource, AgentState, KpiStore};
use teamkpi_postgres::PgStore;
use teamkpi_sqlite::SqliteStore;

/// Company settings: time zone, assignment settings, SLA policy, calendar.
pub type Settings = teamkpi::settings::CompanySettings;

/// What hosts need of a store beyond the core's traits: teamkpi's own activity, agents and
/// company settings.
pub trait HostStore: KpiStore + ActivitySource + LiveStore + Send + Sync {
    /// The store's live metrics ([`LiveStore`]).
    fn live(&self) -> &dyn LiveStore;
    /// Inserts or replaces tickets in one transaction.
    fn put_tickets(&self, tickets: &[Ticket]) -> teamkpi::Result<usize>;
    /// Open tickets, by id.
    fn open_tickets(&self, tenant: Option<&str>) -> teamkpi::Result<Vec<Ticket>>;
    /// Inserts or replaces calls.
    fn put_calls(&self, calls: &[Call]) -> teamkpi::Result<usize>;
    /// Adds session intervals.
    fn put_sessions(&self, sessions: &[AgentSession]) -> teamkpi::Result<usize>;
    /// Inserts or replaces contacts.
    fn put_contacts(&self, contacts: &[Contact]) -> teamkpi::Result<usize>;
    /// Inserts or replaces campaigns.
    fn put_campaigns(&self, campaigns: &[Campaign]) -> teamkpi::Result<usize>;
    /// All contacts.
    fn contacts(&self, tenant: Option<&str>) -> teamkpi::Result<Vec<Contact>>;
    /// All campaigns.
    fn campaigns(&self, tenant: Option<&str>) -> teamkpi::Result<Vec<Campaign>>;
    /// Inserts or replaces agents with names.
    fn put_agents(&self, agents: &[(AgentState, Option<String>)]) -> teamkpi::Result<usize>;
    /// All agents with names, by id.
    fn agents(&self, tenant: Option<&str>) -> teamkpi::Result<Vec<(AgentState, Option<String>)>>;
    /// The company settings.
    fn settings(&self, tenant: Option<&str>) -> teamkpi::Result<Settings>;
    /// Saves a company's settings as they are (see [`save_settings`], which checks them against
    /// live state first).
    fn put_settings(&self, tenant: Option<&str>, settings: &Settings) -> teamkpi::Result<()>;
    /// Definition row ids with their keys (the KPI tables' `kpi_definition_id`), by id.
    fn definition_ids(&self, tenant: Option<&str>) -> teamkpi::Result<Vec<(u64, String)>>;
    /// The SLA alert keys already sent (an SLA job alerts each breach or risk once).
    fn sla_alerted(&self, tenant: Option<&str>) -> teamkpi::Result<BTreeSet<String>>;
    /// Records alert keys as sent and forgets those no longer current, in one transaction.
    fn record_sla_alerts(
        &self,
        tenant: Option<&str>,
        sent: &[String],
        forget: &[String],
        at: DateTime<Utc>,
    ) -> teamkpi::Result<()>;
}

macro_rules! delegate {
    ($store:ty) => {
        impl HostStore for $store {
            fn live(&self) -> &dyn LiveStore {
                self
            }
            fn put_tickets(&self, x: &[Ticket]) -> teamkpi::Result<usize> {
                Ok(<$store>::put_tickets(self, x)?)
            }
            fn open_tickets(&self, t: Option<&str>) -> teamkpi::Result<Vec<Ticket>> {
                Ok(<$store>::open_tickets(self, t)?)
            }
            fn put_calls(&self, x: &[Call]) -> teamkpi::Result<usize> {
                Ok(<$store>::put_calls(self, x)?)
            }
            fn put_sessions(&self, x: &[AgentSession]) -> teamkpi::Result<usize> {
                Ok(<$store>::put_sessions(self, x)?)
            }
            fn put_contacts(&self, x: &[Contact]) -> teamkpi::Result<usize> {
                Ok(<$store>::put_contacts(self, x)?)
            }
            fn put_campaigns(&self, x: &[Campaign]) -> teamkpi::Result<usize> {
                Ok(<$store>::put_campaigns(self, x)?)
            }
            fn contacts(&self, t: Option<&str>) -> teamkpi::Result<Vec<Contact>> {
                Ok(<$store>::contacts(self, t)?)
            }
            fn campaigns(&self, t: Option<&str>) -> teamkpi::Result<Vec<Campaign>> {
                Ok(<$store>::campaigns(self, t)?)
            }
            fn put_agents(&self, x: &[(AgentState, Option<String>)]) -> teamkpi::Result<usize> {
                Ok(<$store>::put_agents(self, x)?)
            }
            fn agents(
                &self,
                t: Option<&str>,
            ) -> teamkpi::Result<Vec<(AgentState, Option<String>)>> {
                Ok(<$store>::agents(self, t)?)
            }
            fn settings(&self, t: Option<&str>) -> teamkpi::Result<Settings> {
                Ok(<$store>::settings(self, t)?)
            }
            fn put_settings(&self, t: Option<&str>, s: &Settings) -> teamkpi::Result<()> {
                Ok(<$store>::put_settings(self, t, s)?)
            }
            fn definition_ids(&self, t: Option<&str>) -> teamkpi::Result<Vec<(u64, String)>> {
                Ok(<$store>::definition_ids(self, t)?)
            }
            fn sla_alerted(&self, t: Option<&str>) -> teamkpi::Result<BTreeSet<String>> {
                Ok(<$store>::sla_alerted(self, t)?)
            }
            fn record_sla_alerts(
                &self,
                t: Option<&str>,
                sent: &[String],
                forget: &[String],
                at: DateTime<Utc>,
            ) -> teamkpi::Result<()> {
                Ok(<$store>::record_sla_alerts(self, t, sent, forget, at)?)
            }
        }
    };
}

delegate!(SqliteStore);
delegate!(PgStore);

/// True when `db` names a PostgreSQL server rather than a file.
pub fn is_postgres_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// Opening a store failed.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The SQLite file could not be opened or migrated.
    #[error("cannot open {path}: {source}")]
    Sqlite {
        /// The file.
        path: String,
        /// Why.
        source: teamkpi_sqlite::SqliteError,
    },
    /// The PostgreSQL server could not be reached or migrated.
    #[error("cannot open the PostgreSQL database: {0}")]
    Postgres(#[from] teamkpi_postgres::PgError),
}

impl OpenError {
    /// The stable code (`storage`, or the core code of a migration problem).
    pub fn code(&self) -> &'static str {
        match self {
            OpenError::Sqlite { source, .. } => source.code(),
            OpenError::Postgres(e) => e.code(),
        }
    }
}

/// Opens `db`: a `postgres://` URL, `:memory:` for a private in-memory SQLite database, or a
/// SQLite file (created when missing). Pending migrations run.
pub fn open(db: &str) -> Result<Box<dyn HostStore>, OpenError> {
    open_cancellable(db, &mut || false)
}

/// [`open`], asking `cancelled` about ten times a second while a PostgreSQL server is slow to
/// answer (see [`PgStore::connect_cancellable`]).
pub fn open_cancellable(
    db: &str,
    cancelled: &mut dyn FnMut() -> bool,
) -> Result<Box<dyn HostStore>, OpenError> {
    if is_postgres_url(db) {
        return Ok(Box::new(PgStore::connect_cancellable(db, cancelled)?));
    }
    let sqlite = if db == ":memory:" {
        SqliteStore::open_in_memory()
    } else {
        SqliteStore::open(db)
    };
    let store = sqlite.map_err(|source| OpenError::Sqlite {
        path: db.to_owned(),
        source,
    })?;
    Ok(Box::new(store))
}

/// Where `update_kpis` reads its metrics.
#[derive(Clone, Copy)]
pub enum UpdateSource<'a> {
    /// The tickets, calls and sessions the store's activity tables hold ([`update_from_store`]).
    Store,
    /// The store's live aggregates, calls and sessions ([`update_from_live`]).
    Live,
    /// Ticket snapshots, calls and sessions the host supplies (a list not given is empty).
    Records {
        /// Ticket snapshots.
        tickets: &'a [Ticket],
        /// Calls, for the call-center metrics.
        calls: &'a [Call],
        /// Agent sessions, for the call-center metrics.
        sessions: &'a [AgentSession],
    },
    /// An in-memory engine: its figures, and the calls and sessions it holds.
    Engine(&'a Engine),
    /// Any other source (its rows as they are: no call-center figures are added).
    Metrics(&'a dyn MetricSource),
}

impl<'a> UpdateSource<'a> {
    /// The source a call names: an engine, supplied records (any of tickets, calls and
    /// sessions), or (none) the store's activity; an engine with records is
    /// `invalid_argument`.
    pub fn chosen(
        engine: Option<&'a Engine>,
        tickets: Option<&'a [Ticket]>,
        calls: Option<&'a [Call]>,
        sessions: Option<&'a [AgentSession]>,
    ) -> teamkpi::Result<Self> {
        let records = tickets.is_some() || calls.is_some() || sessions.is_some();
        match engine {
            Some(_) if records => Err(teamkpi::Error::argument_error(
                "engine",
                "give engine or records (tickets, calls, sessions), not both",
            )),
            Some(e) => Ok(UpdateSource::Engine(e)),
            None if records => Ok(UpdateSource::Records {
                tickets: tickets.unwrap_or_default(),
                calls: calls.unwrap_or_default(),
                sessions: sessions.unwrap_or_default(),
            }),
            None => Ok(UpdateSource::Store),
        }
    }
}

/// `update_kpis` as every surface runs it: the options resolved against the company settings
/// (their zone and SLA policy where the options name none), an `agent_id` the store knows
/// nothing of (no agent record, no KPI assignment) refused as `unknown_agent`, then the run
/// over `source`.
pub fn update(
    store: &dyn HostStore,
    now: DateTime<Utc>,
    options: &UpdateOptions,
    source: UpdateSource<'_>,
    external: Option<&dyn ExternalValueProvider>,
) -> teamkpi::Result<UpdateReport> {
    let stored = store.settings(options.tenant.as_deref())?;
    let (request, metrics) = options.resolve(now, &stored)?;
    if let Some(a) = request.agent_id {
        let known = store
            .agents(request.tenant.as_deref())?
            .iter()
            .any(|(s, _)| s.id == a)
            || !store
                .assignments(&teamkpi::AssignmentFilter {
                    tenant: request.tenant.clone(),
                    agent_id: Some(a),
                    include_inactive: true,
                    ..Default::default()
                })?
                .is_empty();
        if !known {
            return Err(teamkpi::Error::UnknownAgent(a));
        }
    }
    let catalog = MetricCatalog::builtin();
    match source {
        UpdateSource::Store => update_from_store(store, &request, &metrics, external),
        UpdateSource::Live => update_from_live(store, &request, external),
        UpdateSource::Records {
            tickets,
            calls,
            sessions,
        } => {
            let source = SnapshotMetrics::new(tickets, &metrics)?;
            run_with_calls(store, &source, (calls, sessions), &request, external)
        }
        UpdateSource::Engine(engine) => {
            let (calls, sessions) = (engine.calls(), engine.sessions());
            run_with_calls(store, engine, (&calls, &sessions), &request, external)
        }
        UpdateSource::Metrics(source) => update_kpis(store, source, external, &catalog, &request),
    }
}

/// `measure_range` as every surface runs it (the KPI tables' `POST /calculate/{id}`): one
/// assignment measured over exactly `range` and stored as an ad-hoc measurement. The options'
/// zone, SLA policy, calendar and achievement policy resolve against the company settings as
/// for [`update`]; `date`, `days` and `agent_id` do not apply (`invalid_argument`). Figures
/// come from `source`: the store's tickets, calls and sessions of the range, its live
/// aggregates, supplied tickets, or any other [`MetricSource`].
pub fn measure_range(
    store: &dyn HostStore,
    now: DateTime<Utc>,
    options: &UpdateOptions,
    assignment_id: u64,
    range: teamkpi::DateRange,
    source: UpdateSource<'_>,
    external: Option<&dyn ExternalValueProvider>,
) -> teamkpi::Result<RangeMeasurement> {
    if options.date.is_some() || options.days.is_some() || options.agent_id.is_some() {
        return Err(teamkpi::Error::argument_error(
            "date",
            "a range measurement takes its days from the range (no date, days or agent_id)",
        ));
    }
    let stored = store.settings(options.tenant.as_deref())?;
    let (run, metrics) = options.resolve(now, &stored)?;
    let request = RangeRequest {
        tenant: run.tenant,
        assignment_id,
        range,
        now,
        timezone: run.timezone,
        policy: run.policy,
    };
    let tenant = request.tenant.as_deref();
    let catalog = MetricCatalog::builtin();
    let measure =
        |source: &dyn MetricSource| measure_range_of(store, source, external, &catalog, &request);
    let (from, to) = range.utc_bounds(request.timezone);
    match source {
        UpdateSource::Metrics(source) => measure(source),
        UpdateSource::Store
        | UpdateSource::Live
        | UpdateSource::Records { .. }
        | UpdateSource::Engine(_) => {
            // With the call-center figures of the range, from the same place as the tickets'.
            // Supplied records are borrowed; what is read is owned here.
            use std::borrow::Cow;
            type Calls<'c> = Cow<'c, [Call]>;
            type Sessions<'c> = Cow<'c, [AgentSession]>;
            let (snapshots, live);
            let (inner, calls, sessions): (&dyn MetricSource, Calls<'_>, Sessions<'_>) =
                match source {
                    UpdateSource::Records {
                        tickets,
                        calls,
                        sessions,
                    } => {
                        snapshots = SnapshotMetrics::for_range(tickets, &metrics, range)?;
                        (&snapshots, Cow::Borrowed(calls), Cow::Borrowed(sessions))
                    }
                    UpdateSource::Engine(e) => (e, e.calls().into(), e.sessions().into()),
                    UpdateSource::Live => {
                        live = LiveMetrics::new(store.live(), tenant, Some(now));
                        let calls = store.live().live_calls(tenant, from, to)?;
                        let sessions = store.live().live_sessions(tenant, from, to)?;
                        (&live, calls.into(), sessions.into())
                    }
                    _ => {
                        let tickets = store.tickets(tenant, from, to)?;
                        snapshots = SnapshotMetrics::for_range(&tickets, &metrics, range)?;
                        let calls = store.calls(tenant, from, to)?;
                        (
                            &snapshots,
                            calls.into(),
                            store.sessions(tenant, from, to)?.into(),
                        )
                    }
                };
            let tz = request.timezone;
            measure(&WithCallFigures::new(
                inner, &calls, &sessions, tenant, tz, now,
            )?)
        }
    }
}

/// `update_kpis` over the activity a store holds: reads the tickets, calls and sessions since the
/// start of the month or week of the run's first day (weekly and monthly KPIs reach back to
/// their period's start), computes agent metrics with `options` (zone, tenant, calendar, SLA;
/// `as_of` defaults to `now`) with the call-center figures beside them, and runs
/// [`update_kpis`].
pub fn update_from_store(
    store: &dyn HostStore,
    request: &UpdateRequest,
    options: &MetricsOptions,
    external: Option<&dyn ExternalValueProvider>,
) -> teamkpi::Result<UpdateReport> {
    let (from, to) = reach(request)?;
    let tickets = store.tickets(request.tenant.as_deref(), from, to)?;
    let mut options = options.clone();
    options.tenant = request.tenant.clone();
    options.timezone = request.timezone;
    options.as_of = options.as_of.or(Some(request.now));
    let source = SnapshotMetrics::new(&tickets, &options)?;
    // The call-center metrics (calls, sessions) of the same window, for KPIs on them.
    let tenant = request.tenant.as_deref();
    let calls = store.calls(tenant, from, to)?;
    let sessions = store.sessions(tenant, from, to)?;
    run_with_calls(store, &source, (&calls, &sessions), request, external)
}

/// [`update_kpis`] over `source` with the call-center figures of `calls` and `sessions`.
fn run_with_calls(
    store: &dyn HostStore,
    source: &dyn MetricSource,
    (calls, sessions): (&[Call], &[AgentSession]),
    request: &UpdateRequest,
    external: Option<&dyn ExternalValueProvider>,
) -> teamkpi::Result<UpdateReport> {
    let tenant = request.tenant.as_deref();
    let source = WithCallFigures::new(
        source,
        calls,
        sessions,
        tenant,
        request.timezone,
        request.now,
    )?;
    update_kpis(store, &source, external, &MetricCatalog::builtin(), request)
}

/// The window a run's periods can reach: from the start of the month or ISO week (whichever is
/// earlier) of its first day — a weekly or monthly KPI counts its whole period — to a day past
/// `now`.
fn reach(request: &UpdateRequest) -> teamkpi::Result<(DateTime<Utc>, DateTime<Utc>)> {
    use teamkpi::{Period, PeriodKind};
    let first = request.dates()?.start;
    let from = Period::containing(PeriodKind::Month, first)
        .start
        .min(Period::containing(PeriodKind::Week, first).start);
    let (from, _) = teamkpi::DateRange::day(from).utc_bounds(request.timezone);
    Ok((from, request.now.max(from) + Duration::days(1)))
}

/// The live-metrics settings of a tenant from its company settings: its zone and SLA policy,
/// with quantiles.
pub fn live_options(store: &dyn HostStore, tenant: Option<&str>) -> teamkpi::Result<EngineOptions> {
    live_options_of(tenant, &store.settings(tenant)?)
}

fn live_options_of(tenant: Option<&str>, settings: &Settings) -> teamkpi::Result<EngineOptions> {
    let mut o = EngineOptions::new(teamkpi::parse_timezone(&settings.timezone)?);
    o.tenant = tenant.map(str::to_owned);
    o.sla = settings.sla.clone();
    o.calendar = settings.calendar.clone();
    Ok(o)
}

/// Applies a change to a company's settings and saves them (every surface's settings writer):
/// the time zone must be an IANA name, and settings that change live figures (zone, SLA policy,
/// calendar) cannot change under the tenant's live state — `incompatible_state` until
/// `live_reset` and a backfill rebuild it (assignment settings always can). Returns the saved
/// settings.
pub fn save_settings(
    store: &dyn HostStore,
    tenant: Option<&str>,
    change: teamkpi::settings::SettingsChange,
) -> teamkpi::Result<Settings> {
    let settings = change.apply(store.settings(tenant)?)?;
    let wanted = teamkpi::live::settings_fingerprint(&live_options_of(tenant, &settings)?)?;
    if let Some(held) = store.live().live_settings(tenant)? {
        if held != wanted {
            return Err(teamkpi::Error::IncompatibleState(
                "the live state was built with another time zone, SLA policy or calendar: \
                 reset it (`teamkpi live reset`), save the settings, then backfill"
                    .into(),
            ));
        }
    }
    store.put_settings(tenant, &settings)?;
    Ok(settings)
}

/// `update_kpis` over the store's live aggregates: one row read per agent and period, no
/// ticket scan (backfill first, then keep live state current with real-time events).
pub fn update_from_live(
    store: &dyn HostStore,
    request: &UpdateRequest,
    external: Option<&dyn ExternalValueProvider>,
) -> teamkpi::Result<UpdateReport> {
    let tenant = request.tenant.as_deref();
    let live = LiveMetrics::new(store.live(), tenant, Some(request.now));
    // Calls and sessions held in live state, over the window the run's periods can reach.
    let (from, to) = reach(request)?;
    let calls = store.live().live_calls(tenant, from, to)?;
    let sessions = store.live().live_sessions(tenant, from, to)?;
    run_with_calls(store, &live, (&calls, &sessions), request, external)
}

/// The key of the tenant's definition with row id `id` (the KPI tables' `kpi_definition_id`).
pub fn definition_key(
    store: &dyn HostStore,
    tenant: Option<&str>,
    id: u64,
) -> teamkpi::Result<Option<String>> {
    Ok(store
        .definition_ids(tenant)?
        .into_iter()
        .find(|(i, _)| *i == id)
        .map(|(_, k)| k))
}

/// Definitions with their row ids, as the bindings return them.
pub fn definitions_with_ids(
    store: &dyn HostStore,
    defs: Vec<teamkpi::KpiDefinition>,
    tenant: Option<&str>,
) -> teamkpi::Result<Vec<(Option<u64>, teamkpi::KpiDefinition)>> {
    let ids = store.definition_ids(tenant)?;
    Ok(defs
        .into_iter()
        .map(|d| (ids.iter().find(|(_, k)| *k == d.key).map(|(i, _)| *i), d))
        .collect())
}

/// The KPI tables' assignment bodies name the definition by row id: replaces `kpi_definition_id` in a
/// JSON assignment with the definition's key (`unknown_definition` when there is none).
pub fn resolve_definition_id(
    store: &dyn HostStore,
    assignment: &mut serde_json::Value,
) -> teamkpi::Result<()> {
    let Some(m) = assignment.as_object_mut() else {
        return Ok(());
    };
    let Some(id) = m.remove("kpi_definition_id") else {
        return Ok(());
    };
    let tenant = m.get("tenant").and_then(|t| t.as_str()).map(str::to_owned);
    let id = id.as_u64().ok_or_else(|| {
        teamkpi::Error::argument_error("kpi_definition_id", "expected an integer id")
    })?;
    let key = definition_key(store, tenant.as_deref(), id)?
        .ok_or_else(|| teamkpi::Error::UnknownDefinition(id.to_string()))?;
    m.entry("definition")
        .or_insert(serde_json::Value::String(key));
    Ok(())
}
