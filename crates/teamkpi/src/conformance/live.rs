//! Live-metrics checks every [`LiveStore`] must pass, and the realistic event streams they (and
//! the benches) use.

use crate::engine::{batch_rows_from_events_by, EngineOptions, Event, EventKind};
use crate::live::{live_rows, LiveQuery, LiveStore};
use crate::metrics::{GroupBy, MetricsOptions, TicketKind, TicketMetrics};
use crate::*;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

/// A small deterministic generator (SplitMix64): the same seed gives the same stream everywhere.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n ≥ 1).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// The first instant of the generated streams.
pub fn stream_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 10, 1, 6, 0, 0).unwrap()
}

/// One ticket's lifecycle as a help desk produces it: created in working hours, answered within
/// hours, more replies and customer messages over the following days, sometimes transferred,
/// mostly resolved (some reopened and resolved again), often closed later. Ids are
/// `{prefix}{ticket}:{n}`.
pub fn ticket_lifecycle(
    rng: &mut Rng,
    prefix: &str,
    ticket: u64,
    created: DateTime<Utc>,
    agents: u64,
) -> Vec<Event> {
    let agent = 1 + rng.below(agents);
    let priorities = ["low", "normal", "high", "urgent"];
    let mut at = created;
    let mut n = 0;
    let mut out = Vec::new();
    let mut push = |at: DateTime<Utc>, kind: EventKind| {
        out.push(Event {
            id: format!("{prefix}{ticket}:{n}"),
            tenant: None,
            at,
            kind,
        });
        n += 1;
    };
    push(
        at,
        EventKind::TicketCreated {
            ticket_id: ticket,
            agent_id: rng.chance(90).then_some(agent),
            team: Some(format!("tier-{}", agent % 3)),
            priority: Some(priorities[rng.below(4) as usize].into()),
            kind: TicketKind::Ticket,
        },
    );
    let mut assignee = agent;
    if rng.chance(85) {
        at += Duration::seconds(300 + rng.below(6 * 3600) as i64);
        push(
            at,
            EventKind::AgentReplied {
                ticket_id: ticket,
                agent_id: None,
            },
        );
    }
    for _ in 0..rng.below(4) {
        at += Duration::seconds(1800 + rng.below(36 * 3600) as i64);
        if rng.chance(50) {
            push(at, EventKind::CustomerReplied { ticket_id: ticket });
        } else {
            push(
                at,
                EventKind::AgentReplied {
                    ticket_id: ticket,
                    agent_id: Some(assignee),
                },
            );
        }
    }
    if rng.chance(15) {
        at += Duration::seconds(600 + rng.below(24 * 3600) as i64);
        let to = 1 + rng.below(agents);
        push(
            at,
            EventKind::TicketTransferred {
                ticket_id: ticket,
                from: Some(assignee),
                to,
            },
        );
        assignee = to;
        at += Duration::seconds(600 + rng.below(4 * 3600) as i64);
        push(
            at,
            EventKind::AgentReplied {
                ticket_id: ticket,
                agent_id: Some(assignee),
            },
        );
    }
    if rng.chance(20) {
        at += Duration::seconds(60 + rng.below(3600) as i64);
        push(
            at,
            EventKind::StatusChanged {
                ticket_id: ticket,
                status: "on_hold".into(),
            },
        );
    }
    if rng.chance(80) {
        at += Duration::seconds(3600 + rng.below(3 * 86_400) as i64);
        push(at, EventKind::Resolved { ticket_id: ticket });
        if rng.chance(6) {
            at += Duration::seconds(3600 + rng.below(2 * 86_400) as i64);
            push(at, EventKind::Reopened { ticket_id: ticket });
            at += Duration::seconds(3600 + rng.below(86_400) as i64);
            push(at, EventKind::Resolved { ticket_id: ticket });
        }
        if rng.chance(50) {
            at += Duration::seconds(86_400 + rng.below(86_400) as i64);
            push(at, EventKind::Closed { ticket_id: ticket });
        }
    }
    out
}

/// `tickets` tickets created evenly over `days` days from [`stream_start`] (working hours,
/// 08:00–18:00 UTC), their lifecycles merged in time order; plus calls and sessions when
/// `calls` is set. Ticket ids start at `first_ticket`.
pub fn realistic_stream(
    seed: u64,
    first_ticket: u64,
    tickets: u64,
    days: u64,
    agents: u64,
) -> Vec<Event> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::new();
    for i in 0..tickets {
        let day = i * days.max(1) / tickets.max(1);
        let created = stream_start()
            + Duration::days(day as i64)
            + Duration::seconds(7200 + rng.below(10 * 3600) as i64);
        out.extend(ticket_lifecycle(
            &mut rng,
            "t",
            first_ticket + i,
            created,
            agents,
        ));
    }
    out.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    out
}

