//! `teamkpi.SqliteStore` and `teamkpi.PostgresStore` (one base class, `teamkpi.Store`), and
//! `update_kpis` / `agent_kpi` over them.

use crate::convert::{PyObj, PyOut};
use chrono::NaiveDate;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use rust_decimal::Decimal;
use teamkpi::metrics::{AgentSession, Call, Campaign, Contact, MetricsOptions};
use teamkpi::request::UpdateOptions;
use teamkpi::{
    AgentState, AssignmentFilter, Error, KpiAssignment, KpiDefinition, ManualValue, Measurement,
    NewKpiAssignment, Period,
};
use teamkpi_stores::{HostStore, UpdateSource};

use crate::convert::{
    date, dec_to_py, decimal, from_py, from_py_list, instant, opt_decimal, to_json,
};
use crate::engine::PyEngine;
use crate::errors::{coded, raise};
use crate::metrics::{calendar_arg, sla_arg, tickets_arg};
use crate::pyser::{to_py, Shape};
use crate::rules::zone;

/// A teamkpi store: KPI definitions, assignments, measurements, manual values, and teamkpi's own
/// activity tables, agents and company settings. Open one with `SqliteStore` or `PostgresStore`.
/// Safe to share between threads (each store serialises its connection).
#[pyclass(name = "Store", module = "teamkpi", subclass, frozen)]
pub struct PyStore {
    pub inner: Box<dyn HostStore>,
}

/// Opens a store with the GIL released; while a server is slow to answer, Python's signal
/// handlers run, so Ctrl-C raises `KeyboardInterrupt` at once instead of at the timeout.
fn open(py: Python<'_>, db: &str) -> PyResult<PyStore> {
    let mut interrupt: Option<PyErr> = None;
    let opened = py.detach(|| {
        teamkpi_stores::open_cancellable(db, &mut || {
            Python::attach(|py| match py.check_signals() {
                Ok(()) => false,
                Err(e) => {
                    interrupt = Some(e);
                    true
                }
            })
        })
    });
    if let Some(e) = interrupt {
        return Err(e);
    }
    let inner = opened.map_err(|e| coded(e.code(), e.to_string(), None, None))?;
    Ok(PyStore { inner })
}

/// The embedded SQLite store: a file, or `":memory:"` for a private in-memory database.
#[pyclass(name = "SqliteStore", module = "teamkpi", extends = PyStore, frozen)]
pub struct PySqliteStore;

#[pymethods]
impl PySqliteStore {
    #[new]
    #[pyo3(signature = (path=None))]
    fn new(py: Python<'_>, path: Option<std::path::PathBuf>) -> PyResult<PyClassInitializer<Self>> {
        crate::errors::guard(|| {
            let db = path
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|| ":memory:".to_owned());
            if teamkpi_stores::is_postgres_url(&db) {
                return Err(raise(Error::argument_error(
                    "path",
                    "a postgres:// URL opens with PostgresStore",
                )));
            }
            Ok(PyClassInitializer::from(open(py, &db)?).add_subclass(PySqliteStore))
        })
    }
}

/// The PostgreSQL store (`postgres://user@host:port/db`); migrations run on connect.
#[pyclass(name = "PostgresStore", module = "teamkpi", extends = PyStore, frozen)]
pub struct PyPostgresStore;

#[pymethods]
impl PyPostgresStore {
    #[new]
    fn new(
        py: Python<'_>,
        #[pyo3(from_py_with = crate::convert::text)] url: &str,
    ) -> PyResult<PyClassInitializer<Self>> {
        crate::errors::guard(|| {
            if !teamkpi_stores::is_postgres_url(url) {
                return Err(raise(Error::argument_error(
                    "url",
                    "expected postgres://user@host:port/db",
                )));
            }
            Ok(PyClassInitializer::from(open(py, url)?).add_subclass(PyPostgresStore))
        })
    }
}

