//! W2 (SPEC §8): incremental event apply, one event at a time, on an engine already holding
//! 10 000 open tickets.

use chrono::{Duration, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use teamkpi::engine::{Engine, EngineOptions, Event, EventKind};
use teamkpi_benches::SplitMix64;

fn bench(c: &mut Criterion) {
    let mut engine = Engine::new(EngineOptions::new(chrono_tz::UTC));
    let t0 = Utc.with_ymd_and_hms(2025, 11, 3, 8, 0, 0).unwrap();
    let mut rng = SplitMix64::new(2);
    for t in 0..10_000u64 {
        engine
            .apply(&Event {
                id: format!("c{t}"),
                tenant: None,
                at: t0 + Duration::seconds(rng.below(86_400) as i64),
                kind: EventKind::TicketCreated {
                    ticket_id: t,
                    agent_id: Some(1 + rng.below(100)),
                    team: None,
                    priority: Some("normal".into()),
                    kind: Default::default(),
                },
            })
            .unwrap();
    }
    // W2: a stream of replies, transfers and resolutions on those tickets.
    let stream: Vec<Event> = (0..200_000u64)
        .map(|n| {
            let ticket_id = rng.below(10_000);
            let kind = match rng.below(4) {
                0 => EventKind::TicketTransferred {
                    ticket_id,
                    from: None,
                    to: 1 + rng.below(100),
                },
                1 => EventKind::CustomerReplied { ticket_id },
                _ => EventKind::AgentReplied {
                    ticket_id,
                    agent_id: None,
                },
            };
            Event {
                id: format!("s{n}"),
                tenant: None,
                at: t0 + Duration::days(1) + Duration::seconds(n as i64),
                kind,
            }
        })
        .collect();
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
    // The SPEC's figure is the median: replay the whole stream once, timing each event.
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

criterion_group!(benches, bench);
criterion_main!(benches);
