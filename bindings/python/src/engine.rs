//! `teamkpi.Engine`: the incremental engine over lifecycle events.

use std::sync::{Mutex, MutexGuard};

use chrono::NaiveDate;

use crate::convert::{PyObj, PyOut};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use teamkpi::engine::{Applied, Engine, EngineOptions, Event, EventKind};
use teamkpi::{Error, EventIssue, PeriodKind};

use crate::convert::{date, date_to_py, instant, to_json};
use crate::errors::raise;
use crate::metrics::{calendar_arg, sla_arg};
use crate::pyser::{to_py, Shape};
use crate::rules::zone;

/// The incremental engine: ingests ticket, call and session events and keeps agent-day, week and
/// month metrics current. Safe to share between threads (calls are serialised).
#[pyclass(name = "Engine", module = "teamkpi", frozen)]
pub struct PyEngine {
    pub(crate) inner: Mutex<Engine>,
    /// The `date` of the last touched day: most events touch today, and dates are immutable,
    /// so one object serves them all.
    last_day: Mutex<Option<(NaiveDate, Py<PyAny>)>>,
}

impl PyEngine {
    pub fn lock(&self) -> PyResult<MutexGuard<'_, Engine>> {
        Ok(crate::errors::lock(&self.inner))
    }
}

fn event_id(obj: &PyObj<'_>) -> PyResult<String> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_str()?.to_owned());
    }
    // Hosts often key events by integer audit-log ids.
    if obj.extract::<i64>().is_ok() {
        return Ok(obj.str()?.to_string());
    }
    Err(raise(Error::argument_error(
        "id",
        "an event id is a str or an int",
    )))
}

// Keys are interned Python strings (`intern!`): a `&str` key would build a new one per look-up.
fn req<'py>(d: &Bound<'py, PyDict>, key: &Bound<'py, PyString>) -> PyOut<'py> {
    d.get_item(key)?.filter(|v| !v.is_none()).ok_or_else(|| {
        raise(Error::argument_error(
            key.to_str().unwrap_or("?"),
            "missing",
        ))
    })
}

fn opt_u64<'py>(d: &Bound<'py, PyDict>, key: &Bound<'py, PyString>) -> PyResult<Option<u64>> {
    match d.get_item(key)? {
        Some(v) if !v.is_none() => Ok(Some(v.extract()?)),
        _ => Ok(None),
    }
}

fn opt_str<'py>(d: &Bound<'py, PyDict>, key: &Bound<'py, PyString>) -> PyResult<Option<String>> {
    match d.get_item(key)? {
        Some(v) if !v.is_none() => Ok(Some(v.extract()?)),
        _ => Ok(None),
    }
}

/// Decodes events by the batch rules: every one that does not decode or validate is named
/// (index and code) in one `invalid_events` error, and nothing is applied.
pub(crate) fn events_arg(events: &PyObj<'_>, tenant: Option<&str>) -> PyResult<Vec<Event>> {
    let py = events.py();
    let one = |index: usize, e: &PyObj<'_>| parse_event(e).map_err(|err| issue(py, index, &err));
    let decoded = if events.cast::<PyDict>().is_ok() {
        vec![one(0, events)]
    } else {
        let mut out = Vec::new();
        for (index, e) in events.try_iter()?.enumerate() {
            out.push(one(index, &e?));
        }
        out
    };
    teamkpi::engine::collect_batch(tenant, decoded).map_err(raise)
}

fn issue(py: Python<'_>, index: usize, err: &PyErr) -> EventIssue {
    let value = err.value(py);
    let code = value
        .getattr("code")
        .and_then(|c| c.extract::<String>())
        .unwrap_or_else(|_| "invalid_type".to_owned());
    EventIssue {
        index,
        code,
        message: value.str().map(|s| s.to_string()).unwrap_or_default(),
    }
}