/// Definitions as dicts with their row `id` first (the KPI tables' shape).
fn with_ids<'py>(
    py: Python<'py>,
    store: &dyn HostStore,
    defs: Vec<KpiDefinition>,
    tenant: Option<&str>,
) -> PyOut<'py> {
    let out = pyo3::types::PyList::empty(py);
    for (id, d) in teamkpi_stores::definitions_with_ids(store, defs, tenant).map_err(raise)? {
        let dict = PyDict::new(py);
        dict.set_item("id", id)?;
        let body = to_py(py, &d, Shape::Native)?;
        dict.update(body.cast::<pyo3::types::PyMapping>()?)?;
        out.append(dict)?;
    }
    Ok(out.into_any())
}

impl PyStore {
    /// A store read whose inputs are decoded inside `f`, as Python objects.
    fn read<'py, T: serde::Serialize>(
        &self,
        py: Python<'py>,
        f: impl FnOnce(&dyn HostStore) -> PyResult<teamkpi::Result<T>>,
    ) -> PyOut<'py> {
        crate::errors::guard(|| to_py(py, &f(&*self.inner)?.map_err(raise)?, Shape::Native))
    }

    /// A store write whose inputs are decoded inside `f` (a decode error is the call's error).
    fn write<R>(
        &self,
        f: impl FnOnce(&dyn HostStore) -> PyResult<teamkpi::Result<R>>,
    ) -> PyResult<R> {
        crate::errors::guard(|| f(&*self.inner)?.map_err(raise))
    }
}

#[pymethods]
impl PyStore {
    /// Inserts or replaces a KPI definition (the KPI tables' columns and strings are accepted).
    fn upsert_definition(&self, definition: &PyObj<'_>) -> PyResult<()> {
        crate::errors::guard(|| {
            let def: KpiDefinition = from_py(definition)?;
            def.validate(&teamkpi::MetricCatalog::builtin())
                .map_err(raise)?;
            self.inner.upsert_definition(&def).map_err(raise)
        })
    }

