//! The incremental engine equals batch over any event stream: shuffled, with duplicates.

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;
use teamkpi::engine::*;
use teamkpi::metrics::{Bucketing, GroupBy, MetricsOptions, TicketMetricsAggregator};
use teamkpi::*;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 10, 20, 8, 0, 0).unwrap()
}

#[derive(Debug, Clone)]
enum Step {
    Assign(u64),
    Transfer(u64),
    Reply(Option<u64>),
    Customer,
    Status(bool),
    Resolve,
    Reopen,
    Close,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (1u64..5).prop_map(Step::Assign),
        (1u64..5).prop_map(Step::Transfer),
        prop::option::of(1u64..5).prop_map(Step::Reply),
        Just(Step::Customer),
        any::<bool>().prop_map(Step::Status),
        Just(Step::Resolve),
        Just(Step::Reopen),
        Just(Step::Close),
    ]
}

fn ticket_events(ticket: u64) -> impl Strategy<Value = Vec<Event>> {
    ticket_events_from(ticket, t0())
}

fn ticket_events_from(ticket: u64, base: DateTime<Utc>) -> impl Strategy<Value = Vec<Event>> {
    (
        0i64..(10 * 86_400),
        prop::option::of(1u64..5),
        prop::collection::vec((step(), 0i64..(2 * 86_400)), 0..8),
    )
        .prop_map(move |(start, agent, steps)| {
            let created = base + Duration::seconds(start);
            let mut out = vec![Event {
                id: format!("{ticket}-c"),
                tenant: None,
                at: created,
                kind: EventKind::TicketCreated {
                    ticket_id: ticket,
                    agent_id: agent,
                    team: None,
                    priority: Some("normal".into()),
                    kind: Default::default(),
                },
            }];
            for (n, (s, dt)) in steps.into_iter().enumerate() {
                let at = created + Duration::seconds(dt);
                let kind = match s {
                    Step::Assign(a) => EventKind::TicketAssigned {
                        ticket_id: ticket,
                        agent_id: a,
                    },
                    Step::Transfer(a) => EventKind::TicketTransferred {
                        ticket_id: ticket,
                        from: None,
                        to: a,
                    },
                    Step::Reply(a) => EventKind::AgentReplied {
                        ticket_id: ticket,
                        agent_id: a,
                    },
                    Step::Customer => EventKind::CustomerReplied { ticket_id: ticket },
                    Step::Status(p) => EventKind::StatusChanged {
                        ticket_id: ticket,
                        status: if p { "on_hold".into() } else { "open".into() },
                    },
                    Step::Resolve => EventKind::Resolved { ticket_id: ticket },
                    Step::Reopen => EventKind::Reopened { ticket_id: ticket },
                    Step::Close => EventKind::Closed { ticket_id: ticket },
                };
                out.push(Event {
                    id: format!("{ticket}-{n}"),
                    tenant: None,
                    at,
                    kind,
                });
            }
            out
        })
}

fn stream() -> impl Strategy<Value = Vec<Event>> {
    (1usize..12).prop_flat_map(|n| {
        (0..n as u64)
            .map(ticket_events)
            .collect::<Vec<_>>()
            .prop_map(|lists| lists.into_iter().flatten().collect::<Vec<_>>())
    })
}

/// Tickets 100 and up, created from 40 days after `t0`.
fn later_stream() -> impl Strategy<Value = Vec<Event>> {
    (1usize..8).prop_flat_map(|n| {
        (100..100 + n as u64)
            .map(|t| ticket_events_from(t, t0() + Duration::days(40)))
            .collect::<Vec<_>>()
            .prop_map(|lists| lists.into_iter().flatten().collect::<Vec<_>>())
    })
}

fn options(zone: &str) -> EngineOptions {
    options_with(zone, false)
}

