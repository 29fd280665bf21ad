//! `LiveMetrics` for Node: live metrics held in a store, one operation a call, sync or async
//! (the async form runs on the libuv thread pool, off the main thread).

use std::sync::Arc;

use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;
use serde_json::{json, Value};
use teamkpi::engine::EngineOptions;
use teamkpi::live::{self, LiveWindows};
use teamkpi::metrics::analytics::{AnalyticsKind, AnalyticsOptions};
use teamkpi::metrics::{Campaign, Contact, DashboardRequest, GroupKey, Ticket};
use teamkpi::request::{LiveRowsRequest, UpdateOptions};
use teamkpi::{Error, Period, PeriodKind, SlaGroupBy};
use teamkpi_stores::{HostStore, UpdateSource};

use crate::{day, de, err, instant, opt, out, parse, JsonTask, NativeStore};

/// Live metrics in a store (see `index.js` for the methods).
#[napi]
pub struct NativeLive {
    shared: Arc<Shared>,
}

struct Shared {
    store: Arc<dyn HostStore>,
    options: EngineOptions,
}

#[napi]
impl NativeLive {
    /// Binds `store` with settings (`timezone`, `sla`, `calendar`, `tenant`, `quantiles`,
    /// `strict`); unset ones come from the store's company settings.
    #[napi(constructor)]
    pub fn new(store: &NativeStore, args: String) -> napi::Result<Self> {
        crate::guard(|| {
            let v = parse(&args)?;
            let tenant: Option<String> = opt(&v, "tenant")?;
            let mut options =
                teamkpi_stores::live_options(&*store.inner, tenant.as_deref()).map_err(err)?;
            if let Some(z) = v.get("timezone").and_then(Value::as_str) {
                options.timezone = teamkpi::parse_timezone(z).map_err(err)?;
            }
            if let Some(p) = crate::sla(&v)? {
                options.sla = Some(p);
            }
            options.calendar = crate::calendar(&v)?;
            options.quantiles = opt(&v, "quantiles")?.unwrap_or(true);
            options.require_created_first = opt(&v, "strict")?.unwrap_or(false);
            Ok(NativeLive {
                shared: Arc::new(Shared {
                    store: Arc::clone(&store.inner),
                    options,
                }),
            })
        })
    }

    /// One operation with JSON arguments, on the calling thread.
    #[napi]
    pub fn op(&self, name: String, args: String) -> napi::Result<String> {
        crate::guard(|| self.shared.op(&name, &args))
    }

    /// One operation with JSON arguments, on the thread pool: the main thread stays free.
    #[napi]
    pub fn op_async(&self, name: String, args: String) -> napi::Result<AsyncTask<JsonTask>> {
        let shared = Arc::clone(&self.shared);
        crate::guard(|| Ok(JsonTask::spawn(move || shared.op(&name, &args))))
    }
}

impl Shared {
    fn analytics_options(&self, v: &Value, days: u32) -> napi::Result<AnalyticsOptions> {
        let mut o = AnalyticsOptions::new(self.options.timezone, instant(v, "now")?, days);
        o.tenant = self.options.tenant.clone();
        o.sla = self.options.sla.clone();
        Ok(o)
    }

    fn policy(&self) -> napi::Result<&teamkpi::SlaPolicy> {
        self.options.sla.as_ref().ok_or_else(|| {
            err(Error::argument_error(
                "sla",
                "no SLA policy: give one, or store one in the company settings",
            ))
        })
    }

