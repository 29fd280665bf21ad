"""The Python surface: types in and out, errors and their codes, JSON helpers."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import teamkpi

UTC = dt.UTC
T0 = dt.datetime(2025, 11, 3, 8, 0, tzinfo=UTC)  # a Monday


def test_achievement_is_exact_and_float_goes_through_repr() -> None:
    assert teamkpi.achievement(Decimal("2"), Decimal("3"), "lower_better") == Decimal(150)
    assert teamkpi.achievement(2, 3, "lower_better", cap=120) == Decimal(120)
    # 0.1 + 0.2 is not 0.3 in binary; its shortest repr is what a user typed
    assert teamkpi.achievement(0.1, 0.2, "higher_better") == Decimal(50)
    third = teamkpi.achievement(1, 3, "higher_better")
    assert isinstance(third, Decimal) and str(third).startswith("33.33333333")


def test_performance_score_rates_are_fractions() -> None:
    assert teamkpi.performance_score(0.9, 2, 0.95) == Decimal(92)
    assert teamkpi.performance_score(None, None, None) is None
    with pytest.raises(teamkpi.InvalidInputError) as e:
        teamkpi.performance_score(90, 2, 0.95)
    assert e.value.code == "rate_out_of_range"


def test_nan_and_infinity_are_invalid_numbers() -> None:
    for bad in (float("nan"), float("inf"), Decimal("NaN")):
        with pytest.raises(teamkpi.InvalidInputError) as e:
            teamkpi.achievement(bad, 1, "higher_better")
        assert e.value.code == "invalid_number"


def test_calendar_contract_names() -> None:
    cal = teamkpi.BusinessCalendar(
        "Europe/Warsaw",
        {d: [("09:00", "13:00"), ("14:00", "18:00")] for d in ("mon", "tue", "wed", "thu", "fri")},
        [dt.date(2025, 12, 25)],
        overrides={dt.date(2025, 12, 24): [("09:00", "12:00")]},
        deadline_at_close="next_open",
    )
    assert cal.timezone == "Europe/Warsaw"
    assert cal.is_open(T0)  # 09:00 in Warsaw
    due = cal.add_business_seconds(T0, 4 * 3600 + 1800)
    assert due == dt.datetime(2025, 11, 3, 13, 30, tzinfo=UTC)  # lunch skipped
    assert due.tzinfo is not None
    assert cal.business_seconds_between(T0, due) == 4 * 3600 + 1800
    # Saturday → Monday 09:00 local
    assert cal.next_open(dt.datetime(2025, 11, 8, 12, 0, tzinfo=UTC)) == dt.datetime(
        2025, 11, 10, 8, 0, tzinfo=UTC
    )
    again = teamkpi.BusinessCalendar.from_dict(cal.to_dict())
    assert again.add_business_seconds(T0, 7200) == cal.add_business_seconds(T0, 7200)


def test_always_open_and_other_zones() -> None:
    cal = teamkpi.BusinessCalendar.always_open()
    assert cal.timezone == "UTC"
    assert cal.add_business_seconds(T0, 90) == T0 + dt.timedelta(seconds=90)
    ny = teamkpi.BusinessCalendar.always_open(zoneinfo.ZoneInfo("America/New_York"))
    assert ny.timezone == "America/New_York"
    # any aware datetime works; the result is UTC
    local = dt.datetime(2025, 11, 3, 3, 0, tzinfo=zoneinfo.ZoneInfo("America/New_York"))
    assert ny.add_business_seconds(local, 0) == local
    # microseconds are truncated to whole seconds (docs/semantics.md)
    assert cal.add_business_seconds(T0.replace(microsecond=999_999), 0) == T0


class _Subclassed(dt.datetime):
    """A datetime subclass: never read from the object's memory, always through attributes."""


def _utc_datetimes(first: int, last: int) -> st.SearchStrategy[dt.datetime]:
    """Aware UTC datetimes from 2 January `first` to 30 December `last`."""
    low, high = dt.datetime(first, 1, 2), dt.datetime(last, 12, 30)
    return st.datetimes(min_value=low, max_value=high, timezones=st.just(dt.UTC))


