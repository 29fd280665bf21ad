//! Ticket metrics from dicts, tuples and columns; the call-center dashboard; the support automation's analytics.

use crate::convert::{PyObj, PyOut};
use pyo3::buffer::{Element, PyBuffer};
use pyo3::exceptions::PyTypeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use teamkpi::metrics::analytics::{sla_breach_list, AnalyticsKind};
use teamkpi::metrics::{
    call_center_dashboard, ticket_metrics_columns, ticket_metrics_columns_parallel, AgentSession,
    Call, Campaign, Contact, DashboardRequest, GroupBy, MetricsOptions, Ticket, TicketColumns,
    TicketMetricsAggregator, TicketMetricsReport, NULL_INSTANT,
};
use teamkpi::{Error, PeriodKind, SlaGroupBy};

use crate::calendar::PyBusinessCalendar;
use crate::convert::{from_py, from_py_list, instant, opt_instant};
use crate::errors::raise;
use crate::pyser::{to_py, Shape};
use crate::rules::zone;
use crate::sla::{timelines, PySlaPolicy};
use teamkpi::request::{AnalyticsRequest, MetricsSettings};

/// A calendar argument: a `BusinessCalendar` or its dict form.
pub fn calendar_arg(obj: Option<&PyObj<'_>>) -> PyResult<Option<teamkpi::BusinessCalendar>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => {
            if let Ok(c) = o.cast::<PyBusinessCalendar>() {
                return Ok(Some(c.get().inner.clone()));
            }
            let spec = from_py(o)?;
            teamkpi::BusinessCalendar::from_spec(&spec)
                .map(Some)
                .map_err(raise)
        }
    }
}

/// An SLA policy argument: an `SlaPolicy` or its dict form.
pub fn sla_arg(obj: Option<&PyObj<'_>>) -> PyResult<Option<teamkpi::SlaPolicy>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => {
            if let Ok(p) = o.cast::<PySlaPolicy>() {
                return Ok(Some(p.get().inner.clone()));
            }
            teamkpi::SlaPolicy::new(from_py(o)?)
                .map(Some)
                .map_err(raise)
        }
    }
}

/// The keyword options every ticket-metrics call shares.
#[allow(clippy::too_many_arguments)]
pub fn metrics_options(
    timezone: Option<&PyObj<'_>>,
    period: Option<&str>,
    group_by: &str,
    calendar: Option<&PyObj<'_>>,
    sla: Option<&PyObj<'_>>,
    as_of: Option<&PyObj<'_>>,
    quantiles: bool,
    windows: Option<&PyObj<'_>>,
    tenant: Option<String>,
) -> PyResult<MetricsOptions> {
    let settings = MetricsSettings {
        tenant,
        timezone: Some(zone(timezone)?),
        period: period.map(PeriodKind::parse).transpose().map_err(raise)?,
        windows: windows.filter(|w| !w.is_none()).map(from_py).transpose()?,
        group_by: Some(GroupBy::parse(group_by).map_err(raise)?),
        calendar: calendar_arg(calendar)?,
        sla: sla_arg(sla)?,
        as_of: opt_instant(as_of, "as_of")?,
        quantiles: Some(quantiles),
    };
    settings.options().map_err(raise)
}

/// Keys a ticket dict may carry that only the general decoder reads.
const GENERAL_KEYS: &[&str] = &[
    "tenant",
    "kind",
    "assigned_to",
    "assigned_agent",
    "team",
    "status",
    "closed_at",
    "reopened_at",
    "transfers",
    "agent_messages",
    "last_contacted_at",
    "status_history",
    "customer_messages",
];

/// One ticket of the columnar shape: what the columnar kernel reads (the priority stays a Python string
/// until it is matched against the labels seen so far: no allocation per ticket).
struct SimpleTicket<'py> {
    id: u64,
    agent_id: Option<u64>,
    priority: Option<Bound<'py, PyString>>,
    created_at: i64,
    first_response_at: i64,
    resolved_at: i64,
}

enum Parsed<'py> {
    Simple(SimpleTicket<'py>),
    General(Box<Ticket>),
}

fn opt_u64(obj: Option<PyObj<'_>>) -> PyResult<Option<u64>> {
    match obj {
        Some(o) if !o.is_none() => Ok(Some(o.extract()?)),
        _ => Ok(None),
    }
}

