"""The support desk's KPIs, computed by teamkpi instead of by hand.

- `store()`: the teamkpi store with KPI definitions, assignments and measurements.
- `snapshots()`: tickets as teamkpi ticket dicts (assignee history from transfers, agent
  messages), the input of every metric call.
- `refresh_agent_day()`: seed 000's `calculate_agent_kpi(agent)` — one agent's AgentKPI row for a
  day (total tickets, overall KPI score), used by the real-time signals.
- `update_kpis()`: seed 000's management command — measurements for today, the last N days, a day,
  or one agent, then the AgentKPI rows of those days.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

import teamkpi

from .models import Agent, AgentKPI, Message, Ticket, TicketTransfer

_lock = threading.Lock()
_stores: dict[str, teamkpi.Store] = {}


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


def zone() -> str:
    return str(settings.TEAMKPI_TIMEZONE)


def _tickets(qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return qs.prefetch_related(
        Prefetch("transfers", queryset=TicketTransfer.objects.order_by("at", "pk")),
        Prefetch(
            "messages",
            queryset=Message.objects.filter(sender_type="agent").order_by("created_at", "pk"),
        ),
    )


def snapshot(t: Ticket) -> dict[str, Any]:
    """A ticket as teamkpi reads it. The current assignee plus the transfer history lets teamkpi
    credit each agent for the time the ticket was theirs (SPEC §9 attribution)."""
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
            {"at": x.at, "from": x.from_agent_id, "to": x.to_agent_id} for x in t.transfers.all()
        ],
        "agent_messages": [{"at": m.created_at, "agent_id": m.agent_id} for m in t.messages.all()],
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
            | Q(resolved_at__isnull=True)
        ).distinct()
    return [snapshot(t) for t in _tickets(qs.order_by("pk"))]


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    b = teamkpi.period_bounds("day", day, zone())
    return b["utc_start"], b["utc_end"]


def today() -> dt.date:
    return teamkpi.date_range("today", timezone.now(), zone())["start"]


def _month_start(day: dt.date) -> dt.datetime:
    # Weekly and monthly KPIs are recomputed over their whole period (SPEC §9).
    first = teamkpi.period_bounds("month", day, zone())["start"]
    return day_bounds(first)[0] - dt.timedelta(days=7)


def refresh_agent_day(agent_id: int, day: dt.date | None = None) -> AgentKPI:
    """Seed 000's `calculate_agent_kpi(agent)`: recomputes the agent's KPI measurements for the
    day and stores the AgentKPI row (unique per agent and day)."""
    day = day or today()
    now = timezone.now()
    start, end = day_bounds(day)
    tickets = snapshots(_month_start(day), max(end, now))
    teamkpi.update_kpis(
        store(), now=now, date=day, agent_id=agent_id, tickets=tickets, timezone=zone()
    )
    row = teamkpi.agent_kpi(store(), agent_id, day, tickets=tickets, timezone=zone())
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
    """Seed 000's `update_kpis` command: measurements for the days (one failing KPI never stops
    the rest), then the AgentKPI rows of every agent and day covered."""
    now = timezone.now()
    if date is not None:
        first = last = date
    else:
        r = teamkpi.date_range("last_n_days", now, zone(), days=days or 1)
        first, last = r["start"], r["end"]
    tickets = snapshots(_month_start(first), max(day_bounds(last)[1], now))
    report = teamkpi.update_kpis(
        store(),
        now=now,
        date=date,
        days=days,
        agent_id=agent_id,
        tickets=tickets,
        timezone=zone(),
    )
    agents: Iterable[int] = (
        [agent_id] if agent_id is not None else Agent.objects.values_list("pk", flat=True)
    )
    rows = 0
    for a in agents:
        day = first
        while day <= last:
            row = teamkpi.agent_kpi(store(), a, day, tickets=tickets, timezone=zone())
            AgentKPI.objects.update_or_create(
                agent_id=a,
                kpi_date=day,
                defaults={
                    "total_tickets": row["total_tickets"],
                    "overall_kpi_score": row["overall_kpi_score"],
                },
            )
            rows += 1
            day += dt.timedelta(days=1)
    return {**report, "agent_kpi_rows": rows, "first_day": first, "last_day": last}


# Seed 000's daily scorecard: what `install_kpis` assigns to each agent.
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