# The calendar's supported years.
@settings(max_examples=300, deadline=None)
@given(_utc_datetimes(1000, 8999), st.integers(min_value=-14 * 60, max_value=14 * 60))
# A float `timestamp()` rounds this one up to the next second.
@example(dt.datetime(4148, 1, 1, 0, 0, 0, 999_993, tzinfo=dt.UTC), -180)
def test_utc_datetimes_read_from_the_object_equal_the_attribute_path(
    value: dt.datetime, offset_minutes: int
) -> None:
    # The fast read is on in every CPython the wheel supports; the comparison covers both paths.
    assert teamkpi._teamkpi._datetime_fast_path()
    cal = teamkpi.BusinessCalendar.always_open()
    fast = cal.add_business_seconds(value, 0)
    slow = cal.add_business_seconds(_Subclassed.fromisoformat(value.isoformat()), 0)
    zone = dt.timezone(dt.timedelta(minutes=offset_minutes))
    by_offset = cal.add_business_seconds(value.astimezone(zone), 0)
    assert fast == slow == by_offset == value.replace(microsecond=0)
    # The same instant in the UTC of zoneinfo, and a naive value (an error), skip the fast read.
    assert cal.add_business_seconds(value.replace(tzinfo=zoneinfo.ZoneInfo("UTC")), 0) == fast
    with pytest.raises(teamkpi.InvalidInputError):
        cal.add_business_seconds(value.replace(tzinfo=None), 0)


_ZONES = [
    zoneinfo.ZoneInfo("Europe/Warsaw"),
    zoneinfo.ZoneInfo("America/New_York"),
    zoneinfo.ZoneInfo("Australia/Lord_Howe"),  # a 30-minute DST shift
    zoneinfo.ZoneInfo("Etc/UTC"),  # psycopg 3's timestamptz
    dt.timezone(dt.timedelta(hours=-3, minutes=-30)),
    dt.timezone(dt.timedelta(hours=5, minutes=45)),
]


@settings(max_examples=300, deadline=None)
@given(_utc_datetimes(1900, 2100), st.sampled_from(_ZONES))
def test_datetimes_in_any_zone_read_from_the_object_equal_python(
    value: dt.datetime, zone: dt.tzinfo
) -> None:
    # Offsets are remembered per zone and local minute; each value still gives Python's instant.
    cal = teamkpi.BusinessCalendar.always_open()
    local = value.astimezone(zone)
    slow = _Subclassed.fromisoformat(local.isoformat())
    want = value.replace(microsecond=0)
    assert cal.add_business_seconds(local, 0) == want
    assert cal.add_business_seconds(slow, 0) == want


def test_ambiguous_and_missing_local_times_follow_fold() -> None:
    cal = teamkpi.BusinessCalendar.always_open()
    warsaw = zoneinfo.ZoneInfo("Europe/Warsaw")
    for fields in [(2025, 10, 26, 2, 30), (2025, 3, 30, 2, 30)]:  # repeated, then skipped hour
        for fold in (0, 1):
            fast = dt.datetime(*fields, tzinfo=warsaw, fold=fold)
            slow = _Subclassed(*fields, tzinfo=warsaw, fold=fold)
            want = fast.astimezone(dt.UTC)
            assert cal.add_business_seconds(fast, 0) == want == cal.add_business_seconds(slow, 0)
    first = dt.datetime(2025, 10, 26, 2, 30, tzinfo=warsaw, fold=0)
    second = first.replace(fold=1)
    assert cal.add_business_seconds(second, 0) - cal.add_business_seconds(first, 0) == (
        dt.timedelta(hours=1)
    )


def test_calendar_errors_have_codes() -> None:
    cases = [
        (("Mars/Olympus", {"mon": [("09:00", "17:00")]}), "unknown_timezone"),
        (("UTC", {}), "calendar_never_open"),
        (("UTC", {"mon": [("09:00", "09:00")]}), "empty_interval"),
        (("UTC", {"mon": [("25:00", "26:00")]}), "invalid_time"),
        (("UTC", {"mon": [("09:00", "12:00"), ("11:00", "13:00")]}), "overlapping_intervals"),
        (("UTC", {"mon": [("09:00", "17:00")]}, ["2025-02-30"]), "invalid_date"),
    ]
    for args, code in cases:
        with pytest.raises(teamkpi.InvalidInputError) as e:
            teamkpi.BusinessCalendar(*args)  # type: ignore[arg-type]
        assert e.value.code == code, args
        assert isinstance(e.value, ValueError)


def test_naive_datetime_raises_everywhere() -> None:
    naive = dt.datetime(2025, 11, 3, 8, 0)
    cal = teamkpi.BusinessCalendar.always_open()
    calls = [
        lambda: cal.is_open(naive),
        lambda: teamkpi.ticket_metrics([{"id": 1, "agent_id": 1, "created_at": naive}]),
        lambda: teamkpi.ticket_metrics(
            [{"id": 1, "agent_id": 1, "created_at": T0, "team": "a", "resolved_at": naive}]
        ),
        lambda: teamkpi.Engine().apply(
            {"id": "e", "at": naive, "type": "ticket_created", "ticket_id": 1}
        ),
    ]
    for call in calls:
        with pytest.raises(teamkpi.InvalidInputError) as e:
            call()
        assert e.value.code == "naive_datetime"


