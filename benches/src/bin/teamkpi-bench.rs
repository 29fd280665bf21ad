//! `teamkpi-bench`: the Rust side of the comparison in `benches/compare.py`, also usable alone.
//!
//! ```text
//! teamkpi-bench gen-w1 --rows N [--agents 1000] [--seed 1] --out DIR   W1 as .npy columns
//! teamkpi-bench w1 --dir DIR [--repeat 5] [--threads 1] [--csv FILE] [--quantiles 1] [--ids sorted|shuffled]  time the columnar kernel
//! teamkpi-bench w1-stream --rows N [--chunk 1000000] [--seed 1]        streaming W1, peak RSS
//! teamkpi-bench w2 [--tickets 10000] [--events 200000] [--only reply|customer] [--uuid-ids 1]  engine apply
//! teamkpi-bench w3 [--n 100000] [--out DIR]                            business-time add
//! teamkpi-bench w4 [--agents 10000] [--items 1000000] [--out DIR]      assignment pick, drain
//! ```
//!
//! Each timing command prints one JSON object on stdout. Files are little-endian `.npy` (numpy's
//! format), so numpy, pandas, Polars, DuckDB and PostgreSQL loaders read the same bytes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;
use teamkpi::engine::EventKind;
use teamkpi::metrics::{
    ticket_metrics_columns, ticket_metrics_columns_parallel, ColumnarAggregator, TicketColumns,
};
use teamkpi::{Assigner, AssignmentPolicy, AssignmentReason};
use teamkpi_benches::{
    w1_options, w1_priority_labels, w2, w3_calendar, w3_holidays, w3_instants, w4_agents, w4_items,
    W1Gen, W1,
};

type Fallible<T> = Result<T, String>;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = run(&args) {
        eprintln!("teamkpi-bench: {e}");
        std::process::exit(2);
    }
}

/// `--name value` options after the subcommand.
struct Opts(BTreeMap<String, String>);

impl Opts {
    fn parse(args: &[String]) -> Fallible<Self> {
        let mut map = BTreeMap::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let name = a
                .strip_prefix("--")
                .ok_or_else(|| format!("expected an --option, got {a:?}"))?;
            let value = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
            map.insert(name.to_owned(), value.clone());
        }
        Ok(Opts(map))
    }

    fn num(&self, name: &str, default: u64) -> Fallible<u64> {
        match self.0.get(name) {
            None => Ok(default),
            Some(v) => v
                .replace('_', "")
                .parse()
                .map_err(|_| format!("--{name}: not a number: {v}")),
        }
    }

    fn path(&self, name: &str) -> Fallible<PathBuf> {
        self.0
            .get(name)
            .map(PathBuf::from)
            .ok_or_else(|| format!("--{name} is required"))
    }
}

fn run(args: &[String]) -> Fallible<()> {
    let (cmd, rest) = args
        .split_first()
        .ok_or("usage: teamkpi-bench gen-w1|w1|w1-stream|w2|w3|w4 [--options]")?;
    let o = Opts::parse(rest)?;
    match cmd.as_str() {
        "gen-w1" => gen_w1(&o),
        "w1" => w1(&o),
        "w1-stream" => w1_stream(&o),
        "w2" => w2_apply(&o),
        "w3" => w3(&o),
        "w4" => w4(&o),
        other => Err(format!("unknown command {other:?}")),
    }
}

// ---- .npy files (format version 1.0, 1-d, little-endian) ----

trait NpyType: Sized + Copy {
    const DESCR: &'static str;
    const SIZE: usize;
    fn to_le(self, out: &mut Vec<u8>);
    fn from_le(b: &[u8]) -> Self;
}

macro_rules! npy_type {
    ($t:ty, $descr:expr) => {
        impl NpyType for $t {
            const DESCR: &'static str = $descr;
            const SIZE: usize = std::mem::size_of::<$t>();
            fn to_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn from_le(b: &[u8]) -> Self {
                let mut a = [0u8; std::mem::size_of::<$t>()];
                a.copy_from_slice(b);
                <$t>::from_le_bytes(a)
            }
        }
    };
}
npy_type!(u64, "<u8");
npy_type!(u32, "<u4");
npy_type!(i64, "<i8");

fn write_npy<T: NpyType>(path: &Path, data: &[T]) -> Fallible<()> {
    let mut header = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': ({},), }}",
        T::DESCR,
        data.len()
    );
    // Magic (6) + version (2) + length (2) + header, padded with spaces to a multiple of 64.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + data.len() * T::SIZE);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        v.to_le(&mut out);
    }
    std::fs::write(path, out).map_err(|e| format!("{}: {e}", path.display()))
}

