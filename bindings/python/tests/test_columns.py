"""Columnar input (numpy and pyarrow) gives the same rows as dicts."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import teamkpi

UTC = dt.UTC
BASE = int(dt.datetime(2025, 11, 1, tzinfo=UTC).timestamp())
SLA = {
    "name": "w1",
    "calendar": {"timezone": "UTC", "always_open": True},
    "targets": {
        "urgent": {"first_response": 900, "resolution": 14400},
        "high": {"first_response": 3600, "resolution": 28800},
        "normal": {"first_response": 14400},
    },
}


def generate(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        created = BASE + rng.randrange(0, 30 * 86400)
        first = created + rng.randrange(0, 20000) if rng.random() < 0.8 else None
        resolved = created + rng.randrange(0, 200000) if rng.random() < 0.6 else None
        out.append(
            {
                "id": i + 1,
                "agent_id": rng.randrange(1, 6) if rng.random() < 0.95 else None,
                "priority": rng.choice(["low", "normal", "high", "urgent", None]),
                "created_at": created,
                "first_response_at": first,
                "resolved_at": resolved,
            }
        )
    return out


def as_dicts(rows: list[dict]) -> list[dict]:
    def aware(s: int | None) -> dt.datetime | None:
        return None if s is None else dt.datetime.fromtimestamp(s, UTC)

    return [
        {**r, **{k: aware(r[k]) for k in ("created_at", "first_response_at", "resolved_at")}}
        for r in rows
    ]


def as_numpy(rows: list[dict]) -> dict:
    def instants(k: str) -> np.ndarray:
        return np.array(
            [np.datetime64("NaT") if r[k] is None else np.datetime64(r[k], "s") for r in rows],
            dtype="datetime64[s]",
        )

    agents = np.array([np.nan if r["agent_id"] is None else r["agent_id"] for r in rows])
    return {
        "id": np.array([r["id"] for r in rows], dtype=np.int64),
        "agent_id": agents,
        "priority": np.array([r["priority"] for r in rows], dtype=object),
        "created_at": instants("created_at"),
        "first_response_at": instants("first_response_at").astype("datetime64[ms]"),
        "resolved_at": instants("resolved_at"),
    }


def as_arrow(rows: list[dict]) -> pa.Table:
    def ts(k: str, unit: str) -> pa.Array:
        vals = [None if r[k] is None else r[k] * (1000 if unit == "ms" else 1) for r in rows]
        return pa.array(vals, type=pa.timestamp(unit, tz="UTC"))

    return pa.table(
        {
            "id": pa.array([r["id"] for r in rows], type=pa.int64()),
            "agent_id": pa.array([r["agent_id"] for r in rows], type=pa.int32()),
            "priority": pa.array([r["priority"] for r in rows], type=pa.string()),
            "created_at": ts("created_at", "s"),
            "first_response_at": ts("first_response_at", "ms"),
            "resolved_at": ts("resolved_at", "s"),
        }
    )


OPTIONS = [
    {"quantiles": False, "sla": SLA},
    {"quantiles": True},
    {"period": "week", "timezone": "Europe/Warsaw", "quantiles": False},
    {"group_by": "tenant", "period": "month", "sla": SLA},
]


@pytest.mark.parametrize("options", OPTIONS)
def test_columns_equal_dicts(options: dict) -> None:
    rows = generate(2000, seed=7)
    expected = teamkpi.ticket_metrics(as_dicts(rows), **options)
    assert expected
    from_numpy = teamkpi.ticket_metrics_columns(as_numpy(rows), **options)
    from_arrow = teamkpi.ticket_metrics_columns(as_arrow(rows), **options)
    batch = as_arrow(rows).to_batches()[0]
    from_batch = teamkpi.ticket_metrics_columns(batch, **options)
    assert list(from_numpy) == list(expected)
    assert list(from_arrow) == list(expected)
    assert list(from_batch) == list(expected)


def test_zero_copy_int_seconds_and_codes() -> None:
    rows = generate(500, seed=3)
    codes = {"": 0, "low": 1, "normal": 2, "high": 3, "urgent": 4}
    cols = {
        "agent_id": np.array([r["agent_id"] or 0 for r in rows], dtype=np.uint64),
        "priority": np.array([codes[r["priority"] or ""] for r in rows], dtype=np.uint32),
        "created_at": np.array([r["created_at"] for r in rows], dtype=np.int64),
        "first_response_at": np.array(
            [
                teamkpi._teamkpi.NULL_INSTANT
                if r["first_response_at"] is None
                else r["first_response_at"]
                for r in rows
            ],
            dtype=np.int64,
        ),
        "resolved_at": np.array(
            [
                teamkpi._teamkpi.NULL_INSTANT if r["resolved_at"] is None else r["resolved_at"]
                for r in rows
            ],
            dtype=np.int64,
        ),
    }
    got = teamkpi.ticket_metrics_columns(
        cols, priority_labels=list(codes), sla=SLA, quantiles=False
    )
    dict_rows = [dict(r, id=i, agent_id=r["agent_id"] or 0) for i, r in enumerate(rows)]
    assert list(got) == list(teamkpi.ticket_metrics(as_dicts(dict_rows), sla=SLA, quantiles=False))


def test_column_errors() -> None:
    cols = as_numpy(generate(10, seed=1))
    with pytest.raises(teamkpi.InvalidInputError):
        teamkpi.ticket_metrics_columns({**cols, "created_at": cols["created_at"][:5]})
    with pytest.raises(teamkpi.InvalidInputError):
        teamkpi.ticket_metrics_columns({k: v for k, v in cols.items() if k != "resolved_at"})
    with pytest.raises(teamkpi.InvalidInputError):
        teamkpi.ticket_metrics_columns({**cols, "priority": np.arange(10, dtype=np.uint32)})
    with pytest.raises(TypeError):
        teamkpi.ticket_metrics_columns([1, 2, 3])
    bad = {**cols, "resolved_at": cols["created_at"] - np.timedelta64(5, "s")}
    rows = teamkpi.ticket_metrics_columns(bad)
    assert {r["code"] for r in rows.rejected} == {"invalid_range"}
    assert len(rows.rejected) == 10


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 300), seed=st.integers(0, 2**32 - 1), quantiles=st.booleans())
def test_property_columns_equal_dicts(n: int, seed: int, quantiles: bool) -> None:
    rows = generate(n, seed)
    expected = teamkpi.ticket_metrics(as_dicts(rows), sla=SLA, quantiles=quantiles)
    assert list(
        teamkpi.ticket_metrics_columns(as_arrow(rows), sla=SLA, quantiles=quantiles)
    ) == list(expected)


def test_threads_give_the_same_rows() -> None:
    # 450 000 rows: two and three threads really split them (200 000 rows a thread at least);
    # a few invalid rows check that rejected positions survive the split.
    rng = np.random.default_rng(7)
    n = 450_000
    created = BASE + rng.integers(0, 30 * 86400, n)
    first = np.where(rng.random(n) < 0.9, created + rng.integers(0, 20000, n), -(2**63))
    resolved = np.where(rng.random(n) < 0.7, created + rng.integers(0, 200000, n), -(2**63))
    first[[5, 250_001, 449_999]] = created[[5, 250_001, 449_999]] - 60
    columns = {
        "agent_id": rng.integers(1, 300, n).astype(np.uint64),
        "priority": rng.integers(0, 3, n).astype(np.uint32),
        "created_at": created.astype("datetime64[s]"),
        "first_response_at": first.astype(np.int64).view("datetime64[s]"),
        "resolved_at": resolved.astype(np.int64).view("datetime64[s]"),
    }
    labels = ["urgent", "high", "normal"]
    options: dict[str, Any] = {"sla": SLA, "quantiles": False}
    one = teamkpi.ticket_metrics_columns(columns, priority_labels=labels, **options)
    assert [r["index"] for r in one.rejected] == [5, 250_001, 449_999]
    for threads in (2, 3):
        split = teamkpi.ticket_metrics_columns(
            columns, priority_labels=labels, threads=threads, **options
        )
        assert list(split) == list(one)
        assert split.rejected == one.rejected


@pytest.mark.parametrize("group_by", ["agent", "tenant"])
def test_numpy_output_equals_rows(group_by: str) -> None:
    columns = as_numpy(generate(3000, seed=11))
    with pytest.raises(teamkpi.InvalidInputError) as e:
        teamkpi.ticket_metrics_columns(columns, output="bogus")  # type: ignore[call-overload]
    assert e.value.code == "invalid_choice"
    options: dict[str, Any] = {"sla": SLA, "group_by": group_by, "period": "week"}
    for quantiles in (False, True):
        expected = teamkpi.ticket_metrics_columns(columns, quantiles=quantiles, **options)
        got = teamkpi.ticket_metrics_columns(
            columns, output="numpy", quantiles=quantiles, **options
        )
        assert isinstance(got, teamkpi.MetricColumns)
        assert got.rejected == expected.rejected
        keys = set().union(*expected)
        assert set(got) == keys
        n = len(expected)
        assert all(len(a) == n for a in got.values())
        for i, row in enumerate(expected):
            for key in keys:
                # Rows leave out a missing agent (the unassigned group); columns hold NaN.
                value, cell = row.get(key), got[key][i]
                if value is None:
                    assert np.isnan(cell), key
                elif isinstance(value, dt.date):
                    assert cell == np.datetime64(value, "D"), key
                elif key.startswith(("avg_", "sla_compliance", "resolution_rate")):
                    assert cell == pytest.approx(float(value)), key
                else:
                    assert cell == value, key
    assert got["tickets_assigned"].dtype == np.int64
    assert got["period_start"].dtype == np.dtype("datetime64[D]")