def test_wrong_python_types_are_type_errors() -> None:
    with pytest.raises(TypeError):
        teamkpi.BusinessCalendar.always_open().is_open("2025-11-03T08:00:00Z")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        teamkpi.achievement(True, 1, "higher_better")


def test_every_error_code_maps_to_an_exception_class() -> None:
    assert len(teamkpi.ERROR_CODES) == len(set(teamkpi.ERROR_CODES))
    for code in teamkpi.ERROR_CODES:
        cls = teamkpi.exception_class(code)
        assert issubclass(cls, teamkpi.TeamKpiError)
    assert issubclass(teamkpi.exception_class("invalid_number"), ValueError)
    assert issubclass(teamkpi.exception_class("unknown_definition"), LookupError)
    assert teamkpi.exception_class("storage") is teamkpi.StorageError
    assert teamkpi.exception_class("no_eligible_agent") is teamkpi.NoEligibleAgentError
    assert teamkpi.exception_class("late_event") is teamkpi.ConflictError


def test_formula_errors_carry_positions() -> None:
    with pytest.raises(teamkpi.FormulaError) as e:
        teamkpi.evaluate_formula("tickets_resolved / (tickets_assigned", {})
    assert e.value.code == "formula_syntax" and e.value.position is not None
    assert teamkpi.check_formula("tickets_resolved / tickets_assigned * 100") == [
        "tickets_assigned",
        "tickets_resolved",
    ]
    value = teamkpi.evaluate_formula(
        "tickets_resolved / tickets_assigned * 100",
        {"tickets_resolved": 3, "tickets_assigned": 4},
    )
    assert value == Decimal(75)


def test_ticket_metrics_native_types_and_rejections() -> None:
    rows = teamkpi.ticket_metrics(
        [
            {
                "id": 1,
                "agent_id": 7,
                "priority": "high",
                "created_at": T0,
                "first_response_at": T0 + dt.timedelta(minutes=30),
                "resolved_at": T0 + dt.timedelta(hours=4),
            },
            (2, 7, "normal", T0, None, None),
            {"id": 3, "agent_id": 7, "created_at": T0, "resolved_at": T0 - dt.timedelta(hours=1)},
        ],
        timezone="Europe/Warsaw",
    )
    assert isinstance(rows, teamkpi.MetricRows) and isinstance(rows, list)
    (row,) = rows
    assert row["agent_id"] == 7
    assert row["period_start"] == dt.date(2025, 11, 3)
    assert row["tickets_assigned"] == 2 and row["tickets_resolved"] == 1
    assert row["avg_first_response_seconds"] == Decimal(1800)
    assert row["avg_resolution_seconds"] == Decimal(4 * 3600)
    assert row["resolution_rate_percent"] == Decimal(50)
    assert [(r["id"], r["code"]) for r in rows.rejected] == [(3, "invalid_range")]
    # the dict is JSON-ready with json_default
    text = json.dumps(rows, default=teamkpi.json_default)
    assert '"period_start": "2025-11-03"' in text and '"avg_first_response_seconds": 1800' in text


def test_ticket_metrics_rich_records_and_options() -> None:
    tickets = [
        {
            "id": 1,
            "agent_id": 1,
            "team": "alpha",
            "created_at": T0,
            "transfers": [{"at": T0 + dt.timedelta(hours=1), "from": 1, "to": 2}],
            "resolved_at": T0 + dt.timedelta(hours=2),
        },
        {"id": 2, "agent_id": 2, "team": "alpha", "created_at": T0 + dt.timedelta(days=1)},
    ]
    by_agent = {r["agent_id"]: r for r in teamkpi.ticket_metrics(tickets, period="week")}
    assert by_agent[1]["transfers_out"] == 1 and by_agent[2]["transfers_in"] == 1
    assert by_agent[2]["tickets_resolved"] == 1
    (team,) = teamkpi.ticket_metrics(tickets, group_by="team", period="month")
    assert team["team"] == "alpha" and team["period_start"] == dt.date(2025, 11, 1)
    with pytest.raises(teamkpi.InvalidInputError) as e:
        teamkpi.ticket_metrics(tickets, period="fortnight")
    assert e.value.code == "invalid_choice"


