//! W2 (docs/semantics.md): incremental event apply, one event at a time, on an engine already holding
//! 10 000 open tickets.

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use teamkpi::engine::EventKind;
use teamkpi_benches::w2;

fn bench(c: &mut Criterion) {
    let (engine, stream) = w2(10_000, 200_000, 2);
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(1));
    // Every measured event is new (unique id): the stream runs on from where the last sample
    // stopped, and a fresh copy of the loaded engine is taken (untimed) when it runs out.
    let mut current = engine.clone();
    let mut next = 0usize;
    group.bench_function("apply_event", |b| {
        b.iter_custom(|iters| {
            let mut total = std::time::Duration::ZERO;
            for _ in 0..iters {
                if next == stream.len() {
                    current = engine.clone();
                    next = 0;
                }
                let start = std::time::Instant::now();
                black_box(current.apply(&stream[next]).unwrap().duplicate);
                total += start.elapsed();
                next += 1;
            }
            total
        })
    });
    group.finish();
    // The target is the median: replay the whole stream once, timing each event.
    let mut fresh = engine.clone();
    let mut times: Vec<std::time::Duration> = stream
        .iter()
        .map(|e| {
            let start = std::time::Instant::now();
            black_box(fresh.apply(e).unwrap().duplicate);
            start.elapsed()
        })
        .collect();
    let mut by_kind: std::collections::BTreeMap<&str, Vec<std::time::Duration>> =
        Default::default();
    for (e, t) in stream.iter().zip(&times) {
        let k = match e.kind {
            EventKind::AgentReplied { .. } => "agent_replied",
            EventKind::CustomerReplied { .. } => "customer_replied",
            _ => "transferred",
        };
        by_kind.entry(k).or_default().push(*t);
    }
    for (k, mut v) in by_kind {
        v.sort();
        eprintln!("  {k}: p50 {:?} over {} events", v[v.len() / 2], v.len());
    }
    times.sort();
    let pct = |p: usize| times[(times.len() - 1) * p / 100];
    eprintln!(
        "engine/apply_event per-event over the W2 stream: p50 {:?}, p90 {:?}, p99 {:?}",
        pct(50),
        pct(90),
        pct(99)
    );
}

/// `update_kpis` over 1 000 agents × 30 days: 4 KPIs each (2 daily, 2 weekly), metrics from
/// 300 000 ticket snapshots, into the in-memory store.
fn update(c: &mut Criterion) {
    use teamkpi::metrics::{MetricsOptions, Ticket};
    use teamkpi::update::{update_kpis, SnapshotMetrics, UpdateRange, UpdateRequest};
    use teamkpi::{
        from_json, AchievementPolicy, AssignmentStore, DefinitionStore, InMemoryStore,
        MetricCatalog,
    };
    let w = teamkpi_benches::W1::generate(300_000, 1000, 9);
    let at = |t: i64| (t != i64::MIN).then(|| chrono::DateTime::from_timestamp(t, 0).unwrap());
    let tickets: Vec<Ticket> = (0..w.len())
        .map(|i| Ticket {
            id: i as u64,
            agent_id: Some(w.agent_id[i]),
            created_at: at(w.created_at[i]).unwrap(),
            first_response_at: at(w.first_response_at[i]),
            resolved_at: at(w.resolved_at[i]),
            ..Ticket::default()
        })
        .collect();
    let source = SnapshotMetrics::new(&tickets, &MetricsOptions::daily(chrono_tz::UTC)).unwrap();
    let store = InMemoryStore::new();
    for (key, metric, period, unit, dir) in [
        (
            "resolved",
            "tickets_resolved",
            "daily",
            "count",
            "higher_better",
        ),
        (
            "frt",
            "avg_first_response_time",
            "daily",
            "minutes",
            "lower_better",
        ),
        (
            "res",
            "avg_resolution_time",
            "weekly",
            "hours",
            "lower_better",
        ),
        (
            "handled",
            "tickets_assigned",
            "weekly",
            "count",
            "higher_better",
        ),
    ] {
        store
            .upsert_definition(&from_json(serde_json::json!({"key": key, "name": key, "unit": unit, "direction": dir, "period": period, "source": {"type": "metric", "metric": metric}})).unwrap())
            .unwrap();
        for agent in 1..=1000u64 {
            store
                .insert_assignment(from_json(serde_json::json!({"agent_id": agent, "definition": key, "target": 10, "weight": 25, "valid_from": "2025-09-01"})).unwrap())
                .unwrap();
        }
    }
    let request = UpdateRequest {
        tenant: None,
        range: UpdateRange::Days(30),
        agent_id: None,
        now: Utc.with_ymd_and_hms(2025, 10, 30, 23, 0, 0).unwrap(),
        timezone: chrono_tz::UTC,
        policy: AchievementPolicy::default(),
    };
    let mut group = c.benchmark_group("update_kpis");
    group.sample_size(10);
    group.bench_function("1000_agents_30_days", |b| {
        b.iter(|| {
            let r =
                update_kpis(&store, &source, None, &MetricCatalog::builtin(), &request).unwrap();
            black_box(r.successes)
        })
    });
    group.finish();
}

criterion_group!(benches, bench, update);
criterion_main!(benches);
