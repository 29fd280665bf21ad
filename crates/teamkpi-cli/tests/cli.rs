//! The `teamkpi` binary end to end: demo, report shapes, HTML, SLA, assignment, import and
//! every error path (non-zero exit and a one-line cause, never a panic).

use std::path::Path;
use std::process::{Command, Output};

const NOW: &str = "2025-11-14T15:30:00Z";

fn teamkpi(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_teamkpi"))
        .arg("--db")
        .arg(db)
        .args(["--now", NOW])
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh directory and the database path inside it (created by the first command).
fn scratch() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kpi.sqlite");
    (dir, db)
}

/// Writes `content` to `file` in `dir` and runs `teamkpi import <kind> <file>` against `db`.
fn import(db: &Path, dir: &Path, kind: &str, file: &str, content: &str) -> Output {
    let path = dir.join(file);
    std::fs::write(&path, content).unwrap();
    teamkpi(db, &["import", kind, path.to_str().unwrap()])
}

fn demo(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("demo.sqlite");
    let o = teamkpi(&db, &["demo", "--agents", "8", "--days", "21"]);
    assert!(o.status.success(), "{}", stderr(&o));
    db
}

#[test]
fn demo_prints_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite");
    let o = teamkpi(&db, &["demo", "--agents", "8", "--days", "21"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for needle in [
        "Demo team in",
        "KPI update:",
        "0 failed",
        "Scorecards",
        "Weekly trends",
        "SLA:",
        "leads_today",
        "calls_connected_today",
        "average_call_time_today",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }
    // The demo's call KPI (daily connected calls, target 12) is measured from its calls: agent
    // 1's latest complete day is yesterday, the day of the dashboard it prints.
    let dashboard: serde_json::Value = serde_json::from_str(
        out.lines()
            .find(|l| l.starts_with("{\"leads_today\""))
            .expect("the dashboard line"),
    )
    .unwrap();
    let report: serde_json::Value =
        serde_json::from_str(&stdout(&teamkpi(&db, &["report", "--json"]))).unwrap();
    let card = report["scorecards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["agent_id"] == 1)
        .unwrap();
    let calls = card["kpis"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key"] == "calls")
        .unwrap();
    assert_eq!(calls["period_start"], dashboard["date"]);
    assert_eq!(calls["actual"], dashboard["calls_connected_today"]);
    // Same seed, same instant: the same figures.
    let again = teamkpi(&db, &["demo", "--agents", "8", "--days", "21"]);
    assert_eq!(stdout(&again), out);
    assert!(stderr(&o).is_empty() || !stderr(&o).contains("panicked"));
}

#[test]
fn report_json_has_the_support_automations_keys_and_html_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let o = teamkpi(
        &db,
        &[
            "report",
            "--days",
            "14",
            "--json",
            "--html",
            dir.path().join("r.html").to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    for key in [
        "tickets_handled",
        "tickets_resolved",
        "resolution_rate_percent",
        "avg_resolution_time_hours",
        "avg_response_time_hours",
        "sla_compliance_rate_percent",
    ] {
        assert!(v["performance"].get(key).is_some(), "performance.{key}");
    }
    assert!(v["performance"]["resolution_rate_percent"].is_number());
    let week = &v["trends"]["trends"][0];
    for key in [
        "week",
        "week_start",
        "week_end",
        "tickets_created",
        "tickets_resolved",
        "resolution_rate",
    ] {
        assert!(week.get(key).is_some(), "trends.{key}");
    }
    for key in [
        "total_sla_tasks",
        "breached_count",
        "resolved_on_time",
        "compliance_rate_percent",
        "breach_rate_percent",
    ] {
        assert!(v["sla"][0].get(key).is_some(), "sla.{key}");
    }
    assert_eq!(v["comparison"]["agents"][0]["rank"], 1);
    assert_eq!(v["scorecards"].as_array().unwrap().len(), 8);
    let html = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.contains("<svg") && html.contains("<polyline") && !html.contains("<script"));
}

#[test]
fn sla_assign_reassign_and_update() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let o = teamkpi(&db, &["sla", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let first = v["breaches"]["count"].as_u64().unwrap();
    assert!(first > 0, "{v}");
    // Each alert once: the keys are kept, a second run has nothing new and says so.
    let again: serde_json::Value =
        serde_json::from_str(&stdout(&teamkpi(&db, &["sla", "--json"]))).unwrap();
    assert_eq!(again["breaches"]["count"], 0, "{again}");
    let quiet = stdout(&teamkpi(&db, &["sla"]));
    assert!(
        quiet.contains("0 breached, 0 at risk not alerted before"),
        "{quiet}"
    );
    let risks = v["at_risk"].as_array().unwrap().len() as u64;
    assert!(
        quiet.contains(&format!("{} alerted before", first + risks)),
        "{quiet}"
    );
    // --all: every current one, the most overdue first, agents by name.
    let o = teamkpi(&db, &["sla", "--all"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let breached: Vec<&str> = text.lines().filter(|l| l.contains(" breached ")).collect();
    assert!(!breached.is_empty(), "{text}");
    let late: Vec<f64> = breached
        .iter()
        .map(|l| l.split_whitespace().last().unwrap().parse().unwrap())
        .collect();
    assert!(late.windows(2).all(|w| w[0] >= w[1]), "{late:?}");
    assert!(!breached[0].contains("agent "), "{}", breached[0]);
    let dry = teamkpi(&db, &["assign", "--dry-run"]);
    assert!(dry.status.success());
    assert!(stdout(&dry).starts_with("would move"));
    let real = teamkpi(&db, &["assign"]);
    assert!(stdout(&real).starts_with("moved"));
    // Nothing left to assign afterwards.
    assert!(stdout(&teamkpi(&db, &["assign", "--dry-run"])).starts_with("would move 0"));
    let re = teamkpi(&db, &["reassign", "--dry-run", "--inactive-hours", "6"]);
    assert!(re.status.success(), "{}", stderr(&re));
    // A real run moves stale work and keeps each move's reason on the ticket (the audit trail).
    let re = teamkpi(&db, &["reassign", "--inactive-hours", "1"]);
    assert!(re.status.success(), "{}", stderr(&re));
    let moved: usize = stdout(&re)
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let store = teamkpi_sqlite::SqliteStore::open(&db).unwrap();
    let reasons: Vec<String> = teamkpi_stores::HostStore::open_tickets(&store, None)
        .unwrap()
        .iter()
        .flat_map(|t| t.transfers.iter().filter_map(|x| x.reason.clone()))
        .collect();
    let stale = |r: &&String| *r == "not_contacted" || *r == "agent_inactive";
    assert_eq!(
        reasons.iter().filter(stale).count(),
        moved,
        "{}",
        stdout(&re)
    );
    // The earlier `assign` run's moves say why too.
    assert!(reasons.iter().any(|r| r == "backlog"), "{reasons:?}");
    let up = teamkpi(&db, &["update", "--days", "7", "--agent", "3"]);
    assert!(up.status.success());
    assert!(stdout(&up).contains("KPI update:"));
    let day = teamkpi(&db, &["update", "--date", "2025-11-10"]);
    assert!(stdout(&day).contains("stored"));
}

#[test]
fn import_csv_and_jsonl_with_rejections() {
    let (dir, db) = scratch();
    let o = import(&db, dir.path(), "tickets", "tickets.csv", "id,agent_id,priority,created_at,first_response_at,resolved_at\n1,7,high,2025-11-10T09:00:00Z,2025-11-10T09:30:00Z,\n2,7,low,2025-11-10T10:00:00Z,,2025-11-11T10:00:00Z\n");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("imported 2 tickets"));
    let bad = import(&db, dir.path(), "calls", "calls.jsonl", "{\"id\":1,\"agent_id\":7,\"started_at\":\"2025-11-10T09:00:00Z\",\"duration\":120,\"status\":\"no-answer\"}\n{\"id\":2,\"agent_id\":7,\"started_at\":\"2025-11-10T09:10:00Z\",\"duration\":-5,\"status\":\"completed\"}\nnot json\n");
    assert_eq!(bad.status.code(), Some(2));
    let err = stderr(&bad);
    assert!(err.contains("line 2: [negative_duration]"), "{err}");
    assert!(err.contains("line 3:"), "{err}");
    assert!(err.contains("nothing imported"), "{err}");
    let sessions = dir.path().join("sessions.csv");
    std::fs::write(
        &sessions,
        "agent_id,kind,start,end\n7,working,2025-11-10T08:00:00Z,2025-11-10T16:00:00Z\n",
    )
    .unwrap();
    assert!(
        teamkpi(&db, &["import", "sessions", sessions.to_str().unwrap()])
            .status
            .success()
    );
}

#[test]
fn bad_input_exits_non_zero_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["update", "--agent", "999"], "unknown_agent"),
        (vec!["update", "--date", "2025-13-01"], "invalid_date"),
        (vec!["update", "--days", "0"], "invalid_argument"),
        (
            vec!["import", "tickets", "/nonexistent/file.csv"],
            "invalid_argument",
        ),
        (
            vec!["import", "tickets", "/etc/hostname"],
            "invalid_argument",
        ),
        (vec!["report", "--days", "0"], "invalid_argument"),
    ];
    for (args, code) in cases {
        let o = teamkpi(&db, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert!(
            err.starts_with(&format!("error [{code}]")),
            "{args:?}: {err}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    }
    let corrupt = dir.path().join("corrupt.sqlite");
    std::fs::write(&corrupt, "definitely not a database file, just text").unwrap();
    let o = teamkpi(&corrupt, &["report"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).starts_with("error [storage]"));
    // clap's own errors (unknown flags) also exit non-zero.
    let o = teamkpi(&db, &["report", "--bogus"]);
    assert!(!o.status.success());
    // A path with no database is a mistake, not an empty team: nothing is created.
    let empty = dir.path().join("empty.sqlite");
    for args in [["report"], ["sla"], ["update"]] {
        let o = teamkpi(&empty, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&o).starts_with("error [storage]: no database at"),
            "{args:?}"
        );
    }
    assert!(!empty.exists());
    // `import` starts one; without settings, `sla` says what is missing.
    let o = import(
        &empty,
        dir.path(),
        "tickets",
        "none.csv",
        "id,agent_id,created_at\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = teamkpi(&empty, &["sla"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no SLA policy"));
}

#[test]
fn help_everywhere() {
    for sub in [
        "demo",
        "init",
        "import",
        "update",
        "report",
        "sla",
        "assign",
        "reassign",
        "agents",
        "agents add",
        "kpis",
        "kpis add",
        "kpis assign",
        "settings",
        "settings set",
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_teamkpi"))
            .args(sub.split(' '))
            .arg("--help")
            .output()
            .unwrap();
        assert!(o.status.success(), "{sub}");
        assert!(stdout(&o).contains("Usage"), "{sub}");
    }
}

/// `--db postgres://…`: import, update, report and sla on a real server (PG_TEST_URL; skipped
/// without it unless TEAMKPI_REQUIRE_PG=1).
#[test]
fn postgres_url_for_db() {
    let admin = match std::env::var("PG_TEST_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => {
            assert!(
                std::env::var("TEAMKPI_REQUIRE_PG").as_deref() != Ok("1"),
                "PG_TEST_URL is not set"
            );
            eprintln!("PG_TEST_URL is not set: skipping");
            return;
        }
    };
    let name = format!("teamkpi_cli_{}", std::process::id());
    let mut c = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
    c.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .unwrap();
    c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    let url = format!("{}/{name}", &admin[..admin.rfind('/').unwrap()]);
    let db = Path::new(&url);
    let dir = tempfile::tempdir().unwrap();
    let o = import(db, dir.path(), "tickets", "tickets.csv", "id,agent_id,priority,created_at,first_response_at,resolved_at\n1,7,high,2025-11-13T09:00:00Z,2025-11-13T09:30:00Z,2025-11-13T12:00:00Z\n2,7,low,2025-11-13T10:00:00Z,,\n");
    assert!(o.status.success(), "{}", stderr(&o));
    let o = teamkpi(db, &["update", "--days", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = teamkpi(db, &["report", "--days", "3", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["performance"]["tickets_handled"], 2);
    assert_eq!(v["performance"]["tickets_resolved"], 1);
    let o = teamkpi(db, &["demo"]);
    assert_eq!(o.status.code(), Some(2));
    let bad = teamkpi(Path::new("postgres://nobody@127.0.0.1:1/none"), &["report"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).starts_with("error [storage]"));
}

#[test]
fn live_backfill_apply_and_rows() {
    use teamkpi::live::LiveStore;
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let o = teamkpi(&db, &["live", "backfill", "--days", "60"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("0 already applied"), "{}", stdout(&o));
    // Again: nothing new.
    let again = teamkpi(&db, &["live", "backfill", "--days", "60"]);
    assert!(
        stdout(&again).contains(" 0 events applied"),
        "{}",
        stdout(&again)
    );

    // The live rows equal a batch computation over the store's records.
    let store = teamkpi_sqlite::SqliteStore::open(&db).unwrap();
    let stored = store.settings(None).unwrap();
    let zone = teamkpi::parse_timezone(&stored.timezone).unwrap();
    let mut options = teamkpi::engine::EngineOptions::new(zone);
    options.sla = stored.sla;
    let from = chrono::DateTime::parse_from_rfc3339("2025-09-01T00:00:00Z").unwrap();
    let tickets = teamkpi::ActivitySource::tickets(
        &store,
        None,
        from.into(),
        chrono::DateTime::parse_from_rfc3339(NOW).unwrap().into(),
    )
    .unwrap();
    assert!(tickets.len() > 500);
    let events: Vec<_> = tickets
        .iter()
        .flat_map(teamkpi::live::ticket_events)
        .collect();
    for period in [teamkpi::PeriodKind::Day, teamkpi::PeriodKind::Month] {
        let live = teamkpi::conformance::live::all_live_rows(
            &store as &dyn LiveStore,
            period,
            teamkpi::metrics::GroupBy::Agent,
        );
        let batch = teamkpi::engine::batch_rows_from_events(&options, period, &events).unwrap();
        assert_eq!(live, batch);
        let mut m = teamkpi::metrics::MetricsOptions::daily(options.timezone);
        m.bucketing = teamkpi::metrics::Bucketing::Period(period);
        m.sla = options.sla.clone();
        let mut agg = teamkpi::metrics::TicketMetricsAggregator::new(m).unwrap();
        for t in &tickets {
            agg.add(t).unwrap();
        }
        assert_eq!(
            live,
            agg.finish().rows,
            "live rows = batch over the records"
        );
    }

    let o = teamkpi(&db, &["live", "rows", "--period", "week", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(!rows.as_array().unwrap().is_empty());

    // An events file: new, duplicate, refused in context; then a bad line refuses its batch.
    let file = dir.path().join("events.jsonl");
    std::fs::write(
        &file,
        concat!(
            r#"{"id": "n1", "at": "2025-11-14T10:00:00Z", "type": "ticket_created", "ticket_id": 900001, "agent_id": 1}"#,
            "\n",
            r#"{"id": "n1", "at": "2025-11-14T10:00:00Z", "type": "ticket_created", "ticket_id": 900001, "agent_id": 1}"#,
            "\n",
            r#"{"id": "n2", "at": "2025-11-14T09:00:00Z", "type": "agent_replied", "ticket_id": 900001}"#,
            "\n"
        ),
    )
    .unwrap();
    let o = teamkpi(&db, &["live", "apply", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("1 applied, 1 already applied, 1 refused"),
        "{out}"
    );
    assert!(
        out.contains("line 3") && out.contains("[events_out_of_order]"),
        "{out}"
    );
    std::fs::write(
        &file,
        "{\"id\": \"n3\", \"at\": \"2025-11-14T11:00:00\", \"type\": \"resolved\", \"ticket_id\": 900001}\n",
    )
    .unwrap();
    let o = teamkpi(&db, &["live", "apply", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("error [invalid_events]: line 1"),
        "{}",
        stderr(&o)
    );

    // update_kpis from live aggregates.
    let o = teamkpi(&db, &["update", "--days", "7", "--live"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("0 failed"), "{}", stdout(&o));
}

#[test]
fn limits_are_refused_with_out_of_range_and_no_panic() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    for args in [
        vec!["report", "--days", "10000000"],
        vec!["reassign", "--inactive-hours", "9223372036854775807"],
        vec!["demo", "--days", "100000"],
    ] {
        let o = teamkpi(&db, &args);
        let err = stderr(&o);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(err.contains("out_of_range"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    // The refused demo left the store as it was.
    assert!(teamkpi(&db, &["report"]).status.success());
}

/// The measurements' `calculated_at` instants in the store.
fn calculated_instants(db: &Path) -> std::collections::BTreeSet<String> {
    use teamkpi::store::{AssignmentFilter, AssignmentStore, MeasurementStore};
    let store = teamkpi_sqlite::SqliteStore::open(db).unwrap();
    let mut out = std::collections::BTreeSet::new();
    for a in store.assignments(&AssignmentFilter::default()).unwrap() {
        for m in store.measurements(None, a.id).unwrap() {
            out.insert(m.calculated_at.to_rfc3339());
        }
    }
    out
}

#[test]
fn update_killed_midway_leaves_the_run_whole_or_absent() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let run = |now: &str| {
        Command::new(env!("CARGO_BIN_EXE_teamkpi"))
            .arg("--db")
            .arg(&db)
            .args(["--now", now, "update", "--days", "21"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    assert!(run("2025-11-14T16:00:00Z").wait().unwrap().success());
    assert_eq!(calculated_instants(&db).len(), 1, "one run, one instant");
    // Killed at different moments of a second run: its measurements are all there or none.
    for (i, wait_ms) in [5u64, 20, 60, 150].into_iter().enumerate() {
        let now = format!("2025-11-14T16:0{}:00Z", i + 1);
        let mut child = run(&now);
        std::thread::sleep(std::time::Duration::from_millis(wait_ms));
        let _ = child.kill();
        child.wait().unwrap();
        let seen = calculated_instants(&db);
        assert_eq!(seen.len(), 1, "a run in pieces: {seen:?}");
    }
}

#[test]
fn import_names_a_timestamp_without_an_offset() {
    let (dir, db) = scratch();
    let csv = "id,agent_id,created_at\n1,7,2025-11-10T09:00:00Z\n2,7,2025-11-10T10:00:00\n";
    let o = import(&db, dir.path(), "tickets", "tickets.csv", csv);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("line 3: [naive_datetime] created_at") && err.contains("2025-11-10T10:00:00"),
        "{err}"
    );
    let jsonl = "{\"agent_id\":7,\"kind\":\"work\",\"start\":\"2025-11-10 08:00:00\"}\n";
    let o = import(&db, dir.path(), "sessions", "sessions.jsonl", jsonl);
    assert!(
        stderr(&o).contains("line 1: [naive_datetime] start"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn import_counts_a_repeated_id_once_and_says_so() {
    let (dir, db) = scratch();
    let o = import(&db, dir.path(), "tickets", "tickets.csv", "id,agent_id,priority,created_at,first_response_at,resolved_at\n1,7,high,2025-11-10T09:00:00Z,,\n1,8,low,2025-11-10T10:00:00Z,,\n2,7,low,2025-11-10T11:00:00Z,,\n");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("imported 2 tickets") && stdout(&o).contains("1 repeated rows skipped"),
        "{}",
        stdout(&o)
    );
    assert!(
        stderr(&o).contains("line 3: [duplicate_record]"),
        "{}",
        stderr(&o)
    );
    use teamkpi::store::ActivitySource;
    let store = teamkpi_sqlite::SqliteStore::open(&db).unwrap();
    let from = chrono::DateTime::parse_from_rfc3339("2025-11-01T00:00:00Z")
        .unwrap()
        .to_utc();
    let to = chrono::DateTime::parse_from_rfc3339("2025-12-01T00:00:00Z")
        .unwrap()
        .to_utc();
    let held = store.tickets(None, from, to).unwrap();
    assert_eq!(held.len(), 2);
    assert_eq!(held[0].agent_id, Some(7), "the first copy counts");
}

#[test]
fn a_silent_postgres_server_neither_hangs_nor_ignores_ctrl_c() {
    // A listener that takes connections and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    let url = |timeout: u32| {
        format!("postgres://teamkpi@127.0.0.1:{port}/kpis?connect_timeout={timeout}")
    };
    // The wait is bounded: a failure with the reason, not a hang.
    let o = Command::new(env!("CARGO_BIN_EXE_teamkpi"))
        .args(["--db", &url(1), "report"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("connect_timeout"), "{}", stderr(&o));
    // Ctrl-C while waiting ends the command.
    let mut child = Command::new(env!("CARGO_BIN_EXE_teamkpi"))
        .args(["--db", &url(60), "report"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(!status.success());
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "Ctrl-C was ignored"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A team set up from scratch with only `teamkpi` commands: the report's figures are the ones
/// the tickets give, the SLA and assignment commands act on the stored settings and agents.
#[test]
fn a_team_from_scratch_with_only_teamkpi_commands() {
    let (dir, db) = scratch();
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_teamkpi"))
            .arg("--db")
            .arg(&db)
            .args(["--now", "2025-11-17T10:00:00Z"])
            .args(args)
            .output()
            .unwrap();
        (o.status.code(), stdout(&o), stderr(&o))
    };
    let ok = |args: &[&str]| {
        let (code, out, err) = run(args);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        out
    };
    let file = |name: &str, content: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        p.to_str().unwrap().to_owned()
    };

    let (code, _, err) = run(&["agents", "list"]);
    assert_eq!(code, Some(2));
    assert!(err.starts_with("error [storage]: no database at"), "{err}");
    assert!(ok(&["init"]).contains("team database ready"));
    ok(&["init"]);

    ok(&[
        "agents",
        "add",
        "1",
        "--name",
        "Anna Nowak",
        "--team",
        "billing",
        "--skill",
        "en",
    ]);
    ok(&[
        "agents",
        "add",
        "2",
        "--name",
        "Piotr",
        "--team",
        "technical",
    ]);
    assert!(ok(&["agents", "status", "2", "break"]).contains("agent 2 is break"));
    let agents: serde_json::Value =
        serde_json::from_str(&ok(&["agents", "list", "--json"])).unwrap();
    assert_eq!(agents[0]["name"], "Anna Nowak");
    assert_eq!(agents[1]["agent"]["status"], "break");
    let (code, _, err) = run(&["agents", "status", "3", "online"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("[unknown_agent]"), "{err}");

    let kpis = file(
        "kpis.json",
        r#"[{"key": "cases_resolved", "name": "Cases Resolved", "unit": "count",
              "target_type": "higher_better", "aggregation_period": "weekly",
              "source": {"type": "query", "query_key": "cases_resolved_count"}},
             {"key": "first_response", "name": "First Response Time", "unit": "minutes",
              "target_type": "lower_better", "aggregation_period": "daily",
              "source": {"type": "metric", "metric": "avg_first_response_time"}}]"#,
    );
    assert!(ok(&["kpis", "add", &kpis]).contains("2 KPI definitions saved"));
    let bad = file(
        "bad.json",
        r#"{"key": "x", "name": "X", "source": {"type": "metric", "metric": "nope"}}"#,
    );
    let (code, _, err) = run(&["kpis", "add", &bad]);
    assert_eq!(code, Some(2));
    assert!(err.contains("bad.json item 0"), "{err}");
    for (agent, kpi, target, weight) in [
        ("1", "cases_resolved", "20", "60"),
        ("1", "first_response", "35", "40"),
        ("2", "cases_resolved", "10", "100"),
    ] {
        let args = [
            "kpis", "assign", "--agent", agent, "--kpi", kpi, "--target", target,
        ];
        ok(&[&args[..], &["--weight", weight, "--from", "2025-11-01"]].concat());
    }
    let (code, _, err) = run(&[
        "kpis",
        "assign",
        "--agent",
        "9",
        "--kpi",
        "cases_resolved",
        "--target",
        "5",
        "--from",
        "2025-11-01",
    ]);
    assert_eq!(code, Some(2));
    assert!(err.contains("[unknown_agent]"), "{err}");
    let (code, _, err) = run(&[
        "kpis",
        "assign",
        "--agent",
        "1",
        "--kpi",
        "cases_resolved",
        "--target",
        "ten",
        "--from",
        "2025-11-01",
    ]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("--target: \"ten\" is not an exact decimal"),
        "{err}"
    );

    let sla = file(
        "sla.json",
        r#"{"name": "desk", "targets": {"normal": {"first_response": 3600, "resolution": 86400},
            "high": {"first_response": 1800, "resolution": 28800}}}"#,
    );
    ok(&[
        "settings",
        "set",
        "--timezone",
        "Europe/Warsaw",
        "--sla-policy",
        &sla,
    ]);
    let (code, _, err) = run(&["settings", "set", "--timezone", "Mars/Base"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("[unknown_timezone]"), "{err}");
    let shown: serde_json::Value =
        serde_json::from_str(&ok(&["settings", "show", "--json"])).unwrap();
    assert_eq!(shown["timezone"], "Europe/Warsaw");
    assert_eq!(shown["sla"]["name"], "desk");

    let tickets = file(
        "tickets.csv",
        "id,agent_id,priority,created_at,first_response_at,resolved_at\n\
         1,1,high,2025-11-10T09:00:00Z,2025-11-10T09:30:00Z,2025-11-10T12:00:00Z\n\
         2,1,normal,2025-11-12T10:00:00Z,2025-11-12T10:20:00Z,2025-11-12T15:00:00Z\n\
         3,1,normal,2025-11-14T08:00:00Z,2025-11-14T08:40:00Z,2025-11-14T10:00:00Z\n\
         4,1,normal,2025-11-14T09:00:00Z,2025-11-14T09:20:00Z,\n\
         5,2,normal,2025-11-13T09:00:00Z,2025-11-13T10:00:00Z,2025-11-13T16:00:00Z\n\
         6,,normal,2025-11-14T13:00:00Z,,\n",
    );
    assert!(ok(&["import", "tickets", &tickets]).contains("imported 6 tickets"));
    assert!(ok(&["update", "--days", "7"]).contains("0 failed"));

    // The week of 10 November is complete on the 17th: agent 1 resolved 3 of a target of 20
    // (15 %); its latest daily first response is the 14th's, (40 + 20) / 2 = 30 minutes against
    // 35, lower is better (116.67 %); overall 15 × 0.6 + 116.67 × 0.4 = 55.67.
    let report: serde_json::Value =
        serde_json::from_str(&ok(&["report", "--days", "10", "--json"])).unwrap();
    let cards = report["scorecards"].as_array().unwrap();
    let card = |agent: u64| cards.iter().find(|c| c["agent_id"] == agent).unwrap();
    let kpi = |agent: u64, key: &str| {
        let list = card(agent)["kpis"].as_array().unwrap().clone();
        list.into_iter().find(|k| k["key"] == key).unwrap()
    };
    assert_eq!(kpi(1, "cases_resolved")["actual"], 3);
    assert_eq!(kpi(1, "cases_resolved")["achievement"], 15);
    assert_eq!(kpi(1, "cases_resolved")["period_start"], "2025-11-10");
    assert_eq!(kpi(1, "first_response")["actual"], 30);
    assert_eq!(kpi(1, "first_response")["achievement"], 116.67);
    assert_eq!(card(1)["overall_kpi_score"], 55.67);
    assert_eq!(card(1)["name"], "Anna Nowak");
    assert_eq!(kpi(2, "cases_resolved")["achievement"], 10);
    assert_eq!(report["timezone"], "Europe/Warsaw");

    // Exactly three days of assignment 1 (agent 1's weekly cases): 2 resolved of 20, stored ad
    // hoc; the scorecard keeps the natural week.
    let measured = ok(&[
        "kpis",
        "measure",
        "1",
        "--from",
        "2025-11-10",
        "--to",
        "2025-11-12",
    ]);
    assert!(
        measured.contains("actual 2.00, achievement 10.00 %"),
        "{measured}"
    );
    let again: serde_json::Value =
        serde_json::from_str(&ok(&["report", "--days", "10", "--json"])).unwrap();
    let cards = again["scorecards"].as_array().unwrap();
    let cases = cards.iter().find(|c| c["agent_id"] == 1).unwrap()["kpis"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key"] == "cases_resolved")
        .unwrap()
        .clone();
    assert_eq!(
        (cases["period_start"].clone(), cases["actual"].clone()),
        ("2025-11-10".into(), 3.into())
    );
    let quiet = ok(&[
        "kpis",
        "measure",
        "1",
        "--from",
        "2025-11-03",
        "--to",
        "2025-11-04",
    ]);
    assert!(quiet.contains("nothing stored"), "{quiet}");

    // Ticket 6 (normal, created 13:00 UTC) missed its one-hour first response.
    let sla_now: serde_json::Value = serde_json::from_str(&ok(&["sla", "--json"])).unwrap();
    let breaches = sla_now["breaches"]["breaches"].as_array().unwrap();
    assert!(breaches
        .iter()
        .any(|b| b["ticket_id"] == 6 && b["target"] == "first_response"));
    // Agent 2 is on a break: the unassigned ticket goes to agent 1.
    assert!(ok(&["assign"]).contains("6: - -> 1"));

    // Ending an assignment keeps it in the history.
    ok(&["kpis", "end", "3"]);
    let active = ok(&["kpis", "assignments"]);
    assert!(active.contains("2 assignments"), "{active}");
    assert!(ok(&["kpis", "assignments", "--all"]).contains("(ended)"));

    // Under live state the zone cannot change; assignment settings can.
    ok(&["live", "backfill", "--days", "30"]);
    let (code, _, err) = run(&["settings", "set", "--timezone", "UTC"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("[incompatible_state]"), "{err}");
    let assignment = file(
        "assignment.json",
        r#"{"auto_assign_enabled": false, "re_assign_enabled": true, "re_assign_hours": 12}"#,
    );
    ok(&["settings", "set", "--assignment", &assignment]);
    let shown: serde_json::Value =
        serde_json::from_str(&ok(&["settings", "show", "--json"])).unwrap();
    assert_eq!(shown["assignment"]["re_assign_hours"], 12);
    assert_eq!(shown["timezone"], "Europe/Warsaw");
}

/// `demo` and every other command share one default database; `demo` replaces only a file it
/// wrote itself, never a team's.
#[test]
fn demo_replaces_only_its_own_database() {
    let dir = tempfile::tempdir().unwrap();
    let at = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_teamkpi"))
            .current_dir(dir.path())
            .args(["--now", NOW])
            .args(args)
            .output()
            .unwrap()
    };
    let o = at(&["demo", "--agents", "3", "--days", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.path().join("teamkpi.sqlite").exists());
    // The other commands read the same file.
    assert!(at(&["report", "--days", "3"]).status.success());
    let o = at(&["demo", "--agents", "3", "--days", "3"]);
    assert!(
        o.status.success(),
        "a second demo replaces the first: {}",
        stderr(&o)
    );

    let team = dir.path().join("team.sqlite");
    assert!(teamkpi(&team, &["init"]).status.success());
    let o = teamkpi(&team, &["demo", "--agents", "3", "--days", "3"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("did not write"), "{}", stderr(&o));
    assert!(
        teamkpi(&team, &["agents", "list"]).status.success(),
        "the team's file is intact"
    );
}

/// Imported status history and customer messages take effect in `sla`: a hold stops the clocks
/// (no breach that the hours on hold would have caused) and a customer message opens a
/// next-response cycle.
#[test]
fn sla_pauses_on_hold_and_opens_reply_cycles_from_imported_history() {
    let (dir, db) = scratch();
    assert!(teamkpi(&db, &["init"]).status.success());
    let policy = dir.path().join("sla.json");
    std::fs::write(
        &policy,
        r#"{"name": "desk", "pause_statuses": ["on_hold"],
            "targets": {"normal": {"first_response": 3600, "next_response": 3600,
                                   "resolution": 10800}}}"#,
    )
    .unwrap();
    let o = teamkpi(
        &db,
        &["settings", "set", "--sla-policy", policy.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // At NOW (15:30): ticket 1 is 4 h old, 3 h 20 min of them on hold; ticket 2's customer
    // wrote at 14:00 and had no answer.
    let o = import(
        &db,
        dir.path(),
        "tickets",
        "tickets.jsonl",
        r#"{"id": 1, "priority": "normal", "created_at": "2025-11-14T11:30:00Z", "first_response_at": "2025-11-14T11:40:00Z", "status": "open", "status_history": [{"at": "2025-11-14T11:40:00Z", "status": "on_hold"}, {"at": "2025-11-14T15:00:00Z", "status": "open"}]}
{"id": 2, "priority": "normal", "created_at": "2025-11-14T13:00:00Z", "first_response_at": "2025-11-14T13:10:00Z", "customer_messages": [{"at": "2025-11-14T14:00:00Z"}]}
"#,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = teamkpi(&db, &["sla", "--json", "--all"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let breaches: Vec<(u64, String)> = v["breaches"]["breaches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let target = b["target"].as_str().unwrap().to_owned();
            (b["ticket_id"].as_u64().unwrap(), target)
        })
        .collect();
    assert_eq!(breaches, [(2, "next_response".to_owned())], "{v}");
}
