//! The native part of teamkpi's Node binding. Values cross as JSON text (the wrapper in
//! `index.js` turns `Date`s into RFC 3339 and back, and gives the API its camelCase names and
//! options objects); calendars take and give epoch milliseconds, so the per-call hot path
//! allocates no text. Every error is thrown with the core's stable code as `error.code`.
#![warn(missing_docs)]

use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, NaiveDate, Utc};
use napi::bindgen_prelude::{AsyncTask, Float64Array, Function, Uint32Array};
use napi::{Env, Task};
use napi_derive::napi;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};
use teamkpi::engine::{Applied, Engine, EngineOptions, Event, EventKind};
use teamkpi::metrics::analytics::{self, AnalyticsKind};
use teamkpi::metrics::{
    AgentSession, Call, Campaign, Contact, DashboardRequest, MetricsOptions, Ticket, TicketColumns,
    TicketMetricsAggregator, NULL_INSTANT,
};
use teamkpi::request::{AnalyticsRequest, MetricsSettings, UpdateOptions};
use teamkpi::{
    AgentState, AgentStatus, Assigner, AssignmentFilter, AssignmentPolicy, AssignmentReason,
    AssignmentSettings, BusinessCalendar, CalendarSpec, Error, KpiAssignment, KpiDefinition,
    ManualValue, Measurement, MetricCatalog, NewKpiAssignment, OpenItem, PeriodKind, SlaPolicy,
    WorkItem,
};
use teamkpi_stores::{HostStore, UpdateSource};

mod live;

// A thrown error's message is JSON: `code` (the core's stable code), `message`, and
// `position` / `reason` when the error has them; the wrapper rethrows it as an `Error` with
// those properties.

fn fail(code: &str, message: String, extra: Value) -> napi::Error {
    let mut body = json!({"code": code, "message": message});
    if let (Some(b), Value::Object(m)) = (body.as_object_mut(), extra) {
        b.extend(m);
    }
    napi::Error::new(napi::Status::GenericFailure, body.to_string())
}

/// The code inside a thrown error's JSON message.
fn code_of(e: &napi::Error) -> Value {
    serde_json::from_str::<Value>(&e.reason)
        .ok()
        .and_then(|v| v.get("code").cloned())
        .unwrap_or(Value::Null)
}

fn err(e: Error) -> napi::Error {
    let extra = match &e {
        Error::FormulaSyntax { position, .. } | Error::FormulaType { position, .. } => {
            json!({"position": position})
        }
        Error::UnknownMetric {
            position: Some(p), ..
        } => json!({"position": p}),
        Error::NoEligibleAgent { reason } => json!({"reason": reason}),
        // Each bad event of a refused batch: `index`, `code`, `message`.
        Error::InvalidEvents { errors } => json!({"errors": errors}),
        _ => json!({}),
    };
    fail(e.code(), e.to_string(), extra)
}

fn parse(text: &str) -> napi::Result<Value> {
    let mut v: Value = serde_json::from_str(text)
        .map_err(|e| err(Error::argument_error("arguments", e.to_string())))?;
    instants(&mut v, None)?;
    Ok(v)
}

/// The wrapper sends `Date`s as epoch milliseconds (`toISOString` costs microseconds a call);
/// numbers under instant keys become RFC 3339 text for the core's decoders.
fn instants(v: &mut Value, key: Option<&str>) -> napi::Result<()> {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                instants(x, Some(k))?;
            }
        }
        Value::Array(a) => {
            for x in a.iter_mut() {
                instants(x, key)?;
            }
        }
        Value::Number(n)
            if key.is_some_and(|k| {
                teamkpi::fields::is_instant_key(k) || teamkpi::fields::is_date_or_instant_key(k)
            }) =>
        {
            let t = ms(n.as_f64().unwrap_or(f64::NAN), key.unwrap_or("instant"))?;
            *v = Value::String(t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        }
        _ => {}
    }
    Ok(())
}

fn de<T: DeserializeOwned>(v: &Value, field: &str) -> napi::Result<T> {
    match v.get(field) {
        Some(x) => teamkpi::from_json(x.clone()).map_err(err),
        None => teamkpi::from_json(Value::Null)
            .map_err(|_| err(Error::argument_error(field, "missing"))),
    }
}

fn opt<T: DeserializeOwned>(v: &Value, field: &str) -> napi::Result<Option<T>> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(x) => teamkpi::from_json(x.clone()).map(Some).map_err(err),
    }
}

fn text(v: &Value, field: &str) -> napi::Result<String> {
    v.get(field)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| err(Error::argument_error(field, "expected a string")))
}

fn decimal(v: &Value, field: &str) -> napi::Result<Decimal> {
    match v.get(field) {
        Some(Value::String(s)) => teamkpi::decimal_from_str(field, s).map_err(err),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) => Ok(Decimal::from(i)),
            None => teamkpi::decimal_from_str(field, &n.to_string()).map_err(err),
        },
        _ => Err(err(Error::argument_error(
            field,
            "expected a number or a decimal string",
        ))),
    }
}

fn opt_decimal(v: &Value, field: &str) -> napi::Result<Option<Decimal>> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => decimal(v, field).map(Some),
    }
}

/// A `YYYY-MM-DD` day (`invalid_date` when it is not one).
fn day(v: &Value, field: &str) -> napi::Result<NaiveDate> {
    teamkpi::parse_date(field, &text(v, field)?).map_err(err)
}

fn opt_day(v: &Value, field: &str) -> napi::Result<Option<NaiveDate>> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => day(v, field).map(Some),
    }
}

fn instant(v: &Value, field: &str) -> napi::Result<DateTime<Utc>> {
    de(v, field)
}

fn zone(v: &Value) -> napi::Result<chrono_tz::Tz> {
    match v.get("timezone").and_then(Value::as_str) {
        Some(z) => teamkpi::parse_timezone(z).map_err(err),
        None => Ok(chrono_tz::UTC),
    }
}

fn exact(d: Decimal) -> Value {
    Value::String(d.normalize().to_string())
}

fn opt_exact(d: Option<Decimal>) -> Value {
    d.map(exact).unwrap_or(Value::Null)
}

/// Numbers under decimal keys rounded to 2 places, half away from zero (docs/semantics.md: display
/// values are numbers, exactly rounded).
fn rounded(mut v: Value) -> Value {
    fn walk(v: &mut Value, key: Option<&str>) {
        match v {
            Value::Object(m) => m.iter_mut().for_each(|(k, x)| walk(x, Some(k))),
            Value::Array(a) => a.iter_mut().for_each(|x| walk(x, key)),
            Value::Number(n) if key.is_some_and(teamkpi::fields::is_decimal_key) => {
                if let Ok(d) = teamkpi::decimal_from_str("n", &n.to_string()) {
                    let r = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
                    if let Some(f) = r.to_f64().and_then(serde_json::Number::from_f64) {
                        *n = f;
                    }
                }
            }
            _ => {}
        }
    }
    walk(&mut v, None);
    v
}

fn out<T: Serialize + ?Sized>(value: &T) -> napi::Result<String> {
    let v = serde_json::to_value(value)
        .map_err(|e| err(Error::argument_error("result", e.to_string())))?;
    Ok(rounded(v).to_string())
}

