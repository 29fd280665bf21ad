//! Live metrics in the in-memory store: equal to batch over shuffled streams with duplicates in
//! batches of any size, and the batch rules; the in-memory engine follows the same rules.

use teamkpi::conformance::live::*;
use teamkpi::engine::Engine;
use teamkpi::InMemoryStore;

#[test]
fn in_memory_store_live_equals_batch() {
    live_equals_batch(&InMemoryStore::new());
}

#[test]
fn in_memory_store_live_batch_rules() {
    live_batch_rules(&InMemoryStore::new());
}

#[test]
fn engine_batches_equal_live_store() {
    let options = live_options();
    let events = realistic_stream(3, 1, 300, 30, 7);
    let stream = shuffled_with_duplicates(&events, 4, 15);
    let store = InMemoryStore::new();
    let mut engine = Engine::new(options.clone());
    for chunk in stream.chunks(97) {
        let a = engine.apply_batch(chunk).unwrap();
        let b = teamkpi::live::LiveStore::live_apply(&store, &options, chunk).unwrap();
        assert_eq!(
            (a.applied, a.duplicates, a.pending),
            (b.applied, b.duplicates, b.pending)
        );
        assert_eq!(a.rejected, b.rejected);
    }
    assert_live_equals_batch(&store, &options, &events);
    for period in [teamkpi::PeriodKind::Day, teamkpi::PeriodKind::Month] {
        assert_eq!(
            engine.rows(period),
            all_live_rows(&store, period, teamkpi::metrics::GroupBy::Agent)
        );
    }
}

#[test]
fn in_memory_store_live_analytics_equal_snapshots() {
    live_analytics_equal_snapshots(&InMemoryStore::new());
}

#[test]
fn in_memory_store_live_ranges_equal_snapshots() {
    live_ranges_equal_snapshots(&InMemoryStore::new());
}

/// A snapshot's status history and customer messages survive the backfill's events: the engine's
/// snapshot rebuilt from them has the same SLA timeline, with a history and without one (the
/// current status then counts from the last activity on both sides).
#[test]
fn backfilled_history_and_customer_messages_rebuild_the_same_timeline() {
    use chrono::{Duration, TimeZone, Utc};
    use teamkpi::metrics::{AgentMessage, CustomerMessage, StatusChange, Ticket};
    use teamkpi::TicketTimeline;
    let at = Utc.with_ymd_and_hms(2025, 11, 3, 9, 0, 0).unwrap();
    let m = |n: i64| at + Duration::minutes(n);
    let with_history = Ticket {
        id: 1,
        agent_id: Some(7),
        priority: Some("high".into()),
        created_at: at,
        first_response_at: Some(m(10)),
        agent_messages: vec![AgentMessage {
            at: m(10),
            agent_id: None,
            id: Some(50),
        }],
        customer_messages: vec![
            CustomerMessage {
                at: m(90),
                id: None,
            },
            CustomerMessage {
                at: m(30),
                id: Some(61),
            },
        ],
        status: Some("open".into()),
        status_history: vec![
            StatusChange {
                at: m(10),
                status: "on_hold".into(),
                id: Some(80),
            },
            StatusChange {
                at: m(30),
                status: "open".into(),
                id: None,
            },
        ],
        ..Ticket::default()
    };
    let without = Ticket {
        id: 2,
        status: Some("on_hold".into()),
        status_history: vec![],
        ..with_history.clone()
    };
    for t in [with_history, without] {
        let mut engine = Engine::new(teamkpi::engine::EngineOptions::new(chrono_tz::UTC));
        let events = teamkpi::live::ticket_events(&t);
        engine.apply_batch(&events).unwrap();
        let rebuilt = engine.snapshots().pop().unwrap();
        assert_eq!(
            TicketTimeline::from_ticket(&rebuilt),
            TicketTimeline::from_ticket(&t),
            "ticket {}",
            t.id
        );
        assert_eq!(rebuilt.customer_messages.len(), 2);
        // Applying the same events again changes nothing.
        assert_eq!(engine.apply_batch(&events).unwrap().applied, 0);
    }
}