fn read_npy<T: NpyType>(path: &Path) -> Fallible<Vec<T>> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let bad = |why: &str| {
        format!(
            "{}: not a 1-d {} .npy file ({why})",
            path.display(),
            T::DESCR
        )
    };
    if bytes.get(..6) != Some(b"\x93NUMPY") {
        return Err(bad("magic"));
    }
    let (len, start) = match bytes.get(6) {
        Some(1) => (
            usize::from(u16::from_le_bytes([bytes[8], bytes[9]])),
            10usize,
        ),
        Some(2 | 3) => {
            let b = bytes.get(8..12).ok_or_else(|| bad("header length"))?;
            (u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize, 12)
        }
        _ => return Err(bad("version")),
    };
    let header = std::str::from_utf8(bytes.get(start..start + len).ok_or_else(|| bad("header"))?)
        .map_err(|_| bad("header"))?;
    if !header.contains(&format!("'descr': '{}'", T::DESCR))
        || !header.contains("'fortran_order': False")
    {
        return Err(bad(header.trim()));
    }
    let body = bytes.get(start + len..).ok_or_else(|| bad("body"))?;
    if body.len() % T::SIZE != 0 {
        return Err(bad("body length"));
    }
    Ok(body.chunks_exact(T::SIZE).map(T::from_le).collect())
}

// ---- W1 ----

const W1_FILES: [&str; 5] = [
    "agent_id",
    "priority",
    "created_at",
    "first_response_at",
    "resolved_at",
];

fn gen_w1(o: &Opts) -> Fallible<()> {
    let n = o.num("rows", 1_000_000)? as usize;
    let dir = o.path("out")?;
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let w = W1Gen::new(n, o.num("agents", 1000)?, o.num("seed", 1)?, true)
        .next_chunk(n)
        .unwrap_or_default();
    let file = |name: &str| dir.join(format!("{name}.npy"));
    write_npy(&file(W1_FILES[0]), &w.agent_id)?;
    write_npy(&file(W1_FILES[1]), &w.priority)?;
    write_npy(&file(W1_FILES[2]), &w.created_at)?;
    write_npy(&file(W1_FILES[3]), &w.first_response_at)?;
    write_npy(&file(W1_FILES[4]), &w.resolved_at)?;
    println!("{}", json!({"rows": n, "dir": dir.display().to_string()}));
    Ok(())
}

fn load_w1(dir: &Path) -> Fallible<W1> {
    let file = |name: &str| dir.join(format!("{name}.npy"));
    Ok(W1 {
        agent_id: read_npy(&file(W1_FILES[0]))?,
        priority: read_npy(&file(W1_FILES[1]))?,
        created_at: read_npy(&file(W1_FILES[2]))?,
        first_response_at: read_npy(&file(W1_FILES[3]))?,
        resolved_at: read_npy(&file(W1_FILES[4]))?,
    })
}

/// Best and median of `repeat` timed runs, in seconds.
fn time<R>(repeat: u64, mut f: impl FnMut() -> R) -> (f64, f64) {
    let mut times: Vec<f64> = (0..repeat.max(1))
        .map(|_| {
            let t = Instant::now();
            black_box(f());
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[0], times[times.len() / 2])
}

fn w1(o: &Opts) -> Fallible<()> {
    let data = load_w1(&o.path("dir")?)?;
    let labels = w1_priority_labels();
    // `--ids sorted|shuffled`: an id column too, so the repeated-id check runs (none repeat).
    let ids: Option<Vec<u64>> = match o.0.get("ids").map(String::as_str) {
        None => None,
        Some("sorted") => Some((1..=data.len() as u64).collect()),
        Some("shuffled") => {
            let mut v: Vec<u64> = (1..=data.len() as u64).collect();
            let mut rng = teamkpi_benches::SplitMix64::new(7);
            for i in (1..v.len()).rev() {
                v.swap(i, rng.below(i as u64 + 1) as usize);
            }
            Some(v)
        }
        Some(other) => return Err(format!("--ids: sorted or shuffled, not {other}")),
    };
    let cols = TicketColumns {
        id: ids.as_deref(),
        ..data.columns(&labels)
    };
    let mut options = w1_options(chrono_tz::UTC);
    // `--quantiles 1`: W1 plus the median and p90 of both durations (the library's default).
    options.quantiles = o.num("quantiles", 0)? == 1;
    let report = ticket_metrics_columns(&cols, &options).map_err(|e| e.to_string())?;
    if !report.rejected.is_empty() {
        return Err(format!("{} rows rejected", report.rejected.len()));
    }
    if let Ok(csv) = o.path("csv") {
        // The figures every peer computes, one line per agent-day.
        let mut out = String::from(
            "agent_id,day,tickets_assigned,tickets_resolved,first_response_count,\
             first_response_seconds_sum,resolution_seconds_sum,sla_met,sla_breached,\
             resolution_rate_percent\n",
        );
        for r in &report.rows {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{}",
                r.agent_id.map_or(String::new(), |a| a.to_string()),
                r.period_start,
                r.tickets_assigned,
                r.tickets_resolved,
                r.first_response_count,
                r.first_response_seconds_sum,
                r.resolution_seconds_sum,
                r.sla_met,
                r.sla_breached,
                r.resolution_rate_percent
                    .map_or(String::new(), |d| d.to_string()),
            );
        }
        std::fs::write(&csv, out).map_err(|e| format!("{}: {e}", csv.display()))?;
    }
    let threads = o.num("threads", 1)? as usize;
    let (best, median) = time(o.num("repeat", 5)?, || {
        ticket_metrics_columns_parallel(&cols, &options, threads).map(|r| r.rows.len())
    });
    let n = data.len() as f64;
    println!(
        "{}",
        json!({
            "workload": "w1", "rows": data.len(), "groups": report.rows.len(), "threads": threads,
            "quantiles": options.quantiles,
            "best_s": best, "median_s": median, "rows_per_s": n / best,
        })
    );
    Ok(())
}

