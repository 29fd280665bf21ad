//! `teamkpi.LiveMetrics`: live metrics held in a store, shared by every process of a host.

use crate::convert::{PyObj, PyOut};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use teamkpi::engine::EngineOptions;
use teamkpi::live::{self, LiveWindows};
use teamkpi::metrics::analytics::{AnalyticsKind, AnalyticsOptions};
use teamkpi::metrics::{DashboardRequest, GroupBy, GroupKey};
use teamkpi::request::LiveRowsRequest;
use teamkpi::{Error, Period, PeriodKind};
use teamkpi_stores::UpdateSource;

use crate::convert::{date, dec_to_py, instant, opt_instant};
use crate::engine::events_arg;
use crate::errors::raise;
use crate::metrics::{calendar_arg, sla_arg, tickets_arg};
use crate::pyser::{to_py, Shape};
use crate::rules::zone;
use crate::store::{update_options, PyStore};
use teamkpi::request::UpdateOptions;

/// Live metrics in a store: apply events from any process, read figures without a ticket scan.
/// The settings (zone, SLA policy, calendar) default to the store's company settings; they are
/// fixed by the first apply, and other settings later are `incompatible_state` until `reset()`.
/// Every call is one transaction with the GIL released; safe to share between threads.
#[pyclass(name = "LiveMetrics", module = "teamkpi", frozen)]
pub struct PyLive {
    store: Py<PyStore>,
    options: EngineOptions,
}

impl PyLive {
    /// The store (`Send + Sync`: calls run with the GIL released).
    fn host<'a>(&'a self, py: Python<'a>) -> &'a dyn teamkpi_stores::HostStore {
        &*self.store.bind(py).get().inner
    }

    fn tenant(&self) -> Option<&str> {
        self.options.tenant.as_deref()
    }

    /// KPI run options in this object's tenant and zone.
    fn run_options(&self, range: UpdateOptions) -> UpdateOptions {
        UpdateOptions {
            tenant: self.options.tenant.clone(),
            timezone: Some(self.options.timezone),
            ..range
        }
    }

    /// A KPI run over the store with the Python `external` provider, if any. A Python provider
    /// needs the GIL: the run keeps it then, and releases it otherwise.
    fn run<T: Send>(
        &self,
        py: Python<'_>,
        external: Option<&PyObj<'_>>,
        run: impl Fn(
                &dyn teamkpi_stores::HostStore,
                Option<&dyn teamkpi::ExternalValueProvider>,
            ) -> teamkpi::Result<T>
            + Send
            + Sync,
    ) -> PyResult<T> {
        let host = self.host(py);
        let provider = crate::store::external_arg(external);
        match &provider {
            Some(p) => run(host, Some(p)),
            None => py.detach(|| run(host, None)),
        }
        .map_err(raise)
    }

    fn policy(&self) -> PyResult<&teamkpi::SlaPolicy> {
        self.options.sla.as_ref().ok_or_else(|| {
            raise(Error::argument_error(
                "sla",
                "no SLA policy: give one, or store one in the company settings",
            ))
        })
    }

    fn analytics_options(&self, now: &PyObj<'_>, days: u32) -> PyResult<AnalyticsOptions> {
        let mut o = AnalyticsOptions::new(self.options.timezone, instant(now, "now")?, days);
        o.tenant = self.options.tenant.clone();
        o.sla = self.options.sla.clone();
        Ok(o)
    }
}

fn period_kind(period: &str) -> PyResult<PeriodKind> {
    PeriodKind::parse(period).map_err(raise)
}

