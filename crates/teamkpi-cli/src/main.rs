//! `teamkpi`: the command line of teamkpi on its SQLite store.

/// Prints a line to stdout; a closed pipe (`teamkpi report | head`) is not an error.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod demo;
mod import;
mod live;
mod manage;
mod report;

/// The database every command uses without --db.
const DEFAULT_DB: &str = "teamkpi.sqlite";

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;

use teamkpi::metrics::{Ticket, Transfer};
use teamkpi::request::UpdateOptions;
use teamkpi::{Assigner, AssignmentPolicy, AssignmentSettings, OpenItem, TicketTimeline, WorkItem};
use teamkpi_stores::HostStore;
use teamkpi_stores::UpdateSource;

/// Team performance KPIs, SLA and assignment on a SQLite database.
#[derive(Debug, Parser)]
#[command(name = "teamkpi", version, about, long_about = None)]
struct Cli {
    /// The database: a SQLite file (./teamkpi.sqlite by default; `init`, `demo` and `import`
    /// create it) or a postgres:// URL.
    #[arg(long, global = true)]
    db: Option<PathBuf>,
    /// The company (tenant) to work on.
    #[arg(long, global = true)]
    tenant: Option<String>,
    /// Use this instant as "now" (RFC 3339), for reproducible runs.
    #[arg(long, global = true, value_parser = parse_now)]
    now: Option<DateTime<Utc>>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a sample team (25 agents, 30 days of tickets, calls and sessions, KPIs, an SLA
    /// policy), compute its KPIs and print the report.
    Demo {
        /// Number of agents (at most 1 000).
        #[arg(long, default_value_t = 25)]
        agents: u64,
        /// Days of history.
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// Seed of the generator.
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Create an empty team database (the schema; nothing else). Running it again changes
    /// nothing.
    Init,
    /// Agents: list, add, set presence.
    Agents {
        #[command(subcommand)]
        command: manage::AgentsCommand,
    },
    /// KPI definitions and their assignments to agents (targets, weights).
    Kpis {
        #[command(subcommand)]
        command: manage::KpisCommand,
    },
    /// Company settings: time zone, SLA policy, assignment settings.
    Settings {
        #[command(subcommand)]
        command: manage::SettingsCommand,
    },
    /// Import tickets, calls or sessions from CSV or JSON Lines (by file extension).
    ///
    /// CSV has a header row (empty cells are absent); JSON Lines one object a line, nested
    /// lists allowed. Every row is checked first: one bad row imports nothing, and the report
    /// names its line and field. Instants are RFC 3339 with an offset (2025-11-03T09:00:00Z).
    ///
    /// tickets: id, created_at; optional agent_id (assigned_to), team, priority, status, kind
    /// (ticket, dispute, order, client), first_response_at, resolved_at, closed_at,
    /// last_contacted_at; in JSON Lines also reopened_at, transfers, agent_messages,
    /// status_history ([{"at", "status"}]: pause statuses stop the SLA clocks) and
    /// customer_messages ([{"at"}]: they open next-response cycles).
    ///
    /// calls: id, agent_id, started_at (call_date, start_time), duration_seconds (duration),
    /// outcome (status: lead, completed, no_answer, busy, failed); optional contact_id,
    /// campaign_id.
    ///
    /// sessions: agent_id, kind (logged_in, working, break), start; optional end (open while
    /// absent).
    Import {
        /// What the file holds.
        #[arg(value_parser = ["tickets", "calls", "sessions"])]
        kind: String,
        /// The file (.csv, .jsonl or .ndjson).
        file: PathBuf,
    },
    /// Recompute KPI measurements (the support desk's update_kpis): today by default.
    Update {
        /// One day, YYYY-MM-DD.
        #[arg(long, conflicts_with = "days")]
        date: Option<String>,
        /// The N days ending today, today included.
        #[arg(long)]
        days: Option<u32>,
        /// Only this agent.
        #[arg(long)]
        agent: Option<u64>,
        /// Read the live aggregates (`teamkpi live backfill` first) instead of the tickets.
        #[arg(long)]
        live: bool,
    },
    /// Live metrics held in the store: backfill, apply events, read rows.
    Live {
        #[command(subcommand)]
        command: LiveCommand,
    },
    /// Scorecards, ranking and weekly trends.
    Report {
        /// Days back, today included.
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// Print JSON with the support automation's keys.
        #[arg(long)]
        json: bool,
        /// Also write a self-contained HTML page with charts.
        #[arg(long)]
        html: Option<PathBuf>,
    },
    /// SLA breaches and at-risk tickets now: the ones not alerted before (each alert once, the
    /// keys kept in the database), the most overdue first.
    Sla {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Every current breach and risk, alerted before or not.
        #[arg(long)]
        all: bool,
    },
    /// Assign unassigned open tickets to the least busy agents (the company settings apply).
    Assign {
        /// Show what would happen, change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Re-assign stale work: not contacted in time (the CRM assignment), inactive agents (the support automation).
    Reassign {
        /// Show what would happen, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Hours of inactivity after which an agent's open items move (the support automation: 6).
        #[arg(long, default_value_t = 6)]
        inactive_hours: i64,
    },
}

#[derive(Debug, Subcommand)]
enum LiveCommand {
    /// Load the tickets, calls and sessions of the last N days into live state (idempotent).
    Backfill {
        /// Days back, today included.
        #[arg(long, default_value_t = 90)]
        days: u32,
    },
    /// Apply a JSON Lines file of events (`-`: standard input), 1 000 a transaction.
    Apply {
        /// The file.
        file: PathBuf,
    },
    /// Print live rows per agent (or team) and period.
    Rows {
        /// day, week or month.
        #[arg(long, default_value = "day")]
        period: String,
        /// Team rows instead of agent rows.
        #[arg(long)]
        team: bool,
        /// Days back, today included.
        #[arg(long, default_value_t = 7)]
        days: u32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Forget the events of tickets finished before the last N days (their figures stay).
    Evict {
        /// Days to keep, today included.
        #[arg(long, default_value_t = 90)]
        keep_days: u32,
    },
    /// Delete the live state (to rebuild it with other settings).
    Reset,
}

fn parse_now(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| format!("{s:?} is not an RFC 3339 instant ({e})"))
}

/// A CLI failure: a one-line cause and a code.
#[derive(Debug)]
pub struct Failure {
    code: String,
    message: String,
}

impl<E: Into<teamkpi::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        let e: teamkpi::Error = e.into();
        Failure {
            code: e.code().to_owned(),
            message: e.to_string(),
        }
    }
}

impl Failure {
    fn new(code: &str, message: impl Into<String>) -> Self {
        Failure {
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

type CliResult<T = ()> = Result<T, Failure>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A bug must not end in a backtrace: the panic's message becomes an `internal` failure.
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = std::panic::catch_unwind(|| run(cli)).unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".to_owned());
        Err(Failure::new(
            "internal",
            format!("a bug in teamkpi ({what}); please report it"),
        ))
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!(
                "error [{}]: {}",
                f.code,
                f.message.lines().next().unwrap_or("")
            );
            ExitCode::from(2)
        }
    }
}

/// Shared context of the commands.
pub struct Ctx {
    store: Box<dyn HostStore>,
    tenant: Option<String>,
    now: DateTime<Utc>,
    timezone: Tz,
    settings: AssignmentSettings,
    sla: Option<teamkpi::SlaPolicy>,
}

impl Ctx {
    fn open(path: &std::path::Path, tenant: Option<String>, now: DateTime<Utc>) -> CliResult<Ctx> {
        let store = teamkpi_stores::open(&path.to_string_lossy())
            .map_err(|e| Failure::new(e.code(), e.to_string()))?;
        Ctx::with_store(store, tenant, now)
    }

