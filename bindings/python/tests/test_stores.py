"""The SQLite and PostgreSQL stores from Python, and the support desk's update_kpis / AgentKPI on
them.

The PostgreSQL cases run against the server in ``PG_TEST_URL`` (the README's test command starts
a throwaway one); with ``TEAMKPI_REQUIRE_PG=1`` a missing server fails instead of skipping.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import uuid
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import teamkpi
from teamkpi.types import ExternalPeriod, KpiAssignmentRow, KpiDefinition

UTC = dt.UTC
NOW = dt.datetime(2025, 11, 5, 18, 0, tzinfo=UTC)  # a Wednesday

DEFINITIONS = [
    {  # the KPI tables' first KPI, in its own spelling
        "key": "avg_resolution",
        "name": "Average Resolution Time",
        "unit": "hours",
        "target_type": "lower_better",
        "aggregation_period": "daily",
        "source": {"type": "query", "query_key": "avg_resolution_time"},
    },
    {
        "key": "resolved",
        "name": "Cases resolved",
        "unit": "count",
        "direction": "higher_better",
        "period": "weekly",
        "source": {"type": "metric", "metric": "cases_resolved_count"},
    },
    {
        "key": "csat",
        "name": "Customer satisfaction",
        "unit": "percent",
        "direction": "higher_better",
        "period": "daily",
        "source": {"type": "external"},
    },
    {
        "key": "qa",
        "name": "QA review",
        "unit": "percent",
        "direction": "higher_better",
        "period": "daily",
        "source": {"type": "manual"},
    },
]


def tickets() -> list[dict]:
    day = dt.datetime(2025, 11, 5, 8, 0, tzinfo=UTC)
    return [
        {
            "id": 1,
            "agent_id": 7,
            "created_at": day,
            "first_response_at": day + dt.timedelta(minutes=20),
            "resolved_at": day + dt.timedelta(hours=2),
        },
        {
            "id": 2,
            "agent_id": 7,
            "created_at": day + dt.timedelta(hours=1),
            "resolved_at": day + dt.timedelta(hours=5),
        },
        {"id": 3, "agent_id": 8, "created_at": day, "status": "open"},
    ]


def pg_url() -> str | None:
    url = os.environ.get("PG_TEST_URL")
    if not url and os.environ.get("TEAMKPI_REQUIRE_PG") == "1":
        pytest.fail("TEAMKPI_REQUIRE_PG=1 but PG_TEST_URL is not set")
    return url


@pytest.fixture(params=["sqlite-file", "sqlite-memory", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[teamkpi.Store]:
    if request.param == "sqlite-file":
        yield teamkpi.SqliteStore(tmp_path / "kpi.db")
    elif request.param == "sqlite-memory":
        yield teamkpi.SqliteStore()
    else:
        url = pg_url()
        if not url:
            pytest.skip("PG_TEST_URL not set")
        yield teamkpi.PostgresStore(url)


def tenant() -> str:
    # PostgreSQL keeps rows between tests: each test works in its own company.
    return f"t-{uuid.uuid4().hex[:12]}"


def setup(store: teamkpi.Store, company: str) -> list[KpiAssignmentRow]:
    for d in DEFINITIONS:
        store.upsert_definition({**d, "tenant": company})
    made = []
    for key, target, weight in (
        ("avg_resolution", 3, 40),
        ("resolved", 10, 30),
        ("csat", 90, 20),
        ("qa", 80, 10),
    ):
        made.append(
            store.insert_assignment(
                {
                    "tenant": company,
                    "user_id": 7,
                    "definition": key,
                    "target_value": target,
                    "weight": weight,
                    "start_date": dt.date(2025, 11, 1),
                }
            )
        )
    store.put_tickets([{**t, "tenant": company} for t in tickets()])
    return made


def test_definitions_and_assignments(store: teamkpi.Store) -> None:
    company = tenant()
    made = setup(store, company)
    assert [d["key"] for d in store.definitions(tenant=company)] == [
        "avg_resolution",
        "csat",
        "qa",
        "resolved",
    ]
    d = store.definition("avg_resolution", tenant=company)
    assert d is not None and d["direction"] == "lower_better" and d["unit"] == "hours"
    assert store.definition("nope", tenant=company) is None
    ids = {d["key"]: d["id"] for d in store.definitions(tenant=company)}
    assert sorted(ids.values()) == sorted(set(ids.values()))
    by_id = store.definition(ids["csat"], tenant=company)
    assert by_id is not None and by_id["key"] == "csat" and by_id["id"] == ids["csat"]
    # the KPI tables' front end assigns by row id
    seed = store.insert_assignment(
        {"tenant": company, "user_id": 9, "kpi_definition_id": ids["qa"], "target_value": 3}
        | {"weight": 100, "start_date": "2025-11-01"}
    )
    assert seed["definition"] == "qa" and seed["agent_id"] == 9
    with pytest.raises(teamkpi.NotFoundError):
        store.insert_assignment(
            {
                "tenant": company,
                "user_id": 9,
                "kpi_definition_id": 10**9,
                "target_value": 3,
                "weight": 100,
                "start_date": "2025-11-01",
            }
        )
    a = store.assignment(made[0]["id"], tenant=company)
    assert a is not None and a["target"] == Decimal(3) and a["valid_from"] == dt.date(2025, 11, 1)
    assert len(store.assignments(tenant=company, agent_id=7)) == 4
    # a second active assignment of the same KPI; a definition that does not exist
    for key, error, code in (
        ("qa", teamkpi.ConflictError, "duplicate_assignment"),
        ("nope", teamkpi.NotFoundError, "unknown_definition"),
    ):
        row = {"tenant": company, "agent_id": 7, "definition": key, "target": 1, "weight": 1}
        with pytest.raises(error) as e:
            store.insert_assignment({**row, "valid_from": "2025-11-01"})
        assert e.value.code == code
    with pytest.raises(teamkpi.NotFoundError) as e3:
        store.update_assignment({**made[0], "id": 999_999})
    assert e3.value.code == "unknown_assignment"


def test_update_kpis_from_store_activity(store: teamkpi.Store) -> None:
    company = tenant()
    made = setup(store, company)
    ids = {a["definition"]: a["id"] for a in made}
    store.record_manual_value(
        {
            "assignment_id": ids["qa"],
            "period_start": dt.date(2025, 11, 5),
            "period_end": dt.date(2025, 11, 5),
            "value": Decimal("72"),
            "recorded_at": NOW,
        },
        tenant=company,
    )
    asked = []

    def csat(
        definition: KpiDefinition, assignment: KpiAssignmentRow, period: ExternalPeriod
    ) -> Decimal | None:
        # The provider's arguments have the shapes the stubs give them.
        _keys_match(KpiDefinition, definition)
        _keys_match(KpiAssignmentRow, assignment)
        _keys_match(ExternalPeriod, period)
        asked.append((definition["key"], assignment["agent_id"], period["start"]))
        return Decimal("95")

    report = teamkpi.update_kpis(store, now=NOW, tenant=company, timezone="UTC", external=csat)
    assert (report["successes"], report["skipped"], report["failures"]) == (4, 0, 0)
    assert asked == [("csat", 7, dt.date(2025, 11, 5))]
    m = store.latest_measurement(ids["avg_resolution"], tenant=company)
    assert m is not None
    # (2 h + 4 h) / 2 = 3 h against a 3 h target, lower better
    assert m["actual"] == Decimal(3) and m["achievement"] == Decimal(100)
    weekly = store.latest_measurement(ids["resolved"], tenant=company)
    assert weekly is not None and weekly["period_start"] == dt.date(2025, 11, 3)
    assert weekly["complete"] is False and weekly["achievement"] == Decimal(20)
    row = teamkpi.agent_kpi(store, 7, dt.date(2025, 11, 5), tenant=company, timezone="UTC")
    assert row["total_tickets"] == 2
    # 100*0.4 + 20*0.3 + 105.56*0.2 + 90*0.1
    assert row["overall_kpi_score"] == Decimal("76.11")


def test_measure_range_stores_an_ad_hoc_measurement(store: teamkpi.Store) -> None:
    company = tenant()
    ids = {a["definition"]: a["id"] for a in setup(store, company)}
    start, end = dt.date(2025, 11, 4), dt.date(2025, 11, 5)
    # The weekly average resolution over exactly two days: (2 h + 4 h) / 2 = 3 h against 3 h.
    done = teamkpi.measure_range(
        store, ids["avg_resolution"], start, end, now=NOW, tenant=company, timezone="UTC"
    )
    m = done["measurement"]
    assert m is not None and done["reason"] is None and done["measurement_id"]
    assert (m["period_start"], m["period_end"], m["ad_hoc"]) == (start, end, True)
    assert (m["actual"], m["achievement"]) == (Decimal(3), Decimal(100))
    assert m["complete"] is False  # the range ends on NOW's day
    # Never the latest; the store lists it beside the natural ones.
    assert store.latest_measurement(ids["avg_resolution"], tenant=company) is None
    listed = store.measurements(ids["avg_resolution"], tenant=company)
    assert [x["ad_hoc"] for x in listed] == [True]
    # A range without activity stores nothing; an unknown assignment is NotFoundError.
    quiet = teamkpi.measure_range(
        store,
        ids["avg_resolution"],
        dt.date(2025, 11, 1),
        dt.date(2025, 11, 2),
        now=NOW,
        tenant=company,
    )
    assert (quiet["measurement"], quiet["reason"]) == (None, "no activity in the period")
    with pytest.raises(teamkpi.NotFoundError) as e:
        teamkpi.measure_range(store, 999_999, start, end, now=NOW, tenant=company)
    assert e.value.code == "unknown_assignment"
    with pytest.raises(teamkpi.InvalidInputError) as bad:
        teamkpi.measure_range(store, ids["avg_resolution"], end, start, now=NOW, tenant=company)
    assert bad.value.code == "invalid_range"
    # From supplied snapshots: the same figures.
    again = teamkpi.measure_range(
        store,
        ids["avg_resolution"],
        start,
        end,
        now=NOW,
        tenant=company,
        tickets=[{**t, "tenant": company} for t in tickets()],
    )
    assert again["measurement_id"] == done["measurement_id"]
    assert again["measurement"] == m


def test_call_center_metrics_as_kpis(store: teamkpi.Store) -> None:
    company = tenant()
    store.put_agents([{"tenant": company, "id": 3, "status": "online"}])
    store.upsert_definition(
        {
            "tenant": company,
            "key": "connected",
            "name": "Connected calls",
            "unit": "count",
            "target_type": "higher_better",
            "aggregation_period": "daily",
            "source": {"type": "metric", "metric": "calls_connected"},
        }
    )
    made = store.insert_assignment(
        {
            "tenant": company,
            "agent_id": 3,
            "definition": "connected",
            "target": Decimal(4),
            "weight": Decimal(1),
            "valid_from": dt.date(2025, 11, 1),
        }
    )
    start = dt.datetime(2025, 11, 5, 9, tzinfo=UTC)
    store.put_calls(
        [
            {
                "tenant": company,
                "id": i,
                "agent_id": 3,
                "started_at": start + dt.timedelta(minutes=i),
                "duration_seconds": 60 * i,
                "outcome": "completed" if i else "no_answer",
            }
            for i in range(4)
        ]
    )
    report = teamkpi.update_kpis(
        store, now=NOW, date=dt.date(2025, 11, 5), tenant=company, timezone="UTC"
    )
    assert (report["successes"], report["failures"]) == (1, 0), report
    m = store.latest_measurement(made["id"], tenant=company)
    assert m is not None and m["actual"] == Decimal(3) and m["achievement"] == Decimal(75)
    # The same from calls the caller supplies, on a store that holds none.
    calls = store.calls(start - dt.timedelta(days=1), start + dt.timedelta(days=1), tenant=company)
    other = teamkpi.SqliteStore()
    other.upsert_definition(store.definition("connected", tenant=company) or {})
    again = other.insert_assignment({k: v for k, v in made.items() if k != "id"})
    report = teamkpi.update_kpis(
        other, now=NOW, date=dt.date(2025, 11, 5), tenant=company, timezone="UTC", calls=calls
    )
    assert (report["successes"], report["failures"]) == (1, 0), report
    copied = other.latest_measurement(again["id"], tenant=company)
    assert copied is not None and copied["actual"] == Decimal(3)
    with pytest.raises(teamkpi.InvalidInputError):
        engine = teamkpi.Engine("UTC", tenant=company)
        teamkpi.update_kpis(other, now=NOW, tenant=company, engine=engine, calls=calls)


def test_update_kpis_options(store: teamkpi.Store) -> None:
    company = tenant()
    setup(store, company)

    # one agent, several days, external provider failing: that KPI fails, the rest go on
    def broken(*_: object) -> Decimal:
        raise RuntimeError("CRM down")

    report = teamkpi.update_kpis(
        store, now=NOW, tenant=company, days=3, agent_id=7, external=broken
    )
    failed = [o for o in report["outcomes"] if o["outcome"] == "failed"]
    assert failed and all(o["definition"] == "csat" for o in failed)
    assert report["successes"] >= 2
    # a day with no activity: skipped, not 0
    quiet = teamkpi.update_kpis(store, now=NOW, tenant=company, date=dt.date(2025, 11, 2))
    assert quiet["successes"] == 0
    with pytest.raises(teamkpi.InvalidInputError):
        teamkpi.update_kpis(store, now=NOW, tenant=company, date=dt.date(2025, 11, 2), days=2)
    # an agent the store knows nothing of (no agent record, no assignment)
    with pytest.raises(teamkpi.TeamKpiError) as unknown:
        teamkpi.update_kpis(store, now=NOW, tenant=company, agent_id=999)
    assert unknown.value.code == "unknown_agent"
    with pytest.raises(teamkpi.InvalidInputError):
        teamkpi.ticket_metrics(
            [], period="week", windows={"start": "2025-11-03", "days": 7, "count": 2}
        )


def test_update_kpis_from_engine_and_snapshots() -> None:
    store = teamkpi.SqliteStore()
    setup(store, "acme")
    engine = teamkpi.Engine("UTC", tenant="acme")
    for t in tickets():
        engine.apply(
            {
                "id": f"{t['id']}-c",
                "at": t["created_at"],
                "type": "ticket_created",
                "ticket_id": t["id"],
                "agent_id": t["agent_id"],
                "tenant": "acme",
            }
        )
        if t.get("resolved_at"):
            engine.apply(
                {
                    "id": f"{t['id']}-r",
                    "at": t["resolved_at"],
                    "type": "resolved",
                    "ticket_id": t["id"],
                    "tenant": "acme",
                }
            )
    via_engine = teamkpi.update_kpis(store, now=NOW, tenant="acme", engine=engine)
    snapshots = [{**t, "tenant": "acme"} for t in tickets()]
    via_snapshots = teamkpi.update_kpis(store, now=NOW, tenant="acme", tickets=snapshots)
    assert via_engine["successes"] == via_snapshots["successes"] >= 2


def test_activity_round_trip(store: teamkpi.Store) -> None:
    company = tenant()
    store.put_calls(
        [
            {
                "tenant": company,
                "id": 1,
                "agent_id": 5,
                "started_at": NOW,
                "duration_seconds": 300,
                "outcome": "no-answer",
            }
        ]
    )
    store.put_sessions(
        [
            {
                "tenant": company,
                "id": 1,
                "agent_id": 5,
                "kind": "working",
                "start": NOW - dt.timedelta(hours=2),
            }
        ]
    )
    store.put_campaigns([{"tenant": company, "id": 1, "name": "Autumn", "active": True}])
    store.put_agents([{"tenant": company, "id": 5, "status": "online", "name": "Ola"}])
    calls = store.calls(NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=1), tenant=company)
    assert calls[0]["outcome"] == "no_answer" and calls[0]["started_at"] == NOW
    assert store.sessions(NOW - dt.timedelta(days=1), NOW, tenant=company)[0]["agent_id"] == 5
    assert [a["name"] for a in store.agents(tenant=company)] == ["Ola"]
    settings = store.settings(tenant=company)
    assert settings["timezone"] == "UTC"
    stats = teamkpi.call_center_dashboard(
        5,
        dt.date(2025, 11, 5),
        calls=calls,
        sessions=store.sessions(NOW - dt.timedelta(days=1), NOW, tenant=company),
        campaigns=store.campaigns(tenant=company),
        now=NOW,
        tenant=company,
    )
    assert stats["calls_total_today"] == 1 and stats["active_campaigns"] == 1
    # The earlier name still works, with a DeprecationWarning.
    with pytest.warns(DeprecationWarning, match="call_center_dashboard"):
        old = teamkpi.call_center_dashboard_stats(
            5, dt.date(2025, 11, 5), calls=calls, now=NOW, tenant=company
        )
    assert old["calls_total_today"] == 1


def test_settings_written_and_checked_against_live_state(store: teamkpi.Store) -> None:
    company = f"c-{uuid.uuid4().hex[:8]}"
    sla = {"name": "desk", "targets": {"normal": {"first_response": 3600, "resolution": 86400}}}
    store.put_settings(timezone="Europe/Warsaw", sla=sla, tenant=company)
    store.put_settings(
        assignment={"auto_assign_enabled": False, "re_assign_enabled": True, "re_assign_hours": 6},
        tenant=company,
    )
    got = store.settings(tenant=company)
    assert got["timezone"] == "Europe/Warsaw" and got["assignment"]["re_assign_hours"] == 6
    assert got["sla"] is not None and got["sla"]["name"] == "desk"
    with pytest.raises(teamkpi.TeamKpiError) as bad:
        store.put_settings(timezone="Mars/Base", tenant=company)
    assert bad.value.code == "unknown_timezone"
    # Live state built with these settings: the zone and the SLA policy are fixed until reset.
    live = teamkpi.LiveMetrics(store, timezone="Europe/Warsaw", sla=sla, tenant=company)
    live.apply(
        {
            "id": "t1",
            "type": "ticket_created",
            "ticket_id": 1,
            "at": NOW,
            "agent_id": 5,
            "tenant": company,
        }
    )
    with pytest.raises(teamkpi.TeamKpiError) as held:
        store.put_settings(timezone="UTC", tenant=company)
    assert held.value.code == "incompatible_state"
    with pytest.raises(teamkpi.TeamKpiError):
        store.put_settings(clear_sla=True, tenant=company)
    store.put_settings(
        assignment={"auto_assign_enabled": True, "re_assign_enabled": False, "re_assign_hours": 24},
        tenant=company,
    )
    with pytest.raises(teamkpi.TeamKpiError) as cal:
        store.put_settings(
            calendar=teamkpi.BusinessCalendar("Europe/Warsaw", {"mon": [["09:00", "17:00"]]}),
            tenant=company,
        )
    assert cal.value.code == "incompatible_state"
    live.reset()
    store.put_settings(timezone="UTC", clear_sla=True, tenant=company)
    assert store.settings(tenant=company)["sla"] is None
    store.put_settings(
        calendar=teamkpi.BusinessCalendar("Europe/Warsaw", {"mon": [["09:00", "17:00"]]}),
        tenant=company,
    )
    got = store.settings(tenant=company)
    assert got["calendar"] is not None and got["calendar"]["timezone"] == "Europe/Warsaw"
    store.put_settings(clear_calendar=True, tenant=company)
    assert store.settings(tenant=company)["calendar"] is None


def test_threads_share_one_store(tmp_path: Path) -> None:
    store = teamkpi.SqliteStore(tmp_path / "shared.db")
    store.upsert_definition(DEFINITIONS[1])

    def work(agent: int) -> None:
        store.insert_assignment(
            {
                "agent_id": agent,
                "definition": "resolved",
                "target": 5,
                "weight": 100,
                "valid_from": "2025-11-01",
            }
        )

    threads = [threading.Thread(target=work, args=(a,)) for a in range(1, 21)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(a["agent_id"] for a in store.assignments()) == list(range(1, 21))


def test_open_errors(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(teamkpi.StorageError) as e:
        teamkpi.SqliteStore(bad)
    assert e.value.code == "storage"
    with pytest.raises(teamkpi.StorageError):
        teamkpi.PostgresStore("postgres://nobody@127.0.0.1:1/none")
    with pytest.raises(teamkpi.InvalidInputError):
        teamkpi.PostgresStore("kpi.db")


def _keys_match(shape: Any, value: Mapping[str, Any]) -> None:
    """`value` has every required key of the TypedDict `shape` and no key it does not declare."""
    required, optional = shape.__required_keys__, shape.__optional_keys__
    assert required <= value.keys() <= required | optional, (shape.__name__, value.keys())


def test_result_shapes_in_the_stubs_are_what_the_store_returns(store: teamkpi.Store) -> None:
    from teamkpi import _types

    company = tenant()
    made = setup(store, company)
    report = teamkpi.update_kpis(store, now=NOW, tenant=company, timezone="UTC")
    _keys_match(_types.UpdateReport, report)
    for outcome in report["outcomes"]:
        _keys_match(_types.KpiOutcome, outcome)
    for d in store.definitions(tenant=company):
        _keys_match(_types.KpiDefinitionRow, d)
    for a in made + store.assignments(tenant=company):
        _keys_match(_types.KpiAssignmentRow, a)
    ranged = teamkpi.measure_range(
        store, made[0]["id"], dt.date(2025, 11, 4), dt.date(2025, 11, 5), now=NOW, tenant=company
    )
    _keys_match(_types.RangeMeasurement, ranged)
    measured = [m for a in made for m in store.measurements(a["id"], tenant=company)]
    assert any(m["ad_hoc"] for m in measured)
    for m in measured:
        _keys_match(_types.MeasurementRow, m)
    day = dt.timedelta(days=30)
    for t in store.tickets(NOW - day, NOW + day, tenant=company):
        _keys_match(_types.TicketRecord, t)
    _keys_match(_types.StoreSettings, store.settings(tenant=company))
    _keys_match(_types.PeriodBounds, teamkpi.period_bounds("week", dt.date(2025, 11, 5)))
    for info in teamkpi.metric_catalog():
        _keys_match(_types.MetricInfo, info)
    issues = teamkpi.validate_weights([{**made[0], "weight": 50}], dt.date(2025, 11, 5))
    assert issues
    for issue in issues:
        _keys_match(_types.WeightIssue, issue)
    _keys_match(_types.KpiDefinition, teamkpi.validate_definition(DEFINITIONS[0]))
    for timeline in teamkpi.timelines_from_tickets(tickets()):
        _keys_match(_types.TicketTimeline, timeline)


POLICY_HIGH = {"name": "p", "targets": {"high": {"first_response": 3600}}}


def test_activity_assignment_and_sla_shapes_in_the_stubs() -> None:
    from teamkpi import _types

    s = teamkpi.SqliteStore()
    day = dt.timedelta(days=1)
    s.put_calls(
        [{"id": 1, "agent_id": 5, "started_at": NOW, "duration": 60, "status": "completed"}]
    )
    s.put_sessions([{"agent_id": 5, "start": NOW - day, "end": NOW, "kind": "work"}])
    s.put_contacts([{"id": 1, "agent_id": 5}])
    s.put_campaigns([{"id": 1, "name": "autumn", "active": True}])
    s.put_agents([{"id": 5, "name": "Ola", "status": "online"}])
    calls = s.calls(NOW - day, NOW + day)
    checks: list[tuple[Any, list[Mapping[str, Any]]]] = [
        (_types.CallRecord, [*calls]),
        (_types.SessionRecord, [*s.sessions(NOW - day, NOW)]),
        (_types.ContactRecord, [*s.contacts()]),
        (_types.CampaignRecord, [*s.campaigns()]),
        (_types.AgentRow, [*s.agents()]),
    ]
    assigner = teamkpi.Assigner([{"id": 1, "status": "online"}, {"id": 2, "status": "online"}])
    item = {"id": 10, "created_at": NOW}
    checks.append((_types.AssignmentEvent, [assigner.assign(item, NOW)]))
    batch = assigner.drain([{"id": 11, "created_at": NOW}], NOW)
    checks += [
        (_types.AssignmentBatch, [batch]),
        (_types.AssignmentEvent, [*batch["events"]]),
        (_types.AgentState, [*assigner.agents()]),
    ]
    live = teamkpi.LiveMetrics(s, timezone="UTC", sla=POLICY_HIGH)
    live.apply(
        [
            {
                "id": "c",
                "at": NOW - day,
                "type": "ticket_created",
                "ticket_id": 1,
                "agent_id": 5,
                "priority": "high",
            }
        ]
    )
    policy = teamkpi.SlaPolicy(POLICY_HIGH)
    ticket = {"ticket_id": 1, "priority": "high", "created_at": NOW - day, "events": []}
    evaluation = policy.evaluate(ticket, NOW)
    scan = policy.scan([ticket], NOW)
    breaches = teamkpi.sla_breaches(policy, [ticket], now=NOW)
    rows = teamkpi.sla_analytics(policy, [ticket], now=NOW, start=NOW - 2 * day, end=NOW)
    by_agent = live.sla_analytics(NOW - 2 * day, NOW, now=NOW, group_by="agent")
    checks += [
        (_types.BreachScan, [scan]),
        (_types.SlaAlert, [*scan["breaches"], *scan["at_risk"]]),
        (_types.SlaBreachList, [breaches, live.sla_breaches(now=NOW)]),
        (_types.SlaAlertJson, [*breaches["breaches"]]),
        (_types.SlaAnalyticsRow, [*rows, *by_agent]),
    ]
    day0 = NOW.date()
    checks += [
        (_types.SlaEvaluation, [evaluation]),
        (_types.TargetEvaluation, [*evaluation["targets"]]),
        (
            _types.DashboardStats,
            [teamkpi.call_center_dashboard(5, NOW.date(), calls=calls, now=NOW)],
        ),
    ]
    engine = teamkpi.Engine("UTC")
    engine.apply({"id": "c", "at": NOW, "type": "ticket_created", "ticket_id": 1, "agent_id": 5})
    checks += [
        (_types.TicketMetricsRow, [*live.rows(day0, day0), *engine.rows()]),
        (_types.TicketRecord, [*live.open_tickets(), *engine.snapshots()]),
        (_types.DashboardStats, [live.dashboard(5, day0, now=NOW)]),
    ]
    for shape, values in checks:
        assert values, shape.__name__
        for v in values:
            _keys_match(shape, v)


def test_analytics_shapes_in_the_stubs() -> None:
    from teamkpi import _types

    data = [{**t, "priority": "high"} for t in tickets()]
    shapes: list[tuple[str, Any, str, Any]] = [
        ("performance", _types.PerformanceAnalytics, "", None),
        ("trends", _types.WeeklyTrends, "trends", _types.WeekTrend),
        ("comparison", _types.AgentComparison, "agents", _types.AgentRanking),
        ("workload", _types.WorkloadDistribution, "agents", _types.AgentWorkload),
        ("performance_metrics", _types.PerformanceMetrics, "", None),
        ("performance_trends", _types.PerformanceTrends, "trends", _types.DayTrend),
    ]
    for result, shape, inner, item in shapes:
        agent = 7 if result == "performance_metrics" else None
        out = teamkpi.analytics(result, data, now=NOW, agent_id=agent)
        _keys_match(shape, out)
        for entry in out.get(inner, []) if inner else []:  # type: ignore[attr-defined]
            _keys_match(item, entry)
