//! Business-time arithmetic (≥ 5 M adds/s on a split-hours, holiday, DST calendar) and
//! the SLA breach scan over 1 M open tickets.

use chrono::{DateTime, Duration, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::collections::BTreeSet;
use std::hint::black_box;
use teamkpi::{
    AtRiskThreshold, BusinessCalendar, PriorityTargets, SlaPolicy, SlaPolicySpec, TicketTimeline,
    TimelineEvent, TimelineEventKind,
};
use teamkpi_benches::{w3_calendar, w3_instants, SplitMix64};

fn business_time(c: &mut Criterion) {
    let cal = w3_calendar();
    let inputs = w3_instants(100_000, 3);
    let mut group = c.benchmark_group("business_time");
    group.throughput(Throughput::Elements(inputs.len() as u64));
    group.bench_function("add_business_seconds_w3", |b| {
        b.iter(|| {
            for (t, d) in &inputs {
                black_box(cal.add_business_seconds(*t, *d).unwrap());
            }
        })
    });
    let ends: Vec<(DateTime<Utc>, DateTime<Utc>)> = inputs
        .iter()
        .map(|(t, d)| (*t, *t + Duration::seconds(*d * 3)))
        .collect();
    group.bench_function("business_seconds_between_w3", |b| {
        b.iter(|| {
            for (a, z) in &ends {
                black_box(cal.business_seconds_between(*a, *z).unwrap());
            }
        })
    });
    let always = BusinessCalendar::always_open("UTC").unwrap();
    group.bench_function("add_business_seconds_24x7", |b| {
        b.iter(|| {
            for (t, d) in &inputs {
                black_box(always.add_business_seconds(*t, *d).unwrap());
            }
        })
    });
    group.finish();
}

fn breach_scan(c: &mut Criterion) {
    let policy = SlaPolicy::new(SlaPolicySpec {
        name: "standard".into(),
        targets: [
            ("urgent", 1800, 3600, 4 * 3600),
            ("high", 3600, 7200, 8 * 3600),
            ("normal", 4 * 3600, 4 * 3600, 16 * 3600),
            ("low", 8 * 3600, 8 * 3600, 40 * 3600),
        ]
        .into_iter()
        .map(|(p, f, n, r)| {
            (
                p.to_string(),
                PriorityTargets {
                    first_response: Some(f),
                    next_response: Some(n),
                    resolution: Some(r),
                },
            )
        })
        .collect(),
        calendar: Some(w3_calendar()),
        pause_statuses: ["on_hold".to_string()].into(),
        at_risk: Some(AtRiskThreshold::RemainingSeconds(1800)),
    })
    .unwrap();
    let now = Utc.with_ymd_and_hms(2025, 11, 14, 11, 0, 0).unwrap();
    let mut rng = SplitMix64::new(7);
    let priorities = ["urgent", "high", "normal", "low"];
    let tickets: Vec<TicketTimeline> = (0..1_000_000u64)
        .map(|id| {
            let created = now - Duration::seconds(rng.below(10 * 86_400) as i64 + 60);
            let mut events = Vec::new();
            if rng.below(2) == 0 {
                let reply = created + Duration::seconds(rng.below(4 * 3600) as i64);
                if reply < now {
                    events.push(TimelineEvent {
                        at: reply,
                        kind: TimelineEventKind::AgentReplied,
                    });
                }
            }
            TicketTimeline {
                ticket_id: id,
                priority: priorities[rng.below(4) as usize].into(),
                created_at: created,
                agent_id: Some(rng.below(1000)),
                events,
                ..TicketTimeline::default()
            }
        })
        .collect();
    let alerted = BTreeSet::new();
    let mut group = c.benchmark_group("sla");
    group.throughput(Throughput::Elements(tickets.len() as u64));
    group.sample_size(10);
    group.bench_function("breach_scan_1M_open", |b| {
        b.iter(|| black_box(policy.scan(&tickets, now, &alerted).breaches.len()))
    });
    group.finish();
}

criterion_group!(benches, business_time, breach_scan);
criterion_main!(benches);