    /// One definition by key, or by its integer row `id` (the KPI tables' `kpi_definition_id`), or
    /// `None`. The dict carries that `id`.
    #[pyo3(signature = (key, *, tenant=None))]
    fn definition<'py>(
        &self,
        py: Python<'py>,
        key: &PyObj<'py>,
        #[pyo3(from_py_with = crate::convert::opt_text)] tenant: Option<&str>,
    ) -> PyOut<'py> {
        crate::errors::guard(|| {
            let key = match key.extract::<u64>() {
                Ok(id) => {
                    match teamkpi_stores::definition_key(&*self.inner, tenant, id).map_err(raise)? {
                        Some(k) => k,
                        None => return Ok(py.None().into_bound(py)),
                    }
                }
                Err(_) => key.extract::<String>()?,
            };
            let Some(d) = self.inner.definition(tenant, &key).map_err(raise)? else {
                return Ok(py.None().into_bound(py));
            };
            with_ids(py, &*self.inner, vec![d], tenant)?.get_item(0)
        })
    }

    /// Every definition of the tenant, by key; each dict carries its integer row `id`.
    #[pyo3(signature = (*, tenant=None))]
    fn definitions<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = crate::convert::opt_text)] tenant: Option<&str>,
    ) -> PyOut<'py> {
        crate::errors::guard(|| {
            let d = self.inner.definitions(tenant).map_err(raise)?;
            with_ids(py, &*self.inner, d, tenant)
        })
    }

    /// Assigns a KPI to an agent (`agent_id`/`user_id`, `definition` (key) or
    /// `kpi_definition_id` (row id), `target`/`target_value`, `weight`, `valid_from`/`start_date`,
    /// …) and returns the stored assignment with its id.
    fn insert_assignment<'py>(&self, py: Python<'py>, assignment: &PyObj<'py>) -> PyOut<'py> {
        crate::errors::guard(|| {
            let mut v = to_json(assignment)?;
            teamkpi_stores::resolve_definition_id(&*self.inner, &mut v).map_err(raise)?;
            let new: NewKpiAssignment = teamkpi::from_json(v).map_err(raise)?;
            let a = self.inner.insert_assignment(new).map_err(raise)?;
            to_py(py, &a, Shape::Native)
        })
    }

    /// Replaces a stored assignment (same id).
    fn update_assignment(&self, assignment: &PyObj<'_>) -> PyResult<()> {
        self.write(|s| Ok(s.update_assignment(&from_py::<KpiAssignment>(assignment)?)))
    }

    /// One assignment by id, or `None`.
    #[pyo3(signature = (assignment_id, *, tenant=None))]
    fn assignment<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = crate::convert::id)] assignment_id: u64,
        #[pyo3(from_py_with = crate::convert::opt_text)] tenant: Option<&str>,
    ) -> PyOut<'py> {
        self.read(py, |s| Ok(s.assignment(tenant, assignment_id)))
    }

    /// Assignments, filtered by agent, definition, the dates they apply to (`start`..`end`) and
    /// whether inactive ones are included.
    #[pyo3(signature = (*, tenant=None, agent_id=None, definition=None, start=None, end=None, include_inactive=false))]
    #[allow(clippy::too_many_arguments)]
    fn assignments<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = crate::convert::opt_string)] tenant: Option<String>,
        #[pyo3(from_py_with = crate::convert::opt_id)] agent_id: Option<u64>,
        #[pyo3(from_py_with = crate::convert::opt_string)] definition: Option<String>,
        start: Option<&PyObj<'py>>,
        end: Option<&PyObj<'py>>,
        #[pyo3(from_py_with = crate::convert::flag)] include_inactive: bool,
    ) -> PyOut<'py> {
        crate::errors::guard(|| {
            let applies_between = match (start, end) {
                (None, None) => None,
                (Some(s), None) => Some((date(s, "start")?, NaiveDate::MAX)),
                (None, Some(e)) => Some((NaiveDate::MIN, date(e, "end")?)),
                (Some(s), Some(e)) => Some((date(s, "start")?, date(e, "end")?)),
            };
            let filter = AssignmentFilter {
                tenant,
                agent_id,
                definition,
                applies_between,
                include_inactive,
            };
            self.read(py, |s| Ok(s.assignments(&filter)))
        })
    }

    /// Inserts or replaces a measurement (one per assignment and period); returns its id.
    fn upsert_measurement(&self, measurement: &PyObj<'_>) -> PyResult<u64> {
        self.write(|s| Ok(s.upsert_measurement(&from_py::<Measurement>(measurement)?)))
    }

    /// An assignment's measurements, oldest period first.
    #[pyo3(signature = (assignment_id, *, tenant=None))]
    fn measurements<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = crate::convert::id)] assignment_id: u64,
        #[pyo3(from_py_with = crate::convert::opt_text)] tenant: Option<&str>,
    ) -> PyOut<'py> {
        self.read(py, |s| Ok(s.measurements(tenant, assignment_id)))
    }

    /// An assignment's latest measurement, or `None`.
    #[pyo3(signature = (assignment_id, *, tenant=None))]
    fn latest_measurement<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = crate::convert::id)] assignment_id: u64,
        #[pyo3(from_py_with = crate::convert::opt_text)] tenant: Option<&str>,
    ) -> PyOut<'py> {
        self.read(py, |s| Ok(s.latest_measurement(tenant, assignment_id)))
    }

    /// Records a manager's value for a manual KPI (`assignment_id`, `period_start`,
    /// `period_end`, `value`, `recorded_by`…).
    #[pyo3(signature = (value, *, tenant=None))]
    fn record_manual_value(
        &self,
        value: &PyObj<'_>,
        #[pyo3(from_py_with = crate::convert::opt_text)] tenant: Option<&str>,
    ) -> PyResult<()> {
        self.write(|s| Ok(s.record_manual_value(tenant, &from_py::<ManualValue>(value)?)))
    }

    /// Inserts or replaces tickets (dicts as `ticket_metrics` takes, with transfers, messages…)
    /// in teamkpi's activity tables; returns how many.
    fn put_tickets(&self, tickets: &PyObj<'_>) -> PyResult<usize> {
        self.write(|s| Ok(s.put_tickets(&tickets_arg(tickets)?)))
    }

    /// Tickets with activity in `[start, end)`.
    #[pyo3(signature = (start, end, *, tenant=None))]
    fn tickets<'py>(
        &self,
        py: Python<'py>,
        start: &PyObj<'py>,
        end: &PyObj<'py>,
        #[pyo3(from_py_with = crate::convert::opt_text)] tenant: Option<&str>,
    ) -> PyOut<'py> {
        self.read(py, |s| {
            Ok(s.tickets(tenant, instant(start, "start")?, instant(end, "end")?))
        })
    }

    /// Open tickets, by id.
    #[pyo3(signature = (*, tenant=None))]
    fn open_tickets<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = crate::convert::opt_text)] tenant: Option<&str>,
    ) -> PyOut<'py> {
        self.read(py, |s| Ok(s.open_tickets(tenant)))
    }

    /// Inserts or replaces calls (the call-center dashboard's `calls` rows).
    fn put_calls(&self, calls: &PyObj<'_>) -> PyResult<usize> {
        self.write(|s| Ok(s.put_calls(&from_py_list::<Call>(Some(calls))?)))
    }

    /// Calls started in `[start, end)`.
    #[pyo3(signature = (start, end, *, tenant=None))]
    fn calls<'py>(
        &self,
        py: Python<'py>,
        start: &PyObj<'py>,
        end: &PyObj<'py>,
        #[pyo3(from_py_with = crate::convert::opt_text)] tenant: Option<&str>,
    ) -> PyOut<'py> {
        self.read(py, |s| {
            Ok(s.calls(tenant, instant(start, "start")?, instant(end, "end")?))
        })
    }

    /// Adds agent session intervals (the call-center dashboard's `agent_sessions`).
    fn put_sessions(&self, sessions: &PyObj<'_>) -> PyResult<usize> {
        self.write(|s| Ok(s.put_sessions(&from_py_list::<AgentSession>(Some(sessions))?)))
    }

    /// Session intervals overlapping `[start, end)`.
    #[pyo3(signature = (start, end, *, tenant=None))]
    fn sessions<'py>(
        &self,
        py: Python<'py>,
        start: &PyObj<'py>,
        end: &PyObj<'py>,
        #[pyo3(from_py_with = crate::convert::opt_text)] tenant: Option<&str>,
    ) -> PyOut<'py> {
        self.read(py, |s| {
            Ok(s.sessions(tenant, instant(start, "start")?, instant(end, "end")?))
        })
    }

    /// Inserts or replaces contacts.
    fn put_contacts(&self, contacts: &PyObj<'_>) -> PyResult<usize> {
        self.write(|s| Ok(s.put_contacts(&from_py_list::<Contact>(Some(contacts))?)))
    }

    /// All contacts.
    #[pyo3(signature = (*, tenant=None))]
    fn contacts<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = crate::convert::opt_text)] tenant: Option<&str>,
    ) -> PyOut<'py> {
        self.read(py, |s| Ok(s.contacts(tenant)))
    }

    /// Inserts or replaces campaigns (`id`, `name`, `active`).
    fn put_campaigns(&self, campaigns: &PyObj<'_>) -> PyResult<usize> {
        self.write(|s| Ok(s.put_campaigns(&from_py_list::<Campaign>(Some(campaigns))?)))
    }

    /// All campaigns.
    #[pyo3(signature = (*, tenant=None))]
    fn campaigns<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = crate::convert::opt_text)] tenant: Option<&str>,
    ) -> PyOut<'py> {
        self.read(py, |s| Ok(s.campaigns(tenant)))
    }

    /// Inserts or replaces agents: dicts as `Assigner` takes, with an optional `name`.
    fn put_agents(&self, agents: &PyObj<'_>) -> PyResult<usize> {
        crate::errors::guard(|| {
            let mut rows = Vec::new();
            for a in agents.try_iter()? {
                let a = a?;
                let name: Option<String> = match a.cast::<PyDict>() {
                    Ok(d) => d.get_item("name")?.and_then(|n| n.extract().ok()),
                    Err(_) => None,
                };
                let mut v = to_json(&a)?;
                if let Some(m) = v.as_object_mut() {
                    m.remove("name");
                }
                let state: AgentState = teamkpi::from_json(v).map_err(raise)?;
                rows.push((state, name));
            }
            self.inner.put_agents(&rows).map_err(raise)
        })
    }

    /// All agents (dicts with `name`), by id.
    #[pyo3(signature = (*, tenant=None))]
    fn agents<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = crate::convert::opt_text)] tenant: Option<&str>,
    ) -> PyOut<'py> {
        crate::errors::guard(|| {
            let rows = self.inner.agents(tenant).map_err(raise)?;
            let out = pyo3::types::PyList::empty(py);
            for (state, name) in rows {
                let d = to_py(py, &state, Shape::Native)?;
                d.set_item("name", name)?;
                out.append(d)?;
            }
            Ok(out.into_any())
        })
    }

    /// The company settings: `timezone`, `assignment` settings and `sla` policy (or `None`).
    #[pyo3(signature = (*, tenant=None))]
    fn settings<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = crate::convert::opt_text)] tenant: Option<&str>,
    ) -> PyOut<'py> {
        crate::errors::guard(|| {
            let stored = self.inner.settings(tenant).map_err(raise)?;
            let d = PyDict::new(py);
            d.set_item("timezone", &stored.timezone)?;
            d.set_item("assignment", to_py(py, &stored.assignment, Shape::Native)?)?;
            let none = || py.None().into_bound(py);
            let sla = match &stored.sla {
                Some(p) => to_py(py, p.spec(), Shape::Json)?,
                None => none(),
            };
            let calendar = match &stored.calendar {
                Some(c) => to_py(py, c, Shape::Json)?,
                None => none(),
            };
            d.set_item("sla", sla)?;
            d.set_item("calendar", calendar)?;
            Ok(d.into_any())
        })
    }

    /// Changes the company settings; what is not given stays (`clear_sla=True` removes the
    /// policy, `clear_calendar=True` the calendar). The time zone must be an IANA name; the zone,
    /// the SLA policy and the calendar cannot change under the tenant's live state
    /// (`incompatible_state`: `live_reset`, change, backfill). Returns the saved settings.
    #[pyo3(signature = (*, timezone=None, assignment=None, sla=None, clear_sla=false,
                        calendar=None, clear_calendar=false, tenant=None))]
    #[allow(clippy::too_many_arguments)]
    fn put_settings<'py>(
        &self,
        #[pyo3(from_py_with = crate::convert::opt_text)] timezone: Option<&str>,
        assignment: Option<&PyObj<'py>>,
        sla: Option<&PyObj<'py>>,
        #[pyo3(from_py_with = crate::convert::flag)] clear_sla: bool,
        calendar: Option<&PyObj<'py>>,
        #[pyo3(from_py_with = crate::convert::flag)] clear_calendar: bool,
        #[pyo3(from_py_with = crate::convert::opt_text)] tenant: Option<&str>,
    ) -> PyResult<()> {
        crate::errors::guard(|| {
            let change = teamkpi::settings::SettingsChange {
                timezone: timezone.map(str::to_owned),
                assignment: assignment.map(from_py).transpose()?,
                sla: sla.map(from_py).transpose()?,
                clear_sla,
                calendar: calendar.map(from_py).transpose()?,
                clear_calendar,
            };
            teamkpi_stores::save_settings(self.inner.as_ref(), tenant, change).map_err(raise)?;
            Ok(())
        })
    }
}

