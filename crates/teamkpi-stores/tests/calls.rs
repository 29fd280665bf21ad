//! KPIs on the call-center metrics: `update_kpis` reads the store's calls and sessions (or the
//! live state's) beside its tickets, for metric and formula KPIs.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use teamkpi::engine::EngineOptions;
use teamkpi::metrics::{AgentSession, Call, CallOutcome, SessionKind};
use teamkpi::request::UpdateOptions;
use teamkpi::{AgentState, KpiDefinition, MeasurementStore, NewKpiAssignment};
use teamkpi_sqlite::SqliteStore;
use teamkpi_stores::UpdateSource;

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 11, 10, h, m, 0).unwrap()
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 11, 10).unwrap()
}

fn team() -> SqliteStore {
    let store = SqliteStore::open_in_memory().unwrap();
    store
        .put_agents(&[(AgentState::online(7), Some("Ola".into()))])
        .unwrap();
    let defs: Vec<KpiDefinition> = teamkpi::from_json(serde_json::json!([
        {"key": "connected", "name": "Connected calls", "unit": "count",
         "target_type": "higher_better", "aggregation_period": "daily",
         "source": {"type": "metric", "metric": "calls_connected"}},
        {"key": "call_points", "name": "Call points", "unit": "count",
         "target_type": "higher_better", "aggregation_period": "daily",
         "source": {"type": "formula", "expression": "calls_connected * 2 + leads"}},
        {"key": "work", "name": "Work time", "unit": "hours",
         "target_type": "higher_better", "aggregation_period": "weekly",
         "source": {"type": "metric", "metric": "total_work_time"}}
    ]))
    .unwrap();
    for d in &defs {
        teamkpi::DefinitionStore::upsert_definition(&store, d).unwrap();
    }
    for key in ["connected", "call_points", "work"] {
        let a = NewKpiAssignment::new(7, key, 10.into(), 1.into(), day());
        teamkpi::AssignmentStore::insert_assignment(&store, a).unwrap();
    }
    let call = |id, m, secs, outcome| Call {
        tenant: None,
        id,
        agent_id: 7,
        started_at: at(9, m),
        duration_seconds: secs,
        outcome,
        contact_id: None,
        campaign_id: None,
    };
    store
        .put_calls(&[
            call(1, 0, 300, CallOutcome::Lead),
            call(2, 10, 120, CallOutcome::Completed),
            call(3, 20, 0, CallOutcome::NoAnswer),
        ])
        .unwrap();
    store
        .put_sessions(&[AgentSession {
            tenant: None,
            agent_id: 7,
            kind: SessionKind::Working,
            start: at(8, 0),
            end: Some(at(12, 0)),
        }])
        .unwrap();
    store
}

/// The stored actual of each of agent 7's KPIs, by definition.
fn actuals(store: &SqliteStore) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for id in 1..=3 {
        for m in store.measurements(None, id).unwrap() {
            out.push((m.definition.clone(), m.actual.to_string()));
        }
    }
    out.sort();
    out
}

/// Updates the day's KPIs from `source`; returns (stored, skipped), with no failure.
fn update(store: &SqliteStore, source: UpdateSource<'_>) -> (usize, usize) {
    let options = UpdateOptions {
        date: Some(day()),
        ..UpdateOptions::default()
    };
    let report = teamkpi_stores::update(store, at(18, 0), &options, source, None).unwrap();
    assert_eq!(report.failures, 0, "{:?}", report.outcomes);
    (report.successes, report.skipped)
}

#[test]
fn call_center_metrics_are_kpis_from_the_store_and_from_live_state() {
    let store = team();
    assert_eq!(update(&store, UpdateSource::Store), (3, 0));
    let expected = vec![
        ("call_points".to_owned(), "5.00".to_owned()), // 2 connected × 2 + 1 lead
        ("connected".to_owned(), "2.00".to_owned()),
        ("work".to_owned(), "4.00".to_owned()), // 08:00–12:00 working, in hours
    ];
    assert_eq!(actuals(&store), expected);

    // The same figures from live state: backfill the activity, then update over live rows.
    let live_store = team();
    let options_live = EngineOptions::new(chrono_tz::UTC);
    let (from, to) = (at(0, 0), at(18, 0));
    let mut quiet = |_: &teamkpi::live::BackfillProgress| {};
    teamkpi::live::backfill(
        &live_store,
        &live_store,
        &options_live,
        from,
        to,
        1000,
        &mut quiet,
    )
    .unwrap();
    assert_eq!(update(&live_store, UpdateSource::Live), (3, 0));
    assert_eq!(actuals(&live_store), expected);

    // The same from records the caller supplies, and from an in-memory engine that was fed
    // the calls and sessions.
    use teamkpi::ActivitySource;
    let (calls, sessions) = (
        store.calls(None, from, to).unwrap(),
        store.sessions(None, from, to).unwrap(),
    );
    let supplied = team();
    let records = UpdateSource::Records {
        tickets: &[],
        calls: &calls,
        sessions: &sessions,
    };
    assert_eq!(update(&supplied, records), (3, 0));
    assert_eq!(actuals(&supplied), expected);
    let mut engine = teamkpi::engine::Engine::new(options_live.clone());
    let mut events: Vec<_> = calls.iter().map(teamkpi::live::call_event).collect();
    events.extend(sessions.iter().flat_map(teamkpi::live::session_events));
    engine.apply_batch(&events).unwrap();
    let fed = team();
    assert_eq!(update(&fed, UpdateSource::Engine(&engine)), (3, 0));
    assert_eq!(actuals(&fed), expected);
    // Records with an engine: which one is meant is not clear.
    let both = UpdateSource::chosen(Some(&engine), None, Some(&calls), None);
    assert_eq!(both.err().map(|e| e.code()), Some("invalid_argument"));
}

#[test]
fn an_agent_with_calls_and_no_tickets_is_measured_and_one_without_either_is_skipped() {
    let store = team();
    store.put_agents(&[(AgentState::online(8), None)]).unwrap();
    let a = NewKpiAssignment::new(8, "connected", 10.into(), 1.into(), day());
    teamkpi::AssignmentStore::insert_assignment(&store, a).unwrap();
    assert_eq!(update(&store, UpdateSource::Store), (3, 1));
}
