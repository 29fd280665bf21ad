//! Measurement upserts, single and batched (one transaction), in SQLite (a file) and PostgreSQL
//! (`PG_TEST_URL`, e.g. run under `scripts/with-postgres.sh`; skipped without it).

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rust_decimal::Decimal;
use std::hint::black_box;
use teamkpi::{from_json, KpiStore, Measurement};

fn prepare<S: KpiStore>(store: &S) -> Vec<Measurement> {
    store
        .upsert_definition(&from_json(serde_json::json!({"key": "k", "name": "K", "unit": "count", "direction": "higher_better", "period": "daily", "source": {"type": "manual"}})).unwrap())
        .unwrap();
    let a = store
        .insert_assignment(from_json(serde_json::json!({"agent_id": 1, "definition": "k", "target": 10, "valid_from": "2025-01-01"})).unwrap())
        .unwrap();
    let day0 = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    (0..1000)
        .map(|i| {
            let d = day0 + Duration::days(i);
            Measurement {
                assignment_id: a.id,
                tenant: None,
                agent_id: 1,
                definition: "k".into(),
                period_start: d,
                period_end: d,
                complete: true,
                actual: Decimal::from(i % 17),
                target: Decimal::from(10),
                achievement: Decimal::from(i % 17 * 10),
                metadata: Default::default(),
                calculated_at: Utc.with_ymd_and_hms(2025, 11, 1, 0, 0, 0).unwrap(),
                ad_hoc: false,
            }
        })
        .collect()
}

fn run<S: KpiStore>(c: &mut Criterion, name: &str, store: &S) {
    let ms = prepare(store);
    let mut group = c.benchmark_group(format!("upsert/{name}"));
    group.sample_size(10);
    group.throughput(Throughput::Elements(ms.len() as u64));
    group.bench_function("single_1000", |b| {
        b.iter(|| {
            for m in &ms {
                black_box(store.upsert_measurement(m).unwrap());
            }
        })
    });
    group.bench_function("batched_1000", |b| {
        b.iter(|| black_box(store.upsert_measurements(&ms).unwrap().len()))
    });
    group.finish();
}

fn bench(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("teamkpi-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite = teamkpi_sqlite::SqliteStore::open(dir.join("bench.sqlite")).unwrap();
    run(c, "sqlite", &sqlite);
    match std::env::var("PG_TEST_URL") {
        Ok(url) if !url.is_empty() => {
            let pg = teamkpi_postgres::PgStore::connect(&url).unwrap();
            pg.execute_batch("TRUNCATE kpi_definitions CASCADE")
                .unwrap();
            run(c, "postgres", &pg);
        }
        _ => eprintln!("PG_TEST_URL is not set: skipping the PostgreSQL upsert bench"),
    }
    let _ = std::fs::remove_dir_all(dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