fn opt_seconds(obj: Option<PyObj<'_>>, field: &str) -> PyResult<i64> {
    match obj {
        Some(o) if !o.is_none() => Ok(instant(&o, field)?.timestamp()),
        _ => Ok(NULL_INSTANT),
    }
}

fn opt_string(obj: Option<PyObj<'_>>) -> PyResult<Option<Bound<'_, PyString>>> {
    match obj {
        Some(o) if !o.is_none() => Ok(Some(o.cast_into::<PyString>()?)),
        _ => Ok(None),
    }
}

/// Reads one ticket: a dict (the columnar keys directly; anything richer through the general
/// decoder) or a `(id, agent_id, priority, created_at, first_response_at, resolved_at)` tuple.
fn parse_ticket<'py>(obj: &PyObj<'py>) -> PyResult<Parsed<'py>> {
    let py = obj.py();
    if let Ok(d) = obj.cast::<PyDict>() {
        let id = d.get_item(intern!(py, "id"))?;
        let agent = d.get_item(intern!(py, "agent_id"))?;
        let priority = d.get_item(intern!(py, "priority"))?;
        let created = d.get_item(intern!(py, "created_at"))?;
        let first = d.get_item(intern!(py, "first_response_at"))?;
        let resolved = d.get_item(intern!(py, "resolved_at"))?;
        let found = [&id, &agent, &priority, &created, &first, &resolved]
            .iter()
            .filter(|x| x.is_some())
            .count();
        let general = d.len() > found && {
            let mut any = false;
            for k in GENERAL_KEYS {
                if d.contains(*k)? {
                    any = true;
                    break;
                }
            }
            any
        };
        if general || id.is_none() || created.is_none() {
            return Ok(Parsed::General(Box::new(from_py(obj)?)));
        }
        let created =
            created.ok_or_else(|| raise(Error::argument_error("created_at", "missing")))?;
        return Ok(Parsed::Simple(SimpleTicket {
            id: id.map(|i| i.extract()).transpose()?.unwrap_or_default(),
            agent_id: opt_u64(agent)?,
            priority: opt_string(priority)?,
            created_at: instant(&created, "created_at")?.timestamp(),
            first_response_at: opt_seconds(first, "first_response_at")?,
            resolved_at: opt_seconds(resolved, "resolved_at")?,
        }));
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        if t.len() != 6 {
            return Err(raise(Error::argument_error(
                "tickets",
                "a ticket tuple is (id, agent_id, priority, created_at, first_response_at, resolved_at)",
            )));
        }
        return Ok(Parsed::Simple(SimpleTicket {
            id: t.get_item(0)?.extract()?,
            agent_id: opt_u64(Some(t.get_item(1)?))?,
            priority: opt_string(Some(t.get_item(2)?))?,
            created_at: instant(&t.get_item(3)?, "created_at")?.timestamp(),
            first_response_at: opt_seconds(Some(t.get_item(4)?), "first_response_at")?,
            resolved_at: opt_seconds(Some(t.get_item(5)?), "resolved_at")?,
        }));
    }
    Ok(Parsed::General(Box::new(from_py(obj)?)))
}

/// Columns built from simple tickets.
#[derive(Default)]
struct ColumnBuf {
    id: Vec<u64>,
    agent_id: Vec<u64>,
    agent_valid: Vec<bool>,
    priority: Vec<u32>,
    labels: Vec<String>,
    created_at: Vec<i64>,
    first_response_at: Vec<i64>,
    resolved_at: Vec<i64>,
}

impl ColumnBuf {
    fn push(&mut self, t: SimpleTicket<'_>) -> PyResult<()> {
        self.id.push(t.id);
        self.agent_id.push(t.agent_id.unwrap_or(0));
        self.agent_valid.push(t.agent_id.is_some());
        // A missing priority is the empty label, which no SLA policy lists: no SLA, as for None.
        let label = match &t.priority {
            Some(p) => p.to_str()?,
            None => "",
        };
        let code = match self.labels.iter().position(|l| l == label) {
            Some(c) => c,
            None => {
                self.labels.push(label.to_owned());
                self.labels.len() - 1
            }
        };
        self.priority.push(code as u32);
        self.created_at.push(t.created_at);
        self.first_response_at.push(t.first_response_at);
        self.resolved_at.push(t.resolved_at);
        Ok(())
    }