/// Calls and sessions of `agents` agents over `days` days (two calls an agent-day, one working
/// session and one break).
pub fn call_center_stream(seed: u64, days: u64, agents: u64) -> Vec<Event> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::new();
    let outcomes = ["lead", "completed", "no_answer", "busy", "failed"];
    for day in 0..days {
        for agent in 1..=agents {
            let base = stream_start() + Duration::days(day as i64) + Duration::hours(2);
            let sid = day * 1000 + agent;
            out.push(Event {
                id: format!("s{sid}:start"),
                tenant: None,
                at: base,
                kind: EventKind::SessionStarted {
                    session_id: sid,
                    agent_id: agent,
                    kind: metrics::SessionKind::Working,
                },
            });
            out.push(Event {
                id: format!("s{sid}:end"),
                tenant: None,
                at: base + Duration::hours(8),
                kind: EventKind::SessionEnded { session_id: sid },
            });
            for c in 0..2u64 {
                let id = sid * 10 + c;
                let started = base + Duration::seconds(rng.below(7 * 3600) as i64);
                let outcome = outcomes[rng.below(5) as usize];
                let call: metrics::Call = from_json(serde_json::json!({
                    "id": id, "agent_id": agent, "started_at": started,
                    "duration_seconds": if outcome == "no_answer" { 0 } else { 30 + rng.below(900) },
                    "outcome": outcome,
                }))
                .unwrap();
                out.push(Event {
                    id: format!("c{id}"),
                    tenant: None,
                    at: started + Duration::seconds(call.duration_seconds),
                    kind: EventKind::CallEnded { call },
                });
            }
        }
    }
    out
}

/// Shuffles `events` deterministically and repeats about `dup_percent` % of them.
pub fn shuffled_with_duplicates(events: &[Event], seed: u64, dup_percent: u64) -> Vec<Event> {
    let mut rng = Rng::new(seed);
    let mut out: Vec<Event> = events.to_vec();
    for e in events {
        if rng.chance(dup_percent) {
            out.push(e.clone());
        }
    }
    for i in (1..out.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        out.swap(i, j);
    }
    out
}

/// Options with a DST zone, an SLA policy and quantiles: every figure the live rows carry.
pub fn live_options() -> EngineOptions {
    let mut o = EngineOptions::new(parse_timezone("Europe/Warsaw").unwrap());
    o.sla = Some(
        from_json(serde_json::json!({"name": "desk", "targets": {
            "normal": {"first_response": 3600, "resolution": 86400},
            "high": {"first_response": 1800, "resolution": 28800},
            "urgent": {"first_response": 900, "resolution": 14400}}}))
        .unwrap(),
    );
    o
}

/// [`live_options`] with a policy that pauses on `on_hold` (the streams' hold status) and sets
/// next-response targets (the streams' customer messages open cycles): SLA figures from
/// timelines then depend on status changes and customer messages.
pub fn paused_options() -> EngineOptions {
    let mut o = live_options();
    o.sla = Some(
        from_json(
            serde_json::json!({"name": "desk", "pause_statuses": ["on_hold"],
            "targets": {
            "normal": {"first_response": 3600, "next_response": 7200, "resolution": 86400},
            "high": {"first_response": 1800, "next_response": 3600, "resolution": 28800},
            "urgent": {"first_response": 900, "next_response": 1800, "resolution": 14400}}}),
        )
        .unwrap(),
    );
    o
}

/// Every live row of the store for `period` and grouping over the streams' months.
pub fn all_live_rows(
    store: &dyn LiveStore,
    period: PeriodKind,
    group_by: GroupBy,
) -> Vec<TicketMetrics> {
    live_rows(store, &whole_query(period, group_by)).unwrap()
}

/// Every row of `period` and grouping over the streams' months.
fn whole_query(period: PeriodKind, group_by: GroupBy) -> LiveQuery {
    LiveQuery {
        tenant: None,
        period,
        group_by,
        group: None,
        from: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        to: NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
    }
}

/// Panics unless the store's live rows equal a batch computation over `events`, field by field,
/// for days, weeks and months, agents and teams.
pub fn assert_live_equals_batch(store: &dyn LiveStore, options: &EngineOptions, events: &[Event]) {
    for period in [PeriodKind::Day, PeriodKind::Week, PeriodKind::Month] {
        for group_by in [GroupBy::Agent, GroupBy::Team] {
            let live = all_live_rows(store, period, group_by);
            let batch = batch_rows_from_events_by(options, period, group_by, events).unwrap();
            assert_eq!(live.len(), batch.len(), "{period:?} {group_by:?} row count");
            for (l, b) in live.iter().zip(&batch) {
                assert_eq!(l, b, "{period:?} {group_by:?}");
            }
        }
    }
}

