"""Typed shapes of the main result dicts (for type checkers; at run time they are plain dicts)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal, TypedDict

# What `teamkpi.types` exports.
__all__ = [
    "AgentComparison",
    "AgentKpi",
    "AgentRanking",
    "AgentRow",
    "AgentState",
    "AgentWorkload",
    "AnalyticsResult",
    "Applied",
    "AssignmentBatch",
    "AssignmentEvent",
    "BatchReport",
    "BreachScan",
    "CallRecord",
    "CampaignRecord",
    "ContactRecord",
    "CustomerMessage",
    "DashboardStats",
    "Day",
    "DayTrend",
    "Direction",
    "ExternalPeriod",
    "GroupByName",
    "Instant",
    "KpiAssignmentRow",
    "KpiDefinition",
    "KpiDefinitionRow",
    "KpiOutcome",
    "MeasurementRow",
    "MetricInfo",
    "Number",
    "PerformanceAnalytics",
    "PerformanceMetrics",
    "PerformanceTrends",
    "PeriodBounds",
    "PeriodName",
    "RangeMeasurement",
    "RejectedEvent",
    "RejectedItem",
    "RejectedTicket",
    "SessionRecord",
    "SlaAlert",
    "SlaAlertJson",
    "SlaAnalyticsRow",
    "SlaBreachList",
    "SlaEvaluation",
    "StatusChange",
    "StoreSettings",
    "TargetEvaluation",
    "TicketMetricsRow",
    "TicketRecord",
    "TicketTimeline",
    "TouchedDay",
    "Unassigned",
    "UpdateReport",
    "WeekTrend",
    "WeeklyTrends",
    "WeightIssue",
    "WorkloadDistribution",
    "Zone",
]

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
    resolution_paused_seconds_sum: int
    avg_resolution_active_seconds: Decimal | None
    avg_resolution_active_business_seconds: Decimal | None
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


class _KpiOutcomeKeys(TypedDict):
    assignment_id: int
    agent_id: int
    definition: str
    period_start: dt.date
    period_end: dt.date
    outcome: Literal["stored", "skipped", "failed"]


# A base with `total=False` rather than `NotRequired`: postponed annotations hide `NotRequired`
# from `__required_keys__` before Python 3.14.
class KpiOutcome(_KpiOutcomeKeys, total=False):
    """One KPI and period of an ``update_kpis`` run: stored, skipped (no data) or failed."""

    #: Why it was skipped, or the error code of a failure.
    reason: str


class UpdateReport(TypedDict):
    """What ``update_kpis`` did: counts and one outcome per KPI and period."""

    successes: int
    skipped: int
    failures: int
    outcomes: list[KpiOutcome]


class AgentKpi(TypedDict):
    """The support desk's AgentKPI row."""

    agent_id: int
    kpi_date: dt.date
    total_tickets: int
    overall_kpi_score: Decimal | None


class KpiDefinition(TypedDict):
    """A KPI definition (what ``validate_definition`` gives back, in its canonical form)."""

    tenant: str | None
    key: str
    name: str
    description: str | None
    category: str | None
    unit: str
    direction: Direction
    period: str
    source: dict[str, Any]
    active: bool


class KpiDefinitionRow(KpiDefinition):
    """A stored KPI definition with its row ``id`` (the KPI tables' ``kpi_definition_id``)."""

    id: int


class KpiAssignmentRow(TypedDict):
    """A stored assignment (the KPI tables' ``user_kpis`` row)."""

    id: int
    tenant: str | None
    agent_id: int
    definition: str
    target: Decimal
    weight: Decimal
    valid_from: dt.date
    valid_to: dt.date | None
    active: bool
    assigned_by: int | None


class MeasurementRow(TypedDict):
    """A stored measurement of one assignment and period."""

    assignment_id: int
    tenant: str | None
    agent_id: int
    definition: str
    period_start: dt.date
    period_end: dt.date
    complete: bool
    actual: Decimal
    target: Decimal
    achievement: Decimal
    metadata: dict[str, Any]
    calculated_at: dt.datetime
    ad_hoc: bool


class RangeMeasurement(TypedDict):
    """What ``measure_range`` did: the ad-hoc measurement stored, or why there is none."""

    measurement_id: int | None
    measurement: MeasurementRow | None
    #: Why nothing was stored (``None`` when stored).
    reason: str | None


class _StatusChangeKeys(TypedDict):
    at: dt.datetime
    status: str


class StatusChange(_StatusChangeKeys, total=False):
    """A ticket entered ``status`` at ``at`` (pause statuses stop its SLA clocks)."""

    #: The host's id of the status-change record.
    id: int