    fn columns(&self) -> TicketColumns<'_> {
        TicketColumns::new(
            &self.agent_id,
            &self.created_at,
            &self.first_response_at,
            &self.resolved_at,
        )
        .with_priority(&self.priority, &self.labels)
        .with_ids(&self.id)
        .with_agent_valid(&self.agent_valid)
    }

    fn tickets(&self) -> Vec<Ticket> {
        let cols = self.columns();
        (0..self.id.len()).filter_map(|i| cols.ticket(i)).collect()
    }
}

/// How many general tickets are decoded before the GIL is released to aggregate them.
const CHUNK: usize = 16_384;

fn report_to_py<'py>(py: Python<'py>, report: &TicketMetricsReport) -> PyOut<'py> {
    let rows = to_py(py, &report.rows, Shape::Native)?;
    let list = py
        .import("teamkpi._native")?
        .getattr("MetricRows")?
        .call1((rows, to_py(py, &report.rejected, Shape::Native)?))?;
    Ok(list)
}

/// ticket_metrics(tickets, *, timezone="UTC", period="day", group_by="agent", calendar=None,
/// sla=None, as_of=None, quantiles=True, windows=None, tenant=None) -> MetricRows
#[pyfunction]
#[pyo3(signature = (tickets, *, timezone=None, period=None, group_by="agent", calendar=None, sla=None, as_of=None, quantiles=true, windows=None, tenant=None))]
#[allow(clippy::too_many_arguments)]
pub fn ticket_metrics<'py>(
    py: Python<'py>,
    tickets: &PyObj<'py>,
    timezone: Option<&PyObj<'py>>,
    #[pyo3(from_py_with = crate::convert::opt_text)] period: Option<&str>,
    #[pyo3(from_py_with = crate::convert::text)] group_by: &str,
    calendar: Option<&PyObj<'py>>,
    sla: Option<&PyObj<'py>>,
    as_of: Option<&PyObj<'py>>,
    #[pyo3(from_py_with = crate::convert::flag)] quantiles: bool,
    windows: Option<&PyObj<'py>>,
    #[pyo3(from_py_with = crate::convert::opt_string)] tenant: Option<String>,
) -> PyOut<'py> {
    crate::errors::guard(|| {
        let options = metrics_options(
            timezone, period, group_by, calendar, sla, as_of, quantiles, windows, tenant,
        )?;
        // Input of the columnar shape goes to the columnar kernel; anything richer switches to the row
        // aggregator, fed in chunks with the GIL released.
        let mut columns = ColumnBuf::default();
        let mut agg: Option<TicketMetricsAggregator> = None;
        let mut chunk: Vec<Ticket> = Vec::new();
        for item in tickets.try_iter()? {
            let parsed = parse_ticket(&item?)?;
            match (parsed, &mut agg) {
                (Parsed::Simple(t), None) => columns.push(t)?,
                (Parsed::Simple(t), Some(_)) => {
                    let mut one = ColumnBuf::default();
                    one.push(t)?;
                    chunk.extend(one.tickets());
                }
                (Parsed::General(t), slot) => {
                    if slot.is_none() {
                        *slot = Some(TicketMetricsAggregator::new(options.clone()).map_err(raise)?);
                        chunk.extend(std::mem::take(&mut columns).tickets());
                    }
                    chunk.push(*t);
                }
            }
            if chunk.len() >= CHUNK {
                if let Some(a) = agg.as_mut() {
                    let batch = std::mem::take(&mut chunk);
                    py.detach(|| a.add_all(&batch));
                }
            }
        }
        let report = match agg {
            None => {
                let cols = &columns;
                let opts = &options;
                py.detach(|| ticket_metrics_columns(&cols.columns(), opts))
                    .map_err(raise)?
            }
            Some(mut a) => py.detach(move || {
                a.add_all(&chunk);
                a.finish()
            }),
        };
        report_to_py(py, &report)
    })
}

fn slice_of<'a, T: Element>(buf: &'a PyBuffer<T>, name: &str) -> PyResult<&'a [T]> {
    if buf.dimensions() > 1 {
        return Err(PyTypeError::new_err(format!(
            "{name}: expected a 1-D array"
        )));
    }
    let ptr = buf
        .as_slice_ptr()
        .ok_or_else(|| PyTypeError::new_err(format!("{name}: the array is not contiguous")))?;
    // SAFETY: `as_slice_ptr` checked that the buffer is C-contiguous with items of T's size,
    // format and alignment (`PyBuffer::get`); the export keeps the memory alive while `buf`
    // lives, and the caller must not write to the array during the call (documented).
    Ok(unsafe { ptr.as_ref() })
}

