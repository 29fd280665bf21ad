//! `update_kpis` on the in-memory store: whole natural periods, complete flags, skips, manual
//! and external values, and a failing KPI among good ones.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use std::str::FromStr;
use teamkpi::engine::{Engine, EngineOptions, Event, EventKind};
use teamkpi::metrics::{MetricsOptions, Ticket};
use teamkpi::update::*;
use teamkpi::*;

fn d(s: &str) -> NaiveDate {
    parse_date("d", s).unwrap()
}

fn def(json: serde_json::Value) -> KpiDefinition {
    from_json(json).unwrap()
}

fn setup() -> InMemoryStore {
    let store = InMemoryStore::new();
    for json in [
        serde_json::json!({"key": "resolved", "name": "Cases Resolved", "unit": "count", "direction": "higher_better", "period": "daily", "source": {"type": "query", "query_key": "cases_resolved_count"}}),
        serde_json::json!({"key": "avg_res", "name": "Average Resolution Time", "unit": "hours", "target_type": "lower_better", "aggregation_period": "weekly", "source": {"type": "query", "query_key": "avg_resolution_time"}}),
        serde_json::json!({"key": "rate", "name": "Resolution rate", "unit": "%", "direction": "higher_better", "period": "daily", "source": {"type": "formula", "expression": "tickets_resolved / tickets_assigned * 100"}}),
        serde_json::json!({"key": "qa", "name": "QA score", "unit": "score", "direction": "exact", "period": "monthly", "source": {"type": "manual"}}),
        serde_json::json!({"key": "csat", "name": "CSAT", "unit": "percent", "direction": "higher_better", "period": "weekly", "source": {"type": "api", "provider_key": "intercom.csat"}}),
        // Stored without validation, as a hand-edited database row would be.
        serde_json::json!({"key": "broken", "name": "Broken", "unit": "count", "direction": "higher_better", "period": "daily", "source": {"type": "formula", "expression": "tickets_resolved +"}}),
        serde_json::json!({"key": "unknown", "name": "Unknown", "unit": "count", "direction": "higher_better", "period": "daily", "source": {"type": "metric", "metric": "happiness"}}),
    ] {
        store.upsert_definition(&def(json)).unwrap();
    }
    for agent in [1u64, 2] {
        for (key, target) in [
            ("resolved", "2"),
            ("avg_res", "3"),
            ("rate", "80"),
            ("qa", "90"),
            ("csat", "95"),
            ("broken", "1"),
            ("unknown", "1"),
        ] {
            store
                .insert_assignment(from_json(serde_json::json!({"agent_id": agent, "definition": key, "target": target, "weight": 20, "valid_from": "2025-10-01"})).unwrap())
                .unwrap();
        }
    }
    store
}

fn tickets() -> Vec<Ticket> {
    let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    // Agent 1: two resolved on the 5th (2 h and 4 h), one open since the 6th.
    [
        (1, "2025-11-05T08:00:00Z", Some("2025-11-05T10:00:00Z")),
        (2, "2025-11-05T09:00:00Z", Some("2025-11-05T13:00:00Z")),
        (3, "2025-11-06T09:00:00Z", None),
    ]
    .into_iter()
    .map(|(id, created, resolved)| Ticket {
        id,
        agent_id: Some(1),
        created_at: at(created),
        resolved_at: resolved.map(at),
        ..Ticket::default()
    })
    .collect()
}

use chrono::DateTime;

