"""The CRM assignment's client assignment on teamkpi's assigner: auto-assign on creation (least
busy agent)
and the hourly re-assign job, each writing `ClientEvent` rows."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

import teamkpi

from .models import Agent, Client, ClientEvent, CompanySettings

logger = logging.getLogger(__name__)


def _settings() -> dict[str, Any]:
    s = CompanySettings.current()
    return {
        "auto_assign_enabled": s.auto_assign_enabled,
        "re_assign_enabled": s.re_assign_enabled,
        "re_assign_hours": s.re_assign_hours,
    }


def _agents() -> list[dict[str, Any]]:
    """Agents as the assigner sees them: status, open clients, capacity, last times."""
    rows = Agent.objects.annotate(
        open_clients=Count("clients"), last_assigned=Max("clients__assigned_at")
    ).order_by("pk")
    return [
        {
            "id": a.pk,
            "status": a.status,
            "open_load": {"client": a.open_clients},
            "capacity": a.max_clients,
            "last_assigned_at": a.last_assigned,
            "last_active_at": a.last_active_at,
        }
        for a in rows
    ]


def _item(c: Client) -> dict[str, Any]:
    return {"id": c.pk, "kind": "client", "created_at": c.created_at}


def auto_assign(client: Client, now: dt.datetime | None = None) -> int | None:
    """Assigns a new client to the least busy online agent when the company enables it; returns
    the agent id, or None (disabled, nobody online, everyone at capacity — logged)."""
    now = now or timezone.now()
    agents = _agents()
    if not agents:
        logger.info("auto-assign of client %s skipped: no agents", client.pk)
        return None
    try:
        event = teamkpi.Assigner(agents).auto_assign(_item(client), _settings(), now)
    except teamkpi.NoEligibleAgentError as e:
        logger.info("client %s not auto-assigned: %s", client.pk, e.reason)
        return None
    with transaction.atomic():
        Client.objects.filter(pk=client.pk).update(assigned_agent_id=event["to"], assigned_at=now)
        ClientEvent.objects.create(
            client=client,
            event_type="auto_assigned",
            to_agent_id=event["to"],
            reason=event["reason"],
            created_at=now,
        )
    return int(event["to"])


def re_assign_inactive_clients(now: dt.datetime | None = None) -> int:
    """The CRM assignment's hourly job (the support automation's every 30 minutes): clients
    assigned more than
    `re_assign_hours` ago and not contacted since go to the least busy other agent, as do the
    clients of agents inactive for `SUPPORT_INACTIVE_HOURS`. Returns how many moved."""
    now = now or timezone.now()
    open_items = [
        {
            **_item(c),
            "agent_id": c.assigned_agent_id,
            "assigned_at": c.assigned_at or c.created_at,
            "last_contacted_at": c.last_contacted_at,
        }
        for c in Client.objects.filter(assigned_agent__isnull=False).order_by("pk")
    ]
    agents = _agents()
    if not open_items or not agents:
        return 0
    batch = teamkpi.Assigner(agents).reassign_stale(
        open_items,
        _settings(),
        now,
        inactive_hours=getattr(settings, "SUPPORT_INACTIVE_HOURS", None),
    )
    with transaction.atomic():
        for e in batch["events"]:
            Client.objects.filter(pk=e["item_id"]).update(
                assigned_agent_id=e["to"], assigned_at=now
            )
            ClientEvent.objects.create(
                client_id=e["item_id"],
                event_type="re_assigned",
                from_agent_id=e["from"],
                to_agent_id=e["to"],
                reason=e["reason"],
                created_at=now,
            )
    for u in batch["unassigned"]:
        logger.info("client %s stays with its agent: %s", u["item_id"], u["reason"])
    return len(batch["events"])
