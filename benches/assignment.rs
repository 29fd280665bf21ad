//! W4 (docs/semantics.md): assignment pick + load update with 10 000 agents (≤ 1 µs), draining 1 M
//! backlog items across 10 000 agents (≤ 1 s), and a stale scan over 1 M open items.

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;
use teamkpi::{AgentState, Assigner, AssignmentPolicy, AssignmentSettings, WorkItem};
use teamkpi_benches::{w4_agents, w4_items, w4_open_items};

fn agents(n: u64, capacity: Option<i64>) -> Vec<AgentState> {
    w4_agents(n, capacity, 4)
}

fn items(n: u64) -> Vec<WorkItem> {
    w4_items(n, 5)
}

fn bench(c: &mut Criterion) {
    let now = Utc.with_ymd_and_hms(2025, 11, 3, 12, 0, 0).unwrap();
    let mut group = c.benchmark_group("assignment");
    let mut assigner = Assigner::new(agents(10_000, None), AssignmentPolicy::default()).unwrap();
    let work = items(1);
    group.throughput(Throughput::Elements(1));
    group.bench_function("pick_and_update_10k_agents", |b| {
        let mut n = 0u64;
        b.iter(|| {
            n += 1;
            let e = assigner
                .assign(&work[0], now, teamkpi::AssignmentReason::AutoAssign)
                .unwrap();
            // Keep loads steady: the item closes again.
            assigner.release(e.to, "ticket").unwrap();
            black_box(e.to)
        })
    });
    let backlog = items(1_000_000);
    group.throughput(Throughput::Elements(backlog.len() as u64));
    group.sample_size(10);
    group.bench_function("drain_1M_items_10k_agents", |b| {
        b.iter_batched(
            || Assigner::new(agents(10_000, Some(150)), AssignmentPolicy::default()).unwrap(),
            |mut a| black_box(a.drain(&backlog, now).events.len()),
            BatchSize::LargeInput,
        )
    });
    let open = w4_open_items(&backlog, 10_000, now, 6);
    let settings = AssignmentSettings {
        auto_assign_enabled: true,
        re_assign_enabled: true,
        re_assign_hours: 24,
    };
    group.bench_function("stale_scan_1M_open_items", |b| {
        b.iter_batched(
            || Assigner::new(agents(10_000, None), AssignmentPolicy::default()).unwrap(),
            |mut a| {
                black_box(
                    a.reassign_stale(&open, &settings, Some(6), now)
                        .unwrap()
                        .events
                        .len(),
                )
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