#[test]
fn days_range_recomputes_whole_periods_and_reports_each_kpi() {
    let store = setup();
    let source = SnapshotMetrics::new(&tickets(), &MetricsOptions::daily(chrono_tz::UTC)).unwrap();
    // QA recorded for November for agent 1 (assignment 4).
    store
        .record_manual_value(
            None,
            &ManualValue {
                assignment_id: 4,
                period_start: d("2025-11-01"),
                period_end: d("2025-11-30"),
                value: Decimal::from(81),
                recorded_by: Some(99),
                recorded_at: Utc.with_ymd_and_hms(2025, 11, 6, 9, 0, 0).unwrap(),
            },
        )
        .unwrap();
    let mut csat = StaticValues::new();
    csat.insert(5, d("2025-11-03"), Decimal::from(76));
    let now = Utc.with_ymd_and_hms(2025, 11, 6, 18, 0, 0).unwrap(); // a Thursday
    let req = UpdateRequest {
        tenant: None,
        range: UpdateRange::Days(2),
        agent_id: None,
        now,
        timezone: chrono_tz::UTC,
        policy: AchievementPolicy::default(),
    };
    let report = update_kpis(
        &store,
        &source,
        Some(&csat),
        &MetricCatalog::builtin(),
        &req,
    )
    .unwrap();

    // Days 11-05 and 11-06: daily KPIs per day, the week and the month once each.
    let for_agent = |agent: u64| report.outcomes.iter().filter(move |o| o.agent_id == agent);
    let stored: Vec<(String, String)> = for_agent(1)
        .filter(|o| o.outcome == KpiOutcomeKind::Stored)
        .map(|o| (o.definition.clone(), o.period_start.to_string()))
        .collect();
    assert_eq!(
        stored,
        vec![
            ("resolved".into(), "2025-11-05".into()),
            ("resolved".into(), "2025-11-06".into()),
            ("avg_res".into(), "2025-11-03".into()),
            ("rate".into(), "2025-11-05".into()),
            ("rate".into(), "2025-11-06".into()),
            ("qa".into(), "2025-11-01".into()),
            ("csat".into(), "2025-11-03".into()),
        ]
    );
    // The broken formula and the unknown metric fail for both days and both agents; the rest
    // still ran.
    let failed: Vec<(u64, String, Option<String>)> = report
        .outcomes
        .iter()
        .filter(|o| o.outcome == KpiOutcomeKind::Failed)
        .map(|o| (o.agent_id, o.definition.clone(), o.reason.clone()))
        .collect();
    assert_eq!(failed.len(), 8);
    assert!(failed
        .iter()
        .any(|f| f.2.as_deref() == Some("formula_syntax")));
    assert!(failed
        .iter()
        .any(|f| f.2.as_deref() == Some("unknown_metric")));
    // Agent 2 has no activity: metric and formula KPIs are skipped, not stored as 0.
    assert!(for_agent(2).all(|o| o.outcome != KpiOutcomeKind::Stored));
    assert_eq!(report.successes, 7);
    assert_eq!(report.failures, 8);
    assert_eq!(
        report.successes + report.skipped + report.failures,
        report.outcomes.len()
    );

    // Values: 2 resolved on 11-05 against a target of 2 → 100 %.
    let m = store.latest_measurement(None, 1).unwrap().unwrap();
    assert_eq!(m.period_start, d("2025-11-06"));
    assert_eq!(m.actual, Decimal::ZERO);
    assert!(!m.complete);
    let all = store.measurements(None, 1).unwrap();
    assert_eq!(all[0].actual, Decimal::from(2));
    assert_eq!(all[0].achievement, Decimal::from(100));
    assert!(all[0].complete);
    // Weekly average resolution: (2 h + 4 h) / 2 = 3 h against 3 h → 100 %, week not over.
    let w = store.latest_measurement(None, 2).unwrap().unwrap();
    assert_eq!(
        (w.period_start, w.period_end),
        (d("2025-11-03"), d("2025-11-09"))
    );
    assert_eq!(w.actual, Decimal::from(3));
    assert_eq!(w.achievement, Decimal::from(100));
    assert!(!w.complete);
    assert_eq!(w.metadata["metric"], "avg_resolution_time");
    // Formula: 11-06 has 1 assigned, 0 resolved → 0 %.
    let r = store.latest_measurement(None, 3).unwrap().unwrap();
    assert_eq!(r.actual, Decimal::ZERO);
    // Manual: 81 against 90, exact → 90 %.
    let q = store.latest_measurement(None, 4).unwrap().unwrap();
    assert_eq!(q.achievement, Decimal::from(90));
    assert_eq!(
        (q.period_start, q.period_end),
        (d("2025-11-01"), d("2025-11-30"))
    );
    // External: 76 against 95 → 80 %.
    let c = store.latest_measurement(None, 5).unwrap().unwrap();
    assert_eq!(c.achievement, Decimal::from(80));

    // The support desk's AgentKPI for 11-05: the stored measurements covering the day, weights 20 each.
    let kpi = agent_kpi(
        &store,
        &source,
        None,
        1,
        d("2025-11-05"),
        &AchievementPolicy::default(),
    )
    .unwrap();
    assert_eq!(kpi.total_tickets, 2);
    // resolved 100, avg_res 100, rate 125 (100 % against 80 %), qa 90, csat 80; the failing
    // KPIs have no measurement and are left out → 99.
    assert_eq!(kpi.overall_kpi_score, Some(Decimal::from(99)));
}

