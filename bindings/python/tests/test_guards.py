"""Nothing crosses into Python but results and coded errors: a panic in the library is an
``InternalError`` and leaves the object usable; wrong types and out-of-range ints are coded."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import teamkpi
from teamkpi import _teamkpi

UTC = dt.UTC
NOW = dt.datetime(2025, 11, 3, 9, tzinfo=UTC)


def test_a_panic_is_an_internal_error_not_a_panic_exception() -> None:
    with pytest.raises(teamkpi.InternalError) as info:
        _teamkpi._panic_for_tests()
    assert info.value.code == "internal"
    assert isinstance(info.value, Exception)
    assert "a test panic" in str(info.value)


def test_objects_stay_usable_after_a_panic_while_locked() -> None:
    assigner = teamkpi.Assigner([{"id": 1, "status": "online"}, {"id": 2, "status": "online"}])
    assigner.set_load(1, "ticket", 3)
    engine = teamkpi.Engine()
    for target in (assigner, engine):
        with pytest.raises(teamkpi.InternalError):
            _teamkpi._panic_for_tests(target)
    # Usable and unchanged: the lock is taken back, the state is what it was.
    event = assigner.assign({"id": 9, "kind": "ticket", "created_at": NOW}, NOW)
    assert event["to"] == 2
    agent = assigner.agent(1)
    assert agent is not None and agent["open_load"]["ticket"] == 3
    engine.apply({"id": "e1", "at": NOW, "type": "ticket_created", "ticket_id": 1})
    assert len(engine.rows()) == 1


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda a: a.set_load("one", "ticket", 1), "invalid_type"),
        (lambda a: a.set_load(True, "ticket", 1), "invalid_type"),
        (lambda a: a.set_load(-1, "ticket", 1), "out_of_range"),
        (lambda a: a.set_load(2**64, "ticket", 1), "out_of_range"),
        (lambda a: a.remove_agent(None), "invalid_type"),
        (lambda a: a.set_load(1, "ticket", 2**63), "out_of_range"),
        (lambda a: a.set_status(1, "asleep"), "invalid_choice"),
    ],
)
def test_assigner_arguments_are_coded(call: Any, code: str) -> None:
    assigner = teamkpi.Assigner([{"id": 1, "status": "online"}])
    with pytest.raises(teamkpi.TeamKpiError) as info:
        call(assigner)
    assert info.value.code == code
    if code == "invalid_type":
        assert isinstance(info.value, TypeError)


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda: teamkpi.periods(1, "2025-01-01", "2025-01-02"), "invalid_type"),  # type: ignore[arg-type]
        (lambda: teamkpi.ticket_metrics([], quantiles="yes"), "invalid_type"),  # type: ignore[arg-type]
        (lambda: teamkpi.date_range("last_n_days", NOW, days=-1), "out_of_range"),
        (lambda: teamkpi.date_range("last_n_days", NOW, days=2**40), "out_of_range"),
        (lambda: teamkpi.ticket_metrics(5), "invalid_type"),  # type: ignore[arg-type]
    ],
)
def test_module_function_arguments_are_coded(call: Any, code: str) -> None:
    with pytest.raises(teamkpi.TeamKpiError) as info:
        call()
    assert info.value.code == code


def test_business_seconds_are_whole_ints() -> None:
    cal = teamkpi.BusinessCalendar("UTC", {"mon": [("09:00", "17:00")]})
    for bad, code in [(1.5, "invalid_type"), ("60", "invalid_type"), (2**63, "out_of_range")]:
        with pytest.raises(teamkpi.TeamKpiError) as info:
            cal.add_business_seconds(NOW, bad)  # type: ignore[arg-type]
        assert info.value.code == code


# The inputs that once raised PanicException or a bare Python error, each now coded.
TRIGGERS: list[tuple[str, Any, str]] = [
    (
        "windows of 10**9 days",
        lambda: teamkpi.ticket_metrics(
            [], windows={"start": "2025-11-01", "days": 10**9, "count": 10**9}
        ),
        "out_of_range",
    ),
    (
        "windows of 2**32 - 1 days",
        lambda: teamkpi.ticket_metrics(
            [], windows={"start": "2025-11-01", "days": 2**32 - 1, "count": 1}
        ),
        "out_of_range",
    ),
    (
        "open loads of 2**62",
        lambda: teamkpi.Assigner(
            [
                {
                    "id": 1,
                    "status": "online",
                    "open_load": {"ticket": 2**62, "call": 2**62},
                    "capacity": 5,
                }
            ]
        ),
        "out_of_range",
    ),
    (
        "periods over 9 000 years",
        lambda: teamkpi.periods("day", "0001-01-01", "9999-12-31"),
        "out_of_range",
    ),
    ("last 10**7 days", lambda: teamkpi.date_range("last_n_days", NOW, days=10**7), "out_of_range"),
    (
        "an unparsable formula source",
        lambda: teamkpi.kpi_source("formula", {"formula": "((("}),
        "formula_syntax",
    ),
]


@pytest.mark.parametrize(("what", "call", "code"), TRIGGERS, ids=[t[0] for t in TRIGGERS])
def test_former_panics_are_coded(what: str, call: Any, code: str) -> None:
    with pytest.raises(teamkpi.TeamKpiError) as info:
        call()
    assert info.value.code == code, what


def test_a_huge_load_then_assign_is_refused_and_the_assigner_keeps_working() -> None:
    a = teamkpi.Assigner([{"id": 1, "status": "online"}, {"id": 2, "status": "online"}])
    with pytest.raises(teamkpi.TeamKpiError) as info:
        a.set_load(1, "ticket", 2**63 - 1)
    assert info.value.code == "out_of_range"
    assert a.assign({"id": 1, "kind": "ticket", "created_at": NOW}, NOW)["to"] == 1


def test_re_assign_hours_beyond_a_century_is_out_of_range() -> None:
    a = teamkpi.Assigner([{"id": 1, "status": "online"}])
    item = {"id": 5, "kind": "ticket", "created_at": NOW, "agent_id": 1, "assigned_at": NOW}
    settings = {
        "auto_assign_enabled": True,
        "re_assign_enabled": True,
        "re_assign_hours": 2562047788015216,
    }
    with pytest.raises(teamkpi.TeamKpiError) as info:
        a.reassign_stale([item], settings, NOW)
    assert info.value.code == "out_of_range"


def test_a_huge_batch_size_is_refused_not_allocated() -> None:
    # Found by the fuzz suite: the batch size once sized an allocation, and 2**40 aborted Python.
    live = teamkpi.LiveMetrics(teamkpi.SqliteStore())
    for batch, code in [(2**40, "out_of_range"), (0, "invalid_argument")]:
        with pytest.raises(teamkpi.TeamKpiError) as info:
            live.apply_records(tickets=[], batch=batch)
        assert info.value.code == code
