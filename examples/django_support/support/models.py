"""Models of the support desk: agents, tickets with their transfers and messages, CRM clients
with their events (the CRM assignment), company assignment settings and the support desk's
AgentKPI."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Agent(models.Model):
    """A support agent (the support desk's `Agent`), linked to a login."""

    STATUSES = [("online", "online"), ("busy", "busy"), ("away", "away"), ("offline", "offline")]

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    status = models.CharField(max_length=16, choices=STATUSES, default="online")
    last_active_at = models.DateTimeField(null=True, blank=True)
    max_clients = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.get_username()


class Ticket(models.Model):
    """A support ticket. `first_response_at` and `resolved_at` are kept by the views/signals."""

    STATUSES = [
        ("open", "open"),
        ("pending", "pending"),
        ("resolved", "resolved"),
        ("closed", "closed"),
    ]
    PRIORITIES = [("low", "low"), ("normal", "normal"), ("high", "high"), ("urgent", "urgent")]

    ticket_number = models.CharField(max_length=32, unique=True)
    assigned_agent = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    status = models.CharField(max_length=16, choices=STATUSES, default="open")
    priority = models.CharField(max_length=16, choices=PRIORITIES, default="normal")
    created_at = models.DateTimeField(default=timezone.now)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.ticket_number


class TicketStatusChange(models.Model):
    """A ticket's status history (recorded on every status change): while a ticket is in one of
    the SLA policy's pause statuses (`pending`, waiting on the customer), its SLA clocks stop."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="status_changes")
    status = models.CharField(max_length=16, choices=Ticket.STATUSES)
    at = models.DateTimeField(default=timezone.now)


class TicketTransfer(models.Model):
    """A ticket moved from one agent to another (the support desk's transfer: both agents count)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="transfers")
    from_agent = models.ForeignKey(
        Agent, null=True, on_delete=models.SET_NULL, related_name="transfers_out"
    )
    to_agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="transfers_in")
    at = models.DateTimeField(default=timezone.now)


class Message(models.Model):
    """A message on a ticket; agent messages update the agent's KPIs (the support desk)."""

    SENDERS = [("agent", "agent"), ("customer", "customer")]

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    sender_type = models.CharField(max_length=16, choices=SENDERS)
    agent = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.SET_NULL)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)


class CompanySettings(models.Model):
    """The CRM assignment's assignment settings of the company (one row)."""

    auto_assign_enabled = models.BooleanField(default=True)
    re_assign_enabled = models.BooleanField(default=False)
    re_assign_hours = models.PositiveIntegerField(default=24)

    @classmethod
    def current(cls) -> CompanySettings:
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj


class Client(models.Model):
    """A CRM client (the CRM assignment), auto-assigned on creation to the least busy agent."""

    name = models.CharField(max_length=200)
    assigned_agent = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="clients"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    last_contacted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)


class ClientTask(models.Model):
    """An activity with a client (a call, a meeting, a follow-up): creating one marks the client
    as contacted (the CRM assignment's `ClientTask`), which keeps it from being re-assigned."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="tasks")
    agent = models.ForeignKey(Agent, null=True, on_delete=models.SET_NULL, related_name="+")
    title = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)


class ClientEvent(models.Model):
    """What happened to a client's assignment (the CRM assignment's `ClientEvent`)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="events")
    event_type = models.CharField(max_length=32)  # auto_assigned, re_assigned
    from_agent = models.ForeignKey(Agent, null=True, on_delete=models.SET_NULL, related_name="+")
    to_agent = models.ForeignKey(Agent, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)


class WorkloadTracker(models.Model):
    """The support automation's workload tracker: an agent's open backlog by kind, refreshed by
    `update_support_workload_trackers` every 10 minutes."""

    agent = models.OneToOneField(
        Agent, primary_key=True, on_delete=models.CASCADE, related_name="workload"
    )
    open_tickets = models.PositiveIntegerField(default=0)
    open_disputes = models.PositiveIntegerField(default=0)
    open_orders = models.PositiveIntegerField(default=0)
    total_open = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)


class DailyPerformance(models.Model):
    """The support automation's daily metric cache: an agent's performance figures of one day,
    written by `calculate_support_performance_metrics` (daily at 2 AM, for the day before); a
    figure without data (no response, no SLA target) is null, not 0."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="daily_performance")
    date = models.DateField()
    performance_score = models.DecimalField(max_digits=7, decimal_places=2, null=True)
    tickets_handled = models.PositiveIntegerField(default=0)
    tickets_resolved = models.PositiveIntegerField(default=0)
    resolution_rate = models.DecimalField(max_digits=7, decimal_places=2, null=True)
    avg_response_time_hours = models.DecimalField(max_digits=12, decimal_places=2, null=True)
    avg_resolution_time_hours = models.DecimalField(max_digits=12, decimal_places=2, null=True)
    sla_compliance_rate = models.DecimalField(max_digits=7, decimal_places=2, null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agent", "date"], name="unique_agent_performance_day")
        ]


class AgentKPI(models.Model):
    """The support desk's daily KPI row: unique per agent and day, updated in real time and by the
    `update_kpis` command."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="kpis")
    kpi_date = models.DateField()
    total_tickets = models.PositiveIntegerField(default=0)
    overall_kpi_score = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agent", "kpi_date"], name="unique_agent_kpi_date")
        ]


class SlaAlert(models.Model):
    """An SLA alert already raised (the support automation's breach checks): its teamkpi key
    `ticket:target:cycle:state` is unique, so a check every 5 minutes alerts once."""

    key = models.CharField(max_length=128, unique=True)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_alerts")
    state = models.CharField(max_length=16)  # at_risk, breached
    agent = models.ForeignKey(Agent, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
