//! `teamkpi.BusinessCalendar`.

use crate::convert::{PyObj, PyOut};
pub use crate::wrappers::PyBusinessCalendar;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::{json, Value};
use teamkpi::CalendarSpec;

use crate::convert::{from_py, instant, instant_to_py, to_json};
use crate::errors::raise;
use crate::pyser::{to_py, Shape};
use crate::rules::zone;

#[pymethods]
impl PyBusinessCalendar {
    #[new]
    #[pyo3(signature = (timezone, hours, holidays=None, *, overrides=None, deadline_at_close="stay"))]
    fn new(
        timezone: &PyObj<'_>,
        hours: &PyObj<'_>,
        holidays: Option<&PyObj<'_>>,
        overrides: Option<&PyObj<'_>>,
        #[pyo3(from_py_with = crate::convert::text)] deadline_at_close: &str,
    ) -> PyResult<Self> {
        crate::errors::guard(|| {
            let tz = zone(Some(timezone))?;
            let opt = |o: Option<&PyObj<'_>>, empty: Value| -> PyResult<Value> {
                match o {
                    Some(o) if !o.is_none() => to_json(o),
                    _ => Ok(empty),
                }
            };
            // Dates given as text are checked as dates (`invalid_date`), not as any JSON string.
            let holidays = opt(holidays, json!([]))?;
            let overrides = opt(overrides, json!({}))?;
            let texts = holidays
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .chain(
                    overrides
                        .as_object()
                        .into_iter()
                        .flat_map(|m| m.keys().map(String::as_str)),
                );
            for text in texts {
                teamkpi::parse_date("holidays", text).map_err(raise)?;
            }
            let spec = json!({
                "timezone": tz.name(),
                "hours": to_json(hours)?,
                "holidays": holidays,
                "overrides": overrides,
                "deadline_at_close": deadline_at_close,
            });
            let spec: CalendarSpec = teamkpi::from_json(spec).map_err(raise)?;
            Ok(PyBusinessCalendar {
                inner: teamkpi::BusinessCalendar::from_spec(&spec).map_err(raise)?,
            })
        })
    }

    /// A calendar open around the clock (SLA clocks that never stop).
    #[staticmethod]
    #[pyo3(signature = (timezone=None))]
    fn always_open(timezone: Option<&PyObj<'_>>) -> PyResult<Self> {
        crate::errors::guard(|| {
            let tz = zone(timezone)?;
            Ok(PyBusinessCalendar {
                inner: teamkpi::BusinessCalendar::always_open(tz.name()).map_err(raise)?,
            })
        })
    }

    /// A calendar from its dict form (`to_dict()`, or a `calendar` object of a vector or policy).
    #[staticmethod]
    fn from_dict(spec: &PyObj<'_>) -> PyResult<Self> {
        crate::errors::guard(|| {
            let spec: CalendarSpec = from_py(spec)?;
            Ok(PyBusinessCalendar {
                inner: teamkpi::BusinessCalendar::from_spec(&spec).map_err(raise)?,
            })
        })
    }

    /// The calendar as a dict (JSON-ready).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyOut<'py> {
        crate::errors::guard(|| to_py(py, &self.inner.to_spec(), Shape::Json))
    }

    /// The IANA zone name.
    #[getter]
    fn timezone(&self) -> PyResult<&'static str> {
        crate::errors::guard(|| Ok(self.inner.timezone().name()))
    }

    /// The instant `seconds` business seconds after `start`.
    fn add_business_seconds<'py>(
        &self,
        py: Python<'py>,
        start: &PyObj<'py>,
        #[pyo3(from_py_with = crate::convert::int)] seconds: i64,
    ) -> PyOut<'py> {
        crate::errors::guard(|| {
            let t = self
                .inner
                .add_business_seconds(instant(start, "start")?, seconds)
                .map_err(raise)?;
            instant_to_py(py, t)
        })
    }

    /// Business seconds in `[start, end)`.
    fn business_seconds_between(&self, start: &PyObj<'_>, end: &PyObj<'_>) -> PyResult<i64> {
        crate::errors::guard(|| {
            self.inner
                .business_seconds_between(instant(start, "start")?, instant(end, "end")?)
                .map_err(raise)
        })
    }

    /// Whether the calendar is open at `at`.
    fn is_open(&self, at: &PyObj<'_>) -> PyResult<bool> {
        crate::errors::guard(|| self.inner.is_open(instant(at, "at")?).map_err(raise))
    }

    /// `at` when open, else the next opening instant.
    fn next_open<'py>(&self, py: Python<'py>, at: &PyObj<'py>) -> PyOut<'py> {
        crate::errors::guard(|| {
            instant_to_py(py, self.inner.next_open(instant(at, "at")?).map_err(raise)?)
        })
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        crate::errors::guard(|| {
            let d = self.to_dict(py)?;
            let d = d.cast::<PyDict>()?;
            Ok(format!(
                "BusinessCalendar({:?}, always_open={})",
                self.inner.timezone().name(),
                d.get_item("always_open")?
                    .map(|v| v.to_string())
                    .unwrap_or_default()
            ))
        })
    }
}
