"""The Django support desk's real-time path and reads, timed where the desk runs them.

    python benches/django/desk_bench.py --tickets 50000 [--days 30] [--agents 25] [--runs 15]

Builds a fresh file-backed SQLite database for ``examples/django_support`` (Django's default
autocommit, so ``transaction.on_commit`` hooks fire as in production) with ``--tickets`` tickets
over ``--days`` days, ``--agents`` agents, agent and customer messages and transfers (written with
the signals off, as an existing desk's history), installs the default scorecard, times the
``backfill_live`` command, then times with the signals on: ticket closes, agent messages and
transfers (each the ORM save plus its live update and AgentKPI refresh), ``update_kpis --days
7``, and each analytics endpoint through Django's test client as a logged-in admin. Prints one
JSON object (medians and p90 in milliseconds).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "django_support"


def setup(workdir: Path) -> None:
    os.environ["DJANGO_DB"] = str(workdir / "desk.sqlite3")
    os.environ["TEAMKPI_STORE"] = str(workdir / "teamkpi.sqlite")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportdesk.settings")
    os.environ["DJANGO_DEBUG"] = "0"
    sys.path.insert(0, str(EXAMPLE))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def generate(tickets: int, days: int, agents: int, now: dt.datetime, seed: int) -> None:
    """The desk's history: tickets created evenly over `days` days, most answered, some
    transferred, most resolved and closed; messages from agents and customers."""
    from django.contrib.auth.models import User
    from django.test import override_settings

    from support.models import Agent, Message, Ticket, TicketTransfer

    rng = random.Random(seed)
    users = User.objects.bulk_create(
        [User(username=f"agent{i}", password="!") for i in range(agents)]
    )
    team = Agent.objects.bulk_create([Agent(user=u, status="online") for u in users])
    ids = [a.pk for a in team]
    start = now - dt.timedelta(days=days)
    with override_settings(DISABLE_SUPPORT_SIGNALS=True):
        rows, transfers, messages = [], [], []
        for i in range(tickets):
            created = start + dt.timedelta(seconds=rng.randrange(0, days * 86400))
            agent = rng.choice(ids)
            t = Ticket(
                ticket_number=f"T-{i}",
                assigned_agent_id=agent,
                priority=rng.choice(["low", "normal", "normal", "high", "urgent"]),
                created_at=created,
            )
            at = created + dt.timedelta(minutes=rng.randrange(5, 600))
            if at < now and rng.random() < 0.9:
                t.first_response_at = at
                messages.append((i, "agent", agent, at))
                for _ in range(rng.randrange(0, 3)):
                    at += dt.timedelta(minutes=rng.randrange(10, 900))
                    if at < now:
                        who = rng.choice(["agent", "customer"])
                        messages.append((i, who, agent if who == "agent" else None, at))
            if rng.random() < 0.15:
                at += dt.timedelta(minutes=rng.randrange(10, 1200))
                to = rng.choice(ids)
                if at < now and to != agent:
                    transfers.append((i, agent, to, at))
                    t.assigned_agent_id = to
            if rng.random() < 0.8:
                at += dt.timedelta(minutes=rng.randrange(30, 3000))
                if at < now:
                    t.status, t.resolved_at = "resolved", at
                    if rng.random() < 0.5 and at + dt.timedelta(hours=12) < now:
                        t.status, t.closed_at = "closed", at + dt.timedelta(hours=12)
            rows.append(t)
        made = Ticket.objects.bulk_create(rows, batch_size=2000)
        Message.objects.bulk_create(
            [
                Message(ticket_id=made[i].pk, sender_type=who, agent_id=a, created_at=at)
                for i, who, a, at in messages
            ],
            batch_size=5000,
        )
        TicketTransfer.objects.bulk_create(
            [
                TicketTransfer(ticket_id=made[i].pk, from_agent_id=f, to_agent_id=to, at=at)
                for i, f, to, at in transfers
            ],
            batch_size=5000,
        )


def timed(fn: Any) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def summary(ms: list[float]) -> dict[str, float]:
    s = sorted(ms)
    return {
        "median_ms": round(statistics.median(s), 2),
        "p90_ms": round(s[min(len(s) - 1, int(len(s) * 0.9))], 2),
        "n": len(s),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    from unittest import mock

    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client

    from support import kpi
    from support.models import Agent, Message, Ticket, TicketTransfer

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    began = time.perf_counter()
    generate(args.tickets, args.days, args.agents, now, args.seed)
    generated_s = time.perf_counter() - began
    kpi.install_kpis(
        Agent.objects.values_list("pk", flat=True), (now - dt.timedelta(days=40)).date()
    )
    backfill = kpi.backfill(batch=500)

    rng = random.Random(args.seed + 1)
    open_ids = list(Ticket.objects.filter(resolved_at__isnull=True).values_list("pk", flat=True))
    rng.shuffle(open_ids)
    agent_ids = list(Agent.objects.values_list("pk", flat=True))
    closes, replies, moves = [], [], []
    with mock.patch("django.utils.timezone.now", side_effect=lambda: dt.datetime.now(dt.UTC)):
        for pk in open_ids[: args.runs]:
            t = Ticket.objects.get(pk=pk)
            agent = t.assigned_agent_id
            replies.append(
                timed(
                    lambda t=t, agent=agent: Message.objects.create(
                        ticket=t, sender_type="agent", agent_id=agent
                    )
                )
            )
        for pk in open_ids[args.runs : 2 * args.runs]:
            t = Ticket.objects.get(pk=pk)
            to = rng.choice([a for a in agent_ids if a != t.assigned_agent_id])
            moves.append(
                timed(
                    lambda t=t, to=to: TicketTransfer.objects.create(
                        ticket=t, from_agent_id=t.assigned_agent_id, to_agent_id=to
                    )
                )
            )
        for pk in open_ids[2 * args.runs : 3 * args.runs]:
            t = Ticket.objects.get(pk=pk)

            def close(t: Ticket = t) -> None:
                t.status = "closed"
                t.save()

            closes.append(timed(close))

        update = [
            timed(lambda: call_command("update_kpis", "--days", "7", stdout=open(os.devnull, "w")))
        ]

        admin = User.objects.create_user("bench-admin", password="pw", is_staff=True)
        client = Client()
        client.force_login(admin)
        base = "/api/v1/support-management/dashboard"
        one = agent_ids[0]
        endpoints = {
            "analytics/performance": "/analytics/performance/?days=30",
            "analytics/trends": "/analytics/trends/?days=30",
            "analytics/comparison": "/analytics/comparison/?days=30",
            "analytics/sla": "/analytics/sla/?days=30",
            "analytics/workload": "/analytics/workload/",
            "performance/metrics": f"/performance/metrics/?days=30&agent_id={one}",
            "performance/trends": "/performance/trends/?days=30",
            "sla/breaches": "/sla/breaches/?days=30",
        }
        reads = {}
        for name, path in endpoints.items():
            ms = []
            for _ in range(args.reads):
                t0 = time.perf_counter()
                r = client.get(base + path)
                ms.append((time.perf_counter() - t0) * 1000)
                if r.status_code != 200:
                    raise SystemExit(f"{path}: {r.status_code} {r.content[:200]!r}")
            reads[name] = summary(ms)
    live_rows = kpi.live().rows((now - dt.timedelta(days=args.days)).date(), now.date())
    return {
        "tickets": args.tickets,
        "days": args.days,
        "agents": args.agents,
        "messages": Message.objects.count(),
        "transfers": TicketTransfer.objects.count(),
        "generate_s": round(generated_s, 2),
        "backfill": backfill,
        "ticket_close": summary(closes),
        "agent_message": summary(replies),
        "transfer": summary(moves),
        "update_kpis_days_7_ms": round(update[0], 1),
        "endpoints": reads,
        "live_day_rows": len(live_rows),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tickets", type=int, default=10_000)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--agents", type=int, default=25)
    p.add_argument("--runs", type=int, default=15, help="closes, messages and transfers each")
    p.add_argument("--reads", type=int, default=7, help="requests per endpoint")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--keep", type=Path, help="build the databases in this folder and keep them")
    args = p.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        setup(args.keep)
        print(json.dumps(run(args), indent=1))
        return
    with tempfile.TemporaryDirectory(prefix="desk-bench-") as tmp:
        setup(Path(tmp))
        print(json.dumps(run(args), indent=1))


if __name__ == "__main__":
    main()