fn opt_buffer<T: Element>(obj: Option<&PyObj<'_>>) -> PyResult<Option<PyBuffer<T>>> {
    match obj {
        Some(o) if !o.is_none() => Ok(Some(PyBuffer::get(o)?)),
        _ => Ok(None),
    }
}

/// `ticket_metrics`' keyword options from a `**options` dict (the columnar entry point passes
/// them through): the same names, defaults and checks; any other name is a `TypeError`.
fn options_from_kwargs(kw: Option<&Bound<'_, PyDict>>) -> PyResult<MetricsOptions> {
    const NAMES: [&str; 9] = [
        "timezone",
        "period",
        "group_by",
        "calendar",
        "sla",
        "as_of",
        "quantiles",
        "windows",
        "tenant",
    ];
    if let Some(d) = kw {
        for key in d.keys() {
            let name: String = key.extract()?;
            if !NAMES.contains(&name.as_str()) {
                return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                    "unexpected keyword argument '{name}'"
                )));
            }
        }
    }
    let get = |k: &str| -> PyResult<Option<PyObj<'_>>> {
        Ok(match kw {
            Some(d) => d.get_item(k)?,
            None => None,
        })
    };
    let (period, group_by) = (get("period")?, get("group_by")?);
    let quantiles = get("quantiles")?
        .map(|q| crate::convert::flag(&q))
        .transpose()?;
    let tenant = get("tenant")?
        .map(|t| crate::convert::opt_string(&t))
        .transpose()?;
    metrics_options(
        get("timezone")?.as_ref(),
        period
            .as_ref()
            .map(crate::convert::opt_text)
            .transpose()?
            .flatten(),
        group_by
            .as_ref()
            .map(crate::convert::text)
            .transpose()?
            .unwrap_or("agent"),
        get("calendar")?.as_ref(),
        get("sla")?.as_ref(),
        get("as_of")?.as_ref(),
        quantiles.unwrap_or(true),
        get("windows")?.as_ref(),
        tenant.flatten(),
    )
}

/// The columnar kernel over buffers prepared by `teamkpi.ticket_metrics_columns` (numpy or
/// pyarrow arrays, zero-copy where their layout allows).
#[pyfunction]
#[pyo3(signature = (id, agent_id, agent_valid, priority, priority_labels, created_at, first_response_at, resolved_at, *, threads=1, output="rows", **options))]
#[allow(clippy::too_many_arguments)]
pub fn _ticket_metrics_buffers<'py>(
    py: Python<'py>,
    id: Option<&PyObj<'py>>,
    agent_id: &PyObj<'py>,
    agent_valid: Option<&PyObj<'py>>,
    priority: Option<&PyObj<'py>>,
    priority_labels: Vec<String>,
    created_at: &PyObj<'py>,
    first_response_at: &PyObj<'py>,
    resolved_at: &PyObj<'py>,
    #[pyo3(from_py_with = crate::convert::count)] threads: usize,
    #[pyo3(from_py_with = crate::convert::text)] output: &str,
    options: Option<&Bound<'py, PyDict>>,
) -> PyOut<'py> {
    crate::errors::guard(|| {
        if !matches!(output, "rows" | "numpy") {
            return Err(raise(Error::InvalidChoice {
                field: "output".into(),
                value: output.into(),
                expected: "rows, numpy".into(),
            }));
        }
        let options = options_from_kwargs(options)?;
        let id_buf: Option<PyBuffer<u64>> = opt_buffer(id)?;
        let agent_buf: PyBuffer<u64> = PyBuffer::get(agent_id)?;
        // Validity as bytes (numpy's bool viewed as uint8), copied into bools: 1 byte a row.
        let valid_buf: Option<PyBuffer<u8>> = opt_buffer(agent_valid)?;
        let valid: Option<Vec<bool>> = valid_buf
            .as_ref()
            .map(|b| slice_of(b, "agent_valid").map(|s| s.iter().map(|v| *v != 0).collect()))
            .transpose()?;
        let prio_buf: Option<PyBuffer<u32>> = opt_buffer(priority)?;
        let created_buf: PyBuffer<i64> = PyBuffer::get(created_at)?;
        let first_buf: PyBuffer<i64> = PyBuffer::get(first_response_at)?;
        let resolved_buf: PyBuffer<i64> = PyBuffer::get(resolved_at)?;
        let cols = TicketColumns {
            id: id_buf.as_ref().map(|b| slice_of(b, "id")).transpose()?,
            agent_id: slice_of(&agent_buf, "agent_id")?,
            agent_valid: valid.as_deref(),
            priority: prio_buf
                .as_ref()
                .map(|b| slice_of(b, "priority"))
                .transpose()?,
            priority_labels: &priority_labels,
            created_at: slice_of(&created_buf, "created_at")?,
            first_response_at: slice_of(&first_buf, "first_response_at")?,
            resolved_at: slice_of(&resolved_buf, "resolved_at")?,
        };
        if let Some(p) = cols.priority {
            if let Some(bad) = p.iter().find(|c| **c as usize >= priority_labels.len()) {
                return Err(raise(Error::argument_error(
                    "priority",
                    format!("code {bad} has no label"),
                )));
            }
        }
        let opts = &options;
        let report = py
            .detach(|| ticket_metrics_columns_parallel(&cols, opts, threads))
            .map_err(raise)?;
        if output == "numpy" {
            let raw = report_columns(py, &report.rows, options.group_by)?;
            let rejected = to_py(py, &report.rejected, Shape::Native)?;
            return Ok(PyTuple::new(py, [raw.into_any(), rejected])?.into_any());
        }
        report_to_py(py, &report)
    })
}

