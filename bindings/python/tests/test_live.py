"""Live metrics in a store from Python: the batch rules, live = in-memory engine = batch over
snapshots, analytics from live rows = analytics over snapshots, threads and processes sharing one
SQLite file, PostgreSQL when ``PG_TEST_URL`` is set."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import random
import threading
from pathlib import Path
from typing import Any

import pytest
from test_engine import T0, stream

import teamkpi
from teamkpi._types import TicketMetricsRow, TicketRecord

SLA = {
    "name": "desk",
    "targets": {
        "low": {"first_response": 7200, "resolution": 172800},
        "high": {"first_response": 1800},
    },
}
WEEK = (dt.date(2025, 11, 1), dt.date(2025, 11, 30))


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> teamkpi.Store:
    if request.param == "sqlite":
        return teamkpi.SqliteStore(tmp_path / "live.sqlite")
    url = os.environ.get("PG_TEST_URL")
    if not url:
        if os.environ.get("TEAMKPI_REQUIRE_PG") == "1":
            pytest.fail("TEAMKPI_REQUIRE_PG=1 but PG_TEST_URL is not set")
        pytest.skip("PG_TEST_URL not set")
    s = teamkpi.PostgresStore(url)
    teamkpi.LiveMetrics(s, timezone="Europe/Warsaw", sla=SLA).reset()
    return s


def live_of(store: teamkpi.Store) -> teamkpi.LiveMetrics:
    return teamkpi.LiveMetrics(store, timezone="Europe/Warsaw", sla=SLA)


def engine_rows(events: list[dict[str, Any]], period: str) -> list[TicketMetricsRow]:
    engine = teamkpi.Engine("Europe/Warsaw", sla=SLA)
    engine.apply_many(events)
    return engine.rows(period)


def test_live_rows_equal_the_in_memory_engine_in_any_order(store: teamkpi.Store) -> None:
    live = live_of(store)
    events = stream(300, seed=3)
    shuffled = events + random.Random(4).sample(events, 60)
    random.Random(5).shuffle(shuffled)
    total = {"applied": 0, "duplicates": 0}
    for i in range(0, len(shuffled), 97):
        r = live.apply(shuffled[i : i + 97])
        assert r["rejected"] == []
        total["applied"] += r["applied"]
        total["duplicates"] += r["duplicates"]
    assert total == {"applied": len(events), "duplicates": 60}
    for period in ("day", "week", "month"):
        assert live.rows(*WEEK, period=period) == engine_rows(events, period)
    one = live.rows(*WEEK, agent_id=2)
    assert one and {r["agent_id"] for r in one} == {2}
    teams = live.rows(*WEEK, group_by="team")
    assert sum(r["tickets_created"] for r in teams) == 300
    day = live.metrics(2, T0.date() + dt.timedelta(days=1))
    assert day is not None and day["agent_id"] == 2
    assert live.metrics(2, dt.date(2020, 1, 1)) is None


def test_a_bad_event_refuses_the_whole_call_with_each_index(store: teamkpi.Store) -> None:
    live = live_of(store)
    good = {"id": "c1", "at": T0, "type": "ticket_created", "ticket_id": 1, "agent_id": 1}
    with pytest.raises(teamkpi.InvalidInputError) as e:
        live.apply(
            [
                good,
                {"id": "n", "at": dt.datetime(2025, 11, 3, 9), "type": "resolved", "ticket_id": 1},
                {"id": "u", "at": T0, "type": "no_such_type", "ticket_id": 1},
                {"id": "m", "at": T0, "type": "resolved"},
            ]
        )
    assert e.value.code == "invalid_events"
    errors = e.value.errors  # type: ignore[attr-defined]
    assert [(x["index"], x["code"]) for x in errors] == [
        (1, "naive_datetime"),
        (2, "invalid_argument"),
        (3, "invalid_argument"),
    ]
    assert live.rows(*WEEK) == []
    # Refused in context: listed, the rest applied.
    r = live.apply(
        [
            good,
            {
                "id": "early",
                "at": T0 - dt.timedelta(hours=1),
                "type": "agent_replied",
                "ticket_id": 1,
            },
            good,
        ]
    )
    assert (r["applied"], r["duplicates"]) == (1, 1)
    assert [(x["index"], x["code"]) for x in r["rejected"]] == [(1, "events_out_of_order")]
    assert r["touched"] == [{"agent_id": 1, "day": T0.date()}]
    # The in-memory engine follows the same rules.
    engine = teamkpi.Engine("Europe/Warsaw", sla=SLA)
    with pytest.raises(teamkpi.InvalidInputError) as e2:
        engine.apply_many([good, {"id": "m", "at": T0, "type": "resolved"}])
    assert [x["index"] for x in e2.value.errors] == [1]  # type: ignore[attr-defined]
    assert engine.rows() == []


def test_other_settings_under_existing_state_are_incompatible(store: teamkpi.Store) -> None:
    live_of(store).apply(stream(5, seed=1))
    other = teamkpi.LiveMetrics(store, timezone="UTC", sla=SLA)
    with pytest.raises(teamkpi.ConflictError) as e:
        other.apply(stream(5, seed=2))
    assert e.value.code == "incompatible_state"
    other.reset()
    assert other.apply(stream(5, seed=2))["applied"] > 0
    assert other.settings["timezone"] == "UTC"


def snapshots(events: list[dict[str, Any]]) -> list[TicketRecord]:
    engine = teamkpi.Engine("Europe/Warsaw", sla=SLA)
    engine.apply_many(events)
    return engine.snapshots()


def test_backfill_from_snapshots_then_real_time_events_equal_batch(store: teamkpi.Store) -> None:
    events = stream(200, seed=8)
    tickets = snapshots(events)
    live = live_of(store)
    first = live.apply_tickets(tickets, batch=64)
    assert first["tickets"] == 200 and first["applied"] > 200
    again = live.apply_tickets(tickets)
    assert again["applied"] == 0 and again["duplicates"] == first["applied"]
    batch = teamkpi.ticket_metrics(tickets, timezone="Europe/Warsaw", sla=SLA, period="day")
    assert live.rows(*WEEK) == batch
    # A hook's event with the documented ids: a duplicate of the backfill changes nothing.
    ids = [e["id"] for e in teamkpi.ticket_events(tickets[0])]
    assert ids[0] == f"ticket:{tickets[0]['id']}:created"
    assert live.apply(teamkpi.ticket_events(tickets[0]))["duplicates"] == len(ids)


def test_analytics_from_live_rows_equal_analytics_over_snapshots(store: teamkpi.Store) -> None:
    events = stream(250, seed=12)
    live = live_of(store)
    live.apply(events)
    tickets = snapshots(events)
    now = max(e["at"] for e in events) + dt.timedelta(hours=1)
    for days in (30, 7, 1):
        for result, agent in [
            ("performance", None),
            ("performance", 2),
            ("trends", None),
            ("comparison", None),
            ("workload", None),
            ("performance_metrics", 3),
            ("performance_trends", 1),
        ]:
            want = teamkpi.analytics(
                result,
                tickets,
                now=now,
                days=days,
                agent_id=agent,
                timezone="Europe/Warsaw",
                sla=SLA,
            )
            assert live.analytics(result, now=now, days=days, agent_id=agent) == want, result
    with pytest.raises(teamkpi.InvalidInputError) as e:
        live.analytics("nope", now=now)
    assert e.value.code == "invalid_choice"
    start = now - dt.timedelta(days=10)
    timelines = teamkpi.timelines_from_tickets(tickets)
    for group_by in (None, "agent", "team", "policy"):
        want_sla = teamkpi.sla_analytics(
            SLA, timelines, now=now, start=start, end=now, group_by=group_by
        )
        assert live.sla_analytics(start, now, now=now, group_by=group_by) == want_sla
    mine = [t for t in timelines if t.get("agent_id") == 2]
    assert live.sla_analytics(start, now, now=now, agent_id=2) == teamkpi.sla_analytics(
        SLA, mine, now=now, start=start, end=now
    )
    active = [t for t in timelines if not any(e["type"] == "resolved" for e in t["events"])]
    want_breaches = teamkpi.sla_breaches(SLA, active, now=now)
    assert want_breaches["count"] > 0
    assert live.sla_breaches(now=now) == want_breaches
    open_now = live.open_tickets()
    assert {t["id"] for t in open_now} == {t["id"] for t in tickets if t.get("resolved_at") is None}


def test_update_kpis_and_agent_kpi_read_live_figures(store: teamkpi.Store) -> None:
    store.upsert_definition(
        {
            "key": "resolved",
            "name": "Resolved",
            "unit": "count",
            "direction": "higher_better",
            "period": "daily",
            "source": {"type": "metric", "metric": "tickets_resolved"},
        }
    )
    for agent in (1, 2, 3, 4):
        store.insert_assignment(
            {
                "agent_id": agent,
                "definition": "resolved",
                "target": 2,
                "weight": 1,
                "valid_from": dt.date(2025, 11, 1),
            }
        )
    events = stream(120, seed=21)
    live = live_of(store)
    live.apply(events)
    day = dt.date(2025, 11, 5)
    now = dt.datetime(2025, 11, 5, 22, 0, tzinfo=dt.UTC)
    report = live.update_kpis(now=now, date=day)
    tickets = snapshots(events)
    other = teamkpi.SqliteStore()
    other.upsert_definition(store.definition("resolved") or {})
    for a in store.assignments():
        other.insert_assignment({k: v for k, v in a.items() if k != "id"})
    want = teamkpi.update_kpis(other, now=now, date=day, tickets=tickets, timezone="Europe/Warsaw")
    assert (report["successes"], report["skipped"]) == (want["successes"], want["skipped"])
    row = live.agent_kpi(2, day)
    assert row == teamkpi.agent_kpi(other, 2, day, tickets=tickets, timezone="Europe/Warsaw")
    # A requested range from the live day rows equals the same range from the snapshots.
    start, end = dt.date(2025, 11, 3), dt.date(2025, 11, 6)
    for a in store.assignments():
        ranged = live.measure_range(a["id"], start, end, now=now)
        expected = teamkpi.measure_range(
            other, a["id"], start, end, now=now, tickets=tickets, timezone="Europe/Warsaw"
        )
        assert ranged["measurement"] is not None and ranged["measurement"]["ad_hoc"]
        assert ranged["measurement"] == expected["measurement"]


def test_threads_share_one_store(tmp_path: Path) -> None:
    path = tmp_path / "threads.sqlite"
    events = stream(300, seed=30)
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            live = live_of(teamkpi.SqliteStore(path))
            share = [e for i, e in enumerate(events) if i % 3 == k or i % 5 == k]
            random.Random(k).shuffle(share)
            for i in range(0, len(share), 25):
                live.apply(share[i : i + 25])
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    live_of(teamkpi.SqliteStore(path)).apply(events[:1])
    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    live = live_of(teamkpi.SqliteStore(path))
    live.apply(events)  # whatever no thread had
    assert live.rows(*WEEK) == engine_rows(events, "day")


def _process_share(path: str, k: int) -> None:
    events = stream(300, seed=31)
    live = live_of(teamkpi.SqliteStore(path))
    share = [e for i, e in enumerate(events) if i % 4 == k or i % 6 == k]
    random.Random(k).shuffle(share)
    for i in range(0, len(share), 10):
        live.apply(share[i : i + 10])


def test_processes_share_one_sqlite_file(tmp_path: Path) -> None:
    path = str(tmp_path / "procs.sqlite")
    events = stream(300, seed=31)
    live_of(teamkpi.SqliteStore(path)).apply(events[:1])
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_process_share, args=(path, k)) for k in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
        assert p.exitcode == 0
    live = live_of(teamkpi.SqliteStore(path))
    covered = [e for i, e in enumerate(events) if any(i % 4 == k or i % 6 == k for k in range(4))]
    assert live.apply(covered)["applied"] == 0
    assert live.rows(*WEEK) == engine_rows(covered, "day")
