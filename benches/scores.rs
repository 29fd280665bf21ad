//! Achievement and overall score over 1 M assignments (10 per agent, 100 000 agents).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rust_decimal::Decimal;
use std::hint::black_box;
use teamkpi::{achievement, overall_score, AchievementPolicy, Direction, WeightedAchievement};
use teamkpi_benches::SplitMix64;

const ASSIGNMENTS: usize = 1_000_000;
const PER_AGENT: usize = 10;

struct Row {
    actual: Decimal,
    target: Decimal,
    direction: Direction,
    weight: Decimal,
}

fn rows() -> Vec<Row> {
    let mut rng = SplitMix64::new(42);
    (0..ASSIGNMENTS)
        .map(|_| Row {
            actual: Decimal::new(rng.below(100_000) as i64, 2),
            target: Decimal::new(1 + rng.below(100_000) as i64, 2),
            direction: match rng.below(3) {
                0 => Direction::HigherBetter,
                1 => Direction::LowerBetter,
                _ => Direction::Exact,
            },
            weight: Decimal::from(10),
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let rows = rows();
    let policy = AchievementPolicy::capped(Decimal::from(120));
    let mut group = c.benchmark_group("scores");
    group.throughput(Throughput::Elements(ASSIGNMENTS as u64));
    group.sample_size(10);
    group.bench_function("achievement_and_overall_1M", |b| {
        b.iter(|| {
            let mut scored = 0usize;
            let mut items = Vec::with_capacity(PER_AGENT);
            for agent in rows.chunks(PER_AGENT) {
                items.clear();
                for r in agent {
                    let a = achievement(r.actual, r.target, r.direction, &policy).ok();
                    items.push(WeightedAchievement {
                        weight: r.weight,
                        achievement: a,
                    });
                }
                if let Ok(Some(_)) = overall_score(black_box(&items), &policy) {
                    scored += 1;
                }
            }
            black_box(scored)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
