"""The support desk's command: `python manage.py update_kpis [--date D | --days N] [--agent ID]`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from support import kpi
from support.models import Agent


class Command(BaseCommand):
    help = "Recompute KPI measurements and AgentKPI rows: today, the last N days, or one day."

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--days", type=int, help="the N days ending today, today included")
        group.add_argument("--date", type=str, help="one day, YYYY-MM-DD")
        parser.add_argument("--agent", type=int, help="only this agent's KPIs")

    def handle(self, *args: Any, **options: Any) -> None:
        date = None
        if options["date"]:
            try:
                date = dt.date.fromisoformat(options["date"])
            except ValueError as e:
                raise CommandError(f"--date: {e}") from e
        days = options["days"]
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1")
        agent = options["agent"]
        if agent is not None and not Agent.objects.filter(pk=agent).exists():
            raise CommandError(f"unknown agent {agent}")
        report = kpi.update_kpis(date=date, days=days, agent_id=agent)
        self.stdout.write(
            f"KPIs {report['first_day']}..{report['last_day']}: {report['successes']} stored, "
            f"{report['skipped']} skipped (no data), {report['failures']} failed; "
            f"{report['agent_kpi_rows']} AgentKPI rows"
        )
        for o in report["outcomes"]:
            if o["outcome"] == "failed":
                self.stderr.write(
                    f"  failed: agent {o['agent_id']} {o['definition']} "
                    f"{o['period_start']}..{o['period_end']}: {o.get('reason') or ''}"
                )