/// A shuffled stream with duplicates in batches of every size: live rows equal batch, and each
/// event is counted once.
pub fn live_equals_batch(store: &dyn LiveStore) {
    let options = live_options();
    let mut events = realistic_stream(7, 1, 400, 45, 9);
    events.extend(call_center_stream(8, 3, 4));
    let stream = shuffled_with_duplicates(&events, 9, 10);
    let mut rng = Rng::new(10);
    let (mut applied, mut duplicates, mut rest) = (0, 0, &stream[..]);
    while !rest.is_empty() {
        let n = (1 + rng.below(300) as usize).min(rest.len());
        let r = store.live_apply(&options, &rest[..n]).unwrap();
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);
        applied += r.applied;
        duplicates += r.duplicates;
        rest = &rest[n..];
    }
    assert_eq!(applied as usize, events.len());
    assert_eq!((applied + duplicates) as usize, stream.len());
    assert_live_equals_batch(store, &options, &events);
    // Applying everything again changes nothing.
    let again = store.live_apply(&options, &events).unwrap();
    assert_eq!(
        (again.applied, again.duplicates as usize),
        (0, events.len())
    );
    assert_live_equals_batch(store, &options, &events);
    // The dashboard reads the live calls and sessions.
    let req = metrics::DashboardRequest {
        tenant: None,
        agent_id: 2,
        date: NaiveDate::from_ymd_opt(2025, 10, 2).unwrap(),
        timezone: chrono_tz::UTC,
        now: stream_start() + Duration::days(30),
    };
    let live = crate::live::live_dashboard(store, &req, &[], &[]).unwrap();
    let mut engine = engine::Engine::new(options.clone());
    engine.apply_batch(&events).unwrap();
    let direct =
        metrics::call_center_dashboard(&req, &engine.calls(), &engine.sessions(), &[], &[])
            .unwrap();
    assert_eq!(live, direct);
    assert_eq!(live.calls_total_today, 2);
    assert_eq!(live.total_work_time_today, 8 * 3600);
}

fn created(id: &str, ticket: u64, at: DateTime<Utc>) -> Event {
    Event {
        id: id.into(),
        tenant: None,
        at,
        kind: EventKind::TicketCreated {
            ticket_id: ticket,
            agent_id: Some(1),
            team: None,
            priority: Some("normal".into()),
            kind: TicketKind::Ticket,
        },
    }
}

fn resolved(id: &str, ticket: u64, at: DateTime<Utc>) -> Event {
    Event {
        id: id.into(),
        tenant: None,
        at,
        kind: EventKind::Resolved { ticket_id: ticket },
    }
}