/// One result column as raw little-endian data and its numpy dtype (the wrapper views it with
/// `numpy.frombuffer`): building 35 dict entries a row costs more than the kernel itself.
struct Column {
    dtype: &'static str,
    data: Vec<u8>,
}

impl Column {
    fn ints(values: impl Iterator<Item = i64>) -> Column {
        Column {
            dtype: "<i8",
            data: values.flat_map(i64::to_le_bytes).collect(),
        }
    }

    fn floats(values: impl Iterator<Item = f64>) -> Column {
        Column {
            dtype: "<f8",
            data: values.flat_map(f64::to_le_bytes).collect(),
        }
    }

    /// Optional integers: int64 when every row has one, else float64 with NaN (pandas' way).
    fn opt_ints(values: Vec<Option<u64>>) -> Column {
        if values.iter().all(Option::is_some) {
            Column::ints(values.into_iter().map(|v| v.unwrap_or_default() as i64))
        } else {
            Column::floats(values.into_iter().map(|v| v.map_or(f64::NAN, |x| x as f64)))
        }
    }

    fn opt_decimals(values: impl Iterator<Item = Option<rust_decimal::Decimal>>) -> Column {
        use rust_decimal::prelude::ToPrimitive;
        Column::floats(values.map(|v| v.and_then(|d| d.to_f64()).unwrap_or(f64::NAN)))
    }

    fn dates(values: impl Iterator<Item = chrono::NaiveDate>) -> Column {
        let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
        Column {
            dtype: "<M8[D]",
            data: values
                .flat_map(|d| (d - epoch).num_days().to_le_bytes())
                .collect(),
        }
    }
}

