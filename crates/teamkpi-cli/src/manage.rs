//! Managing a team from the command line: agents, KPI definitions and assignments, company
//! settings. Each command is one store call; validation is the core's and the store's.

use chrono::NaiveDate;
use clap::Subcommand;
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use teamkpi::{AgentState, AgentStatus, AssignmentFilter, KpiDefinition, NewKpiAssignment};

use crate::{CliResult, Ctx, Failure};

#[derive(Debug, Subcommand)]
pub enum AgentsCommand {
    /// List the agents: id, name, presence, teams, skills, capacity.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Add an agent, or replace one with the same id.
    Add {
        /// The agent's id (the host's user id).
        id: u64,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        /// A team (repeat for several).
        #[arg(long = "team")]
        teams: Vec<String>,
        /// A skill (repeat for several).
        #[arg(long = "skill")]
        skills: Vec<String>,
        /// Most open items in total (no limit without it).
        #[arg(long)]
        capacity: Option<u32>,
        /// online, busy, break or offline.
        #[arg(long, default_value = "online")]
        status: String,
    },
    /// Set an agent's presence: online, busy, break or offline (offline agents get no work).
    Status {
        /// The agent's id.
        id: u64,
        /// online, busy, break or offline.
        status: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KpisCommand {
    /// List the KPI definitions.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Add or replace KPI definitions from a JSON file: one definition or an array (the
    /// README's command-line section shows the fields).
    Add {
        /// The JSON file (`-`: standard input).
        file: PathBuf,
    },
    /// Assign a KPI to an agent with a target and a weight.
    Assign {
        /// The agent's id.
        #[arg(long)]
        agent: u64,
        /// The definition's key.
        #[arg(long)]
        kpi: String,
        /// The target, an exact decimal (e.g. 90 or 14.5).
        #[arg(long)]
        target: String,
        /// The weight in the overall score, an exact decimal.
        #[arg(long, default_value = "1")]
        weight: String,
        /// First day it applies, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// Last day it applies, YYYY-MM-DD (open-ended without it).
        #[arg(long)]
        to: Option<String>,
    },
    /// List KPI assignments (active ones unless --all).
    Assignments {
        /// Only this agent's.
        #[arg(long)]
        agent: Option<u64>,
        /// Ended ones too.
        #[arg(long)]
        all: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// End an assignment: it stays in the history, inactive, with its measurements.
    End {
        /// The assignment's id (see `teamkpi kpis assignments`).
        id: u64,
    },
    /// Measure one assignment over exactly the days --from to --to (the KPI tables' calculate)
    /// and store it as an ad-hoc measurement: never a scorecard's latest.
    Measure {
        /// The assignment's id (see `teamkpi kpis assignments`).
        id: u64,
        /// First day, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// Last day, YYYY-MM-DD.
        #[arg(long)]
        to: String,
        /// Read the live aggregates instead of the tickets, calls and sessions.
        #[arg(long)]
        live: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Print the company settings: time zone, assignment settings, SLA policy, calendar.
    Show {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change company settings; what is not given stays. A time zone or SLA policy cannot change
    /// under live state (`incompatible_state`: `teamkpi live reset` first, then backfill).
    Set {
        /// IANA time zone, e.g. Europe/Warsaw.
        #[arg(long)]
        timezone: Option<String>,
        /// The SLA policy, a JSON file (the README's command-line section shows the fields).
        #[arg(long, conflicts_with = "no_sla_policy")]
        sla_policy: Option<PathBuf>,
        /// Remove the SLA policy.
        #[arg(long)]
        no_sla_policy: bool,
        /// The business calendar of business-time metrics, a JSON file (zone, weekly hours,
        /// holidays).
        #[arg(long, conflicts_with = "no_calendar")]
        calendar: Option<PathBuf>,
        /// Remove the business calendar.
        #[arg(long)]
        no_calendar: bool,
        /// The assignment settings, a JSON file (policy, capacities, stale thresholds).
        #[arg(long)]
        assignment: Option<PathBuf>,
    },
}

/// Reads a JSON file (`-`: standard input) as `T`; errors name the file and the field.
fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> CliResult<T> {
    let text = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|e| {
        let why = format!("cannot read {}: {e}", path.display());
        Failure::new("invalid_argument", why)
    })?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        let why = format!("{}: not JSON: {e}", path.display());
        Failure::new("invalid_argument", why)
    })?;
    teamkpi::from_json(value).map_err(|e| {
        let e: Failure = e.into();
        Failure::new(&e.code, format!("{}: {}", path.display(), e.message))
    })
}

fn decimal(field: &str, text: &str) -> CliResult<Decimal> {
    Decimal::from_str(text.trim()).map_err(|_| {
        Failure::new(
            "invalid_argument",
            format!("--{field}: {text:?} is not an exact decimal such as 90 or 14.5"),
        )
    })
}

fn day(field: &str, text: &str) -> CliResult<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        Failure::new(
            "invalid_argument",
            format!("--{field}: {text:?} is not a date YYYY-MM-DD"),
        )
    })
}