/// Values for external KPIs from a Python callable
/// `(definition: dict, assignment: dict, period: dict) -> Decimal | None`.
pub(crate) struct PyExternal<'py> {
    pub(crate) func: PyObj<'py>,
}

impl teamkpi::ExternalValueProvider for PyExternal<'_> {
    fn value(
        &self,
        definition: &KpiDefinition,
        assignment: &KpiAssignment,
        period: &Period,
    ) -> teamkpi::Result<Option<Decimal>> {
        let py = self.func.py();
        let call = || -> PyResult<Option<Decimal>> {
            let p = PyDict::new(py);
            p.set_item("kind", period.kind.as_str())?;
            p.set_item("start", crate::convert::date_to_py(py, period.start)?)?;
            p.set_item("end", crate::convert::date_to_py(py, period.end)?)?;
            let v = self.func.call1((
                to_py(py, definition, Shape::Native)?,
                to_py(py, assignment, Shape::Native)?,
                p,
            ))?;
            if v.is_none() {
                Ok(None)
            } else {
                decimal(&v, "external value").map(Some)
            }
        };
        // The provider's own failure becomes this KPI's failure; the run goes on (docs/semantics.md).
        call().map_err(|e| Error::argument_error("external", e.to_string()))
    }
}

/// The zone a call names, else the store's company zone (default UTC; docs/semantics.md).
pub(crate) fn store_zone(
    store: &dyn HostStore,
    tenant: Option<&str>,
    timezone: Option<&PyObj<'_>>,
) -> PyResult<chrono_tz::Tz> {
    match timezone {
        Some(t) if !t.is_none() => zone(Some(t)),
        _ => {
            let name = store.settings(tenant).map_err(raise)?.timezone;
            teamkpi::parse_timezone(&name).map_err(raise)
        }
    }
}