#[pymethods]
impl PyLive {
    #[new]
    #[pyo3(signature = (store, *, timezone=None, sla=None, calendar=None, tenant=None, quantiles=true, strict=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        #[pyo3(from_py_with = crate::convert::instance::<PyStore>)] store: &Bound<'_, PyStore>,
        timezone: Option<&PyObj<'_>>,
        sla: Option<&PyObj<'_>>,
        calendar: Option<&PyObj<'_>>,
        #[pyo3(from_py_with = crate::convert::opt_string)] tenant: Option<String>,
        #[pyo3(from_py_with = crate::convert::flag)] quantiles: bool,
        #[pyo3(from_py_with = crate::convert::flag)] strict: bool,
    ) -> PyResult<Self> {
        crate::errors::guard(|| {
            let mut options = teamkpi_stores::live_options(&*store.get().inner, tenant.as_deref())
                .map_err(raise)?;
            if timezone.is_some_and(|t| !t.is_none()) {
                options.timezone = zone(timezone)?;
            }
            if let Some(policy) = sla_arg(sla)? {
                options.sla = Some(policy);
            }
            options.calendar = calendar_arg(calendar)?;
            options.quantiles = quantiles;
            options.require_created_first = strict;
            Ok(PyLive {
                store: store.clone().unbind(),
                options,
            })
        })
    }

    /// Applies one event dict or a list of them in one transaction. An event that does not
    /// decode or validate refuses the call (`InvalidInputError`, code `invalid_events`, with
    /// `.errors`: each bad event's `index`, `code`, `message`); an event refused in context is
    /// listed in `rejected` and the others are applied; a repeated id is a duplicate.
    fn apply<'py>(&self, py: Python<'py>, events: &PyObj<'py>) -> PyOut<'py> {
        crate::errors::guard(|| {
            let events = events_arg(events, self.tenant())?;
            let host = self.host(py);
            let report = py
                .detach(|| host.live_apply(&self.options, &events))
                .map_err(raise)?;
            to_py(py, &report, Shape::Native)
        })
    }

    /// Applies the events of records from the host's own tables — ticket snapshots, calls,
    /// agent sessions — with ids derived from the records (a backfill, a hook that has the
    /// record, or a repair after a failed hook; applying them again changes nothing), in
    /// batches of `batch` events. Returns the batch reports' counts summed.
    #[pyo3(signature = (*, tickets=None, calls=None, sessions=None, batch=1000))]
    fn apply_records<'py>(
        &self,
        py: Python<'py>,
        tickets: Option<&PyObj<'py>>,
        calls: Option<&PyObj<'py>>,
        sessions: Option<&PyObj<'py>>,
        #[pyo3(from_py_with = crate::convert::count)] batch: usize,
    ) -> PyOut<'py> {
        crate::errors::guard(|| {
            let tickets = match tickets.filter(|t| !t.is_none()) {
                Some(t) => tickets_arg(t)?,
                None => Vec::new(),
            };
            let calls: Vec<teamkpi::metrics::Call> = crate::convert::from_py_list(calls)?;
            let sessions: Vec<teamkpi::metrics::AgentSession> =
                crate::convert::from_py_list(sessions)?;
            let host = self.host(py);
            let report = py
                .detach(|| {
                    live::apply_records(
                        host.live(),
                        &self.options,
                        &tickets,
                        &calls,
                        &sessions,
                        batch,
                    )
                })
                .map_err(raise)?;
            to_py(py, &report, Shape::Native)
        })
    }

    /// `apply_records(tickets=tickets)`: the events of ticket snapshots.
    #[pyo3(signature = (tickets, *, batch=1000))]
    fn apply_tickets<'py>(
        &self,
        py: Python<'py>,
        tickets: &PyObj<'py>,
        #[pyo3(from_py_with = crate::convert::count)] batch: usize,
    ) -> PyOut<'py> {
        crate::errors::guard(|| self.apply_records(py, Some(tickets), None, None, batch))
    }

    /// Loads the store's own activity (tickets, calls, sessions) of `[start, end)` into live
    /// state, a day at a time; `progress(dict)` is called after each day.
    #[pyo3(signature = (start, end, *, batch=1000, progress=None))]
    fn backfill<'py>(
        &self,
        py: Python<'py>,
        start: &PyObj<'py>,
        end: &PyObj<'py>,
        #[pyo3(from_py_with = crate::convert::count)] batch: usize,
        progress: Option<PyObj<'py>>,
    ) -> PyOut<'py> {
        crate::errors::guard(|| {
            let (from, to) = (instant(start, "start")?, instant(end, "end")?);
            let host = self.host(py);
            let callback = progress.filter(|p| !p.is_none()).map(Bound::unbind);
            let mut failed: Option<PyErr> = None;
            let report = py.detach(|| {
                let mut on_day = |p: &live::BackfillProgress| {
                    if let (Some(cb), None) = (&callback, &failed) {
                        Python::attach(|py| {
                            let call = to_py(py, p, Shape::Native).and_then(|d| cb.call1(py, (d,)));
                            if let Err(e) = call {
                                failed = Some(e);
                            }
                        });
                    }
                };
                live::backfill(
                    host.live(),
                    host,
                    &self.options,
                    from,
                    to,
                    batch,
                    &mut on_day,
                )
            });
            if let Some(e) = failed {
                return Err(e);
            }
            to_py(py, &report.map_err(raise)?, Shape::Native)
        })
    }

    /// Live rows of `period` (`day`, `week`, `month`) starting in `[start, end]`, per agent or
    /// team (`group_by`), one agent's or team's with `agent_id` / `team`; as of `now` (open SLA
    /// targets past due count as breached) when given.
    #[pyo3(signature = (start, end, *, period="day", group_by="agent", agent_id=None, team=None, now=None))]
    #[allow(clippy::too_many_arguments)]
    fn rows<'py>(
        &self,
        py: Python<'py>,
        start: &PyObj<'py>,
        end: &PyObj<'py>,
        #[pyo3(from_py_with = crate::convert::text)] period: &str,
        #[pyo3(from_py_with = crate::convert::text)] group_by: &str,
        #[pyo3(from_py_with = crate::convert::opt_id)] agent_id: Option<u64>,
        #[pyo3(from_py_with = crate::convert::opt_string)] team: Option<String>,
        now: Option<&PyObj<'py>>,
    ) -> PyOut<'py> {
        crate::errors::guard(|| {
            let request = LiveRowsRequest {
                period: Some(period_kind(period)?),
                group_by: Some(GroupBy::parse(group_by).map_err(raise)?),
                agent_id,
                team,
                now: opt_instant(now, "now")?,
            };
            let (start, end) = (date(start, "start")?, date(end, "end")?);
            let tenant = self.options.tenant.as_deref();
            let query = request.query(tenant, start, end).map_err(raise)?;
            let as_of = request.now;
            let host = self.host(py);
            let rows = py
                .detach(|| live::live_rows_as_of(host.live(), &query, as_of))
                .map_err(raise)?;
            to_py(py, &rows, Shape::Native)
        })
    }

    /// One agent's figures for the natural period (`day`, `week`, `month`) containing `day`, as
    /// of `now` when given; `None` when nothing was counted.
    #[pyo3(signature = (agent_id, day, *, period="day", now=None))]
    fn metrics<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = crate::convert::id)] agent_id: u64,
        day: &PyObj<'py>,
        #[pyo3(from_py_with = crate::convert::text)] period: &str,
        now: Option<&PyObj<'py>>,
    ) -> PyOut<'py> {
        crate::errors::guard(|| {
            let period = Period::containing(period_kind(period)?, date(day, "day")?);
            let as_of = opt_instant(now, "now")?;
            let host = self.host(py);
            let tenant = self.tenant();
            let row = py
                .detach(|| {
                    live::live_metrics(
                        host.live(),
                        tenant,
                        &GroupKey::Agent(Some(agent_id)),
                        &period,
                        as_of,
                    )
                })
                .map_err(raise)?;
            match row {
                Some(r) => to_py(py, &r, Shape::Native),
                None => Ok(py.None().into_bound(py)),
            }
        })
    }

    /// One of the desk's analytics results (`performance`, `trends`, `comparison`, `workload`,
    /// `performance_metrics`, `performance_trends`) from live day rows, in its JSON shape — the
    /// same result `teamkpi.analytics` gives over the snapshots of the same activity.
    #[pyo3(signature = (result, *, now, days=30, agent_id=None))]
    fn analytics<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = crate::convert::text)] result: &str,
        now: &PyObj<'py>,
        #[pyo3(from_py_with = crate::convert::count)] days: u32,
        #[pyo3(from_py_with = crate::convert::opt_id)] agent_id: Option<u64>,
    ) -> PyOut<'py> {
        crate::errors::guard(|| {
            let kind: AnalyticsKind = result.parse().map_err(raise)?;
            let o = self.analytics_options(now, days)?;
            let host = self.host(py);
            let out = py
                .detach(|| {
                    teamkpi::metrics::analytics::analytics(
                        kind,
                        &LiveWindows::new(host.live(), &o),
                        &o,
                        agent_id,
                    )
                })
                .map_err(raise)?;
            to_py(py, &out, Shape::Json)
        })
    }

    /// The desk's SLA analytics of the tickets created in `[start, end)` as of `now` (grouped
    /// by `all`, `agent`, `team` or `policy`; one agent's tasks with `agent_id`), in its JSON
    /// shape — what `teamkpi.sla_analytics` gives over the tickets' timelines.
    #[pyo3(signature = (start, end, *, now, group_by=None, agent_id=None))]
    fn sla_analytics<'py>(
        &self,
        py: Python<'py>,
        start: &PyObj<'py>,
        end: &PyObj<'py>,
        now: &PyObj<'py>,
        group_by: Option<&PyObj<'py>>,
        #[pyo3(from_py_with = crate::convert::opt_id)] agent_id: Option<u64>,
    ) -> PyOut<'py> {
        crate::errors::guard(|| {
            let policy = self.policy()?;
            let group: teamkpi::SlaGroupBy = match group_by {
                Some(g) if !g.is_none() => crate::convert::from_py(g)?,
                _ => teamkpi::SlaGroupBy::All,
            };
            let (from, to) = (instant(start, "start")?, instant(end, "end")?);
            let o = self.analytics_options(now, 1)?;
            let host = self.host(py);
            let rows = py
                .detach(|| {
                    LiveWindows::new(host.live(), &o)
                        .sla_analytics(policy, from, to, group, agent_id)
                })
                .map_err(raise)?;
            to_py(py, &rows, Shape::Json)
        })
    }

    /// The desk's list of active SLA breaches as of `now`: every breached target of the open
    /// tickets (one agent's with `agent_id`), as `teamkpi.sla_breaches` gives it over the open
    /// tickets' timelines.
    #[pyo3(signature = (*, now, agent_id=None))]
    fn sla_breaches<'py>(
        &self,
        py: Python<'py>,
        now: &PyObj<'py>,
        #[pyo3(from_py_with = crate::convert::opt_id)] agent_id: Option<u64>,
    ) -> PyOut<'py> {
        crate::errors::guard(|| {
            let policy = self.policy()?;
            let o = self.analytics_options(now, 1)?;
            let host = self.host(py);
            let list = py
                .detach(|| LiveWindows::new(host.live(), &o).sla_breaches(policy, agent_id))
                .map_err(raise)?;
            to_py(py, &list, Shape::Json)
        })
    }

    /// `update_kpis` over live aggregates: one row read per agent and period (no ticket scan).
    /// Options as `teamkpi.update_kpis`.
    #[pyo3(signature = (*, now, date=None, days=None, agent_id=None, cap=None, floor=None, external=None))]
    #[allow(clippy::too_many_arguments)]
    fn update_kpis<'py>(
        &self,
        py: Python<'py>,
        now: &PyObj<'py>,
        date: Option<&PyObj<'py>>,
        #[pyo3(from_py_with = crate::convert::opt_count)] days: Option<u32>,
        #[pyo3(from_py_with = crate::convert::opt_id)] agent_id: Option<u64>,
        cap: Option<&PyObj<'py>>,
        floor: Option<&PyObj<'py>>,
        external: Option<&PyObj<'py>>,
    ) -> PyOut<'py> {
        crate::errors::guard(|| {
            let now = instant(now, "now")?;
            let options = self.run_options(update_options(date, days, agent_id, cap, floor)?);
            let report = self.run(py, external, |host, p| {
                teamkpi_stores::update(host, now, &options, UpdateSource::Live, p)
            })?;
            to_py(py, &report, Shape::Native)
        })
    }

    /// `measure_range` over live aggregates: the range's day rows merged into one window (no
    /// ticket scan). Arguments as `teamkpi.measure_range`.
    #[pyo3(signature = (assignment_id, start, end, *, now, cap=None, floor=None, external=None))]
    #[allow(clippy::too_many_arguments)]
    fn measure_range<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = crate::convert::id)] assignment_id: u64,
        start: &PyObj<'py>,
        end: &PyObj<'py>,
        now: &PyObj<'py>,
        cap: Option<&PyObj<'py>>,
        floor: Option<&PyObj<'py>>,
        external: Option<&PyObj<'py>>,
    ) -> PyOut<'py> {
        crate::errors::guard(|| {
            let now = instant(now, "now")?;
            let range = crate::store::date_range_arg(start, end)?;
            let options = self.run_options(update_options(None, None, None, cap, floor)?);
            let done = self.run(py, external, |host, p| {
                let source = UpdateSource::Live;
                teamkpi_stores::measure_range(host, now, &options, assignment_id, range, source, p)
            })?;
            to_py(py, &done, Shape::Native)
        })
    }

    /// The desk's AgentKPI row (`agent_id`, `kpi_date`, `total_tickets`, `overall_kpi_score`)
    /// from live figures and the stored measurements.
    fn agent_kpi<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = crate::convert::id)] agent_id: u64,
        day: &PyObj<'py>,
    ) -> PyOut<'py> {
        crate::errors::guard(|| {
            let day = crate::convert::date(day, "day")?;
            let host = self.host(py);
            let tenant = self.tenant();
            let row = py
                .detach(|| {
                    let source = live::LiveMetrics::new(host.live(), tenant, None);
                    teamkpi::update::agent_kpi(
                        host,
                        &source,
                        tenant,
                        agent_id,
                        day,
                        &teamkpi::AchievementPolicy::default(),
                    )
                })
                .map_err(raise)?;
            let out = to_py(py, &row, Shape::Native)?;
            if let Some(s) = row.overall_kpi_score {
                out.set_item("overall_kpi_score", dec_to_py(py, s)?)?;
            }
            Ok(out)
        })
    }

    /// The call-center dashboard's twelve figures from live calls and sessions of `date`
    /// (sessions still open clipped to `now`); contacts and campaigns from the arguments, else
    /// from the store.
    #[pyo3(signature = (agent_id, date, *, now, contacts=None, campaigns=None))]
    fn dashboard<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = crate::convert::id)] agent_id: u64,
        date: &PyObj<'py>,
        now: &PyObj<'py>,
        contacts: Option<&PyObj<'py>>,
        campaigns: Option<&PyObj<'py>>,
    ) -> PyOut<'py> {
        crate::errors::guard(|| {
            let req = DashboardRequest {
                tenant: self.options.tenant.clone(),
                agent_id,
                date: crate::convert::date(date, "date")?,
                timezone: self.options.timezone,
                now: instant(now, "now")?,
            };
            let host = self.host(py);
            let contacts = match contacts.filter(|c| !c.is_none()) {
                Some(c) => crate::convert::from_py_list(Some(c))?,
                None => host.contacts(self.tenant()).map_err(raise)?,
            };
            let campaigns = match campaigns.filter(|c| !c.is_none()) {
                Some(c) => crate::convert::from_py_list(Some(c))?,
                None => host.campaigns(self.tenant()).map_err(raise)?,
            };
            let stats = py
                .detach(|| live::live_dashboard(host.live(), &req, &contacts, &campaigns))
                .map_err(raise)?;
            to_py(py, &stats, Shape::Json)
        })
    }

    /// Snapshots of the open tickets held (neither resolved nor closed).
    fn open_tickets<'py>(&self, py: Python<'py>) -> PyOut<'py> {
        crate::errors::guard(|| {
            let host = self.host(py);
            let tenant = self.tenant();
            let list = py
                .detach(|| live::live_open_snapshots(host.live(), tenant))
                .map_err(raise)?;
            to_py(py, &list, Shape::Native)
        })
    }

    /// Forgets the events of finished tickets whose last event is before `before` (their
    /// figures stay); a later event for one of them is `late_event`. Returns how many.
    fn evict(&self, py: Python<'_>, before: &PyObj<'_>) -> PyResult<usize> {
        crate::errors::guard(|| {
            let before = instant(before, "before")?;
            let host = self.host(py);
            let tenant = self.tenant();
            py.detach(|| host.live_evict(tenant, before)).map_err(raise)
        })
    }

    /// Deletes the tenant's live state (to rebuild it, with other settings, by a backfill).
    fn reset(&self, py: Python<'_>) -> PyResult<()> {
        crate::errors::guard(|| {
            let host = self.host(py);
            let tenant = self.tenant();
            py.detach(|| host.live_reset(tenant)).map_err(raise)
        })
    }

    /// The settings in use: `timezone`, `sla` (or `None`), `quantiles`, `tenant`.
    #[getter]
    fn settings<'py>(&self, py: Python<'py>) -> PyOut<'py> {
        crate::errors::guard(|| {
            let d = PyDict::new(py);
            d.set_item("timezone", self.options.timezone.name())?;
            d.set_item(
                "sla",
                match &self.options.sla {
                    Some(p) => to_py(py, p.spec(), Shape::Json)?,
                    None => py.None().into_bound(py),
                },
            )?;
            d.set_item("quantiles", self.options.quantiles)?;
            d.set_item("tenant", self.options.tenant.as_deref())?;
            Ok(d.into_any())
        })
    }

    fn __repr__(&self) -> PyResult<String> {
        crate::errors::guard(|| {
            Ok({
                format!(
                    "LiveMetrics(timezone={:?}, tenant={:?})",
                    self.options.timezone.name(),
                    self.options.tenant
                )
            })
        })
    }
}

/// ticket_events(ticket) -> list[dict]: the events that rebuild a ticket snapshot, with the ids
/// a host's real-time hooks use (`ticket:{id}:created`, `message:{id}`, `transfer:{id}`, …).
#[pyfunction]
pub fn ticket_events<'py>(py: Python<'py>, ticket: &PyObj<'py>) -> PyResult<Bound<'py, PyList>> {
    crate::errors::guard(|| {
        let list = PyList::empty(py);
        for t in tickets_arg(PyList::new(py, [ticket])?.as_any())? {
            for e in live::ticket_events(&t) {
                list.append(to_py(py, &e, Shape::Native)?)?;
            }
        }
        Ok(list)
    })
}
