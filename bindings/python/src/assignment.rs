//! `teamkpi.Assigner`: least-busy and round-robin assignment, backlog draining, re-assignment.

use std::sync::{Mutex, MutexGuard};

use crate::convert::{PyObj, PyOut};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use teamkpi::{
    AgentState, AgentStatus, Assigner, AssignmentPolicy, AssignmentReason, AssignmentSettings,
    NoAgentReason, OpenItem, WorkItem,
};

use crate::convert::{datetime_type, from_py, from_py_list, instant};
use crate::errors::{coded, raise};
use crate::pyser::{to_py, Shape};

/// Agents with status, capacity and open load, and the policy that picks among them. Safe to
/// share between threads (calls are serialised).
#[pyclass(name = "Assigner", module = "teamkpi", frozen)]
pub struct PyAssigner {
    pub(crate) inner: Mutex<Assigner>,
}

fn no_agent(reason: NoAgentReason) -> PyErr {
    coded(
        "no_eligible_agent",
        format!("no eligible agent: {}", reason.as_str()),
        None,
        Some(reason.as_str()),
    )
}

impl PyAssigner {
    fn lock(&self) -> PyResult<MutexGuard<'_, Assigner>> {
        Ok(crate::errors::lock(&self.inner))
    }
}

/// A work item dict read directly (the per-call path of `assign` / `pick`): `id`, `kind`,
/// `priority`, `created_at`, `team`; anything else (skills, other types) goes through the
/// general decoder and its errors.
fn work_item(obj: &PyObj<'_>) -> PyResult<WorkItem> {
    let py = obj.py();
    let Ok(d) = obj.cast::<PyDict>() else {
        return from_py(obj);
    };
    let known = [
        intern!(py, "id"),
        intern!(py, "kind"),
        intern!(py, "priority"),
        intern!(py, "created_at"),
        intern!(py, "team"),
    ];
    if d.len() > known.len() || d.contains(intern!(py, "skills"))? {
        return from_py(obj);
    }
    let text = |key: &Bound<'_, PyString>| -> PyResult<Option<Option<String>>> {
        Ok(match d.get_item(key)? {
            None => Some(None),
            Some(v) if v.is_none() => Some(None),
            Some(v) => v
                .cast::<PyString>()
                .ok()
                .map(|s| s.to_str().map(str::to_owned))
                .transpose()?
                .map(Some),
        })
    };
    let (Some(id), Some(created)) = (
        d.get_item(known[0])?.and_then(|v| v.extract::<u64>().ok()),
        d.get_item(known[3])?,
    ) else {
        return from_py(obj);
    };
    if !created.is_instance(datetime_type(py)?)? {
        // Text instants and the like: the general decoder parses them or names the problem.
        return from_py(obj);
    }
    let (Some(kind), Some(priority), Some(team)) =
        (text(known[1])?, text(known[2])?, text(known[4])?)
    else {
        return from_py(obj);
    };
    Ok(WorkItem {
        id,
        kind: kind.unwrap_or_else(|| "ticket".into()),
        priority,
        created_at: instant(&created, "created_at")?,
        team,
        skills: Default::default(),
    })
}

#[pymethods]
impl PyAssigner {
    /// `agents`: dicts with `id`, `status` (`online`, `busy`, `away`, `offline`), `open_load`
    /// (kind → count), `capacity`, `last_assigned_at`, …; `policy`: `strategy`
    /// (`least_busy` or `round_robin`), `allowed_statuses`, `calendar`, ….
    #[new]
    #[pyo3(signature = (agents, policy=None))]
    fn new(agents: &PyObj<'_>, policy: Option<&PyObj<'_>>) -> PyResult<Self> {
        crate::errors::guard(|| {
            let agents: Vec<AgentState> = from_py_list(Some(agents))?;
            let policy: AssignmentPolicy = match policy {
                Some(p) if !p.is_none() => from_py(p)?,
                _ => AssignmentPolicy::default(),
            };
            Ok(PyAssigner {
                inner: Mutex::new(Assigner::new(agents, policy).map_err(raise)?),
            })
        })
    }

    /// The agent that would get `item` at `now` (nothing changes); raises
    /// `NoEligibleAgentError` (with `.reason`) when nobody can take it.
    #[pyo3(signature = (item, now, *, exclude=None))]
    fn pick(&self, item: &PyObj<'_>, now: &PyObj<'_>, exclude: Option<Vec<u64>>) -> PyResult<u64> {
        crate::errors::guard(|| {
            let item = work_item(item)?;
            let now = instant(now, "now")?;
            self.lock()?
                .pick(&item, now, &exclude.unwrap_or_default())
                .map_err(no_agent)
        })
    }

