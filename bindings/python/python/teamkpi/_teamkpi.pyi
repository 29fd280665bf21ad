"""The native module. Import from ``teamkpi``; see the package docs for the conventions.

Instants are aware ``datetime``s (UTC on the way out), days ``date``s (or ``"YYYY-MM-DD"`` on the
way in), decimals ``Decimal``s (``int``, ``float`` through its shortest repr, or text on the way
in); zones are IANA names or ``ZoneInfo``. Result dicts use the snake_case keys shared with Rust
and Node. Every error is a ``teamkpi.TeamKpiError`` with a stable ``.code``.
"""

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from os import PathLike
from typing import Any, final

from typing_extensions import disjoint_base

from ._native import MetricRows
from ._types import (
    AgentKpi,
    AgentRow,
    AgentState,
    AnalyticsResult,
    Applied,
    AssignmentBatch,
    AssignmentEvent,
    BatchReport,
    BreachScan,
    CallRecord,
    CampaignRecord,
    ContactRecord,
    DashboardStats,
    Day,
    Direction,
    ExternalPeriod,
    Instant,
    KpiAssignmentRow,
    KpiDefinition,
    KpiDefinitionRow,
    MeasurementRow,
    MetricInfo,
    Number,
    PeriodBounds,
    RangeMeasurement,
    SessionRecord,
    SlaAnalyticsRow,
    SlaBreachList,
    SlaEvaluation,
    StoreSettings,
    TicketMetricsRow,
    TicketRecord,
    TicketTimeline,
    UpdateReport,
    WeightIssue,
    Zone,
)

__version__: str
ERROR_CODES: list[str]
NULL_INSTANT: int

__all__ = [
    "_panic_for_tests",
    "__version__",
    "ERROR_CODES",
    "NULL_INSTANT",
    "BusinessCalendar",
    "SlaPolicy",
    "Engine",
    "Assigner",
    "Store",
    "SqliteStore",
    "PostgresStore",
    "LiveMetrics",
    "ticket_events",
    "achievement",
    "overall_score",
    "performance_score",
    "validate_weights",
    "score_band",
    "evaluate_formula",
    "check_formula",
    "convert_unit",
    "kpi_source",
    "validate_definition",
    "measure_range",
    "metric_catalog",
    "period_bounds",
    "periods",
    "date_range",
    "ticket_metrics",
    "_ticket_metrics_buffers",
    "_datetime_fast_path",
    "call_center_dashboard",
    "analytics",
    "sla_analytics",
    "sla_breaches",
    "timelines_from_tickets",
    "update_kpis",
    "agent_kpi",
]

_Record = Mapping[str, Any]
_Hours = Mapping[str, Sequence[tuple[str, str] | Sequence[str]]]

@final
class BusinessCalendar:
    """Opening hours in a zone, with holidays and overrides; business-time arithmetic."""

    def __new__(
        cls,
        timezone: Zone,
        hours: _Hours,
        holidays: Iterable[Day] | None = None,
        *,
        overrides: Mapping[dt.date | str, Sequence[tuple[str, str] | Sequence[str]]] | None = None,
        deadline_at_close: str = "stay",
    ) -> BusinessCalendar: ...
    @staticmethod
    def always_open(timezone: Zone | None = None) -> BusinessCalendar: ...
    @staticmethod
    def from_dict(spec: _Record) -> BusinessCalendar: ...
    def to_dict(self) -> dict[str, Any]: ...
    @property
    def timezone(self) -> str: ...
    def add_business_seconds(self, start: Instant, seconds: int) -> dt.datetime: ...
    def business_seconds_between(self, start: Instant, end: Instant) -> int: ...
    def is_open(self, at: Instant) -> bool: ...
    def next_open(self, at: Instant) -> dt.datetime: ...

