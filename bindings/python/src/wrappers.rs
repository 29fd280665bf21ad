//! The Python classes that wrap core values (a calendar, an SLA policy), below every other
//! module so that conversions can recognise them; their methods live with their domain
//! (`calendar`, `sla`).

use pyo3::prelude::*;

/// Opening hours in an IANA zone, with holidays and date overrides, and business-time
/// arithmetic on aware datetimes.
#[pyclass(name = "BusinessCalendar", module = "teamkpi", frozen)]
pub struct PyBusinessCalendar {
    pub inner: teamkpi::BusinessCalendar,
}

/// An SLA policy: per-priority first-response, next-response and resolution targets in
/// business seconds on a calendar, pause statuses and an at-risk threshold.
#[pyclass(name = "SlaPolicy", module = "teamkpi", frozen)]
pub struct PySlaPolicy {
    pub inner: teamkpi::SlaPolicy,
}
