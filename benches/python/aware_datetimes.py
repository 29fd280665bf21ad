"""The ticket table from dicts with every kind of aware datetime a host hands over.

`teamkpi.ticket_metrics` over N ticket dicts (W1's shape: agent, priority, created, first
response, resolved; 1 000 agents over 30 days, seeded) whose datetimes carry `timezone.utc`,
`ZoneInfo("UTC")`, a fixed offset (`timezone(timedelta(hours=2))`), psycopg 3's `timestamptz`
zone (`ZoneInfo("Etc/UTC")`) or a zone with DST (`ZoneInfo("Europe/Warsaw")`), against the
plain Python loop of `benches/compare.py` over the same dicts. Best of `--repeat`, seconds and
the ratio loop / teamkpi (above 1: teamkpi is faster).

Run from the repository root with the test venv (not part of the test command):

    target/py-venv/bin/python benches/python/aware_datetimes.py --rows 1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import teamkpi

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from compare import PRIORITIES, python_loop  # noqa: E402

ZONES: dict[str, dt.tzinfo] = {
    "timezone.utc": dt.UTC,
    'ZoneInfo("UTC")': ZoneInfo("UTC"),
    "timezone(+02:00)": dt.timezone(dt.timedelta(hours=2)),
    'psycopg 3 (ZoneInfo("Etc/UTC"))': ZoneInfo("Etc/UTC"),
    'ZoneInfo("Europe/Warsaw")': ZoneInfo("Europe/Warsaw"),
}


def tickets(n: int, tz: dt.tzinfo) -> list[dict[str, Any]]:
    rng = random.Random(1)
    start = dt.datetime(2025, 10, 1, tzinfo=dt.UTC).timestamp()
    out = []
    for i in range(n):
        created = start + rng.randrange(30 * 86_400)
        first = created + rng.randrange(1, 20_000) if rng.random() < 0.9 else None
        resolved = created + rng.randrange(600, 300_000) if rng.random() < 0.7 else None

        def at(s: float | None) -> dt.datetime | None:
            return None if s is None else dt.datetime.fromtimestamp(s, tz)

        out.append(
            {
                "id": i,
                "agent_id": rng.randrange(1, 1001),
                "priority": PRIORITIES[rng.randrange(4)],
                "created_at": at(created),
                "first_response_at": at(first),
                "resolved_at": at(resolved),
            }
        )
    return out


def best_of(fn: Callable[[], Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.rows} ticket dicts, best of {args.repeat}")
    print(f"{'datetimes':<34} {'teamkpi s':>10} {'loop s':>8} {'loop/teamkpi':>13}")
    for name, tz in ZONES.items():
        data = tickets(args.rows, tz)
        ours = best_of(lambda d=data: teamkpi.ticket_metrics(d), args.repeat)  # type: ignore[misc]
        loop = best_of(lambda d=data: python_loop(d), args.repeat)  # type: ignore[misc]
        print(f"{name:<34} {ours:>10.3f} {loop:>8.3f} {loop / ours:>12.2f}×")


if __name__ == "__main__":
    main()