/// Peak resident set size of this process, in KiB (Linux `VmHWM`).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn w1_stream(o: &Opts) -> Fallible<()> {
    let n = o.num("rows", 10_000_000)? as usize;
    let chunk = o.num("chunk", 1_000_000)?.max(1) as usize;
    let labels = w1_priority_labels();
    let mut agg = ColumnarAggregator::new(w1_options(chrono_tz::UTC)).map_err(|e| e.to_string())?;
    let mut gen = W1Gen::new(n, o.num("agents", 1000)?, o.num("seed", 1)?, true);
    let start = Instant::now();
    let mut aggregate_s = 0.0;
    while let Some(part) = gen.next_chunk(chunk) {
        let t = Instant::now();
        agg.add(&part.columns(&labels)).map_err(|e| e.to_string())?;
        aggregate_s += t.elapsed().as_secs_f64();
        if agg.rows_seen() >= n {
            break;
        }
    }
    let total_s = start.elapsed().as_secs_f64();
    let groups = agg.state().len();
    let report = agg.finish();
    println!(
        "{}",
        json!({
            "workload": "w1-stream", "rows": n, "chunk": chunk, "groups": groups,
            "result_rows": report.rows.len(), "rejected": report.rejected.len(),
            "total_s": total_s, "aggregate_s": aggregate_s,
            "rows_per_s": n as f64 / aggregate_s.max(f64::EPSILON),
            "peak_rss_kib": peak_rss_kib(),
        })
    );
    Ok(())
}

// ---- W2, W3, W4 ----

fn w2_apply(o: &Opts) -> Fallible<()> {
    let (mut engine, mut stream) = w2(o.num("tickets", 10_000)?, o.num("events", 200_000)?, 2);
    // For profiling one path: every event becomes an agent reply (`--only reply`, or the older
    // `--replies-only 1`) or a customer message (`--only customer`).
    let only = match o.0.get("only") {
        Some(k) => Some(k.to_owned()),
        None if o.num("replies-only", 0)? == 1 => Some("reply".to_owned()),
        None => None,
    };
    if let Some(only) = only {
        for e in &mut stream {
            if let Some(ticket_id) = e.kind.ticket_id() {
                e.kind = match only.as_str() {
                    "reply" => EventKind::AgentReplied {
                        ticket_id,
                        agent_id: None,
                    },
                    "customer" => EventKind::CustomerReplied { ticket_id },
                    other => return Err(format!("--only: reply or customer, not {other}")),
                };
            }
        }
    }
    if o.num("uuid-ids", 0)? == 1 {
        // Ids shaped like the UUIDs most hosts use (36 bytes) instead of W2's short ones.
        for (n, e) in stream.iter_mut().enumerate() {
            let x = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            e.id = format!(
                "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
                x >> 32,
                (x >> 16) & 0xffff,
                x & 0xfff,
                (x >> 4) & 0xfff,
                n
            );
        }
    }
    let mut times = Vec::with_capacity(stream.len());
    for e in &stream {
        let t = Instant::now();
        let applied = engine.apply(e).map_err(|e| e.to_string())?;
        times.push(t.elapsed().as_nanos() as u64);
        black_box(applied.duplicate);
    }
    let mut by_kind: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for (e, t) in stream.iter().zip(&times) {
        let kind = match e.kind {
            EventKind::AgentReplied { .. } => "agent_replied",
            EventKind::CustomerReplied { .. } => "customer_replied",
            EventKind::TicketTransferred { .. } => "transferred",
            _ => "other",
        };
        by_kind.entry(kind).or_default().push(*t);
    }
    let median = |v: &mut Vec<u64>| {
        v.sort_unstable();
        v.get(v.len() / 2).copied()
    };
    let kinds: BTreeMap<&str, Option<u64>> =
        by_kind.iter_mut().map(|(k, v)| (*k, median(v))).collect();
    times.sort_unstable();
    let pct = |p: usize| times.get((times.len().max(1) - 1) * p / 100).copied();
    let mean = times.iter().sum::<u64>() as f64 / times.len().max(1) as f64;
    println!(
        "{}",
        json!({
            "workload": "w2", "events": stream.len(), "median_ns": pct(50),
            "p90_ns": pct(90), "p99_ns": pct(99), "mean_ns": mean, "median_ns_by_kind": kinds,
        })
    );
    Ok(())
}

