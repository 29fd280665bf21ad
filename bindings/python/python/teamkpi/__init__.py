"""teamkpi: the rules of support and call-center team performance.

KPI definitions and targets, achievement and weighted scores, per-agent metrics from tickets and
calls, SLA timing on business calendars, least-busy assignment and re-assignment of stale work —
computed by a Rust core, with Python types in and out: aware ``datetime`` (a naive one raises
``InvalidInputError`` with code ``naive_datetime``), ``date``, ``decimal.Decimal`` and IANA zone
names (or ``zoneinfo.ZoneInfo``). Every error is a ``TeamKpiError`` with a stable ``.code``.
"""

from __future__ import annotations

from ._columns import ticket_metrics_columns
from ._errors import (
    ConflictError,
    FormulaError,
    InvalidInputError,
    NoEligibleAgentError,
    NotFoundError,
    StorageError,
    TeamKpiError,
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
    achievement,
    agent_kpi,
    analytics,
    call_center_dashboard_stats,
    check_formula,
    convert_unit,
    date_range,
    evaluate_formula,
    kpi_source,
    metric_catalog,
    overall_score,
    performance_score,
    period_bounds,
    periods,
    score_band,
    sla_analytics,
    sla_breaches,
    ticket_events,
    ticket_metrics,
    timelines_from_tickets,
    update_kpis,
    validate_definition,
    validate_weights,
)

__all__ = [
    "ERROR_CODES",
    "Assigner",
    "BusinessCalendar",
    "ConflictError",
    "Engine",
    "FormulaError",
    "InvalidInputError",
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
    "call_center_dashboard_stats",
    "check_formula",
    "convert_unit",
    "date_range",
    "evaluate_formula",
    "exception_class",
    "json_default",
    "kpi_source",
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
