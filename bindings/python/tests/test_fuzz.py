"""Every public entry point, called with generated values of every shape: each call ends in a
result or a ``TeamKpiError`` — never a bare ``TypeError``, ``ValueError``, ``OverflowError`` or
a ``PanicException``. The entry points come from the package's own exports, so a new function or
method is fuzzed without a new case here (a new class needs a factory below, or the suite fails).
"""

from __future__ import annotations

import datetime as dt
import decimal
import inspect
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import teamkpi

UTC = dt.UTC
NOW = dt.datetime(2025, 11, 5, 12, tzinfo=UTC)

# Calls made per entry point, printed at the end of the run (see conftest.py).
CASES: Counter[str] = Counter()
EXAMPLES = 40

# Exports that are not teamkpi computations, and why they are not fuzzed.
NOT_FUZZED = {
    # The `json.dumps(default=...)` hook: its contract is to raise TypeError for other types.
    "json_default": "json.dumps protocol",
    # Opening a store takes a path or a URL: fuzzing it would create files or dial hosts. The
    # stores' methods are fuzzed on an in-memory store.
    "SqliteStore": "constructor opens files",
    "PostgresStore": "constructor connects to servers",
    "Store": "base class of the stores",
    # Warns, then calls call_center_dashboard (fuzzed under that name).
    "call_center_dashboard_stats": "deprecated alias",
}

CALENDAR = teamkpi.BusinessCalendar("UTC", {"mon": [("09:00", "17:00")]})
POLICY = teamkpi.SlaPolicy({"name": "p", "targets": {"high": {"first_response": 3600}}})


def _store() -> teamkpi.Store:
    return teamkpi.SqliteStore()


# How to build an instance of each class whose methods are fuzzed.
FACTORIES: dict[str, Callable[[], Any]] = {
    "BusinessCalendar": lambda: CALENDAR,
    "SlaPolicy": lambda: POLICY,
    "Engine": lambda: teamkpi.Engine(),
    "Assigner": lambda: teamkpi.Assigner([{"id": 1, "status": "online"}, {"id": 2}]),
    "LiveMetrics": lambda: teamkpi.LiveMetrics(_store()),
    "SqliteStore#methods": _store,
}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 2**31, 2**32, 2**53, 2**63 - 1, 2**63, 2**64 - 1, 2**64]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "day", "week", "month", "agent", "team", "UTC", "Mars/Olympus", "((("]),
    st.text(max_size=12),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.datetimes(timezones=st.just(UTC)),
    st.datetimes(),  # naive
    st.dates(),
    st.sampled_from(
        [NOW, NOW.date(), dt.date(1, 1, 1), dt.date(9999, 12, 31), decimal.Decimal("1e30")]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "agent_id",
                    "created_at",
                    "kind",
                    "type",
                    "at",
                    "ticket_id",
                    "status",
                    "days",
                    "start",
                    "end",
                    "target",
                    "weight",
                    "formula",
                    "priority",
                    "targets",
                ]
            ),
            inner,
            max_size=5,
        ),
    ),
    max_leaves=8,
)


Entry = tuple[str, Callable[..., Any], inspect.Signature]


def _signature(fn: Callable[..., Any]) -> inspect.Signature:
    sig = inspect.signature(fn)
    params = [p for p in sig.parameters.values() if p.name != "self"]
    return sig.replace(parameters=params)


def _entry_points() -> list[Entry]:
    out: list[Entry] = []
    for name in teamkpi.__all__:
        obj = getattr(teamkpi, name)
        if name == "SqliteStore":
            out += _methods("SqliteStore#methods", obj)
        if name in NOT_FUZZED or not callable(obj) or name.endswith("Error"):
            continue
        if isinstance(obj, type):
            if name in ("MetricRows", "MetricColumns"):
                continue  # result containers, built by the library
            assert name in FACTORIES, f"{name}: a new class needs a factory in test_fuzz.py"
            out.append((f"{name}()", obj, _signature(obj)))
            out += _methods(name, obj)
        else:
            out.append((name, obj, _signature(obj)))
    return out


def _methods(key: str, cls: type) -> list[Entry]:
    out: list[Entry] = []
    for m in dir(cls):
        attr = getattr(cls, m)
        if m.startswith("_") or not callable(attr) or isinstance(attr, type):
            continue

        def call(*args: Any, _m: str = m, **kwargs: Any) -> Any:
            return getattr(FACTORIES[key](), _m)(*args, **kwargs)

        out.append((f"{key.split('#')[0]}.{m}", call, _signature(attr)))
    return out


ENTRIES = _entry_points()


def test_every_export_is_fuzzed_or_excused() -> None:
    names = {n.split(".")[0].rstrip("()") for n, _, _ in ENTRIES}
    for name in teamkpi.__all__:
        obj = getattr(teamkpi, name)
        if callable(obj) and not name.endswith("Error") and name not in NOT_FUZZED:
            if name in ("MetricRows", "MetricColumns"):
                continue
            assert name in names, f"{name} has no fuzz cases"


def _draw_call(data: st.DataObject, sig: inspect.Signature) -> tuple[list[Any], dict[str, Any]]:
    """Values of every shape, in a call that matches the signature (arity is Python's own check,
    not the library's): every required parameter, some optional ones."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        required = p.default is p.empty
        if not required and not data.draw(st.booleans()):
            continue
        v = data.draw(values, label=p.name)
        if p.kind is p.KEYWORD_ONLY or (not required and p.kind is p.POSITIONAL_OR_KEYWORD):
            kwargs[p.name] = v
        else:
            args.append(v)
    return args, kwargs


@pytest.mark.parametrize(("name", "fn", "sig"), ENTRIES, ids=[n for n, _, _ in ENTRIES])
@settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
@given(data=st.data())
def test_calls_end_in_a_result_or_a_coded_error(
    name: str, fn: Callable[..., Any], sig: inspect.Signature, data: st.DataObject
) -> None:
    args, kwargs = _draw_call(data, sig)
    CASES[name] += 1
    try:
        fn(*args, **kwargs)
    except teamkpi.InternalError as e:  # a bug the guard caught: still a bug
        pytest.fail(f"{name}(*{args!r}, **{kwargs!r}) hit a bug: {e}")
    except teamkpi.TeamKpiError as e:
        assert e.code in teamkpi.ERROR_CODES, e
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # noqa: BLE001 - the point: nothing else may escape
        pytest.fail(f"{name}(*{args!r}, **{kwargs!r}) raised {type(e).__name__}: {e}")