/// The batch rules: a bad event refuses the whole batch with each index and code; an event
/// refused in context is listed and the rest applied; settings cannot change under state;
/// eviction makes later events late; reset clears.
pub fn live_batch_rules(store: &dyn LiveStore) {
    let options = live_options();
    let t = stream_start();
    let mut other = created("x", 9, t);
    other.tenant = Some("acme".into());
    let far = created("far", 8, Utc.with_ymd_and_hms(9500, 1, 1, 0, 0, 0).unwrap());
    let bad = vec![created("a", 1, t), other, far, created("", 2, t)];
    match store.live_apply(&options, &bad).unwrap_err() {
        Error::InvalidEvents { errors } => {
            let got: Vec<(usize, &str)> =
                errors.iter().map(|e| (e.index, e.code.as_str())).collect();
            assert_eq!(
                got,
                vec![
                    (1, "tenant_mismatch"),
                    (2, "out_of_range"),
                    (3, "invalid_argument")
                ]
            );
        }
        e => panic!("expected invalid_events, got {e:?}"),
    }
    assert!(all_live_rows(store, PeriodKind::Day, GroupBy::Agent).is_empty());

    let early = Event {
        id: "early".into(),
        tenant: None,
        at: t - Duration::hours(1),
        kind: EventKind::AgentReplied {
            ticket_id: 1,
            agent_id: None,
        },
    };
    let batch = vec![
        created("a", 1, t),
        created("a", 1, t),
        early,
        resolved("r", 1, t + Duration::hours(2)),
        created("b", 2, t),
    ];
    let r = store.live_apply(&options, &batch).unwrap();
    assert_eq!((r.applied, r.duplicates), (3, 1));
    assert_eq!(r.rejected.len(), 1);
    assert_eq!(
        (r.rejected[0].index, r.rejected[0].code.as_str()),
        (2, "events_out_of_order")
    );
    assert_eq!(r.touched.len(), 1);
    let rows = all_live_rows(store, PeriodKind::Day, GroupBy::Agent);
    assert_eq!((rows[0].tickets_assigned, rows[0].tickets_resolved), (2, 1));

    // Other settings under existing state.
    let mut utc = options.clone();
    utc.timezone = chrono_tz::UTC;
    assert_eq!(
        store
            .live_apply(&utc, &[created("c", 3, t)])
            .unwrap_err()
            .code(),
        "incompatible_state"
    );

    // Eviction: the finished ticket's events are dropped, its figures stay.
    assert_eq!(store.live_evict(None, t + Duration::days(2)).unwrap(), 1);
    let late = store
        .live_apply(&options, &[resolved("r2", 1, t + Duration::days(3))])
        .unwrap();
    assert_eq!(late.rejected[0].code, "late_event");
    let old = store
        .live_apply(&options, &[created("d", 4, t + Duration::days(1))])
        .unwrap();
    assert_eq!(old.rejected[0].code, "late_event");
    let open = store
        .live_apply(&options, &[resolved("r3", 2, t + Duration::days(3))])
        .unwrap();
    assert_eq!(open.applied, 1);
    let rows = all_live_rows(store, PeriodKind::Month, GroupBy::Agent);
    assert_eq!((rows[0].tickets_assigned, rows[0].tickets_resolved), (2, 2));

    store.live_reset(None).unwrap();
    assert!(all_live_rows(store, PeriodKind::Day, GroupBy::Agent).is_empty());
    assert_eq!(
        store
            .live_apply(&utc, &[created("c", 3, t)])
            .unwrap()
            .applied,
        1
    );
    store.live_reset(None).unwrap();
}

/// The stream of the concurrency tests: 4 000 tickets over 30 days, 25 agents (≥ 20 000 events).
pub fn concurrency_stream() -> Vec<Event> {
    realistic_stream(11, 1, 4000, 30, 25)
}

/// What worker `worker` of `workers` applies: its share of the shuffled stream with duplicates,
/// plus a few events of the other shares (so the same event arrives from several processes).
pub fn worker_events(worker: u64, workers: u64) -> Vec<Event> {
    let stream = shuffled_with_duplicates(&concurrency_stream(), 12, 10);
    let mut rng = Rng::new(100 + worker);
    stream
        .into_iter()
        .enumerate()
        .filter(|(i, _)| *i as u64 % workers == worker || rng.chance(2))
        .map(|(_, e)| e)
        .collect()
}

/// Applies worker `worker`'s events in batches of 1 to 60; returns the events applied (new).
pub fn run_worker(store: &dyn LiveStore, worker: u64, workers: u64) -> u64 {
    let options = live_options();
    let events = worker_events(worker, workers);
    let mut rng = Rng::new(200 + worker);
    let (mut rest, mut applied) = (&events[..], 0);
    while !rest.is_empty() {
        let n = (1 + rng.below(60) as usize).min(rest.len());
        let r = store.live_apply(&options, &rest[..n]).unwrap();
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);
        applied += r.applied;
        rest = &rest[n..];
    }
    applied
}

/// After all workers: every event counted once, live rows equal batch.
pub fn check_after_workers(store: &dyn LiveStore, applied: u64) {
    let events = concurrency_stream();
    assert!(events.len() >= 20_000, "{} events", events.len());
    assert_eq!(
        applied as usize,
        events.len(),
        "events applied across workers"
    );
    assert_live_equals_batch(store, &live_options(), &events);
}

/// Runs `workers` copies of the current test binary's ignored test `name`, each with `env` and
/// `TEAMKPI_LIVE_WORKER` set to its number; returns the sum of the `applied=N` they print.
pub fn spawn_workers(name: &str, env: (&str, &str), workers: u64) -> u64 {
    let children: Vec<_> = (0..workers)
        .map(|w| {
            worker_command(name, env)
                .env("TEAMKPI_LIVE_WORKER", w.to_string())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut total = 0;
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "worker failed");
        let text = String::from_utf8_lossy(&out.stdout);
        let n = text
            .lines()
            .find_map(|l| l.split_once("applied=").map(|(_, n)| n))
            .expect("a worker prints what it applied");
        total += n.trim().parse::<u64>().unwrap();
    }
    total
}

