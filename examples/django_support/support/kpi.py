"""The support desk's KPIs, computed by teamkpi instead of by hand.

- `store()`: the teamkpi store with KPI definitions, assignments, measurements and the live
  metrics every process of the desk shares (web workers, Celery workers, cron jobs).
- `live()`: the live metrics: the signals apply one event per ticket save, agent message and
  transfer (`apply_events`), and every figure below reads them — no ticket scan.
- `snapshots()`: tickets as teamkpi ticket dicts (assignee history from transfers, agent
  messages, with their row ids), what `backfill()` loads into live state.
- `refresh_agent_day()`: the support desk's `calculate_agent_kpi(agent)` — one agent's AgentKPI row
for a
  day (total tickets, overall KPI score), used by the real-time signals.
- `update_kpis()`: the support desk's management command — measurements for today, the last N
  days, a day,
  or one agent, then the AgentKPI rows of those days.

Event ids follow teamkpi's scheme for records (`ticket:{id}:created`, `ticket:{id}:resolved`,
`ticket:{id}:closed`, `transfer:{id}`, `message:{id}`, `customer_message:{id}`, `status:{id}`),
the ids a backfill derives from the same rows: an event applied twice — by a hook and by a
backfill, or by two hooks — counts once. Status changes and customer messages reach the SLA
clocks: the policy's pause statuses stop them, a customer message opens a next-response cycle.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

import teamkpi

from .models import Agent, AgentKPI, Message, Ticket, TicketStatusChange, TicketTransfer

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_stores: dict[str, teamkpi.Store] = {}
_lives: dict[str, teamkpi.LiveMetrics] = {}


def store() -> teamkpi.Store:
    """The teamkpi store named by `settings.TEAMKPI_STORE` (opened once per process; teamkpi
    stores are thread-safe)."""
    where = str(settings.TEAMKPI_STORE)
    with _lock:
        if where not in _stores:
            if where.startswith(("postgres://", "postgresql://")):
                _stores[where] = teamkpi.PostgresStore(where)
            else:
                _stores[where] = teamkpi.SqliteStore(where)
        return _stores[where]


def live() -> teamkpi.LiveMetrics:
    """The live metrics in `store()`, with the desk's zone and SLA policy (opened once per
    process). Changing either later needs a rebuild: `backfill --reset`."""
    where = str(settings.TEAMKPI_STORE)
    with _lock:
        found = _lives.get(where)
    if found is None:
        found = teamkpi.LiveMetrics(store(), timezone=zone(), sla=settings.SUPPORT_SLA_POLICY)
        with _lock:
            found = _lives.setdefault(where, found)
    return found


def zone() -> str:
    return str(settings.TEAMKPI_TIMEZONE)


def event(kind: str, key: str, at: Any, ticket_id: int, **fields: Any) -> dict[str, Any]:
    """One live event; its id is the model row's, so a hook that runs twice changes nothing."""
    return {"id": key, "at": at, "type": kind, "ticket_id": ticket_id, **fields}


def ticket_events(t: Ticket, *, created: bool) -> list[dict[str, Any]]:
    """A ticket save's events: its creation (with the first assignee), its resolution, its
    closing — the instants the model stamps."""
    events: list[dict[str, Any]] = []
    if created:
        events.append(
            event(
                "ticket_created",
                f"ticket:{t.pk}:created",
                t.created_at,
                t.pk,
                agent_id=t.assigned_agent_id,
                priority=t.priority,
            )
        )
    if t.resolved_at is not None:
        events.append(event("resolved", f"ticket:{t.pk}:resolved", t.resolved_at, t.pk))
    if t.closed_at is not None:
        events.append(event("closed", f"ticket:{t.pk}:closed", t.closed_at, t.pk))
    return events


def transfer_event(x: TicketTransfer) -> dict[str, Any]:
    return event(
        "ticket_transferred",
        f"transfer:{x.pk}",
        x.at,
        x.ticket_id,
        **{"from": x.from_agent_id, "to": x.to_agent_id},
    )