/// The rows as columns: name → (dtype, bytearray), `team` as a list.
fn report_columns<'py>(
    py: Python<'py>,
    rows: &[teamkpi::metrics::TicketMetrics],
    group_by: GroupBy,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let put = |name: &str, c: Column| -> PyResult<()> {
        let bytes = pyo3::types::PyByteArray::new(py, &c.data);
        d.set_item(name, (c.dtype, bytes))
    };
    match group_by {
        GroupBy::Agent => put(
            "agent_id",
            Column::opt_ints(rows.iter().map(|r| r.agent_id).collect()),
        )?,
        GroupBy::Team => d.set_item(
            "team",
            ("O", PyList::new(py, rows.iter().map(|r| r.team.clone()))?),
        )?,
        GroupBy::Tenant => {}
    }
    put(
        "period_start",
        Column::dates(rows.iter().map(|r| r.period_start)),
    )?;
    put(
        "period_end",
        Column::dates(rows.iter().map(|r| r.period_end)),
    )?;
    macro_rules! counts {
        ($($f:ident),*) => {$(
            put(stringify!($f), Column::ints(rows.iter().map(|r| r.$f as i64)))?;
        )*};
    }
    macro_rules! decimals {
        ($($f:ident),*) => {$(
            put(stringify!($f), Column::opt_decimals(rows.iter().map(|r| r.$f)))?;
        )*};
    }
    macro_rules! opt_ints {
        ($($f:ident),*) => {$(
            put(stringify!($f), Column::opt_ints(rows.iter().map(|r| r.$f).collect()))?;
        )*};
    }
    counts!(
        tickets_assigned,
        tickets_created,
        tickets_resolved,
        tickets_reopened,
        transfers_in,
        transfers_out,
        agent_messages
    );
    decimals!(resolution_rate_percent);
    // Each duration: count, sum, mean, median, p90, then the same in business seconds.
    macro_rules! durations {
        ($n:ident, $sum:ident, $avg:ident, $med:ident, $p90:ident, $bavg:ident, $bmed:ident, $bp90:ident) => {
            counts!($n, $sum);
            decimals!($avg);
            opt_ints!($med, $p90);
            decimals!($bavg);
            opt_ints!($bmed, $bp90);
        };
    }
    durations!(
        first_response_count,
        first_response_seconds_sum,
        avg_first_response_seconds,
        median_first_response_seconds,
        p90_first_response_seconds,
        avg_first_response_business_seconds,
        median_first_response_business_seconds,
        p90_first_response_business_seconds
    );
    durations!(
        resolution_count,
        resolution_seconds_sum,
        avg_resolution_seconds,
        median_resolution_seconds,
        p90_resolution_seconds,
        avg_resolution_business_seconds,
        median_resolution_business_seconds,
        p90_resolution_business_seconds
    );
    counts!(resolution_paused_seconds_sum);
    decimals!(
        avg_resolution_active_seconds,
        avg_resolution_active_business_seconds
    );
    counts!(sla_met, sla_breached);
    decimals!(sla_compliance_percent);
    Ok(d)
}

pub fn tickets_arg(obj: &PyObj<'_>) -> PyResult<Vec<Ticket>> {
    let mut out = Vec::new();
    for item in obj.try_iter()? {
        match parse_ticket(&item?)? {
            Parsed::General(t) => out.push(*t),
            Parsed::Simple(s) => {
                let mut one = ColumnBuf::default();
                one.push(s)?;
                let mut t = one.tickets();
                out.append(&mut t);
            }
        }
    }
    Ok(out)
}

/// call_center_dashboard(agent_id, date, *, calls, sessions=(), contacts=(), campaigns=(),
/// now, timezone="UTC", tenant=None) -> dict: the call-center dashboard's twelve figures.
#[pyfunction(name = "call_center_dashboard")]
#[pyo3(signature = (agent_id, date, *, calls, now, sessions=None, contacts=None, campaigns=None, timezone=None, tenant=None))]
#[allow(clippy::too_many_arguments)]
pub fn dashboard<'py>(
    py: Python<'py>,
    #[pyo3(from_py_with = crate::convert::id)] agent_id: u64,
    date: &PyObj<'py>,
    calls: &PyObj<'py>,
    now: &PyObj<'py>,
    sessions: Option<&PyObj<'py>>,
    contacts: Option<&PyObj<'py>>,
    campaigns: Option<&PyObj<'py>>,
    timezone: Option<&PyObj<'py>>,
    #[pyo3(from_py_with = crate::convert::opt_string)] tenant: Option<String>,
) -> PyOut<'py> {
    crate::errors::guard(|| {
        let req = DashboardRequest {
            tenant,
            agent_id,
            date: crate::convert::date(date, "date")?,
            timezone: zone(timezone)?,
            now: instant(now, "now")?,
        };
        let calls: Vec<Call> = from_py_list(Some(calls))?;
        let sessions: Vec<AgentSession> = from_py_list(sessions)?;
        let contacts: Vec<Contact> = from_py_list(contacts)?;
        let campaigns: Vec<Campaign> = from_py_list(campaigns)?;
        let stats =
            call_center_dashboard(&req, &calls, &sessions, &contacts, &campaigns).map_err(raise)?;
        to_py(py, &stats, Shape::Json)
    })
}

