//! The Python binding of teamkpi: the native module `teamkpi._teamkpi`. The public package
//! `teamkpi` (in `python/teamkpi`) re-exports it with the exception hierarchy, columnar input
//! and `json_default`.
//!
//! Thin by design: every rule lives in the core crate; this crate converts Python values
//! (aware datetimes, dates, decimals, dicts) to the core's types and back, raises the core's
//! coded errors as `teamkpi` exceptions, and releases the GIL during batch work.
#![warn(missing_docs)]

use pyo3::prelude::*;

mod assignment;
mod calendar;
mod convert;
mod engine;
mod errors;
mod live;
mod metrics;
mod pyser;
mod rules;
mod sla;
mod store;
mod testing;
mod wrappers;
mod zones;

/// The native module.
#[pymodule]
fn _teamkpi(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("ERROR_CODES", teamkpi::ERROR_CODES.to_vec())?;
    m.add("NULL_INSTANT", teamkpi::metrics::NULL_INSTANT)?;
    m.add_class::<calendar::PyBusinessCalendar>()?;
    m.add_class::<sla::PySlaPolicy>()?;
    m.add_class::<engine::PyEngine>()?;
    m.add_class::<assignment::PyAssigner>()?;
    m.add_class::<store::PyStore>()?;
    m.add_class::<live::PyLive>()?;
    m.add_class::<store::PySqliteStore>()?;
    m.add_class::<store::PyPostgresStore>()?;
    m.add_function(wrap_pyfunction!(rules::achievement, m)?)?;
    m.add_function(wrap_pyfunction!(rules::overall_score, m)?)?;
    m.add_function(wrap_pyfunction!(rules::performance_score, m)?)?;
    m.add_function(wrap_pyfunction!(rules::validate_weights, m)?)?;
    m.add_function(wrap_pyfunction!(rules::score_band, m)?)?;
    m.add_function(wrap_pyfunction!(rules::evaluate_formula, m)?)?;
    m.add_function(wrap_pyfunction!(rules::check_formula, m)?)?;
    m.add_function(wrap_pyfunction!(rules::convert_unit, m)?)?;
    m.add_function(wrap_pyfunction!(rules::kpi_source, m)?)?;
    m.add_function(wrap_pyfunction!(rules::validate_definition, m)?)?;
    m.add_function(wrap_pyfunction!(rules::metric_catalog, m)?)?;
    m.add_function(wrap_pyfunction!(rules::period_bounds, m)?)?;
    m.add_function(wrap_pyfunction!(rules::periods, m)?)?;
    m.add_function(wrap_pyfunction!(rules::date_range, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::ticket_metrics, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::_ticket_metrics_buffers, m)?)?;
    m.add_function(wrap_pyfunction!(convert::_datetime_fast_path, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::dashboard, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::analytics, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::sla_analytics, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::sla_breaches, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::timelines_from_tickets, m)?)?;
    m.add_function(wrap_pyfunction!(store::update_kpis, m)?)?;
    m.add_function(wrap_pyfunction!(store::measure_range, m)?)?;
    m.add_function(wrap_pyfunction!(store::agent_kpi, m)?)?;
    m.add_function(wrap_pyfunction!(live::ticket_events, m)?)?;
    m.add_function(wrap_pyfunction!(testing::_panic_for_tests, m)?)?;
    Ok(())
}
