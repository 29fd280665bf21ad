#!/usr/bin/env bash
# The README's test command: every check and every test, on a fresh machine or a used one.
# It installs what it needs by itself. Parts for bindings and adapters run as soon as they exist
# in the tree, so nothing present is ever skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT

step "citations (the repository stands alone)"
./scripts/check-citations.sh

step "rustfmt"
cargo fmt --all -- --check

step "clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "Rust tests (unit, golden vectors, properties, doc tests, SQLite, PostgreSQL, CLI)"
# The PostgreSQL tests need a server: PG_TEST_URL when it answers, else a throwaway cluster.
# `cargo test` runs the default members: everything but the bindings, which their languages test.
# The CLI fuzz test runs in its own step below, so its case counts are printed.
TEAMKPI_REQUIRE_PG=1 ./scripts/with-postgres.sh cargo test --locked -- \
  --skip every_command_ends_in_a_result_or_a_coded_error 2>&1 | tee -a "$log"

step "CLI fuzz (every command and option with generated values and files)"
cargo test --locked -q -p teamkpi-cli --test fuzz -- --nocapture 2>&1 | tee -a "$log"

step "Python binding (ruff, mypy, stubtest, pytest: vectors, stores, threads, properties)"
TEAMKPI_REQUIRE_PG=1 ./scripts/with-postgres.sh ./scripts/python-tests.sh 2>&1 | tee -a "$log"

step "Node binding (napi build + diff check, tsc, node --test: vectors, stores, async; Express example)"
TEAMKPI_REQUIRE_PG=1 ./scripts/with-postgres.sh ./scripts/node-tests.sh 2>&1 | tee -a "$log"

step "Rust examples"
cargo run --locked -q -p teamkpi-examples >/dev/null

step "cargo doc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked -q

step "benches compile"
cargo bench --workspace --locked --no-run -q 2>/dev/null || cargo bench --workspace --locked --no-run

# One closing line over every runner: N passed, N failed.
# cargo: "test result: ok. N passed; M failed"; pytest: "N passed, M failed in 3.2s";
# node --test: "# pass N" and "# fail M";
# Django's runner: "Ran N tests" then "OK" or "FAILED (failures=F, errors=E)".
read -r passed failed < <(awk '
  /^test result:/ || / passed.* in [0-9.]+s/ {
    for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
  /^# pass [0-9]+$/ { p += $3 }
  /^# fail [0-9]+$/ { f += $3 }
  /^Ran [0-9]+ tests? in/ { ran = $2 }
  /^OK/ && ran { p += ran; ran = 0 }
  /^FAILED \(/ && ran {
    bad = 0; n = split($0, part, /[(=,) ]+/)
    for (i = 1; i < n; i++) if (part[i] == "failures" || part[i] == "errors") bad += part[i + 1]
    f += bad; p += ran - bad; ran = 0 }
  END { print p + 0, f + 0 }' "$log")
echo
echo "total: ${passed:-0} passed, ${failed:-0} failed"
