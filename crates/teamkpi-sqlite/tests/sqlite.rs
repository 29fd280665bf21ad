//! The SQLite store: the shared store contract, migrations, persistence, activity windows and
//! bad database files.

use chrono::{Duration, TimeZone, Utc};
use teamkpi::metrics::{Call, Ticket};
use teamkpi::*;
use teamkpi_sqlite::SqliteStore;

#[test]
fn sqlite_store_conforms() {
    teamkpi::conformance::run_all(|| SqliteStore::open_in_memory().unwrap());
}

#[test]
fn file_store_conforms_and_persists() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kpi.sqlite");
    let n = std::sync::atomic::AtomicUsize::new(0);
    teamkpi::conformance::run_all(|| {
        let i = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        SqliteStore::open(dir.path().join(format!("c{i}.sqlite"))).unwrap()
    });
    {
        let store = SqliteStore::open(&path).unwrap();
        store
            .upsert_definition(&from_json(serde_json::json!({"key": "k", "name": "K", "unit": "count", "direction": "higher_better", "period": "daily", "source": {"type": "manual"}})).unwrap())
            .unwrap();
    }
    let again = SqliteStore::open(&path).unwrap();
    assert_eq!(again.definitions(None).unwrap().len(), 1);
    // Migrations run twice change nothing.
    assert_eq!(again.migrate().unwrap(), again.schema_version().unwrap());
    assert_eq!(again.migrate().unwrap(), 8);
    assert_eq!(again.definitions(None).unwrap().len(), 1);
}

#[test]
fn a_file_that_is_not_a_database_is_a_storage_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corrupt.sqlite");
    std::fs::write(
        &path,
        b"this is not a database, just some text that is long enough",
    )
    .unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert_eq!(err.code(), "storage");
}

#[test]
fn activity_windows_and_atomic_batches() {
    let store = SqliteStore::open_in_memory().unwrap();
    let t0 = Utc.with_ymd_and_hms(2025, 11, 3, 9, 0, 0).unwrap();
    let tk = |id: u64, created: i64, resolved: Option<i64>| Ticket {
        id,
        agent_id: Some(1),
        created_at: t0 + Duration::hours(created),
        resolved_at: resolved.map(|h| t0 + Duration::hours(h)),
        ..Ticket::default()
    };
    store
        .put_tickets(&[
            tk(1, 0, Some(2)),
            tk(2, -48, Some(30)),
            tk(3, -48, Some(-40)),
            tk(4, 48, None),
        ])
        .unwrap();
    // Window [t0, t0 + 1 day): ticket 1 (created), 2 (resolved later, still active in it).
    let ids: Vec<u64> = store
        .tickets(None, t0, t0 + Duration::days(1))
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(ids, vec![1, 2]);
    assert_eq!(
        store
            .open_tickets(None)
            .unwrap()
            .iter()
            .map(|t| t.id)
            .collect::<Vec<_>>(),
        vec![4]
    );
    // A bad row fails the whole batch.
    let bad = Ticket {
        first_response_at: Some(t0 - Duration::hours(100)),
        ..tk(9, 0, None)
    };
    assert_eq!(
        store
            .put_tickets(&[tk(8, 0, None), bad])
            .unwrap_err()
            .code(),
        "invalid_range"
    );
    assert!(store.ticket(None, 8).unwrap().is_none());
    let call = Call {
        tenant: None,
        id: 1,
        agent_id: 1,
        started_at: t0,
        duration_seconds: -1,
        outcome: "completed".parse().unwrap(),
        contact_id: None,
        campaign_id: None,
    };
    assert_eq!(
        store.put_calls(&[call]).unwrap_err().code(),
        "negative_duration"
    );
}

