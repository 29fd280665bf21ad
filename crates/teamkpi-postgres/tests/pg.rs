//! The PostgreSQL store on a real server (`PG_TEST_URL`; `scripts/with-postgres.sh` starts one).
//! Without a URL the tests say so and pass, unless TEAMKPI_REQUIRE_PG=1 (the README's test
//! command sets it), where a missing server fails them.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use postgres::{Client, NoTls};
use rust_decimal::Decimal;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use teamkpi::metrics::{Bucketing, GroupBy, GroupKey, MetricsOptions, TicketMetricsAggregator};
use teamkpi::*;
use teamkpi_postgres::{ActivityTables, PgStore};

fn admin_url() -> Option<String> {
    match std::env::var("PG_TEST_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            assert!(
                std::env::var("TEAMKPI_REQUIRE_PG").as_deref() != Ok("1"),
                "TEAMKPI_REQUIRE_PG=1 but PG_TEST_URL is not set"
            );
            eprintln!("PG_TEST_URL is not set: skipping the PostgreSQL tests");
            None
        }
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh database on the server; returns its URL.
/// A store on a fresh database of the server in `PG_TEST_URL`, or `None` without one.
fn fresh_store() -> Option<PgStore> {
    Some(PgStore::connect(&fresh_db(&admin_url()?)).unwrap())
}

