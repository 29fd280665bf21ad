//! Conformance checks every store implementation must pass: the in-memory store, SQLite and
//! PostgreSQL run the same functions against a fresh store each (feature `conformance`).
#![allow(clippy::unwrap_used, missing_docs)]

pub mod live;

use crate::store::merged_rollup;
use crate::*;
use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

fn date(s: &str) -> NaiveDate {
    parse_date("d", s).expect("test date")
}

fn definition(tenant: Option<&str>) -> KpiDefinition {
    KpiDefinition {
        tenant: tenant.map(str::to_owned),
        key: "avg_resolution".into(),
        name: "Average Resolution Time".into(),
        description: None,
        category: Some("customer_support".into()),
        unit: Unit::Hours,
        direction: Direction::LowerBetter,
        period: PeriodKind::Week,
        source: KpiSource::Metric {
            metric: "avg_resolution_time".into(),
        },
        active: true,
    }
}

fn new_assignment(tenant: Option<&str>, agent: u64) -> NewKpiAssignment {
    let mut a = NewKpiAssignment::new(
        agent,
        "avg_resolution",
        Decimal::from(3),
        Decimal::from(100),
        date("2025-10-01"),
    );
    a.tenant = tenant.map(str::to_owned);
    a.assigned_by = Some(99);
    a
}

fn measurement(a: &KpiAssignment, start: &str, end: &str, actual: &str) -> Measurement {
    let actual = decimal_from_str("actual", actual).unwrap();
    Measurement {
        assignment_id: a.id,
        tenant: a.tenant.clone(),
        agent_id: a.agent_id,
        definition: a.definition.clone(),
        period_start: date(start),
        period_end: date(end),
        complete: true,
        actual,
        target: a.target,
        achievement: achievement(
            actual,
            a.target,
            Direction::LowerBetter,
            &AchievementPolicy::default(),
        )
        .unwrap(),
        metadata: BTreeMap::new(),
        calculated_at: Utc.with_ymd_and_hms(2025, 10, 13, 2, 0, 0).unwrap(),
        ad_hoc: false,
    }
}

/// Contract check: measurements upsert round and replace.
pub fn measurements_upsert_round_and_replace<S: Store>(store: &S) {
    store.upsert_definition(&definition(None)).unwrap();
    let a = store.insert_assignment(new_assignment(None, 1)).unwrap();
    let id1 = store
        .upsert_measurement(&measurement(&a, "2025-10-06", "2025-10-12", "2.333"))
        .unwrap();
    let stored = store.latest_measurement(None, a.id).unwrap().unwrap();
    assert_eq!(stored.actual.to_string(), "2.33");
    // 3 / 2.333 * 100 = 128.589…, stored as 128.59
    assert_eq!(stored.achievement.to_string(), "128.59");
    // Recomputing the same period replaces the row and keeps its id.
    let id2 = store
        .upsert_measurement(&measurement(&a, "2025-10-06", "2025-10-12", "6"))
        .unwrap();
    assert_eq!(id1, id2);
    let all = store.measurements(None, a.id).unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].achievement, Decimal::from(50));
    // A later period is the latest one.
    let latest = |start: &str, end: &str, actual: &str| {
        store
            .upsert_measurement(&measurement(&a, start, end, actual))
            .unwrap();
        store.latest_measurement(None, a.id).unwrap().unwrap()
    };
    assert_eq!(
        latest("2025-10-13", "2025-10-19", "1").period_start,
        date("2025-10-13")
    );
    // Achievements above 999.99 % (the KPI tables' DECIMAL(5,2) limit) are stored as they are.
    assert_eq!(
        latest("2025-10-20", "2025-10-26", "0.01").achievement,
        Decimal::from(30000)
    );
}