fn policy(v: &Value) -> napi::Result<teamkpi::AchievementPolicy> {
    let p = teamkpi::AchievementPolicy {
        cap: opt_decimal(v, "cap")?,
        floor: opt_decimal(v, "floor")?,
        zero_target: match v.get("zero_target").and_then(Value::as_str) {
            None | Some("zero") => teamkpi::ZeroTarget::Zero,
            Some("met_or_not") => teamkpi::ZeroTarget::MetOrNot,
            Some(other) => {
                return Err(err(Error::InvalidChoice {
                    field: "zeroTarget".into(),
                    value: other.into(),
                    expected: "zero met_or_not".into(),
                }))
            }
        },
    };
    p.validate().map_err(err)?;
    Ok(p)
}

fn calendar(v: &Value) -> napi::Result<Option<BusinessCalendar>> {
    match v.get("calendar") {
        None | Some(Value::Null) => Ok(None),
        Some(c) => {
            let spec: CalendarSpec = teamkpi::from_json(c.clone()).map_err(err)?;
            BusinessCalendar::from_spec(&spec).map(Some).map_err(err)
        }
    }
}

fn sla(v: &Value) -> napi::Result<Option<SlaPolicy>> {
    match v.get("sla") {
        None | Some(Value::Null) => Ok(None),
        Some(p) => SlaPolicy::new(teamkpi::from_json(p.clone()).map_err(err)?)
            .map(Some)
            .map_err(err),
    }
}

fn metrics_options(v: &Value) -> napi::Result<MetricsOptions> {
    teamkpi::from_json_ref::<MetricsSettings>(v)
        .and_then(|s| s.options())
        .map_err(err)
}

fn ticket_metrics(v: &Value) -> napi::Result<String> {
    let tickets: Vec<Ticket> = de(v, "tickets")?;
    let mut agg = TicketMetricsAggregator::new(metrics_options(v)?).map_err(err)?;
    agg.add_all(&tickets);
    out(&agg.finish())
}

fn range(start: NaiveDate, end: NaiveDate) -> Value {
    json!({"start": start.to_string(), "end": end.to_string()})
}

/// The stateless functions, by name (the wrapper gives each its JS signature).
fn call_function(name: &str, v: &Value) -> napi::Result<String> {
    let catalog = MetricCatalog::builtin();
    let s = |x: Value| Ok(x.to_string());
    match name {
        "ticket_events" => {
            let t: Ticket = de(v, "ticket")?;
            out(&teamkpi::live::ticket_events(&t))
        }
        "achievement" => {
            let direction = teamkpi::Direction::parse(&text(v, "direction")?).map_err(err)?;
            let a = teamkpi::achievement(
                decimal(v, "actual")?,
                decimal(v, "target")?,
                direction,
                &policy(v)?,
            )
            .map_err(err)?;
            s(exact(a))
        }
        "overall_score" => {
            let items: Vec<Value> = de(v, "items")?;
            let list = items
                .iter()
                .map(|i| {
                    Ok(teamkpi::WeightedAchievement {
                        weight: decimal(i, "weight")?,
                        achievement: opt_decimal(i, "achievement")?,
                    })
                })
                .collect::<napi::Result<Vec<_>>>()?;
            s(opt_exact(
                teamkpi::overall_score(&list, &policy(v)?).map_err(err)?,
            ))
        }
        "performance_score" => {
            let inputs = teamkpi::PerformanceInputs {
                resolution_rate: opt_decimal(v, "resolution_rate")?,
                avg_response_hours: opt_decimal(v, "avg_response_hours")?,
                sla_compliance_rate: opt_decimal(v, "sla_compliance_rate")?,
            };
            let mut w = teamkpi::PerformanceWeights::default();
            if let Some(ws) = v.get("weights").filter(|x| !x.is_null()) {
                if let Some(x) = opt_decimal(ws, "resolution_rate")? {
                    w.resolution_rate = x;
                }
                if let Some(x) = opt_decimal(ws, "response")? {
                    w.response = x;
                }
                if let Some(x) = opt_decimal(ws, "sla_compliance")? {
                    w.sla_compliance = x;
                }
            }
            if let Some(h) = opt_decimal(v, "horizon_hours")? {
                w.horizon_hours = h;
            }
            s(opt_exact(
                teamkpi::performance_score(&inputs, &w).map_err(err)?,
            ))
        }
        "validate_weights" => {
            let list: Vec<KpiAssignment> = de(v, "assignments")?;
            out(&teamkpi::validate_weights(&list, day(v, "on")?))
        }
        "score_band" => {
            let bands = match v.get("bands") {
                None | Some(Value::Null) => teamkpi::ScoreBands::default(),
                Some(_) => teamkpi::ScoreBands::new(de(v, "bands")?).map_err(err)?,
            };
            s(json!(bands.label(decimal(v, "score")?)))
        }
        "evaluate_formula" => {
            let f = teamkpi::Formula::parse(&text(v, "expression")?, &catalog).map_err(err)?;
            let mut values = std::collections::BTreeMap::new();
            if let Some(m) = v.get("values").and_then(Value::as_object) {
                for (k, x) in m {
                    if !x.is_null() {
                        values.insert(k.clone(), decimal(&json!({ "v": x }), "v")?);
                    }
                }
            }
            let r = f.evaluate(&|n: &str| values.get(n).copied()).map_err(err)?;
            s(opt_exact(r))
        }
        "check_formula" => {
            let f = teamkpi::Formula::parse(&text(v, "expression")?, &catalog).map_err(err)?;
            s(json!(f.metrics()))
        }
        "convert_unit" => {
            let from = teamkpi::Unit::parse(&text(v, "from")?).map_err(err)?;
            let to = teamkpi::Unit::parse(&text(v, "to")?).map_err(err)?;
            s(exact(from.convert(decimal(v, "value")?, to).map_err(err)?))
        }
        "kpi_source" => {
            let config = v.get("config").cloned().unwrap_or(Value::Null);
            let src =
                teamkpi::KpiSource::from_calculation_type(&text(v, "calculation_type")?, &config)
                    .map_err(err)?;
            out(&src)
        }
        "validate_definition" => {
            let d: KpiDefinition = de(v, "definition")?;
            d.validate(&catalog).map_err(err)?;
            out(&d)
        }
        "metric_catalog" => out(&catalog.iter().collect::<Vec<_>>()),
        "period_bounds" => {
            let kind = PeriodKind::parse(&text(v, "kind")?).map_err(err)?;
            let p = teamkpi::Period::containing(kind, day(v, "day")?);
            let (a, b) = p.utc_bounds(zone(v)?);
            let mut r = range(p.start, p.end);
            r["utc_start"] = json!(a);
            r["utc_end"] = json!(b);
            s(r)
        }
        "periods" => {
            let kind = PeriodKind::parse(&text(v, "kind")?).map_err(err)?;
            let r = teamkpi::DateRange::new(day(v, "start")?, day(v, "end")?).map_err(err)?;
            s(Value::Array(
                r.periods(kind)
                    .iter()
                    .map(|p| range(p.start, p.end))
                    .collect(),
            ))
        }
        "date_range" => {
            let (now, tz) = (instant(v, "now")?, zone(v)?);
            let helper = text(v, "helper")?;
            let r = teamkpi::period::date_helper(&helper, now, tz, opt(v, "days")?).map_err(err)?;
            s(range(r.start, r.end))
        }
        "ticket_metrics" => ticket_metrics(v),
        "call_center_dashboard" => {
            let req = DashboardRequest {
                tenant: opt(v, "tenant")?,
                agent_id: de(v, "agent_id")?,
                date: day(v, "date")?,
                timezone: zone(v)?,
                now: instant(v, "now")?,
            };
            let list = |f: &str| -> napi::Result<Value> {
                Ok(v.get(f)
                    .cloned()
                    .filter(|x| !x.is_null())
                    .unwrap_or(json!([])))
            };
            let calls: Vec<Call> = teamkpi::from_json(list("calls")?).map_err(err)?;
            let sessions: Vec<AgentSession> = teamkpi::from_json(list("sessions")?).map_err(err)?;
            let contacts: Vec<Contact> = teamkpi::from_json(list("contacts")?).map_err(err)?;
            let campaigns: Vec<Campaign> = teamkpi::from_json(list("campaigns")?).map_err(err)?;
            out(&teamkpi::metrics::call_center_dashboard(
                &req, &calls, &sessions, &contacts, &campaigns,
            )
            .map_err(err)?)
        }
        "analytics" => {
            let tickets: Vec<Ticket> = de(v, "tickets")?;
            let request: AnalyticsRequest = teamkpi::from_json_ref(v).map_err(err)?;
            let result = de::<AnalyticsKind>(v, "result")?;
            out(&request
                .over_tickets(result, instant(v, "now")?, &tickets)
                .map_err(err)?)
        }
        "sla_analytics" => {
            let policy = sla(v)?.ok_or_else(|| err(Error::argument_error("policy", "required")))?;
            let timelines: Vec<teamkpi::TicketTimeline> = de(v, "tickets")?;
            let group = opt(v, "group_by")?.unwrap_or(teamkpi::SlaGroupBy::All);
            let (now, start, end) = (instant(v, "now")?, instant(v, "start")?, instant(v, "end")?);
            out(
                &teamkpi::sla_analytics_of(&policy, &timelines, now, start, end, group)
                    .map_err(err)?,
            )
        }
        "timelines_from_tickets" => {
            let tickets: Vec<Ticket> = de(v, "tickets")?;
            out(&tickets
                .iter()
                .map(teamkpi::TicketTimeline::from_ticket)
                .collect::<Vec<_>>())
        }
        other => Err(err(Error::argument_error(
            "function",
            format!("no function {other}"),
        ))),
    }
}

