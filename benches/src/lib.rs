//! Deterministic, seeded data generators for the benchmark workloads, shared by the criterion
//! benches, the `teamkpi-bench` binary and (through the files it writes) the comparison script:
//! W1 tickets (in memory or streamed in chunks), W2 event streams, W3 calendar instants, W4
//! agents and backlog.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use teamkpi::engine::{Engine, EngineOptions, Event, EventKind};
use teamkpi::metrics::{MetricsOptions, TicketColumns};
use teamkpi::{AgentState, BusinessCalendar, OpenItem, SlaPolicy, WorkItem};

/// A small, fast, seeded generator (SplitMix64), so every run and every machine sees the same
/// data without pulling a random-number crate into the build: the one the live-metrics tests'
/// streams use.
pub use teamkpi::conformance::live::Rng as SplitMix64;

/// W1: tickets with agent, priority, created, first response and resolved.
#[derive(Debug, Clone, Default)]
pub struct W1 {
    /// Assignee ids.
    pub agent_id: Vec<u64>,
    /// Priority codes into [`W1_PRIORITIES`].
    pub priority: Vec<u32>,
    /// Creation, Unix seconds.
    pub created_at: Vec<i64>,
    /// First response, Unix seconds or `i64::MIN`.
    pub first_response_at: Vec<i64>,
    /// Resolution, Unix seconds or `i64::MIN`.
    pub resolved_at: Vec<i64>,
}

/// The priority labels of W1.
pub const W1_PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];

/// 2025-10-01 00:00:00 UTC, the start of W1's 30 days.
pub const W1_START: i64 = 1_759_276_800;

impl W1 {
    /// `n` tickets over 30 days for `agents` agents: 90 % answered within 0–8 h, 80 % resolved
    /// within 0–3 days. Rows come in creation order (as a database export by id gives them),
    /// with up to a minute of disorder; [`W1::generate_shuffled`] gives random order.
    pub fn generate(n: usize, agents: u64, seed: u64) -> W1 {
        W1Gen::new(n, agents, seed, true)
            .next_chunk(n)
            .unwrap_or_default()
    }

    /// Like [`W1::generate`], with creation instants in random order.
    pub fn generate_shuffled(n: usize, agents: u64, seed: u64) -> W1 {
        W1Gen::new(n, agents, seed, false)
            .next_chunk(n)
            .unwrap_or_default()
    }

    /// The rows as [`TicketColumns`] (priority codes index [`w1_priority_labels`]).
    pub fn columns<'a>(&'a self, labels: &'a [String]) -> TicketColumns<'a> {
        TicketColumns::new(
            &self.agent_id,
            &self.created_at,
            &self.first_response_at,
            &self.resolved_at,
        )
        .with_priority(&self.priority, labels)
    }

    /// Number of tickets.
    pub fn len(&self) -> usize {
        self.created_at.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.created_at.is_empty()
    }
}

/// W1 in chunks: the same rows as [`W1::generate`] (or [`W1::generate_shuffled`]) with the same
/// `n` and seed, without holding them all (for the streaming memory check).
#[derive(Debug, Clone)]
pub struct W1Gen {
    rng: SplitMix64,
    n: usize,
    agents: u64,
    ordered: bool,
    next: usize,
}

impl W1Gen {
    /// A generator of `n` rows.
    pub fn new(n: usize, agents: u64, seed: u64, ordered: bool) -> Self {
        W1Gen {
            rng: SplitMix64::new(seed),
            n,
            agents,
            ordered,
            next: 0,
        }
    }