def message_event(m: Message) -> dict[str, Any]:
    """An agent's reply, or a customer's message (which opens a next-response cycle)."""
    if m.sender_type == "customer":
        return event("customer_replied", f"customer_message:{m.pk}", m.created_at, m.ticket_id)
    return event("agent_replied", f"message:{m.pk}", m.created_at, m.ticket_id, agent_id=m.agent_id)


def status_event(change: TicketStatusChange) -> dict[str, Any]:
    return event(
        "status_changed", f"status:{change.pk}", change.at, change.ticket_id, status=change.status
    )


def apply_events(events: list[dict[str, Any]], agents: Iterable[int | None]) -> None:
    """Applies a hook's events to the live metrics, then refreshes the AgentKPI rows of the
    agents concerned. An event refused in context is logged; a backfill repairs what a failed
    hook missed."""
    report = live().apply(events)
    for r in report["rejected"]:
        logger.warning("live event %s refused: %s (%s)", r["id"], r["code"], r["message"])
    for agent_id in sorted({a for a in agents if a is not None}):
        refresh_agent_day(agent_id)


def backfill(
    *, batch: int = 500, progress: Callable[[dict[str, Any]], None] | None = None
) -> dict[str, Any]:
    """Loads every ticket (its creation, transfers, agent messages, resolution, closing) into
    the live metrics, `batch` tickets at a time, with the ids the hooks use: running it again,
    or after hooks, changes nothing. Returns the counts and the seconds it took."""
    started = time.perf_counter()
    total = {"tickets": 0, "applied": 0, "duplicates": 0, "rejected": 0}
    last = 0
    while True:
        chunk = list(_tickets(Ticket.objects.filter(pk__gt=last).order_by("pk"))[:batch])
        if not chunk:
            break
        r = live().apply_tickets([snapshot(t) for t in chunk])
        for k in total:
            total[k] += r[k]
        last = chunk[-1].pk
        if progress is not None:
            progress(dict(total))
    return {**total, "seconds": round(time.perf_counter() - started, 3)}