#[test]
fn recomputing_replaces_and_agent_option_limits() {
    let store = setup();
    let source = SnapshotMetrics::new(&tickets(), &MetricsOptions::daily(chrono_tz::UTC)).unwrap();
    let now = Utc.with_ymd_and_hms(2025, 11, 5, 23, 0, 0).unwrap();
    let req = UpdateRequest {
        tenant: None,
        range: UpdateRange::Date(d("2025-11-05")),
        agent_id: Some(1),
        now,
        timezone: chrono_tz::UTC,
        policy: AchievementPolicy::default(),
    };
    let first = update_kpis(&store, &source, None, &MetricCatalog::builtin(), &req).unwrap();
    assert!(first.outcomes.iter().all(|o| o.agent_id == 1));
    let again = update_kpis(&store, &source, None, &MetricCatalog::builtin(), &req).unwrap();
    assert_eq!(first, again);
    assert_eq!(store.measurements(None, 1).unwrap().len(), 1);
    // `Today` at this instant is the same day.
    let today = UpdateRequest {
        range: UpdateRange::Today,
        ..req.clone()
    };
    assert_eq!(today.dates().unwrap(), DateRange::day(d("2025-11-05")));
    let bad = UpdateRequest {
        range: UpdateRange::Days(0),
        ..req
    };
    assert_eq!(
        update_kpis(&store, &source, None, &MetricCatalog::builtin(), &bad)
            .unwrap_err()
            .code(),
        "invalid_argument"
    );
}

#[test]
fn the_engine_is_a_metric_source() {
    let store = setup();
    let mut engine = Engine::new(EngineOptions::new(chrono_tz::UTC));
    let at = Utc.with_ymd_and_hms(2025, 11, 5, 8, 0, 0).unwrap();
    let ev = |id: &str, m: i64, kind: EventKind| Event {
        id: id.into(),
        tenant: None,
        at: at + Duration::minutes(m),
        kind,
    };
    engine
        .apply(&ev("c", 0, EventKind::created(1, Some(1))))
        .unwrap();
    engine
        .apply(&ev("r", 90, EventKind::Resolved { ticket_id: 1 }))
        .unwrap();
    let req = UpdateRequest {
        tenant: None,
        range: UpdateRange::Date(d("2025-11-05")),
        agent_id: Some(1),
        now: at + Duration::hours(12),
        timezone: chrono_tz::UTC,
        policy: AchievementPolicy::default(),
    };
    let report = update_kpis(&store, &engine, None, &MetricCatalog::builtin(), &req).unwrap();
    assert!(report.successes >= 2);
    let m = store.latest_measurement(None, 1).unwrap().unwrap();
    assert_eq!(m.actual, Decimal::ONE);
    assert_eq!(m.achievement, Decimal::from_str("50").unwrap());
}

fn range_request(assignment_id: u64, start: &str, end: &str) -> RangeRequest {
    RangeRequest {
        tenant: None,
        assignment_id,
        range: DateRange::new(d(start), d(end)).unwrap(),
        now: Utc.with_ymd_and_hms(2025, 11, 10, 2, 0, 0).unwrap(),
        timezone: chrono_tz::UTC,
        policy: AchievementPolicy::default(),
    }
}