/// Analytics over live day rows equal analytics over the snapshots of the same events, for
/// every result, scope and window (the whole stream, a week, a day), as of an instant after the
/// last event: tickets transferred away and back over days count once per window, resolutions
/// count by each window's end, and SLA targets still open past their due count as breached.
pub fn live_analytics_equal_snapshots(store: &dyn LiveStore) {
    use crate::live::LiveWindows;
    use crate::metrics::analytics::*;
    let options = paused_options();
    let mut events = realistic_stream(21, 1, 500, 30, 6);
    events.extend(transfers_back_and_forth());
    // An urgent ticket opened last and never answered: which of its targets have fallen due
    // depends on the instant the analytics are read as of.
    let mut last = created(
        "urgent:c",
        20_000,
        events.iter().map(|e| e.at).max().unwrap(),
    );
    if let EventKind::TicketCreated { priority, .. } = &mut last.kind {
        *priority = Some("urgent".into());
    }
    events.push(last);
    for chunk in shuffled_with_duplicates(&events, 22, 5).chunks(257) {
        store.live_apply(&options, chunk).unwrap();
    }
    let mut engine = engine::Engine::new(options.clone());
    engine.apply_batch(&events).unwrap();
    let tickets = engine.snapshots();
    let last = events.iter().map(|e| e.at).max().unwrap();
    for (now, days) in [
        (last + Duration::hours(1), 60),
        (last + Duration::hours(1), 14),
        (last + Duration::days(2), 7),
        (last + Duration::minutes(1), 1),
    ] {
        let mut o = AnalyticsOptions::new(options.timezone, now, days);
        o.sla = options.sla.clone();
        let (snap, live) = (Snapshots::new(&tickets, &o), LiveWindows::new(store, &o));
        let sources: [&dyn WindowSource; 2] = [&snap, &live];
        let [a, b] = sources.map(|s| {
            let mut out = vec![
                serde_json::to_value(agent_comparison_of(s, &o).unwrap()).unwrap(),
                serde_json::to_value(s.workload().unwrap()).unwrap(),
            ];
            for agent in [None, Some(1), Some(4)] {
                out.push(serde_json::to_value(performance_of(s, &o, agent).unwrap()).unwrap());
                out.push(serde_json::to_value(weekly_trends_of(s, &o, agent).unwrap()).unwrap());
                out.push(
                    serde_json::to_value(performance_trends_of(s, &o, agent).unwrap()).unwrap(),
                );
            }
            for agent in 1..=6 {
                out.push(
                    serde_json::to_value(performance_metrics_of(s, &o, agent).unwrap()).unwrap(),
                );
            }
            out
        });
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert_eq!(x, y, "result {i}, now {now}, {days} days");
        }
        // Rows as of `now` (open targets past due breached) equal snapshots with that `as_of`.
        for period in [PeriodKind::Day, PeriodKind::Week, PeriodKind::Month] {
            for group_by in [GroupBy::Agent, GroupBy::Team] {
                let mut m = options.metrics_by(period, group_by);
                m.as_of = Some(now);
                let mut agg = metrics::TicketMetricsAggregator::new(m).unwrap();
                for t in &tickets {
                    agg.add(t).unwrap();
                }
                let want = agg.finish().rows;
                let query = whole_query(period, group_by);
                let got = crate::live::live_rows_as_of(store, &query, Some(now)).unwrap();
                assert_eq!(got, want, "{period:?} {group_by:?} as of {now}");
            }
        }
        // SLA analytics of the tickets created in the window, and the breaches list.
        let policy = options.sla.as_ref().unwrap();
        let from = now - Duration::days(i64::from(days));
        let evals: Vec<crate::sla::SlaEvaluation> = tickets
            .iter()
            .map(|t| {
                policy
                    .evaluate(&crate::sla::TicketTimeline::from_ticket(t), now)
                    .unwrap()
            })
            .collect();
        for group_by in [
            crate::SlaGroupBy::All,
            crate::SlaGroupBy::Agent,
            crate::SlaGroupBy::Team,
            crate::SlaGroupBy::Policy,
        ] {
            let want = crate::sla::sla_analytics(&evals, from, now, group_by).unwrap();
            let got = live
                .sla_analytics(policy, from, now, group_by, None)
                .unwrap();
            assert_eq!(got, want, "{group_by:?} now {now}, {days} days");
        }
        for agent in [1, 4] {
            let mine: Vec<_> = evals
                .iter()
                .filter(|e| e.agent_id == Some(agent))
                .cloned()
                .collect();
            let want = crate::sla::sla_analytics(&mine, from, now, crate::SlaGroupBy::All).unwrap();
            let got = live
                .sla_analytics(policy, from, now, crate::SlaGroupBy::All, Some(agent))
                .unwrap();
            assert_eq!(got, want, "agent {agent}");
        }
        let active: Vec<crate::sla::TicketTimeline> = tickets
            .iter()
            .filter(|t| t.is_open())
            .map(crate::sla::TicketTimeline::from_ticket)
            .collect();
        let scan = policy.scan(&active, now, &Default::default());
        for agent in [None, Some(2)] {
            let want = sla_breach_list(&scan, agent);
            assert_eq!(live.sla_breaches(policy, agent).unwrap(), want);
            if days == 60 && agent.is_none() {
                assert!(want.count > 20, "{}", want.count);
            }
        }
        if days == 60 {
            // The snapshots' holds and customer messages move SLA figures: without the pause
            // status and the next-response targets the same timelines evaluate otherwise.
            let mut plain = serde_json::to_value(policy).unwrap();
            plain["pause_statuses"] = serde_json::json!([]);
            let plain: crate::SlaPolicy = from_json(plain).unwrap();
            let (paused, unpaused): (Vec<_>, Vec<_>) = tickets
                .iter()
                .map(|t| {
                    let tl = crate::sla::TicketTimeline::from_ticket(t);
                    let due = |p: &crate::SlaPolicy| {
                        let e = p.evaluate(&tl, now).unwrap();
                        e.targets.iter().map(|x| x.due_at).collect::<Vec<_>>()
                    };
                    (due(policy), due(&plain))
                })
                .unzip();
            let moved = paused.iter().zip(&unpaused).filter(|(a, b)| a != b).count();
            assert!(moved > 5, "holds moved {moved} tickets' due instants");
            let cycles = tickets
                .iter()
                .map(|t| {
                    policy
                        .evaluate(&crate::sla::TicketTimeline::from_ticket(t), now)
                        .unwrap()
                })
                .filter(|e| {
                    e.targets
                        .iter()
                        .any(|x| x.target == crate::SlaTarget::NextResponse)
                })
                .count();
            assert!(
                cycles > 5,
                "customer messages opened {cycles} next-response cycles"
            );
            // And the SLA met / breached counts of ticket metrics: held time is not late.
            let sla_of = |o: &EngineOptions| {
                let mut m = o.metrics_by(PeriodKind::Month, GroupBy::Agent);
                m.as_of = Some(now);
                let mut agg = metrics::TicketMetricsAggregator::new(m).unwrap();
                for t in &tickets {
                    agg.add(t).unwrap();
                }
                let rows = agg.finish().rows;
                rows.iter()
                    .map(|r| (r.sla_met, r.sla_breached))
                    .collect::<Vec<_>>()
            };
            let mut unpaused = options.clone();
            unpaused.sla = Some(plain.clone());
            assert_ne!(sla_of(&options), sla_of(&unpaused));
            // Every agent had work: the comparison is not trivially empty.
            let comparison = &a[0]["agents"];
            assert!(
                comparison.as_array().is_some_and(|r| r.len() == 6),
                "{comparison}"
            );
            assert!(
                a[2]["tickets_handled"].as_u64().is_some_and(|n| n > 400),
                "{}",
                a[2]
            );
        }
    }
}

