//! `teamkpi live`: live metrics in the store — backfill from the activity tables, apply an
//! events file, print live rows, evict finished tickets, reset.

use std::io::BufRead;
use std::path::Path;

use teamkpi::live::{backfill, live_rows};
use teamkpi::metrics::{GroupBy, TicketMetrics};
use teamkpi::request::LiveRowsRequest;
use teamkpi::PeriodKind;

use crate::{progress, CliResult, Ctx, Failure};

/// Events a call applies at most.
const BATCH: usize = 1000;

/// `live backfill --days N`: the activity of the N local days ending today (tickets created
/// before them with activity inside included) into live state; running it again changes nothing.
pub fn run_backfill(ctx: &Ctx, days: u32) -> CliResult {
    let options = teamkpi_stores::live_options(&*ctx.store, ctx.tenant())?;
    let range = teamkpi::last_n_days(ctx.now, ctx.timezone, days.max(1))?;
    let (from, to) = range.utc_bounds(ctx.timezone);
    let started = std::time::Instant::now();
    let bar = progress(u64::from(days.max(1)), "backfilling");
    let report = backfill(
        ctx.store.live(),
        &*ctx.store,
        &options,
        from,
        to,
        BATCH,
        &mut |p| {
            bar.set_position(p.days_done);
        },
    )?;
    bar.finish_and_clear();
    out!(
        "backfill: {} tickets, {} calls, {} sessions read; {} events applied, {} already applied, {} refused ({:.1} s)",
        report.tickets,
        report.calls,
        report.sessions,
        report.applied,
        report.duplicates,
        report.rejected,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `live apply FILE`: a JSON Lines file of events (`-` reads standard input), in batches of
/// 1 000. A line that does not decode stops the run before its batch is applied, naming the line.
pub fn run_apply(ctx: &Ctx, file: &Path) -> CliResult {
    let options = teamkpi_stores::live_options(&*ctx.store, ctx.tenant())?;
    let reader: Box<dyn BufRead> = if file == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(file).map_err(|e| {
            Failure::new(
                "invalid_argument",
                format!("cannot read {}: {e}", file.display()),
            )
        })?;
        Box::new(std::io::BufReader::new(f))
    };
    let (mut applied, mut duplicates, mut refused) = (0u64, 0u64, 0u64);
    let mut batch: Vec<(usize, serde_json::Value)> = Vec::with_capacity(BATCH);
    let mut flush = |batch: &mut Vec<(usize, serde_json::Value)>| -> CliResult {
        let lines: Vec<usize> = batch.iter().map(|(l, _)| *l).collect();
        let values = batch.drain(..).map(|(_, v)| v).collect();
        let events = match teamkpi::engine::decode_batch(ctx.tenant(), values) {
            Ok(e) => e,
            Err(teamkpi::Error::InvalidEvents { errors }) => {
                let first = &errors[0];
                return Err(Failure::new(
                    "invalid_events",
                    format!(
                        "line {}: {} ({}); {} bad line(s) in this batch, nothing of it applied",
                        lines.get(first.index).copied().unwrap_or(0),
                        first.message,
                        first.code,
                        errors.len()
                    ),
                ));
            }
            Err(e) => return Err(e.into()),
        };
        let r = ctx.store.live().live_apply(&options, &events)?;
        applied += r.applied;
        duplicates += r.duplicates;
        refused += r.rejected.len() as u64;
        for x in &r.rejected {
            out!(
                "  refused: line {} ({}): {} [{}]",
                lines.get(x.index).copied().unwrap_or(0),
                x.id,
                x.message,
                x.code
            );
        }
        Ok(())
    };
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| Failure::new("invalid_argument", format!("read: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&line).map_err(|e| {
            Failure::new("invalid_events", format!("line {}: not JSON ({e})", i + 1))
        })?;
        batch.push((i + 1, v));
        if batch.len() == BATCH {
            flush(&mut batch)?;
        }
    }
    if !batch.is_empty() {
        flush(&mut batch)?;
    }
    out!("live apply: {applied} applied, {duplicates} already applied, {refused} refused");
    Ok(())
}

/// `live rows`: live figures per agent (or team) and period for the N days ending today.
pub fn run_rows(ctx: &Ctx, period: &str, team: bool, days: u32, json: bool) -> CliResult {
    let request = LiveRowsRequest {
        period: Some(PeriodKind::parse(period)?),
        group_by: Some(if team { GroupBy::Team } else { GroupBy::Agent }),
        ..LiveRowsRequest::default()
    };
    let range = teamkpi::last_n_days(ctx.now, ctx.timezone, days.max(1))?;
    // Rows of the periods the range touches, the first one from its start.
    let from = teamkpi::Period::containing(PeriodKind::parse(period)?, range.start).start;
    let rows = live_rows(
        ctx.store.live(),
        &request.query(ctx.tenant(), from, range.end)?,
    )?;
    if json {
        let text = serde_json::to_string_pretty(&rows)
            .map_err(|e| Failure::new("internal", e.to_string()))?;
        out!("{text}");
        return Ok(());
    }
    let who = if team { "team" } else { "agent" };
    out!(
        "{who:<12} {:<10} {:>8} {:>8} {:>8} {:>9} {:>10} {:>10} {:>7}",
        "period",
        "assigned",
        "resolved",
        "messages",
        "res.rate%",
        "avg 1st(s)",
        "avg res(s)",
        "sla met"
    );
    for r in &rows {
        out!(
            "{:<12} {:<10} {:>8} {:>8} {:>8} {:>9} {:>10} {:>10} {:>7}",
            name(r, team),
            r.period_start.to_string(),
            r.tickets_assigned,
            r.tickets_resolved,
            r.agent_messages,
            shown(r.resolution_rate_percent.map(teamkpi::round2)),
            shown(r.avg_first_response_seconds.map(|d| d.round())),
            shown(r.avg_resolution_seconds.map(|d| d.round())),
            r.sla_met
        );
    }
    if rows.is_empty() {
        out!("(no live rows: run `teamkpi live backfill` or apply events first)");
    }
    Ok(())
}

fn name(r: &TicketMetrics, team: bool) -> String {
    if team {
        r.team.clone().unwrap_or_else(|| "(none)".into())
    } else {
        r.agent_id
            .map_or_else(|| "(unassigned)".into(), |a| a.to_string())
    }
}

fn shown(v: Option<rust_decimal::Decimal>) -> String {
    v.map_or_else(|| "-".into(), |d| d.normalize().to_string())
}

/// `live evict --keep-days N`: forgets the events of tickets finished before the N local days
/// ending today (their figures stay; later events for them are refused as late).
pub fn run_evict(ctx: &Ctx, keep_days: u32) -> CliResult {
    let range = teamkpi::last_n_days(ctx.now, ctx.timezone, keep_days.max(1))?;
    let (before, _) = range.utc_bounds(ctx.timezone);
    let n = ctx.store.live().live_evict(ctx.tenant(), before)?;
    out!(
        "live evict: {n} finished tickets before {} forgotten",
        range.start
    );
    Ok(())
}

/// `live reset`: deletes the tenant's live state (to rebuild it with other settings).
pub fn run_reset(ctx: &Ctx) -> CliResult {
    ctx.store.live().live_reset(ctx.tenant())?;
    out!("live reset: the live state is empty; run `teamkpi live backfill` to rebuild it");
    Ok(())
}