fn w3(o: &Opts) -> Fallible<()> {
    let cal = w3_calendar();
    let inputs = w3_instants(o.num("n", 100_000)? as usize, 3);
    let results: Vec<i64> = inputs
        .iter()
        .map(|(t, d)| cal.add_business_seconds(*t, *d).map(|r| r.timestamp()))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    if let Ok(dir) = o.path("out") {
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let starts: Vec<i64> = inputs.iter().map(|(t, _)| t.timestamp()).collect();
        let amounts: Vec<i64> = inputs.iter().map(|(_, d)| *d).collect();
        write_npy(&dir.join("start.npy"), &starts)?;
        write_npy(&dir.join("seconds.npy"), &amounts)?;
        write_npy(&dir.join("result.npy"), &results)?;
        // The calendar's holidays as days since 1970-01-01, so that peers build the same rules.
        let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
        let holidays: Vec<i64> = w3_holidays()
            .iter()
            .map(|d| (*d - epoch).num_days())
            .collect();
        write_npy(&dir.join("holidays.npy"), &holidays)?;
    }
    let (best, median) = time(o.num("repeat", 5)?, || {
        inputs
            .iter()
            .filter_map(|(t, d)| cal.add_business_seconds(*t, *d).ok())
            .count()
    });
    let n = inputs.len() as f64;
    println!(
        "{}",
        json!({
            "workload": "w3", "adds": inputs.len(), "best_s": best, "median_s": median,
            "adds_per_s": n / best, "ns_per_add": best * 1e9 / n,
        })
    );
    Ok(())
}

fn w4(o: &Opts) -> Fallible<()> {
    let now: DateTime<Utc> = Utc
        .with_ymd_and_hms(2025, 11, 3, 12, 0, 0)
        .single()
        .ok_or("bad instant")?;
    let agents = o.num("agents", 10_000)?;
    let err = |e: teamkpi::Error| e.to_string();
    let mut assigner =
        Assigner::new(w4_agents(agents, None, 4), AssignmentPolicy::default()).map_err(err)?;
    let one = w4_items(1, 5);
    let item = one.first().ok_or("no item")?;
    let picks = o.num("picks", 1_000_000)?;
    let t = Instant::now();
    for _ in 0..picks {
        let e = assigner
            .assign(item, now, AssignmentReason::AutoAssign)
            .map_err(|r| format!("no agent: {r:?}"))?;
        assigner.release(e.to, "ticket").map_err(err)?;
    }
    let pick_ns = t.elapsed().as_nanos() as f64 / picks.max(1) as f64;
    // A run of assignments without releases (loads grow, ties move), for peers to replay: the
    // agents' starting loads and the chosen ids are written out.
    let run = o.num("sequence", 100_000)?;
    let start = w4_agents(agents, None, 4);
    let mut seq = Assigner::new(start.clone(), AssignmentPolicy::default()).map_err(err)?;
    let mut chosen = Vec::with_capacity(run as usize);
    let t = Instant::now();
    for _ in 0..run {
        let e = seq
            .assign(item, now, AssignmentReason::AutoAssign)
            .map_err(|r| format!("no agent: {r:?}"))?;
        chosen.push(e.to);
    }
    let assign_ns = t.elapsed().as_nanos() as f64 / run.max(1) as f64;
    if let Ok(dir) = o.path("out") {
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let loads: Vec<i64> = start
            .iter()
            .map(|a| a.open_load.get("ticket").copied().unwrap_or(0))
            .collect();
        write_npy(&dir.join("loads.npy"), &loads)?;
        write_npy(&dir.join("chosen.npy"), &chosen)?;
    }
    let backlog = w4_items(o.num("items", 1_000_000)?, 5);
    let mut drainer =
        Assigner::new(w4_agents(agents, Some(150), 4), AssignmentPolicy::default()).map_err(err)?;
    let t = Instant::now();
    let assigned = drainer.drain(&backlog, now).events.len();
    let drain_s = t.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({
            "workload": "w4", "agents": agents, "pick_and_release_ns": pick_ns,
            "assign_sequence": run, "assign_ns": assign_ns,
            "backlog": backlog.len(), "drained": assigned, "drain_s": drain_s,
        })
    );
    Ok(())
}