class _CustomerMessageKeys(TypedDict):
    at: dt.datetime


class CustomerMessage(_CustomerMessageKeys, total=False):
    """A message from the customer (after an agent's reply it opens a next-response cycle)."""

    #: The host's id of the message record.
    id: int


class _TicketRecordKeys(TypedDict):
    tenant: str | None
    id: int
    kind: str
    agent_id: int | None
    team: str | None
    priority: str | None
    status: str | None
    created_at: dt.datetime
    first_response_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    reopened_at: list[dt.datetime]
    transfers: list[dict[str, Any]]
    agent_messages: list[dict[str, Any]]
    last_contacted_at: dt.datetime | None


class TicketRecord(_TicketRecordKeys, total=False):
    """A ticket as a store holds it (what ``put_tickets`` takes, with every field); the status
    history and the customer messages are left out when empty."""

    status_history: list[StatusChange]
    customer_messages: list[CustomerMessage]


class StoreSettings(TypedDict):
    """A company's settings: zone, assignment settings, SLA policy and business calendar
    (``None`` without one)."""

    timezone: str
    assignment: dict[str, Any]
    sla: dict[str, Any] | None
    calendar: dict[str, Any] | None


class PeriodBounds(TypedDict):
    """A natural period's local first and last day and its UTC bounds."""

    start: dt.date
    end: dt.date
    utc_start: dt.datetime
    utc_end: dt.datetime


class MetricInfo(TypedDict):
    """One metric of the catalogue that KPIs and formulas use."""

    key: str
    unit: str
    description: str


class CallRecord(TypedDict):
    """A call (the call-center dashboard's ``calls`` row)."""

    tenant: str | None
    id: int
    agent_id: int
    started_at: dt.datetime
    duration_seconds: int
    outcome: str
    contact_id: int | None
    campaign_id: int | None


class SessionRecord(TypedDict):
    """An agent session interval; ``end`` is ``None`` while it is open."""

    tenant: str | None
    agent_id: int
    kind: str
    start: dt.datetime
    end: dt.datetime | None


class ContactRecord(TypedDict):
    """A contact assigned to an agent."""

    tenant: str | None
    id: int
    agent_id: int | None
    reason: str | None


class CampaignRecord(TypedDict):
    """A campaign."""

    tenant: str | None
    id: int
    active: bool


class AgentState(TypedDict):
    """An agent as the assigner sees it."""

    tenant: str | None
    id: int
    status: str
    open_load: dict[str, int]
    capacity: int | None
    capacity_per_kind: dict[str, int]
    teams: list[str]
    skills: list[str]
    calendar: dict[str, Any] | None
    last_assigned_at: dt.datetime | None
    last_active_at: dt.datetime | None


class AgentRow(AgentState):
    """An agent a store holds, with its name."""

    name: str | None


# A move of an item to an agent (`from` is None for a first assignment); the functional form
# because `from` is a keyword.
AssignmentEvent = TypedDict(
    "AssignmentEvent",
    {"item_id": int, "from": int | None, "to": int, "reason": str, "at": dt.datetime},
)


class Unassigned(TypedDict):
    """An item left where it was, and why."""

    item_id: int
    reason: str


class RejectedItem(TypedDict):
    """An item refused (with its stable code)."""

    item_id: int
    code: str
    reason: str


class AssignmentBatch(TypedDict):
    """The moves of a backlog drain or a stale re-assignment, and what stayed."""

    events: list[AssignmentEvent]
    unassigned: list[Unassigned]
    rejected: list[RejectedItem]


class DashboardStats(TypedDict):
    """The call-center dashboard's figures for an agent's day (its JSON shape)."""

    leads_today: int
    calls_total_today: int
    calls_connected_today: int
    calls_missed_today: int
    total_call_time_today: int
    average_call_time_today: int | float
    total_work_time_today: int
    total_logged_time_today: int
    total_break_time_today: int
    total_contacts: int
    total_rescheduled: int
    active_campaigns: int
    timestamp: str
    date: str


class TargetEvaluation(TypedDict):
    """One SLA target (and response cycle) of a ticket."""

    target: str
    cycle: int
    state: str
    target_seconds: int
    started_at: dt.datetime
    stopped_at: dt.datetime | None
    due_at: dt.datetime | None
    used_seconds: int
    remaining_seconds: int
    late_seconds: int | None


class SlaEvaluation(TypedDict):
    """A ticket's SLA state under a policy at an instant."""

    ticket_id: int
    tenant: str | None
    policy: str
    priority: str
    agent_id: int | None
    team: str | None
    created_at: dt.datetime
    resolved: bool
    has_sla: bool
    targets: list[TargetEvaluation]