/// The options every `update_kpis` takes.
pub(crate) fn update_options(
    date_arg: Option<&PyObj<'_>>,
    days: Option<u32>,
    agent_id: Option<u64>,
    cap: Option<&PyObj<'_>>,
    floor: Option<&PyObj<'_>>,
) -> PyResult<UpdateOptions> {
    Ok(UpdateOptions {
        date: date_arg.map(|d| date(d, "date")).transpose()?,
        days,
        agent_id,
        policy: teamkpi::AchievementPolicy {
            cap: opt_decimal(cap, "cap")?,
            floor: opt_decimal(floor, "floor")?,
            ..Default::default()
        },
        ..UpdateOptions::default()
    })
}

/// The options of a store-level KPI run (`update_kpis`, `measure_range`): the tenant, zone,
/// SLA policy and calendar beside the range options.
fn run_options(
    range: UpdateOptions,
    tenant: Option<String>,
    timezone: Option<&PyObj<'_>>,
    sla: Option<&PyObj<'_>>,
    calendar: Option<&PyObj<'_>>,
) -> PyResult<UpdateOptions> {
    Ok(UpdateOptions {
        tenant,
        timezone: timezone
            .filter(|t| !t.is_none())
            .map(|t| zone(Some(t)))
            .transpose()?,
        sla: sla_arg(sla)?,
        calendar: calendar_arg(calendar)?,
        ..range
    })
}