    /// The next up to `max` rows; `None` when all `n` were given.
    pub fn next_chunk(&mut self, max: usize) -> Option<W1> {
        if self.next >= self.n && self.n > 0 {
            return None;
        }
        let len = max.min(self.n - self.next);
        let mut w = W1 {
            agent_id: Vec::with_capacity(len),
            priority: Vec::with_capacity(len),
            created_at: Vec::with_capacity(len),
            first_response_at: Vec::with_capacity(len),
            resolved_at: Vec::with_capacity(len),
        };
        let span = 30 * 86_400u64;
        let rng = &mut self.rng;
        for i in self.next..self.next + len {
            let created = if self.ordered {
                W1_START + (i as u64 * span / self.n.max(1) as u64) as i64 + rng.below(60) as i64
            } else {
                W1_START + rng.below(span) as i64
            };
            w.agent_id.push(1 + rng.below(self.agents));
            w.priority.push(rng.below(4) as u32);
            w.created_at.push(created);
            let fr = if rng.below(10) < 9 {
                created + rng.below(8 * 3600) as i64
            } else {
                i64::MIN
            };
            w.first_response_at.push(fr);
            let res = if rng.below(10) < 8 {
                created + rng.below(3 * 86_400) as i64
            } else {
                i64::MIN
            };
            w.resolved_at.push(res);
        }
        self.next += len;
        if self.n == 0 {
            // An empty stream yields one empty chunk, then ends.
            self.n = usize::MAX;
            self.next = usize::MAX;
        }
        Some(w)
    }
}

/// [`W1_PRIORITIES`] as owned labels (what [`TicketColumns`] borrows).
pub fn w1_priority_labels() -> Vec<String> {
    W1_PRIORITIES.iter().map(|s| s.to_string()).collect()
}

/// W1's SLA targets (seconds), per priority: (first response, resolution), on a 24/7 calendar.
pub const W1_SLA_TARGETS: [(&str, i64, i64); 4] = [
    ("low", 28_800, 259_200),
    ("normal", 14_400, 172_800),
    ("high", 3_600, 86_400),
    ("urgent", 1_800, 14_400),
];

/// W1's SLA policy ([`W1_SLA_TARGETS`], 24/7).
pub fn w1_sla() -> SlaPolicy {
    let targets: serde_json::Map<String, serde_json::Value> = W1_SLA_TARGETS
        .iter()
        .map(|(p, f, r)| {
            (
                p.to_string(),
                serde_json::json!({"first_response": f, "resolution": r}),
            )
        })
        .collect();
    teamkpi::from_json(serde_json::json!({"name": "w1", "targets": targets}))
        .unwrap_or_else(|e| panic!("W1's SLA policy is valid: {e}"))
}

/// W1's options: per agent-day in `timezone`, no quantiles, SLA met on [`w1_sla`].
pub fn w1_options(timezone: chrono_tz::Tz) -> MetricsOptions {
    let mut o = MetricsOptions::daily(timezone);
    o.quantiles = false;
    o.sla = Some(w1_sla());
    o
}

/// W2: an engine already holding `tickets` open tickets (100 agents) and a stream of `events`
/// new events on them — half agent replies, a quarter customer messages, a quarter transfers.
pub fn w2(tickets: u64, events: u64, seed: u64) -> (Engine, Vec<Event>) {
    let mut engine = Engine::new(EngineOptions::new(chrono_tz::UTC));
    let t0 = Utc
        .with_ymd_and_hms(2025, 11, 3, 8, 0, 0)
        .single()
        .unwrap_or_default();
    let mut rng = SplitMix64::new(seed);
    for t in 0..tickets {
        let created = Event {
            id: format!("c{t}"),
            tenant: None,
            at: t0 + Duration::seconds(rng.below(86_400) as i64),
            kind: EventKind::TicketCreated {
                ticket_id: t,
                agent_id: Some(1 + rng.below(100)),
                team: None,
                priority: Some("normal".into()),
                kind: Default::default(),
            },
        };
        if let Err(e) = engine.apply(&created) {
            panic!("W2's creation events apply: {e}");
        }
    }
    let stream = (0..events)
        .map(|n| {
            let ticket_id = rng.below(tickets.max(1));
            let kind = match rng.below(4) {
                0 => EventKind::TicketTransferred {
                    ticket_id,
                    from: None,
                    to: 1 + rng.below(100),
                },
                1 => EventKind::CustomerReplied { ticket_id },
                _ => EventKind::AgentReplied {
                    ticket_id,
                    agent_id: None,
                },
            };
            Event {
                id: format!("s{n}"),
                tenant: None,
                at: t0 + Duration::days(1) + Duration::seconds(n as i64),
                kind,
            }
        })
        .collect();
    (engine, stream)
}

