//! `teamkpi report`: scorecards, ranking and weekly trends as a table, JSON or an HTML page.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use teamkpi::metrics::analytics::{
    agent_comparison, performance_analytics, weekly_trends, AgentComparison, PerformanceAnalytics,
    WeeklyTrends,
};
use teamkpi::request::AnalyticsRequest;
use teamkpi::{
    overall_score, round2, sla_analytics_of, AchievementPolicy, AssignmentFilter, ScoreBands,
    SlaAnalytics, SlaGroupBy, TicketTimeline, WeightedAchievement,
};

use crate::{CliResult, Ctx, Failure};

#[derive(Debug, Serialize)]
struct KpiLine {
    key: String,
    name: String,
    unit: String,
    /// The assignment's weight in the overall score, percent.
    #[serde(with = "teamkpi::num::serde_number")]
    weight: Decimal,
    #[serde(with = "teamkpi::num::serde_number_opt")]
    actual: Option<Decimal>,
    #[serde(with = "teamkpi::num::serde_number")]
    target: Decimal,
    #[serde(with = "teamkpi::num::serde_number_opt")]
    achievement: Option<Decimal>,
    period_start: Option<String>,
    period_end: Option<String>,
    complete: Option<bool>,
}

#[derive(Debug, Serialize)]
struct Scorecard {
    rank: u32,
    agent_id: u64,
    name: Option<String>,
    #[serde(with = "teamkpi::num::serde_number_opt")]
    overall_kpi_score: Option<Decimal>,
    band: Option<String>,
    #[serde(with = "teamkpi::num::serde_number_opt")]
    performance_score: Option<Decimal>,
    kpis: Vec<KpiLine>,
}

#[derive(Debug, Serialize)]
struct Report {
    generated_at: String,
    timezone: String,
    window: BTreeMap<&'static str, String>,
    performance: PerformanceAnalytics,
    trends: WeeklyTrends,
    comparison: AgentComparison,
    sla: Vec<SlaAnalytics>,
    scorecards: Vec<Scorecard>,
}

