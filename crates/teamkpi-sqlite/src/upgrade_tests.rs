//! Files written by earlier schema versions upgrade in place and keep their rows.

use super::*;

/// A fresh file (in a directory of its own, `name`d) with the tables of schema `version`; the
/// caller records the versions applied (a fixture may hold them).
pub(crate) fn file_at_schema(name: &str, version: i64) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("teamkpi-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("kpis.sqlite");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY,
           applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)",
    )
    .unwrap();
    for (_, sql) in MIGRATIONS.iter().filter(|(v, _)| *v <= version) {
        conn.execute_batch(sql).unwrap();
    }
    (dir, path)
}

/// A file at schema 7 (measurements unique per assignment and bounds) upgrades to ad-hoc
/// measurements: its rows and ids stay, they read as natural, and an ad-hoc one of the same
/// bounds then sits beside them.
#[test]
fn measurements_before_ad_hoc_upgrade() {
    let (dir, path) = file_at_schema("schema7", 7);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "INSERT INTO schema_migrations (version) VALUES (1), (2), (3), (4), (5), (6), (7);
             INSERT INTO kpi_definitions (key, name, calculation_type, config, unit, target_type,
               aggregation_period) VALUES ('resolved', 'Resolved', 'metric',
               '{\"metric\": \"tickets_resolved\"}', 'count', 'higher_better', 'weekly');
             INSERT INTO user_kpis (user_id, kpi_definition_id, target_value, start_date)
               VALUES (7, 1, '4', '2025-10-01');
             INSERT INTO kpi_measurements (id, user_kpi_id, period_start, period_end, complete,
               actual_value, target_value, achievement_percentage, calculated_at)
               VALUES (41, 1, '2025-10-06', '2025-10-12', 1, '2.00', '4.00', '50.00',
               '2025-10-13T02:00:00+00:00');",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), 8);
    let kept = store.measurements(None, 1).unwrap();
    assert_eq!(kept.len(), 1);
    assert!(!kept[0].ad_hoc);
    assert_eq!(kept[0].achievement.to_string(), "50.00");
    let mut ad_hoc = kept[0].clone();
    ad_hoc.ad_hoc = true;
    let id = store.upsert_measurement(&ad_hoc).unwrap();
    assert!(id > 41, "new ids continue after the kept ones: {id}");
    assert_eq!(store.upsert_measurement(&kept[0]).unwrap(), 41);
    assert_eq!(store.measurements(None, 1).unwrap().len(), 2);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
