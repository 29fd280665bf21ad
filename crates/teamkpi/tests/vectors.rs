//! Runs the golden cases in `tests/vectors/*.json` (shared with the Python and Node tests).
//!
//! Each file is `{"function": …, "cases": [{id, input, expected} | {id, input, error_code}]}`.
//! Decimals in `expected` are strings compared numerically (after rounding to 2 places when the
//! case says `"round": 2`).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::PathBuf;
use teamkpi::*;

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

fn dec(field: &str, v: &Value) -> Result<Decimal> {
    match v {
        Value::String(s) => decimal_from_str(field, s),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(Decimal::from(i))
            } else if let Some(u) = n.as_u64() {
                Ok(Decimal::from(u))
            } else {
                decimal_from_f64(field, n.as_f64().unwrap_or(f64::NAN))
            }
        }
        other => panic!("vector field {field} is not a number: {other}"),
    }
}

fn opt_dec(field: &str, v: Option<&Value>) -> Result<Option<Decimal>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => dec(field, v).map(Some),
    }
}

fn s<'a>(input: &'a Value, field: &str) -> &'a str {
    input[field]
        .as_str()
        .unwrap_or_else(|| panic!("vector input lacks string {field}: {input}"))
}

fn instant(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("vector instant")
        .with_timezone(&Utc)
}

fn dstr(d: Decimal) -> Value {
    Value::String(d.normalize().to_string())
}

fn opt_dstr(d: Option<Decimal>) -> Value {
    d.map(dstr).unwrap_or(Value::Null)
}

fn policy(input: &Value) -> Result<AchievementPolicy> {
    Ok(AchievementPolicy {
        cap: opt_dec("cap", input.get("cap"))?,
        floor: opt_dec("floor", input.get("floor"))?,
        zero_target: match input.get("zero_target") {
            Some(z) => from_json(z.clone())?,
            None => ZeroTarget::default(),
        },
    })
}

fn range_json(start: chrono::NaiveDate, end: chrono::NaiveDate) -> Value {
    json!({"start": start.to_string(), "end": end.to_string()})
}

/// The engine a vector's input describes: its `timezone` and `strict` mode.
fn engine_of(input: &Value) -> Result<teamkpi::engine::Engine> {
    let zone = input["timezone"].as_str().expect("timezone");
    let mut options = teamkpi::engine::EngineOptions::new(parse_timezone(zone)?);
    options.require_created_first = input
        .get("strict")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    Ok(teamkpi::engine::Engine::new(options))
}

