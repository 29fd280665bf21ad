//! W1 (docs/semantics.md): per agent-day counts, sums and SLA met (24/7 calendar) from 1 M tickets,
//! 1 000 agents, 30 days — from columnar slices (the dense kernel, with and without quantiles)
//! and from rows.

use chrono::DateTime;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use teamkpi::metrics::{
    ticket_metrics_columns, MetricsOptions, Ticket, TicketColumns, TicketMetricsAggregator,
};
use teamkpi_benches::{w1_options, w1_priority_labels, W1};

fn options() -> MetricsOptions {
    w1_options(chrono_tz::UTC)
}

fn w1(c: &mut Criterion) {
    let n = 1_000_000;
    let data = W1::generate(n, 1000, 1);
    let labels = w1_priority_labels();
    let cols = data.columns(&labels);
    let opts = options();
    let mut group = c.benchmark_group("w1");
    group.throughput(Throughput::Elements(n as u64));
    group.sample_size(20);
    // Rows out of one columnar call (what every columnar bench measures).
    let run = |c: &TicketColumns<'_>, o: &teamkpi::metrics::MetricsOptions| {
        black_box(ticket_metrics_columns(c, o).unwrap().rows.len())
    };
    group.bench_function("columnar_1M_utc", |b| b.iter(|| run(&cols, &opts)));
    // The library's default: median and p90 of both durations too.
    let mut with_quantiles = opts.clone();
    with_quantiles.quantiles = true;
    group.bench_function("columnar_1M_utc_quantiles", |b| {
        b.iter(|| run(&cols, &with_quantiles))
    });
    let mut warsaw = opts.clone();
    warsaw.timezone = chrono_tz::Europe::Warsaw;
    group.bench_function("columnar_1M_warsaw", |b| b.iter(|| run(&cols, &warsaw)));
    let big = W1::generate(10_000_000, 1000, 2);
    let big_cols = big.columns(&labels);
    group.throughput(Throughput::Elements(big.len() as u64));
    group.sample_size(10);
    group.bench_function("columnar_10M_utc", |b| b.iter(|| run(&big_cols, &opts)));
    drop(big);
    let shuffled = W1::generate_shuffled(n, 1000, 1);
    let shuffled_cols = shuffled.columns(&labels);
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function("columnar_1M_utc_random_order", |b| {
        b.iter(|| run(&shuffled_cols, &opts))
    });
    let rows: Vec<Ticket> = (0..200_000).map(|i| cols.ticket(i).unwrap()).collect();
    group.throughput(Throughput::Elements(rows.len() as u64));
    group.sample_size(10);
    group.bench_function("rows_200k_utc", |b| {
        b.iter(|| {
            let mut agg = TicketMetricsAggregator::new(opts.clone()).unwrap();
            agg.add_all(&rows);
            black_box(agg.finish().rows.len())
        })
    });
    group.finish();
    let _ = DateTime::from_timestamp(0, 0);
}

criterion_group!(benches, w1);
criterion_main!(benches);