/// At most `n` characters of `s` (column headers).
fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn build(ctx: &Ctx, days: u32) -> CliResult<Report> {
    if days == 0 {
        return Err(Failure::new(
            "invalid_argument",
            "--days must be at least 1",
        ));
    }
    let tickets = ctx.tickets_for_days(days)?;
    let options = AnalyticsRequest {
        days,
        agent_id: None,
        timezone: Some(ctx.timezone),
        sla: ctx.sla.clone(),
        tenant: ctx.tenant.clone(),
    }
    .options(ctx.now);
    let performance = performance_analytics(&tickets, &options, None)?;
    let trends = weekly_trends(&tickets, &options, None)?;
    let comparison = agent_comparison(&tickets, &options)?;
    let range = teamkpi::last_n_days(ctx.now, ctx.timezone, days)?;
    let (from, to) = range.utc_bounds(ctx.timezone);
    let sla = match &ctx.sla {
        Some(policy) => {
            let timelines: Vec<_> = tickets.iter().map(TicketTimeline::from_ticket).collect();
            sla_analytics_of(policy, &timelines, ctx.now, from, to, SlaGroupBy::All)?
        }
        None => Vec::new(),
    };

    // Scorecards: each KPI's latest complete measurement, weighted into the overall score.
    let names: BTreeMap<u64, Option<String>> = ctx
        .store
        .agents(ctx.tenant())?
        .into_iter()
        .map(|(a, n)| (a.id, n))
        .collect();
    let defs: BTreeMap<String, teamkpi::KpiDefinition> = ctx
        .store
        .definitions(ctx.tenant())?
        .into_iter()
        .map(|d| (d.key.clone(), d))
        .collect();
    let bands = ScoreBands::default();
    let ranks: BTreeMap<u64, (u32, Option<Decimal>)> = comparison
        .agents
        .iter()
        .map(|r| (r.agent_id, (r.rank, r.performance_score)))
        .collect();
    let mut cards = Vec::new();
    for agent in names.keys() {
        let assignments = ctx.store.assignments(&AssignmentFilter {
            tenant: ctx.tenant.clone(),
            agent_id: Some(*agent),
            ..AssignmentFilter::default()
        })?;
        let mut items = Vec::new();
        let mut kpis = Vec::new();
        for a in &assignments {
            let latest = ctx
                .store
                .measurements(ctx.tenant(), a.id)?
                .into_iter()
                .rev()
                .find(|m| m.complete && !m.ad_hoc);
            let def = defs.get(&a.definition);
            items.push(WeightedAchievement {
                weight: a.weight,
                achievement: latest.as_ref().map(|m| m.achievement),
            });
            kpis.push(KpiLine {
                key: a.definition.clone(),
                name: def.map_or_else(|| a.definition.clone(), |d| d.name.clone()),
                unit: def.map_or_else(String::new, |d| d.unit.as_str().to_owned()),
                weight: a.weight,
                actual: latest.as_ref().map(|m| round2(m.actual)),
                target: round2(a.target),
                achievement: latest.as_ref().map(|m| round2(m.achievement)),
                period_start: latest.as_ref().map(|m| m.period_start.to_string()),
                period_end: latest.as_ref().map(|m| m.period_end.to_string()),
                complete: latest.as_ref().map(|m| m.complete),
            });
        }
        let overall = overall_score(&items, &AchievementPolicy::default())?;
        let (rank, perf) = ranks.get(agent).copied().unwrap_or((u32::MAX, None));
        cards.push(Scorecard {
            rank,
            agent_id: *agent,
            name: names.get(agent).cloned().flatten(),
            overall_kpi_score: overall.map(round2),
            band: overall.and_then(|s| bands.label(s)).map(str::to_owned),
            performance_score: perf.map(round2),
            kpis,
        });
    }
    cards.sort_by(|a, b| {
        b.overall_kpi_score
            .partial_cmp(&a.overall_kpi_score)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.agent_id.cmp(&b.agent_id))
    });
    for (i, c) in cards.iter_mut().enumerate() {
        c.rank = i as u32 + 1;
    }
    let mut window = BTreeMap::new();
    window.insert("start", range.start.to_string());
    window.insert("end", range.end.to_string());
    window.insert("days", days.to_string());
    Ok(Report {
        generated_at: ctx.now.to_rfc3339(),
        timezone: ctx.timezone.name().to_owned(),
        window,
        performance,
        trends,
        comparison,
        sla,
        scorecards: cards,
    })
}

fn opt(v: Option<Decimal>, suffix: &str) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x:.2}{suffix}"))
}

