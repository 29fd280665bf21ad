//! `teamkpi demo`: a sample support and call-center team, generated deterministically.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use rust_decimal::Decimal;
use std::path::Path;

use teamkpi::metrics::{
    call_center_dashboard, AgentMessage, AgentSession, Call, CallOutcome, Campaign, Contact,
    ContactReason, CustomerMessage, DashboardRequest, SessionKind, StatusChange, Ticket,
    TicketKind, Transfer,
};
use teamkpi::{
    AgentState, AgentStatus, AssignmentSettings, BusinessCalendar, NewKpiAssignment, SlaPolicy,
};
use teamkpi_sqlite::SqliteStore;

use crate::{first_day, progress, report, update, CliResult, Ctx, Failure};

/// SplitMix64: small, seeded, the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const NAMES: &[&str] = &[
    "Amira Haddad",
    "Bartek Nowak",
    "Chloe Martin",
    "Dawid Kowalski",
    "Emre Yilmaz",
    "Fatima Zahra",
    "Grace Okafor",
    "Hugo Bernard",
    "Ines Duarte",
    "Jonas Weber",
    "Karim Mansour",
    "Lena Fischer",
    "Marta Wisniewska",
    "Nadia Benali",
    "Oskar Lind",
    "Priya Raman",
    "Quentin Roux",
    "Rania Saleh",
    "Sofia Rossi",
    "Tomasz Wojcik",
    "Umar Farooq",
    "Vera Ivanova",
    "Wiktor Zielinski",
    "Yara Khalil",
    "Zofia Lewandowska",
];

/// What `demo` writes in its databases' header (SQLite's `application_id`, "tkdm"): it replaces
/// only a file it wrote, never a team's database at the same default path.
const DEMO_APPLICATION_ID: i32 = 0x746b_646d;

/// Whether `path` holds nothing, or a database `demo` wrote.
fn replaceable(path: &Path) -> CliResult<bool> {
    let Ok(bytes) = std::fs::read(path) else {
        return Ok(!path.exists());
    };
    if bytes.is_empty() {
        return Ok(true);
    }
    let id = bytes
        .get(68..72)
        .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    Ok(bytes.starts_with(b"SQLite format 3\0") && id == Some(DEMO_APPLICATION_ID))
}

fn remove_db(path: &Path) -> CliResult {
    if !replaceable(path)? {
        return Err(Failure::new(
            "invalid_argument",
            format!(
                "{} holds data `teamkpi demo` did not write: it replaces only its own sample \
                 database; give --db another file",
                path.display()
            ),
        ));
    }
    for suffix in ["", "-wal", "-shm"] {
        let p = path.with_file_name(format!(
            "{}{suffix}",
            path.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("teamkpi.sqlite")
        ));
        if p.exists() {
            std::fs::remove_file(&p).map_err(|e| {
                Failure::new("storage", format!("cannot replace {}: {e}", p.display()))
            })?;
        }
    }
    Ok(())
}

fn definitions() -> CliResult<Vec<teamkpi::KpiDefinition>> {
    let defs = serde_json::json!([
        {"key": "avg_resolution", "name": "Average Resolution Time", "category": "customer_support",
         "description": "Average time taken to resolve customer support cases", "unit": "hours",
         "target_type": "lower_better", "aggregation_period": "weekly",
         "source": {"type": "query", "query_key": "avg_resolution_time"}},
        {"key": "cases_resolved", "name": "Cases Resolved", "category": "customer_support",
         "unit": "count", "target_type": "higher_better", "aggregation_period": "weekly",
         "source": {"type": "query", "query_key": "cases_resolved_count"}},
        {"key": "first_response", "name": "First Response Time", "category": "customer_support",
         "unit": "minutes", "target_type": "lower_better", "aggregation_period": "daily",
         "source": {"type": "metric", "metric": "avg_first_response_time"}},
        {"key": "sla_compliance", "name": "SLA Compliance", "category": "customer_support",
         "unit": "%", "target_type": "higher_better", "aggregation_period": "weekly",
         "source": {"type": "metric", "metric": "sla_compliance"}},
        {"key": "calls", "name": "Connected Calls", "category": "call_center",
         "unit": "count", "target_type": "higher_better", "aggregation_period": "daily",
         "source": {"type": "metric", "metric": "calls_connected"}}
    ]);
    Ok(teamkpi::from_json(defs)?)
}

