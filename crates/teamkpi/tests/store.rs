//! The in-memory store against the store contract shared by every backend.

#[test]
fn in_memory_store_conforms() {
    teamkpi::conformance::run_all(teamkpi::InMemoryStore::new);
}
