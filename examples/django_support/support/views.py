"""The support automation's dashboard endpoints as JSON views, computed by teamkpi.

Access follows the support desk's rule: an agent sees only its own figures; admins (staff users)
see the team,
or one agent with `?agent_id=`; comparison and workload are admin-only. `?days=30` sets the
window (1–366). Errors are JSON with a stable `code`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

import teamkpi

from . import kpi
from .models import Agent, CompanySettings

View = Callable[..., JsonResponse]


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _json(data: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(
        data, status=status, safe=False, json_dumps_params={"default": teamkpi.json_default}
    )


def api(handler: Callable[[HttpRequest, int | None, bool, int], Any]) -> View:
    """Authentication, the agent-or-admin rule, `?days`, and errors as JSON."""

    @require_GET
    def view(request: HttpRequest) -> JsonResponse:
        try:
            if not request.user.is_authenticated:
                raise ApiError(401, "unauthenticated", "log in first")
            is_admin = bool(request.user.is_staff)
            own = Agent.objects.filter(user=request.user).values_list("pk", flat=True).first()
            if own is None and not is_admin:
                raise ApiError(403, "forbidden", "support agents and admins only")
            agent_id = own
            if is_admin:
                raw = request.GET.get("agent_id")
                agent_id = _int("agent_id", raw, 1, 2**63) if raw else None
            days = _int("days", request.GET.get("days", "30"), 1, 366)
            return _json(handler(request, agent_id, is_admin, days))
        except ApiError as e:
            return _json({"error": e.message, "code": e.code}, e.status)
        except teamkpi.TeamKpiError as e:
            status = 404 if isinstance(e, teamkpi.NotFoundError) else 400
            return _json({"error": e.message, "code": e.code}, status)

    view.__name__ = handler.__name__
    return view


def _int(name: str, raw: str | None, lo: int, hi: int) -> int:
    try:
        value = int(raw or "")
    except ValueError:
        raise ApiError(400, "invalid_argument", f"{name} must be an integer") from None
    if not lo <= value <= hi:
        raise ApiError(400, "invalid_argument", f"{name} must be between {lo} and {hi}")
    return value


def _admin_only(is_admin: bool) -> None:
    if not is_admin:
        raise ApiError(403, "forbidden", "admins only")


def _analytics(result: str, days: int, agent_id: int | None) -> dict[str, Any]:
    # Live figures: one read of the window's day rows, no ticket scan.
    return kpi.live().analytics(result, now=timezone.now(), days=days, agent_id=agent_id)


@api
def performance(request: HttpRequest, agent_id: int | None, is_admin: bool, days: int) -> Any:
    return _analytics("performance", days, agent_id)


@api
def trends(request: HttpRequest, agent_id: int | None, is_admin: bool, days: int) -> Any:
    return _analytics("trends", days, agent_id)


@api
def comparison(request: HttpRequest, agent_id: int | None, is_admin: bool, days: int) -> Any:
    _admin_only(is_admin)
    return _analytics("comparison", days, None)


@api
def workload(request: HttpRequest, agent_id: int | None, is_admin: bool, days: int) -> Any:
    _admin_only(is_admin)
    return _analytics("workload", days, None)


@api
def sla(request: HttpRequest, agent_id: int | None, is_admin: bool, days: int) -> Any:
    now = timezone.now()
    start = now - dt.timedelta(days=days)
    return kpi.live().sla_analytics(start, now, now=now, agent_id=agent_id)[0]


@api
def performance_metrics(
    request: HttpRequest, agent_id: int | None, is_admin: bool, days: int
) -> Any:
    if agent_id is None:
        raise ApiError(400, "invalid_argument", "agent_id is required for admins")
    return _analytics("performance_metrics", days, agent_id)


@api
def performance_trends(
    request: HttpRequest, agent_id: int | None, is_admin: bool, days: int
) -> Any:
    return _analytics("performance_trends", days, agent_id)


@api
def sla_breaches(request: HttpRequest, agent_id: int | None, is_admin: bool, days: int) -> Any:
    # All active breaches: the breached targets of the open tickets.
    return kpi.live().sla_breaches(now=timezone.now(), agent_id=agent_id)


# --- the CRM assignment's settings endpoint ---------------------------------------------------

# The hour settings' documented bound (100 years), as teamkpi checks it.
MAX_HOURS = 876_600


@csrf_exempt
@require_http_methods(["PATCH"])
def update_assignment_settings(request: HttpRequest, company_id: int) -> JsonResponse:
    """`PATCH /api/companies/{id}/update_assignment_settings/` with any of
    `auto_assign_enabled`, `re_assign_enabled` (booleans) and `re_assign_hours` (1–876 600):
    admins only; returns the company's settings after the change."""
    try:
        if not request.user.is_authenticated:
            raise ApiError(401, "unauthenticated", "log in first")
        _admin_only(bool(request.user.is_staff))
        if company_id != 1:  # the example runs one company, whose settings row is pk 1
            raise ApiError(404, "not_found", f"no company {company_id}")
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            raise ApiError(400, "invalid_json", "the body is not JSON") from None
        if not isinstance(body, dict):
            raise ApiError(400, "invalid_argument", "the body must be a JSON object")
        fields = {"auto_assign_enabled", "re_assign_enabled", "re_assign_hours"}
        unknown = sorted(set(body) - fields)
        if unknown:
            raise ApiError(400, "invalid_argument", f"unknown field {unknown[0]}")
        s = CompanySettings.current()
        for flag in ("auto_assign_enabled", "re_assign_enabled"):
            if flag in body:
                if not isinstance(body[flag], bool):
                    raise ApiError(400, "invalid_argument", f"{flag} must be true or false")
                setattr(s, flag, body[flag])
        if "re_assign_hours" in body:
            hours = body["re_assign_hours"]
            if isinstance(hours, bool) or not isinstance(hours, int):
                raise ApiError(400, "invalid_argument", "re_assign_hours must be an integer")
            if not 1 <= hours <= MAX_HOURS:
                raise ApiError(
                    400, "out_of_range", f"re_assign_hours must be between 1 and {MAX_HOURS}"
                )
            s.re_assign_hours = hours
        s.save()
        return _json(
            {
                "id": company_id,
                "auto_assign_enabled": s.auto_assign_enabled,
                "re_assign_enabled": s.re_assign_enabled,
                "re_assign_hours": s.re_assign_hours,
            }
        )
    except ApiError as e:
        return _json({"error": e.message, "code": e.code}, e.status)