#[test]
fn a_range_is_measured_exactly_and_stored_ad_hoc() {
    let store = setup();
    let catalog = MetricCatalog::builtin();
    let options = MetricsOptions::daily(chrono_tz::UTC);
    let measure = |req: &RangeRequest| {
        let source = SnapshotMetrics::for_range(&tickets(), &options, req.range).unwrap();
        measure_range(&store, &source, None, &catalog, req)
    };
    // The weekly average resolution over one day: (2 h + 4 h) / 2 = 3 h against 3 h.
    let done = measure(&range_request(2, "2025-11-05", "2025-11-05")).unwrap();
    let m = done.measurement.unwrap();
    assert_eq!(
        (m.period_start, m.period_end),
        (d("2025-11-05"), d("2025-11-05"))
    );
    assert_eq!(
        (m.actual.to_string(), m.achievement.to_string()),
        ("3.00".into(), "100.00".into())
    );
    assert!(m.ad_hoc && m.complete);
    assert_eq!(done.reason, None);
    // Not the latest, and not in AgentKPI, until the natural week is measured.
    assert!(store.latest_measurement(None, 2).unwrap().is_none());
    let natural = SnapshotMetrics::new(&tickets(), &options).unwrap();
    let policy = AchievementPolicy::default();
    let day = d("2025-11-05");
    let row = agent_kpi(&store, &natural, None, 1, day, &policy).unwrap();
    assert_eq!(row.overall_kpi_score, None);
    let req = UpdateRequest {
        tenant: None,
        range: UpdateRange::Date(day),
        agent_id: Some(1),
        now: Utc.with_ymd_and_hms(2025, 11, 10, 2, 0, 0).unwrap(),
        timezone: chrono_tz::UTC,
        policy: policy.clone(),
    };
    update_kpis(&store, &natural, None, &catalog, &req).unwrap();
    let latest = store.latest_measurement(None, 2).unwrap().unwrap();
    assert_eq!(
        (latest.period_start, latest.ad_hoc),
        (d("2025-11-03"), false)
    );
    assert!(agent_kpi(&store, &natural, None, 1, day, &policy)
        .unwrap()
        .overall_kpi_score
        .is_some());

    // A range without data stores nothing; the same range again replaces its row.
    let quiet = measure(&range_request(2, "2025-11-07", "2025-11-08")).unwrap();
    assert_eq!(
        (quiet.measurement_id, quiet.reason.as_deref()),
        (None, Some("no activity in the period"))
    );
    let again = measure(&range_request(2, "2025-11-05", "2025-11-05")).unwrap();
    assert_eq!(again.measurement_id, done.measurement_id);

    // Manual KPIs read the value recorded for exactly the range.
    let recorded_at = Utc.with_ymd_and_hms(2025, 11, 9, 0, 0, 0).unwrap();
    let value = ManualValue {
        assignment_id: 4,
        period_start: d("2025-11-03"),
        period_end: d("2025-11-05"),
        value: Decimal::from(81),
        recorded_by: Some(9),
        recorded_at,
    };
    store.record_manual_value(None, &value).unwrap();
    let qa = measure(&range_request(4, "2025-11-03", "2025-11-05")).unwrap();
    assert_eq!(qa.measurement.unwrap().actual.to_string(), "81.00");
    let other = measure(&range_request(4, "2025-11-03", "2025-11-04")).unwrap();
    assert_eq!(other.reason.as_deref(), Some("no manual value recorded"));

    // An assignment not valid in the range, an unknown one, a KPI that cannot compute.
    let before = measure(&range_request(2, "2025-09-01", "2025-09-02")).unwrap();
    assert_eq!(
        before.reason.as_deref(),
        Some("the assignment is not active in the range")
    );
    let unknown = measure(&range_request(99, "2025-11-05", "2025-11-05")).unwrap_err();
    assert_eq!(unknown.code(), "unknown_assignment");
    let broken = measure(&range_request(6, "2025-11-05", "2025-11-05")).unwrap_err();
    assert_eq!(broken.code(), "formula_syntax");
    // Figures computed for natural periods cannot answer a range.
    let wrong = measure_range(
        &store,
        &natural,
        None,
        &catalog,
        &range_request(2, "2025-11-05", "2025-11-05"),
    );
    assert_eq!(wrong.unwrap_err().code(), "invalid_argument");
}

#[test]
fn the_engine_measures_a_range_as_the_snapshots_do() {
    let store = setup();
    let mut engine = Engine::new(EngineOptions::new(chrono_tz::UTC));
    for t in tickets() {
        for e in teamkpi::live::ticket_events(&t) {
            engine.apply(&e).unwrap();
        }
    }
    let catalog = MetricCatalog::builtin();
    let req = range_request(3, "2025-11-05", "2025-11-06");
    let from_engine = measure_range(&store, &engine, None, &catalog, &req).unwrap();
    let options = MetricsOptions::daily(chrono_tz::UTC);
    let source = SnapshotMetrics::for_range(&tickets(), &options, req.range).unwrap();
    let from_tickets = measure_range(&store, &source, None, &catalog, &req).unwrap();
    // Resolution rate over the two days: 2 of 3 assigned.
    let m = from_engine.measurement.clone().unwrap();
    assert_eq!(m.actual.to_string(), "66.67");
    assert_eq!(from_engine, from_tickets);
    // Evicted tickets cannot be counted again: a range before the eviction is refused.
    engine.evict_before(Utc.with_ymd_and_hms(2025, 11, 6, 0, 0, 0).unwrap());
    let err = measure_range(&store, &engine, None, &catalog, &req).unwrap_err();
    assert_eq!(err.code(), "invalid_argument");
}
