"""Live metrics from Python: single-event apply on a file-backed SQLite store (and PostgreSQL).

    python benches/python/live_apply.py [--retained 10000] [--singles 400] [--pg postgres://…]

Fills a fresh store with ``--retained`` tickets of a desk (30 days, 25 agents; each ticket
created, answered, most resolved) through ``LiveMetrics.apply`` in batches of 1 000, then times
``--singles`` calls of one event each — a realistic mix: a quarter of it replies, transfers and
resolutions of tickets created days earlier, the rest the day's new tickets and their first
replies. The call timed is the host's: a dict in, one transaction, the report dict out. Prints
one JSON object (median and p90 in milliseconds, and the batched rate).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import teamkpi

START = dt.datetime(2025, 10, 1, 8, 0, tzinfo=dt.UTC)
SLA = {
    "name": "desk",
    "targets": {
        "normal": {"first_response": 4 * 3600, "resolution": 24 * 3600},
        "high": {"first_response": 3600, "resolution": 8 * 3600},
    },
}


def history(n: int, rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The desk's events and, held back, the last step of every fourth ticket."""
    events, held = [], []
    for t in range(1, n + 1):
        at = START + dt.timedelta(seconds=rng.randrange(0, 30 * 86400))
        agent = rng.randrange(1, 26)
        mine = [
            {
                "id": f"ticket:{t}:created",
                "at": at,
                "type": "ticket_created",
                "ticket_id": t,
                "agent_id": agent,
                "priority": rng.choice(["normal", "high"]),
            }
        ]
        at += dt.timedelta(minutes=rng.randrange(5, 600))
        mine.append({"id": f"message:{t}0", "at": at, "type": "agent_replied", "ticket_id": t})
        if rng.random() < 0.15:
            at += dt.timedelta(minutes=rng.randrange(10, 2000))
            to = agent % 25 + 1
            transfer = {"type": "ticket_transferred", "ticket_id": t, "from": agent, "to": to}
            mine.append({"id": f"transfer:{t}", "at": at, **transfer})
        if rng.random() < 0.8:
            at += dt.timedelta(minutes=rng.randrange(30, 3000))
            mine.append(
                {"id": f"ticket:{t}:resolved", "at": at, "type": "resolved", "ticket_id": t}
            )
        if t % 4 == 0 and len(mine) > 1:
            held.append(mine.pop())
        events.extend(mine)
    events.sort(key=lambda e: e["at"])
    return events, held


def fresh(first: int, n: int, rng: random.Random) -> list[dict[str, Any]]:
    out = []
    for t in range(first, first + n):
        at = START + dt.timedelta(days=30, seconds=rng.randrange(0, 36000))
        out.append(
            {
                "id": f"ticket:{t}:created",
                "at": at,
                "type": "ticket_created",
                "ticket_id": t,
                "agent_id": rng.randrange(1, 26),
                "priority": "normal",
            }
        )
        reply = at + dt.timedelta(minutes=rng.randrange(5, 120))
        out.append({"id": f"message:{t}0", "at": reply, "type": "agent_replied", "ticket_id": t})
    return out


def measure(store: teamkpi.Store, retained: int, singles: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    live = teamkpi.LiveMetrics(store, timezone="Europe/Warsaw", sla=SLA)
    live.reset()
    events, held = history(retained, rng)
    began = time.perf_counter()
    for i in range(0, len(events), 1000):
        live.apply(events[i : i + 1000])
    batched = len(events) / (time.perf_counter() - began)
    older = held[: singles // 4]
    mix = older + fresh(retained + 1, (singles - len(older)) // 2 + 1, rng)
    mix = mix[:singles]
    rng.shuffle(mix)
    ms = []
    for e in mix:
        t0 = time.perf_counter()
        r = live.apply(e)
        ms.append((time.perf_counter() - t0) * 1000)
        assert not r["rejected"], r
    ms.sort()
    return {
        "retained_tickets": retained,
        "preload_events": len(events),
        "preload_events_per_s": round(batched),
        "singles": len(ms),
        "share_on_older_tickets": round(len(older) / len(ms), 3),
        "single_apply_median_ms": round(statistics.median(ms), 3),
        "single_apply_p90_ms": round(ms[int(len(ms) * 0.9)], 3),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--retained", type=int, default=10_000)
    p.add_argument("--singles", type=int, default=400)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--pg", help="also on this PostgreSQL database (its live state is reset)")
    args = p.parse_args()
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="live-apply-") as tmp:
        store = teamkpi.SqliteStore(Path(tmp) / "live.sqlite")
        out["sqlite"] = measure(store, args.retained, args.singles, args.seed)
    if args.pg:
        out["postgres"] = measure(
            teamkpi.PostgresStore(args.pg), args.retained, args.singles, args.seed
        )
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