def test_json_default() -> None:
    value = {
        "d": Decimal("12.50"),
        "i": Decimal("3"),
        "day": dt.date(2025, 11, 3),
        "at": dt.datetime(2025, 11, 3, 9, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Warsaw")),
    }
    assert json.loads(json.dumps(value, default=teamkpi.json_default)) == {
        "d": 12.5,
        "i": 3,
        "day": "2025-11-03",
        "at": "2025-11-03T08:00:00Z",
    }
    with pytest.raises(TypeError):
        json.dumps({"x": object()}, default=teamkpi.json_default)


def test_periods_and_date_ranges() -> None:
    week = teamkpi.period_bounds("weekly", dt.date(2025, 11, 5), "Europe/Warsaw")
    assert week["start"] == dt.date(2025, 11, 3) and week["end"] == dt.date(2025, 11, 9)
    assert week["utc_start"] == dt.datetime(2025, 11, 2, 23, 0, tzinfo=UTC)
    r = teamkpi.date_range("last_n_days", T0, "UTC", days=7)
    assert (r["start"], r["end"]) == (dt.date(2025, 10, 28), dt.date(2025, 11, 3))
    assert len(teamkpi.periods("monthly", dt.date(2025, 10, 15), dt.date(2025, 12, 1))) == 3


def test_units_bands_sources() -> None:
    assert teamkpi.convert_unit(5400, "seconds", "hours") == Decimal("1.5")
    assert teamkpi.score_band(92) == "excellent"
    assert teamkpi.kpi_source("query", {"query_key": "avg_resolution_time"}) == {
        "type": "metric",
        "metric": "avg_resolution_time",
    }
    keys = {m["key"] for m in teamkpi.metric_catalog()}
    assert {"tickets_resolved", "avg_resolution_time"} <= keys


def test_no_eligible_agent_carries_reason() -> None:
    assigner = teamkpi.Assigner([{"id": 1, "status": "offline"}])
    with pytest.raises(teamkpi.NoEligibleAgentError) as e:
        assigner.pick({"id": 1, "kind": "ticket", "created_at": T0}, T0)
    assert e.value.code == "no_eligible_agent" and e.value.reason
    with pytest.raises(teamkpi.InvalidInputError) as e2:
        teamkpi.Assigner([])
    assert e2.value.code == "empty_agent_list"
    with pytest.raises(teamkpi.NotFoundError) as e3:
        assigner.set_status(99, "online")
    assert e3.value.code == "unknown_agent"


def test_sla_policy_evaluate_and_scan() -> None:
    policy = teamkpi.SlaPolicy(
        {
            "name": "standard",
            "calendar": teamkpi.BusinessCalendar.always_open(),
            "targets": {"high": {"first_response": 3600, "resolution": 28800}},
            "at_risk": {"fraction": 0.8},
        }
    )
    assert policy.name == "standard"
    ticket = {"ticket_id": 1, "priority": "high", "created_at": T0, "events": []}
    ev = policy.evaluate(ticket, T0 + dt.timedelta(hours=2))
    first = ev["targets"][0]
    assert first["target"] == "first_response" and first["state"] == "breached"
    assert first["due_at"] == T0 + dt.timedelta(hours=1)
    scan = policy.scan([ticket], T0 + dt.timedelta(hours=2))
    assert [a["key"] for a in scan["breaches"]] == ["1:first_response:1:breached"]
    again = policy.scan([ticket], T0 + dt.timedelta(hours=2), {"1:first_response:1:breached"})
    assert again["breaches"] == []


def test_assigner_items_read_directly_or_generally_agree() -> None:
    agents = [{"id": i, "status": "online", "open_load": {"ticket": i % 3}} for i in range(1, 7)]
    plain, general = teamkpi.Assigner(agents), teamkpi.Assigner(agents)
    for n in range(12):
        item = {"id": n, "kind": "ticket", "priority": "high", "created_at": T0, "team": None}
        # An extra key sends the same item through the general decoder.
        a = plain.assign(item, T0)
        b = general.assign({**item, "note": "general path"}, T0)
        assert a == b
    for bad in (
        {"id": 1, "kind": "ticket"},
        {"id": -1, "created_at": T0},
        {"id": 1, "created_at": "x"},
    ):
        with pytest.raises(teamkpi.TeamKpiError) as e:
            plain.assign(bad, T0)
        assert e.value.code in (
            "invalid_argument",
            "invalid_date",
            "invalid_number",
            "out_of_range",
        )