/// Contract check: an ad-hoc measurement sits beside the natural one of the same bounds, keeps
/// its own id across replacements, and never is the latest.
pub fn ad_hoc_measurements_sit_beside<S: Store>(store: &S) {
    store.upsert_definition(&definition(None)).unwrap();
    let a = store.insert_assignment(new_assignment(None, 1)).unwrap();
    let natural = store
        .upsert_measurement(&measurement(&a, "2025-10-06", "2025-10-12", "2"))
        .unwrap();
    let ad_hoc = |start: &str, end: &str, actual: &str| {
        let mut m = measurement(&a, start, end, actual);
        m.ad_hoc = true;
        store.upsert_measurement(&m).unwrap()
    };
    let same_bounds = ad_hoc("2025-10-06", "2025-10-12", "6");
    assert_ne!(natural, same_bounds);
    assert_eq!(ad_hoc("2025-10-06", "2025-10-12", "4"), same_bounds);
    // A later ad-hoc range is not the latest: the natural week is.
    ad_hoc("2025-10-20", "2025-10-21", "1");
    let latest = store.latest_measurement(None, a.id).unwrap().unwrap();
    assert_eq!(
        (latest.period_start, latest.ad_hoc),
        (date("2025-10-06"), false)
    );
    assert_eq!(latest.actual.to_string(), "2.00");
    let all: Vec<(NaiveDate, bool, String)> = store
        .measurements(None, a.id)
        .unwrap()
        .into_iter()
        .map(|m| (m.period_start, m.ad_hoc, m.actual.to_string()))
        .collect();
    assert_eq!(
        all,
        [
            (date("2025-10-06"), false, "2.00".into()),
            (date("2025-10-06"), true, "4.00".into()),
            (date("2025-10-20"), true, "1.00".into()),
        ]
    );
}

/// Contract check: batch upsert is all or nothing.
pub fn batch_upsert_is_all_or_nothing<S: Store>(store: &S) {
    store.upsert_definition(&definition(None)).unwrap();
    let a = store.insert_assignment(new_assignment(None, 1)).unwrap();
    let good = measurement(&a, "2025-10-06", "2025-10-12", "2");
    let mut bad = good.clone();
    bad.assignment_id = 42;
    let err = store.upsert_measurements(&[good.clone(), bad]).unwrap_err();
    assert_eq!(err.code(), "unknown_assignment");
    assert!(store.measurements(None, a.id).unwrap().is_empty());
    assert_eq!(store.upsert_measurements(&[good]).unwrap().len(), 1);
}

/// Contract check: tenants never mix.
pub fn tenants_never_mix<S: Store>(store: &S) {
    store.upsert_definition(&definition(None)).unwrap();
    store.upsert_definition(&definition(Some("acme"))).unwrap();
    let a = store.insert_assignment(new_assignment(None, 1)).unwrap();
    let b = store
        .insert_assignment(new_assignment(Some("acme"), 1))
        .unwrap();
    assert_eq!(store.definitions(None).unwrap().len(), 1);
    assert!(store.assignment(Some("acme"), a.id).unwrap().is_none());
    assert!(store.assignment(Some("acme"), b.id).unwrap().is_some());
    let listed = store
        .assignments(&AssignmentFilter::tenant(Some("acme")))
        .unwrap();
    assert_eq!(listed.iter().map(|x| x.id).collect::<Vec<_>>(), vec![b.id]);
    // A measurement naming another tenant's assignment is refused.
    let mut m = measurement(&a, "2025-10-06", "2025-10-12", "2");
    m.tenant = Some("acme".into());
    assert_eq!(
        store.upsert_measurement(&m).unwrap_err().code(),
        "unknown_assignment"
    );
    assert!(store.measurements(Some("acme"), a.id).unwrap().is_empty());
}

