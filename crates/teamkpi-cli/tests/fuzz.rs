//! The CLI fuzzed: every command and option (read from the binary's own `--help`, so a new one is
//! fuzzed without a new case here) with generated values — huge, negative and odd numbers, bad
//! dates and instants, odd strings — and generated import and event files. Every run ends with
//! exit 0, or a one-line `error [code]` (code from the table) or a usage error with exit 2:
//! never a panic, a backtrace, a signal or a hang.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use teamkpi::conformance::live::Rng;

const RUNS: usize = 240;
const NOW: &str = "2025-11-14T15:30:00Z";
const LIMIT: Duration = Duration::from_secs(60);

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_teamkpi"))
}

fn help(args: &[&str]) -> String {
    let o = bin().args(args).arg("--help").output().unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The subcommands listed under "Commands:" of a help text (without `help`).
fn commands(text: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_owned)
        .collect()
}

/// Long options, and whether each takes a value.
type Options = Vec<(String, bool)>;

/// The long options of a help text.
fn options(text: &str) -> Options {
    text.lines()
        .skip_while(|l| !l.starts_with("Options:"))
        .filter_map(|l| {
            let l = l.trim_start();
            let l = l.strip_prefix("-h, ").unwrap_or(l);
            let opt = l.split_whitespace().next()?;
            let takes = l
                .split_whitespace()
                .nth(1)
                .is_some_and(|v| v.starts_with('<'));
            (opt.starts_with("--") && opt != "--help" && opt != "--version")
                .then(|| (opt.to_owned(), takes))
        })
        .collect()
}

const VALUES: &[&str] = &[
    "0",
    "1",
    "-1",
    "7",
    "36601",
    "2147483648",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551616",
    "1e3",
    "0x10",
    "-0",
    "NaN",
    "",
    " ",
    "abc",
    "2025-11-14",
    "2025-02-30",
    "9999-12-31",
    "0001-01-01",
    "2025-11-14T15:30:00Z",
    "2025-11-14T15:30:00",
    "+275760-09-13T00:00:00Z",
    "Mars/Olympus",
    "day",
    "((( ",
    "ü",
    "-",
];

fn value(rng: &mut Rng) -> String {
    VALUES[rng.below(VALUES.len() as u64) as usize].to_owned()
}

/// A generated import or event file: well-formed lines mixed with odd ones.
fn file(rng: &mut Rng, dir: &Path, n: usize) -> PathBuf {
    let (ext, header) = match rng.below(3) {
        0 => (
            "csv",
            "id,agent_id,created_at,first_response_at,resolved_at,priority\n",
        ),
        1 => ("jsonl", ""),
        _ => ("csv", "id,agent_id,started_at,duration_seconds,outcome\n"),
    };
    let mut text = header.to_owned();
    for _ in 0..1 + rng.below(6) {
        let v: Vec<String> = (0..6).map(|_| value(rng)).collect();
        if ext == "csv" {
            text.push_str(&v.join(","));
        } else {
            let kinds = ["ticket_created", "agent_replied", "ticket_resolved", "nope"];
            text.push_str(&format!(
                r#"{{"id": "{}", "at": "{}", "type": "{}", "ticket_id": {}, "agent_id": {}}}"#,
                v[0].replace('"', ""),
                v[1].replace('"', ""),
                kinds[rng.below(4) as usize],
                if v[2].parse::<f64>().is_ok() {
                    v[2].clone()
                } else {
                    "1".into()
                },
                if v[3].parse::<f64>().is_ok() {
                    v[3].clone()
                } else {
                    "null".into()
                },
            ));
        }
        text.push('\n');
    }
    let path = dir.join(format!("input{n}.{ext}"));
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs one command line; its exit code, and the failure description when it breaks the
/// contract.
fn check(args: &[String], db: &Path) -> (Option<i32>, Option<String>) {
    let mut child = bin()
        .arg("--db")
        .arg(db)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .env("RUST_BACKTRACE", "1")
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            return (
                None,
                Some(format!("{args:?}: still running after {LIMIT:?}")),
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let coded = err.lines().any(|l| {
        l.strip_prefix("error [")
            .and_then(|r| r.split(']').next())
            .is_some_and(|code| teamkpi::ERROR_CODES.contains(&code))
    });
    let usage = err.starts_with("error: ") && status.code() == Some(2);
    let broke = err.contains("panicked") || err.contains("stack backtrace");
    let problem = match status.code() {
        _ if broke => Some(format!("{args:?}: panicked: {err}")),
        Some(0) => None,
        Some(_) if coded || usage => None,
        other => Some(format!(
            "{args:?}: exit {other:?} without a coded error: {err}"
        )),
    };
    (status.code(), problem)
}

#[test]
fn every_command_ends_in_a_result_or_a_coded_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fuzz.sqlite");
    let setup = bin()
        .arg("--db")
        .arg(&db)
        .args(["--now", NOW, "demo", "--agents", "4", "--days", "5"])
        .output()
        .unwrap();
    assert!(setup.status.success());
    let root = help(&[]);
    let global = options(&root);
    let mut lines: Vec<(Vec<String>, Options)> = Vec::new();
    for c in commands(&root) {
        let text = help(&[&c]);
        let subs = commands(&text);
        if subs.is_empty() {
            lines.push((vec![c.clone()], options(&text)));
        }
        for s in subs {
            let text = help(&[&c, &s]);
            lines.push((vec![c.clone(), s], options(&text)));
        }
    }
    assert!(lines.len() >= 10, "found only {} commands", lines.len());
    let mut rng = Rng::new(20_261_202);
    let mut problems = Vec::new();
    let mut exits: std::collections::BTreeMap<String, usize> = Default::default();
    for run in 0..RUNS {
        let (cmd, opts) = &lines[run % lines.len()];
        let mut args: Vec<String> = Vec::new();
        if rng.below(3) > 0 {
            args.extend(["--now".to_owned(), NOW.to_owned()]);
        }
        args.extend(cmd.iter().cloned());
        for (opt, takes) in opts.iter().chain(global.iter()) {
            if opt == "--db" || rng.below(2) == 0 {
                continue;
            }
            args.push(opt.clone());
            if *takes {
                // Paths go to the temporary directory; everything else gets a generated value.
                args.push(if opt == "--html" {
                    dir.path().join("r.html").to_string_lossy().into_owned()
                } else {
                    value(&mut rng)
                });
            }
        }
        // Positional inputs (an import file, an events file) are generated files.
        if cmd[0] == "import" || cmd.get(1).is_some_and(|s| s == "apply") {
            args.push(
                file(&mut rng, dir.path(), run)
                    .to_string_lossy()
                    .into_owned(),
            );
        }
        let (code, problem) = check(&args, &db);
        *exits.entry(format!("{code:?}")).or_default() += 1;
        problems.extend(problem);
    }
    println!(
        "fuzz: {RUNS} runs over {} commands (exit codes {exits:?}), each a result or a coded error",
        lines.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