/// A Python external-value callable, `None` when absent.
pub(crate) fn external_arg<'py>(external: Option<&PyObj<'py>>) -> Option<PyExternal<'py>> {
    external
        .filter(|e| !e.is_none())
        .map(|f| PyExternal { func: f.clone() })
}

/// What a KPI run reads: an `engine`, supplied records (`tickets`, `calls`, `sessions`), or
/// the store's activity.
pub(crate) struct SourceArgs<'a, 'py> {
    engine: Option<&'a Bound<'py, PyEngine>>,
    tickets: Option<&'a PyObj<'py>>,
    calls: Option<&'a PyObj<'py>>,
    sessions: Option<&'a PyObj<'py>>,
}

/// The metric source the arguments name, handed to `run` while the engine's lock is held.
fn with_source<T>(
    args: SourceArgs<'_, '_>,
    run: impl FnOnce(UpdateSource<'_>) -> teamkpi::Result<T>,
) -> PyResult<T> {
    let list = args.tickets.map(tickets_arg).transpose()?;
    let given = |o: Option<&PyObj<'_>>| o.filter(|o| !o.is_none()).is_some();
    let calls: Option<Vec<Call>> = given(args.calls)
        .then(|| from_py_list(args.calls))
        .transpose()?;
    let sessions: Option<Vec<AgentSession>> = given(args.sessions)
        .then(|| from_py_list(args.sessions))
        .transpose()?;
    let guard = args.engine.map(|e| e.get().lock()).transpose()?;
    let source = UpdateSource::chosen(
        guard.as_deref(),
        list.as_deref(),
        calls.as_deref(),
        sessions.as_deref(),
    )
    .map_err(raise)?;
    run(source).map_err(raise)
}

/// update_kpis(store, *, now, date=None, days=None, agent_id=None, engine=None, tickets=None,
/// calls=None, sessions=None, tenant=None, timezone=None, sla=None, calendar=None, cap=None,
/// floor=None, external=None) -> dict: the support desk's command. Metrics come from `engine`
/// (with its calls and sessions), from supplied `tickets` (snapshot dicts), `calls` and
/// `sessions`, or else from the store's own activity tables. Returns `successes`, `skipped`, `failures` and
/// per-KPI `outcomes`; one failing KPI never stops the rest.
#[pyfunction]
#[pyo3(signature = (store, *, now, date=None, days=None, agent_id=None, engine=None, tickets=None, calls=None, sessions=None, tenant=None, timezone=None, sla=None, calendar=None, cap=None, floor=None, external=None))]
#[allow(clippy::too_many_arguments)]
pub fn update_kpis<'py>(
    py: Python<'py>,
    #[pyo3(from_py_with = crate::convert::instance::<PyStore>)] store: &Bound<'py, PyStore>,
    now: &PyObj<'py>,
    date: Option<&PyObj<'py>>,
    #[pyo3(from_py_with = crate::convert::opt_count)] days: Option<u32>,
    #[pyo3(from_py_with = crate::convert::opt_id)] agent_id: Option<u64>,
    #[pyo3(from_py_with = crate::convert::opt_instance::<PyEngine>)] engine: Option<
        &Bound<'py, PyEngine>,
    >,
    tickets: Option<&PyObj<'py>>,
    calls: Option<&PyObj<'py>>,
    sessions: Option<&PyObj<'py>>,
    #[pyo3(from_py_with = crate::convert::opt_string)] tenant: Option<String>,
    timezone: Option<&PyObj<'py>>,
    sla: Option<&PyObj<'py>>,
    calendar: Option<&PyObj<'py>>,
    cap: Option<&PyObj<'py>>,
    floor: Option<&PyObj<'py>>,
    external: Option<&PyObj<'py>>,
) -> PyOut<'py> {
    crate::errors::guard(|| {
        let store = &store.get().inner;
        let range = update_options(date, days, agent_id, cap, floor)?;
        let options = run_options(range, tenant, timezone, sla, calendar)?;
        let provider = external_arg(external);
        let external = provider
            .as_ref()
            .map(|p| p as &dyn teamkpi::ExternalValueProvider);
        let now = instant(now, "now")?;
        let report = with_source(
            SourceArgs {
                engine,
                tickets,
                calls,
                sessions,
            },
            |source| teamkpi_stores::update(&**store, now, &options, source, external),
        )?;
        to_py(py, &report, Shape::Native)
    })
}