#[test]
fn settings_round_trip() {
    let store = SqliteStore::open_in_memory().unwrap();
    let none = store.settings(Some("acme")).unwrap();
    assert_eq!(
        (
            none.timezone.as_str(),
            none.assignment.auto_assign_enabled,
            none.sla.is_none(),
            none.calendar.is_none()
        ),
        ("UTC", true, true, true)
    );
    let policy: SlaPolicy = from_json(
        serde_json::json!({"name": "std", "targets": {"high": {"first_response": 3600}}}),
    )
    .unwrap();
    let calendar = teamkpi::BusinessCalendar::builder("Europe/Warsaw")
        .unwrap()
        .weekdays("09:00", "17:00")
        .unwrap()
        .build()
        .unwrap();
    let settings = teamkpi::settings::CompanySettings {
        timezone: "Europe/Warsaw".into(),
        assignment: AssignmentSettings {
            auto_assign_enabled: false,
            re_assign_enabled: true,
            re_assign_hours: 12,
        },
        sla: Some(policy),
        calendar: Some(calendar.clone()),
    };
    store.put_settings(Some("acme"), &settings).unwrap();
    let got = store.settings(Some("acme")).unwrap();
    assert_eq!(got.timezone, "Europe/Warsaw");
    assert_eq!(got.assignment, settings.assignment);
    assert_eq!(got.sla.unwrap().name(), "std");
    assert_eq!(got.calendar, Some(calendar));
    let bad = teamkpi::settings::CompanySettings {
        timezone: "Nowhere/City".into(),
        ..Default::default()
    };
    assert_eq!(
        store.put_settings(None, &bad).unwrap_err().code(),
        "unknown_timezone"
    );
}

#[test]
fn definition_ids_are_the_row_ids_the_kpi_tables_front_ends_send() {
    let store = SqliteStore::open_in_memory().unwrap();
    for key in ["b_second", "a_first"] {
        let def: KpiDefinition = teamkpi::from_json(serde_json::json!({"key": key, "name": key,
            "unit": "count", "direction": "higher_better", "period": "daily",
            "source": {"type": "manual"}}))
        .unwrap();
        store.upsert_definition(&def).unwrap();
    }
    assert_eq!(
        store.definition_ids(None).unwrap(),
        vec![(1, "b_second".to_owned()), (2, "a_first".to_owned())]
    );
    assert!(store.definition_ids(Some("other")).unwrap().is_empty());
}

#[test]
fn live_metrics_equal_batch() {
    teamkpi::conformance::live::live_equals_batch(&SqliteStore::open_in_memory().unwrap());
}

#[test]
fn live_analytics_equal_snapshots() {
    teamkpi::conformance::live::live_analytics_equal_snapshots(
        &SqliteStore::open_in_memory().unwrap(),
    );
}

#[test]
fn live_ranges_equal_snapshots() {
    teamkpi::conformance::live::live_ranges_equal_snapshots(
        &SqliteStore::open_in_memory().unwrap(),
    );
}

#[test]
fn live_batch_rules() {
    teamkpi::conformance::live::live_batch_rules(&SqliteStore::open_in_memory().unwrap());
}

/// A path in a fresh directory (removed when the directory is dropped).
fn scratch_file(name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    (dir, path)
}

/// The worker process of the live concurrency and crash tests (runs only when spawned by them).
#[test]
#[ignore]
fn live_worker_process() {
    teamkpi::conformance::live::worker_process(|path| SqliteStore::open(path).unwrap());
}

#[test]
fn live_eight_processes_on_one_file_equal_batch() {
    let (_dir, path) = scratch_file("live.sqlite");
    let (place, open) = (path.to_str().unwrap(), || SqliteStore::open(&path).unwrap());
    teamkpi::conformance::live::eight_processes_equal_batch("live_worker_process", place, open);
}

#[test]
fn live_kill_during_a_batch_leaves_the_store_before_or_after_it() {
    let (_dir, path) = scratch_file("crash.sqlite");
    let (place, open) = (path.to_str().unwrap(), || SqliteStore::open(&path).unwrap());
    teamkpi::conformance::live::killed_mid_batch_leaves_before_or_after(
        "live_worker_process",
        place,
        open,
    );
}

#[test]
fn an_activity_window_ending_before_it_starts_is_invalid_range() {
    use teamkpi::store::ActivitySource;
    let store = SqliteStore::open_in_memory().unwrap();
    let t = chrono::Utc::now();
    let before = t - chrono::Duration::hours(1);
    assert_eq!(
        store.tickets(None, t, before).unwrap_err().code(),
        "invalid_range"
    );
    assert_eq!(
        store.calls(None, t, before).unwrap_err().code(),
        "invalid_range"
    );
    assert_eq!(
        store.sessions(None, t, before).unwrap_err().code(),
        "invalid_range"
    );
    assert!(store.tickets(None, before, t).unwrap().is_empty());
}