fn sla_policy() -> CliResult<SlaPolicy> {
    let calendar = BusinessCalendar::builder("Europe/Warsaw")?
        .weekdays("08:00", "18:00")?
        .build()?;
    Ok(teamkpi::from_json(serde_json::json!({
        "name": "standard",
        "calendar": calendar,
        "pause_statuses": ["pending_customer"],
        "at_risk": {"fraction": "0.8"},
        "targets": {
            "urgent": {"first_response": 1800, "next_response": 3600, "resolution": 14400},
            "high": {"first_response": 3600, "next_response": 7200, "resolution": 28800},
            "normal": {"first_response": 14400, "next_response": 14400, "resolution": 86400},
            "low": {"first_response": 28800, "next_response": 28800, "resolution": 172800}
        }
    }))?)
}

/// Generates the team, runs the update and prints the report.
/// The largest sample team `demo` builds.
pub const MAX_AGENTS: u64 = 1_000;

pub fn run(
    path: &Path,
    tenant: Option<String>,
    now: DateTime<Utc>,
    agents: u64,
    days: u32,
    seed: u64,
) -> CliResult {
    if agents == 0 || days == 0 {
        return Err(Failure::new(
            "invalid_argument",
            "--agents and --days must be at least 1",
        ));
    }
    // Checked before the old database is removed: a refused run changes nothing.
    teamkpi::limits::check_days("--days", u64::from(days))?;
    if agents > MAX_AGENTS {
        return Err(Failure::new(
            "out_of_range",
            format!("--agents: {agents} is more than {MAX_AGENTS} (the demo is a sample team)"),
        ));
    }
    remove_db(path)?;
    let store = SqliteStore::open(path)
        .map_err(|e| Failure::new(e.code(), format!("cannot create {}: {e}", path.display())))?;
    store.transaction(|tx| {
        tx.execute_batch(&format!("PRAGMA application_id = {DEMO_APPLICATION_ID}"))?;
        Ok(())
    })?;
    let tz = chrono_tz::Europe::Warsaw;
    let policy = sla_policy()?;
    store.put_settings(
        tenant.as_deref(),
        &teamkpi::settings::CompanySettings {
            timezone: tz.name().to_owned(),
            assignment: AssignmentSettings {
                auto_assign_enabled: true,
                re_assign_enabled: true,
                re_assign_hours: 24,
            },
            sla: Some(policy),
            calendar: None,
        },
    )?;
    let ctx = Ctx::with_store(Box::new(store), tenant.clone(), now)?;
    let mut rng = Rng(seed);
    let start = first_day(now, tz, days)?;

    // Agents, with a skill level that shapes their figures.
    let mut team = Vec::new();
    for id in 1..=agents {
        let mut a = AgentState::online(id);
        a.tenant = tenant.clone();
        a.status = match rng.below(10) {
            0 => AgentStatus::Break,
            1 => AgentStatus::Offline,
            _ => AgentStatus::Online,
        };
        a.capacity = Some(40);
        a.teams = [if id % 2 == 0 { "billing" } else { "technical" }.to_owned()].into();
        a.last_active_at = Some(now - Duration::minutes(rng.below(600) as i64));
        let name = NAMES
            .get((id as usize - 1) % NAMES.len())
            .map(|s| s.to_string());
        team.push((a, name));
    }
    ctx.store.put_agents(&team)?;
    for d in definitions()? {
        ctx.store.upsert_definition(&teamkpi::KpiDefinition {
            tenant: tenant.clone(),
            ..d
        })?;
    }
    for id in 1..=agents {
        for (key, target, weight) in [
            ("avg_resolution", 14, 30),
            ("cases_resolved", 32, 30),
            ("first_response", 35, 20),
            ("sla_compliance", 90, 20),
            // The call-center dashboard's connected calls, tracked beside the score (weight 0).
            ("calls", 12, 0),
        ] {
            let (target, weight) = (Decimal::from(target), Decimal::from(weight));
            // The team takes calls in the last week only: the call KPI starts with them.
            let from = if key == "calls" {
                start.max(teamkpi::today(now, tz) - Duration::days(6))
            } else {
                start
            };
            let mut a = NewKpiAssignment::new(id, key, target, weight, from);
            a.tenant.clone_from(&tenant);
            ctx.store.insert_assignment(a)?;
        }
    }

    // Tickets, calls and sessions, day by day.
    let bar = progress(u64::from(days), "generating");
    let mut tickets = Vec::new();
    let mut calls = Vec::new();
    let mut sessions = Vec::new();
    let priorities = ["urgent", "high", "normal", "normal", "normal", "low"];
    let mut next_ticket = 1000u64;
    let mut next_call = 1u64;
    for date in teamkpi::DateRange::new(start, teamkpi::today(now, tz))?.days() {
        bar.inc(1);
        for agent in 1..=agents {
            let skill = 40 + (agent * 37 % 60); // 40..99: slower to faster
            let opening = teamkpi::resolve_local(
                tz,
                date.and_time(NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default()),
            );
            for _ in 0..(3 + rng.below(6)) {
                let created = opening + Duration::seconds(rng.below(10 * 3600) as i64);
                if created > now {
                    continue;
                }
                next_ticket += 1;
                let mut t = Ticket {
                    tenant: tenant.clone(),
                    id: next_ticket,
                    kind: if rng.chance(8) {
                        TicketKind::Dispute
                    } else {
                        TicketKind::Ticket
                    },
                    agent_id: Some(agent),
                    team: Some(
                        if agent % 2 == 0 {
                            "billing"
                        } else {
                            "technical"
                        }
                        .into(),
                    ),
                    priority: Some(priorities[rng.below(priorities.len() as u64) as usize].into()),
                    created_at: created,
                    ..Ticket::default()
                };
                let age_days = (now - created).num_days();
                if age_days < 2 && rng.chance(3) {
                    // Arrived unassigned.
                    t.agent_id = None;
                }
                let speed = 110 - skill; // minutes scale
                let fr = created + Duration::minutes(5 + rng.below(speed * 3) as i64);
                let answers = if age_days > 3 { 99 } else { 92 };
                if fr <= now && rng.chance(answers) && t.agent_id.is_some() {
                    t.first_response_at = Some(fr);
                    t.agent_messages.push(AgentMessage {
                        at: fr,
                        agent_id: None,
                        id: None,
                    });
                    if rng.chance(40) {
                        let later = fr + Duration::minutes(30 + rng.below(240) as i64);
                        if later <= now {
                            // The customer wrote back: a next-response cycle the later
                            // message answers.
                            t.customer_messages.push(CustomerMessage {
                                at: fr + (later - fr) / 2,
                                id: None,
                            });
                            t.agent_messages.push(AgentMessage {
                                at: later,
                                agent_id: None,
                                id: None,
                            });
                        }
                    }
                }
                if t.agent_id.is_some() && rng.chance(5) {
                    let to = 1 + rng.below(agents);
                    let at = created + Duration::minutes(20 + rng.below(120) as i64);
                    if to != agent && at <= now {
                        t.transfers.push(Transfer {
                            at,
                            from: Some(agent),
                            to,
                            id: None,
                            reason: None,
                        });
                        t.agent_id = Some(to);
                        t.first_response_at = t
                            .first_response_at
                            .filter(|f| *f >= at)
                            .or(t.first_response_at);
                        t.agent_messages
                            .retain(|m| m.at <= at || m.agent_id.is_none());
                    }
                }
                let res = created + Duration::minutes(60 + rng.below(speed * 60) as i64);
                let resolves = if age_days > 3 { 98 } else { 85 };
                if t.first_response_at.is_some()
                    && res <= now
                    && res >= t.first_response_at.unwrap_or(res)
                    && rng.chance(resolves)
                {
                    t.resolved_at = Some(res);
                    t.status = Some("resolved".into());
                } else {
                    t.status = Some(
                        if rng.chance(15) {
                            "pending_customer"
                        } else {
                            "open"
                        }
                        .into(),
                    );
                }
                // The status history: open from creation; waiting on the customer from the
                // agent's last message (the SLA clocks pause); resolved at the resolution.
                let mut history = vec![StatusChange {
                    at: created,
                    status: "open".into(),
                    id: None,
                }];
                match t.status.as_deref() {
                    Some("pending_customer") => history.push(StatusChange {
                        at: t
                            .agent_messages
                            .iter()
                            .map(|m| m.at)
                            .max()
                            .unwrap_or(created),
                        status: "pending_customer".into(),
                        id: None,
                    }),
                    Some("resolved") => history.push(StatusChange {
                        at: res,
                        status: "resolved".into(),
                        id: None,
                    }),
                    _ => {}
                }
                t.status_history = history;
                tickets.push(t);
            }
            // Calls and sessions for the call-center dashboard (last week only).
            if (teamkpi::today(now, tz) - date).num_days() < 7 {
                let login = opening + Duration::minutes(rng.below(30) as i64);
                let logout = login + Duration::hours(8);
                if login <= now {
                    let end = (logout <= now).then_some(logout);
                    sessions.push(AgentSession {
                        tenant: tenant.clone(),
                        agent_id: agent,
                        kind: SessionKind::LoggedIn,
                        start: login,
                        end,
                    });
                    sessions.push(AgentSession {
                        tenant: tenant.clone(),
                        agent_id: agent,
                        kind: SessionKind::Working,
                        start: login + Duration::minutes(10),
                        end: end.map(|e| e - Duration::minutes(40)),
                    });
                    let brk = login + Duration::hours(4);
                    if brk + Duration::minutes(30) <= now {
                        sessions.push(AgentSession {
                            tenant: tenant.clone(),
                            agent_id: agent,
                            kind: SessionKind::Break,
                            start: brk,
                            end: Some(brk + Duration::minutes(30)),
                        });
                    }
                }
                for _ in 0..(10 + rng.below(10)) {
                    let started = login + Duration::seconds(rng.below(8 * 3600) as i64);
                    if started > now {
                        continue;
                    }
                    let outcome = match rng.below(10) {
                        0..=2 => CallOutcome::NoAnswer,
                        3 => CallOutcome::Busy,
                        4 => CallOutcome::Lead,
                        _ => CallOutcome::Completed,
                    };
                    let duration = match outcome {
                        CallOutcome::NoAnswer | CallOutcome::Busy => 0,
                        _ => 60 + rng.below(540) as i64,
                    };
                    calls.push(Call {
                        tenant: tenant.clone(),
                        id: next_call,
                        agent_id: agent,
                        started_at: started,
                        duration_seconds: duration,
                        outcome,
                        contact_id: None,
                        campaign_id: Some(1 + rng.below(3)),
                    });
                    next_call += 1;
                }
            }
        }
    }
    bar.finish_and_clear();
    let contacts: Vec<Contact> = (0..agents * 40)
        .map(|i| Contact {
            tenant: tenant.clone(),
            id: i + 1,
            agent_id: Some(1 + i % agents),
            reason: match rng.below(6) {
                0 => Some(ContactReason::Rescheduled),
                1 => Some(ContactReason::Rejected),
                2 => Some(ContactReason::Lead),
                3 => Some(ContactReason::NoAnswer),
                _ => None,
            },
        })
        .collect();
    let campaigns: Vec<Campaign> = (1..=4)
        .map(|id| Campaign {
            tenant: tenant.clone(),
            id,
            active: id != 4,
        })
        .collect();
    ctx.store.put_tickets(&tickets)?;
    ctx.store.put_calls(&calls)?;
    ctx.store.put_sessions(&sessions)?;
    ctx.store.put_contacts(&contacts)?;
    ctx.store.put_campaigns(&campaigns)?;
    out!(
        "Demo team in {}: {} agents, {} tickets, {} calls over {} days (Europe/Warsaw)",
        path.display(),
        agents,
        tickets.len(),
        calls.len(),
        days
    );
    let mut options = ctx.update_options();
    options.days = Some(days);
    update(&ctx, &options, true, false)?;
    out!();
    report::run(&ctx, days, false, None)?;

    // The call-center dashboard's dashboard for the first agent, yesterday (a whole day of calls).
    let today = teamkpi::today(now, tz).pred_opt().unwrap_or(start);
    let (from, to) = teamkpi::DateRange::day(today).utc_bounds(tz);
    let stats = call_center_dashboard(
        &DashboardRequest {
            tenant: tenant.clone(),
            agent_id: 1,
            date: today,
            timezone: tz,
            now,
        },
        &ctx.store.calls(tenant.as_deref(), from, to)?,
        &ctx.store.sessions(tenant.as_deref(), from, to)?,
        &ctx.store.contacts(tenant.as_deref())?,
        &ctx.store.campaigns(tenant.as_deref())?,
    )?;
    out!("\nCall-center dashboard, agent 1, {today} (the call-center dashboard's stats):");
    out!("{}", serde_json::to_string(&stats).unwrap_or_default());
    out!("\nNext: teamkpi --db {} report --html report.html | sla | assign --dry-run | reassign --dry-run", path.display());
    Ok(())
}