/// The columns copied out of the JS typed arrays (so the kernel can run off the main thread).
pub struct Columns {
    ids: Vec<u64>,
    agent_ids: Vec<u64>,
    valid: Vec<bool>,
    priority: Vec<u32>,
    labels: Vec<String>,
    created: Vec<i64>,
    first_response: Vec<i64>,
    resolved: Vec<i64>,
    options: MetricsOptions,
}

impl Columns {
    #[allow(clippy::too_many_arguments)]
    fn new(
        ids: &[f64],
        agents: &[f64],
        priority: &[u32],
        labels: Vec<String>,
        created: &[f64],
        first_response: &[f64],
        resolved: &[f64],
        options: &str,
    ) -> napi::Result<Self> {
        let secs = |col: &[f64]| -> Vec<i64> {
            col.iter()
                .map(|t| {
                    if t.is_finite() {
                        (t / 1000.0).floor() as i64
                    } else {
                        NULL_INSTANT
                    }
                })
                .collect()
        };
        Ok(Columns {
            ids: ids
                .iter()
                .map(|x| js_id(*x, "id"))
                .collect::<napi::Result<_>>()?,
            agent_ids: agents
                .iter()
                .map(|x| if x.is_finite() { *x as u64 } else { 0 })
                .collect(),
            valid: agents.iter().map(|x| x.is_finite() && *x >= 0.0).collect(),
            priority: priority.to_vec(),
            labels,
            created: secs(created),
            first_response: secs(first_response),
            resolved: secs(resolved),
            options: metrics_options(&parse(options)?)?,
        })
    }

    fn run(&self) -> napi::Result<String> {
        let cols = TicketColumns::new(
            &self.agent_ids,
            &self.created,
            &self.first_response,
            &self.resolved,
        )
        .with_priority(&self.priority, &self.labels)
        .with_ids(&self.ids)
        .with_agent_valid(&self.valid);
        out(&teamkpi::metrics::ticket_metrics_columns(&cols, &self.options).map_err(err)?)
    }
}

/// Tickets of the columnar shape as columns (the wrapper builds them from plain objects): ids and agent ids
/// as numbers (`NaN` = no agent), priority codes into `labels`, instants as epoch milliseconds
/// (`NaN` = missing). `options` is the JSON of the other arguments. The columnar kernel runs on
/// them; returns JSON.
#[napi]
#[allow(clippy::too_many_arguments)]
pub fn ticket_metrics_columns(
    ids: Float64Array,
    agents: Float64Array,
    priority: Uint32Array,
    labels: Vec<String>,
    created: Float64Array,
    first_response: Float64Array,
    resolved: Float64Array,
    options: String,
) -> napi::Result<String> {
    Columns::new(
        &ids,
        &agents,
        &priority,
        labels,
        &created,
        &first_response,
        &resolved,
        &options,
    )?
    .run()
}

impl Task for Columns {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> napi::Result<String> {
        guard(|| self.run())
    }

    fn resolve(&mut self, _env: Env, output: String) -> napi::Result<String> {
        Ok(output)
    }
}

/// `ticketMetricsColumns` on the libuv thread pool (the columns are copied first).
#[napi]
#[allow(clippy::too_many_arguments)]
pub fn ticket_metrics_columns_async(
    ids: Float64Array,
    agents: Float64Array,
    priority: Uint32Array,
    labels: Vec<String>,
    created: Float64Array,
    first_response: Float64Array,
    resolved: Float64Array,
    options: String,
) -> napi::Result<AsyncTask<Columns>> {
    Ok(AsyncTask::new(Columns::new(
        &ids,
        &agents,
        &priority,
        labels,
        &created,
        &first_response,
        &resolved,
        &options,
    )?))
}

/// Calls a stateless function with JSON arguments; returns JSON.
#[napi]
pub fn call(name: String, args: String) -> napi::Result<String> {
    guard(|| call_function(&name, &parse(&args)?))
}

/// Work for the libuv thread pool that resolves to JSON text (batch work: `ticketMetrics`,
/// `analytics`, live operations…); a panic in it is an `internal` error.
pub struct JsonTask(Option<Box<dyn FnOnce() -> napi::Result<String> + Send>>);

impl JsonTask {
    pub(crate) fn spawn(
        work: impl FnOnce() -> napi::Result<String> + Send + 'static,
    ) -> AsyncTask<Self> {
        AsyncTask::new(JsonTask(Some(Box::new(work))))
    }
}

impl Task for JsonTask {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> napi::Result<String> {
        let work = self.0.take();
        guard(|| work.ok_or_else(|| err(Error::Internal("a task ran twice".into())))?())
    }

    fn resolve(&mut self, _env: Env, output: String) -> napi::Result<String> {
        Ok(output)
    }
}

/// `call` on the libuv thread pool; resolves to JSON.
#[napi]
pub fn call_async(name: String, args: String) -> napi::Result<AsyncTask<JsonTask>> {
    guard(|| Ok(JsonTask::spawn(move || call(name, args))))
}

/// Every error code, in the crate docs' order.
#[napi]
pub fn error_codes() -> napi::Result<Vec<String>> {
    guard(|| {
        Ok({
            teamkpi::ERROR_CODES
                .iter()
                .map(|c| (*c).to_owned())
                .collect()
        })
    })
}

/// The largest integer a JS number holds exactly (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

