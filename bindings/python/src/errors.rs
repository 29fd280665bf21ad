//! Core errors as Python exceptions of `teamkpi` (defined in `teamkpi/_errors.py`), each with
//! the core's stable `.code`.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use teamkpi::Error;

static FACTORY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static BASE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Builds the exception for a coded error: the class is chosen by code in Python, so the
/// hierarchy lives in one readable place.
pub fn coded(code: &str, message: String, position: Option<usize>, reason: Option<&str>) -> PyErr {
    Python::attach(|py| {
        let made = FACTORY
            .import(py, "teamkpi._errors", "_from_native")
            .and_then(|f| f.call1((code, message.as_str(), position, reason)));
        match made {
            Ok(exc) => PyErr::from_value(exc),
            // Only when the package itself is broken: keep the code in the message.
            Err(e) => PyRuntimeError::new_err(format!("{code}: {message} ({e})")),
        }
    })
}

/// A core error as its Python exception.
pub fn raise(e: Error) -> PyErr {
    let position = match &e {
        Error::FormulaSyntax { position, .. } | Error::FormulaType { position, .. } => {
            Some(*position)
        }
        Error::UnknownMetric { position, .. } => *position,
        _ => None,
    };
    let reason = match &e {
        Error::NoEligibleAgent { reason, .. } => Some(reason.clone()),
        _ => None,
    };
    let err = coded(e.code(), e.to_string(), position, reason.as_deref());
    if let Error::InvalidEvents { errors } = &e {
        // Each bad event of a refused batch, as `.errors`: `index`, `code`, `message`.
        Python::attach(|py| {
            let list = pyo3::types::PyList::empty(py);
            for i in errors {
                let d = pyo3::types::PyDict::new(py);
                d.set_item("index", i.index)?;
                d.set_item("code", &i.code)?;
                d.set_item("message", &i.message)?;
                list.append(d)?;
            }
            err.value(py).setattr("errors", list)
        })
        .unwrap_or_default();
    }
    err
}

/// Runs a binding entry point so that a panic in it (a bug) raises a `TeamKpiError` with code
/// `internal` instead of pyo3's `PanicException`, which is not an `Exception` and carries no code.
/// The happy path costs nothing (the unwinding tables are only read when a panic happens).
#[inline]
pub fn guard<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(coded_host_error(e)),
        Err(payload) => Err(raise(Error::from_panic(payload.as_ref()))),
    }
}

/// Python's own `TypeError` / `OverflowError` from converting a value inside a call (a `str`
/// where an `int` is read, an int beyond 64 bits) as the coded `invalid_type` / `out_of_range`;
/// everything else unchanged.
#[cold]
fn coded_host_error(e: PyErr) -> PyErr {
    Python::attach(|py| {
        let value = e.value(py);
        let is_ours = BASE
            .import(py, "teamkpi._errors", "TeamKpiError")
            .is_ok_and(|cls| value.is_instance(cls).unwrap_or(false));
        if is_ours {
            return e;
        }
        let code = if e.is_instance_of::<pyo3::exceptions::PyOverflowError>(py) {
            "out_of_range"
        } else if e.is_instance_of::<pyo3::exceptions::PyTypeError>(py) {
            "invalid_type"
        } else {
            return e;
        };
        let coded = coded(code, value.to_string(), None, None);
        coded.set_cause(py, Some(e));
        coded
    })
}

/// Locks `m`, taking it back if a panic left it poisoned: the core checks its inputs before it
/// changes state, so what a failed call left is the state before it, and the object stays usable.
pub fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| {
        m.clear_poison();
        poisoned.into_inner()
    })
}