    fn with_store(
        store: Box<dyn HostStore>,
        tenant: Option<String>,
        now: DateTime<Utc>,
    ) -> CliResult<Ctx> {
        let stored = store.settings(tenant.as_deref())?;
        Ok(Ctx {
            timezone: teamkpi::parse_timezone(&stored.timezone)?,
            store,
            tenant,
            now,
            settings: stored.assignment,
            sla: stored.sla,
        })
    }

    fn tenant(&self) -> Option<&str> {
        self.tenant.as_deref()
    }

    /// `update_kpis`'s options with this context's tenant.
    fn update_options(&self) -> UpdateOptions {
        UpdateOptions {
            tenant: self.tenant.clone(),
            ..UpdateOptions::default()
        }
    }

    /// Tickets active in the `days` local days ending today.
    fn tickets_for_days(&self, days: u32) -> CliResult<Vec<Ticket>> {
        let range = teamkpi::last_n_days(self.now, self.timezone, days.max(1))?;
        // Weekly and monthly KPIs reach back to the start of their period.
        let from = teamkpi::Period::containing(teamkpi::PeriodKind::Month, range.start).start;
        let (from, _) = teamkpi::DateRange::day(from).utc_bounds(self.timezone);
        Ok(self
            .store
            .tickets(self.tenant(), from, self.now + Duration::days(1))?)
    }
}

fn progress(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{msg:>12} [{bar:30}] {pos}/{len}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}

/// A spinner (drawn on a terminal only) for one long call that reports no steps.
fn working(what: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner().with_message(what.to_owned());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

fn run(cli: Cli) -> CliResult {
    let now = cli.now.unwrap_or_else(Utc::now);
    let now = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
    match cli.command {
        Command::Demo { agents, days, seed } => {
            let path = cli.db.unwrap_or_else(|| PathBuf::from(DEFAULT_DB));
            if teamkpi_stores::is_postgres_url(&path.to_string_lossy()) {
                return Err(Failure::new(
                    "invalid_argument",
                    "demo writes a fresh SQLite file; give --db a file path",
                ));
            }
            demo::run(&path, cli.tenant, now, agents, days, seed)
        }
        command => {
            let path = cli.db.unwrap_or_else(|| PathBuf::from(DEFAULT_DB));
            // Only `init` and `import` start a database; the other commands read one, and a
            // file that is not there is a mistaken path, not an empty team.
            let reads = !matches!(command, Command::Import { .. } | Command::Init);
            let db = path.to_string_lossy();
            if reads && !teamkpi_stores::is_postgres_url(&db) && db != ":memory:" && !path.exists()
            {
                return Err(Failure::new(
                    "storage",
                    format!(
                        "no database at {}: `teamkpi init` starts a team's, `teamkpi demo` a \
                         sample one; or give --db",
                        path.display()
                    ),
                ));
            }
            let ctx = Ctx::open(&path, cli.tenant, now)?;
            match command {
                Command::Demo { .. } => Ok(()),
                Command::Import { kind, file } => import::run(&ctx, &kind, &file),
                Command::Init => {
                    out!("team database ready at {}", path.display());
                    Ok(())
                }
                Command::Agents { command } => manage::agents(&ctx, command),
                Command::Kpis { command } => manage::kpis(&ctx, command),
                Command::Settings { command } => manage::settings(&ctx, command),
                Command::Update {
                    date,
                    days,
                    agent,
                    live,
                } => {
                    let mut options = ctx.update_options();
                    options.date = date
                        .map(|d| teamkpi::parse_date("--date", &d))
                        .transpose()?;
                    options.days = days;
                    options.agent_id = agent;
                    update(&ctx, &options, true, live)
                }
                Command::Live { command } => match command {
                    LiveCommand::Backfill { days } => live::run_backfill(&ctx, days),
                    LiveCommand::Apply { file } => live::run_apply(&ctx, &file),
                    LiveCommand::Rows {
                        period,
                        team,
                        days,
                        json,
                    } => live::run_rows(&ctx, &period, team, days, json),
                    LiveCommand::Evict { keep_days } => live::run_evict(&ctx, keep_days),
                    LiveCommand::Reset => live::run_reset(&ctx),
                },
                Command::Report { days, json, html } => {
                    report::run(&ctx, days, json, html.as_deref())
                }
                Command::Sla { json, all } => sla(&ctx, json, all),
                Command::Assign { dry_run } => assign(&ctx, dry_run),
                Command::Reassign {
                    dry_run,
                    inactive_hours,
                } => reassign(&ctx, dry_run, inactive_hours),
            }
        }
    }
}

/// `update`: recompute measurements and print successes, skips and failures.
pub fn update(ctx: &Ctx, options: &UpdateOptions, print: bool, live: bool) -> CliResult {
    let source = if live {
        UpdateSource::Live
    } else {
        UpdateSource::Store
    };
    // One call computes every KPI.
    let bar = working("updating KPIs");
    let report = teamkpi_stores::update(&*ctx.store, ctx.now, options, source, None)?;
    bar.finish_and_clear();
    if print {
        out!(
            "KPI update: {} stored, {} skipped (no data), {} failed",
            report.successes,
            report.skipped,
            report.failures
        );
        for o in report
            .outcomes
            .iter()
            .filter(|o| o.outcome == teamkpi::update::KpiOutcomeKind::Failed)
        {
            out!(
                "  failed: agent {} {} {}..{}: {}",
                o.agent_id,
                o.definition,
                o.period_start,
                o.period_end,
                o.reason.as_deref().unwrap_or("")
            );
        }
    }
    Ok(())
}

/// Whole seconds as hours with one decimal, by integer arithmetic (no float on the way out).
fn hours_text(seconds: i64) -> String {
    let tenths = (seconds.saturating_add(180)).div_euclid(360);
    format!("{}.{}", tenths.div_euclid(10), tenths.rem_euclid(10))
}

fn sla(ctx: &Ctx, json: bool, all: bool) -> CliResult {
    let Some(policy) = &ctx.sla else {
        return Err(Failure::new(
            "invalid_argument",
            "this database has no SLA policy (teamkpi settings set --sla-policy FILE)",
        ));
    };
    let timelines: Vec<TicketTimeline> = ctx
        .store
        .open_tickets(ctx.tenant())?
        .iter()
        .map(TicketTimeline::from_ticket)
        .collect();
    // Every current alert, then the ones not sent before; keys no longer current are forgotten,
    // so a target that breaches again in a later cycle alerts again.
    let current = policy.scan(&timelines, ctx.now, &Default::default());
    let alerted = ctx.store.sla_alerted(ctx.tenant())?;
    let now_keys: std::collections::BTreeSet<&String> = current
        .breaches
        .iter()
        .chain(&current.at_risk)
        .map(|a| &a.key)
        .collect();
    let sent: Vec<String> = now_keys
        .iter()
        .filter(|k| !alerted.contains(**k))
        .map(|k| (*k).clone())
        .collect();
    let forget: Vec<String> = alerted
        .iter()
        .filter(|k| !now_keys.contains(k))
        .cloned()
        .collect();
    let current_count = now_keys.len();
    let mut scan = current;
    if !all {
        // The ones not sent before: the scan's own filter, applied to the alerts in hand.
        scan.breaches.retain(|a| !alerted.contains(&a.key));
        scan.at_risk.retain(|a| !alerted.contains(&a.key));
    }
    if json {
        let out = serde_json::json!({
            "breaches": teamkpi::metrics::analytics::sla_breach_list(&scan, None),
            "at_risk": scan.at_risk,
            "rejected": scan.rejected,
        });
        out!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        print_sla(ctx, &scan, timelines.len(), all, current_count)?;
    }
    ctx.store
        .record_sla_alerts(ctx.tenant(), &sent, &forget, ctx.now)?;
    Ok(())
}

fn print_sla(
    ctx: &Ctx,
    scan: &teamkpi::BreachScan,
    open: usize,
    all: bool,
    current: usize,
) -> CliResult {
    out!(
        "SLA at {}: {} breached, {} at risk{} ({} open tickets)",
        ctx.now
            .with_timezone(&ctx.timezone)
            .format("%Y-%m-%d %H:%M"),
        scan.breaches.len(),
        scan.at_risk.len(),
        if all { "" } else { " not alerted before" },
        open
    );
    if !all && current > scan.breaches.len() + scan.at_risk.len() {
        out!(
            "{} alerted before (--all lists them too)",
            current - scan.breaches.len() - scan.at_risk.len()
        );
    }
    out!(
        "{:<10} {:<16} {:<9} {:<22} {:>18} {:>10}",
        "ticket",
        "target",
        "state",
        "agent",
        "due",
        "late (h)"
    );
    // The most overdue first, then what falls due soonest; agents by name where known.
    let names: std::collections::BTreeMap<u64, String> = ctx
        .store
        .agents(ctx.tenant())?
        .into_iter()
        .filter_map(|(a, n)| n.map(|n| (a.id, n)))
        .collect();
    let mut breaches: Vec<_> = scan.breaches.iter().collect();
    breaches.sort_by_key(|a| (std::cmp::Reverse(a.late_seconds), a.ticket_id));
    let mut at_risk: Vec<_> = scan.at_risk.iter().collect();
    at_risk.sort_by_key(|a| (a.due_at, a.ticket_id));
    for a in breaches.into_iter().chain(at_risk).take(40) {
        out!(
            "{:<10} {:<16} {:<9} {:<22} {:>18} {:>10}",
            a.ticket_id,
            a.target.as_str(),
            a.state.as_str(),
            a.agent_id
                .map(|x| names
                    .get(&x)
                    .cloned()
                    .unwrap_or_else(|| format!("agent {x}")))
                .unwrap_or_else(|| "-".into()),
            a.due_at
                .map(|d| d
                    .with_timezone(&ctx.timezone)
                    .format("%Y-%m-%d %H:%M")
                    .to_string())
                .unwrap_or_default(),
            a.late_seconds.map(hours_text).unwrap_or_default()
        );
    }
    if scan.breaches.len() + scan.at_risk.len() > 40 {
        out!(
            "… {} more (use --json for all)",
            scan.breaches.len() + scan.at_risk.len() - 40
        );
    }
    Ok(())
}

fn assigner(ctx: &Ctx, open: &[Ticket]) -> CliResult<Assigner> {
    let mut agents: Vec<teamkpi::AgentState> = ctx
        .store
        .agents(ctx.tenant())?
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    // Loads from the open work, per kind (the support automation's workload tracker).
    for a in &mut agents {
        a.open_load.clear();
    }
    for t in open {
        if let Some(a) = t
            .agent_id
            .and_then(|id| agents.iter_mut().find(|a| a.id == id))
        {
            *a.open_load.entry(t.kind.as_str().to_owned()).or_insert(0) += 1;
        }
    }
    Ok(Assigner::new(agents, AssignmentPolicy::default())?)
}

fn work_item(t: &Ticket) -> WorkItem {
    WorkItem {
        id: t.id,
        kind: t.kind.as_str().to_owned(),
        priority: t.priority.clone(),
        created_at: t.created_at,
        team: t.team.clone(),
        skills: Default::default(),
    }
}

fn apply_moves(
    ctx: &Ctx,
    open: &[Ticket],
    assigner: &Assigner,
    events: &[teamkpi::AssignmentEvent],
) -> CliResult {
    let mut changed = Vec::new();
    for e in events {
        if let Some(t) = open.iter().find(|t| t.id == e.item_id) {
            let mut t = t.clone();
            t.transfers.push(Transfer {
                at: e.at,
                from: t.agent_id,
                to: e.to,
                id: None,
                reason: Some(e.reason.as_str().to_owned()),
            });
            t.agent_id = Some(e.to);
            changed.push(t);
        }
    }
    ctx.store.put_tickets(&changed)?;
    let names: std::collections::BTreeMap<u64, Option<String>> = ctx
        .store
        .agents(ctx.tenant())?
        .into_iter()
        .map(|(a, n)| (a.id, n))
        .collect();
    let agents: Vec<(teamkpi::AgentState, Option<String>)> = assigner
        .agents()
        .map(|a| (a.clone(), names.get(&a.id).cloned().flatten()))
        .collect();
    ctx.store.put_agents(&agents)?;
    Ok(())
}

fn print_events(
    events: &[teamkpi::AssignmentEvent],
    unassigned: &[teamkpi::Unassigned],
    dry_run: bool,
) {
    let verb = if dry_run { "would move" } else { "moved" };
    out!(
        "{} {} item(s), {} left unassigned",
        verb,
        events.len(),
        unassigned.len()
    );
    for e in events.iter().take(30) {
        out!(
            "  item {:>6}: {} -> {} ({})",
            e.item_id,
            e.from.map(|f| f.to_string()).unwrap_or_else(|| "-".into()),
            e.to,
            e.reason.as_str()
        );
    }
    for u in unassigned.iter().take(10) {
        out!(
            "  item {:>6}: not assigned ({})",
            u.item_id,
            u.reason.as_str()
        );
    }
}

fn assign(ctx: &Ctx, dry_run: bool) -> CliResult {
    if !ctx.settings.auto_assign_enabled {
        out!("auto-assign is disabled for this company; nothing to do");
        return Ok(());
    }
    let open = ctx.store.open_tickets(ctx.tenant())?;
    let mut assigner = assigner(ctx, &open)?;
    let backlog: Vec<WorkItem> = open
        .iter()
        .filter(|t| t.agent_id.is_none())
        .map(work_item)
        .collect();
    let batch = assigner.drain(&backlog, ctx.now);
    if !dry_run {
        apply_moves(ctx, &open, &assigner, &batch.events)?;
    }
    print_events(&batch.events, &batch.unassigned, dry_run);
    Ok(())
}

fn reassign(ctx: &Ctx, dry_run: bool, inactive_hours: i64) -> CliResult {
    let open = ctx.store.open_tickets(ctx.tenant())?;
    let mut assigner = assigner(ctx, &open)?;
    let items: Vec<OpenItem> = open
        .iter()
        .filter_map(|t| {
            let agent = t.agent_id?;
            let assigned_at = t.transfers.last().map_or(t.created_at, |tr| tr.at);
            let contacted = t
                .agent_messages
                .iter()
                .map(|m| m.at)
                .chain(t.first_response_at)
                .chain(t.last_contacted_at)
                .max();
            Some(OpenItem {
                item: work_item(t),
                agent_id: agent,
                assigned_at,
                last_contacted_at: contacted,
            })
        })
        .collect();
    let batch = assigner.reassign_stale(&items, &ctx.settings, Some(inactive_hours), ctx.now)?;
    if !dry_run {
        apply_moves(ctx, &open, &assigner, &batch.events)?;
    }
    print_events(&batch.events, &batch.unassigned, dry_run);
    Ok(())
}

/// The first day of the demo history.
pub fn first_day(now: DateTime<Utc>, tz: Tz, days: u32) -> CliResult<NaiveDate> {
    Ok(teamkpi::last_n_days(now, tz, days)?.start)
}
