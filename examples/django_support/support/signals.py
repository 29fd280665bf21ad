"""Real-time KPI updates (the support desk) and auto-assign (the CRM assignment).

Each ticket save, agent message and transfer applies its event to the live metrics shared by
every process, after the transaction commits (`transaction.on_commit`: a rolled-back save
applies nothing), then refreshes the AgentKPI rows of the agents concerned. Handlers never break
the host operation: any error is logged, not raised — the event is then missing from live state
until `python manage.py backfill_live` runs again (it applies only what is missing). They are
switched off by the `DISABLE_SUPPORT_SIGNALS` setting, e.g. in tests of unrelated code
or imports.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone

from . import assignment, kpi
from .models import Client, ClientTask, Message, Ticket, TicketStatusChange, TicketTransfer

logger = logging.getLogger(__name__)


def guarded(handler: Callable[..., None]) -> Callable[..., None]:
    """Skips the handler when signals are disabled and logs instead of raising."""

    @functools.wraps(handler)
    def run(*args: Any, **kwargs: Any) -> None:
        if getattr(settings, "DISABLE_SUPPORT_SIGNALS", False):
            return
        try:
            handler(*args, **kwargs)
        except Exception:
            logger.exception("support signal %s failed; the operation went on", handler.__name__)

    return run


def after_commit(events: list[dict[str, Any]], agents: list[int | None]) -> None:
    """Applies the events once the save is committed; a failure is logged, never raised."""

    def apply() -> None:
        try:
            kpi.apply_events(events, agents)
        except Exception:
            logger.exception(
                "live update of %s failed; the operation went on (backfill_live repairs it)",
                ", ".join(e["id"] for e in events),
            )

    transaction.on_commit(apply)


@receiver(pre_save, sender=Ticket)
def stamp_ticket_times(sender: type, instance: Ticket, **kwargs: Any) -> None:
    # Part of saving a ticket, not a KPI side effect: always on.
    now = timezone.now()
    if instance.status == "resolved" and instance.resolved_at is None:
        instance.resolved_at = now
    if instance.status == "closed":
        instance.resolved_at = instance.resolved_at or now
        instance.closed_at = instance.closed_at or now


@receiver(pre_save, sender=Ticket)
def remember_status(sender: type, instance: Ticket, **kwargs: Any) -> None:
    # The stored status before this save, to record a change (part of saving: always on).
    before = Ticket.objects.filter(pk=instance.pk).values_list("status", flat=True).first()
    instance._status_before = before  # type: ignore[attr-defined]


@receiver(post_save, sender=Ticket)
def record_status_change(sender: type, instance: Ticket, created: bool, **kwargs: Any) -> None:
    """The status history: a row for the first status and for each change (always on)."""
    if created or instance.status != getattr(instance, "_status_before", None):
        at = instance.created_at if created else timezone.now()
        change = TicketStatusChange.objects.create(ticket=instance, status=instance.status, at=at)
        instance._status_change = change  # type: ignore[attr-defined]


@receiver(post_save, sender=Ticket)
@guarded
def ticket_saved(sender: type, instance: Ticket, created: bool, **kwargs: Any) -> None:
    """A new ticket, a resolved or closed ticket and a status change update the assignee's
    KPIs and SLA clocks."""
    events = kpi.ticket_events(instance, created=created)
    change = getattr(instance, "_status_change", None)
    if change is not None:
        events.append(kpi.status_event(change))
        instance._status_change = None  # type: ignore[attr-defined]
    if events:
        after_commit(events, [instance.assigned_agent_id])


@receiver(post_save, sender=TicketTransfer)
@guarded
def ticket_transferred(sender: type, instance: TicketTransfer, created: bool, **kw: Any) -> None:
    """The support desk: a transfer updates the old and the new agent."""
    if not created:
        return
    Ticket.objects.filter(pk=instance.ticket_id).update(assigned_agent_id=instance.to_agent_id)
    after_commit([kpi.transfer_event(instance)], [instance.from_agent_id, instance.to_agent_id])


@receiver(post_save, sender=Message)
@guarded
def message_sent(sender: type, instance: Message, created: bool, **kwargs: Any) -> None:
    """The support desk: an agent's message updates the assignee's KPIs (and is the first response
    when it is the first one); a customer's message opens a next-response cycle."""
    if not created:
        return
    ticket = instance.ticket
    if instance.sender_type == "agent" and ticket.first_response_at is None:
        Ticket.objects.filter(pk=ticket.pk).update(first_response_at=instance.created_at)
    after_commit([kpi.message_event(instance)], [ticket.assigned_agent_id])


@receiver(post_save, sender=ClientTask)
@guarded
def client_contacted(sender: type, instance: ClientTask, created: bool, **kwargs: Any) -> None:
    """The CRM assignment: a new activity with a client is its last contact (never moved back)."""
    if created:
        Client.objects.filter(pk=instance.client_id).filter(
            Q(last_contacted_at__isnull=True) | Q(last_contacted_at__lt=instance.created_at)
        ).update(last_contacted_at=instance.created_at)


@receiver(post_save, sender=Client)
@guarded
def client_created(sender: type, instance: Client, created: bool, **kwargs: Any) -> None:
    """The CRM assignment: a new client goes to the least busy agent when auto-assign is on."""
    if created and instance.assigned_agent_id is None:
        assignment.auto_assign(instance)