    /// Assigns `item` to the picked agent (its load and last-assigned time change) and returns
    /// the assignment event.
    fn assign<'py>(&self, py: Python<'py>, item: &PyObj<'py>, now: &PyObj<'py>) -> PyOut<'py> {
        crate::errors::guard(|| {
            let item = work_item(item)?;
            let now = instant(now, "now")?;
            let e = self
                .lock()?
                .assign(&item, now, AssignmentReason::AutoAssign)
                .map_err(no_agent)?;
            to_py(py, &e, Shape::Native)
        })
    }

    /// The CRM assignment's auto-assign on creation, honouring the tenant's settings
    /// (`auto_assign_enabled`, …).
    fn auto_assign<'py>(
        &self,
        py: Python<'py>,
        item: &PyObj<'py>,
        settings: &PyObj<'py>,
        now: &PyObj<'py>,
    ) -> PyOut<'py> {
        crate::errors::guard(|| {
            let item = work_item(item)?;
            let settings: AssignmentSettings = from_py(settings)?;
            let now = instant(now, "now")?;
            let e = self
                .lock()?
                .auto_assign(&item, &settings, now)
                .map_err(no_agent)?;
            to_py(py, &e, Shape::Native)
        })
    }

    /// Assigns a backlog, urgent first then oldest: `events` and `unassigned` (with reasons).
    fn drain<'py>(&self, py: Python<'py>, items: &PyObj<'py>, now: &PyObj<'py>) -> PyOut<'py> {
        crate::errors::guard(|| {
            let items: Vec<WorkItem> = from_py_list(Some(items))?;
            let now = instant(now, "now")?;
            let inner = &self.inner;
            let batch = py.detach(|| crate::errors::lock(inner).drain(&items, now));
            to_py(py, &batch, Shape::Native)
        })
    }

    /// The CRM assignment's hourly job: moves open items whose agent has been inactive (or not contacted)
    /// too long to another agent.
    #[pyo3(signature = (items, settings, now, *, inactive_hours=None))]
    fn reassign_stale<'py>(
        &self,
        py: Python<'py>,
        items: &PyObj<'py>,
        settings: &PyObj<'py>,
        now: &PyObj<'py>,
        inactive_hours: Option<i64>,
    ) -> PyOut<'py> {
        crate::errors::guard(|| {
            let items: Vec<OpenItem> = from_py_list(Some(items))?;
            let settings: AssignmentSettings = from_py(settings)?;
            let now = instant(now, "now")?;
            let batch = self
                .lock()?
                .reassign_stale(&items, &settings, inactive_hours, now)
                .map_err(raise)?;
            to_py(py, &batch, Shape::Native)
        })
    }

    /// Sets an agent's status (`online`, `busy`, `away`, `offline`).
    fn set_status(
        &self,
        #[pyo3(from_py_with = crate::convert::id)] agent_id: u64,
        #[pyo3(from_py_with = crate::convert::text)] status: &str,
    ) -> PyResult<()> {
        crate::errors::guard(|| {
            let status = AgentStatus::parse(status).map_err(raise)?;
            self.lock()?.set_status(agent_id, status).map_err(raise)
        })
    }

    /// Records activity of an agent at `at` (last active).
    fn touch(
        &self,
        #[pyo3(from_py_with = crate::convert::id)] agent_id: u64,
        at: &PyObj<'_>,
    ) -> PyResult<()> {
        crate::errors::guard(|| {
            let at = instant(at, "at")?;
            self.lock()?.touch(agent_id, at).map_err(raise)
        })
    }

    /// Sets an agent's open load of one kind (e.g. from a fresh count in the host's tables).
    fn set_load(
        &self,
        #[pyo3(from_py_with = crate::convert::id)] agent_id: u64,
        #[pyo3(from_py_with = crate::convert::text)] kind: &str,
        #[pyo3(from_py_with = crate::convert::int)] load: i64,
    ) -> PyResult<()> {
        crate::errors::guard(|| self.lock()?.set_load(agent_id, kind, load).map_err(raise))
    }

    /// One item of `kind` finished: the agent's open load drops by one.
    fn release(
        &self,
        #[pyo3(from_py_with = crate::convert::id)] agent_id: u64,
        #[pyo3(from_py_with = crate::convert::text)] kind: &str,
    ) -> PyResult<()> {
        crate::errors::guard(|| self.lock()?.release(agent_id, kind).map_err(raise))
    }

    /// Adds an agent.
    fn add_agent(&self, agent: &PyObj<'_>) -> PyResult<()> {
        crate::errors::guard(|| {
            let agent: AgentState = from_py(agent)?;
            self.lock()?.add_agent(agent).map_err(raise)
        })
    }

    /// Removes an agent and returns its state.
    fn remove_agent<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = crate::convert::id)] agent_id: u64,
    ) -> PyOut<'py> {
        crate::errors::guard(|| {
            let a = self.lock()?.remove_agent(agent_id).map_err(raise)?;
            to_py(py, &a, Shape::Native)
        })
    }

    /// One agent's state, or `None`.
    fn agent<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = crate::convert::id)] agent_id: u64,
    ) -> PyOut<'py> {
        crate::errors::guard(|| {
            let a = self.lock()?.agent(agent_id).cloned();
            to_py(py, &a, Shape::Native)
        })
    }

    /// Every agent's state, by id.
    fn agents<'py>(&self, py: Python<'py>) -> PyOut<'py> {
        crate::errors::guard(|| {
            let list: Vec<AgentState> = self.lock()?.agents().cloned().collect();
            to_py(py, &list, Shape::Native)
        })
    }

    /// Open load per agent and kind (the support automation's workload view).
    fn workload<'py>(&self, py: Python<'py>) -> PyOut<'py> {
        crate::errors::guard(|| {
            let w = self.lock()?.workload();
            to_py(py, &w, Shape::Native)
        })
    }
}