/// With `paused`, the policy stops its clocks while a ticket is `on_hold` (the streams' hold).
fn options_with(zone: &str, paused: bool) -> EngineOptions {
    let mut o = EngineOptions::new(parse_timezone(zone).unwrap());
    let pauses: &[&str] = if paused { &["on_hold"] } else { &[] };
    o.sla = Some(
        from_json(serde_json::json!({"name": "s", "pause_statuses": pauses,
            "targets": {"normal": {"first_response": 3600, "resolution": 86400}}}))
        .unwrap(),
    );
    o
}

/// Batch options of daily agent rows under the engine's zone and SLA policy.
fn daily_options(opts: &EngineOptions) -> MetricsOptions {
    MetricsOptions {
        tenant: None,
        timezone: opts.timezone,
        bucketing: Bucketing::Period(PeriodKind::Day),
        group_by: GroupBy::Agent,
        calendar: None,
        sla: opts.sla.clone(),
        as_of: None,
        quantiles: true,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn incremental_equals_batch_in_any_order_with_duplicates(
        (events, shuffled) in stream().prop_flat_map(|ev| (Just(ev.clone()), Just(ev).prop_shuffle())),
        dups in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
        zone in prop_oneof![Just("UTC"), Just("Europe/Warsaw")],
        paused in any::<bool>(),
    ) {
        let opts = options_with(zone, paused);
        // Any order, and some events delivered twice.
        let mut shuffled = shuffled;
        for d in &dups {
            let e = events[d.index(events.len())].clone();
            shuffled.insert(d.index(shuffled.len() + 1), e);
        }
        let mut engine = Engine::new(opts.clone());
        for e in &shuffled {
            engine.apply(e).unwrap();
        }
        for kind in [PeriodKind::Day, PeriodKind::Week, PeriodKind::Month] {
            let batch = batch_rows_from_events(&opts, kind, &events).unwrap();
            prop_assert_eq!(engine.rows(kind), batch);
        }
        // Snapshot-determined figures equal batch over the resulting snapshots.
        let mut agg = TicketMetricsAggregator::new(daily_options(&opts)).unwrap();
        agg.add_all(&engine.snapshots());
        let rows = agg.finish().rows;
        prop_assert_eq!(&rows, &engine.rows(PeriodKind::Day));
        // The time on hold is part of the resolution time and leaves it in the active mean;
        // with no pause statuses nothing is paused and the active means are the plain ones.
        let mut plain = TicketMetricsAggregator::new(daily_options(&options_with(zone, false))).unwrap();
        plain.add_all(&engine.snapshots());
        let plain = plain.finish().rows;
        prop_assert_eq!(plain.len(), rows.len());
        for (r, p) in rows.iter().zip(&plain) {
            prop_assert_eq!(r.resolution_seconds_sum, p.resolution_seconds_sum);
            prop_assert!((0..=r.resolution_seconds_sum.max(0)).contains(&r.resolution_paused_seconds_sum));
            let active = (r.resolution_count > 0).then(|| {
                Decimal::from(r.resolution_seconds_sum - r.resolution_paused_seconds_sum)
                    / Decimal::from(r.resolution_count)
            });
            prop_assert_eq!(r.avg_resolution_active_seconds, active);
            prop_assert_eq!(p.resolution_paused_seconds_sum, 0);
            prop_assert_eq!(p.avg_resolution_active_seconds, p.avg_resolution_seconds);
            if !paused {
                prop_assert_eq!(r, p);
            }
        }
        // A policy that pauses on no status: the status history and the customer messages
        // change no figure.
        if !paused {
            let mut bare = engine.snapshots();
            for t in &mut bare {
                t.status_history.clear();
                t.customer_messages.clear();
            }
            let mut agg = TicketMetricsAggregator::new(daily_options(&opts)).unwrap();
            agg.add_all(&bare);
            prop_assert_eq!(agg.finish().rows, rows);
        }
    }

    #[test]
    fn eviction_keeps_figures_and_rejects_late_events(events in stream()) {
        let opts = options("UTC");
        let mut engine = Engine::new(opts.clone());
        for e in &events {
            engine.apply(e).unwrap();
        }
        let before = engine.rows(PeriodKind::Day);
        let horizon = t0() + Duration::days(30);
        let evicted = engine.evict_before(horizon);
        prop_assert_eq!(engine.rows(PeriodKind::Day), before);
        if evicted > 0 {
            let gone = events.iter().find(|e| engine.snapshots().iter().all(|t| Some(t.id) != e.kind.ticket_id())).unwrap();
            let late = Event { id: "late".into(), tenant: None, at: horizon, kind: EventKind::Reopened { ticket_id: gone.kind.ticket_id().unwrap() } };
            prop_assert_eq!(engine.apply(&late).unwrap_err().code(), "late_event");
        }
    }

    /// Storage that eviction frees serves later tickets without mixing their events: they get
    /// the results and snapshots a fresh engine gives, and their duplicates are recognised.
    #[test]
    fn evicted_storage_serves_later_tickets(first in stream(), second in later_stream()) {
        let opts = options("UTC");
        let mut engine = Engine::new(opts.clone());
        for e in &first {
            engine.apply(e).unwrap();
        }
        engine.evict_before(t0() + Duration::days(30));
        let mut fresh = Engine::new(opts);
        for e in &second {
            prop_assert_eq!(engine.apply(e).unwrap(), fresh.apply(e).unwrap());
        }
        for e in &second {
            prop_assert!(engine.apply(e).unwrap().duplicate);
        }
        let later: Vec<_> = engine.snapshots().into_iter().filter(|t| t.id >= 100).collect();
        prop_assert_eq!(later, fresh.snapshots());
    }
}

#[test]
fn transfer_touches_both_agents_and_errors_change_nothing() {
    let mut engine = Engine::new(options("UTC"));
    let at = |m: i64| t0() + Duration::minutes(m);
    let ev = |id: &str, m: i64, kind: EventKind| Event {
        id: id.into(),
        tenant: None,
        at: at(m),
        kind,
    };
    engine
        .apply(&ev("c", 0, EventKind::created(1, Some(1))))
        .unwrap();
    let applied = engine
        .apply(&ev(
            "t",
            30,
            EventKind::TicketTransferred {
                ticket_id: 1,
                from: Some(1),
                to: 2,
            },
        ))
        .unwrap();
    let agents: Vec<Option<u64>> = applied.touched.iter().map(|(a, _)| *a).collect();
    assert_eq!(agents, vec![Some(1), Some(2)]);
    let rows = engine.rows(PeriodKind::Day);
    assert_eq!((rows[0].transfers_out, rows[1].transfers_in), (1, 1));
    // An event before the creation is rejected and changes nothing.
    let err = engine
        .apply(&ev(
            "bad",
            -10,
            EventKind::AgentReplied {
                ticket_id: 1,
                agent_id: None,
            },
        ))
        .unwrap_err();
    assert_eq!(err.code(), "events_out_of_order");
    assert_eq!(engine.rows(PeriodKind::Day), rows);
    // Another tenant's event is rejected.
    let mut other = ev("x", 5, EventKind::Resolved { ticket_id: 1 });
    other.tenant = Some("acme".into());
    assert_eq!(engine.apply(&other).unwrap_err().code(), "tenant_mismatch");
    // Events before the creation arrives are held, then counted.
    let early = engine
        .apply(&ev(
            "r9",
            50,
            EventKind::AgentReplied {
                ticket_id: 9,
                agent_id: Some(3),
            },
        ))
        .unwrap();
    assert!(early.pending);
    assert_eq!(engine.pending(), vec![9]);
    engine
        .apply(&ev("c9", 40, EventKind::created(9, Some(3))))
        .unwrap();
    assert!(engine.pending().is_empty());
    // A strict engine refuses events for unknown tickets.
    let mut strict_opts = options("UTC");
    strict_opts.require_created_first = true;
    let mut strict = Engine::new(strict_opts);
    let e = strict
        .apply(&ev("r", 1, EventKind::Resolved { ticket_id: 5 }))
        .unwrap_err();
    assert_eq!(e.code(), "unknown_ticket");
}
