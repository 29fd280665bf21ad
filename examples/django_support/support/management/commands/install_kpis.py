"""`python manage.py install_kpis [--start YYYY-MM-DD]`: the default scorecard for every agent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from support import kpi
from support.models import Agent


class Command(BaseCommand):
    help = "Create the default KPI definitions in the teamkpi store and assign them to agents."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--start", type=dt.date.fromisoformat, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        start = options["start"] or kpi.today().replace(day=1)
        made = kpi.install_kpis(Agent.objects.values_list("pk", flat=True), start)
        self.stdout.write(f"{made} KPI assignments made")
