"""teamkpi: the rules of support and call-center team performance.

KPI definitions and targets, achievement and weighted scores, per-agent metrics from tickets and
calls, SLA timing on business calendars, least-busy assignment and re-assignment of stale work —
computed by a Rust core, with Python types in and out: aware ``datetime`` (a naive one raises
``InvalidInputError`` with code ``naive_datetime``), ``date``, ``decimal.Decimal`` and IANA zone
names (or ``zoneinfo.ZoneInfo``). Every error is a ``TeamKpiError`` with a stable ``.code``.
"""

from __future__ import annotations

import warnings
from typing import Any

from . import _teamkpi
from ._columns import ticket_metrics_columns
from ._errors import (
    ConflictError,
    FormulaError,
    InternalError,
    InvalidInputError,
    InvalidTypeError,
    NoEligibleAgentError,
    NotFoundError,
    StorageError,
    TeamKpiError,
    _coded,
    exception_class,
)
from ._json import json_default
from ._native import MetricColumns, MetricRows
from ._teamkpi import (
    ERROR_CODES,
    Assigner,
    BusinessCalendar,
    Engine,
    LiveMetrics,
    PostgresStore,
    SlaPolicy,
    SqliteStore,
    Store,
    __version__,
)
from ._types import DashboardStats

# Module functions raise coded errors for arguments Python itself refuses to convert (a `str`
# where an `int` is expected is `InvalidTypeError`, an int beyond 64 bits `out_of_range`).
achievement = _coded(_teamkpi.achievement)
agent_kpi = _coded(_teamkpi.agent_kpi)
analytics = _coded(_teamkpi.analytics)
call_center_dashboard = _coded(_teamkpi.call_center_dashboard)


def call_center_dashboard_stats(*args: Any, **kwargs: Any) -> DashboardStats:
    """Deprecated: the earlier name of :func:`call_center_dashboard`, which it calls."""
    warnings.warn(
        "call_center_dashboard_stats is deprecated; use call_center_dashboard",
        DeprecationWarning,
        stacklevel=2,
    )
    return call_center_dashboard(*args, **kwargs)


check_formula = _coded(_teamkpi.check_formula)
convert_unit = _coded(_teamkpi.convert_unit)
date_range = _coded(_teamkpi.date_range)
evaluate_formula = _coded(_teamkpi.evaluate_formula)
kpi_source = _coded(_teamkpi.kpi_source)
measure_range = _coded(_teamkpi.measure_range)
metric_catalog = _coded(_teamkpi.metric_catalog)
overall_score = _coded(_teamkpi.overall_score)
performance_score = _coded(_teamkpi.performance_score)
period_bounds = _coded(_teamkpi.period_bounds)
periods = _coded(_teamkpi.periods)
score_band = _coded(_teamkpi.score_band)
sla_analytics = _coded(_teamkpi.sla_analytics)
sla_breaches = _coded(_teamkpi.sla_breaches)
ticket_events = _coded(_teamkpi.ticket_events)
ticket_metrics = _coded(_teamkpi.ticket_metrics)
timelines_from_tickets = _coded(_teamkpi.timelines_from_tickets)
update_kpis = _coded(_teamkpi.update_kpis)
validate_definition = _coded(_teamkpi.validate_definition)
validate_weights = _coded(_teamkpi.validate_weights)

__all__ = [
    "ERROR_CODES",
    "Assigner",
    "BusinessCalendar",
    "ConflictError",
    "Engine",
    "FormulaError",
    "InternalError",
    "InvalidInputError",
    "InvalidTypeError",
    "LiveMetrics",
    "MetricColumns",
    "MetricRows",
    "NoEligibleAgentError",
    "NotFoundError",
    "PostgresStore",
    "SlaPolicy",
    "SqliteStore",
    "StorageError",
    "Store",
    "TeamKpiError",
    "__version__",
    "achievement",
    "agent_kpi",
    "analytics",
    "call_center_dashboard",
    "call_center_dashboard_stats",
    "check_formula",
    "convert_unit",
    "date_range",
    "evaluate_formula",
    "exception_class",
    "json_default",
    "kpi_source",
    "measure_range",
    "metric_catalog",
    "overall_score",
    "performance_score",
    "period_bounds",
    "periods",
    "score_band",
    "sla_analytics",
    "sla_breaches",
    "ticket_events",
    "ticket_metrics",
    "ticket_metrics_columns",
    "timelines_from_tickets",
    "update_kpis",
    "validate_definition",
    "validate_weights",
]