def _tickets(qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return qs.prefetch_related(
        Prefetch("transfers", queryset=TicketTransfer.objects.order_by("at", "pk")),
        Prefetch("messages", queryset=Message.objects.order_by("created_at", "pk")),
        Prefetch("status_changes", queryset=TicketStatusChange.objects.order_by("at", "pk")),
    )


def snapshot(t: Ticket) -> dict[str, Any]:
    """A ticket as teamkpi reads it. The current assignee plus the transfer history lets teamkpi
    credit each agent for the time the ticket was theirs (the attribution rules of
    docs/semantics.md)."""
    return {
        "id": t.pk,
        "agent_id": t.assigned_agent_id,
        "priority": t.priority,
        "status": t.status,
        "created_at": t.created_at,
        "first_response_at": t.first_response_at,
        "resolved_at": t.resolved_at,
        "closed_at": t.closed_at,
        "transfers": [
            {"id": x.pk, "at": x.at, "from": x.from_agent_id, "to": x.to_agent_id}
            for x in t.transfers.all()
        ],
        "agent_messages": [
            {"id": m.pk, "at": m.created_at, "agent_id": m.agent_id}
            for m in t.messages.all()
            if m.sender_type == "agent"
        ],
        "customer_messages": [
            {"id": m.pk, "at": m.created_at}
            for m in t.messages.all()
            if m.sender_type == "customer"
        ],
        "status_history": [
            {"id": x.pk, "at": x.at, "status": x.status} for x in t.status_changes.all()
        ],
    }


def snapshots(start: dt.datetime | None = None, end: dt.datetime | None = None) -> list[dict]:
    """Tickets with activity in `[start, end)` (all when no window)."""
    qs = Ticket.objects.all()
    if end is not None:
        qs = qs.filter(created_at__lt=end)
    if start is not None:
        qs = qs.filter(
            Q(created_at__gte=start)
            | Q(resolved_at__gte=start)
            | Q(first_response_at__gte=start)
            | Q(closed_at__gte=start)
            | Q(transfers__at__gte=start)
            | Q(messages__created_at__gte=start)
            | Q(status_changes__at__gte=start)
            | Q(resolved_at__isnull=True)
        ).distinct()
    return [snapshot(t) for t in _tickets(qs.order_by("pk"))]


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    b = teamkpi.period_bounds("day", day, zone())
    return b["utc_start"], b["utc_end"]


def today() -> dt.date:
    return teamkpi.date_range("today", timezone.now(), zone())["start"]


def refresh_agent_day(agent_id: int, day: dt.date | None = None) -> AgentKPI:
    """The support desk's `calculate_agent_kpi(agent)`: recomputes the agent's KPI measurements for
    the
    day from live figures and stores the AgentKPI row (unique per agent and day)."""
    day = day or today()
    live().update_kpis(now=timezone.now(), date=day, agent_id=agent_id)
    return _store_agent_kpi(agent_id, day)


def _store_agent_kpi(agent_id: int, day: dt.date) -> AgentKPI:
    row = live().agent_kpi(agent_id, day)
    kpi, _ = AgentKPI.objects.update_or_create(
        agent_id=agent_id,
        kpi_date=day,
        defaults={
            "total_tickets": row["total_tickets"],
            "overall_kpi_score": row["overall_kpi_score"],
        },
    )
    return kpi


def update_kpis(
    *, date: dt.date | None = None, days: int | None = None, agent_id: int | None = None
) -> dict[str, Any]:
    """The desk's `update_kpis` command: measurements for the days from live figures (one
    failing KPI never stops the rest), then the AgentKPI rows of every agent and day covered."""
    now = timezone.now()
    if date is not None:
        first = last = date
    else:
        r = teamkpi.date_range("last_n_days", now, zone(), days=days or 1)
        first, last = r["start"], r["end"]
    report = live().update_kpis(now=now, date=date, days=days, agent_id=agent_id)
    agents: Iterable[int] = (
        [agent_id] if agent_id is not None else Agent.objects.values_list("pk", flat=True)
    )
    rows = 0
    for a in agents:
        day = first
        while day <= last:
            _store_agent_kpi(a, day)
            rows += 1
            day += dt.timedelta(days=1)
    return {**report, "agent_kpi_rows": rows, "first_day": first, "last_day": last}


# The support desk's daily scorecard: what `install_kpis` assigns to each agent.
DEFAULT_KPIS = [
    {
        "key": "tickets_resolved",
        "name": "Tickets resolved",
        "unit": "count",
        "direction": "higher_better",
        "period": "daily",
        "source": {"type": "metric", "metric": "tickets_resolved"},
        "target": 5,
        "weight": 40,
    },
    {
        "key": "first_response_hours",
        "name": "Average first response",
        "unit": "hours",
        "direction": "lower_better",
        "period": "daily",
        "source": {"type": "metric", "metric": "avg_first_response_time"},
        "target": 1,
        "weight": 30,
    },
    {
        "key": "resolution_rate",
        "name": "Resolution rate",
        "unit": "percent",
        "direction": "higher_better",
        "period": "weekly",
        "source": {"type": "metric", "metric": "resolution_rate"},
        "target": 80,
        "weight": 30,
    },
]


def install_kpis(agent_ids: Iterable[int], start: dt.date, kpis: list[dict] | None = None) -> int:
    """Upserts the KPI definitions and assigns them to each agent from `start` (an agent that
    already has one keeps it). Returns how many assignments were made."""
    s = store()
    made = 0
    for k in kpis or DEFAULT_KPIS:
        s.upsert_definition({f: v for f, v in k.items() if f not in ("target", "weight")})
    for agent_id in agent_ids:
        have = {a["definition"] for a in s.assignments(agent_id=agent_id)}
        for k in kpis or DEFAULT_KPIS:
            if k["key"] in have:
                continue
            s.insert_assignment(
                {
                    "agent_id": agent_id,
                    "definition": k["key"],
                    "target": k["target"],
                    "weight": k["weight"],
                    "valid_from": start,
                }
            )
            made += 1
    return made