/// Ad-hoc ranges (`MetricSource::range_metrics`): the store's live day rows merged into any
/// window of days equal a computation from the snapshots over that window, as of an instant and
/// without one, and the in-memory engine's range figures equal both — reassignments, transfers
/// back and forth, and ranges across weeks, months and the DST change included.
pub fn live_ranges_equal_snapshots(store: &dyn LiveStore) {
    use crate::live::LiveMetrics;
    use crate::update::{MetricSource, SnapshotMetrics};
    let options = paused_options();
    let mut events = realistic_stream(31, 1, 400, 40, 5);
    events.extend(transfers_back_and_forth());
    for chunk in shuffled_with_duplicates(&events, 32, 5).chunks(173) {
        store.live_apply(&options, chunk).unwrap();
    }
    let mut engine = engine::Engine::new(options.clone());
    engine.apply_batch(&events).unwrap();
    let tickets = engine.snapshots();
    let last = events.iter().map(|e| e.at).max().unwrap();
    let first = stream_start().date_naive();
    let day = |n: i64| first + Duration::days(n);
    let ranges = [
        (day(0), day(0)),
        (day(3), day(9)),
        (day(5), day(26)),
        (day(-3), day(45)),
        (day(20), day(21)),
        (day(60), day(61)),
    ];
    for (start, end) in ranges {
        let range = DateRange::new(start, end).unwrap();
        // Read as of instants after the stream (live state holds nothing later than "now").
        for as_of in [
            None,
            Some(last + Duration::hours(1)),
            Some(last + Duration::days(2)),
        ] {
            let mut metrics = MetricsOptions::daily(options.timezone);
            metrics.sla = options.sla.clone();
            metrics.as_of = as_of;
            let snap = SnapshotMetrics::for_range(&tickets, &metrics, range).unwrap();
            let live = LiveMetrics::new(store, None, as_of);
            for agent in 0..=6 {
                let want = snap.range_metrics(agent, &range).unwrap();
                let got = live.range_metrics(agent, &range).unwrap();
                assert_eq!(got, want, "agent {agent}, {start}..{end}, as of {as_of:?}");
                if as_of.is_none() {
                    assert_eq!(engine.range_metrics(agent, &range).unwrap(), want);
                }
            }
        }
    }
    // A range is one window: a ticket assigned on two of its days counts once.
    let whole = DateRange::new(day(-3), day(45)).unwrap();
    let live = LiveMetrics::new(store, None, None);
    let assigned: u64 = (0..=6)
        .filter_map(|a| live.range_metrics(a, &whole).unwrap())
        .map(|r| r.tickets_assigned)
        .sum();
    assert!(
        assigned >= 400,
        "every ticket is assigned once at least: {assigned}"
    );
}

