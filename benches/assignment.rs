//! W4 (SPEC §8): assignment pick + load update with 10 000 agents (≤ 1 µs), draining 1 M
//! backlog items across 10 000 agents (≤ 1 s), and a stale scan over 1 M open items.

use chrono::{Duration, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;
use teamkpi::{AgentState, Assigner, AssignmentPolicy, AssignmentSettings, OpenItem, WorkItem};
use teamkpi_benches::SplitMix64;

fn agents(n: u64, capacity: Option<i64>) -> Vec<AgentState> {
    let mut rng = SplitMix64::new(4);
    (1..=n)
        .map(|id| {
            let mut a = AgentState::online(id);
            a.open_load.insert("ticket".into(), rng.below(20) as i64);
            a.capacity = capacity;
            a.last_active_at = Some(Utc.with_ymd_and_hms(2025, 11, 3, 11, 0, 0).unwrap());
            a
        })
        .collect()
}

fn items(n: u64) -> Vec<WorkItem> {
    let mut rng = SplitMix64::new(5);
    let base = Utc.with_ymd_and_hms(2025, 11, 1, 0, 0, 0).unwrap();
    let prios = ["urgent", "high", "normal", "low"];
    (0..n)
        .map(|id| WorkItem {
            id,
            kind: "ticket".into(),
            priority: Some(prios[rng.below(4) as usize].into()),
            created_at: base + Duration::seconds(rng.below(2 * 86_400) as i64),
            team: None,
            skills: Default::default(),
        })
        .collect()
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
    let mut rng = SplitMix64::new(6);
    let open: Vec<OpenItem> = backlog
        .iter()
        .map(|it| OpenItem {
            item: it.clone(),
            agent_id: 1 + rng.below(10_000),
            assigned_at: now - Duration::hours(rng.below(48) as i64),
            last_contacted_at: (rng.below(2) == 0)
                .then(|| now - Duration::hours(rng.below(48) as i64)),
        })
        .collect();
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