    fn op(&self, name: &str, args: &str) -> napi::Result<String> {
        let v = parse(args)?;
        let store = &*self.store;
        let tenant = self.options.tenant.as_deref();
        match name {
            "apply" => {
                // Instants arrive as the wrapper sends them; `decode_events` reads both forms.
                let list = match v.get("events") {
                    Some(Value::Array(a)) => a.clone(),
                    Some(one @ Value::Object(_)) => vec![one.clone()],
                    _ => return Err(err(Error::argument_error("events", "an array of events"))),
                };
                let events = crate::decode_events(list, tenant)?;
                out(&store.live_apply(&self.options, &events).map_err(err)?)
            }
            "apply_records" => {
                let tickets: Vec<Ticket> = opt(&v, "tickets")?.unwrap_or_default();
                let calls: Vec<teamkpi::metrics::Call> = opt(&v, "calls")?.unwrap_or_default();
                let sessions: Vec<teamkpi::metrics::AgentSession> =
                    opt(&v, "sessions")?.unwrap_or_default();
                let batch = opt(&v, "batch")?.unwrap_or(1000);
                let report = live::apply_records(
                    store.live(),
                    &self.options,
                    &tickets,
                    &calls,
                    &sessions,
                    batch,
                )
                .map_err(err)?;
                out(&report)
            }
            "backfill" => {
                let batch = opt(&v, "batch")?.unwrap_or(1000);
                let report = live::backfill(
                    store.live(),
                    store,
                    &self.options,
                    instant(&v, "start")?,
                    instant(&v, "end")?,
                    batch,
                    &mut |_| {},
                )
                .map_err(err)?;
                out(&report)
            }
            "rows" => {
                let request: LiveRowsRequest = teamkpi::from_json_ref(&v).map_err(err)?;
                let (start, end) = (day(&v, "start")?, day(&v, "end")?);
                let query = request.query(tenant, start, end).map_err(err)?;
                let as_of = request.now;
                out(&live::live_rows_as_of(store.live(), &query, as_of).map_err(err)?)
            }
            "metrics" => {
                let period = Period::containing(period_kind(&v)?, day(&v, "day")?);
                let as_of = match v.get("now") {
                    Some(n) if !n.is_null() => Some(instant(&v, "now")?),
                    _ => None,
                };
                let agent: u64 = de(&v, "agent_id")?;
                let row = live::live_metrics(
                    store.live(),
                    tenant,
                    &GroupKey::Agent(Some(agent)),
                    &period,
                    as_of,
                )
                .map_err(err)?;
                out(&row)
            }
            "analytics" => {
                let kind: AnalyticsKind = de::<String>(&v, "result")?.parse().map_err(err)?;
                let o = self.analytics_options(&v, opt(&v, "days")?.unwrap_or(30))?;
                let result = teamkpi::metrics::analytics::analytics(
                    kind,
                    &LiveWindows::new(store.live(), &o),
                    &o,
                    opt(&v, "agent_id")?,
                )
                .map_err(err)?;
                out(&result)
            }
            "sla_analytics" => {
                let group: SlaGroupBy = opt(&v, "group_by")?.unwrap_or(SlaGroupBy::All);
                let o = self.analytics_options(&v, 1)?;
                let rows = LiveWindows::new(store.live(), &o)
                    .sla_analytics(
                        self.policy()?,
                        instant(&v, "start")?,
                        instant(&v, "end")?,
                        group,
                        opt(&v, "agent_id")?,
                    )
                    .map_err(err)?;
                out(&rows)
            }
            "sla_breaches" => {
                let o = self.analytics_options(&v, 1)?;
                let list = LiveWindows::new(store.live(), &o)
                    .sla_breaches(self.policy()?, opt(&v, "agent_id")?)
                    .map_err(err)?;
                out(&list)
            }
            "update_kpis" => {
                let mut options: UpdateOptions = teamkpi::from_json_ref(&v).map_err(err)?;
                options.tenant = self.options.tenant.clone();
                options.timezone = Some(self.options.timezone);
                let now = instant(&v, "now")?;
                let report = teamkpi_stores::update(store, now, &options, UpdateSource::Live, None);
                out(&report.map_err(err)?)
            }
            "measure_range" => {
                let options = UpdateOptions {
                    tenant: self.options.tenant.clone(),
                    timezone: Some(self.options.timezone),
                    policy: teamkpi::from_json_ref(&v).map_err(err)?,
                    ..UpdateOptions::default()
                };
                let range = teamkpi::DateRange::new(day(&v, "start")?, day(&v, "end")?);
                let done = teamkpi_stores::measure_range(
                    store,
                    instant(&v, "now")?,
                    &options,
                    de(&v, "assignment_id")?,
                    range.map_err(err)?,
                    UpdateSource::Live,
                    None,
                );
                out(&done.map_err(err)?)
            }
            "agent_kpi" => {
                let source = live::LiveMetrics::new(store.live(), tenant, None);
                let row = teamkpi::update::agent_kpi(
                    store,
                    &source,
                    tenant,
                    de(&v, "agent_id")?,
                    day(&v, "day")?,
                    &teamkpi::AchievementPolicy::default(),
                )
                .map_err(err)?;
                out(&row)
            }
            "dashboard" => {
                let req = DashboardRequest {
                    tenant: self.options.tenant.clone(),
                    agent_id: de(&v, "agent_id")?,
                    date: day(&v, "date")?,
                    timezone: self.options.timezone,
                    now: instant(&v, "now")?,
                };
                let contacts: Vec<Contact> = match opt(&v, "contacts")? {
                    Some(c) => c,
                    None => store.contacts(tenant).map_err(err)?,
                };
                let campaigns: Vec<Campaign> = match opt(&v, "campaigns")? {
                    Some(c) => c,
                    None => store.campaigns(tenant).map_err(err)?,
                };
                out(
                    &live::live_dashboard(store.live(), &req, &contacts, &campaigns)
                        .map_err(err)?,
                )
            }
            "open_tickets" => out(&live::live_open_snapshots(store.live(), tenant).map_err(err)?),
            "evict" => {
                let n = store
                    .live_evict(tenant, instant(&v, "before")?)
                    .map_err(err)?;
                Ok(json!(n).to_string())
            }
            "reset" => {
                store.live_reset(tenant).map_err(err)?;
                Ok("null".into())
            }
            "settings" => Ok(json!({
                "timezone": self.options.timezone.name(),
                "sla": self.options.sla.as_ref().map(|p| p.spec()),
                "quantiles": self.options.quantiles,
                "tenant": self.options.tenant,
            })
            .to_string()),
            other => Err(err(Error::argument_error(
                "op",
                format!("no operation {other}"),
            ))),
        }
    }
}

fn period_kind(v: &Value) -> napi::Result<PeriodKind> {
    PeriodKind::parse(v.get("period").and_then(Value::as_str).unwrap_or("day")).map_err(err)
}