/// Prints the report (table or JSON) and optionally writes the HTML page.
pub fn run(ctx: &Ctx, days: u32, json: bool, html: Option<&Path>) -> CliResult {
    let report = build(ctx, days)?;
    if let Some(path) = html {
        std::fs::write(path, render_html(&report)).map_err(|e| {
            Failure::new("storage", format!("cannot write {}: {e}", path.display()))
        })?;
    }
    if json {
        out!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
        return Ok(());
    }
    let p = &report.performance;
    out!(
        "Team, {} – {} ({}): {} handled, {} resolved, resolution rate {}, avg response {}, avg resolution {}, SLA {}",
        report.window["start"],
        report.window["end"],
        report.timezone,
        p.tickets_handled,
        p.tickets_resolved,
        opt(p.resolution_rate_percent.map(round2), " %"),
        opt(p.avg_response_time_hours.map(round2), " h"),
        opt(p.avg_resolution_time_hours.map(round2), " h"),
        opt(p.sla_compliance_rate_percent.map(round2), " %"),
    );
    // The columns are the team's KPIs, in the order agents were assigned them; the header gives
    // their weights, or says they differ between agents.
    let mut columns: Vec<(&str, Decimal)> = Vec::new();
    let mut same_weights = true;
    for line in report.scorecards.iter().flat_map(|c| &c.kpis) {
        match columns.iter().find(|(k, _)| *k == line.key) {
            Some((_, w)) => same_weights &= *w == line.weight,
            None => columns.push((&line.key, line.weight)),
        }
    }
    let weights = if same_weights {
        let list: Vec<String> = columns.iter().map(|(k, w)| format!("{k} {w} %")).collect();
        format!("weights {}", list.join(", "))
    } else {
        "weights differ between agents".to_owned()
    };
    out!("\nScorecards (each KPI's latest complete period, achievement %; {weights})");
    let mut header = format!(
        "{:>4} {:<22} {:>9} {:<18}",
        "rank", "agent", "overall", "band"
    );
    for (key, _) in &columns {
        header.push_str(&format!(" {:>14}", truncate(key, 14)));
    }
    out!("{header}");
    for c in &report.scorecards {
        let mut line = format!(
            "{:>4} {:<22} {:>9} {:<18}",
            c.rank,
            c.name
                .clone()
                .unwrap_or_else(|| format!("agent {}", c.agent_id)),
            opt(c.overall_kpi_score, ""),
            c.band.clone().unwrap_or_else(|| "-".into()),
        );
        for (key, _) in &columns {
            let ach = c
                .kpis
                .iter()
                .find(|k| k.key == *key)
                .and_then(|k| k.achievement);
            line.push_str(&format!(" {:>14}", opt(ach, "%")));
        }
        out!("{line}");
    }
    out!(
        "\nWeekly trends (7-day windows from {})",
        report.window["start"]
    );
    out!(
        "{:>4} {:<12} {:<12} {:>8} {:>9} {:>10}",
        "week",
        "start",
        "end",
        "created",
        "resolved",
        "rate"
    );
    for w in &report.trends.trends {
        out!(
            "{:>4} {:<12} {:<12} {:>8} {:>9} {:>10}",
            w.week,
            w.week_start,
            w.week_end,
            w.tickets_created,
            w.tickets_resolved,
            opt(w.resolution_rate.map(round2), " %")
        );
    }
    if let Some(s) = report.sla.first() {
        out!(
            "\nSLA: {} tasks, {} breached, {} resolved on time → compliance {}, breach rate {}",
            s.total_sla_tasks,
            s.breached_count,
            s.resolved_on_time,
            opt(s.compliance_rate_percent.map(round2), " %"),
            opt(s.breach_rate_percent.map(round2), " %")
        );
    }
    Ok(())
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A self-contained page: inline CSS and SVG, no scripts or network.
fn render_html(r: &Report) -> String {
    let mut bars = String::new();
    let width = 640.0;
    for (i, c) in r.scorecards.iter().enumerate() {
        let score = c.overall_kpi_score.unwrap_or_default();
        // Geometry only: the bar's length in pixels.
        let w = (score.to_f64().unwrap_or(0.0).min(150.0) / 150.0) * (width - 220.0);
        let y = i as f64 * 22.0;
        let name = c
            .name
            .clone()
            .unwrap_or_else(|| format!("agent {}", c.agent_id));
        let _ = write!(
            bars,
            r#"<text x="0" y="{ty}" class="l">{name}</text><rect x="180" y="{y}" width="{w:.1}" height="16" class="{cls}"/><text x="{tx:.1}" y="{ty}" class="v">{score:.2}</text>"#,
            ty = y + 12.0,
            name = esc(&name),
            y = y,
            w = w,
            cls = if score >= Decimal::from(90) {
                "good"
            } else if score >= Decimal::from(75) {
                "ok"
            } else {
                "bad"
            },
            tx = 186.0 + w,
            score = score
        );
    }
    let bars_h = r.scorecards.len() as f64 * 22.0 + 4.0;
    let trends = &r.trends.trends;
    let max = trends
        .iter()
        .map(|w| w.tickets_created.max(w.tickets_resolved))
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let point = |i: usize, v: u64| {
        let x = 40.0 + i as f64 * (560.0 / (trends.len().max(2) - 1) as f64);
        let y = 190.0 - (v as f64 / max) * 170.0;
        format!("{x:.1},{y:.1}")
    };
    let created: Vec<String> = trends
        .iter()
        .enumerate()
        .map(|(i, w)| point(i, w.tickets_created))
        .collect();
    let resolved: Vec<String> = trends
        .iter()
        .enumerate()
        .map(|(i, w)| point(i, w.tickets_resolved))
        .collect();
    let labels: String = trends
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let x = 40.0 + i as f64 * (560.0 / (trends.len().max(2) - 1) as f64);
            format!(
                r#"<text x="{x:.1}" y="210" class="a">{}</text>"#,
                w.week_start
            )
        })
        .collect();
    let mut rows = String::new();
    for c in &r.scorecards {
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td>{}</tr>",
            c.rank,
            esc(&c
                .name
                .clone()
                .unwrap_or_else(|| format!("agent {}", c.agent_id))),
            opt(c.overall_kpi_score, ""),
            esc(c.band.as_deref().unwrap_or("-")),
            c.kpis
                .iter()
                .map(|k| format!(
                    "<td title=\"{}: {} of {} {}\">{}</td>",
                    esc(&k.name),
                    opt(k.actual, ""),
                    k.target,
                    esc(&k.unit),
                    opt(k.achievement, " %")
                ))
                .collect::<String>()
        );
    }
    let heads: String = r
        .scorecards
        .first()
        .map(|c| {
            c.kpis
                .iter()
                .map(|k| format!("<th>{}</th>", esc(&k.name)))
                .collect()
        })
        .unwrap_or_default();
    format!(
        r##"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>teamkpi report</title>
<style>body{{font:14px system-ui,sans-serif;margin:2em;color:#222}}h1{{font-size:1.4em}}
table{{border-collapse:collapse}}td,th{{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}}
td:nth-child(2),th:nth-child(2){{text-align:left}}.l{{font-size:12px}}.v{{font-size:11px;fill:#444}}
.a{{font-size:10px;text-anchor:middle;fill:#666}}.good{{fill:#2e8b57}}.ok{{fill:#e0a100}}.bad{{fill:#c0392b}}
polyline{{fill:none;stroke-width:2}}</style></head><body>
<h1>Team performance, {start} – {end} ({tz})</h1>
<p>{handled} tickets handled, {resolved} resolved; resolution rate {rate}; SLA compliance {sla}. Generated {gen}.</p>
<h2>Overall KPI score</h2>
<svg width="{width}" height="{bars_h}" role="img" aria-label="overall KPI score per agent">{bars}</svg>
<h2>Weekly trends</h2>
<svg width="640" height="220" role="img" aria-label="tickets created and resolved per week">
<line x1="40" y1="190" x2="600" y2="190" stroke="#999"/>
<polyline points="{created}" stroke="#1f77b4"/><polyline points="{resolved_line}" stroke="#2e8b57"/>{labels}
<text x="44" y="16" class="l" fill="#1f77b4">created</text><text x="110" y="16" class="l" fill="#2e8b57">resolved</text></svg>
<h2>Scorecards</h2>
<table><tr><th>rank</th><th>agent</th><th>overall</th><th>band</th>{heads}</tr>{rows}</table>
</body></html>
"##,
        start = esc(&r.window["start"]),
        end = esc(&r.window["end"]),
        tz = esc(&r.timezone),
        handled = r.performance.tickets_handled,
        resolved = r.performance.tickets_resolved,
        rate = opt(r.performance.resolution_rate_percent.map(round2), " %"),
        sla = opt(r.performance.sla_compliance_rate_percent.map(round2), " %"),
        gen = esc(&r.generated_at),
        width = width,
        bars_h = bars_h,
        bars = bars,
        created = created.join(" "),
        resolved_line = resolved.join(" "),
        labels = labels,
        heads = heads,
        rows = rows,
    )
}
