"""The support desk's workflows on teamkpi: real-time signals applying live events after commit,
the backfill, the update_kpis command, the dashboard endpoints with their access rules, client
auto-assign and re-assign. Figures read from live state are compared with teamkpi's computation
over the ORM's ticket snapshots."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import uuid
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any
from unittest import mock

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import TestCase, override_settings

import teamkpi
from support import assignment, kpi
from support.models import (
    Agent,
    AgentKPI,
    Client,
    ClientEvent,
    ClientTask,
    CompanySettings,
    DailyPerformance,
    Message,
    Ticket,
    TicketTransfer,
    WorkloadTracker,
)

UTC = dt.UTC
NOW = dt.datetime(2025, 11, 5, 15, 0, tzinfo=UTC)  # a Wednesday afternoon
TODAY = NOW.date()


# Logins in tests need no key stretching (Django's default PBKDF2 takes ~1 s a password here).
@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class SupportTestCase(TestCase):
    """A fresh teamkpi store per test, a fixed clock, two agents and an admin."""

    def setUp(self) -> None:
        tmp = Path(self.enterContext(tempfile.TemporaryDirectory()))
        self.enterContext(override_settings(TEAMKPI_STORE=str(tmp / f"{uuid.uuid4().hex}.sqlite")))
        self.enterContext(mock.patch("django.utils.timezone.now", return_value=NOW))
        self.ana = self.agent("ana")
        self.ben = self.agent("ben")
        self.admin = User.objects.create_user("boss", password="pw", is_staff=True)
        kpi.install_kpis([self.ana.pk, self.ben.pk], dt.date(2025, 11, 1))

    def agent(self, name: str, **kw: Any) -> Agent:
        user = User.objects.create_user(name, password="pw")
        return Agent.objects.create(user=user, **kw)

    def ticket(self, agent: Agent | None, at: dt.datetime, **kw: Any) -> Ticket:
        return Ticket.objects.create(
            ticket_number=f"T-{uuid.uuid4().hex[:8]}", assigned_agent=agent, created_at=at, **kw
        )

    def kpi_row(self, agent: Agent, day: dt.date = TODAY) -> AgentKPI:
        return AgentKPI.objects.get(agent=agent, kpi_date=day)

    def committed(self) -> Any:
        """Runs the hooks the block's saves register with `on_commit` when the block ends, as a
        real commit would (a test case's transaction never commits)."""
        return self.captureOnCommitCallbacks(execute=True)

    def backfill(self) -> dict[str, Any]:
        out = StringIO()
        call_command("backfill_live", stdout=out)
        return {"output": out.getvalue()}

    def assert_live_equals_batch(self) -> None:
        """Live day rows equal teamkpi's batch computation over the ORM's snapshots."""
        tickets = kpi.snapshots()
        batch = teamkpi.ticket_metrics(
            tickets, timezone=kpi.zone(), sla=settings.SUPPORT_SLA_POLICY, period="day"
        )
        live = kpi.live().rows(dt.date(2025, 1, 1), dt.date(2026, 12, 31))
        self.assertEqual(live, batch)


class RealTimeSignals(SupportTestCase):
    def test_ticket_creation_counts_for_the_assignee_today(self) -> None:
        with self.committed():
            self.ticket(self.ana, NOW - dt.timedelta(hours=2))
        self.assertEqual(self.kpi_row(self.ana).total_tickets, 1)
        with self.committed():
            self.ticket(self.ana, NOW - dt.timedelta(hours=1))
        self.assertEqual(self.kpi_row(self.ana).total_tickets, 2)
        self.assertFalse(AgentKPI.objects.filter(agent=self.ben).exists())
        self.assert_live_equals_batch()

    def test_nothing_is_applied_before_the_commit(self) -> None:
        with self.captureOnCommitCallbacks(execute=False) as hooks:
            self.ticket(self.ana, NOW - dt.timedelta(hours=2))
        self.assertEqual(len(hooks), 1)
        self.assertEqual(kpi.live().rows(TODAY, TODAY), [])
        self.assertFalse(AgentKPI.objects.exists())

    def test_reply_and_close_update_the_score(self) -> None:
        with self.committed():
            t = self.ticket(self.ana, NOW - dt.timedelta(hours=3))
            Message.objects.create(
                ticket=t,
                sender_type="agent",
                agent=self.ana,
                created_at=NOW - dt.timedelta(hours=2),
            )
        t.refresh_from_db()
        self.assertEqual(t.first_response_at, NOW - dt.timedelta(hours=2))
        with self.committed():
            t.status = "closed"
            t.save()
        row = self.kpi_row(self.ana)
        # tickets_resolved 1 of 5 → 20 %; first response 1 h of 1 h → 100 %; resolution rate
        # 100 % of 80 % → 125 %: 20×0.4 + 100×0.3 + 125×0.3 = 75.5
        self.assertEqual(row.overall_kpi_score, Decimal("75.50"))
        self.assert_live_equals_batch()

    def test_transfer_updates_both_agents(self) -> None:
        with self.committed():
            t = self.ticket(self.ana, NOW - dt.timedelta(hours=3))
            TicketTransfer.objects.create(
                ticket=t, from_agent=self.ana, to_agent=self.ben, at=NOW - dt.timedelta(hours=1)
            )
        t.refresh_from_db()
        self.assertEqual(t.assigned_agent, self.ben)
        self.assertEqual(self.kpi_row(self.ana).total_tickets, 1)
        self.assertEqual(self.kpi_row(self.ben).total_tickets, 1)
        self.assert_live_equals_batch()

    def test_an_event_counts_once_and_a_backfill_changes_nothing(self) -> None:
        with self.committed():
            t = self.ticket(self.ana, NOW - dt.timedelta(hours=3), priority="high")
            m = Message.objects.create(
                ticket=t,
                sender_type="agent",
                agent=self.ana,
                created_at=NOW - dt.timedelta(hours=2),
            )
        # The same message's hook again (a retried task, a second worker): a duplicate.
        report = kpi.live().apply([kpi.message_event(m)])
        self.assertEqual((report["applied"], report["duplicates"]), (0, 1))
        before = kpi.live().rows(TODAY, TODAY)
        # The backfill finds every event applied (the creation, the status the save recorded,
        # the message): nothing to add.
        self.assertIn("0 events applied, 3 already there", self.backfill()["output"])
        self.assertEqual(kpi.live().rows(TODAY, TODAY), before)
        self.assertEqual(before[0]["agent_messages"], 1)
        self.assert_live_equals_batch()

    def test_customer_messages_change_nothing(self) -> None:
        with self.committed():
            t = self.ticket(None, NOW - dt.timedelta(hours=3))
            Message.objects.create(ticket=t, sender_type="customer")
        t.refresh_from_db()
        self.assertIsNone(t.first_response_at)
        self.assertFalse(AgentKPI.objects.exists())

    @override_settings(DISABLE_SUPPORT_SIGNALS=True)
    def test_signals_can_be_switched_off(self) -> None:
        with self.committed():
            self.ticket(self.ana, NOW - dt.timedelta(hours=2))
            Client.objects.create(name="Acme")
        self.assertFalse(AgentKPI.objects.exists())
        self.assertFalse(ClientEvent.objects.exists())
        self.assertEqual(kpi.live().rows(TODAY, TODAY), [])

    def test_a_failing_update_never_breaks_the_ticket_and_a_backfill_repairs_it(self) -> None:
        with (
            mock.patch.object(kpi, "live", side_effect=RuntimeError("store down")),
            self.assertLogs("support.signals", level="ERROR") as logs,
            self.committed(),
        ):
            t = self.ticket(self.ana, NOW - dt.timedelta(hours=2))
        self.assertTrue(Ticket.objects.filter(pk=t.pk).exists())
        self.assertIn("store down", "\n".join(logs.output))
        self.assertIn(f"ticket:{t.pk}:created", "\n".join(logs.output))
        self.assertEqual(kpi.live().rows(TODAY, TODAY), [])
        self.assertIn("2 events applied, 0 already there", self.backfill()["output"])
        self.assert_live_equals_batch()


class UpdateKpisCommand(SupportTestCase):
    def setUp(self) -> None:
        super().setUp()
        with override_settings(DISABLE_SUPPORT_SIGNALS=True):
            for days_ago in range(5):
                at = NOW - dt.timedelta(days=days_ago, hours=3)
                t = self.ticket(self.ana, at, first_response_at=at + dt.timedelta(minutes=30))
                t.status = "resolved"
                t.resolved_at = at + dt.timedelta(hours=2)
                t.save()
            self.ticket(self.ben, NOW - dt.timedelta(days=1))
        self.backfill()

    def run_command(self, *args: str) -> str:
        out = StringIO()
        call_command("update_kpis", *args, stdout=out, stderr=StringIO())
        return out.getvalue()

    def test_today_by_default(self) -> None:
        out = self.run_command()
        self.assertIn("2025-11-05..2025-11-05", out)
        self.assertEqual(self.kpi_row(self.ana).total_tickets, 1)
        self.assertEqual(self.kpi_row(self.ben).total_tickets, 0)

    def test_days_covers_the_last_n_days(self) -> None:
        self.run_command("--days", "7")
        rows = AgentKPI.objects.filter(agent=self.ana).order_by("kpi_date")
        self.assertEqual(len(rows), 7)
        self.assertEqual(sum(r.total_tickets for r in rows), 5)
        # today: 1 resolved of 5 → 20 %; first response 0.5 h against 1 h → 200 %; this week
        # 3 of 3 resolved against 80 % → 125 %: 20×0.4 + 200×0.3 + 125×0.3 = 105.5
        self.assertEqual(self.kpi_row(self.ana).overall_kpi_score, Decimal("105.50"))
        self.assertEqual(self.kpi_row(self.ben, dt.date(2025, 11, 4)).total_tickets, 1)

    def test_one_date_and_one_agent(self) -> None:
        self.run_command("--date", "2025-11-03", "--agent", str(self.ana.pk))
        self.assertEqual(
            list(AgentKPI.objects.values_list("agent_id", "kpi_date")),
            [(self.ana.pk, dt.date(2025, 11, 3))],
        )

    def test_bad_options(self) -> None:
        for args in (["--date", "2025-13-01"], ["--days", "0"], ["--agent", "999"]):
            with self.assertRaises(CommandError):
                self.run_command(*args)


class AnalyticsEndpoints(SupportTestCase):
    BASE = "/api/v1/support-management/dashboard"

    def setUp(self) -> None:
        super().setUp()
        with override_settings(DISABLE_SUPPORT_SIGNALS=True):
            for agent, n in ((self.ana, 3), (self.ben, 1)):
                for i in range(n):
                    at = NOW - dt.timedelta(days=i, hours=4)
                    self.ticket(
                        agent,
                        at,
                        priority="high",
                        first_response_at=at + dt.timedelta(hours=2),
                        status="resolved",
                        resolved_at=at + dt.timedelta(hours=3),
                    )
        self.backfill()

    def get(self, who: str | None, path: str) -> tuple[int, Any]:
        if who:
            self.client.login(username=who, password="pw")
        r = self.client.get(self.BASE + path)
        return r.status_code, r.json()

    def test_agent_sees_only_its_own_figures(self) -> None:
        status, body = self.get("ana", f"/analytics/performance/?days=30&agent_id={self.ben.pk}")
        self.assertEqual(status, 200)
        self.assertEqual(body["tickets_handled"], 3)
        status, body = self.get("ben", "/performance/metrics/?days=30")
        self.assertEqual(status, 200)
        self.assertEqual(body["tickets_handled"], 1)
        self.assertIn("performance_score", body)

    def test_admin_sees_the_team_or_one_agent(self) -> None:
        _, team = self.get("boss", "/analytics/performance/?days=30")
        self.assertEqual(team["tickets_handled"], 4)
        _, one = self.get("boss", f"/analytics/performance/?days=30&agent_id={self.ben.pk}")
        self.assertEqual(one["tickets_handled"], 1)
        status, comparison = self.get("boss", "/analytics/comparison/?days=30")
        self.assertEqual(status, 200)
        self.assertEqual(status, 200, comparison)
        status, workload = self.get("boss", "/analytics/workload/")
        self.assertEqual(status, 200, workload)

    def test_admin_only_endpoints_refuse_agents(self) -> None:
        for path in ("/analytics/comparison/", "/analytics/workload/"):
            status, body = self.get("ana", path)
            self.assertEqual((status, body["code"]), (403, "forbidden"))

    def test_sla_figures_and_breaches(self) -> None:
        # high priority: first response due in 1 h, answered after 2 h → breached
        status, body = self.get("ana", "/analytics/sla/?days=30")
        self.assertEqual(status, 200)
        self.assertEqual(body["total_sla_tasks"], 3)
        self.assertEqual(body["breached_count"], 3)
        # Active breaches are those of open tickets: the resolved ones above are history.
        status, body = self.get("boss", "/sla/breaches/")
        self.assertEqual((status, body["count"]), (200, 0))
        with self.committed():
            # high, open for 3 h without a reply: the first response (1 h) is breached
            self.ticket(self.ben, NOW - dt.timedelta(hours=3), priority="high")
        _, body = self.get("boss", "/sla/breaches/")
        self.assertEqual(body["count"], 1)
        self.assertEqual(
            (body["breaches"][0]["target"], body["breaches"][0]["agent_id"]),
            ("first_response", self.ben.pk),
        )
        _, mine = self.get("ben", "/sla/breaches/")
        self.assertEqual(mine["count"], 1)
        _, theirs = self.get("ana", "/sla/breaches/")
        self.assertEqual(theirs["count"], 0)

    def test_a_hold_pauses_and_a_customer_message_opens_a_reply_cycle(self) -> None:
        def at(hours: float) -> dt.datetime:
            return NOW - dt.timedelta(hours=hours)

        def clock(hours: float) -> Any:
            return mock.patch("django.utils.timezone.now", return_value=at(hours))

        with self.committed(), clock(5):
            t = self.ticket(self.ana, at(5), priority="urgent")
            Message.objects.create(
                ticket=t, sender_type="agent", agent=self.ana, created_at=at(4.9)
            )
        with self.committed(), clock(4.8):
            t.status = "pending"  # waiting on the customer: the SLA clocks stop
            t.save()
        with self.committed(), clock(1):
            Message.objects.create(ticket=t, sender_type="customer", created_at=at(1))
            t.status = "open"
            t.save()
        self.assertEqual(
            list(t.status_changes.values_list("status", flat=True)), ["open", "pending", "open"]
        )
        # At NOW the ticket is 5 h old, 3 h 48 min of them on hold: 72 min of its 4 h resolution
        # are used, no breach (without the hold it would be 1 h late). The customer's message
        # an hour ago has no answer: the 30 min next response is breached.
        _, body = self.get("boss", "/sla/breaches/")
        self.assertEqual(
            [(b["ticket_id"], b["target"]) for b in body["breaches"]], [(t.pk, "next_response")]
        )
        # The same from the ORM's snapshots, and after a backfill (which adds nothing).
        open_now = [x for x in kpi.snapshots() if x["resolved_at"] is None]
        policy = teamkpi.SlaPolicy(settings.SUPPORT_SLA_POLICY)
        want = teamkpi.sla_breaches(policy, teamkpi.timelines_from_tickets(open_now), now=NOW)
        self.assertEqual(kpi.live().sla_breaches(now=NOW), want)
        self.assertIn("0 events applied", self.backfill()["output"])
        self.assertEqual(kpi.live().sla_breaches(now=NOW), want)

    def test_trends_shapes(self) -> None:
        _, body = self.get("ana", "/analytics/trends/?days=14")
        self.assertEqual(len(body["trends"]), 2)
        self.assertEqual(body["trends"][0]["week"], 1)
        status, _ = self.get("ana", "/performance/trends/?days=14")
        self.assertEqual(status, 200)

    def test_auth_and_bad_input(self) -> None:
        status, body = self.get(None, "/analytics/performance/")
        self.assertEqual((status, body["code"]), (401, "unauthenticated"))
        User.objects.create_user("visitor", password="pw")
        status, body = self.get("visitor", "/analytics/performance/")
        self.assertEqual((status, body["code"]), (403, "forbidden"))
        status, body = self.get("ana", "/analytics/performance/?days=0")
        self.assertEqual((status, body["code"]), (400, "invalid_argument"))
        status, body = self.get("boss", "/performance/metrics/")
        self.assertEqual((status, body["code"]), (400, "invalid_argument"))


class ClientAssignment(SupportTestCase):
    def test_new_clients_go_to_the_least_busy_agent(self) -> None:
        first = Client.objects.create(name="Acme")
        second = Client.objects.create(name="Globex")
        first.refresh_from_db()
        second.refresh_from_db()
        self.assertEqual(
            {first.assigned_agent_id, second.assigned_agent_id}, {self.ana.pk, self.ben.pk}
        )
        self.assertEqual(first.assigned_at, NOW)
        events = ClientEvent.objects.filter(event_type="auto_assigned")
        self.assertEqual(events.count(), 2)

    def test_auto_assign_disabled_or_nobody_online(self) -> None:
        settings = CompanySettings.current()
        settings.auto_assign_enabled = False
        settings.save()
        with self.assertLogs("support.assignment", level="INFO") as logs:
            c = Client.objects.create(name="Acme")
            settings.auto_assign_enabled = True
            settings.save()
            Agent.objects.update(status="offline")
            other = Client.objects.create(name="Initech")
        c.refresh_from_db()
        other.refresh_from_db()
        self.assertIsNone(c.assigned_agent_id)
        self.assertIsNone(other.assigned_agent_id)
        self.assertIn("auto_assign_disabled", logs.output[0])
        self.assertIn("nobody_available", logs.output[1])

    def test_hourly_job_moves_uncontacted_clients(self) -> None:
        settings = CompanySettings.current()
        settings.re_assign_enabled = True
        settings.re_assign_hours = 24
        settings.save()
        Agent.objects.update(last_active_at=NOW)
        with override_settings(DISABLE_SUPPORT_SIGNALS=True):
            stale = Client.objects.create(
                name="Stale", assigned_agent=self.ana, assigned_at=NOW - dt.timedelta(hours=30)
            )
            fresh = Client.objects.create(
                name="Fresh",
                assigned_agent=self.ana,
                assigned_at=NOW - dt.timedelta(hours=30),
                last_contacted_at=NOW - dt.timedelta(hours=2),
            )
        moved = assignment.re_assign_inactive_clients()
        self.assertEqual(moved, 1)
        stale.refresh_from_db()
        fresh.refresh_from_db()
        self.assertEqual(stale.assigned_agent, self.ben)
        self.assertEqual(fresh.assigned_agent, self.ana)
        event = ClientEvent.objects.get(event_type="re_assigned")
        self.assertEqual(
            (event.from_agent, event.to_agent, event.reason), (self.ana, self.ben, "not_contacted")
        )

    def test_an_activity_marks_the_client_contacted_and_keeps_it(self) -> None:
        settings = CompanySettings.current()
        settings.re_assign_enabled = True
        settings.save()
        Agent.objects.update(last_active_at=NOW)
        with override_settings(DISABLE_SUPPORT_SIGNALS=True):
            c = Client.objects.create(
                name="Acme", assigned_agent=self.ana, assigned_at=NOW - dt.timedelta(hours=30)
            )
        ClientTask.objects.create(client=c, agent=self.ana, title="call", created_at=NOW)
        # An older activity recorded later never moves the last contact back.
        ClientTask.objects.create(client=c, title="note", created_at=NOW - dt.timedelta(hours=5))
        c.refresh_from_db()
        self.assertEqual(c.last_contacted_at, NOW)
        self.assertEqual(assignment.re_assign_inactive_clients(), 0)
        c.refresh_from_db()
        self.assertEqual(c.assigned_agent, self.ana)

    def test_update_assignment_settings_endpoint(self) -> None:
        url = "/api/companies/1/update_assignment_settings/"

        def patch(who: str | None, body: Any, path: str = url) -> tuple[int, Any]:
            self.client.logout()
            if who:
                self.client.login(username=who, password="pw")
            raw = body if isinstance(body, str) else json.dumps(body)
            r = self.client.patch(path, raw, content_type="application/json")
            return r.status_code, r.json()

        status, body = patch("boss", {"re_assign_enabled": True, "re_assign_hours": 12})
        self.assertEqual(status, 200, body)
        expected = {"auto_assign_enabled": True, "re_assign_enabled": True, "re_assign_hours": 12}
        self.assertEqual(body, {"id": 1, **expected})
        s = CompanySettings.current()
        self.assertEqual((s.re_assign_enabled, s.re_assign_hours), (True, 12))
        for who, bad, code in [
            (None, {}, (401, "unauthenticated")),
            ("ana", {}, (403, "forbidden")),
            ("boss", {"re_assign_hours": 0}, (400, "out_of_range")),
            ("boss", {"re_assign_hours": "12"}, (400, "invalid_argument")),
            ("boss", {"auto_assign_enabled": "yes"}, (400, "invalid_argument")),
            ("boss", {"re_assign_hourz": 3}, (400, "invalid_argument")),
            ("boss", "{not json", (400, "invalid_json")),
        ]:
            status, body = patch(who, bad)
            self.assertEqual((status, body["code"]), code, (who, bad))
        status, body = patch("boss", {}, "/api/companies/2/update_assignment_settings/")
        self.assertEqual((status, body["code"]), (404, "not_found"))
        r = self.client.get(url)
        self.assertEqual(r.status_code, 405)
        self.assertEqual(CompanySettings.current().re_assign_hours, 12)

    def test_inactive_agents_give_their_clients_away(self) -> None:
        Agent.objects.filter(pk=self.ben.pk).update(last_active_at=NOW)
        Agent.objects.filter(pk=self.ana.pk).update(last_active_at=NOW - dt.timedelta(hours=7))
        with override_settings(DISABLE_SUPPORT_SIGNALS=True):
            c = Client.objects.create(name="Acme", assigned_agent=self.ana, assigned_at=NOW)
        self.assertEqual(assignment.re_assign_inactive_clients(), 1)
        c.refresh_from_db()
        self.assertEqual(c.assigned_agent, self.ben)


class ScheduledJobs(SupportTestCase):
    def test_sla_check_alerts_once(self) -> None:
        from support import tasks
        from support.models import SlaAlert

        with override_settings(DISABLE_SUPPORT_SIGNALS=True):
            # high: first response due in 1 h; 2 h without one → breached
            self.ticket(self.ana, NOW - dt.timedelta(hours=2), priority="high")
            # normal: due in 4 h; 3.5 h used ≥ 80 % → at risk
            self.ticket(self.ben, NOW - dt.timedelta(hours=3, minutes=30), priority="normal")
        self.assertEqual(tasks.check_sla_breaches(), 2)
        self.assertEqual(
            sorted(SlaAlert.objects.values_list("state", "agent_id")),
            [("at_risk", self.ben.pk), ("breached", self.ana.pk)],
        )
        self.assertEqual(tasks.check_sla_breaches(), 0)

    def test_kpi_jobs(self) -> None:
        from support import tasks

        with override_settings(DISABLE_SUPPORT_SIGNALS=True):
            self.ticket(self.ana, NOW - dt.timedelta(days=2))
        self.backfill()
        self.assertEqual(tasks.update_kpis_today()["agent_kpi_rows"], 2)
        self.assertEqual(tasks.update_kpis_days(7)["agent_kpi_rows"], 14)
        self.assertEqual(self.kpi_row(self.ana, dt.date(2025, 11, 3)).total_tickets, 1)

    def test_workload_trackers_and_daily_performance(self) -> None:
        from support import tasks

        with override_settings(DISABLE_SUPPORT_SIGNALS=True):
            self.ticket(self.ana, NOW - dt.timedelta(hours=3))
            self.ticket(self.ana, NOW - dt.timedelta(hours=2))
            at = NOW - dt.timedelta(days=1, hours=5)
            self.ticket(
                self.ben,
                at,
                first_response_at=at + dt.timedelta(hours=1),
                status="resolved",
                resolved_at=at + dt.timedelta(hours=3),
            )
        self.backfill()
        self.assertEqual(tasks.update_support_workload_trackers(), 2)
        ana = WorkloadTracker.objects.get(agent=self.ana)
        # This desk's model has tickets only: disputes and orders stay 0.
        self.assertEqual((ana.open_tickets, ana.open_disputes, ana.total_open), (2, 0, 2))
        self.assertEqual(WorkloadTracker.objects.get(agent=self.ben).total_open, 0)
        # Yesterday (4 November): ben resolved one ticket in 3 h after a 1 h first response.
        self.assertEqual(tasks.calculate_support_performance_metrics(), 2)
        ben = DailyPerformance.objects.get(agent=self.ben, date=dt.date(2025, 11, 4))
        self.assertEqual((ben.tickets_handled, ben.tickets_resolved), (1, 1))
        self.assertEqual(ben.avg_response_time_hours, Decimal(1))
        self.assertEqual(ben.avg_resolution_time_hours, Decimal(3))
        self.assertGreater(ben.performance_score, 0)
        # Running again replaces the day's rows.
        self.assertEqual(tasks.calculate_support_performance_metrics(), 2)
        self.assertEqual(DailyPerformance.objects.count(), 2)
