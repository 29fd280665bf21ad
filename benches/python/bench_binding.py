"""Benchmarks of the Python binding (SPEC §8), run on demand:

    ./scripts/python-tests.sh -k nothing   # builds the dev extension into target/py-venv
    target/py-venv/bin/maturin develop --release -m bindings/python/Cargo.toml
    target/py-venv/bin/python benches/python/bench_binding.py [--rows 1000000]

Measures W1 (tickets with agent, priority, created, first response, resolved → per agent-day
counts, sums and SLA met on a 24/7 calendar) from dicts with UTC datetimes, from numpy and pyarrow
columns, against a plain Python loop computing the same figures (checked equal first); one engine
event per call; `add_business_seconds` per call against businesstimedelta when it is installed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import statistics
import time
from collections import defaultdict
from typing import Any

import numpy as np
import pyarrow as pa

import teamkpi

UTC = dt.UTC
START = 1_759_276_800  # 2025-10-01 00:00 UTC
PRIORITIES = ["low", "normal", "high", "urgent"]
FIRST_RESPONSE_TARGET = {"low": 86_400, "normal": 14_400, "high": 3_600, "urgent": 900}
SLA = {
    "name": "w1",
    "calendar": {"timezone": "UTC", "always_open": True},
    "targets": {p: {"first_response": s} for p, s in FIRST_RESPONSE_TARGET.items()},
}
NULL = teamkpi._teamkpi.NULL_INSTANT
# businesstimedelta fails when no holiday follows an instant: New Year keeps one ahead.
HOLIDAYS = [dt.date(2025, 12, 25), dt.date(2025, 12, 26), dt.date(2026, 1, 1)]


def w1_columns(n: int, agents: int, seed: int) -> dict[str, np.ndarray]:
    """W1 as int64 Unix seconds (NULL_INSTANT = missing): 30 days, 90 % answered within 8 h,
    80 % resolved within 3 days, rows in creation order."""
    rng = np.random.default_rng(seed)
    created = np.sort(START + rng.integers(0, 30 * 86_400, n))
    first = np.where(rng.random(n) < 0.9, created + rng.integers(0, 8 * 3_600, n), NULL)
    resolved = np.where(rng.random(n) < 0.8, created + rng.integers(0, 3 * 86_400, n), NULL)
    return {
        "id": np.arange(1, n + 1, dtype=np.uint64),
        "agent_id": rng.integers(1, agents + 1, n).astype(np.uint64),
        "priority": rng.integers(0, 4, n).astype(np.uint32),
        "created_at": created.astype(np.int64),
        "first_response_at": first.astype(np.int64),
        "resolved_at": resolved.astype(np.int64),
    }


def as_dicts(cols: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    def aware(s: int) -> dt.datetime | None:
        return None if s == NULL else dt.datetime.fromtimestamp(int(s), UTC)

    return [
        {
            "id": int(i),
            "agent_id": int(a),
            "priority": PRIORITIES[p],
            "created_at": aware(c),
            "first_response_at": aware(f),
            "resolved_at": aware(r),
        }
        for i, a, p, c, f, r in zip(
            cols["id"].tolist(),
            cols["agent_id"].tolist(),
            cols["priority"].tolist(),
            cols["created_at"].tolist(),
            cols["first_response_at"].tolist(),
            cols["resolved_at"].tolist(),
            strict=True,
        )
    ]


def python_loop(tickets: list[dict[str, Any]]) -> dict[tuple[int, dt.date], list[int]]:
    """What a Django view or cron job does by hand: per agent-day assigned, first-response
    count and sum, resolution count and sum (by resolution day), SLA met / breached."""
    out: dict[tuple[int, dt.date], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0, 0])
    for t in tickets:
        created = t["created_at"]
        row = out[(t["agent_id"], created.date())]
        row[0] += 1
        first = t["first_response_at"]
        target = FIRST_RESPONSE_TARGET[t["priority"]]
        if first is not None:
            seconds = int((first - created).total_seconds())
            r = out[(t["agent_id"], first.date())]
            r[1] += 1
            r[2] += seconds
            if seconds <= target:
                r[5] += 1
            else:
                r[6] += 1
        resolved = t["resolved_at"]
        if resolved is not None:
            r = out[(t["agent_id"], resolved.date())]
            r[3] += 1
            r[4] += int((resolved - created).total_seconds())
    return out


def check_equal(loop: dict[tuple[int, dt.date], list[int]], rows: list[dict[str, Any]]) -> None:
    """The loop's figures equal teamkpi's (SLA counted where the loop counts it: responses)."""
    ours = {
        (r["agent_id"], r["period_start"]): [
            r["tickets_assigned"],
            r["first_response_count"],
            r["first_response_seconds_sum"],
            r["resolution_count"],
            r["resolution_seconds_sum"],
        ]
        for r in rows
    }
    theirs = {k: v[:5] for k, v in loop.items() if any(v[:5])}
    assert ours == theirs, "teamkpi and the Python loop disagree"
    met = sum(r["sla_met"] for r in rows)
    assert met == sum(v[5] for v in loop.values()), "SLA met differs"


def best(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def per_call(fn: Any, args: list[Any], repeat: int = 5) -> float:
    """Median over `repeat` runs of the mean seconds per call."""
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for a in args:
            fn(a)
        runs.append((time.perf_counter() - t0) / len(args))
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000, help="W1 rows for the dict paths")
    ap.add_argument("--column-rows", type=int, default=10_000_000)
    args = ap.parse_args()
    py = platform.python_version()
    print(f"# {platform.platform()}, Python {py}, teamkpi {teamkpi.__version__}")

    cols = w1_columns(args.rows, 1_000, seed=1)
    tickets = as_dicts(cols)
    options = {"sla": SLA, "quantiles": False}
    rows = teamkpi.ticket_metrics(tickets, **options)
    check_equal(python_loop(tickets), rows)
    t_loop = best(lambda: python_loop(tickets), 3)
    t_dicts = best(lambda: teamkpi.ticket_metrics(tickets, **options), 3)
    t_dicts_q = best(lambda: teamkpi.ticket_metrics(tickets, sla=SLA), 1)
    n = args.rows
    print(f"W1 {n:,} rows, plain Python loop:            {n / t_loop / 1e6:6.2f} M rows/s")
    print(
        f"W1 {n:,} rows, ticket_metrics(dicts):         {n / t_dicts / 1e6:6.2f} M rows/s"
        f"  ({t_loop / t_dicts:.1f}x the loop)"
    )
    print(f"W1 {n:,} rows, ticket_metrics(dicts, +p50/p90): {n / t_dicts_q / 1e6:6.2f} M rows/s")

    big = w1_columns(args.column_rows, 1_000, seed=2)
    labels = PRIORITIES
    numpy_cols = {**big, "created_at": big["created_at"].astype("datetime64[s]")}
    t_np = best(
        lambda: teamkpi.ticket_metrics_columns(numpy_cols, priority_labels=labels, **options), 5
    )
    m = args.column_rows
    print(f"W1 {m:,} rows, ticket_metrics_columns(numpy):   {m / t_np / 1e6:6.2f} M rows/s")

    def ts(a: np.ndarray) -> pa.Array:
        return pa.array(np.where(a == NULL, 0, a), type=pa.int64(), mask=a == NULL).cast(
            pa.timestamp("s", "UTC")
        )

    table = pa.table(
        {
            "agent_id": pa.array(big["agent_id"]),
            "priority": pa.DictionaryArray.from_arrays(
                pa.array(big["priority"].astype(np.int32)), pa.array(labels)
            ),
            "created_at": ts(big["created_at"]),
            "first_response_at": ts(big["first_response_at"]),
            "resolved_at": ts(big["resolved_at"]),
        }
    )
    t_pa = best(lambda: teamkpi.ticket_metrics_columns(table, **options), 5)
    print(f"W1 {m:,} rows, ticket_metrics_columns(pyarrow): {m / t_pa / 1e6:6.2f} M rows/s")

    # One engine event per call: new tickets, then replies and resolutions.
    engine = teamkpi.Engine("UTC")
    base = dt.datetime(2025, 10, 1, tzinfo=UTC)
    events = []
    for i in range(100_000):
        at = base + dt.timedelta(seconds=i * 20)
        events.append(
            {
                "id": f"c{i}",
                "at": at,
                "type": "ticket_created",
                "ticket_id": i,
                "agent_id": i % 1_000 + 1,
                "priority": PRIORITIES[i % 4],
            }
        )
        events.append(
            {
                "id": f"r{i}",
                "at": at + dt.timedelta(minutes=5),
                "type": "agent_replied",
                "ticket_id": i,
            }
        )
    t_ev = per_call(engine.apply, events, repeat=1)
    print(f"Engine.apply, one event per call:            {t_ev * 1e6:6.2f} µs")

    cal = teamkpi.BusinessCalendar(
        "Europe/Warsaw",
        {d: [("09:00", "13:00"), ("14:00", "18:00")] for d in ("mon", "tue", "wed", "thu", "fri")},
        HOLIDAYS,
    )
    rng = np.random.default_rng(3)
    starts = [base + dt.timedelta(seconds=int(s)) for s in rng.integers(0, 90 * 86_400, 50_000)]
    t_add = per_call(lambda s: cal.add_business_seconds(s, 5 * 3_600), starts)
    print(f"BusinessCalendar.add_business_seconds:       {t_add * 1e9:6.0f} ns/call")
    try:
        import businesstimedelta  # type: ignore[import-not-found]
        import pytz  # type: ignore[import-untyped]
    except ImportError:
        print("businesstimedelta not installed: pip install businesstimedelta to compare")
        return
    warsaw = pytz.timezone("Europe/Warsaw")
    morning = businesstimedelta.WorkDayRule(
        start_time=dt.time(9), end_time=dt.time(13), working_days=[0, 1, 2, 3, 4], tz=warsaw
    )
    afternoon = businesstimedelta.WorkDayRule(
        start_time=dt.time(14), end_time=dt.time(18), working_days=[0, 1, 2, 3, 4], tz=warsaw
    )
    holidays = businesstimedelta.HolidayRule(HOLIDAYS, tz=warsaw)
    rules = businesstimedelta.Rules([morning, afternoon, holidays])
    delta = businesstimedelta.BusinessTimeDelta(rules, hours=5)
    few = starts[:2_000]
    for s in few[:200]:
        assert s + delta == cal.add_business_seconds(s, 5 * 3_600), s
    t_btd = per_call(lambda s: s + delta, few, repeat=3)
    print(
        f"businesstimedelta, same calendar:             {t_btd * 1e9:6.0f} ns/call"
        f"  (teamkpi {t_btd / t_add:.0f}x faster)"
    )


if __name__ == "__main__":
    main()