/// Reads an event dict: the common ticket events directly (the per-event hot path), the rest
/// through the general decoder.
pub fn parse_event(obj: &PyObj<'_>) -> PyResult<Event> {
    let py = obj.py();
    let Ok(d) = obj.cast::<PyDict>() else {
        return general_event(obj);
    };
    let Some(kind) = d.get_item(intern!(py, "type"))? else {
        return general_event(obj);
    };
    let kind = kind.cast::<PyString>()?;
    let ticket = || -> PyResult<u64> { req(d, intern!(py, "ticket_id"))?.extract() };
    let kind = match kind.to_str()? {
        "agent_replied" => EventKind::AgentReplied {
            ticket_id: ticket()?,
            agent_id: opt_u64(d, intern!(py, "agent_id"))?,
        },
        "customer_replied" => EventKind::CustomerReplied {
            ticket_id: ticket()?,
        },
        "resolved" => EventKind::Resolved {
            ticket_id: ticket()?,
        },
        "reopened" => EventKind::Reopened {
            ticket_id: ticket()?,
        },
        "closed" => EventKind::Closed {
            ticket_id: ticket()?,
        },
        "status_changed" => EventKind::StatusChanged {
            ticket_id: ticket()?,
            status: req(d, intern!(py, "status"))?.extract()?,
        },
        "ticket_assigned" => EventKind::TicketAssigned {
            ticket_id: ticket()?,
            agent_id: req(d, intern!(py, "agent_id"))?.extract()?,
        },
        "ticket_created" if !d.contains(intern!(py, "kind"))? => EventKind::TicketCreated {
            ticket_id: ticket()?,
            agent_id: opt_u64(d, intern!(py, "agent_id"))?,
            team: opt_str(d, intern!(py, "team"))?,
            priority: opt_str(d, intern!(py, "priority"))?,
            kind: Default::default(),
        },
        "ticket_transferred" => EventKind::TicketTransferred {
            ticket_id: ticket()?,
            from: opt_u64(d, intern!(py, "from"))?,
            to: req(d, intern!(py, "to"))?.extract()?,
        },
        _ => return general_event(obj),
    };
    let tenant = match d.get_item(intern!(py, "tenant"))? {
        Some(t) if !t.is_none() => Some(t.extract()?),
        _ => None,
    };
    Ok(Event {
        id: event_id(&req(d, intern!(py, "id"))?)?,
        tenant,
        at: instant(&req(d, intern!(py, "at"))?, "at")?,
        kind,
    })
}

fn general_event(obj: &PyObj<'_>) -> PyResult<Event> {
    let mut v = to_json(obj)?;
    if let Some(id) = v.get_mut("id") {
        if id.is_number() {
            *id = serde_json::Value::String(id.to_string());
        }
    }
    teamkpi::from_json(v).map_err(raise)
}

fn applied_to_py<'py>(
    py: Python<'py>,
    a: &Applied,
    last_day: &Mutex<Option<(NaiveDate, Py<PyAny>)>>,
) -> PyOut<'py> {
    let day_obj = |d: NaiveDate| -> PyOut<'py> {
        let mut cache = crate::errors::lock(last_day);
        if let Some((cached, obj)) = cache.as_ref() {
            if *cached == d {
                return Ok(obj.bind(py).clone());
            }
        }
        let obj = date_to_py(py, d)?;
        *cache = Some((d, obj.clone().unbind()));
        Ok(obj)
    };
    let d = PyDict::new(py);
    d.set_item(intern!(py, "duplicate"), a.duplicate)?;
    d.set_item(intern!(py, "pending"), a.pending)?;
    let touched = PyList::empty(py);
    // The same `{agent_id, day}` entries as a batch report's.
    for (agent, day) in &a.touched {
        let entry = PyDict::new(py);
        entry.set_item(intern!(py, "agent_id"), agent)?;
        entry.set_item(intern!(py, "day"), day_obj(*day)?)?;
        touched.append(entry)?;
    }
    d.set_item(intern!(py, "touched"), touched)?;
    Ok(d.into_any())
}

#[pymethods]
impl PyEngine {
    #[new]
    #[pyo3(signature = (timezone=None, *, tenant=None, calendar=None, sla=None, quantiles=true, strict=false))]
    fn new(
        timezone: Option<&PyObj<'_>>,
        #[pyo3(from_py_with = crate::convert::opt_string)] tenant: Option<String>,
        calendar: Option<&PyObj<'_>>,
        sla: Option<&PyObj<'_>>,
        #[pyo3(from_py_with = crate::convert::flag)] quantiles: bool,
        #[pyo3(from_py_with = crate::convert::flag)] strict: bool,
    ) -> PyResult<Self> {
        crate::errors::guard(|| {
            let mut options = EngineOptions::new(zone(timezone)?);
            options.tenant = tenant;
            options.calendar = calendar_arg(calendar)?;
            options.sla = sla_arg(sla)?;
            options.quantiles = quantiles;
            options.require_created_first = strict;
            Ok(PyEngine {
                inner: Mutex::new(Engine::new(options)),
                last_day: Mutex::new(None),
            })
        })
    }

