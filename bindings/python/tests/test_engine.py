"""The incremental engine from Python: the support desk's real-time flow, threads, engine =
batch."""

from __future__ import annotations

import datetime as dt
import random
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import teamkpi

UTC = dt.UTC
T0 = dt.datetime(2025, 11, 3, 8, 0, tzinfo=UTC)


def stream(tickets: int, seed: int) -> list[dict]:
    """Lifecycle events of `tickets` tickets over a week: create, reply, transfer, resolve."""
    rng = random.Random(seed)
    events: list[dict] = []
    for t in range(1, tickets + 1):
        at = T0 + dt.timedelta(minutes=rng.randrange(0, 7 * 24 * 60))
        agent = rng.randrange(1, 5)
        events.append(
            {
                "id": f"{t}-c",
                "at": at,
                "type": "ticket_created",
                "ticket_id": t,
                "agent_id": agent,
                "priority": rng.choice(["low", "high"]),
            }
        )
        if rng.random() < 0.8:
            at += dt.timedelta(minutes=rng.randrange(1, 600))
            events.append({"id": f"{t}-r", "at": at, "type": "agent_replied", "ticket_id": t})
        if rng.random() < 0.2:
            at += dt.timedelta(minutes=rng.randrange(1, 600))
            to = agent % 4 + 1
            events.append(
                {
                    "id": f"{t}-x",
                    "at": at,
                    "type": "ticket_transferred",
                    "ticket_id": t,
                    "from": agent,
                    "to": to,
                }
            )
        if rng.random() < 0.6:
            at += dt.timedelta(minutes=rng.randrange(1, 3000))
            events.append({"id": f"{t}-s", "at": at, "type": "resolved", "ticket_id": t})
    return events


def test_the_support_desks_transfer_credits_both_agents() -> None:
    engine = teamkpi.Engine("UTC")
    engine.apply({"id": 1, "at": T0, "type": "ticket_created", "ticket_id": 1, "agent_id": 1})
    applied = engine.apply(
        {
            "id": 2,
            "at": T0 + dt.timedelta(hours=1),
            "type": "ticket_transferred",
            "ticket_id": 1,
            "from": 1,
            "to": 2,
        }
    )
    touched = sorted((t["agent_id"], t["day"]) for t in applied["touched"])
    assert touched == [(1, dt.date(2025, 11, 3)), (2, dt.date(2025, 11, 3))]
    assert engine.apply({"id": 2, "at": T0, "type": "resolved", "ticket_id": 1})["duplicate"]
    rows = {r["agent_id"]: r for r in engine.rows("day")}
    assert rows[1]["transfers_out"] == 1 and rows[2]["transfers_in"] == 1
    m = engine.agent_metrics(2, dt.date(2025, 11, 3))
    assert m is not None and m["tickets_assigned"] == 1
    assert engine.agent_metrics(3, dt.date(2025, 11, 3)) is None


def test_late_and_unknown_events_raise_and_change_nothing() -> None:
    strict = teamkpi.Engine(strict=True)
    with pytest.raises(teamkpi.NotFoundError) as e:
        strict.apply({"id": "x", "at": T0, "type": "resolved", "ticket_id": 9})
    assert e.value.code == "unknown_ticket"
    engine = teamkpi.Engine()
    engine.apply({"id": "c", "at": T0, "type": "ticket_created", "ticket_id": 1, "agent_id": 1})
    engine.apply({"id": "s", "at": T0, "type": "closed", "ticket_id": 1})
    assert engine.evict_before(T0 + dt.timedelta(days=30)) == 1
    before = engine.rows()
    with pytest.raises(teamkpi.ConflictError) as e2:
        engine.apply({"id": "late", "at": T0, "type": "reopened", "ticket_id": 1})
    assert e2.value.code == "late_event"
    assert engine.rows() == before
    report = engine.apply_many(
        [
            {"id": "late2", "at": T0, "type": "reopened", "ticket_id": 1},
            {
                "id": "c2",
                "at": T0 + dt.timedelta(days=31),
                "type": "ticket_created",
                "ticket_id": 2,
                "agent_id": 1,
            },
        ]
    )
    assert report["applied"] == 1 and [r["code"] for r in report["rejected"]] == ["late_event"]


def test_one_engine_from_many_threads_equals_one_thread() -> None:
    events = stream(400, seed=11)
    single = teamkpi.Engine("Europe/Warsaw")
    for e in events:
        single.apply(e)
    shared = teamkpi.Engine("Europe/Warsaw")
    # Each thread gets an overlapping, shuffled share: duplicates and any order.
    shares = []
    for k in range(4):
        share = [e for i, e in enumerate(events) if i % 4 == k or i % 7 == k]
        random.Random(k).shuffle(share)
        shares.append(share)
    errors: list[BaseException] = []

    def work(share: list[dict], batch: bool) -> None:
        try:
            if batch:
                shared.apply_many(share)
            else:
                for e in share:
                    shared.apply(e)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(s, k % 2 == 0)) for k, s in enumerate(shares)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for period in ("day", "week", "month"):
        assert shared.rows(period) == single.rows(period)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), tickets=st.integers(1, 60))
def test_property_engine_equals_batch_over_snapshots(seed: int, tickets: int) -> None:
    events = stream(tickets, seed)
    shuffled = events + random.Random(seed).sample(events, len(events) // 3)
    random.Random(seed + 1).shuffle(shuffled)
    engine = teamkpi.Engine("America/New_York", quantiles=False)
    engine.apply_many(shuffled)
    snapshots = engine.snapshots()
    batch = teamkpi.ticket_metrics(snapshots, timezone="America/New_York", quantiles=False)
    assert engine.rows("day") == list(batch)
