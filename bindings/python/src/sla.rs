//! `teamkpi.SlaPolicy`.

use std::collections::BTreeSet;

use crate::convert::{PyObj, PyOut};
pub use crate::wrappers::PySlaPolicy;
use pyo3::prelude::*;
use teamkpi::{SlaPolicySpec, TicketTimeline};

use crate::convert::{from_py, instant};
use crate::errors::raise;
use crate::pyser::{to_py, Shape};

pub fn timelines(tickets: &PyObj<'_>) -> PyResult<Vec<TicketTimeline>> {
    crate::convert::from_py_list(Some(tickets))
}

#[pymethods]
impl PySlaPolicy {
    /// A policy from its dict form: `name`, `calendar` (a dict or a `BusinessCalendar`),
    /// `targets` (priority → `first_response` / `next_response` / `resolution` seconds),
    /// `pause_statuses`, `at_risk`.
    #[new]
    fn new(spec: &PyObj<'_>) -> PyResult<Self> {
        crate::errors::guard(|| {
            let spec: SlaPolicySpec = from_py(spec)?;
            Ok(PySlaPolicy {
                inner: teamkpi::SlaPolicy::new(spec).map_err(raise)?,
            })
        })
    }

    /// The policy's name.
    #[getter]
    fn name(&self) -> PyResult<&str> {
        crate::errors::guard(|| Ok(self.inner.name()))
    }

    /// The policy as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyOut<'py> {
        crate::errors::guard(|| to_py(py, self.inner.spec(), Shape::Json))
    }

    /// Evaluates one ticket timeline (`ticket_id`, `priority`, `created_at`, `events`) at `now`:
    /// per target and cycle, state, due instant, used, remaining and late seconds.
    fn evaluate<'py>(&self, py: Python<'py>, ticket: &PyObj<'py>, now: &PyObj<'py>) -> PyOut<'py> {
        crate::errors::guard(|| {
            let t: TicketTimeline = from_py(ticket)?;
            let eval = self
                .inner
                .evaluate(&t, instant(now, "now")?)
                .map_err(raise)?;
            to_py(py, &eval, Shape::Native)
        })
    }

    /// Scans many timelines at `now`: new breaches and at-risk alerts (keys
    /// `ticket:target:cycle:state` not in `already_alerted`) and the timelines it rejected.
    #[pyo3(signature = (tickets, now, already_alerted=None))]
    fn scan<'py>(
        &self,
        py: Python<'py>,
        tickets: &PyObj<'py>,
        now: &PyObj<'py>,
        already_alerted: Option<&PyObj<'py>>,
    ) -> PyOut<'py> {
        crate::errors::guard(|| {
            let list = timelines(tickets)?;
            let now = instant(now, "now")?;
            let alerted: BTreeSet<String> = match already_alerted {
                Some(a) if !a.is_none() => a
                    .try_iter()?
                    .map(|k| k.and_then(|k| k.extract::<String>()))
                    .collect::<PyResult<_>>()?,
                _ => BTreeSet::new(),
            };
            let policy = &self.inner;
            let scan = py.detach(|| policy.scan(&list, now, &alerted));
            to_py(py, &scan, Shape::Native)
        })
    }

    fn __repr__(&self) -> PyResult<String> {
        crate::errors::guard(|| Ok(format!("SlaPolicy({:?})", self.inner.name())))
    }
}