/// measure_range(store, assignment_id, start, end, *, now, engine=None, tickets=None,
/// calls=None, sessions=None, tenant=None, timezone=None, sla=None, calendar=None, cap=None, floor=None, external=None)
/// -> dict: one assignment measured over exactly the days `start` to `end` (the KPI tables'
/// calculate route) and stored as an ad-hoc measurement, which never becomes a scorecard's
/// latest or feeds AgentKPI. Returns `measurement_id` and `measurement` (`None` with a
/// `reason` when the range has no data). Metrics come from `engine`, `tickets` or the store's
/// activity.
#[pyfunction]
#[pyo3(signature = (store, assignment_id, start, end, *, now, engine=None, tickets=None, calls=None, sessions=None, tenant=None, timezone=None, sla=None, calendar=None, cap=None, floor=None, external=None))]
#[allow(clippy::too_many_arguments)]
pub fn measure_range<'py>(
    py: Python<'py>,
    #[pyo3(from_py_with = crate::convert::instance::<PyStore>)] store: &Bound<'py, PyStore>,
    #[pyo3(from_py_with = crate::convert::id)] assignment_id: u64,
    start: &PyObj<'py>,
    end: &PyObj<'py>,
    now: &PyObj<'py>,
    #[pyo3(from_py_with = crate::convert::opt_instance::<PyEngine>)] engine: Option<
        &Bound<'py, PyEngine>,
    >,
    tickets: Option<&PyObj<'py>>,
    calls: Option<&PyObj<'py>>,
    sessions: Option<&PyObj<'py>>,
    #[pyo3(from_py_with = crate::convert::opt_string)] tenant: Option<String>,
    timezone: Option<&PyObj<'py>>,
    sla: Option<&PyObj<'py>>,
    calendar: Option<&PyObj<'py>>,
    cap: Option<&PyObj<'py>>,
    floor: Option<&PyObj<'py>>,
    external: Option<&PyObj<'py>>,
) -> PyOut<'py> {
    crate::errors::guard(|| {
        let store = &store.get().inner;
        let range = date_range_arg(start, end)?;
        let policy = update_options(None, None, None, cap, floor)?;
        let options = run_options(policy, tenant, timezone, sla, calendar)?;
        let provider = external_arg(external);
        let external = provider
            .as_ref()
            .map(|p| p as &dyn teamkpi::ExternalValueProvider);
        let now = instant(now, "now")?;
        let done = with_source(
            SourceArgs {
                engine,
                tickets,
                calls,
                sessions,
            },
            |source| {
                teamkpi_stores::measure_range(
                    &**store,
                    now,
                    &options,
                    assignment_id,
                    range,
                    source,
                    external,
                )
            },
        )?;
        to_py(py, &done, Shape::Native)
    })
}

