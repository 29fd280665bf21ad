//! The documented limits: each input that used to overflow, wrap, panic or run unbounded is
//! refused with `out_of_range` (or `negative_duration`) before anything is computed or changed.

use chrono::{NaiveDate, TimeZone, Utc};
use teamkpi::metrics::{Bucketing, MetricsOptions, TicketMetricsAggregator};
use teamkpi::*;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn windows_of_a_billion_days_are_out_of_range() {
    for (days, count) in [
        (1_000_000_000, 1_000_000_000),
        (u32::MAX, 1),
        (36_601, 1),
        (10, 3_661),
    ] {
        let mut o = MetricsOptions::daily(chrono_tz::UTC);
        o.bucketing = Bucketing::Windows {
            start: day(2025, 11, 1),
            days,
            count,
        };
        let e = TicketMetricsAggregator::new(o).unwrap_err();
        assert_eq!(e.code(), "out_of_range", "{days} × {count}");
    }
    let mut o = MetricsOptions::daily(chrono_tz::UTC);
    o.bucketing = Bucketing::Windows {
        start: day(2025, 11, 1),
        days: 7,
        count: 5_000,
    };
    assert!(TicketMetricsAggregator::new(o).is_ok());
}

#[test]
fn ranges_of_days_are_bounded() {
    let e = DateRange::new(day(1, 1, 1), day(9999, 12, 31)).unwrap_err();
    assert_eq!(e.code(), "out_of_range");
    let now = Utc.with_ymd_and_hms(2025, 11, 3, 12, 0, 0).unwrap();
    assert_eq!(
        last_n_days(now, chrono_tz::UTC, 10_000_000)
            .unwrap_err()
            .code(),
        "out_of_range"
    );
    assert!(last_n_days(now, chrono_tz::UTC, 36_600).is_ok());
    assert_eq!(
        DateRange::new(day(2025, 2, 1), day(2025, 1, 1))
            .unwrap_err()
            .code(),
        "invalid_range"
    );
}

#[test]
fn loads_and_capacities_above_two_to_the_32_are_out_of_range() {
    let mut agent = AgentState::online(1);
    agent.open_load.insert("ticket".into(), 1 << 62);
    agent.open_load.insert("call".into(), 1 << 62);
    agent.capacity = Some(10);
    let e = Assigner::new(vec![agent], AssignmentPolicy::default()).unwrap_err();
    assert_eq!(e.code(), "out_of_range");
    let mut big = AgentState::online(2);
    big.capacity = Some(i64::MAX);
    assert_eq!(
        Assigner::new(vec![big], AssignmentPolicy::default())
            .unwrap_err()
            .code(),
        "out_of_range"
    );
    let mut a = Assigner::new(vec![AgentState::online(1)], AssignmentPolicy::default()).unwrap();
    assert_eq!(
        a.set_load(1, "ticket", i64::MAX).unwrap_err().code(),
        "out_of_range"
    );
    assert_eq!(
        a.agent(1).unwrap().total_load(),
        0,
        "a refused call changes nothing"
    );
    a.set_load(1, "ticket", 1 << 32).unwrap();
}

#[test]
fn hour_settings_beyond_a_hundred_years_are_out_of_range() {
    let mut a = Assigner::new(vec![AgentState::online(1)], AssignmentPolicy::default()).unwrap();
    let now = Utc.with_ymd_and_hms(2025, 11, 3, 12, 0, 0).unwrap();
    let settings = AssignmentSettings {
        re_assign_enabled: true,
        re_assign_hours: 2_562_047_788_015_216,
        ..AssignmentSettings::default()
    };
    let e = a.reassign_stale(&[], &settings, None, now).unwrap_err();
    assert_eq!(e.code(), "out_of_range");
    let ok = AssignmentSettings {
        re_assign_hours: 24,
        ..settings
    };
    let e = a.reassign_stale(&[], &ok, Some(i64::MAX), now).unwrap_err();
    assert_eq!(e.code(), "out_of_range");
    assert!(a.reassign_stale(&[], &ok, Some(6), now).is_ok());
}

#[test]
fn an_end_before_the_start_is_invalid_range() {
    let t = Utc.with_ymd_and_hms(2025, 11, 3, 12, 0, 0).unwrap();
    let policy: SlaPolicy = from_json(serde_json::json!({
        "name": "p", "targets": {"high": {"first_response": 3600}}
    }))
    .unwrap();
    let ticket = TicketTimeline {
        ticket_id: 1,
        priority: "high".into(),
        created_at: t,
        ..TicketTimeline::default()
    };
    let before = t - chrono::Duration::hours(1);
    assert_eq!(
        policy.evaluate(&ticket, before).unwrap_err().code(),
        "invalid_range"
    );
    let scan = policy.scan([&ticket], before, &Default::default());
    assert_eq!(
        (scan.rejected.len(), scan.rejected[0].code.as_str()),
        (1, "invalid_range")
    );
    assert!(policy.evaluate(&ticket, t).is_ok());
    assert_eq!(
        teamkpi::store::check_window("tickets", t, before)
            .unwrap_err()
            .code(),
        "invalid_range"
    );
}

#[test]
fn a_formula_source_that_does_not_parse_is_refused() {
    let e = KpiSource::from_calculation_type("formula", &serde_json::json!({"formula": "((("}))
        .unwrap_err();
    assert_eq!(e.code(), "formula_syntax");
    let ok = KpiSource::from_calculation_type(
        "formula",
        &serde_json::json!({"expression": "tickets_resolved / 2"}),
    );
    assert!(ok.is_ok());
}

#[test]
fn an_event_at_the_end_of_the_calendar_is_refused_and_changes_nothing() {
    use teamkpi::engine::{Engine, EngineOptions, Event, EventKind};
    let mut engine = Engine::new(EngineOptions::new(
        parse_timezone("Pacific/Kiritimati").unwrap(),
    ));
    let at = Utc.with_ymd_and_hms(9999, 12, 31, 23, 0, 0).unwrap();
    let e = Event {
        id: "late".into(),
        tenant: None,
        at,
        kind: EventKind::created(1, Some(1)),
    };
    assert_eq!(engine.apply(&e).unwrap_err().code(), "out_of_range");
    assert_eq!(engine.tickets_in_memory(), 0);
    assert!(engine.rows(PeriodKind::Day).is_empty());
}

#[test]
fn json_numbers_that_do_not_fit_an_integer_field_are_coded() {
    use teamkpi::metrics::Ticket;
    let ticket =
        |id: serde_json::Value| serde_json::json!({"id": id, "created_at": "2025-11-03T09:00:00Z"});
    let code = |v| teamkpi::from_json::<Ticket>(ticket(v)).unwrap_err().code();
    assert_eq!(code(serde_json::json!(1.5)), "invalid_number");
    assert_eq!(code(serde_json::json!(-1)), "out_of_range");
    assert_eq!(code(serde_json::json!("7")), "invalid_argument");
}
