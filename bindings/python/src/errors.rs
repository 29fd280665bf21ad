//! Core errors as Python exceptions of `teamkpi` (defined in `teamkpi/_errors.py`), each with
//! the core's stable `.code`.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use teamkpi::Error;

static FACTORY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

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