fn run(function: &str, input: &Value) -> Result<Value> {
    match function {
        "achievement" => {
            let actual = dec("actual", &input["actual"])?;
            let target = dec("target", &input["target"])?;
            let direction = Direction::parse(s(input, "direction"))?;
            achievement(actual, target, direction, &policy(input)?).map(dstr)
        }
        "overall_score" => {
            let items = input["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|i| {
                    Ok(WeightedAchievement {
                        weight: dec("weight", &i["weight"])?,
                        achievement: opt_dec("achievement", i.get("achievement"))?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            overall_score(&items, &policy(input)?).map(opt_dstr)
        }
        "performance_score" => {
            let inputs = PerformanceInputs {
                resolution_rate: opt_dec("resolution_rate", input.get("resolution_rate"))?,
                avg_response_hours: opt_dec("avg_response_hours", input.get("avg_response_hours"))?,
                sla_compliance_rate: opt_dec(
                    "sla_compliance_rate",
                    input.get("sla_compliance_rate"),
                )?,
            };
            let mut weights = PerformanceWeights::default();
            if let Some(w) = input.get("weights") {
                weights.resolution_rate = dec("resolution_rate", &w["resolution_rate"])?;
                weights.response = dec("response", &w["response"])?;
                weights.sla_compliance = dec("sla_compliance", &w["sla_compliance"])?;
            }
            if let Some(h) = input.get("horizon_hours") {
                weights.horizon_hours = dec("horizon_hours", h)?;
            }
            performance_score(&inputs, &weights).map(opt_dstr)
        }
        "period" => {
            let kind = PeriodKind::parse(s(input, "kind"))?;
            let date = parse_date("date", s(input, "date"))?;
            let tz = parse_timezone(s(input, "timezone"))?;
            let p = Period::containing(kind, date);
            let (a, b) = p.utc_bounds(tz);
            Ok(json!({
                "start": p.start.to_string(), "end": p.end.to_string(),
                "utc_start": a.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                "utc_end": b.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            }))
        }
        "period_helper" => {
            let helper = s(input, "helper");
            if helper == "periods" {
                let range = DateRange::new(
                    parse_date("start", s(input, "start"))?,
                    parse_date("end", s(input, "end"))?,
                )?;
                let kind = PeriodKind::parse(s(input, "kind"))?;
                return Ok(Value::Array(
                    range
                        .periods(kind)
                        .into_iter()
                        .map(|p| range_json(p.start, p.end))
                        .collect(),
                ));
            }
            let tz = parse_timezone(s(input, "timezone"))?;
            let now = instant(s(input, "now"));
            let days = input.get("days").and_then(Value::as_u64).map(|d| d as u32);
            let r = teamkpi::period::date_helper(helper, now, tz, days)?;
            Ok(range_json(r.start, r.end))
        }
        "formula" => {
            let catalog = MetricCatalog::builtin();
            let f = Formula::parse(s(input, "expression"), &catalog)?;
            let mut values = std::collections::BTreeMap::new();
            if let Some(map) = input["values"].as_object() {
                for (k, v) in map {
                    values.insert(k.clone(), dec(k, v)?);
                }
            }
            f.evaluate(&|name: &str| values.get(name).copied())
                .map(opt_dstr)
        }
        "unit_convert" => {
            let from = Unit::parse(s(input, "from"))?;
            let to = Unit::parse(s(input, "to"))?;
            from.convert(dec("value", &input["value"])?, to).map(dstr)
        }
        "kpi_source" => {
            let src =
                KpiSource::from_calculation_type(s(input, "calculation_type"), &input["config"])?;
            Ok(serde_json::to_value(src).expect("serialise"))
        }
        "definition_validate" => {
            let def: KpiDefinition = from_json(input.clone())?;
            def.validate(&MetricCatalog::builtin())?;
            Ok(serde_json::to_value(def).expect("serialise"))
        }
        "assignments" => {
            let store = InMemoryStore::new();
            for d in input["definitions"].as_array().expect("definitions") {
                let def: KpiDefinition = from_json(d.clone())?;
                store.upsert_definition(&def)?;
            }
            let mut ids = Vec::new();
            for a in input["inserts"].as_array().expect("inserts") {
                let new: NewKpiAssignment = from_json(a.clone())?;
                ids.push(store.insert_assignment(new)?.id);
            }
            Ok(json!(ids))
        }
        "validate_weights" => {
            let on = parse_date("on", s(input, "on"))?;
            let list: Vec<KpiAssignment> = from_json(input["assignments"].clone())?;
            let issues = validate_weights(&list, on);
            Ok(Value::Array(
                issues
                    .into_iter()
                    .map(|i| {
                        json!({"tenant": i.tenant, "agent_id": i.agent_id,
                               "total": dstr(i.total), "assignment_ids": i.assignment_ids})
                    })
                    .collect(),
            ))
        }
        "band" => {
            let score = dec("score", &input["score"])?;
            let bands = match input.get("bands") {
                None | Some(Value::Null) => ScoreBands::default(),
                Some(b) => {
                    let list: Vec<Band> = from_json(b.clone())?;
                    ScoreBands::new(list)?
                }
            };
            Ok(bands
                .label(score)
                .map(|l| Value::String(l.to_owned()))
                .unwrap_or(Value::Null))
        }
        "calendar" => {
            let spec: CalendarSpec = from_json(input["calendar"].clone())?;
            let cal = BusinessCalendar::from_spec(&spec)?;
            let fmt = |t: DateTime<Utc>| Value::String(t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
            match s(input, "op") {
                "is_open" => cal.is_open(instant(s(input, "at"))).map(Value::Bool),
                "next_open" => cal.next_open(instant(s(input, "at"))).map(fmt),
                "add" => {
                    let seconds = input["seconds"].as_i64().expect("seconds");
                    cal.add_business_seconds(instant(s(input, "start")), seconds)
                        .map(fmt)
                }
                "between" => cal
                    .business_seconds_between(instant(s(input, "start")), instant(s(input, "end")))
                    .map(|n| json!(n)),
                other => panic!("unknown calendar op {other}"),
            }
        }
        "sla_evaluate" => {
            let policy: SlaPolicy = from_json(input["policy"].clone())?;
            // A ticket record evaluates the timeline reconstructed from it.
            let ticket: TicketTimeline = match input.get("snapshot") {
                Some(record) => {
                    let t: teamkpi::metrics::Ticket = from_json(record.clone())?;
                    TicketTimeline::from_ticket(&t)
                }
                None => from_json(input["ticket"].clone())?,
            };
            let eval = policy.evaluate(&ticket, instant(s(input, "now")))?;
            let fmt = |t: Option<DateTime<Utc>>| {
                t.map(|t| Value::String(t.format("%Y-%m-%dT%H:%M:%SZ").to_string()))
                    .unwrap_or(Value::Null)
            };
            Ok(Value::Array(
                eval.targets
                    .iter()
                    .map(|t| {
                        json!({"target": t.target.as_str(), "cycle": t.cycle, "state": t.state.as_str(),
                               "due_at": fmt(t.due_at), "used_seconds": t.used_seconds,
                               "remaining_seconds": t.remaining_seconds, "late_seconds": t.late_seconds})
                    })
                    .collect(),
            ))
        }
        "sla_scan" => {
            let policy: SlaPolicy = from_json(input["policy"].clone())?;
            let tickets: Vec<TicketTimeline> = from_json(input["tickets"].clone())?;
            let alerted: std::collections::BTreeSet<String> =
                from_json(input["already_alerted"].clone())?;
            let scan = policy.scan(&tickets, instant(s(input, "now")), &alerted);
            let keys = |list: &[SlaAlert]| list.iter().map(|a| a.key.clone()).collect::<Vec<_>>();
            Ok(json!({
                "breaches": keys(&scan.breaches),
                "at_risk": keys(&scan.at_risk),
                "rejected": scan.rejected.iter().map(|r| json!({"ticket_id": r.ticket_id, "code": r.code})).collect::<Vec<_>>(),
            }))
        }
        "sla_analytics" => {
            let policy: SlaPolicy = from_json(input["policy"].clone())?;
            let tickets: Vec<TicketTimeline> = from_json(input["tickets"].clone())?;
            let now = instant(s(input, "now"));
            let group_by: SlaGroupBy = from_json(input["group_by"].clone())?;
            let rows = teamkpi::sla_analytics_of(
                &policy,
                &tickets,
                now,
                instant(s(input, "from")),
                instant(s(input, "to")),
                group_by,
            )?;
            Ok(Value::Array(
                rows.into_iter()
                    .map(|r| {
                        let mut v = json!({
                            "total_sla_tasks": r.total_sla_tasks, "breached_count": r.breached_count,
                            "resolved_on_time": r.resolved_on_time,
                            "compliance_rate_percent": opt_dstr(r.compliance_rate_percent),
                            "breach_rate_percent": opt_dstr(r.breach_rate_percent),
                        });
                        if let Some(a) = r.agent_id { v["agent_id"] = json!(a); }
                        if let Some(t) = r.team { v["team"] = json!(t); }
                        if let Some(p) = r.policy { v["policy"] = json!(p); }
                        v
                    })
                    .collect(),
            ))
        }
        "ticket_metrics" => {
            use teamkpi::metrics::*;
            let tickets: Vec<Ticket> = from_json(input["tickets"].clone())?;
            let options =
                teamkpi::from_json_ref::<teamkpi::request::MetricsSettings>(input)?.options()?;
            let columnar = columnar_twin(&tickets, &options);
            let report = TicketMetricsAggregator::new(options).map(|mut agg| {
                agg.add_all(&tickets);
                agg.finish()
            });
            // Tickets with only the columnar fields also go through the columnar kernel (the path of
            // the bindings' list calls): the same rows, rejections and errors.
            match (&report, &columnar) {
                (_, None) => {}
                (Ok(a), Some(Ok(b))) => {
                    assert_eq!(a.rows, b.rows, "columnar twin: rows");
                    let key = |r: &RejectedRecord| (r.id, r.index, r.code.clone());
                    assert_eq!(
                        a.rejected.iter().map(key).collect::<Vec<_>>(),
                        b.rejected.iter().map(key).collect::<Vec<_>>(),
                        "columnar twin: rejected"
                    );
                }
                (Err(a), Some(Err(b))) => assert_eq!(a.code(), b.code(), "columnar twin: error"),
                (a, Some(b)) => panic!("columnar twin disagrees: {a:?} against {b:?}"),
            }
            let report = report?;
            let mut rows = Vec::new();
            for r in &report.rows {
                let mut v = serde_json::to_value(r).expect("row");
                // Grouping keys are always present, null when absent.
                v["agent_id"] = json!(r.agent_id);
                v["team"] = json!(r.team);
                rows.push(v);
            }
            Ok(json!({
                "rows": rows,
                "rejected": report.rejected.iter().map(|r| json!({"id": r.id, "index": r.index, "code": r.code})).collect::<Vec<_>>(),
            }))
        }
        "dashboard" => {
            use teamkpi::metrics::*;
            let req = DashboardRequest {
                tenant: None,
                agent_id: input["agent_id"].as_u64().expect("agent_id"),
                date: parse_date("date", s(input, "date"))?,
                timezone: parse_timezone(s(input, "timezone"))?,
                now: instant(s(input, "now")),
            };
            let calls: Vec<Call> = from_json(input["calls"].clone())?;
            let sessions: Vec<AgentSession> = from_json(input["sessions"].clone())?;
            let contacts: Vec<Contact> = from_json(input["contacts"].clone())?;
            let campaigns: Vec<Campaign> = from_json(input["campaigns"].clone())?;
            let stats = call_center_dashboard(&req, &calls, &sessions, &contacts, &campaigns)?;
            Ok(serde_json::to_value(stats).expect("stats"))
        }
        "kpi_update" => kpi_update(input),
        "analytics" => {
            let tickets: Vec<teamkpi::metrics::Ticket> = from_json(input["tickets"].clone())?;
            let request: teamkpi::request::AnalyticsRequest = teamkpi::from_json_ref(input)?;
            let (result, now) = (
                from_json(input["result"].clone())?,
                instant(s(input, "now")),
            );
            let v = serde_json::to_value(request.over_tickets(result, now, &tickets)?);
            Ok(v.expect("serialise"))
        }
        "assignment" => {
            let agents: Vec<AgentState> = from_json(input["agents"].clone())?;
            let policy: AssignmentPolicy = match input.get("policy") {
                Some(p) => from_json(p.clone())?,
                None => AssignmentPolicy::default(),
            };
            let now = instant(s(input, "now"));
            let mut assigner = Assigner::new(agents, policy)?;
            let outcome = |r: std::result::Result<u64, NoAgentReason>| match r {
                Ok(a) => json!({"agent": a}),
                Err(reason) => json!({"reason": reason.as_str()}),
            };
            let batch_json = |b: &AssignmentBatch| {
                json!({
                    "events": b.events.iter().map(|e| match e.from {
                        Some(from) => json!([e.item_id, from, e.to, e.reason]),
                        None => json!([e.item_id, e.to]),
                    }).collect::<Vec<_>>(),
                    "unassigned": b.unassigned.iter().map(|u| json!([u.item_id, u.reason.as_str()])).collect::<Vec<_>>(),
                    "rejected": b.rejected.iter().map(|r| json!({"item_id": r.item_id, "code": r.code})).collect::<Vec<_>>(),
                })
            };
            let mut results = Vec::new();
            for op in input["ops"].as_array().expect("ops") {
                let r = match s(op, "op") {
                    "pick" => {
                        let item: WorkItem = from_json(op["item"].clone())?;
                        let exclude: Vec<u64> = match op.get("exclude") {
                            Some(e) => from_json(e.clone())?,
                            None => Vec::new(),
                        };
                        outcome(assigner.pick(&item, now, &exclude))
                    }
                    "assign" => {
                        let item: WorkItem = from_json(op["item"].clone())?;
                        outcome(
                            assigner
                                .assign(&item, now, AssignmentReason::AutoAssign)
                                .map(|e| e.to),
                        )
                    }
                    "auto_assign" => {
                        let item: WorkItem = from_json(op["item"].clone())?;
                        let settings: AssignmentSettings = from_json(op["settings"].clone())?;
                        outcome(assigner.auto_assign(&item, &settings, now).map(|e| e.to))
                    }
                    "set_status" => {
                        let status = AgentStatus::parse(s(op, "status"))?;
                        assigner.set_status(op["agent"].as_u64().expect("agent"), status)?;
                        Value::Null
                    }
                    "drain" => {
                        let items: Vec<WorkItem> = from_json(op["items"].clone())?;
                        batch_json(&assigner.drain(&items, now))
                    }
                    "reassign" => {
                        let items: Vec<OpenItem> = from_json(op["items"].clone())?;
                        let settings: AssignmentSettings = from_json(op["settings"].clone())?;
                        let inactive = op.get("inactive_hours").and_then(Value::as_i64);
                        batch_json(&assigner.reassign_stale(&items, &settings, inactive, now)?)
                    }
                    "load" => {
                        let id = op["agent"].as_u64().expect("agent");
                        json!(assigner.agent(id).map(|a| a.open_load.clone()))
                    }
                    other => panic!("unknown assignment op {other}"),
                };
                results.push(r);
            }
            Ok(Value::Array(results))
        }
        "engine" => {
            use teamkpi::engine::*;
            let mut engine = engine_of(input)?;
            let events: Vec<Event> = from_json(input["events"].clone())?;
            for e in &events {
                engine.apply(e)?;
            }
            if let Some(t) = input.get("evict_before").and_then(Value::as_str) {
                engine.evict_before(instant(t));
            }
            if let Some(then) = input.get("then") {
                let more: Vec<Event> = from_json(then.clone())?;
                for e in &more {
                    engine.apply(e)?;
                }
            }
            let rows: Vec<Value> = engine
                .rows(PeriodKind::Day)
                .iter()
                .map(|r| serde_json::to_value(r).expect("row"))
                .collect();
            Ok(json!({"day": rows}))
        }
        "engine_batch" => {
            use teamkpi::engine::*;
            let mut engine = engine_of(input)?;
            let mut batches = Vec::new();
            for batch in input["batches"].as_array().expect("batches") {
                let list = batch.as_array().expect("a batch").clone();
                batches.push(match decode_batch(None, list) {
                    Err(Error::InvalidEvents { errors }) => {
                        json!({"code": "invalid_events", "errors": errors})
                    }
                    Err(e) => return Err(e),
                    Ok(events) => {
                        serde_json::to_value(engine.apply_batch(&events)?).expect("report")
                    }
                });
            }
            let day: Vec<Value> = engine
                .rows(PeriodKind::Day)
                .iter()
                .map(|r| serde_json::to_value(r).expect("row"))
                .collect();
            Ok(json!({"batches": batches, "day": day}))
        }
        other => panic!("no runner for function {other:?}"),
    }
}

fn same(expected: &Value, actual: &Value, round: bool) -> bool {
    match (expected, actual) {
        (Value::String(e), Value::String(a)) => {
            match (decimal_from_str("e", e), decimal_from_str("a", a)) {
                (Ok(e), Ok(a)) => {
                    if round {
                        round2(a) == e
                    } else {
                        a == e
                    }
                }
                _ => e == a,
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(x, y)| same(x, y, round))
        }
        (Value::Object(e), Value::Object(a)) => {
            // Keys the expectation names must match; result shapes may carry more.
            e.iter()
                .all(|(k, x)| a.get(k).is_some_and(|y| same(x, y, round)))
        }
        (Value::String(e), Value::Number(a)) => match (decimal_from_str("e", e), a.as_f64()) {
            (Ok(e), Some(a)) => {
                decimal_from_f64("a", a).is_ok_and(|a| if round { round2(a) == e } else { a == e })
            }
            _ => false,
        },
        _ => expected == actual,
    }
}

/// Codes of rejected records named in an expected result.
fn collect_codes(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(c)) = m.get("code") {
                out.insert(c.clone());
            }
            m.values().for_each(|x| collect_codes(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_codes(x, out)),
        _ => {}
    }
}

#[test]
fn golden_vectors() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(vectors_dir())
        .expect("tests/vectors exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut failures = Vec::new();
    let mut codes_seen = BTreeSet::new();
    let mut ran = 0;
    for file in &files {
        let doc: Value =
            serde_json::from_str(&std::fs::read_to_string(file).expect("read")).expect("json");
        let function = doc["function"].as_str().expect("function");
        if !SUPPORTED.contains(&function) {
            continue; // a file for a later capability, run by its own test
        }
        for case in doc["cases"].as_array().expect("cases") {
            ran += 1;
            let id = case["id"].as_str().expect("id");
            let got = run(function, &case["input"]);
            let round = case.get("round").is_some();
            match (case.get("error_code"), got) {
                (Some(code), Err(e)) => {
                    codes_seen.insert(e.code().to_owned());
                    if code.as_str() != Some(e.code()) {
                        failures.push(format!(
                            "{function}/{id}: expected error {code}, got {} ({e})",
                            e.code()
                        ));
                    }
                    if let Some(pos) = case.get("error_position").and_then(Value::as_u64) {
                        let actual = match &e {
                            Error::FormulaSyntax { position, .. }
                            | Error::FormulaType { position, .. } => Some(*position),
                            Error::UnknownMetric { position, .. } => *position,
                            _ => None,
                        };
                        if actual != Some(pos as usize) {
                            failures.push(format!(
                                "{function}/{id}: expected position {pos}, got {actual:?}"
                            ));
                        }
                    }
                }
                (Some(code), Ok(v)) => {
                    failures.push(format!("{function}/{id}: expected error {code}, got {v}"))
                }
                (None, Err(e)) => failures.push(format!(
                    "{function}/{id}: unexpected error {} ({e})",
                    e.code()
                )),
                (None, Ok(v)) => {
                    collect_codes(&case["expected"], &mut codes_seen);
                    if !same(&case["expected"], &v, round) {
                        failures.push(format!(
                            "{function}/{id}: expected {}, got {v}",
                            case["expected"]
                        ));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing vectors:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(ran > 100, "only {ran} vectors ran");
    // Every code this part of the crate can produce is exercised by some vector.
    for code in ERROR_CODES.iter().filter(|c| !UNREACHABLE_HERE.contains(c)) {
        assert!(
            codes_seen.contains(*code),
            "no vector produces error code {code}"
        );
    }
}

/// `update_kpis` for one day over supplied records, into a fresh in-memory store.
fn kpi_update(input: &Value) -> Result<Value> {
    use teamkpi::metrics::{AgentSession, Call, MetricsOptions, Ticket};
    use teamkpi::update::{
        update_kpis, SnapshotMetrics, UpdateRange, UpdateRequest, WithCallFigures,
    };
    let store = InMemoryStore::new();
    let defs: Vec<KpiDefinition> = from_json(input["definitions"].clone())?;
    for d in &defs {
        store.upsert_definition(d)?;
    }
    let assignments: Vec<NewKpiAssignment> = from_json(input["assignments"].clone())?;
    let mut ids = Vec::new();
    for a in assignments {
        ids.push(store.insert_assignment(a)?.id);
    }
    let tz = parse_timezone(s(input, "timezone"))?;
    let now = instant(s(input, "now"));
    let tickets: Vec<Ticket> = from_json(input["tickets"].clone())?;
    let calls: Vec<Call> = from_json(input["calls"].clone())?;
    let sessions: Vec<AgentSession> = from_json(input["sessions"].clone())?;
    let mut options = MetricsOptions::daily(tz);
    if let Some(sla) = input.get("sla") {
        options.sla = Some(from_json(sla.clone())?);
    }
    let snapshots = SnapshotMetrics::new(&tickets, &options)?;
    let source = WithCallFigures::new(&snapshots, &calls, &sessions, None, tz, now)?;
    let request = UpdateRequest {
        tenant: None,
        range: UpdateRange::Date(parse_date("date", s(input, "date"))?),
        agent_id: None,
        now,
        timezone: tz,
        policy: AchievementPolicy::default(),
    };
    let report = update_kpis(&store, &source, None, &MetricCatalog::builtin(), &request)?;
    // As JSON numbers, integers where they are whole (what the bindings' numbers give).
    let number = |d: Decimal| -> Value {
        serde_json::from_str(&d.normalize().to_string()).expect("a decimal")
    };
    let mut stored = Vec::new();
    for id in ids {
        for m in store.measurements(None, id)? {
            stored.push(json!({"agent_id": m.agent_id, "definition": m.definition,
                "period_start": m.period_start.to_string(), "period_end": m.period_end.to_string(),
                "complete": m.complete, "actual": number(m.actual),
                "achievement": number(m.achievement)}));
        }
    }
    stored.sort_by_key(|v| (v["agent_id"].to_string(), v["definition"].to_string()));
    Ok(json!({"stored": stored, "skipped": report.skipped, "failures": report.failures}))
}

const SUPPORTED: &[&str] = &[
    "kpi_update",
    "achievement",
    "overall_score",
    "performance_score",
    "period",
    "period_helper",
    "formula",
    "unit_convert",
    "kpi_source",
    "definition_validate",
    "assignments",
    "validate_weights",
    "band",
    "calendar",
    "sla_evaluate",
    "sla_scan",
    "sla_analytics",
    "ticket_metrics",
    "dashboard",
    "analytics",
    "assignment",
    "engine",
    "engine_batch",
];

/// Codes no pure vector can produce: a storage backend failing; `unknown_assignment`, which the
/// store tests cover; `no_eligible_agent`, which bindings raise from a pick's reason (the
/// vectors check the reasons themselves); `naive_datetime`, which only bindings can meet (JSON
/// instants without an offset fail to decode); `incompatible_state`, which needs stored state
/// (the live-store conformance tests of every store cover it, `teamkpi::conformance::live`).
const UNREACHABLE_HERE: &[&str] = &[
    // Codes of the language boundaries (a caught panic, a host value of the wrong type).
    "internal",
    "invalid_type",
    "storage",
    "unknown_assignment",
    "no_eligible_agent",
    "naive_datetime",
    "incompatible_state",
];

/// The columnar kernel's answer for tickets that carry only the columnar fields (id, agent, priority,
/// created, first response, resolved); `None` for richer tickets.
fn columnar_twin(
    tickets: &[teamkpi::metrics::Ticket],
    options: &teamkpi::metrics::MetricsOptions,
) -> Option<teamkpi::Result<teamkpi::metrics::TicketMetricsReport>> {
    use teamkpi::metrics::*;
    let w1_only = tickets.iter().all(|t| {
        *t == Ticket {
            id: t.id,
            agent_id: t.agent_id,
            priority: t.priority.clone(),
            created_at: t.created_at,
            first_response_at: t.first_response_at,
            resolved_at: t.resolved_at,
            ..Ticket::default()
        }
    });
    if !w1_only {
        return None;
    }
    let seconds =
        |t: Option<chrono::DateTime<chrono::Utc>>| t.map_or(NULL_INSTANT, |t| t.timestamp());
    // A missing priority is the empty label, which no SLA policy lists (as in the bindings).
    let mut labels: Vec<String> = Vec::new();
    let mut priority = Vec::new();
    for t in tickets {
        let label = t.priority.clone().unwrap_or_default();
        let code = match labels.iter().position(|l| *l == label) {
            Some(c) => c,
            None => {
                labels.push(label);
                labels.len() - 1
            }
        };
        priority.push(code as u32);
    }
    let ids: Vec<u64> = tickets.iter().map(|t| t.id).collect();
    let agents: Vec<u64> = tickets.iter().map(|t| t.agent_id.unwrap_or(0)).collect();
    let valid: Vec<bool> = tickets.iter().map(|t| t.agent_id.is_some()).collect();
    let created: Vec<i64> = tickets.iter().map(|t| t.created_at.timestamp()).collect();
    let first: Vec<i64> = tickets
        .iter()
        .map(|t| seconds(t.first_response_at))
        .collect();
    let resolved: Vec<i64> = tickets.iter().map(|t| seconds(t.resolved_at)).collect();
    let columns = TicketColumns::new(&agents, &created, &first, &resolved)
        .with_priority(&priority, &labels)
        .with_ids(&ids)
        .with_agent_valid(&valid);
    Some(ticket_metrics_columns(&columns, options))
}
