"""Scheduled jobs (the support desk's schedules, the support automation's intervals), as Celery
tasks when Celery is
installed and as plain functions otherwise (cron, django-q, a management shell).

See the README for a Celery beat schedule and a crontab.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

import teamkpi

from . import assignment, kpi
from .models import SlaAlert

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
def re_assign_inactive_clients() -> int:
    """The CRM assignment: every hour (the support automation reassigns every 30 minutes)."""
    return assignment.re_assign_inactive_clients()
