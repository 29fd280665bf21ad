"""Runs the shared golden vectors (``tests/vectors/*.json``) through the Python API.

Each function name of a vector file maps to the public calls a Python host would make; vector
instants become aware ``datetime`` objects and dates ``date`` objects on the way in, and results
are compared after turning ``Decimal``/``date``/``datetime`` back into the vectors' text.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import teamkpi
from teamkpi._types import AssignmentBatch

VECTORS = Path(__file__).resolve().parents[3] / "tests" / "vectors"

UTC = dt.UTC


def aware(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def day(text: str) -> dt.date | str:
    """A ``date``; text Python cannot parse goes through as text, for teamkpi to reject."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return text


def _is_instant_key(key: str) -> bool:
    return key.endswith("_at") or key in ("at", "now", "as_of", "start", "end")


def natives(value: Any, key: str = "") -> Any:
    """Vector JSON with instants as aware datetimes (recursively), the way hosts pass them."""
    if isinstance(value, dict):
        return {k: natives(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [natives(v, key) for v in value]
    if isinstance(value, str) and _is_instant_key(key) and "T" in value:
        try:
            return aware(value)
        except ValueError:
            return value
    return value


def plain(value: Any) -> Any:
    """A result as the vectors spell it: decimals and dates as text, instants with ``Z``."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def _dec(text: Any) -> Decimal | None:
    if isinstance(text, bool):
        return None
    try:
        return Decimal(str(text))
    except (InvalidOperation, ValueError):
        return None


def same(expected: Any, actual: Any, round2: bool) -> bool:
    """Structural equality; decimal text compares numerically; objects match on the keys the
    expectation names (result shapes may carry more)."""
    if (
        isinstance(expected, str)
        and isinstance(actual, (str, int, float))
        and not isinstance(actual, bool)
    ):
        e, a = _dec(expected), _dec(actual)
        if e is not None and a is not None:
            if round2:
                a = a.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
            return a == e
        return expected == actual
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(
            same(e, a, round2) for e, a in zip(expected, actual, strict=True)
        )
    if isinstance(expected, dict) and isinstance(actual, dict):
        return all(k in actual and same(v, actual[k], round2) for k, v in expected.items())
    return expected == actual


def _policy_kwargs(inp: dict[str, Any]) -> dict[str, Any]:
    kw: dict[str, Any] = {}
    for k in ("cap", "floor"):
        if inp.get(k) is not None:
            kw[k] = Decimal(str(inp[k]))
    return kw


def run_achievement(inp: dict[str, Any]) -> Any:
    kw = _policy_kwargs(inp)
    if "zero_target" in inp:
        kw["zero_target"] = inp["zero_target"]
    return teamkpi.achievement(
        Decimal(str(inp["actual"])), Decimal(str(inp["target"])), inp["direction"], **kw
    )


def run_overall_score(inp: dict[str, Any]) -> Any:
    items = [
        (
            Decimal(str(i["weight"])),
            None if i.get("achievement") is None else Decimal(str(i["achievement"])),
        )
        for i in inp["items"]
    ]
    return teamkpi.overall_score(items, **_policy_kwargs(inp))


def run_performance_score(inp: dict[str, Any]) -> Any:
    kw: dict[str, Any] = {}
    if "weights" in inp:
        kw["weights"] = {k: Decimal(str(v)) for k, v in inp["weights"].items()}
    if "horizon_hours" in inp:
        kw["horizon_hours"] = Decimal(str(inp["horizon_hours"]))

    def num(k: str) -> Any:
        v = inp.get(k)
        # floats exercise the shortest-repr conversion
        return None if v is None else (float(v) if isinstance(v, str) else v)

    return teamkpi.performance_score(
        num("resolution_rate"), num("avg_response_hours"), num("sla_compliance_rate"), **kw
    )


def run_period(inp: dict[str, Any]) -> Any:
    return teamkpi.period_bounds(inp["kind"], day(inp["date"]), inp["timezone"])


def run_period_helper(inp: dict[str, Any]) -> Any:
    if inp["helper"] == "periods":
        return teamkpi.periods(inp["kind"], day(inp["start"]), day(inp["end"]))
    return teamkpi.date_range(
        inp["helper"], aware(inp["now"]), inp["timezone"], days=inp.get("days")
    )


def run_formula(inp: dict[str, Any]) -> Any:
    values = {k: Decimal(str(v)) for k, v in (inp.get("values") or {}).items()}
    return teamkpi.evaluate_formula(inp["expression"], values)


def run_unit_convert(inp: dict[str, Any]) -> Any:
    return teamkpi.convert_unit(Decimal(str(inp["value"])), inp["from"], inp["to"])


def run_kpi_source(inp: dict[str, Any]) -> Any:
    return teamkpi.kpi_source(inp["calculation_type"], inp["config"])


def run_definition_validate(inp: dict[str, Any]) -> Any:
    return teamkpi.validate_definition(inp)


def run_assignments(inp: dict[str, Any]) -> Any:
    store = teamkpi.SqliteStore()
    for d in inp["definitions"]:
        store.upsert_definition(d)
    return [store.insert_assignment(a)["id"] for a in inp["inserts"]]


def run_validate_weights(inp: dict[str, Any]) -> Any:
    return teamkpi.validate_weights(inp["assignments"], day(inp["on"]))


def run_band(inp: dict[str, Any]) -> Any:
    return teamkpi.score_band(Decimal(str(inp["score"])), inp.get("bands"))


def run_calendar(inp: dict[str, Any]) -> Any:
    cal = teamkpi.BusinessCalendar.from_dict(inp["calendar"])
    op = inp["op"]
    if op == "is_open":
        return cal.is_open(aware(inp["at"]))
    if op == "next_open":
        return cal.next_open(aware(inp["at"]))
    if op == "add":
        return cal.add_business_seconds(aware(inp["start"]), inp["seconds"])
    if op == "between":
        return cal.business_seconds_between(aware(inp["start"]), aware(inp["end"]))
    raise AssertionError(f"unknown calendar op {op}")


def run_sla_evaluate(inp: dict[str, Any]) -> Any:
    policy = teamkpi.SlaPolicy(inp["policy"])
    # A ticket record evaluates the timeline reconstructed from it.
    if "snapshot" in inp:
        (timeline,) = teamkpi.timelines_from_tickets([natives(inp["snapshot"])])
    else:
        timeline = natives(inp["ticket"])
    ev = policy.evaluate(timeline, aware(inp["now"]))
    keys = (
        "target",
        "cycle",
        "state",
        "due_at",
        "used_seconds",
        "remaining_seconds",
        "late_seconds",
    )
    return [{k: t.get(k) for k in keys} for t in ev["targets"]]


def run_sla_scan(inp: dict[str, Any]) -> Any:
    policy = teamkpi.SlaPolicy(inp["policy"])
    scan = policy.scan(natives(inp["tickets"]), aware(inp["now"]), set(inp["already_alerted"]))
    return {
        "breaches": [a["key"] for a in scan["breaches"]],
        "at_risk": [a["key"] for a in scan["at_risk"]],
        "rejected": [{"ticket_id": r["ticket_id"], "code": r["code"]} for r in scan["rejected"]],
    }


def run_sla_analytics(inp: dict[str, Any]) -> Any:
    return teamkpi.sla_analytics(
        inp["policy"],
        natives(inp["tickets"]),
        now=aware(inp["now"]),
        start=aware(inp["from"]),
        end=aware(inp["to"]),
        group_by=inp["group_by"],
    )


def run_ticket_metrics(inp: dict[str, Any]) -> Any:
    kw: dict[str, Any] = {"timezone": inp["timezone"], "group_by": inp["group_by"]}
    if "windows" in inp:
        kw["windows"] = inp["windows"]
    else:
        kw["period"] = inp["period"]
    if "calendar" in inp:
        kw["calendar"] = teamkpi.BusinessCalendar.from_dict(inp["calendar"])
    if "sla" in inp:
        kw["sla"] = teamkpi.SlaPolicy(inp["sla"])
    if "as_of" in inp:
        kw["as_of"] = aware(inp["as_of"])
    rows = teamkpi.ticket_metrics(natives(inp["tickets"]), **kw)
    out = []
    for r in rows:
        r = dict(r)
        r.setdefault("agent_id", None)
        r.setdefault("team", None)
        out.append(r)
    rejected = [{"id": r["id"], "index": r["index"], "code": r["code"]} for r in rows.rejected]
    return {"rows": out, "rejected": rejected}


def run_dashboard(inp: dict[str, Any]) -> Any:
    records = {k: natives(inp[k]) for k in ("calls", "sessions", "contacts")}
    return teamkpi.call_center_dashboard(
        inp["agent_id"],
        day(inp["date"]),
        **records,
        campaigns=inp["campaigns"],
        now=aware(inp["now"]),
        timezone=inp["timezone"],
    )


def run_kpi_update(inp: dict[str, Any]) -> Any:
    store = teamkpi.SqliteStore()
    for d in inp["definitions"]:
        store.upsert_definition(d)
    ids = [
        store.insert_assignment({**a, "valid_from": day(a["valid_from"])})["id"]
        for a in inp["assignments"]
    ]
    report = teamkpi.update_kpis(
        store,
        now=aware(inp["now"]),
        date=day(inp["date"]),
        timezone=inp["timezone"],
        tickets=natives(inp["tickets"]),
        calls=natives(inp["calls"]),
        sessions=natives(inp["sessions"]),
        sla=inp.get("sla"),
    )
    stored = [
        {
            "agent_id": m["agent_id"],
            "definition": m["definition"],
            "period_start": m["period_start"],
            "period_end": m["period_end"],
            "complete": m["complete"],
            "actual": float(m["actual"]),
            "achievement": float(m["achievement"]),
        }
        for i in ids
        for m in store.measurements(i)
    ]
    stored.sort(key=lambda m: (m["agent_id"], m["definition"]))
    return {"stored": stored, "skipped": report["skipped"], "failures": report["failures"]}


def run_analytics(inp: dict[str, Any]) -> Any:
    return teamkpi.analytics(
        inp["result"],
        natives(inp["tickets"]),
        now=aware(inp["now"]),
        days=inp["days"],
        agent_id=inp.get("agent_id"),
        timezone=inp["timezone"],
    )


def run_assignment(inp: dict[str, Any]) -> Any:
    assigner = teamkpi.Assigner(natives(inp["agents"]), inp.get("policy"))
    now = aware(inp["now"])

    def outcome(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return {"agent": call(*args, **kwargs)}
        except teamkpi.NoEligibleAgentError as e:
            assert e.code == "no_eligible_agent"
            return {"reason": e.reason}

    def batch(b: AssignmentBatch) -> Any:
        events = [
            [e["item_id"], e["from"], e["to"], e["reason"]]
            if e.get("from") is not None
            else [e["item_id"], e["to"]]
            for e in b["events"]
        ]
        return {
            "events": events,
            "unassigned": [[u["item_id"], u["reason"]] for u in b["unassigned"]],
            "rejected": [{"item_id": r["item_id"], "code": r["code"]} for r in b["rejected"]],
        }

    results: list[Any] = []
    for op in inp["ops"]:
        kind = op["op"]
        if kind == "pick":
            item = natives(op["item"])
            exclude = op.get("exclude")
            results.append(outcome(assigner.pick, item, now, exclude=exclude))
        elif kind == "assign":
            item = natives(op["item"])
            results.append(outcome(lambda i: assigner.assign(i, now)["to"], item))
        elif kind == "auto_assign":
            item = natives(op["item"])
            settings = op["settings"]
            results.append(
                outcome(lambda i, s: assigner.auto_assign(i, s, now)["to"], item, settings)
            )
        elif kind == "set_status":
            assigner.set_status(op["agent"], op["status"])
            results.append(None)
        elif kind == "drain":
            results.append(batch(assigner.drain(natives(op["items"]), now)))
        elif kind == "reassign":
            results.append(
                batch(
                    assigner.reassign_stale(
                        natives(op["items"]),
                        op["settings"],
                        now,
                        inactive_hours=op.get("inactive_hours"),
                    )
                )
            )
        elif kind == "load":
            agent = assigner.agent(op["agent"])
            results.append(None if agent is None else agent["open_load"])
        else:
            raise AssertionError(f"unknown assignment op {kind}")
    return results


def run_engine(inp: dict[str, Any]) -> Any:
    engine = teamkpi.Engine(inp["timezone"], strict=inp.get("strict", False))
    for e in natives(inp["events"]):
        engine.apply(e)
    if "evict_before" in inp:
        engine.evict_before(aware(inp["evict_before"]))
    for e in natives(inp.get("then", [])):
        engine.apply(e)
    return {"day": engine.rows("day")}


def run_engine_batch(inp: dict[str, Any]) -> Any:
    engine = teamkpi.Engine(inp["timezone"], strict=inp.get("strict", False))
    batches: list[Any] = []
    for batch in inp["batches"]:
        try:
            batches.append(engine.apply_many(natives(batch)))
        except teamkpi.InvalidInputError as e:
            if e.code != "invalid_events":
                raise
            batches.append({"code": e.code, "errors": e.errors})  # type: ignore[attr-defined]
    return {"batches": batches, "day": engine.rows("day")}


RUNNERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "achievement": run_achievement,
    "overall_score": run_overall_score,
    "performance_score": run_performance_score,
    "period": run_period,
    "period_helper": run_period_helper,
    "formula": run_formula,
    "unit_convert": run_unit_convert,
    "kpi_source": run_kpi_source,
    "definition_validate": run_definition_validate,
    "assignments": run_assignments,
    "validate_weights": run_validate_weights,
    "band": run_band,
    "calendar": run_calendar,
    "sla_evaluate": run_sla_evaluate,
    "sla_scan": run_sla_scan,
    "sla_analytics": run_sla_analytics,
    "ticket_metrics": run_ticket_metrics,
    "dashboard": run_dashboard,
    "kpi_update": run_kpi_update,
    "analytics": run_analytics,
    "assignment": run_assignment,
    "engine": run_engine,
    "engine_batch": run_engine_batch,
}


def load_cases() -> list[tuple[str, str, dict[str, Any]]]:
    """(function, case id, case) for every vector, in file order."""
    out = []
    for path in sorted(VECTORS.glob("*.json")):
        doc = json.loads(path.read_text())
        for case in doc["cases"]:
            out.append((doc["function"], case["id"], case))
    return out
