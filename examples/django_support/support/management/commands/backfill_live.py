"""`python manage.py backfill_live [--batch N] [--reset]`: load the existing tickets into the
live metrics (once after installing, and to repair a real-time update that failed)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from support import kpi


class Command(BaseCommand):
    help = (
        "Load every ticket's events (creation, transfers, agent messages, resolution, closing) "
        "into teamkpi's live metrics. Idempotent: events already applied are skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=500, help="tickets per transaction")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="delete the live state first (after changing the zone or the SLA policy)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["reset"]:
            kpi.live().reset()
        verbosity = int(options["verbosity"])

        def progress(p: dict[str, Any]) -> None:
            if verbosity > 1:
                self.stdout.write(f"  {p['tickets']} tickets, {p['applied']} events applied")

        r = kpi.backfill(batch=max(1, options["batch"]), progress=progress)
        self.stdout.write(
            f"backfilled {r['tickets']} tickets in {r['seconds']:.2f} s: {r['applied']} events "
            f"applied, {r['duplicates']} already there, {r['rejected']} refused"
        )