/// Contract check: assignment updates and filters.
pub fn assignment_updates_and_filters<S: Store>(store: &S) {
    store.upsert_definition(&definition(None)).unwrap();
    let mut a = store.insert_assignment(new_assignment(None, 1)).unwrap();
    let b = store.insert_assignment(new_assignment(None, 2)).unwrap();
    a.valid_to = Some(date("2025-10-31"));
    store.update_assignment(&a).unwrap();
    let in_nov = AssignmentFilter {
        applies_between: Some((date("2025-11-01"), date("2025-11-30"))),
        ..AssignmentFilter::default()
    };
    assert_eq!(
        store
            .assignments(&in_nov)
            .unwrap()
            .iter()
            .map(|x| x.id)
            .collect::<Vec<_>>(),
        vec![b.id]
    );
    let mut missing = a.clone();
    missing.id = 77;
    assert_eq!(
        store.update_assignment(&missing).unwrap_err().code(),
        "unknown_assignment"
    );
    // Deactivating then re-adding the same (agent, KPI, start) is allowed.
    a.active = false;
    store.update_assignment(&a).unwrap();
    store.insert_assignment(new_assignment(None, 1)).unwrap();
    let all = AssignmentFilter {
        include_inactive: true,
        ..AssignmentFilter::default()
    };
    assert_eq!(store.assignments(&all).unwrap().len(), 3);
    assert_eq!(
        store
            .assignments(&AssignmentFilter::default())
            .unwrap()
            .len(),
        2
    );
}

/// Contract check: manual values.
pub fn manual_values<S: Store>(store: &S) {
    store.upsert_definition(&definition(None)).unwrap();
    let a = store.insert_assignment(new_assignment(None, 1)).unwrap();
    let v = ManualValue {
        assignment_id: a.id,
        period_start: date("2025-10-01"),
        period_end: date("2025-10-31"),
        value: Decimal::from(4),
        recorded_by: Some(9),
        recorded_at: Utc.with_ymd_and_hms(2025, 11, 1, 9, 0, 0).unwrap(),
    };
    store.record_manual_value(None, &v).unwrap();
    let got = store
        .manual_value(None, a.id, date("2025-10-01"), date("2025-10-31"))
        .unwrap();
    assert_eq!(got, Some(v.clone()));
    assert_eq!(
        store
            .record_manual_value(Some("other"), &v)
            .unwrap_err()
            .code(),
        "unknown_assignment"
    );
    let mut reversed = v;
    reversed.period_end = date("2025-09-01");
    assert_eq!(
        store
            .record_manual_value(None, &reversed)
            .unwrap_err()
            .code(),
        "invalid_range"
    );
    // Both wrong: every store checks the period first (teamkpi::store::check_period), then the
    // assignment, so all of them give the same answer.
    let mut both = reversed;
    both.assignment_id = a.id + 1000;
    assert_eq!(
        store.record_manual_value(None, &both).unwrap_err().code(),
        "invalid_range"
    );
    let mut m = measurement(&a, "2025-10-31", "2025-10-01", "1");
    m.assignment_id = a.id + 1000;
    assert_eq!(
        store.upsert_measurement(&m).unwrap_err().code(),
        "invalid_range"
    );
}

/// What the checks need of a store.
pub trait Store: KpiStore + RollupStore + Sync {}
impl<T: KpiStore + RollupStore + Sync> Store for T {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Counter {
    n: u64,
}

impl Mergeable for Counter {
    fn merge(&mut self, other: &Self) {
        self.n += other.n;
    }
}

/// Contract check: rollup partials are idempotent.
pub fn rollup_partials_are_idempotent<S: Store>(store: &S) {
    let key = RollupKey {
        tenant: None,
        name: "tickets_daily".into(),
        group: "agent:1".into(),
        period_start: date("2025-10-01"),
    };
    std::thread::scope(|s| {
        for w in 0..8 {
            let store = &store;
            let key = &key;
            s.spawn(move || {
                for _ in 0..3 {
                    // Retries of the same partial change nothing.
                    store
                        .merge_rollup(key, &format!("worker-{w}"), &serde_json::json!({"n": 10}))
                        .unwrap();
                }
            });
        }
    });
    let total: Counter = merged_rollup(store, &key).unwrap().unwrap();
    assert_eq!(total.n, 80);
}

/// Runs every check, each on a fresh store from `fresh`.
pub fn run_all<S: Store>(fresh: impl Fn() -> S) {
    measurements_upsert_round_and_replace(&fresh());
    ad_hoc_measurements_sit_beside(&fresh());
    batch_upsert_is_all_or_nothing(&fresh());
    tenants_never_mix(&fresh());
    assignment_updates_and_filters(&fresh());
    manual_values(&fresh());
    rollup_partials_are_idempotent(&fresh());
}