/// W3's holidays: nine a year, 2024–2027.
pub fn w3_holidays() -> Vec<NaiveDate> {
    let days = [
        (1, 1),
        (1, 6),
        (5, 1),
        (5, 3),
        (8, 15),
        (11, 1),
        (11, 11),
        (12, 25),
        (12, 26),
    ];
    (2024..=2027)
        .flat_map(|y| {
            days.iter()
                .filter_map(move |(m, d)| NaiveDate::from_ymd_opt(y, *m, *d))
        })
        .collect()
}

/// W3: Europe/Warsaw, split hours Mon–Fri 08:00–12:00 and 13:00–17:00, Saturday 09:00–13:00,
/// [`w3_holidays`].
pub fn w3_calendar() -> BusinessCalendar {
    let build = || -> teamkpi::Result<BusinessCalendar> {
        let mut b = BusinessCalendar::builder("Europe/Warsaw")?;
        for day in ["mon", "tue", "wed", "thu", "fri"] {
            b = b
                .hours(day, "08:00", "12:00")?
                .hours(day, "13:00", "17:00")?;
        }
        b = b.hours("sat", "09:00", "13:00")?;
        for h in w3_holidays() {
            b = b.holiday(h);
        }
        b.build()
    };
    build().unwrap_or_else(|e| panic!("W3's calendar is valid: {e}"))
}

/// W3 inputs: instants spread over 2025 (both DST changes), to the second, with SLA-like
/// amounts of 15 minutes to 3 business days.
pub fn w3_instants(n: usize, seed: u64) -> Vec<(DateTime<Utc>, i64)> {
    let mut rng = SplitMix64::new(seed);
    let base = Utc
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    (0..n)
        .map(|_| {
            let t = base + Duration::seconds(rng.below(365 * 86_400) as i64);
            let d = 900 + rng.below(3 * 8 * 3600) as i64;
            (t, d)
        })
        .collect()
}

/// W4 agents: ids 1..=n, online, 0–19 open tickets each, last active 2025-11-03 11:00 UTC.
pub fn w4_agents(n: u64, capacity: Option<i64>, seed: u64) -> Vec<AgentState> {
    let mut rng = SplitMix64::new(seed);
    let active = Utc.with_ymd_and_hms(2025, 11, 3, 11, 0, 0).single();
    (1..=n)
        .map(|id| {
            let mut a = AgentState::online(id);
            a.open_load.insert("ticket".into(), rng.below(20) as i64);
            a.capacity = capacity;
            a.last_active_at = active;
            a
        })
        .collect()
}

/// W4 backlog: `n` tickets of four priorities created over two days from 2025-11-01.
pub fn w4_items(n: u64, seed: u64) -> Vec<WorkItem> {
    let mut rng = SplitMix64::new(seed);
    let base = Utc
        .with_ymd_and_hms(2025, 11, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let prios = ["urgent", "high", "normal", "low"];
    (0..n)
        .map(|id| WorkItem {
            id,
            kind: "ticket".into(),
            priority: prios.get(rng.below(4) as usize).map(|p| p.to_string()),
            created_at: base + Duration::seconds(rng.below(2 * 86_400) as i64),
            team: None,
            skills: Default::default(),
        })
        .collect()
}

/// W4 open items for the stale scan: `items` assigned over the 48 h before `now` to agents
/// 1..=`agents`, half of them contacted since.
pub fn w4_open_items(
    items: &[WorkItem],
    agents: u64,
    now: DateTime<Utc>,
    seed: u64,
) -> Vec<OpenItem> {
    let mut rng = SplitMix64::new(seed);
    items
        .iter()
        .map(|it| OpenItem {
            item: it.clone(),
            agent_id: 1 + rng.below(agents),
            assigned_at: now - Duration::hours(rng.below(48) as i64),
            last_contacted_at: (rng.below(2) == 0)
                .then(|| now - Duration::hours(rng.below(48) as i64)),
        })
        .collect()
}