fn creation(ticket_id: u64, agent: u64, team: &str, priority: &str) -> EventKind {
    EventKind::TicketCreated {
        ticket_id,
        agent_id: Some(agent),
        team: Some(team.into()),
        priority: Some(priority.into()),
        kind: TicketKind::Ticket,
    }
}

/// Tickets moved from agent 1 to 2 and back over several days, some resolved days later, one
/// never answered (its SLA targets fall due and breach).
fn transfers_back_and_forth() -> Vec<Event> {
    let mut out = Vec::new();
    let start = stream_start() + Duration::days(3);
    for i in 0..12u64 {
        let ticket = 10_000 + i;
        let at = start + Duration::hours(i64::try_from(i * 7).unwrap_or(0));
        let ev = |n: &str, at, kind| Event::new(format!("back:{ticket}:{n}"), at, kind);
        let team = if i % 2 == 0 { "a" } else { "b" };
        let priority = ["normal", "high", "urgent"][(i % 3) as usize];
        out.push(ev("c", at, creation(ticket, 1, team, priority)));
        if i == 11 {
            continue;
        }
        for (n, (days, to)) in [(1, 2), (3, 1), (4, 2), (6, 1)].iter().enumerate() {
            let from = if *to == 1 { 2 } else { 1 };
            out.push(ev(
                &format!("t{n}"),
                at + Duration::days(*days + i64::try_from(i % 3).unwrap_or(0)),
                EventKind::TicketTransferred {
                    ticket_id: ticket,
                    from: Some(from),
                    to: *to,
                },
            ));
        }
        out.push(ev(
            "r",
            at + Duration::hours(2),
            EventKind::AgentReplied {
                ticket_id: ticket,
                agent_id: None,
            },
        ));
        if i % 4 != 3 {
            out.push(ev(
                "v",
                at + Duration::days(2 + 2 * i64::try_from(i % 4).unwrap_or(0)),
                EventKind::Resolved { ticket_id: ticket },
            ));
        }
    }
    // Answered exactly at its due instant (met), then moved to an agent with nothing else on
    // its creation day (the task lives in a row that counts nothing else).
    let (ticket, at) = (20_001, stream_start() - Duration::days(5));
    let ev = |n: &str, at, kind| Event::new(format!("edge:{n}"), at, kind);
    out.push(ev("c", at, creation(ticket, 1, "a", "urgent")));
    out.push(ev(
        "r",
        at + Duration::seconds(900),
        EventKind::AgentReplied {
            ticket_id: ticket,
            agent_id: None,
        },
    ));
    out.push(ev(
        "t",
        at + Duration::days(1),
        EventKind::TicketTransferred {
            ticket_id: ticket,
            from: Some(1),
            to: 3,
        },
    ));
    out.push(ev(
        "v",
        at + Duration::hours(2),
        EventKind::Resolved { ticket_id: ticket },
    ));
    out
}