class _SlaAlertKeys(TypedDict):
    key: str
    ticket_id: int
    target: str
    cycle: int
    state: str
    late_seconds: int | None
    remaining_seconds: int
    agent_id: int | None
    team: str | None
    priority: str


class SlaAlert(_SlaAlertKeys):
    """A breach or at-risk warning of one SLA target; ``key`` is stable across scans."""

    due_at: dt.datetime | None


class RejectedTicket(TypedDict):
    """A ticket whose timeline was invalid (with its stable code)."""

    ticket_id: int
    code: str
    reason: str


class BreachScan(TypedDict):
    """New breaches and at-risk warnings since the alerts already sent."""

    breaches: list[SlaAlert]
    at_risk: list[SlaAlert]
    rejected: list[RejectedTicket]


class SlaAlertJson(_SlaAlertKeys):
    """A breach in the support automation's JSON shape (``due_at`` as RFC 3339 text)."""

    due_at: str | None


class SlaBreachList(TypedDict):
    """The support automation's breach list."""

    count: int
    breaches: list[SlaAlertJson]


class _SlaAnalyticsKeys(TypedDict):
    total_sla_tasks: int
    breached_count: int
    resolved_on_time: int
    compliance_rate_percent: int | float | None
    breach_rate_percent: int | float | None


class SlaAnalyticsRow(_SlaAnalyticsKeys, total=False):
    """The support automation's SLA analytics for one group (its key only when grouped)."""

    agent_id: int
    team: str
    policy: str


class WeightIssue(TypedDict):
    """An agent whose applying assignments' weights do not sum to 100."""

    tenant: str | None
    agent_id: int
    total: Decimal
    assignment_ids: list[int]


class TicketTimeline(TypedDict):
    """A ticket's SLA timeline: its events in time order."""

    ticket_id: int
    tenant: str | None
    priority: str | None
    created_at: dt.datetime
    agent_id: int | None
    team: str | None
    events: list[dict[str, Any]]


class ExternalPeriod(TypedDict):
    """The period an external KPI's provider is asked about."""

    kind: str
    start: dt.date
    end: dt.date


#: A JSON number as the support automation's shapes carry it (`null` without data).
_Num = int | float | None


class PerformanceAnalytics(TypedDict):
    """``analytics("performance", …)``: the team's or an agent's figures over the window."""

    tickets_handled: int
    tickets_resolved: int
    resolution_rate_percent: _Num
    avg_resolution_time_hours: _Num
    avg_response_time_hours: _Num
    sla_compliance_rate_percent: _Num


class WeekTrend(TypedDict):
    """One 7-day window of ``analytics("trends", …)``."""

    week: int
    week_start: str
    week_end: str
    tickets_created: int
    tickets_resolved: int
    resolution_rate: _Num


class WeeklyTrends(TypedDict):
    """``analytics("trends", …)``."""

    trends: list[WeekTrend]


class AgentRanking(PerformanceAnalytics):
    """One agent of ``analytics("comparison", …)``: its figures, ranked by performance score."""

    rank: int
    agent_id: int
    performance_score: _Num


class AgentComparison(TypedDict):
    """``analytics("comparison", …)``."""

    agents: list[AgentRanking]


class AgentWorkload(TypedDict):
    """One assignee's open backlog by kind."""

    agent_id: int
    open_tickets: int
    open_disputes: int
    open_orders: int
    open_clients: int
    total_open: int


class WorkloadDistribution(TypedDict):
    """``analytics("workload", …)``."""

    agents: list[AgentWorkload]
    unassigned_open: int
    total_open: int


class PerformanceMetrics(TypedDict):
    """``analytics("performance_metrics", …, agent_id=…)``."""

    performance_score: _Num
    tickets_handled: int
    tickets_resolved: int
    resolution_rate: _Num
    avg_response_time_hours: _Num
    avg_resolution_time_hours: _Num
    sla_compliance_rate: _Num
    tickets_resolved_today: int
    tickets_resolved_this_week: int
    tickets_resolved_this_month: int


class DayTrend(TypedDict):
    """One day of ``analytics("performance_trends", …)``."""

    date: str
    tickets_handled: int
    tickets_resolved: int
    resolution_rate: _Num
    avg_response_time_hours: _Num
    avg_resolution_time_hours: _Num
    performance_score: _Num


class PerformanceTrends(TypedDict):
    """``analytics("performance_trends", …)``."""

    trends: list[DayTrend]


#: What ``analytics(result, …)`` gives: the shape named by ``result``.
AnalyticsResult = (
    PerformanceAnalytics
    | WeeklyTrends
    | AgentComparison
    | WorkloadDistribution
    | PerformanceMetrics
    | PerformanceTrends
)
