"""Scheduled jobs (the support desk's schedules, the support automation's intervals), as Celery
tasks when Celery is
installed and as plain functions otherwise (cron, django-q, a management shell).

See the README for a Celery beat schedule and a crontab.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

import teamkpi

from . import assignment, kpi
from .models import Agent, DailyPerformance, SlaAlert, WorkloadTracker

logger = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

try:  # Celery is optional
    from celery import shared_task as _shared_task

    def task(func: F) -> F:
        return _shared_task(name=f"support.{func.__name__}")(func)  # type: ignore[no-any-return]
except ImportError:

    def task(func: F) -> F:
        return func


@task
def update_kpis_today() -> dict[str, Any]:
    """The support desk: every hour."""
    return kpi.update_kpis()


@task
def update_kpis_days(days: int) -> dict[str, Any]:
    """The support desk: daily (1), weekly (7) and monthly (30)."""
    return kpi.update_kpis(days=days)


@task
def check_sla_breaches() -> int:
    """The support automation: every 5 minutes. Records each new breach or at-risk alert once (by
    its teamkpi
    key) and returns how many are new; sending them is the notification system's job."""
    now = timezone.now()
    window = teamkpi.date_range("last_n_days", now, kpi.zone(), days=30)
    tickets = kpi.snapshots(kpi.day_bounds(window["start"])[0], now)
    timelines = teamkpi.timelines_from_tickets(tickets)
    known = set(SlaAlert.objects.values_list("key", flat=True))
    policy = teamkpi.SlaPolicy(settings.SUPPORT_SLA_POLICY)
    scan = policy.scan(timelines, now, known)
    new = 0
    for alert in [*scan["breaches"], *scan["at_risk"]]:
        try:
            with transaction.atomic():
                SlaAlert.objects.create(
                    key=alert["key"],
                    ticket_id=alert["ticket_id"],
                    state=alert["state"],
                    agent_id=alert.get("agent_id"),
                    created_at=now,
                )
            new += 1
        except IntegrityError:  # another worker recorded it first
            continue
    for r in scan["rejected"]:
        logger.warning("ticket %s has no valid SLA timeline: %s", r["ticket_id"], r["code"])
    return new


@task
def update_support_workload_trackers() -> int:
    """The support automation: every 10 minutes. Each agent's open tickets, disputes and orders
    from the live backlog (no ticket scan); returns how many trackers were written."""
    now = timezone.now()
    rows = kpi.live().analytics("workload", now=now)["agents"]
    by_agent = {r["agent_id"]: r for r in rows}
    n = 0
    with transaction.atomic():
        for agent_id in Agent.objects.values_list("pk", flat=True):
            r = by_agent.get(agent_id, {})
            WorkloadTracker.objects.update_or_create(
                agent_id=agent_id,
                defaults={
                    "open_tickets": r.get("open_tickets", 0),
                    "open_disputes": r.get("open_disputes", 0),
                    "open_orders": r.get("open_orders", 0),
                    "total_open": r.get("total_open", 0),
                    "updated_at": now,
                },
            )
            n += 1
    return n


@task
def calculate_support_performance_metrics() -> int:
    """The support automation: daily at 2 AM. Caches each agent's performance figures of the
    day before (the live day rows: one read per agent); returns how many were written."""
    now = timezone.now()
    day = kpi.today() - dt.timedelta(days=1)
    # The day's last second: its window is that local day, its figures as of its end.
    as_of = kpi.day_bounds(day)[1] - dt.timedelta(seconds=1)
    live = kpi.live()
    n = 0
    with transaction.atomic():
        for agent_id in Agent.objects.values_list("pk", flat=True):
            m = live.analytics("performance_metrics", now=as_of, days=1, agent_id=agent_id)
            DailyPerformance.objects.update_or_create(
                agent_id=agent_id,
                date=day,
                defaults={k: m[k] for k in PERFORMANCE_FIELDS},
            )
            n += 1
    logger.info("performance metrics of %s cached for %d agents at %s", day, n, now)
    return n


PERFORMANCE_FIELDS = (
    "performance_score",
    "tickets_handled",
    "tickets_resolved",
    "resolution_rate",
    "avg_response_time_hours",
    "avg_resolution_time_hours",
    "sla_compliance_rate",
)


@task
def re_assign_inactive_clients() -> int:
    """The CRM assignment: every hour (the support automation reassigns every 30 minutes)."""
    return assignment.re_assign_inactive_clients()