fn fresh_db(admin: &str) -> String {
    let name = format!(
        "teamkpi_t{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let mut c = Client::connect(admin, NoTls).expect("connect to PG_TEST_URL");
    c.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .unwrap();
    c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    match admin.rfind('/') {
        Some(i) => format!("{}/{name}", &admin[..i]),
        None => admin.to_owned(),
    }
}

#[test]
fn postgres_store_conforms() {
    let Some(admin) = admin_url() else { return };
    teamkpi::conformance::run_all(|| PgStore::connect(&fresh_db(&admin)).unwrap());
}

#[test]
fn migrations_twice_change_nothing() {
    let Some(admin) = admin_url() else { return };
    let url = fresh_db(&admin);
    let store = PgStore::connect(&url).unwrap();
    store.upsert_definition(&from_json(serde_json::json!({"key": "k", "name": "K", "unit": "count", "direction": "higher_better", "period": "daily", "source": {"type": "manual"}})).unwrap()).unwrap();
    assert_eq!(store.migrate().unwrap(), 8);
    let again = PgStore::connect(&url).unwrap();
    assert_eq!(again.migrate().unwrap(), 8);
    assert_eq!(again.definitions(None).unwrap().len(), 1);
}

/// The KPI tables' original DDL and rows.
const SEED_003: &str = "
CREATE TABLE users (id SERIAL PRIMARY KEY, name TEXT);
INSERT INTO users (name) VALUES ('Ada'), ('Bo');
CREATE TABLE kpi_definitions (
  id SERIAL PRIMARY KEY, name VARCHAR(255) NOT NULL, description TEXT, category VARCHAR(100),
  calculation_type VARCHAR(50) NOT NULL, config JSONB, unit VARCHAR(50), target_type VARCHAR(50),
  aggregation_period VARCHAR(50), is_active BOOLEAN DEFAULT true,
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE user_kpis (
  id SERIAL PRIMARY KEY, user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
  kpi_definition_id INTEGER REFERENCES kpi_definitions(id) ON DELETE CASCADE,
  target_value DECIMAL(10, 2), weight DECIMAL(5, 2), start_date DATE NOT NULL, end_date DATE,
  assigned_by INTEGER REFERENCES users(id), assigned_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  is_active BOOLEAN DEFAULT true, UNIQUE(user_id, kpi_definition_id, start_date));
CREATE INDEX idx_user_kpis_user ON user_kpis(user_id) WHERE is_active = true;
CREATE TABLE kpi_measurements (
  id SERIAL PRIMARY KEY, user_kpi_id INTEGER REFERENCES user_kpis(id) ON DELETE CASCADE,
  period_start DATE NOT NULL, period_end DATE NOT NULL, actual_value DECIMAL(10, 2),
  target_value DECIMAL(10, 2), achievement_percentage DECIMAL(5, 2), metadata JSONB,
  calculated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, UNIQUE(user_kpi_id, period_start, period_end));
CREATE INDEX idx_kpi_measurements_lookup ON kpi_measurements(user_kpi_id, period_start DESC);
INSERT INTO kpi_definitions (name, description, category, calculation_type, config, unit, target_type, aggregation_period)
VALUES ('Average Resolution Time', 'Average time taken to resolve customer support cases', 'customer_support', 'query',
  '{\"query_key\": \"avg_resolution_time\", \"description\": \"Calculates average hours\"}'::jsonb, 'hours', 'lower_better', 'weekly');
INSERT INTO user_kpis (user_id, kpi_definition_id, target_value, weight, start_date) VALUES (1, 1, 3, 100, '2025-10-01');
INSERT INTO kpi_measurements (user_kpi_id, period_start, period_end, actual_value, target_value, achievement_percentage)
VALUES (1, '2025-10-06', '2025-10-12', 2.00, 3.00, 150.00);
";

#[test]
fn adopts_the_kpi_tables_and_keeps_their_rows() {
    let Some(admin) = admin_url() else { return };
    let url = fresh_db(&admin);
    Client::connect(&url, NoTls)
        .unwrap()
        .batch_execute(SEED_003)
        .unwrap();
    let store = PgStore::connect(&url).unwrap();
    let defs = store.definitions(None).unwrap();
    assert_eq!(defs.len(), 1);
    assert_eq!(defs[0].key, "kpi_1");
    assert_eq!(
        defs[0].source,
        KpiSource::Metric {
            metric: "avg_resolution_time".into()
        }
    );
    let a = store.assignment(None, 1).unwrap().unwrap();
    assert_eq!((a.agent_id, a.target), (1, Decimal::from(3)));
    let m = store.latest_measurement(None, 1).unwrap().unwrap();
    assert_eq!(m.achievement, Decimal::from(150));
    // The widened column holds what DECIMAL(5,2) could not.
    let mut big = m.clone();
    big.period_start = NaiveDate::from_ymd_opt(2025, 10, 13).unwrap();
    big.period_end = NaiveDate::from_ymd_opt(2025, 10, 19).unwrap();
    big.achievement = Decimal::from(30000);
    store.upsert_measurement(&big).unwrap();
    assert_eq!(
        store
            .latest_measurement(None, 1)
            .unwrap()
            .unwrap()
            .achievement,
        Decimal::from(30000)
    );
    // An inactive duplicate is allowed now; an active one is not.
    let mut dup: NewKpiAssignment = from_json(serde_json::json!({"agent_id": 1, "definition": "kpi_1", "target": 4, "valid_from": "2025-10-01", "active": false})).unwrap();
    store.insert_assignment(dup.clone()).unwrap();
    dup.active = true;
    assert_eq!(
        store.insert_assignment(dup).unwrap_err().code(),
        "duplicate_assignment"
    );
    // Running the migration again on the adopted database changes nothing.
    assert_eq!(
        PgStore::connect(&url)
            .unwrap()
            .definitions(None)
            .unwrap()
            .len(),
        1
    );
}

fn setup_assignment(store: &PgStore) -> KpiAssignment {
    store.upsert_definition(&from_json(serde_json::json!({"key": "k", "name": "K", "unit": "count", "direction": "higher_better", "period": "daily", "source": {"type": "manual"}})).unwrap()).unwrap();
    store.insert_assignment(from_json(serde_json::json!({"agent_id": 1, "definition": "k", "target": 10, "valid_from": "2025-10-01"})).unwrap()).unwrap()
}

/// A worker process for the concurrency test (runs only when spawned with the env set).
#[test]
#[ignore]
fn rollup_worker_process() {
    let (Ok(url), Ok(worker)) = (
        std::env::var("TEAMKPI_PG_WORKER_URL"),
        std::env::var("TEAMKPI_PG_WORKER_ID"),
    ) else {
        return;
    };
    let store = PgStore::connect(&url).unwrap();
    merge_many(&store, &worker);
}

fn rollup_key() -> RollupKey {
    RollupKey {
        tenant: None,
        name: "tickets".into(),
        group: "agent:1".into(),
        period_start: NaiveDate::from_ymd_opt(2025, 11, 3).unwrap(),
    }
}

fn merge_many(store: &PgStore, worker: &str) {
    // 1 000 partials, then the first ten again: a retried partial changes nothing.
    for i in (0..1000).chain(0..10) {
        store
            .merge_rollup(
                &rollup_key(),
                &format!("{worker}-{i}"),
                &serde_json::json!({"n": 1}),
            )
            .unwrap();
    }
}

#[derive(serde::Deserialize)]
struct Counter {
    n: u64,
}

impl Mergeable for Counter {
    fn merge(&mut self, other: &Self) {
        self.n += other.n;
    }
}

#[test]
fn eight_concurrent_writers_give_exact_totals() {
    let Some(admin) = admin_url() else { return };
    let url = fresh_db(&admin);
    let store = PgStore::connect(&url).unwrap();
    let a = setup_assignment(&store);
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..4)
        .map(|p| {
            std::process::Command::new(&exe)
                .args(["--exact", "rollup_worker_process", "--ignored", "--quiet"])
                .env("TEAMKPI_PG_WORKER_URL", &url)
                .env("TEAMKPI_PG_WORKER_ID", format!("process{p}"))
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    std::thread::scope(|s| {
        for w in 0..4 {
            let url = &url;
            s.spawn(move || {
                let store = PgStore::connect(url).unwrap();
                merge_many(&store, &format!("thread{w}"));
            });
        }
        // Concurrent upserts of the same measurement leave one row with one of the values.
        for w in 0..4 {
            let (url, a) = (&url, &a);
            s.spawn(move || {
                let store = PgStore::connect(url).unwrap();
                for i in 0..50 {
                    store
                        .upsert_measurement(&Measurement {
                            assignment_id: a.id,
                            tenant: None,
                            agent_id: 1,
                            definition: "k".into(),
                            period_start: NaiveDate::from_ymd_opt(2025, 11, 3).unwrap(),
                            period_end: NaiveDate::from_ymd_opt(2025, 11, 3).unwrap(),
                            complete: true,
                            actual: Decimal::from(w * 100 + i),
                            target: Decimal::from(10),
                            achievement: Decimal::from(w),
                            metadata: Default::default(),
                            calculated_at: Utc.with_ymd_and_hms(2025, 11, 4, 0, 0, 0).unwrap(),
                            ad_hoc: false,
                        })
                        .unwrap();
                }
            });
        }
    });
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let total: Counter = teamkpi::store::merged_rollup(&store, &rollup_key())
        .unwrap()
        .unwrap();
    assert_eq!(total.n, 8 * 1000);
    assert_eq!(store.measurements(None, a.id).unwrap().len(), 1);
}

#[test]
fn the_kpi_tables_queries_match_teamkpi() {
    let Some(admin) = admin_url() else { return };
    let url = fresh_db(&admin);
    let mut c = Client::connect(&url, NoTls).unwrap();
    c.batch_execute(
        "CREATE TABLE support_cases (id SERIAL PRIMARY KEY, assigned_to INTEGER, status TEXT,
           created_at TIMESTAMP NOT NULL, resolved_at TIMESTAMP);",
    )
    .unwrap();
    let base = Utc
        .with_ymd_and_hms(2025, 10, 6, 8, 0, 0)
        .unwrap()
        .naive_utc();
    let mut n = 0i64;
    for user in [1i32, 2] {
        for k in 0..40i64 {
            n += 1;
            let created = base + Duration::minutes(k * 97 + n * 13 % 60);
            let resolved = created + Duration::minutes(30 + (k * 53 + i64::from(user) * 7) % 2000);
            let status = if k % 7 == 0 {
                "open"
            } else if k % 11 == 0 {
                "closed"
            } else {
                "resolved"
            };
            let resolved_at = (status != "open").then_some(resolved);
            c.execute(
                "INSERT INTO support_cases (assigned_to, status, created_at, resolved_at) VALUES ($1, $2, $3, $4)",
                &[&user, &status, &created, &resolved_at],
            )
            .unwrap();
        }
    }
    let start = NaiveDate::from_ymd_opt(2025, 10, 6).unwrap();
    let end = NaiveDate::from_ymd_opt(2025, 10, 12).unwrap();
    let store = PgStore::connect(&url)
        .unwrap()
        .with_activity(ActivityTables::support_cases())
        .unwrap();
    let (from, to) = DateRange::new(start, end)
        .unwrap()
        .utc_bounds(chrono_tz::UTC);
    let tickets = store.tickets(None, from, to).unwrap();
    let mut agg = TicketMetricsAggregator::new(MetricsOptions {
        bucketing: Bucketing::range(start, end).unwrap(),
        group_by: GroupBy::Agent,
        quantiles: false,
        ..MetricsOptions::daily(chrono_tz::UTC)
    })
    .unwrap();
    for t in &tickets {
        agg.add(t).unwrap();
    }
    for user in [1i32, 2] {
        // The KPI tables' two queries, with the week's exclusive end (its job passes Sunday and so
        // drops Sunday's cases; teamkpi counts the whole week).
        let seed_avg: Decimal = c
            .query_one(
                "SELECT COALESCE(AVG(EXTRACT(EPOCH FROM (resolved_at - created_at)) / 3600), 0)::NUMERIC
                 FROM support_cases WHERE assigned_to = $1 AND status = 'resolved'
                 AND resolved_at >= $2 AND resolved_at < $3",
                &[&user, &from.naive_utc(), &to.naive_utc()],
            )
            .unwrap()
            .get(0);
        let seed_count: i64 = c
            .query_one(
                "SELECT COUNT(*) FROM support_cases WHERE assigned_to = $1 AND status = 'resolved'
                 AND resolved_at >= $2 AND resolved_at < $3",
                &[&user, &from.naive_utc(), &to.naive_utc()],
            )
            .unwrap()
            .get(0);
        let row = agg
            .state()
            .get(&GroupKey::Agent(Some(user as u64)), start)
            .map(|a| {
                metrics::TicketMetrics::from_aggregate(
                    &GroupKey::Agent(Some(user as u64)),
                    start,
                    end,
                    a,
                )
            })
            .unwrap();
        let ours_hours = Unit::Seconds
            .convert(row.metric("avg_resolution_time").unwrap(), Unit::Hours)
            .unwrap();
        assert_eq!(
            row.metric("cases_resolved_count")
                .or(row.metric("tickets_resolved")),
            Some(Decimal::from(seed_count))
        );
        assert!(seed_count > 10);
        let diff = (ours_hours - seed_avg).abs();
        assert!(
            diff < Decimal::from_str("0.000000001").unwrap(),
            "user {user}: {ours_hours} vs {seed_avg}"
        );
    }
}

/// A host's status-change and message tables fill the snapshots: the hold pauses the SLA
/// clocks and leaves the active resolution time, the customer's message opens a next-response
/// cycle.
#[test]
fn host_status_changes_and_customer_messages_take_effect() {
    let Some(admin) = admin_url() else { return };
    let url = fresh_db(&admin);
    let mut c = Client::connect(&url, NoTls).unwrap();
    c.batch_execute(
        "CREATE TABLE support_cases (id SERIAL PRIMARY KEY, assigned_to INTEGER, status TEXT,
           priority TEXT, created_at TIMESTAMP NOT NULL, first_reply_at TIMESTAMP,
           resolved_at TIMESTAMP);
         CREATE TABLE case_status_changes (case_id INTEGER, new_status TEXT, changed_at TIMESTAMP);
         CREATE TABLE case_messages (case_id INTEGER, sent_at TIMESTAMP, from_customer BOOLEAN);
         INSERT INTO support_cases (assigned_to, status, priority, created_at, first_reply_at, resolved_at)
           VALUES (3, 'resolved', 'normal', '2025-10-06 09:00', '2025-10-06 09:30', '2025-10-06 13:00'),
                  (3, 'open', 'normal', '2025-10-06 10:00', '2025-10-06 10:10', NULL);
         INSERT INTO case_status_changes VALUES (1, 'on_hold', '2025-10-06 10:00'),
           (1, 'open', '2025-10-06 12:00'), (1, 'resolved', '2025-10-06 13:00'),
           (2, 'on_hold', '2025-10-06 10:20');
         INSERT INTO case_messages VALUES (2, '2025-10-06 10:15', true),
           (2, '2025-10-06 10:10', false), (1, '2025-10-06 09:40', false);",
    )
    .unwrap();
    let store = PgStore::connect(&url)
        .unwrap()
        .with_activity(ActivityTables {
            first_response_at: Some("first_reply_at".into()),
            priority: Some("priority".into()),
            resolved_status: None,
            status_history: Some(teamkpi_postgres::StatusHistoryTable {
                table: "case_status_changes".into(),
                ticket: "case_id".into(),
                status: "new_status".into(),
                at: "changed_at".into(),
            }),
            customer_messages: Some(teamkpi_postgres::CustomerMessagesTable {
                table: "case_messages".into(),
                ticket: "case_id".into(),
                at: "sent_at".into(),
                filter: Some("from_customer".into()),
            }),
            ..ActivityTables::support_cases()
        })
        .unwrap();
    let day = NaiveDate::from_ymd_opt(2025, 10, 6).unwrap();
    let (from, to) = DateRange::new(day, day).unwrap().utc_bounds(chrono_tz::UTC);
    let tickets = store.tickets(None, from, to).unwrap();
    assert_eq!(tickets.len(), 2);
    assert_eq!(tickets[0].status_history.len(), 3);
    assert_eq!(tickets[0].customer_messages, vec![]);
    assert_eq!(tickets[1].customer_messages.len(), 1);

    let policy: SlaPolicy = from_json(serde_json::json!({"name": "p",
        "pause_statuses": ["on_hold"],
        "targets": {"normal": {"next_response": 1800, "resolution": 10800}}}))
    .unwrap();
    let mut agg = TicketMetricsAggregator::new(MetricsOptions {
        sla: Some(policy.clone()),
        ..MetricsOptions::daily(chrono_tz::UTC)
    })
    .unwrap();
    agg.add_all(&tickets);
    let rows = agg.finish().rows;
    // 4 h from creation to resolution, 2 of them on hold: met against the paused clock.
    assert_eq!(rows[0].resolution_paused_seconds_sum, 7200);
    assert_eq!(
        rows[0].avg_resolution_active_seconds,
        Some(Decimal::from(7200))
    );
    assert_eq!((rows[0].sla_met, rows[0].sla_breached), (1, 0));

    // Ticket 2: the customer wrote after the first reply (a cycle opens at 10:15) and the ticket
    // went on hold at 10:20, so the cycle is paused, not breached, at the day's end.
    let eval = policy
        .evaluate(&TicketTimeline::from_ticket(&tickets[1]), to)
        .unwrap();
    let next: Vec<_> = eval
        .targets
        .iter()
        .filter(|t| t.target == SlaTarget::NextResponse)
        .collect();
    assert_eq!(next.len(), 1, "{eval:?}");
    assert_eq!(next[0].used_seconds, 300);
    assert_eq!(next[0].state, SlaState::Paused);
}

#[test]
fn ids_beyond_their_columns_are_refused_not_truncated() {
    let Some(store) = fresh_store() else { return };
    store.upsert_definition(&from_json(serde_json::json!({"key": "k", "name": "K", "unit": "count", "direction": "higher_better", "period": "daily", "source": {"type": "manual"}})).unwrap()).unwrap();
    // The KPI tables keep the desk's INTEGER columns: agent 2^32 + 1 must not become agent 1.
    let wide = serde_json::json!({"agent_id": (1_u64 << 32) + 1, "definition": "k", "target": 10, "valid_from": "2025-10-01"});
    let err = store
        .insert_assignment(from_json(wide).unwrap())
        .unwrap_err();
    assert_eq!(err.code(), "out_of_range", "{err}");
    assert!(store.assignments(&Default::default()).unwrap().is_empty());
    let at = Utc.with_ymd_and_hms(2025, 11, 5, 9, 0, 0).unwrap();
    let big = teamkpi::metrics::Ticket {
        id: 1 << 63,
        created_at: at,
        ..Default::default()
    };
    assert_eq!(
        store.put_tickets(&[big]).unwrap_err().code(),
        "out_of_range"
    );
}

#[test]
fn calls_and_sessions_read_back_by_window_and_tenant() {
    use teamkpi::metrics::{AgentSession, Call};
    let Some(store) = fresh_store() else { return };
    let at = Utc.with_ymd_and_hms(2025, 11, 5, 9, 0, 0).unwrap();
    let call = |id: u64, tenant: &str, offset: i64| -> Call {
        from_json(
            serde_json::json!({"tenant": tenant, "id": id, "agent_id": 5,
            "started_at": (at + Duration::hours(offset)).to_rfc3339(),
            "duration_seconds": 60, "outcome": "no-answer"}),
        )
        .unwrap()
    };
    store
        .put_calls(&[call(1, "a", 0), call(2, "a", 30), call(3, "b", 0)])
        .unwrap();
    let got = store.calls(Some("a"), at, at + Duration::days(1)).unwrap();
    assert_eq!(got.iter().map(|c| c.id).collect::<Vec<_>>(), vec![1]);
    let session = |start: i64, end: Option<i64>| -> AgentSession {
        from_json(
            serde_json::json!({"tenant": "a", "id": 1, "agent_id": 5, "kind": "working",
            "start": (at + Duration::hours(start)).to_rfc3339(),
            "end": end.map(|e| (at + Duration::hours(e)).to_rfc3339())}),
        )
        .unwrap()
    };
    store
        .put_sessions(&[
            session(-3, Some(-2)),
            session(-1, Some(1)),
            session(2, None),
        ])
        .unwrap();
    let open = store
        .sessions(Some("a"), at, at + Duration::hours(3))
        .unwrap();
    assert_eq!(open.len(), 2, "the overlapping and the still-open session");
}

#[test]
fn live_metrics_equal_batch() {
    let Some(store) = fresh_store() else { return };
    teamkpi::conformance::live::live_equals_batch(&store);
}

#[test]
fn live_analytics_equal_snapshots() {
    let Some(store) = fresh_store() else { return };
    teamkpi::conformance::live::live_analytics_equal_snapshots(&store);
}

#[test]
fn live_ranges_equal_snapshots() {
    let Some(store) = fresh_store() else { return };
    teamkpi::conformance::live::live_ranges_equal_snapshots(&store);
}

#[test]
fn live_batch_rules() {
    let Some(store) = fresh_store() else { return };
    teamkpi::conformance::live::live_batch_rules(&store);
}

/// The worker process of the live concurrency and crash tests (runs only when spawned by them).
#[test]
#[ignore]
fn live_worker_process() {
    teamkpi::conformance::live::worker_process(|url| PgStore::connect(url).unwrap());
}

#[test]
fn live_kill_during_a_batch_leaves_the_store_before_or_after_it() {
    let Some(admin) = admin_url() else { return };
    let url = fresh_db(&admin);
    // The killed connection's transaction is rolled back by the server.
    teamkpi::conformance::live::killed_mid_batch_leaves_before_or_after(
        "live_worker_process",
        &url,
        || PgStore::connect(&url).unwrap(),
    );
}

#[test]
fn live_eight_processes_on_one_database_equal_batch() {
    let Some(admin) = admin_url() else { return };
    let url = fresh_db(&admin);
    teamkpi::conformance::live::eight_processes_equal_batch("live_worker_process", &url, || {
        PgStore::connect(&url).unwrap()
    });
}

#[test]
fn a_server_that_accepts_and_never_answers_fails_within_the_timeout() {
    // A listener that takes the connection and says nothing.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = std::thread::spawn(move || {
        let (socket, _) = listener.accept().unwrap();
        std::thread::sleep(std::time::Duration::from_secs(3));
        drop(socket);
    });
    let started = std::time::Instant::now();
    let url = format!("postgres://teamkpi@127.0.0.1:{port}/nothing?connect_timeout=1");
    let Err(e) = PgStore::connect(&url) else {
        panic!("no store from a silent server")
    };
    assert_eq!(e.code(), "storage");
    assert!(e.to_string().contains("connect_timeout"), "{e}");
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    held.join().unwrap();
}

