"""Typed shapes of the main result dicts (for type checkers; at run time they are plain dicts)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal, TypedDict

Direction = Literal["higher_better", "lower_better", "exact"]
PeriodName = Literal["day", "week", "month", "daily", "weekly", "monthly"]
GroupByName = Literal["agent", "team", "tenant"]
#: An instant: an aware ``datetime`` (a naive one raises ``naive_datetime``).
Instant = dt.datetime
#: A day: a ``date`` or ``"YYYY-MM-DD"``.
Day = dt.date | str
#: A decimal input: ``Decimal``, ``int``, ``float`` (through its shortest repr) or numeric text.
Number = Decimal | int | float | str
#: A time zone: an IANA name or a ``zoneinfo.ZoneInfo``.
Zone = Any


class TicketMetricsRow(TypedDict, total=False):
    """One row of ``ticket_metrics``: a group (agent, team or tenant) and period."""

    agent_id: int | None
    team: str | None
    period_start: dt.date
    period_end: dt.date
    tickets_assigned: int
    tickets_created: int
    tickets_resolved: int
    tickets_reopened: int
    transfers_in: int
    transfers_out: int
    agent_messages: int
    resolution_rate_percent: Decimal | None
    first_response_count: int
    first_response_seconds_sum: int
    avg_first_response_seconds: Decimal | None
    median_first_response_seconds: int | None
    p90_first_response_seconds: int | None
    avg_first_response_business_seconds: Decimal | None
    median_first_response_business_seconds: int | None
    p90_first_response_business_seconds: int | None
    resolution_count: int
    resolution_seconds_sum: int
    avg_resolution_seconds: Decimal | None
    median_resolution_seconds: int | None
    p90_resolution_seconds: int | None
    avg_resolution_business_seconds: Decimal | None
    median_resolution_business_seconds: int | None
    p90_resolution_business_seconds: int | None
    sla_met: int
    sla_breached: int
    sla_compliance_percent: Decimal | None


class TouchedDay(TypedDict):
    """An agent's local day whose daily figures a batch changed."""

    agent_id: int | None
    day: dt.date


class Applied(TypedDict):
    """What ``Engine.apply`` did."""

    duplicate: bool
    pending: bool
    touched: list[TouchedDay]


class RejectedEvent(TypedDict):
    """An event a batch refused in context; the others were applied."""

    index: int
    id: str
    code: str
    message: str


class BatchReport(TypedDict):
    """What a batch of events did (``Engine.apply_many``, ``LiveMetrics.apply``)."""

    applied: int
    duplicates: int
    pending: int
    rejected: list[RejectedEvent]
    touched: list[TouchedDay]


class UpdateReport(TypedDict):
    """What ``update_kpis`` did: counts and one outcome per KPI and period."""

    successes: int
    skipped: int
    failures: int
    outcomes: list[dict[str, Any]]


class AgentKpi(TypedDict):
    """The support desk's AgentKPI row."""

    agent_id: int
    kpi_date: dt.date
    total_tickets: int
    overall_kpi_score: Decimal | None
