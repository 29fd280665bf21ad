//! `teamkpi-live-bench`: live metrics in a store, timed from Rust the way a host calls them.
//!
//! ```text
//! teamkpi-live-bench [--store sqlite|postgres] [--url postgres://…] [--retained 1000]
//!                    [--singles 400] [--batches 20] [--batch 1000] [--seed 1] [--quantiles 1]
//!                    [--days 30] [--db kept.sqlite]
//! ```
//!
//! It fills a fresh store with `--retained` tickets of a realistic desk (over `--days` days, 25
//! agents; the last step of each held back), then times a realistic mix — new tickets of the day
//! and the held-back replies, transfers, resolutions, reopenings and closings of tickets created
//! days earlier — applied one event a call (median, p90) and `--batch` events a call (events/s).
//! One JSON object on stdout.

use std::time::Instant;

use chrono::Duration;
use serde_json::json;
use teamkpi::conformance::live::{
    live_options, realistic_stream, shuffled_with_duplicates, stream_start, Rng,
};
use teamkpi::engine::{Event, EventKind};
use teamkpi::live::LiveStore;

type Fallible<T> = Result<T, String>;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == &format!("--{name}"))
        .and_then(|i| args.get(i + 1).cloned())
}

fn num(args: &[String], name: &str, default: u64) -> Fallible<u64> {
    arg(args, name).map_or(Ok(default), |v| {
        v.replace('_', "")
            .parse()
            .map_err(|_| format!("--{name}: not a number: {v}"))
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = run(&args) {
        eprintln!("teamkpi-live-bench: {e}");
        std::process::exit(2);
    }
}

/// The store under test, and what to drop afterwards.
fn open(args: &[String]) -> Fallible<(Box<dyn LiveStore>, Option<tempdir::Dir>)> {
    match arg(args, "store").as_deref().unwrap_or("sqlite") {
        // `--db PATH`: the SQLite file is kept, to inspect its rows after the run.
        "sqlite" if arg(args, "db").is_some() => {
            let path = arg(args, "db").unwrap_or_default();
            let store = teamkpi_sqlite::SqliteStore::open(&path).map_err(|e| e.to_string())?;
            store.live_reset(None).map_err(|e| e.to_string())?;
            Ok((Box::new(store), None))
        }
        "sqlite" => {
            let dir = tempdir::Dir::new()?;
            let store = teamkpi_sqlite::SqliteStore::open(dir.path.join("live.sqlite"))
                .map_err(|e| e.to_string())?;
            Ok((Box::new(store), Some(dir)))
        }
        "postgres" => {
            let url = arg(args, "url").ok_or("--url is required with --store postgres")?;
            let store = teamkpi_postgres::PgStore::connect(&url).map_err(|e| e.to_string())?;
            store.live_reset(None).map_err(|e| e.to_string())?;
            Ok((Box::new(store), None))
        }
        other => Err(format!("--store: {other:?} is not sqlite or postgres")),
    }
}

mod tempdir {
    /// A temporary directory removed on drop.
    pub struct Dir {
        pub path: std::path::PathBuf,
    }
    impl Dir {
        pub fn new() -> Result<Self, String> {
            let path = std::env::temp_dir().join(format!("teamkpi-live-{}", std::process::id()));
            std::fs::create_dir_all(&path).map_err(|e| e.to_string())?;
            Ok(Dir { path })
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

fn ticket_of(e: &Event) -> Option<u64> {
    e.kind.ticket_id()
}

fn run(args: &[String]) -> Fallible<()> {
    let retained = num(args, "retained", 1000)?;
    let singles = num(args, "singles", 400)? as usize;
    let batches = num(args, "batches", 20)? as usize;
    let batch = num(args, "batch", 1000)?.max(1) as usize;
    let seed = num(args, "seed", 1)?;
    let days = num(args, "days", 30)?.max(1);
    let (store, _dir) = open(args)?;
    let mut options = live_options();
    options.quantiles = num(args, "quantiles", 1)? == 1;

    // The desk's history; the last steps of every fifth ticket are held back for the mix.
    let history = realistic_stream(seed, 1, retained, days, 25);
    let mut last_of: std::collections::HashMap<u64, usize> = Default::default();
    for (i, e) in history.iter().enumerate() {
        if let Some(t) = ticket_of(e) {
            last_of.insert(t, i);
        }
    }
    let (mut preload, mut held) = (Vec::new(), Vec::new());
    for (i, e) in history.into_iter().enumerate() {
        let t = ticket_of(&e).unwrap_or_default();
        let is_last = last_of.get(&t) == Some(&i);
        let first_step = matches!(e.kind, EventKind::TicketCreated { .. });
        if is_last && !first_step {
            held.push(e);
        } else {
            preload.push(e);
        }
    }
    let started = Instant::now();
    for chunk in preload.chunks(1000) {
        store
            .live_apply(&options, chunk)
            .map_err(|e| e.to_string())?;
    }
    let preload_secs = started.elapsed().as_secs_f64();

    // The mix: the day's new tickets (ids above the history) and the held-back steps, a quarter
    // of it on older tickets (so its size is bounded by what was held back).
    let needed = (singles + batches * batch).min(held.len() * 4);
    let mut rng = Rng::new(seed + 1);
    let mut fresh = Vec::new();
    let mut next = retained + 1;
    while fresh.len() < needed {
        let created = stream_start()
            + Duration::days(days as i64)
            + Duration::seconds(rng.below(10 * 3600) as i64);
        fresh.extend(teamkpi::conformance::live::ticket_lifecycle(
            &mut rng, "n", next, created, 25,
        ));
        next += 1;
    }
    let older_share = (needed / 4).min(held.len());
    let mut mix: Vec<Event> = held[..older_share].to_vec();
    mix.extend(fresh.into_iter().take(needed - older_share));
    // Arrival order within the mix is random (the engine's results do not depend on it).
    let mix = shuffled_with_duplicates(&mix, seed + 2, 0);
    let older = mix
        .iter()
        .filter(|e| ticket_of(e).is_some_and(|t| t <= retained))
        .count();

    let mut single_ns = Vec::with_capacity(singles);
    for e in &mix[..singles.min(mix.len())] {
        let t = Instant::now();
        store
            .live_apply(&options, std::slice::from_ref(e))
            .map_err(|e| e.to_string())?;
        single_ns.push(t.elapsed().as_nanos() as u64);
    }
    single_ns.sort_unstable();
    let q = |p: f64| {
        single_ns
            .get(((single_ns.len() as f64 - 1.0) * p) as usize)
            .copied()
    };

    let rest = &mix[singles.min(mix.len())..];
    let started = Instant::now();
    let mut applied = 0u64;
    for chunk in rest.chunks(batch) {
        applied += store
            .live_apply(&options, chunk)
            .map_err(|e| e.to_string())?
            .applied;
    }
    let batch_secs = started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({
            "store": arg(args, "store").unwrap_or_else(|| "sqlite".into()),
            "quantiles": options.quantiles,
            "retained_tickets": retained,
            "days": days,
            "preload_events": preload.len(),
            "preload_events_per_s": (preload.len() as f64 / preload_secs).round(),
            "mix_events": mix.len(),
            "mix_share_on_older_tickets": (older as f64 / mix.len().max(1) as f64 * 1000.0).round() / 1000.0,
            "single_apply_median_ms": q(0.5).map(|n| n as f64 / 1e6),
            "single_apply_p90_ms": q(0.9).map(|n| n as f64 / 1e6),
            "batch_size": batch,
            "batched_events_applied": applied,
            "batched_events_per_s": (rest.len() as f64 / batch_secs).round(),
        })
    );
    Ok(())
}