#[test]
fn a_missing_database_says_so() {
    let Some(admin) = admin_url() else { return };
    let url = match admin.rfind('/') {
        Some(i) => format!("{}/teamkpi_no_such_database", &admin[..i]),
        None => return,
    };
    let Err(e) = PgStore::connect(&url) else {
        panic!("no such database")
    };
    assert!(e.to_string().contains("does not exist"), "{e}");
}

/// States written as JSON text before they were binary (the migration keeps them as their UTF-8
/// bytes) are read, and the tenant's live state keeps applying: the SQLite adapter's fixture,
/// made by that version from the first half of the conformance's fixture stream, loaded as
/// PostgreSQL rows.
#[test]
fn live_state_written_as_json_text_keeps_applying() {
    let Some(admin) = admin_url() else { return };
    let url = fresh_db(&admin);
    let store = PgStore::connect(&url).unwrap();
    let mut c = Client::connect(&url, NoTls).unwrap();
    c.batch_execute(
        "CREATE TEMP TABLE schema_migrations (version int, applied_at text);
         CREATE TEMP TABLE live_meta (tenant text, settings text, watermark bigint);
         CREATE TEMP TABLE live_tickets (tenant text, id bigint, state text, finished int,
           last_at bigint, breach_at bigint, agent_id bigint, kind text);
         CREATE TEMP TABLE live_aggregates (tenant text, period text, grp text,
           period_start text, grp_kind text, period_end text, state text);
         CREATE TEMP TABLE live_calls (tenant text, id bigint, started_at bigint, record text);
         CREATE TEMP TABLE live_sessions (tenant text, id bigint, agent_id bigint, start bigint,
           \"end\" bigint, state text);",
    )
    .unwrap();
    let fixture = include_str!("../../teamkpi-sqlite/tests/fixtures/live-state-v1.sql");
    c.batch_execute(&fixture.replace("start, end, state", "start, \"end\", state"))
        .unwrap();
    c.batch_execute(
        "INSERT INTO teamkpi_live_meta SELECT * FROM live_meta;
         INSERT INTO teamkpi_live_tickets (tenant, id, state, finished, last_at, breach_at,
           agent_id, kind)
           SELECT tenant, id, convert_to(state, 'UTF8'), finished <> 0, last_at, breach_at,
             agent_id, kind FROM live_tickets;
         INSERT INTO teamkpi_live_aggregates SELECT tenant, period, grp, period_start, grp_kind,
           period_end, convert_to(state, 'UTF8') FROM live_aggregates;
         INSERT INTO teamkpi_live_calls SELECT tenant, id, started_at, record::jsonb
           FROM live_calls;
         INSERT INTO teamkpi_live_sessions SELECT tenant, id, agent_id, start, \"end\",
           convert_to(state, 'UTF8') FROM live_sessions;",
    )
    .unwrap();

    teamkpi::conformance::live::version_1_state_keeps_applying(&store);
}