@final
class SlaPolicy:
    """Per-priority SLA targets on a calendar, pause statuses and an at-risk threshold."""

    def __new__(cls, spec: _Record) -> SlaPolicy: ...
    @property
    def name(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...
    def evaluate(self, ticket: _Record, now: Instant) -> SlaEvaluation: ...
    def scan(
        self, tickets: Iterable[_Record], now: Instant, already_alerted: Iterable[str] | None = None
    ) -> BreachScan: ...

@final
class Engine:
    """The incremental engine over lifecycle events; thread-safe."""

    def __new__(
        cls,
        timezone: Zone | None = None,
        *,
        tenant: str | None = None,
        calendar: BusinessCalendar | _Record | None = None,
        sla: SlaPolicy | _Record | None = None,
        quantiles: bool = True,
        strict: bool = False,
    ) -> Engine: ...
    def apply(self, event: _Record) -> Applied: ...
    def apply_many(self, events: Iterable[_Record]) -> BatchReport: ...
    def rows(self, period: str = "day") -> list[TicketMetricsRow]: ...
    def agent_metrics(
        self, agent_id: int | None, day: Day, period: str = "day"
    ) -> TicketMetricsRow | None: ...
    def evict_before(self, before: Instant) -> int: ...
    @property
    def tickets_in_memory(self) -> int: ...
    def pending(self) -> list[int]: ...
    def snapshots(self) -> list[TicketRecord]: ...
    def calls(self) -> list[CallRecord]: ...
    def sessions(self) -> list[SessionRecord]: ...

@final
class Assigner:
    """Least-busy / round-robin assignment over agents; thread-safe."""

    def __new__(cls, agents: Iterable[_Record], policy: _Record | None = None) -> Assigner: ...
    def pick(self, item: _Record, now: Instant, *, exclude: Sequence[int] | None = None) -> int: ...
    def assign(self, item: _Record, now: Instant) -> AssignmentEvent: ...
    def auto_assign(self, item: _Record, settings: _Record, now: Instant) -> AssignmentEvent: ...
    def drain(self, items: Iterable[_Record], now: Instant) -> AssignmentBatch: ...
    def reassign_stale(
        self,
        items: Iterable[_Record],
        settings: _Record,
        now: Instant,
        *,
        inactive_hours: int | None = None,
    ) -> AssignmentBatch: ...
    def set_status(self, agent_id: int, status: str) -> None: ...
    def touch(self, agent_id: int, at: Instant) -> None: ...
    def set_load(self, agent_id: int, kind: str, load: int) -> None: ...
    def release(self, agent_id: int, kind: str) -> None: ...
    def add_agent(self, agent: _Record) -> None: ...
    def remove_agent(self, agent_id: int) -> AgentState: ...
    def agent(self, agent_id: int) -> AgentState | None: ...
    def agents(self) -> list[AgentState]: ...
    def workload(self) -> list[Any]: ...

@disjoint_base
class Store:
    """A teamkpi store (open one with ``SqliteStore`` or ``PostgresStore``); thread-safe."""

    def upsert_definition(self, definition: _Record) -> None: ...
    def definition(
        self, key: str | int, *, tenant: str | None = None
    ) -> KpiDefinitionRow | None: ...
    def definitions(self, *, tenant: str | None = None) -> list[KpiDefinitionRow]: ...
    def insert_assignment(self, assignment: _Record) -> KpiAssignmentRow: ...
    def update_assignment(self, assignment: _Record) -> None: ...
    def assignment(
        self, assignment_id: int, *, tenant: str | None = None
    ) -> KpiAssignmentRow | None: ...
    def assignments(
        self,
        *,
        tenant: str | None = None,
        agent_id: int | None = None,
        definition: str | None = None,
        start: Day | None = None,
        end: Day | None = None,
        include_inactive: bool = False,
    ) -> list[KpiAssignmentRow]: ...
    def upsert_measurement(self, measurement: _Record) -> int: ...
    def measurements(
        self, assignment_id: int, *, tenant: str | None = None
    ) -> list[MeasurementRow]: ...
    def latest_measurement(
        self, assignment_id: int, *, tenant: str | None = None
    ) -> MeasurementRow | None: ...
    def record_manual_value(self, value: _Record, *, tenant: str | None = None) -> None: ...
    def put_tickets(self, tickets: Iterable[_Record | tuple[Any, ...]]) -> int: ...
    def tickets(
        self, start: Instant, end: Instant, *, tenant: str | None = None
    ) -> list[TicketRecord]: ...
    def open_tickets(self, *, tenant: str | None = None) -> list[TicketRecord]: ...
    def put_calls(self, calls: Iterable[_Record]) -> int: ...
    def calls(
        self, start: Instant, end: Instant, *, tenant: str | None = None
    ) -> list[CallRecord]: ...
    def put_sessions(self, sessions: Iterable[_Record]) -> int: ...
    def sessions(
        self, start: Instant, end: Instant, *, tenant: str | None = None
    ) -> list[SessionRecord]: ...
    def put_contacts(self, contacts: Iterable[_Record]) -> int: ...
    def contacts(self, *, tenant: str | None = None) -> list[ContactRecord]: ...
    def put_campaigns(self, campaigns: Iterable[_Record]) -> int: ...
    def campaigns(self, *, tenant: str | None = None) -> list[CampaignRecord]: ...
    def put_agents(self, agents: Iterable[_Record]) -> int: ...
    def agents(self, *, tenant: str | None = None) -> list[AgentRow]: ...
    def settings(self, *, tenant: str | None = None) -> StoreSettings: ...
    def put_settings(
        self,
        *,
        timezone: str | None = None,
        assignment: Mapping[str, Any] | None = None,
        sla: SlaPolicy | Mapping[str, Any] | None = None,
        clear_sla: bool = False,
        calendar: BusinessCalendar | Mapping[str, Any] | None = None,
        clear_calendar: bool = False,
        tenant: str | None = None,
    ) -> None:
        """Changes the company settings; what is not given stays."""

@final
class SqliteStore(Store):
    """The embedded SQLite store: a file, or a private in-memory database (no path)."""

    def __new__(cls, path: str | PathLike[str] | None = None) -> SqliteStore: ...

@final
class PostgresStore(Store):
    """The PostgreSQL store (``postgres://user@host:port/db``)."""

    def __new__(cls, url: str) -> PostgresStore: ...

@final
class LiveMetrics:
    """Live metrics held in a store, shared by every process; thread-safe."""

    def __new__(
        cls,
        store: Store,
        *,
        timezone: Zone | None = None,
        sla: SlaPolicy | _Record | None = None,
        calendar: BusinessCalendar | _Record | None = None,
        tenant: str | None = None,
        quantiles: bool = True,
        strict: bool = False,
    ) -> LiveMetrics: ...
    def apply(self, events: _Record | Iterable[_Record]) -> BatchReport: ...
    def apply_records(
        self,
        *,
        tickets: Iterable[_Record] | None = None,
        calls: Iterable[_Record] | None = None,
        sessions: Iterable[_Record] | None = None,
        batch: int = 1000,
    ) -> dict[str, int]: ...
    def apply_tickets(self, tickets: Iterable[_Record], *, batch: int = 1000) -> dict[str, int]: ...
    def backfill(
        self,
        start: Instant,
        end: Instant,
        *,
        batch: int = 1000,
        progress: Callable[[dict[str, int]], object] | None = None,
    ) -> dict[str, int]: ...
    def rows(
        self,
        start: Day,
        end: Day,
        *,
        period: str = "day",
        group_by: str = "agent",
        agent_id: int | None = None,
        team: str | None = None,
        now: Instant | None = None,
    ) -> list[TicketMetricsRow]: ...
    def metrics(
        self, agent_id: int, day: Day, *, period: str = "day", now: Instant | None = None
    ) -> TicketMetricsRow | None: ...
    def analytics(
        self, result: str, *, now: Instant, days: int = 30, agent_id: int | None = None
    ) -> AnalyticsResult: ...
    def sla_analytics(
        self,
        start: Instant,
        end: Instant,
        *,
        now: Instant,
        group_by: str | None = None,
        agent_id: int | None = None,
    ) -> list[SlaAnalyticsRow]: ...
    def sla_breaches(self, *, now: Instant, agent_id: int | None = None) -> SlaBreachList: ...
    def update_kpis(
        self,
        *,
        now: Instant,
        date: Day | None = None,
        days: int | None = None,
        agent_id: int | None = None,
        cap: Number | None = None,
        floor: Number | None = None,
        external: Callable[[KpiDefinition, KpiAssignmentRow, ExternalPeriod], Number | None]
        | None = None,
    ) -> UpdateReport: ...
    def measure_range(
        self,
        assignment_id: int,
        start: Day,
        end: Day,
        *,
        now: Instant,
        cap: Number | None = None,
        floor: Number | None = None,
        external: Callable[[KpiDefinition, KpiAssignmentRow, ExternalPeriod], Number | None]
        | None = None,
    ) -> RangeMeasurement: ...
    def agent_kpi(self, agent_id: int, day: Day) -> AgentKpi: ...
    def dashboard(
        self,
        agent_id: int,
        date: Day,
        *,
        now: Instant,
        contacts: Iterable[_Record] | None = None,
        campaigns: Iterable[_Record] | None = None,
    ) -> DashboardStats: ...
    def open_tickets(self) -> list[TicketRecord]: ...
    def evict(self, before: Instant) -> int: ...
    def reset(self) -> None: ...
    @property
    def settings(self) -> dict[str, Any]: ...

def ticket_events(ticket: _Record) -> list[dict[str, Any]]: ...
def _panic_for_tests(target: Engine | Assigner | None = None) -> None:
    """Panics inside the binding's guard (tests only; not part of the API)."""

def achievement(
    actual: Number,
    target: Number,
    direction: Direction | str,
    *,
    cap: Number | None = None,
    floor: Number | None = None,
    zero_target: str = "zero",
) -> Decimal: ...
def overall_score(
    items: Iterable[tuple[Number, Number | None] | _Record],
    *,
    cap: Number | None = None,
    floor: Number | None = None,
) -> Decimal | None: ...
def performance_score(
    resolution_rate: Number | None,
    avg_response_hours: Number | None,
    sla_compliance_rate: Number | None,
    *,
    weights: Mapping[str, Number] | None = None,
    horizon_hours: Number | None = None,
) -> Decimal | None: ...
def validate_weights(assignments: Iterable[_Record], on: Day) -> list[WeightIssue]: ...
def score_band(score: Number, bands: Iterable[_Record] | None = None) -> str | None: ...
def evaluate_formula(expression: str, values: Mapping[str, Number | None]) -> Decimal | None: ...
def check_formula(expression: str) -> list[str]: ...
def convert_unit(value: Number, from_unit: str, to_unit: str) -> Decimal: ...
def kpi_source(calculation_type: str, config: _Record) -> dict[str, Any]: ...
def validate_definition(definition: _Record) -> KpiDefinition: ...
def metric_catalog() -> list[MetricInfo]: ...
def period_bounds(kind: str, day: Day, timezone: Zone | None = None) -> PeriodBounds: ...
def periods(kind: str, start: Day, end: Day) -> list[dict[str, dt.date]]: ...
def date_range(
    helper: str, now: Instant, timezone: Zone | None = None, days: int | None = None
) -> dict[str, dt.date]: ...
def ticket_metrics(
    tickets: Iterable[_Record | tuple[Any, ...]],
    *,
    timezone: Zone | None = None,
    period: str | None = None,
    group_by: str = "agent",
    calendar: BusinessCalendar | _Record | None = None,
    sla: SlaPolicy | _Record | None = None,
    as_of: Instant | None = None,
    quantiles: bool = True,
    windows: _Record | None = None,
    tenant: str | None = None,
) -> MetricRows: ...
def _datetime_fast_path() -> bool:
    """Whether aware UTC datetimes are read from the object (this interpreter's layout was
    checked); otherwise through their attributes. Both give the same instants."""

def _ticket_metrics_buffers(
    id: Any,
    agent_id: Any,
    agent_valid: Any,
    priority: Any,
    priority_labels: Sequence[str],
    created_at: Any,
    first_response_at: Any,
    resolved_at: Any,
    *,
    threads: int = 1,
    output: str = "rows",
    **options: Any,  # ticket_metrics' keyword options
) -> MetricRows | tuple[dict[str, tuple[str, Any]], list[dict[str, Any]]]: ...
def call_center_dashboard(
    agent_id: int,
    date: Day,
    *,
    calls: Iterable[_Record],
    now: Instant,
    sessions: Iterable[_Record] | None = None,
    contacts: Iterable[_Record] | None = None,
    campaigns: Iterable[_Record] | None = None,
    timezone: Zone | None = None,
    tenant: str | None = None,
) -> DashboardStats: ...
def analytics(
    result: str,
    tickets: Iterable[_Record | tuple[Any, ...]],
    *,
    now: Instant,
    days: int = 30,
    agent_id: int | None = None,
    timezone: Zone | None = None,
    sla: SlaPolicy | _Record | None = None,
    tenant: str | None = None,
) -> AnalyticsResult: ...
def sla_analytics(
    policy: SlaPolicy | _Record,
    tickets: Iterable[_Record],
    *,
    now: Instant,
    start: Instant,
    end: Instant,
    group_by: str | None = None,
) -> list[SlaAnalyticsRow]: ...
def sla_breaches(
    policy: SlaPolicy | _Record,
    tickets: Iterable[_Record],
    *,
    now: Instant,
    agent_id: int | None = None,
    already_alerted: Iterable[str] | None = None,
) -> SlaBreachList: ...
def timelines_from_tickets(
    tickets: Iterable[_Record | tuple[Any, ...]],
) -> list[TicketTimeline]: ...
def update_kpis(
    store: Store,
    *,
    now: Instant,
    date: Day | None = None,
    days: int | None = None,
    agent_id: int | None = None,
    engine: Engine | None = None,
    tickets: Iterable[_Record | tuple[Any, ...]] | None = None,
    calls: Iterable[_Record] | None = None,
    sessions: Iterable[_Record] | None = None,
    tenant: str | None = None,
    timezone: Zone | None = None,
    sla: SlaPolicy | _Record | None = None,
    calendar: BusinessCalendar | _Record | None = None,
    cap: Number | None = None,
    floor: Number | None = None,
    external: Callable[[KpiDefinition, KpiAssignmentRow, ExternalPeriod], Number | None]
    | None = None,
) -> UpdateReport: ...
def measure_range(
    store: Store,
    assignment_id: int,
    start: Day,
    end: Day,
    *,
    now: Instant,
    engine: Engine | None = None,
    tickets: Iterable[_Record | tuple[Any, ...]] | None = None,
    calls: Iterable[_Record] | None = None,
    sessions: Iterable[_Record] | None = None,
    tenant: str | None = None,
    timezone: Zone | None = None,
    sla: SlaPolicy | _Record | None = None,
    calendar: BusinessCalendar | _Record | None = None,
    cap: Number | None = None,
    floor: Number | None = None,
    external: Callable[[KpiDefinition, KpiAssignmentRow, ExternalPeriod], Number | None]
    | None = None,
) -> RangeMeasurement: ...
def agent_kpi(
    store: Store,
    agent_id: int,
    day: Day,
    *,
    engine: Engine | None = None,
    tickets: Iterable[_Record | tuple[Any, ...]] | None = None,
    tenant: str | None = None,
    timezone: Zone | None = None,
) -> AgentKpi: ...
