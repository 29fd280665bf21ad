"""The KPI tables' `POST /kpis/calculate/<id>` on the Flask example, end to end (Flask test
client, JSON in and out, teamkpi's SQLite store on a file): one agent's tickets over a year, the
route timed for a week and for the whole year, next to the same day-by-day recomputation the
route did before (`update_kpis` once per day of the range).

    python benches/flask/calculate_bench.py [--tickets 20000] [--runs 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import teamkpi

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "flask_dashboard"))
from app import create_app  # noqa: E402

UTC = dt.UTC
NOW = dt.datetime(2025, 11, 14, 12, tzinfo=UTC)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--tickets", type=int, default=20_000)
    p.add_argument("--runs", type=int, default=5)
    a = p.parse_args()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Path(tmp) / "kpis.sqlite", clock=lambda: NOW, timezone="Europe/Warsaw")
        store: teamkpi.Store = app.extensions["teamkpi_store"]
        store.put_agents([{"id": 1, "status": "online", "name": "Ana"}])
        store.upsert_definition(
            {
                "key": "avg_resolution",
                "name": "Average Resolution Time",
                "unit": "hours",
                "target_type": "lower_better",
                "aggregation_period": "weekly",
                "source": {"type": "query", "query_key": "avg_resolution_time"},
            }
        )
        start = NOW - dt.timedelta(days=365)
        tickets = []
        for i in range(a.tickets):
            created = start + dt.timedelta(seconds=rng.randrange(365 * 86_400))
            resolved = created + dt.timedelta(minutes=rng.randrange(10, 2_000))
            tickets.append(
                {"id": i + 1, "agent_id": 1, "created_at": created, "resolved_at": resolved}
            )
        store.put_tickets(tickets)
        made = store.insert_assignment(
            {"agent_id": 1, "definition": "avg_resolution", "target": 3, "valid_from": start.date()}
        )
        c = app.test_client()

        def route(days: int) -> float:
            body = {
                "period_start": (NOW - dt.timedelta(days=days - 1)).date().isoformat(),
                "period_end": NOW.date().isoformat(),
            }
            t0 = time.perf_counter()
            r = c.post(f"/kpis/calculate/{made['id']}", json=body)
            took = time.perf_counter() - t0
            assert r.status_code == 200 and r.get_json()["measurement_id"], r.get_json()
            return took

        def day_by_day(days: int) -> float:
            t0 = time.perf_counter()
            for d in range(days):
                day = (NOW - dt.timedelta(days=d)).date()
                teamkpi.update_kpis(store, now=NOW, date=day, agent_id=1, timezone="Europe/Warsaw")
            return time.perf_counter() - t0

        for days in (7, 365):
            got = [route(days) for _ in range(a.runs)]
            print(
                f"calculate route, {days} days, {a.tickets} tickets: median "
                f"{statistics.median(got) * 1000:.1f} ms (runs {len(got)})"
            )
        old = [day_by_day(7) for _ in range(min(a.runs, 3))]
        print(f"former day-by-day recompute, 7 days: median {statistics.median(old) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