    /// Applies one event dict (`id`, `at`, `type`, …). Returns `duplicate`, `pending` (held until
    /// the ticket's creation arrives) and `touched` `(agent_id, date)` pairs. A failing event
    /// raises and changes nothing.
    fn apply<'py>(&self, py: Python<'py>, event: &PyObj<'py>) -> PyOut<'py> {
        crate::errors::guard(|| {
            let e = parse_event(event)?;
            let applied = self.lock()?.apply(&e).map_err(raise)?;
            applied_to_py(py, &applied, &self.last_day)
        })
    }

    /// Applies many events in order with the GIL released, by the batch rules: an event that
    /// does not decode or validate refuses the call (`invalid_events`, with `.errors`: each bad
    /// event's `index` and `code`) and nothing is applied; an event refused in context is listed
    /// in `rejected` (`index`, `id`, `code`, `message`) and the rest are applied. Returns
    /// `applied`, `duplicates`, `pending`, `rejected` and `touched` (`agent_id`, `day`).
    fn apply_many<'py>(&self, py: Python<'py>, events: &PyObj<'py>) -> PyOut<'py> {
        crate::errors::guard(|| {
            let tenant = self.lock()?.options().tenant.clone();
            let parsed = events_arg(events, tenant.as_deref())?;
            let inner = &self.inner;
            let report = py
                .detach(|| crate::errors::lock(inner).apply_batch(&parsed))
                .map_err(raise)?;
            to_py(py, &report, Shape::Native)
        })
    }

    /// Metric rows per agent and period (`day`, `week` or `month`), as `ticket_metrics` gives.
    #[pyo3(signature = (period="day"))]
    fn rows<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = crate::convert::text)] period: &str,
    ) -> PyOut<'py> {
        crate::errors::guard(|| {
            let kind = PeriodKind::parse(period).map_err(raise)?;
            let rows = self.lock()?.rows(kind);
            to_py(py, &rows, Shape::Native)
        })
    }

    /// One agent's row for the period containing `day`; `None` without activity.
    #[pyo3(signature = (agent_id, day, period="day"))]
    fn agent_metrics<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = crate::convert::opt_id)] agent_id: Option<u64>,
        day: &PyObj<'py>,
        #[pyo3(from_py_with = crate::convert::text)] period: &str,
    ) -> PyOut<'py> {
        crate::errors::guard(|| {
            let kind = PeriodKind::parse(period).map_err(raise)?;
            let p = teamkpi::Period::containing(kind, date(day, "day")?);
            let row = self.lock()?.agent_metrics(agent_id, &p);
            to_py(py, &row, Shape::Native)
        })
    }

    /// Forgets finished tickets with no activity since `before`; later events for them raise
    /// `late_event`. Returns how many were evicted.
    fn evict_before(&self, before: &PyObj<'_>) -> PyResult<usize> {
        crate::errors::guard(|| {
            let t = instant(before, "before")?;
            Ok(self.lock()?.evict_before(t))
        })
    }

    /// Tickets held in memory.
    #[getter]
    fn tickets_in_memory(&self) -> PyResult<usize> {
        crate::errors::guard(|| Ok(self.lock()?.tickets_in_memory()))
    }

    /// Ids of tickets with events held until their creation arrives.
    fn pending(&self) -> PyResult<Vec<u64>> {
        crate::errors::guard(|| Ok(self.lock()?.pending()))
    }

    /// The tickets as snapshots (dicts), for batch checks or storage.
    fn snapshots<'py>(&self, py: Python<'py>) -> PyOut<'py> {
        crate::errors::guard(|| {
            let s = self.lock()?.snapshots();
            to_py(py, &s, Shape::Native)
        })
    }

    /// The calls seen.
    fn calls<'py>(&self, py: Python<'py>) -> PyOut<'py> {
        crate::errors::guard(|| {
            let c = self.lock()?.calls();
            to_py(py, &c, Shape::Native)
        })
    }

    /// The sessions seen (open ones without `end`).
    fn sessions<'py>(&self, py: Python<'py>) -> PyOut<'py> {
        crate::errors::guard(|| {
            let s = self.lock()?.sessions();
            to_py(py, &s, Shape::Native)
        })
    }

    fn __repr__(&self) -> PyResult<String> {
        crate::errors::guard(|| {
            let e = self.lock()?;
            Ok(format!(
                "Engine(timezone={:?}, tickets_in_memory={})",
                e.options().timezone.name(),
                e.tickets_in_memory()
            ))
        })
    }
}