/// A JS number where a whole number is expected (seconds, loads): NaN, ±Infinity and fractions
/// are `invalid_number` (checked before the sign, so -0.5 is one too), beyond ±(2^53 − 1)
/// `out_of_range` — never truncated silently.
pub(crate) fn js_int(x: f64, field: &str) -> napi::Result<i64> {
    if !x.is_finite() || x.fract() != 0.0 {
        return Err(err(Error::InvalidNumber {
            field: field.into(),
            value: x.to_string(),
        }));
    }
    if x.abs() > MAX_SAFE {
        return Err(err(Error::OutOfRange {
            field: field.into(),
            reason: format!("{x} is beyond Number.MAX_SAFE_INTEGER"),
        }));
    }
    Ok(x as i64)
}

/// A JS number where an id is expected: [`js_int`], and not negative (`out_of_range`).
pub(crate) fn js_id(x: f64, field: &str) -> napi::Result<u64> {
    let v = js_int(x, field)?;
    u64::try_from(v).map_err(|_| {
        err(Error::OutOfRange {
            field: field.into(),
            reason: format!("{x} is not an id (ids are 0 or more)"),
        })
    })
}

fn ms(t: f64, field: &str) -> napi::Result<DateTime<Utc>> {
    if !t.is_finite() {
        return Err(err(Error::InvalidNumber {
            field: field.into(),
            value: t.to_string(),
        }));
    }
    // Whole seconds, truncated toward the past (docs/semantics.md).
    DateTime::from_timestamp((t / 1000.0).floor() as i64, 0).ok_or_else(|| {
        err(Error::OutOfRange {
            field: field.into(),
            reason: format!("{t} ms is beyond the instants a Date holds"),
        })
    })
}

fn to_ms(t: DateTime<Utc>) -> f64 {
    t.timestamp() as f64 * 1000.0
}

/// A business calendar; instants are epoch milliseconds (the wrapper takes `Date`s).
#[napi]
pub struct NativeCalendar {
    inner: BusinessCalendar,
}

#[napi]
impl NativeCalendar {
    /// From the calendar's JSON form (`timezone`, `hours`, `holidays`, `overrides`,
    /// `deadline_at_close`, `always_open`).
    #[napi(constructor)]
    pub fn new(spec: String) -> napi::Result<Self> {
        guard(|| {
            let spec: CalendarSpec = teamkpi::from_json(parse(&spec)?).map_err(err)?;
            Ok(NativeCalendar {
                inner: BusinessCalendar::from_spec(&spec).map_err(err)?,
            })
        })
    }

    /// The JSON form.
    #[napi]
    pub fn to_json(&self) -> napi::Result<String> {
        guard(|| out(&self.inner.to_spec()))
    }

    /// `seconds` business seconds after `start`.
    #[napi]
    pub fn add_business_seconds(&self, start: f64, seconds: f64) -> napi::Result<f64> {
        guard(|| {
            self.inner
                .add_business_seconds(ms(start, "start")?, js_int(seconds, "seconds")?)
                .map(to_ms)
                .map_err(err)
        })
    }

    /// Business seconds in `[start, end)`.
    #[napi]
    pub fn business_seconds_between(&self, start: f64, end: f64) -> napi::Result<i64> {
        guard(|| {
            self.inner
                .business_seconds_between(ms(start, "start")?, ms(end, "end")?)
                .map_err(err)
        })
    }

    /// Open at `at`?
    #[napi]
    pub fn is_open(&self, at: f64) -> napi::Result<bool> {
        guard(|| self.inner.is_open(ms(at, "at")?).map_err(err))
    }

    /// `at` when open, else the next opening.
    #[napi]
    pub fn next_open(&self, at: f64) -> napi::Result<f64> {
        guard(|| self.inner.next_open(ms(at, "at")?).map(to_ms).map_err(err))
    }
}

/// An SLA policy.
#[napi]
pub struct NativeSlaPolicy {
    inner: SlaPolicy,
}

#[napi]
impl NativeSlaPolicy {
    /// From the policy's JSON form.
    #[napi(constructor)]
    pub fn new(spec: String) -> napi::Result<Self> {
        guard(|| {
            Ok(NativeSlaPolicy {
                inner: SlaPolicy::new(teamkpi::from_json(parse(&spec)?).map_err(err)?)
                    .map_err(err)?,
            })
        })
    }

    /// The JSON form.
    #[napi]
    pub fn to_json(&self) -> napi::Result<String> {
        guard(|| out(self.inner.spec()))
    }

    /// Evaluates `{ticket, now}`.
    #[napi]
    pub fn evaluate(&self, args: String) -> napi::Result<String> {
        guard(|| {
            let v = parse(&args)?;
            let t: teamkpi::TicketTimeline = de(&v, "ticket")?;
            out(&self.inner.evaluate(&t, instant(&v, "now")?).map_err(err)?)
        })
    }

    /// Scans `{tickets, now, already_alerted}`.
    #[napi]
    pub fn scan(&self, args: String) -> napi::Result<String> {
        guard(|| {
            let v = parse(&args)?;
            let tickets: Vec<teamkpi::TicketTimeline> = de(&v, "tickets")?;
            let alerted: std::collections::BTreeSet<String> =
                opt(&v, "already_alerted")?.unwrap_or_default();
            out(&self.inner.scan(&tickets, instant(&v, "now")?, &alerted))
        })
    }

    /// The support automation's breach list for `{tickets, now, agent_id, already_alerted}`.
    #[napi]
    pub fn breaches(&self, args: String) -> napi::Result<String> {
        guard(|| {
            let v = parse(&args)?;
            let tickets: Vec<teamkpi::TicketTimeline> = de(&v, "tickets")?;
            let alerted: std::collections::BTreeSet<String> =
                opt(&v, "already_alerted")?.unwrap_or_default();
            let scan = self.inner.scan(&tickets, instant(&v, "now")?, &alerted);
            out(&analytics::sla_breach_list(&scan, opt(&v, "agent_id")?))
        })
    }
}

/// Runs a native entry point so that a panic in it (a bug) becomes an error with code `internal`:
/// a panic unwinding into N-API aborts the whole Node process. Async tasks run their work through
/// it too. Costs nothing unless a panic happens.
#[inline]
pub(crate) fn guard<T>(f: impl FnOnce() -> napi::Result<T>) -> napi::Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|payload| Err(err(Error::from_panic(payload.as_ref()))))
}

/// Panics inside the guard, so the tests can show that a bug in the library throws an error
/// with code `internal` instead of aborting Node. Not part of the API.
#[napi]
pub fn panic_for_tests() -> napi::Result<()> {
    guard(|| panic!("a test panic"))
}

/// Locks `m`, taking it back if a panic left it poisoned: the core checks its inputs before it
/// changes state, so the object stays usable.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| {
        m.clear_poison();
        poisoned.into_inner()
    })
}

/// The incremental engine (calls are serialised).
#[napi]
pub struct NativeEngine {
    inner: Mutex<Engine>,
    /// Pairs of the last result too large for one number (see `encode_applied`).
    last_touched: Mutex<Vec<f64>>,
}

