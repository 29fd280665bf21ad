"""The call-center dashboard's call-center dashboard and the KPI tables' KPI routes, served by
Flask on teamkpi's
SQLite store.

- `GET /api/crm/dashboard/stats[?date=YYYY-MM-DD]` and
  `POST /api/crm/dashboard/stats/update-after-call` `{"call_id": 123}`: the ankieter's twelve
  figures in the call-center dashboard's `{"success": true, "stats": {…}}` wrapper (the agent is
  the logged-in
  user; here the `X-Agent-Id` header stands in for the login). The figures are teamkpi's live
  metrics: `update-after-call` applies the call's `call_ended` event (id `call:{id}`: a second
  post of the same call counts once), and the stats read the live calls and sessions — no scan of
  the day's records per request. `flask --app app backfill-live` loads what the store already
  holds (calls, agent sessions, tickets) into live state; the session tracker applies a session
  with `live().apply_records(sessions=[…])` as it records it.
- `GET /kpis/definitions`, `GET /kpis/users/<user_id>` (assigned KPIs with their latest
  measurement), `POST /kpis/users/<user_id>/kpis/assign`, `POST /kpis/calculate/<user_kpi_id>`:
  the KPI tables' routes with its JSON shapes.

Bad input is a 400 with a stable code, unknown ids a 404: `{"success": false, "error": …,
"code": …}`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request

import teamkpi

UTC = dt.UTC
Clock = Callable[[], dt.datetime]


@dataclass
class ApiError(Exception):
    """An error response: HTTP status, the stable code, the message."""

    status: int
    code: str
    message: str


def respond(body: Any, status: int = 200) -> Response:
    # Decimals as JSON numbers (the front ends call .toFixed on them), dates as ISO text.
    return Response(
        json.dumps(body, default=teamkpi.json_default), status=status, mimetype="application/json"
    )


def store() -> teamkpi.Store:
    return current_app.extensions["teamkpi_store"]  # type: ignore[no-any-return]


def live() -> teamkpi.LiveMetrics:
    return current_app.extensions["teamkpi_live"]  # type: ignore[no-any-return]


def now() -> dt.datetime:
    clock: Clock = current_app.extensions["teamkpi_clock"]
    return clock()


def zone() -> str:
    return str(current_app.config["TEAMKPI_TIMEZONE"])


def body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_argument", "expected a JSON object body")
    return data


def parse_day(name: str, raw: Any) -> dt.date:
    if not isinstance(raw, str):
        raise ApiError(400, "invalid_date", f"{name} must be a YYYY-MM-DD date")
    try:
        # the KPI tables sends ISO dates, sometimes with a time part
        return dt.datetime.fromisoformat(raw).date() if "T" in raw else dt.date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, "invalid_date", f"{name}: {raw!r} is not a date") from None


def positive_int(name: str, raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise ApiError(400, "invalid_argument", f"{name} must be a positive integer")
    return raw


# --- the call-center dashboard: the ankieter dashboard
# --------------------------------------------------------

crm = Blueprint("crm", __name__, url_prefix="/api/crm")


def current_agent() -> int:
    raw = request.headers.get("X-Agent-Id", "")
    if not raw.isdigit() or int(raw) < 1:
        raise ApiError(401, "unauthenticated", "log in as an agent (X-Agent-Id)")
    agent = int(raw)
    if not any(a["id"] == agent for a in store().agents()):
        raise ApiError(404, "unknown_agent", f"unknown agent {agent}")
    return agent


def dashboard(agent: int, day: dt.date) -> dict[str, Any]:
    # Live calls and sessions of the day (open sessions end now); contacts and campaigns from
    # the store.
    stats: dict[str, Any] = live().dashboard(agent, day, now=now())
    return stats


@crm.get("/dashboard/stats")
def get_stats() -> Response:
    agent = current_agent()
    raw = request.args.get("date")
    day = parse_day("date", raw) if raw else teamkpi.date_range("today", now(), zone())["start"]
    return respond({"success": True, "stats": dashboard(agent, day)})


@crm.post("/dashboard/stats/update-after-call")
def update_after_call() -> Response:
    agent = current_agent()
    call_id = positive_int("call_id", body().get("call_id"))
    # The call was recorded by the telephony webhook (`store.put_calls`); look back a month.
    t = now()
    calls = store().calls(t - dt.timedelta(days=31), t + dt.timedelta(days=1))
    call = next((c for c in calls if c["id"] == call_id), None)
    if call is None:
        raise ApiError(404, "unknown_call", f"unknown call {call_id}")
    if call["agent_id"] != agent:
        raise ApiError(403, "forbidden", "the call belongs to another agent")
    report = live().apply_records(calls=[call])
    if report["rejected"]:
        r = report["rejected"][0]
        raise ApiError(409, r["code"], r["message"])
    day = teamkpi.date_range("today", call["started_at"], zone())["start"]
    return respond(
        {"success": True, "message": "Statystyki zaktualizowane", "stats": dashboard(agent, day)}
    )


def backfill_live(days: int = 31) -> dict[str, Any]:
    """Loads the store's calls, agent sessions and tickets of the last `days` days into live
    state (idempotent: what is there already counts once)."""
    t = now()
    start = teamkpi.period_bounds("day", (t - dt.timedelta(days=days)).date(), zone())["utc_start"]
    return live().backfill(start, t + dt.timedelta(seconds=1))


# --- the KPI tables: KPI definitions, assignments, calculation
# -------------------------------------

kpis = Blueprint("kpis", __name__, url_prefix="/kpis")


def definition_view(d: dict[str, Any]) -> dict[str, Any]:
    """A definition in the KPI tables' column names (plus teamkpi's `key`)."""
    return {
        "id": d["id"],
        "key": d["key"],
        "name": d["name"],
        "description": d.get("description"),
        "category": d.get("category"),
        "unit": d["unit"],
        "target_type": d["direction"],
        "aggregation_period": d["period"],
        "calculation_type": d["source"]["type"],
        "is_active": d["active"],
    }


def measurement_view(m: dict[str, Any] | None) -> dict[str, Any] | None:
    if m is None:
        return None
    return {
        "actual_value": m["actual"],
        "achievement_percentage": m["achievement"],
        "period_start": m["period_start"],
        "period_end": m["period_end"],
        "calculated_at": m["calculated_at"],
        "complete": m["complete"],
        "ad_hoc": m["ad_hoc"],
    }


@kpis.get("/definitions")
def get_definitions() -> Response:
    defs = [definition_view(d) for d in store().definitions() if d["active"]]
    defs.sort(key=lambda d: (d["category"] or "", d["name"]))
    return respond({"definitions": defs})


@kpis.get("/users/<int:user_id>")
@kpis.get("/users/<int:user_id>/kpis")
def get_user_kpis(user_id: int) -> Response:
    s = store()
    defs = {d["key"]: d for d in s.definitions()}
    out = []
    for a in s.assignments(agent_id=user_id):
        d = defs.get(a["definition"])
        if d is None or not d["active"]:
            continue
        out.append(
            {
                "id": a["id"],
                "target_value": a["target"],
                "weight": a["weight"],
                "start_date": a["valid_from"],
                "kpi_definition_id": d["id"],
                "name": d["name"],
                "description": d.get("description"),
                "unit": d["unit"],
                "target_type": d["direction"],
                "category": d.get("category"),
                "latest_measurement": measurement_view(s.latest_measurement(a["id"])),
            }
        )
    return respond({"user_id": user_id, "kpis": out})


@kpis.post("/users/<int:user_id>/kpis/assign")
def assign_kpi(user_id: int) -> Response:
    data = body()
    definition_id = positive_int("kpi_definition_id", data.get("kpi_definition_id"))
    if "target_value" not in data:
        raise ApiError(400, "invalid_argument", "target_value is required")
    start = data.get("start_date")
    s = store()
    if not any(a["id"] == user_id for a in s.agents()):
        raise ApiError(404, "unknown_agent", f"unknown agent {user_id}")
    valid_from = (
        parse_day("start_date", start)
        if start
        else teamkpi.date_range("today", now(), zone())["start"]
    )
    # This app's own rule, on top of the store's one active assignment per (agent, KPI, start):
    # no two active assignments of a KPI cover the same day (the scorecard would count it twice).
    definition = s.definition(definition_id)
    if definition is not None:
        covering = s.assignments(agent_id=user_id, definition=definition["key"], start=valid_from)
        if any(a["valid_from"] != valid_from for a in covering):
            raise ApiError(
                409,
                "overlapping_assignment",
                f"agent {user_id} already has {definition['key']} from a date this overlaps",
            )
    made = s.insert_assignment(
        {
            "agent_id": user_id,
            "kpi_definition_id": definition_id,
            "target": data["target_value"],
            "weight": data.get("weight", 100),
            "valid_from": valid_from,
            "assigned_by": data.get("assigned_by"),
        }
    )
    return respond({"success": True, "user_kpi_id": made["id"]}, 201)


@kpis.post("/calculate/<int:user_kpi_id>")
def calculate(user_kpi_id: int) -> Response:
    data = body()
    start = parse_day("period_start", data.get("period_start"))
    end = parse_day("period_end", data.get("period_end"))
    if end < start:
        raise ApiError(400, "invalid_range", "period_end is before period_start")
    if (end - start).days > 366:
        raise ApiError(400, "invalid_argument", "at most a year at a time")
    s = store()
    if s.assignment(user_kpi_id) is None:
        raise ApiError(404, "unknown_assignment", f"unknown user KPI {user_kpi_id}")
    # Exactly the requested days, from the store's activity, stored as an ad-hoc measurement:
    # it never becomes the scorecard's latest (the KPI's natural periods stay the nightly
    # job's). A range without data gets no measurement (not a 0).
    try:
        done = teamkpi.measure_range(s, user_kpi_id, start, end, now=now(), timezone=zone())
    except teamkpi.TeamKpiError as e:
        if isinstance(e, teamkpi.NotFoundError | teamkpi.ConflictError):
            raise
        raise ApiError(422, "calculation_failed", f"{e.code}: {e.message}") from None
    m = done["measurement"]
    if m is None:
        return respond(
            {"success": True, "measurement_id": None, "measurement": None, "reason": "no_data"}
        )
    return respond(
        {
            "success": True,
            "measurement_id": done["measurement_id"],
            "measurement": {**measurement_view(m), "user_kpi_id": user_kpi_id},  # type: ignore[dict-item]
        }
    )


# --- the app ---------------------------------------------------------------------------------


def create_app(
    store_path: str | Path = "dashboard.sqlite",
    *,
    clock: Clock | None = None,
    timezone: str = "Europe/Warsaw",
) -> Flask:
    """The app on the teamkpi SQLite store at `store_path` (`":memory:"` for a private one);
    `clock` gives "now" (tests pin it)."""
    app = Flask(__name__)
    app.config["TEAMKPI_TIMEZONE"] = timezone
    app.extensions["teamkpi_store"] = (
        teamkpi.SqliteStore() if str(store_path) == ":memory:" else teamkpi.SqliteStore(store_path)
    )
    app.extensions["teamkpi_live"] = teamkpi.LiveMetrics(
        app.extensions["teamkpi_store"], timezone=timezone
    )
    app.extensions["teamkpi_clock"] = clock or (lambda: dt.datetime.now(UTC))
    app.register_blueprint(crm)
    app.register_blueprint(kpis)

    @app.errorhandler(ApiError)
    def api_error(e: ApiError) -> Response:
        return respond({"success": False, "error": e.message, "code": e.code}, e.status)

    @app.errorhandler(teamkpi.TeamKpiError)
    def teamkpi_error(e: teamkpi.TeamKpiError) -> Response:
        status = (
            404
            if isinstance(e, teamkpi.NotFoundError)
            else 409
            if isinstance(e, teamkpi.ConflictError)
            else 400
        )
        return respond({"success": False, "error": e.message, "code": e.code}, status)

    @app.cli.command("backfill-live")
    def backfill_command() -> None:
        """Load the store's last 31 days (calls, sessions, tickets) into the live metrics."""
        r = backfill_live()
        print(
            f"backfilled {r['calls']} calls, {r['sessions']} sessions, {r['tickets']} tickets: "
            f"{r['applied']} events applied, {r['duplicates']} already there"
        )

    @app.errorhandler(404)
    def not_found(e: Exception) -> Response:
        return respond({"success": False, "error": "not found", "code": "not_found"}, 404)

    return app


if __name__ == "__main__":
    create_app().run(debug=True)