fn unknown_agent(id: u64) -> Failure {
    Failure::new(
        "unknown_agent",
        format!("no agent {id} (teamkpi agents add {id} …)"),
    )
}

/// One line of JSON.
fn line(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn pretty(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

pub fn agents(ctx: &Ctx, command: AgentsCommand) -> CliResult {
    let tenant = ctx.tenant();
    match command {
        AgentsCommand::List { json } => {
            let agents = ctx.store.agents(tenant)?;
            if json {
                let rows: Vec<serde_json::Value> = agents
                    .iter()
                    .map(|(a, name)| serde_json::json!({"agent": a, "name": name}))
                    .collect();
                out!("{}", pretty(&rows));
                return Ok(());
            }
            out!(
                "{:>6}  {:<20} {:<8} {:<20} {:<20} capacity",
                "id",
                "name",
                "status",
                "teams",
                "skills"
            );
            for (a, name) in &agents {
                let list = |s: &std::collections::BTreeSet<String>| {
                    s.iter().cloned().collect::<Vec<_>>().join(",")
                };
                out!(
                    "{:>6}  {:<20} {:<8} {:<20} {:<20} {}",
                    a.id,
                    name.as_deref().unwrap_or("-"),
                    a.status.as_str(),
                    list(&a.teams),
                    list(&a.skills),
                    a.capacity.map_or("-".to_owned(), |c| c.to_string())
                );
            }
            out!("{} agents", agents.len());
            Ok(())
        }
        AgentsCommand::Add {
            id,
            name,
            teams,
            skills,
            capacity,
            status,
        } => {
            let mut a = AgentState::online(id);
            a.tenant = tenant.map(str::to_owned);
            a.status = AgentStatus::parse(&status)?;
            a.teams = teams.into_iter().collect();
            a.skills = skills.into_iter().collect();
            a.capacity = capacity.map(i64::from);
            ctx.store.put_agents(&[(a, name)])?;
            out!("agent {id} saved");
            Ok(())
        }
        AgentsCommand::Status { id, status } => {
            let status = AgentStatus::parse(&status)?;
            let mut agents = ctx.store.agents(tenant)?;
            let Some(entry) = agents.iter_mut().find(|(a, _)| a.id == id) else {
                return Err(unknown_agent(id));
            };
            entry.0.status = status;
            ctx.store.put_agents(std::slice::from_ref(entry))?;
            out!("agent {id} is {}", status.as_str());
            Ok(())
        }
    }
}

pub fn kpis(ctx: &Ctx, command: KpisCommand) -> CliResult {
    let tenant = ctx.tenant();
    match command {
        KpisCommand::List { json } => {
            let defs = ctx.store.definitions(tenant)?;
            if json {
                out!("{}", pretty(&defs));
                return Ok(());
            }
            for d in &defs {
                out!(
                    "{:<24} {:<32} {:<8} {:<14} {}",
                    d.key,
                    d.name,
                    d.period.as_str(),
                    d.direction.as_str(),
                    if d.active { "active" } else { "inactive" }
                );
            }
            out!("{} KPI definitions", defs.len());
            Ok(())
        }
        KpisCommand::Add { file } => {
            let value: serde_json::Value = read_json(&file)?;
            let list = match value {
                serde_json::Value::Array(items) => items,
                one => vec![one],
            };
            let catalog = teamkpi::MetricCatalog::builtin();
            let mut defs = Vec::with_capacity(list.len());
            for (i, item) in list.into_iter().enumerate() {
                let mut d: KpiDefinition = teamkpi::from_json(item).map_err(|e| {
                    let e: Failure = e.into();
                    Failure::new(
                        &e.code,
                        format!("{} item {i}: {}", file.display(), e.message),
                    )
                })?;
                d.tenant = tenant.map(str::to_owned);
                d.validate(&catalog).map_err(|e| {
                    let e: Failure = e.into();
                    Failure::new(
                        &e.code,
                        format!("{} item {i} ({}): {}", file.display(), d.key, e.message),
                    )
                })?;
                defs.push(d);
            }
            for d in &defs {
                ctx.store.upsert_definition(d)?;
            }
            out!("{} KPI definitions saved", defs.len());
            Ok(())
        }
        KpisCommand::Assign {
            agent,
            kpi,
            target,
            weight,
            from,
            to,
        } => {
            if !ctx.store.agents(tenant)?.iter().any(|(a, _)| a.id == agent) {
                return Err(unknown_agent(agent));
            }
            let mut a = NewKpiAssignment::new(
                agent,
                &kpi,
                decimal("target", &target)?,
                decimal("weight", &weight)?,
                day("from", &from)?,
            );
            a.tenant = tenant.map(str::to_owned);
            a.valid_to = to.as_deref().map(|t| day("to", t)).transpose()?;
            let saved = ctx.store.insert_assignment(a)?;
            out!(
                "assignment {}: agent {agent}, {kpi}, target {}, weight {}",
                saved.id,
                saved.target,
                saved.weight
            );
            Ok(())
        }
        KpisCommand::Assignments { agent, all, json } => {
            let mut filter = AssignmentFilter::tenant(tenant);
            filter.agent_id = agent;
            filter.include_inactive = all;
            let list = ctx.store.assignments(&filter)?;
            if json {
                out!("{}", pretty(&list));
                return Ok(());
            }
            for a in &list {
                out!(
                    "{:>5}  agent {:<6} {:<24} target {:<10} weight {:<6} {} – {} {}",
                    a.id,
                    a.agent_id,
                    a.definition,
                    a.target,
                    a.weight,
                    a.valid_from,
                    a.valid_to.map_or("open".to_owned(), |d| d.to_string()),
                    if a.active { "" } else { "(ended)" }
                );
            }
            out!("{} assignments", list.len());
            Ok(())
        }
        KpisCommand::End { id } => {
            let mut filter = AssignmentFilter::tenant(tenant);
            filter.include_inactive = true;
            let Some(mut a) = ctx
                .store
                .assignments(&filter)?
                .into_iter()
                .find(|a| a.id == id)
            else {
                return Err(Failure::new(
                    "not_found",
                    format!("no assignment {id} (teamkpi kpis assignments --all)"),
                ));
            };
            a.active = false;
            ctx.store.update_assignment(&a)?;
            out!("assignment {id} ended");
            Ok(())
        }
        KpisCommand::Measure {
            id,
            from,
            to,
            live,
            json,
        } => {
            let range = teamkpi::DateRange::new(day("from", &from)?, day("to", &to)?)?;
            let source = if live {
                teamkpi_stores::UpdateSource::Live
            } else {
                teamkpi_stores::UpdateSource::Store
            };
            let options = ctx.update_options();
            let done = teamkpi_stores::measure_range(
                &*ctx.store,
                ctx.now,
                &options,
                id,
                range,
                source,
                None,
            )?;
            if json {
                out!("{}", pretty(&done));
                return Ok(());
            }
            match (&done.measurement, done.measurement_id) {
                (Some(m), Some(row)) => out!(
                    "assignment {id} ({}), {from} to {to}: actual {}, achievement {} % \
                     (ad hoc, measurement {row})",
                    m.definition,
                    m.actual,
                    m.achievement
                ),
                _ => out!(
                    "assignment {id}, {from} to {to}: nothing stored ({})",
                    done.reason.as_deref().unwrap_or("no data")
                ),
            }
            Ok(())
        }
    }
}

pub fn settings(ctx: &Ctx, command: SettingsCommand) -> CliResult {
    let tenant = ctx.tenant();
    match command {
        SettingsCommand::Show { json } => {
            let s = ctx.store.settings(tenant)?;
            if json {
                out!("{}", pretty(&s));
                return Ok(());
            }
            out!("time zone:   {}", s.timezone);
            out!("assignment:  {}", line(&s.assignment));
            match &s.sla {
                Some(p) => out!("SLA policy:  {}", line(p)),
                None => out!("SLA policy:  none (teamkpi settings set --sla-policy FILE)"),
            }
            match &s.calendar {
                Some(c) => out!("calendar:    {}", line(c)),
                None => out!("calendar:    none (teamkpi settings set --calendar FILE)"),
            }
            Ok(())
        }
        SettingsCommand::Set {
            timezone,
            sla_policy,
            no_sla_policy,
            calendar,
            no_calendar,
            assignment,
        } => {
            let change = teamkpi::settings::SettingsChange {
                timezone,
                assignment: assignment.as_deref().map(read_json).transpose()?,
                sla: sla_policy.as_deref().map(read_json).transpose()?,
                clear_sla: no_sla_policy,
                calendar: calendar.as_deref().map(read_json).transpose()?,
                clear_calendar: no_calendar,
            };
            teamkpi_stores::save_settings(ctx.store.as_ref(), tenant, change)?;
            out!("settings saved");
            Ok(())
        }
    }
}