impl NativeEngine {
    fn lock(&self) -> napi::Result<MutexGuard<'_, Engine>> {
        Ok(lock(&self.inner))
    }

    #[allow(clippy::too_many_arguments)]
    fn apply_fields(
        &self,
        id: String,
        at: f64,
        code: u32,
        ticket_id: f64,
        agent: f64,
        from: f64,
        text: TextFields,
    ) -> napi::Result<f64> {
        // NaN is "absent"; anything else must be a whole id.
        let opt_whole = |x: f64, field: &str| (!x.is_nan()).then(|| js_id(x, field)).transpose();
        let ticket_id = js_id(ticket_id, "ticket_id")?;
        let needed = |x: Option<u64>, field: &str| {
            x.ok_or_else(|| err(Error::argument_error(field, "is required")))
        };
        let TextFields {
            priority,
            team,
            status,
            tenant,
        } = text;
        let kind = match EVENT_TYPES.get(code as usize).copied().unwrap_or("") {
            "ticket_created" => EventKind::TicketCreated {
                ticket_id,
                agent_id: opt_whole(agent, "agent_id")?,
                team,
                priority,
                kind: Default::default(),
            },
            "ticket_assigned" => EventKind::TicketAssigned {
                ticket_id,
                agent_id: needed(opt_whole(agent, "agent_id")?, "agent_id")?,
            },
            "ticket_transferred" => EventKind::TicketTransferred {
                ticket_id,
                from: opt_whole(from, "from")?,
                to: needed(opt_whole(agent, "to")?, "to")?,
            },
            "agent_replied" => EventKind::AgentReplied {
                ticket_id,
                agent_id: opt_whole(agent, "agent_id")?,
            },
            "customer_replied" => EventKind::CustomerReplied { ticket_id },
            "status_changed" => EventKind::StatusChanged {
                ticket_id,
                status: status
                    .ok_or_else(|| err(Error::argument_error("status", "is required")))?,
            },
            "resolved" => EventKind::Resolved { ticket_id },
            "reopened" => EventKind::Reopened { ticket_id },
            "closed" => EventKind::Closed { ticket_id },
            _ => {
                return Err(err(Error::argument_error(
                    "type",
                    format!("code {code} is not a ticket event type"),
                )))
            }
        };
        let e = Event {
            id,
            tenant,
            at: ms(at, "at")?,
            kind,
        };
        let applied = self.lock()?.apply(&e).map_err(err)?;
        match encode_applied(&applied) {
            Some(r) => Ok(r),
            None => {
                // Too many pairs for one number: the wrapper fetches them with `lastTouched`.
                let mut pairs = Vec::with_capacity(2 * applied.touched.len());
                for (agent, date) in &applied.touched {
                    pairs.push(agent.map_or(f64::NAN, |a| a as f64));
                    pairs.push(epoch_day(*date) as f64);
                }
                *lock(&self.last_touched) = pairs;
                Ok(-1.0 - flags(&applied))
            }
        }
    }
}

/// The text fields of a plain ticket event.
#[derive(Default)]
struct TextFields {
    priority: Option<String>,
    team: Option<String>,
    status: Option<String>,
    tenant: Option<String>,
}

/// Ticket event types by the code `apply_event` takes (the wrapper reads this list).
const EVENT_TYPES: [&str; 9] = [
    "ticket_created",
    "ticket_assigned",
    "ticket_transferred",
    "agent_replied",
    "customer_replied",
    "status_changed",
    "resolved",
    "reopened",
    "closed",
];

/// The ticket event types `applyEvent` takes, in code order.
#[napi]
pub fn event_types() -> napi::Result<Vec<String>> {
    guard(|| Ok(EVENT_TYPES.iter().map(|s| (*s).to_owned()).collect()))
}

/// `duplicate | pending << 1`.
fn flags(a: &Applied) -> f64 {
    f64::from(u8::from(a.duplicate) | (u8::from(a.pending) << 1))
}

/// Days since 1970-01-01.
fn epoch_day(date: NaiveDate) -> i64 {
    (date - NaiveDate::default()).num_days()
}

/// Agent ids and epoch days small enough to share one exact `f64` (below 2^53).
const AGENT_CODES: u64 = 1 << 30;
const DAYS: i64 = 1 << 20;

/// An apply result as one number, when it fits: `flags + 4 × t`, where `t` is 0 with nothing
/// touched, or `1 + day + 2^20 × agent code` for one (agent, day) pair (agent code 0: no
/// agent, else id + 1 below 2^30; day: days since 1970-01-01 below 2^20). `None` when it does
/// not fit (more pairs, or larger ids or days): the caller reports the flags negated,
/// `-1 - flags`, and keeps the pairs for `lastTouched`. N-API objects and typed arrays cost more
/// than the event itself, so the wrapper builds the result in JS.
fn encode_applied(a: &Applied) -> Option<f64> {
    let f = flags(a);
    match a.touched.as_slice() {
        [] => Some(f),
        [(agent, date)] => {
            let day = epoch_day(*date);
            let code = match agent {
                None => 0,
                Some(id) if *id < AGENT_CODES - 1 => id + 1,
                Some(_) => return None,
            };
            if !(0..DAYS).contains(&day) {
                return None;
            }
            let t = 1 + day as u64 + (code << 20);
            Some(f + 4.0 * t as f64)
        }
        _ => None,
    }
}

/// An event read straight from its JSON object, without serde's tagged and flattened enum
/// (which buffers every field) or the RFC 3339 round trip of `at`: the per-call hot path.
/// `None` for anything unusual — other event types, a field of the wrong type, a naive
/// instant — which then goes through [`event`] and its precise errors.
fn event_fast(v: &Value) -> Option<Event> {
    let m = v.as_object()?;
    let id = match m.get("id")? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let tenant = match m.get("tenant") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return None,
    };
    let at = match m.get("at")? {
        Value::Number(n) => {
            let t = n.as_f64()?;
            if !t.is_finite() {
                return None;
            }
            DateTime::from_timestamp((t / 1000.0).floor() as i64, 0)?
        }
        Value::String(s) => DateTime::parse_from_rfc3339(s).ok()?.with_timezone(&Utc),
        _ => return None,
    };
    let int = |k: &str| m.get(k).and_then(Value::as_u64);
    let opt_int = |k: &str| match m.get(k) {
        None | Some(Value::Null) => Some(None),
        Some(x) => x.as_u64().map(Some),
    };
    let opt_str = |k: &str| match m.get(k) {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(s)) => Some(Some(s.clone())),
        Some(_) => None,
    };
    let ticket_id = int("ticket_id")?;
    let kind = match m.get("type")?.as_str()? {
        "ticket_created" => EventKind::TicketCreated {
            ticket_id,
            agent_id: opt_int("agent_id")?,
            team: opt_str("team")?,
            priority: opt_str("priority")?,
            kind: match m.get("kind") {
                None | Some(Value::Null) => Default::default(),
                Some(k) => serde_json::from_value(k.clone()).ok()?,
            },
        },
        "ticket_assigned" => EventKind::TicketAssigned {
            ticket_id,
            agent_id: int("agent_id")?,
        },
        "ticket_transferred" => EventKind::TicketTransferred {
            ticket_id,
            from: opt_int("from")?,
            to: int("to")?,
        },
        "agent_replied" => EventKind::AgentReplied {
            ticket_id,
            agent_id: opt_int("agent_id")?,
        },
        "customer_replied" => EventKind::CustomerReplied { ticket_id },
        "status_changed" => EventKind::StatusChanged {
            ticket_id,
            status: opt_str("status")??,
        },
        "resolved" => EventKind::Resolved { ticket_id },
        "reopened" => EventKind::Reopened { ticket_id },
        "closed" => EventKind::Closed { ticket_id },
        _ => return None,
    };
    Some(Event {
        id,
        tenant,
        at,
        kind,
    })
}

/// An event from its JSON object (epoch-ms or RFC 3339 instants): the fast reader, else serde.
fn decode_event(raw: Value) -> napi::Result<Event> {
    match event_fast(&raw) {
        Some(e) => Ok(e),
        None => {
            let mut v = raw;
            instants(&mut v, None)?;
            event(v)
        }
    }
}