/// The ignored test `name` of the running test binary, as a worker process with `env` set.
fn worker_command(name: &str, env: (&str, &str)) -> std::process::Command {
    let mut c = std::process::Command::new(std::env::current_exe().unwrap());
    c.args([
        "--exact",
        name,
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(env.0, env.1)
    .stdout(std::process::Stdio::piped());
    c
}

/// The crash test's worker: applies [`concurrency_stream`] in batches of 500, printing
/// `committed=k` after each commit.
pub fn crash_worker(store: &dyn LiveStore) {
    use std::io::Write as _;
    let options = live_options();
    for (k, chunk) in concurrency_stream().chunks(500).enumerate() {
        store.live_apply(&options, chunk).unwrap();
        let mut out = std::io::stdout().lock();
        writeln!(out, "committed={}", k + 1).unwrap();
        out.flush().unwrap();
    }
}

/// Spawns the crash worker (the ignored test `name`, with `env` set), lets it commit 5 batches
/// and kills it (SIGKILL) while it plans or writes the next; returns how many it had committed.
pub fn spawn_and_kill(name: &str, env: (&str, &str)) -> usize {
    use std::io::BufRead as _;
    let mut child = worker_command(name, env).spawn().unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut committed = 0usize;
    while committed < 5 {
        let line = lines.next().expect("the worker commits batches").unwrap();
        if let Some((_, n)) = line.split_once("committed=") {
            committed = n.trim().parse().unwrap();
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    committed
}

/// After the kill: the store holds `committed` batches or one more, never part of one; applying
/// everything again converges to the batch computation.
pub fn check_after_crash(store: &dyn LiveStore, committed: usize) {
    let events = concurrency_stream();
    let options = live_options();
    let day = |n: usize| {
        crate::engine::batch_rows_from_events(
            &options,
            PeriodKind::Day,
            &events[..(n * 500).min(events.len())],
        )
        .unwrap()
    };
    let live = all_live_rows(store, PeriodKind::Day, GroupBy::Agent);
    assert!(
        live == day(committed) || live == day(committed + 1),
        "the store holds part of a batch"
    );
    for chunk in events.chunks(1000) {
        store.live_apply(&options, chunk).unwrap();
    }
    assert_live_equals_batch(store, &options, &events);
}

/// Where the spawned workers find the store (a path or URL), and which side they play.
const WORKER_STORE: &str = "TEAMKPI_LIVE_STORE";
const CRASH_STORE: &str = "TEAMKPI_LIVE_CRASH_STORE";

/// The body of the adapter's ignored worker test, spawned by [`eight_processes_equal_batch`]
/// and [`killed_mid_batch_leaves_before_or_after`]: opens the store they name and applies its
/// share of the streams (or the crash stream). Does nothing when run directly.
pub fn worker_process<S: LiveStore>(open: impl Fn(&str) -> S) {
    if let Ok(at) = std::env::var(CRASH_STORE) {
        crash_worker(&open(&at));
    } else if let (Ok(at), Ok(worker)) = (
        std::env::var(WORKER_STORE),
        std::env::var("TEAMKPI_LIVE_WORKER"),
    ) {
        let applied = run_worker(&open(&at), worker.parse().unwrap(), 8);
        println!("applied={applied}");
    }
}

/// Contract check: eight processes (the ignored test `worker`, whose body is
/// [`worker_process`]) applying overlapping event streams to the store at `place` count every
/// event once, and the live rows equal a batch computation. `open` opens the store (first to
/// migrate it).
pub fn eight_processes_equal_batch<S: LiveStore>(worker: &str, place: &str, open: impl Fn() -> S) {
    drop(open());
    let applied = spawn_workers(worker, (WORKER_STORE, place), 8);
    check_after_workers(&open(), applied);
}

/// Contract check: a process killed while applying a batch (the ignored test `worker`, whose
/// body is [`worker_process`]) leaves the store before or after that batch, never inside it.
pub fn killed_mid_batch_leaves_before_or_after<S: LiveStore>(
    worker: &str,
    place: &str,
    open: impl Fn() -> S,
) {
    drop(open());
    let committed = spawn_and_kill(worker, (CRASH_STORE, place));
    check_after_crash(&open(), committed);
}

/// The stream a store's version-1 state fixture was made from: version 1 (states as JSON text)
/// applied its first half with [`live_options`].
pub fn version_1_fixture_stream() -> Vec<Event> {
    let mut events = realistic_stream(21, 1, 24, 6, 3);
    events.extend(call_center_stream(22, 1, 2));
    events.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    events
}

/// With a version-1 fixture's rows loaded: the first half of [`version_1_fixture_stream`] is
/// held (applying it again is all duplicates), the second half applies, and the rows equal a
/// batch computation over the whole stream.
pub fn version_1_state_keeps_applying(store: &dyn LiveStore) {
    let events = version_1_fixture_stream();
    let (first, second) = events.split_at(events.len() / 2);
    let options = live_options();
    let again = store.live_apply(&options, first).unwrap();
    assert_eq!(
        again.duplicates,
        first.len() as u64,
        "the first half is held"
    );
    let report = store.live_apply(&options, second).unwrap();
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    assert_eq!(report.applied, second.len() as u64);
    assert_live_equals_batch(store, &options, &events);
}