/// The local days `start` to `end` (dates), both included.
pub(crate) fn date_range_arg(start: &PyObj<'_>, end: &PyObj<'_>) -> PyResult<teamkpi::DateRange> {
    teamkpi::DateRange::new(date(start, "start")?, date(end, "end")?).map_err(raise)
}

/// agent_kpi(store, agent_id, day, *, engine=None, tickets=None, tenant=None, timezone=None)
/// -> dict: the support desk's AgentKPI row (`agent_id`, `kpi_date`, `total_tickets`,
/// `overall_kpi_score`). Ticket counts come from `engine`, `tickets`, or the store's activity.
#[pyfunction]
#[pyo3(signature = (store, agent_id, day, *, engine=None, tickets=None, tenant=None, timezone=None))]
#[allow(clippy::too_many_arguments)]
pub fn agent_kpi<'py>(
    py: Python<'py>,
    #[pyo3(from_py_with = crate::convert::instance::<PyStore>)] store: &Bound<'py, PyStore>,
    #[pyo3(from_py_with = crate::convert::id)] agent_id: u64,
    day: &PyObj<'py>,
    #[pyo3(from_py_with = crate::convert::opt_instance::<PyEngine>)] engine: Option<
        &Bound<'py, PyEngine>,
    >,
    tickets: Option<&PyObj<'py>>,
    #[pyo3(from_py_with = crate::convert::opt_string)] tenant: Option<String>,
    timezone: Option<&PyObj<'py>>,
) -> PyOut<'py> {
    crate::errors::guard(|| {
        let store = &store.get().inner;
        let day = date(day, "day")?;
        let policy = teamkpi::AchievementPolicy::default();
        let row = match engine {
            Some(e) => {
                let engine = e.get().lock()?;
                teamkpi::update::agent_kpi(
                    &**store,
                    &*engine,
                    tenant.as_deref(),
                    agent_id,
                    day,
                    &policy,
                )
            }
            None => {
                let tz = store_zone(&**store, tenant.as_deref(), timezone)?;
                let list = match tickets {
                    Some(t) => tickets_arg(t)?,
                    None => {
                        let (from, to) = teamkpi::DateRange::day(day).utc_bounds(tz);
                        store.tickets(tenant.as_deref(), from, to).map_err(raise)?
                    }
                };
                let mut options = MetricsOptions::daily(tz);
                options.tenant = tenant.clone();
                let source =
                    teamkpi::update::SnapshotMetrics::new(&list, &options).map_err(raise)?;
                teamkpi::update::agent_kpi(
                    &**store,
                    &source,
                    tenant.as_deref(),
                    agent_id,
                    day,
                    &policy,
                )
            }
        }
        .map_err(raise)?;
        let out = to_py(py, &row, Shape::Native)?;
        // The score as a Decimal with its 2 stored places.
        if let Some(s) = row.overall_kpi_score {
            out.set_item("overall_kpi_score", dec_to_py(py, s)?)?;
        }
        Ok(out)
    })
}