/// Decodes a batch's events by the batch rules: every one that does not decode or validate is
/// named (index and code) in one `invalid_events` error, and nothing is applied.
fn decode_events(list: Vec<Value>, tenant: Option<&str>) -> napi::Result<Vec<Event>> {
    let decoded = list
        .into_iter()
        .enumerate()
        .map(|(index, raw)| {
            decode_event(raw).map_err(|e| teamkpi::EventIssue {
                index,
                code: code_of(&e)
                    .as_str()
                    .unwrap_or("invalid_argument")
                    .to_owned(),
                message: serde_json::from_str::<Value>(&e.reason)
                    .ok()
                    .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
                    .unwrap_or_else(|| e.reason.clone()),
            })
        })
        .collect();
    teamkpi::engine::collect_batch(tenant, decoded).map_err(err)
}

fn event(v: Value) -> napi::Result<Event> {
    let mut v = v;
    if let Some(id) = v.get_mut("id") {
        if id.is_number() {
            *id = Value::String(id.to_string());
        }
    }
    teamkpi::from_json(v).map_err(err)
}

#[napi]
impl NativeEngine {
    /// From `{timezone, tenant, calendar, sla, quantiles, strict}`.
    #[napi(constructor)]
    pub fn new(options: String) -> napi::Result<Self> {
        guard(|| {
            let v = parse(&options)?;
            let mut o = EngineOptions::new(zone(&v)?);
            o.tenant = opt(&v, "tenant")?;
            o.calendar = calendar(&v)?;
            o.sla = sla(&v)?;
            o.quantiles = v.get("quantiles").and_then(Value::as_bool).unwrap_or(true);
            o.require_created_first = v.get("strict").and_then(Value::as_bool).unwrap_or(false);
            Ok(NativeEngine {
                inner: Mutex::new(Engine::new(o)),
                last_touched: Mutex::new(Vec::new()),
            })
        })
    }

    /// Panics while holding the engine's lock (tests only): the engine must stay usable.
    #[napi]
    pub fn panic_for_tests(&self) -> napi::Result<()> {
        guard(|| {
            let _held = lock(&self.inner);
            panic!("a test panic while the engine is locked")
        })
    }

    /// Applies one event.
    #[napi]
    pub fn apply(&self, event_json: String) -> napi::Result<String> {
        guard(|| {
            let raw: Value = serde_json::from_str(&event_json)
                .map_err(|e| err(Error::argument_error("arguments", e.to_string())))?;
            let e = decode_event(raw)?;
            let applied = self.lock()?.apply(&e).map_err(err)?;
            // Written by hand: the reply is on every event's path.
            let mut out = format!(
                "{{\"duplicate\":{},\"pending\":{},\"touched\":[",
                applied.duplicate, applied.pending
            );
            for (i, (agent, date)) in applied.touched.iter().enumerate() {
                let agent = agent.map_or_else(|| "null".to_owned(), |a| a.to_string());
                let sep = if i == 0 { "" } else { "," };
                out.push_str(&format!("{sep}{{\"agent_id\":{agent},\"day\":\"{date}\"}}"));
            }
            out.push_str("]}");
            Ok(out)
        })
    }

    /// Applies one plain ticket event given field by field (the wrapper's path for most events:
    /// no JSON and no objects either way). `at` is epoch milliseconds; `code` indexes
    /// `eventTypes()`; ids are integers, `agent` (the assignee, replier or transfer target) and
    /// `from` NaN when absent. Returns the result as one number: `flags + 4 × t` (flags:
    /// `duplicate | pending << 1`; `t`: 0, or `1 + day + 2^20 × (agent + 1 or 0)` for one
    /// touched (agent, epoch day) pair), or `-1 - flags` when the pairs wait in `lastTouched()`.
    #[napi]
    pub fn apply_event(
        &self,
        id: String,
        at: f64,
        code: u32,
        ticket_id: f64,
        agent: f64,
        from: f64,
    ) -> napi::Result<f64> {
        guard(|| self.apply_fields(id, at, code, ticket_id, agent, from, TextFields::default()))
    }

    /// `applyEvent` for events with text fields (a creation's priority and
    /// team, a status, a tenant).
    #[napi]
    #[allow(clippy::too_many_arguments)]
    pub fn apply_event_text(
        &self,
        id: String,
        at: f64,
        code: u32,
        ticket_id: f64,
        agent: f64,
        from: f64,
        priority: Option<String>,
        team: Option<String>,
        status: Option<String>,
        tenant: Option<String>,
    ) -> napi::Result<f64> {
        let text = TextFields {
            priority,
            team,
            status,
            tenant,
        };
        self.apply_fields(id, at, code, ticket_id, agent, from, text)
    }

    /// The (agent or NaN, epoch day) pairs of the last event whose result did not fit one number.
    #[napi]
    pub fn last_touched(&self) -> napi::Result<Float64Array> {
        guard(|| {
            let mut last = lock(&self.last_touched);
            Ok(Float64Array::new(std::mem::take(&mut *last)))
        })
    }

    /// Applies many by the batch rules: an event that does not decode or validate refuses the
    /// call (`invalid_events`, each bad event's index and code) and nothing is applied; an
    /// event refused in context is listed in `rejected` and the rest applied.
    #[napi]
    pub fn apply_many(&self, events_json: String) -> napi::Result<String> {
        guard(|| {
            let list: Vec<Value> = serde_json::from_str(&events_json)
                .map_err(|e| err(Error::argument_error("events", e.to_string())))?;
            let mut engine = self.lock()?;
            let tenant = engine.options().tenant.clone();
            let events = decode_events(list, tenant.as_deref())?;
            out(&engine.apply_batch(&events).map_err(err)?)
        })
    }

    /// Rows per agent and `period`.
    #[napi]
    pub fn rows(&self, period: String) -> napi::Result<String> {
        guard(|| {
            let kind = PeriodKind::parse(&period).map_err(err)?;
            out(&self.lock()?.rows(kind))
        })
    }

    /// One agent's row for the period containing `{agent_id, day, period}`.
    #[napi]
    pub fn agent_metrics(&self, args: String) -> napi::Result<String> {
        guard(|| {
            let v = parse(&args)?;
            let kind = PeriodKind::parse(v.get("period").and_then(Value::as_str).unwrap_or("day"))
                .map_err(err)?;
            let p = teamkpi::Period::containing(kind, day(&v, "day")?);
            out(&self.lock()?.agent_metrics(opt(&v, "agent_id")?, &p))
        })
    }

    /// Evicts finished tickets idle since `before` (epoch ms).
    #[napi]
    pub fn evict_before(&self, before: f64) -> napi::Result<u32> {
        guard(|| {
            let t = ms(before, "before")?;
            Ok(self.lock()?.evict_before(t) as u32)
        })
    }

    /// Tickets in memory.
    #[napi]
    pub fn tickets_in_memory(&self) -> napi::Result<u32> {
        guard(|| Ok(self.lock()?.tickets_in_memory() as u32))
    }

    /// The tickets as snapshots.
    #[napi]
    pub fn snapshots(&self) -> napi::Result<String> {
        guard(|| out(&self.lock()?.snapshots()))
    }
}

/// The assigner (calls are serialised).
#[napi]
pub struct NativeAssigner {
    inner: Mutex<Assigner>,
}

fn no_agent(r: teamkpi::NoAgentReason) -> napi::Error {
    fail(
        "no_eligible_agent",
        format!("no eligible agent: {}", r.as_str()),
        json!({"reason": r.as_str()}),
    )
}

