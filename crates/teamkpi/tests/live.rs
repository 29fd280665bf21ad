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