#[test]
fn an_update_run_that_cannot_write_keeps_nothing_of_it() {
    use chrono::TimeZone;
    use teamkpi::store::{AssignmentStore, DefinitionStore, MeasurementStore};
    use teamkpi::update::{update_kpis, SnapshotMetrics, UpdateRange, UpdateRequest};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.sqlite");
    let store = SqliteStore::open(&path).unwrap();
    let def: teamkpi::KpiDefinition = teamkpi::from_json(serde_json::json!({
        "key": "resolved", "name": "Resolved", "unit": "count", "direction": "higher_better",
        "period": "daily", "source": {"type": "metric", "metric": "tickets_resolved"}}))
    .unwrap();
    store.upsert_definition(&def).unwrap();
    let assignment = |agent: u64| teamkpi::NewKpiAssignment {
        tenant: None,
        agent_id: agent,
        definition: "resolved".into(),
        target: 2.into(),
        weight: 100.into(),
        valid_from: chrono::NaiveDate::from_ymd_opt(2025, 11, 1).unwrap(),
        valid_to: None,
        active: true,
        assigned_by: None,
    };
    let first = store.insert_assignment(assignment(1)).unwrap();
    let second = store.insert_assignment(assignment(2)).unwrap();
    let at = chrono::Utc.with_ymd_and_hms(2025, 11, 3, 9, 0, 0).unwrap();
    let tickets: Vec<teamkpi::metrics::Ticket> = (1..=2)
        .map(|agent| {
            teamkpi::from_json(serde_json::json!({
                "id": agent, "agent_id": agent, "created_at": at,
                "resolved_at": at + chrono::Duration::hours(1)}))
            .unwrap()
        })
        .collect();
    let utc = teamkpi::parse_timezone("UTC").unwrap();
    let options = teamkpi::metrics::MetricsOptions::daily(utc);
    let source = SnapshotMetrics::new(&tickets, &options).unwrap();
    let run = |now| {
        update_kpis(
            &store,
            &source,
            None,
            &teamkpi::MetricCatalog::builtin(),
            &UpdateRequest {
                tenant: None,
                range: UpdateRange::Date(at.date_naive()),
                agent_id: None,
                now,
                timezone: utc,
                policy: teamkpi::AchievementPolicy::default(),
            },
        )
    };
    let t1 = at + chrono::Duration::hours(12);
    assert_eq!(run(t1).unwrap().successes, 2);
    // The store refuses the second agent's row (a full disk, a constraint): the run fails and
    // the first agent's new measurement is not kept either.
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch(&format!(
        "CREATE TRIGGER refuse BEFORE UPDATE ON kpi_measurements WHEN NEW.user_kpi_id = {}
         BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
        second.id
    ))
    .unwrap();
    let e = run(t1 + chrono::Duration::hours(1)).unwrap_err();
    assert_eq!(e.code(), "storage");
    let kept = store.latest_measurement(None, first.id).unwrap().unwrap();
    assert_eq!(kept.calculated_at, t1, "the failed run left nothing behind");
}

#[test]
fn ids_beyond_a_signed_column_are_refused_not_wrapped() {
    let store = SqliteStore::open_in_memory().unwrap();
    let at = Utc.with_ymd_and_hms(2025, 11, 3, 9, 0, 0).unwrap();
    let big = Ticket {
        id: 1 << 63,
        created_at: at,
        ..Ticket::default()
    };
    let err = store.put_tickets(&[big]).unwrap_err();
    assert_eq!(err.code(), "out_of_range", "{err}");
    let agent = Ticket {
        id: 1,
        agent_id: Some(u64::MAX),
        created_at: at,
        ..Ticket::default()
    };
    assert_eq!(
        store.put_tickets(&[agent]).unwrap_err().code(),
        "out_of_range"
    );
    assert!(
        store.ticket(None, 1).unwrap().is_none(),
        "nothing was written"
    );
    assert_eq!(
        store.ticket(None, u64::MAX).unwrap_err().code(),
        "out_of_range"
    );
    let largest = Ticket {
        id: i64::MAX as u64,
        created_at: at,
        ..Ticket::default()
    };
    store.put_tickets(&[largest]).unwrap();
    assert!(store.ticket(None, i64::MAX as u64).unwrap().is_some());
}