#[napi]
impl NativeAssigner {
    /// From `{agents, policy}`.
    #[napi(constructor)]
    pub fn new(args: String) -> napi::Result<Self> {
        guard(|| {
            let v = parse(&args)?;
            let agents: Vec<AgentState> = de(&v, "agents")?;
            let policy: AssignmentPolicy = opt(&v, "policy")?.unwrap_or_default();
            Ok(NativeAssigner {
                inner: Mutex::new(Assigner::new(agents, policy).map_err(err)?),
            })
        })
    }

    /// One operation: `pick`, `assign`, `auto_assign`, `drain`, `reassign_stale`,
    /// `set_status`, `touch`, `set_load`, `release`, `agent`, `agents`, `workload`.
    #[napi]
    pub fn op(&self, name: String, args: String) -> napi::Result<String> {
        guard(|| {
            let v = parse(&args)?;
            let mut a = lock(&self.inner);
            match name.as_str() {
                "pick" => {
                    let item: WorkItem = de(&v, "item")?;
                    let exclude: Vec<u64> = opt(&v, "exclude")?.unwrap_or_default();
                    Ok(a.pick(&item, instant(&v, "now")?, &exclude)
                        .map_err(no_agent)?
                        .to_string())
                }
                "assign" => {
                    let item: WorkItem = de(&v, "item")?;
                    out(&a
                        .assign(&item, instant(&v, "now")?, AssignmentReason::AutoAssign)
                        .map_err(no_agent)?)
                }
                "auto_assign" => {
                    let item: WorkItem = de(&v, "item")?;
                    let settings: AssignmentSettings = de(&v, "settings")?;
                    out(&a
                        .auto_assign(&item, &settings, instant(&v, "now")?)
                        .map_err(no_agent)?)
                }
                "drain" => {
                    let items: Vec<WorkItem> = de(&v, "items")?;
                    out(&a.drain(&items, instant(&v, "now")?))
                }
                "reassign_stale" => {
                    let items: Vec<OpenItem> = de(&v, "items")?;
                    let settings: AssignmentSettings = de(&v, "settings")?;
                    out(&a
                        .reassign_stale(
                            &items,
                            &settings,
                            opt(&v, "inactive_hours")?,
                            instant(&v, "now")?,
                        )
                        .map_err(err)?)
                }
                "set_status" => {
                    let status = AgentStatus::parse(&text(&v, "status")?).map_err(err)?;
                    a.set_status(de(&v, "agent_id")?, status).map_err(err)?;
                    Ok("null".into())
                }
                "touch" => {
                    a.touch(de(&v, "agent_id")?, instant(&v, "at")?)
                        .map_err(err)?;
                    Ok("null".into())
                }
                "set_load" => {
                    a.set_load(de(&v, "agent_id")?, &text(&v, "kind")?, de(&v, "load")?)
                        .map_err(err)?;
                    Ok("null".into())
                }
                "release" => {
                    a.release(de(&v, "agent_id")?, &text(&v, "kind")?)
                        .map_err(err)?;
                    Ok("null".into())
                }
                "agent" => out(&a.agent(de(&v, "agent_id")?).cloned()),
                "agents" => out(&a.agents().cloned().collect::<Vec<_>>()),
                "workload" => out(&a.workload()),
                other => Err(err(Error::argument_error(
                    "op",
                    format!("no operation {other}"),
                ))),
            }
        })
    }
}

/// External KPI values from a JS function (called on the main thread, during the call).
struct JsExternal<'a> {
    f: Function<'a, String, Option<String>>,
}

impl teamkpi::ExternalValueProvider for JsExternal<'_> {
    fn value(
        &self,
        definition: &KpiDefinition,
        assignment: &teamkpi::KpiAssignment,
        period: &teamkpi::Period,
    ) -> teamkpi::Result<Option<Decimal>> {
        let args = json!([definition, assignment, {"kind": period.kind.as_str(), "start": period.start, "end": period.end}]);
        // The provider's own failure becomes this KPI's failure; the run goes on.
        let text = self
            .f
            .call(args.to_string())
            .map_err(|e| Error::argument_error("external", e.reason.clone()))?;
        text.map(|t| teamkpi::decimal_from_str("external value", &t))
            .transpose()
    }
}

/// A teamkpi store (SQLite file, `:memory:`, or a `postgres://` URL), shared with the
/// `NativeLive` objects bound to it.
#[napi]
pub struct NativeStore {
    inner: std::sync::Arc<dyn HostStore>,
}

/// A store write of the `items` list: how many were written.
fn put<T: DeserializeOwned>(
    v: &Value,
    write: impl FnOnce(&[T]) -> teamkpi::Result<usize>,
) -> napi::Result<String> {
    Ok(write(&de::<Vec<T>>(v, "items")?).map_err(err)?.to_string())
}

/// A store read over the `[start, end)` window.
fn window<T: Serialize>(
    v: &Value,
    read: impl FnOnce(teamkpi::Timestamp, teamkpi::Timestamp) -> teamkpi::Result<T>,
) -> napi::Result<String> {
    out(&read(instant(v, "start")?, instant(v, "end")?).map_err(err)?)
}

/// Definitions as objects with their row `id` first (the KPI tables' shape).
fn with_ids(
    store: &dyn HostStore,
    defs: Vec<KpiDefinition>,
    tenant: Option<&str>,
) -> napi::Result<Value> {
    let mut out = Vec::new();
    for (id, d) in teamkpi_stores::definitions_with_ids(store, defs, tenant).map_err(err)? {
        let mut m = Map::new();
        m.insert("id".into(), json!(id));
        if let Value::Object(body) = serde_json::to_value(&d)
            .map_err(|e| err(Error::argument_error("definition", e.to_string())))?
        {
            m.extend(body);
        }
        out.push(Value::Object(m));
    }
    Ok(Value::Array(out))
}

#[napi]
impl NativeStore {
    /// Opens `db` (migrations run).
    #[napi(constructor)]
    pub fn new(db: String) -> napi::Result<Self> {
        guard(|| {
            let inner =
                teamkpi_stores::open(&db).map_err(|e| fail(e.code(), e.to_string(), json!({})))?;
            Ok(NativeStore {
                inner: inner.into(),
            })
        })
    }

    /// `update_kpis` with an engine's figures as the metric source and/or a JS provider of
    /// external KPI values (`external(json) -> text | null`, `json` the definition, the assignment
    /// and the period); the options as for `op("update_kpis", …)`.
    #[napi]
    pub fn update_kpis_with(
        &self,
        args: String,
        engine: Option<&NativeEngine>,
        external: Option<Function<String, Option<String>>>,
    ) -> napi::Result<String> {
        self.kpi_run(
            &args,
            engine,
            external,
            |store, _, options, source, external, now| {
                out(&teamkpi_stores::update(store, now, options, source, external).map_err(err)?)
            },
        )
    }

    /// `measure_range` (`assignment_id`, `start`, `end`) with the sources of
    /// `update_kpis_with`.
    #[napi]
    pub fn measure_range_with(
        &self,
        args: String,
        engine: Option<&NativeEngine>,
        external: Option<Function<String, Option<String>>>,
    ) -> napi::Result<String> {
        self.kpi_run(
            &args,
            engine,
            external,
            |store, v, options, source, external, now| {
                let range =
                    teamkpi::DateRange::new(day(v, "start")?, day(v, "end")?).map_err(err)?;
                let id = de(v, "assignment_id")?;
                let done =
                    teamkpi_stores::measure_range(store, now, options, id, range, source, external);
                out(&done.map_err(err)?)
            },
        )
    }

