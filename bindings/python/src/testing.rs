//! Hooks the test suite uses to show that a bug in the library raises `InternalError` and leaves
//! the object usable. Not part of the API.

use pyo3::prelude::*;

use crate::convert::PyObj;
use crate::errors::{guard, lock};

/// `_panic_for_tests(target=None)`: panics inside the guard — while holding `target`'s lock when
/// it is an `Engine` or an `Assigner` — so the tests can show that a bug in the library raises
/// `InternalError` and leaves the object usable. Not part of the API.
#[pyfunction]
#[pyo3(signature = (target=None))]
pub fn _panic_for_tests(target: Option<&PyObj<'_>>) -> PyResult<()> {
    guard(|| {
        if let Some(t) = target {
            if let Ok(engine) = t.cast::<crate::engine::PyEngine>() {
                let _held = lock(&engine.get().inner);
                panic!("a test panic while the engine is locked");
            }
            if let Ok(assigner) = t.cast::<crate::assignment::PyAssigner>() {
                let _held = lock(&assigner.get().inner);
                panic!("a test panic while the assigner is locked");
            }
        }
        panic!("a test panic")
    })
}