/// analytics(result, tickets, *, now, days=30, agent_id=None, timezone="UTC", sla=None,
/// tenant=None) -> dict: one of the support automation's results, in its JSON shape.
#[pyfunction]
#[pyo3(signature = (result, tickets, *, now, days=30, agent_id=None, timezone=None, sla=None, tenant=None))]
#[allow(clippy::too_many_arguments)]
pub fn analytics<'py>(
    py: Python<'py>,
    #[pyo3(from_py_with = crate::convert::text)] result: &str,
    tickets: &PyObj<'py>,
    now: &PyObj<'py>,
    #[pyo3(from_py_with = crate::convert::count)] days: u32,
    #[pyo3(from_py_with = crate::convert::opt_id)] agent_id: Option<u64>,
    timezone: Option<&PyObj<'py>>,
    sla: Option<&PyObj<'py>>,
    #[pyo3(from_py_with = crate::convert::opt_string)] tenant: Option<String>,
) -> PyOut<'py> {
    crate::errors::guard(|| {
        let request = AnalyticsRequest {
            days,
            agent_id,
            timezone: Some(zone(timezone)?),
            sla: sla_arg(sla)?,
            tenant,
        };
        let (result, now) = (
            AnalyticsKind::parse(result).map_err(raise)?,
            instant(now, "now")?,
        );
        let list = tickets_arg(tickets)?;
        let out = py
            .detach(|| request.over_tickets(result, now, &list))
            .map_err(raise)?;
        to_py(py, &out, Shape::Json)
    })
}

/// sla_analytics(policy, tickets, *, now, start, end, group_by="all") -> list[dict]: the support automation's
/// SLA analytics over timelines (denominators: all SLA tasks created in the window).
#[pyfunction]
#[pyo3(signature = (policy, tickets, *, now, start, end, group_by=None))]
pub fn sla_analytics<'py>(
    py: Python<'py>,
    policy: &PyObj<'py>,
    tickets: &PyObj<'py>,
    now: &PyObj<'py>,
    start: &PyObj<'py>,
    end: &PyObj<'py>,
    group_by: Option<&PyObj<'py>>,
) -> PyOut<'py> {
    crate::errors::guard(|| {
        let policy = sla_arg(Some(policy))?
            .ok_or_else(|| raise(Error::argument_error("policy", "required")))?;
        let list = timelines(tickets)?;
        let now = instant(now, "now")?;
        let group: SlaGroupBy = match group_by {
            Some(g) if !g.is_none() => from_py(g)?,
            _ => SlaGroupBy::All,
        };
        let (start, end) = (instant(start, "start")?, instant(end, "end")?);
        let rows =
            teamkpi::sla_analytics_of(&policy, &list, now, start, end, group).map_err(raise)?;
        to_py(py, &rows, Shape::Json)
    })
}

/// sla_breaches(policy, tickets, *, now, agent_id=None, already_alerted=()) -> dict: the support automation's
/// breach list.
#[pyfunction]
#[pyo3(signature = (policy, tickets, *, now, agent_id=None, already_alerted=None))]
pub fn sla_breaches<'py>(
    py: Python<'py>,
    policy: &PyObj<'py>,
    tickets: &PyObj<'py>,
    now: &PyObj<'py>,
    #[pyo3(from_py_with = crate::convert::opt_id)] agent_id: Option<u64>,
    already_alerted: Option<&PyObj<'py>>,
) -> PyOut<'py> {
    crate::errors::guard(|| {
        let policy = sla_arg(Some(policy))?
            .ok_or_else(|| raise(Error::argument_error("policy", "required")))?;
        let list = timelines(tickets)?;
        let alerted: std::collections::BTreeSet<String> = match already_alerted {
            Some(a) if !a.is_none() => from_py(a)?,
            _ => Default::default(),
        };
        let scan = policy.scan(&list, instant(now, "now")?, &alerted);
        to_py(py, &sla_breach_list(&scan, agent_id), Shape::Json)
    })
}

/// Builds `TicketTimeline`s from snapshot dicts (created, first response, resolution, status)
/// for SLA calls when the host has no event history.
#[pyfunction]
pub fn timelines_from_tickets<'py>(
    py: Python<'py>,
    tickets: &PyObj<'py>,
) -> PyResult<Bound<'py, PyList>> {
    crate::errors::guard(|| {
        let out = PyList::empty(py);
        for t in tickets_arg(tickets)? {
            out.append(to_py(
                py,
                &teamkpi::TicketTimeline::from_ticket(&t),
                Shape::Native,
            )?)?;
        }
        Ok(out)
    })
}