    /// Decodes a KPI run's options, metric source and provider, and hands them to `run`.
    fn kpi_run(
        &self,
        args: &str,
        engine: Option<&NativeEngine>,
        external: Option<Function<String, Option<String>>>,
        run: impl FnOnce(
            &dyn HostStore,
            &Value,
            &UpdateOptions,
            UpdateSource<'_>,
            Option<&dyn teamkpi::ExternalValueProvider>,
            chrono::DateTime<chrono::Utc>,
        ) -> napi::Result<String>,
    ) -> napi::Result<String> {
        guard(|| {
            let v = parse(args)?;
            let options: UpdateOptions = teamkpi::from_json_ref(&v).map_err(err)?;
            let tickets = opt::<Vec<Ticket>>(&v, "tickets")?;
            let calls = opt::<Vec<Call>>(&v, "calls")?;
            let sessions = opt::<Vec<AgentSession>>(&v, "sessions")?;
            let engine = engine.map(NativeEngine::lock).transpose()?;
            let source = UpdateSource::chosen(
                engine.as_deref(),
                tickets.as_deref(),
                calls.as_deref(),
                sessions.as_deref(),
            )
            .map_err(err)?;
            let provider = external.map(|f| JsExternal { f });
            let external = provider
                .as_ref()
                .map(|p| p as &dyn teamkpi::ExternalValueProvider);
            let now = instant(&v, "now")?;
            run(&*self.inner, &v, &options, source, external, now)
        })
    }

    /// One store operation with JSON arguments (see `index.js` for the methods).
    #[napi]
    pub fn op(&self, name: String, args: String) -> napi::Result<String> {
        guard(|| {
            let v = parse(&args)?;
            let s = &self.inner;
            let tenant: Option<String> = opt(&v, "tenant")?;
            let t = tenant.as_deref();
            match name.as_str() {
                "upsert_definition" => {
                    let d: KpiDefinition = de(&v, "definition")?;
                    d.validate(&MetricCatalog::builtin()).map_err(err)?;
                    s.upsert_definition(&d).map_err(err)?;
                    Ok("null".into())
                }
                "definitions" => {
                    Ok(rounded(with_ids(&**s, s.definitions(t).map_err(err)?, t)?).to_string())
                }
                "definition" => {
                    let key = match v.get("key") {
                        Some(Value::Number(n)) => match n
                            .as_u64()
                            .map(|id| teamkpi_stores::definition_key(&**s, t, id))
                            .transpose()
                            .map_err(err)?
                            .flatten()
                        {
                            Some(k) => k,
                            None => return Ok("null".into()),
                        },
                        _ => text(&v, "key")?,
                    };
                    match s.definition(t, &key).map_err(err)? {
                        Some(d) => Ok(rounded(with_ids(&**s, vec![d], t)?)[0].to_string()),
                        None => Ok("null".into()),
                    }
                }
                "insert_assignment" => {
                    let mut a = v.get("assignment").cloned().unwrap_or(Value::Null);
                    teamkpi_stores::resolve_definition_id(&**s, &mut a).map_err(err)?;
                    let new: NewKpiAssignment = teamkpi::from_json(a).map_err(err)?;
                    out(&s.insert_assignment(new).map_err(err)?)
                }
                "update_assignment" => {
                    s.update_assignment(&de(&v, "assignment")?).map_err(err)?;
                    Ok("null".into())
                }
                "assignment" => out(&s.assignment(t, de(&v, "id")?).map_err(err)?),
                "assignments" => {
                    let between = match (opt_day(&v, "start")?, opt_day(&v, "end")?) {
                        (None, None) => None,
                        (a, b) => Some((a.unwrap_or(NaiveDate::MIN), b.unwrap_or(NaiveDate::MAX))),
                    };
                    out(&s
                        .assignments(&AssignmentFilter {
                            tenant: tenant.clone(),
                            agent_id: opt(&v, "agent_id")?,
                            definition: opt(&v, "definition")?,
                            applies_between: between,
                            include_inactive: v
                                .get("include_inactive")
                                .and_then(Value::as_bool)
                                .unwrap_or(false),
                        })
                        .map_err(err)?)
                }
                "upsert_measurement" => {
                    let m: Measurement = de(&v, "measurement")?;
                    Ok(s.upsert_measurement(&m).map_err(err)?.to_string())
                }
                "measurements" => out(&s.measurements(t, de(&v, "assignment_id")?).map_err(err)?),
                "latest_measurement" => out(&s
                    .latest_measurement(t, de(&v, "assignment_id")?)
                    .map_err(err)?),
                "record_manual_value" => {
                    let m: ManualValue = de(&v, "value")?;
                    s.record_manual_value(t, &m).map_err(err)?;
                    Ok("null".into())
                }
                "put_tickets" => put(&v, |x: &[Ticket]| s.put_tickets(x)),
                "put_calls" => put(&v, |x: &[Call]| s.put_calls(x)),
                "put_sessions" => put(&v, |x: &[AgentSession]| s.put_sessions(x)),
                "put_contacts" => put(&v, |x: &[Contact]| s.put_contacts(x)),
                "put_campaigns" => put(&v, |x: &[Campaign]| s.put_campaigns(x)),
                "tickets" => window(&v, |from, to| s.tickets(t, from, to)),
                "calls" => window(&v, |from, to| s.calls(t, from, to)),
                "sessions" => window(&v, |from, to| s.sessions(t, from, to)),
                "contacts" => out(&s.contacts(t).map_err(err)?),
                "campaigns" => out(&s.campaigns(t).map_err(err)?),
                "put_agents" => {
                    let mut rows = Vec::new();
                    for mut a in de::<Vec<Value>>(&v, "items")? {
                        let name = a
                            .as_object_mut()
                            .and_then(|m| m.remove("name"))
                            .and_then(|n| n.as_str().map(str::to_owned));
                        rows.push((teamkpi::from_json(a).map_err(err)?, name));
                    }
                    Ok(s.put_agents(&rows).map_err(err)?.to_string())
                }
                "agents" => {
                    let rows = s.agents(t).map_err(err)?;
                    let list: Vec<Value> = rows
                        .into_iter()
                        .map(|(a, n)| {
                            let mut x = serde_json::to_value(a).unwrap_or(Value::Null);
                            x["name"] = json!(n);
                            x
                        })
                        .collect();
                    Ok(Value::Array(list).to_string())
                }
                "settings" => out(&s.settings(t).map_err(err)?),
                "put_settings" => {
                    let mut change = v.clone();
                    if let Some(m) = change.as_object_mut() {
                        m.remove("tenant");
                    }
                    let change = teamkpi::from_json(change).map_err(err)?;
                    out(&teamkpi_stores::save_settings(&**s, t, change).map_err(err)?)
                }
                "update_kpis" => {
                    let options: UpdateOptions = teamkpi::from_json_ref(&v).map_err(err)?;
                    let tickets = opt::<Vec<Ticket>>(&v, "tickets")?;
                    let source =
                        UpdateSource::chosen(None, tickets.as_deref(), None, None).map_err(err)?;
                    let now = instant(&v, "now")?;
                    out(&teamkpi_stores::update(&**s, now, &options, source, None).map_err(err)?)
                }
                other => Err(err(Error::argument_error(
                    "op",
                    format!("no operation {other}"),
                ))),
            }
        })
    }
}
