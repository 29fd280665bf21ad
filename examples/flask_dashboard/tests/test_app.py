"""The Flask example through Flask's test client: the call-center dashboard, the KPI tables' KPI
routes."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import teamkpi

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import backfill_live, create_app  # noqa: E402

UTC = dt.UTC
# 14:30 in Warsaw (the call-center dashboard's timestamp)
NOW = dt.datetime(2025, 10, 10, 12, 30, tzinfo=UTC)


@pytest.fixture()
def app(tmp_path: Path) -> Iterator[Any]:
    app = create_app(tmp_path / "dashboard.sqlite", clock=lambda: NOW)
    store = app.extensions["teamkpi_store"]
    store.put_agents([{"id": 5, "status": "online", "name": "Ola"}, {"id": 6, "status": "online"}])
    at = dt.datetime(2025, 10, 10, 7, 0, tzinfo=UTC)
    calls = []
    for i in range(18):  # the call-center dashboard's sample day: 18 calls, 12 connected, 5 leads
        connected = i < 12
        calls.append(
            {
                "id": i + 1,
                "agent_id": 5,
                "started_at": at + dt.timedelta(minutes=10 * i),
                "duration_seconds": 300 if connected else 0,
                "outcome": "lead" if i < 5 else ("completed" if connected else "no-answer"),
            }
        )
    calls.append(
        {"id": 100, "agent_id": 6, "started_at": at, "duration_seconds": 60, "outcome": "completed"}
    )
    store.put_calls(calls)
    store.put_sessions(
        [
            {
                "id": 1,
                "agent_id": 5,
                "kind": "logged_in",
                "start": at,
                "end": at + dt.timedelta(hours=1),
            },
            {
                "id": 2,
                "agent_id": 5,
                "kind": "working",
                "start": at,
                "end": at + dt.timedelta(hours=1),
            },
        ]
    )
    store.put_contacts(
        [
            {
                "id": i,
                "assigned_ankieter_id": 5,
                "business_reason": "przełożenie" if i < 8 else None,
            }
            for i in range(150)
        ]
    )
    store.put_campaigns([{"id": i, "name": f"c{i}", "active": i < 3} for i in range(5)])
    # The store's existing records into the live metrics (the `backfill-live` command).
    with app.app_context():
        report = backfill_live()
    assert (report["calls"], report["sessions"]) == (19, 2)
    yield app


def get(client: Any, url: str, agent: int | None = 5) -> tuple[int, Any]:
    headers = {"X-Agent-Id": str(agent)} if agent else {}
    r = client.get(url, headers=headers)
    return r.status_code, r.get_json()


def post(client: Any, url: str, body: Any, agent: int | None = 5) -> tuple[int, Any]:
    headers = {"X-Agent-Id": str(agent)} if agent else {}
    r = client.post(url, json=body, headers=headers)
    return r.status_code, r.get_json()


def test_dashboard_stats_in_the_call_center_dashboards_shape(app: Any) -> None:
    status, body = get(app.test_client(), "/api/crm/dashboard/stats?date=2025-10-10")
    assert status == 200 and body["success"] is True
    s = body["stats"]
    assert s["leads_today"] == 5
    assert (s["calls_total_today"], s["calls_connected_today"], s["calls_missed_today"]) == (
        18,
        12,
        6,
    )
    assert s["total_call_time_today"] == 3600 and s["average_call_time_today"] == 300.0
    assert s["total_logged_time_today"] == 3600 and s["total_work_time_today"] == 3600
    assert (s["total_contacts"], s["total_rescheduled"], s["active_campaigns"]) == (150, 8, 3)
    assert s["date"] == "2025-10-10"
    # default date: today in the store's zone
    status, today = get(app.test_client(), "/api/crm/dashboard/stats")
    assert status == 200 and today["stats"]["calls_total_today"] == 18


def test_a_new_call_counts_once_its_update_is_posted(app: Any) -> None:
    store = app.extensions["teamkpi_store"]
    # The telephony webhook records a call; the live figures have it once the front end posts
    # update-after-call, and a second post of the same call changes nothing.
    store.put_calls(
        [
            {
                "id": 200,
                "agent_id": 5,
                "started_at": dt.datetime(2025, 10, 10, 11, 0, tzinfo=UTC),
                "duration_seconds": 120,
                "outcome": "lead",
            }
        ]
    )
    _, before = get(app.test_client(), "/api/crm/dashboard/stats")
    assert before["stats"]["calls_total_today"] == 18
    for _ in range(2):
        status, body = post(
            app.test_client(), "/api/crm/dashboard/stats/update-after-call", {"call_id": 200}
        )
        assert status == 200
        s = body["stats"]
        assert (s["calls_total_today"], s["leads_today"], s["total_call_time_today"]) == (
            19,
            6,
            3720,
        )
    # A session the tracker applies as it records it: still open, clipped to now (14:30).
    live = app.extensions["teamkpi_live"]
    session = {
        "id": 3,
        "agent_id": 5,
        "kind": "break",
        "start": dt.datetime(2025, 10, 10, 12, 0, tzinfo=UTC),
    }
    assert live.apply_records(sessions=[session])["applied"] == 1
    _, after = get(app.test_client(), "/api/crm/dashboard/stats")
    assert after["stats"]["total_break_time_today"] == 30 * 60


def test_update_after_call(app: Any) -> None:
    status, body = post(
        app.test_client(), "/api/crm/dashboard/stats/update-after-call", {"call_id": 3}
    )
    assert status == 200 and body["success"] is True
    assert body["message"] == "Statystyki zaktualizowane"
    assert body["stats"]["calls_total_today"] == 18
    status, body = post(
        app.test_client(), "/api/crm/dashboard/stats/update-after-call", {"call_id": 999}
    )
    assert (status, body["code"]) == (404, "unknown_call")
    status, body = post(
        app.test_client(), "/api/crm/dashboard/stats/update-after-call", {"call_id": 100}
    )
    assert (status, body["code"]) == (403, "forbidden")


def test_dashboard_bad_input(app: Any) -> None:
    c = app.test_client()
    assert get(c, "/api/crm/dashboard/stats", agent=None)[0] == 401
    status, body = get(c, "/api/crm/dashboard/stats?date=2025-13-01")
    assert (status, body["code"], body["success"]) == (400, "invalid_date", False)
    assert get(c, "/api/crm/dashboard/stats", agent=77)[0] == 404
    for bad in ({}, {"call_id": "x"}, {"call_id": -1}, [1]):
        status, body = post(c, "/api/crm/dashboard/stats/update-after-call", bad)
        assert (status, body["code"]) == (400, "invalid_argument"), bad


DEFINITION = {
    "key": "avg_resolution",
    "name": "Average Resolution Time",
    "description": "Average time taken to resolve customer support cases",
    "category": "customer_support",
    "unit": "hours",
    "target_type": "lower_better",
    "aggregation_period": "weekly",
    "source": {"type": "query", "query_key": "avg_resolution_time"},
}


def test_the_kpi_tables_routes(app: Any) -> None:
    store = app.extensions["teamkpi_store"]
    store.upsert_definition(DEFINITION)
    store.put_agents([{"id": 1, "status": "online", "name": "Ana"}])
    store.put_tickets(
        [
            {
                "id": 1,
                "agent_id": 1,
                "created_at": dt.datetime(2025, 10, 6, 8, tzinfo=UTC),
                "resolved_at": dt.datetime(2025, 10, 6, 10, tzinfo=UTC),
            },
            {
                "id": 2,
                "agent_id": 1,
                "created_at": dt.datetime(2025, 10, 7, 8, tzinfo=UTC),
                "resolved_at": dt.datetime(2025, 10, 7, 12, tzinfo=UTC),
            },
            # the same ISO week, after the requested range
            {
                "id": 3,
                "agent_id": 1,
                "created_at": dt.datetime(2025, 10, 9, 8, tzinfo=UTC),
                "resolved_at": dt.datetime(2025, 10, 9, 18, tzinfo=UTC),
            },
        ]
    )
    c = app.test_client()
    status, body = get(c, "/kpis/definitions", agent=None)
    assert status == 200
    (d,) = body["definitions"]
    assert (d["name"], d["target_type"], d["aggregation_period"]) == (
        "Average Resolution Time",
        "lower_better",
        "weekly",
    )
    # the KPI tables' curl: assign by definition id
    status, body = post(
        c,
        "/kpis/users/1/kpis/assign",
        {
            "kpi_definition_id": d["id"],
            "target_value": 3,
            "weight": 100,
            "start_date": "2025-10-01",
        },
        agent=None,
    )
    assert status == 201 and body["success"] is True
    user_kpi_id = body["user_kpi_id"]
    status, body = get(c, "/kpis/users/1", agent=None)
    assert status == 200 and body["user_id"] == 1
    (k,) = body["kpis"]
    assert (k["id"], k["target_value"], k["kpi_definition_id"]) == (user_kpi_id, 3, d["id"])
    assert k["latest_measurement"] is None
    # the KPI tables' curl: calculate for exactly 2025-10-01..07
    status, body = post(
        c,
        f"/kpis/calculate/{user_kpi_id}",
        {"period_start": "2025-10-01", "period_end": "2025-10-07"},
        agent=None,
    )
    assert status == 200 and body["success"] is True and body["measurement_id"]
    m = body["measurement"]
    # (2 h + 4 h) / 2 = 3 h against 3 h, lower better → 100 % (the 10 h of 9 October is
    # outside the range)
    assert (m["actual_value"], m["achievement_percentage"]) == (3, 100)
    assert (m["period_start"], m["period_end"], m["ad_hoc"]) == ("2025-10-01", "2025-10-07", True)
    # the same request again replaces it: the same row
    again = post(
        c,
        f"/kpis/calculate/{user_kpi_id}",
        {"period_start": "2025-10-01", "period_end": "2025-10-07"},
        agent=None,
    )[1]
    assert again["measurement_id"] == body["measurement_id"]
    # ad hoc: not the scorecard's latest
    _, body = get(c, "/kpis/users/1/kpis", agent=None)
    assert body["kpis"][0]["latest_measurement"] is None
    # the nightly job measures the natural week: (2 + 4 + 10) / 3 h → 56.25 %, the latest
    now = dt.datetime(2025, 10, 13, 2, tzinfo=UTC)
    teamkpi.update_kpis(store, now=now, date=dt.date(2025, 10, 12), timezone="Europe/Warsaw")
    _, body = get(c, "/kpis/users/1/kpis", agent=None)
    latest = body["kpis"][0]["latest_measurement"]
    assert (latest["period_start"], latest["period_end"]) == ("2025-10-06", "2025-10-12")
    assert (latest["actual_value"], latest["achievement_percentage"]) == (5.33, 56.25)
    assert latest["ad_hoc"] is False
    kinds = [(m["period_start"], m["ad_hoc"]) for m in store.measurements(user_kpi_id)]
    assert kinds == [(dt.date(2025, 10, 1), True), (dt.date(2025, 10, 6), False)]


def test_the_kpi_tables_routes_bad_input(app: Any) -> None:
    c = app.test_client()
    app.extensions["teamkpi_store"].upsert_definition(DEFINITION)
    app.extensions["teamkpi_store"].put_agents([{"id": 1, "status": "online", "name": "Ana"}])
    cases = [
        ("/kpis/users/1/kpis/assign", {"target_value": 3}, 400, "invalid_argument"),
        (
            "/kpis/users/1/kpis/assign",
            {"kpi_definition_id": 99, "target_value": 3},
            404,
            "unknown_definition",
        ),
        (
            "/kpis/users/1/kpis/assign",
            {"kpi_definition_id": 1, "target_value": -3},
            400,
            "negative_target",
        ),
        (
            "/kpis/users/1/kpis/assign",
            {"kpi_definition_id": 1, "target_value": 3, "weight": 300},
            400,
            "weight_out_of_range",
        ),
        (
            "/kpis/calculate/1",
            {"period_start": "2025-10-07", "period_end": "2025-10-01"},
            400,
            "invalid_range",
        ),
        (
            "/kpis/calculate/1",
            {"period_start": "yesterday", "period_end": "2025-10-01"},
            400,
            "invalid_date",
        ),
        (
            "/kpis/calculate/42",
            {"period_start": "2025-10-01", "period_end": "2025-10-07"},
            404,
            "unknown_assignment",
        ),
    ]
    for url, body, status, code in cases:
        got_status, got = post(c, url, body, agent=None)
        assert (got_status, got["code"]) == (status, code), (url, body, got)
    # the first assignment; the same KPI again from the same day (the store's rule) or from a
    # later day it overlaps (this app's rule); an agent the store does not know
    for user, start, status, code in [
        (1, "2025-10-01", 201, None),
        (1, "2025-10-01", 409, "duplicate_assignment"),
        (1, "2025-10-15", 409, "overlapping_assignment"),
        (999, "2025-10-15", 404, "unknown_agent"),
    ]:
        assign = {"kpi_definition_id": 1, "target_value": 3, "start_date": start}
        got_status, got = post(c, f"/kpis/users/{user}/kpis/assign", assign, agent=None)
        assert (got_status, got.get("code")) == (status, code), (user, start, got)
    # a week without activity: no measurement rather than a 0 (docs/semantics.md)
    status, body = post(
        c,
        "/kpis/calculate/1",
        {"period_start": "2025-10-01", "period_end": "2025-10-01"},
        agent=None,
    )
    assert status == 200 and body["measurement"] is None and body["reason"] == "no_data"
    assert get(c, "/nope", agent=None)[0] == 404
