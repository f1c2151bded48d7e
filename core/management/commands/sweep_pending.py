"""`manage.py sweep_pending`: what the periodic sweep does, now (after an outage, or from cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from core import sweep


class Command(BaseCommand):
    help = (
        "Send the tasks still in the outbox and queue again the committed work that has waited too long "
        "(listings to match, images to fetch, jobs, announcements, emails). Safe to run at any time."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--stale-after",
            type=float,
            default=None,
            help="Seconds a pending row must have waited to be queued again (default: SWEEP_STALE_AFTER). "
            "0 queues everything pending now; safe, since every task is idempotent.",
        )
        parser.add_argument("--only", nargs="*", default=None, help="Sweepers to run (default: all)")
        parser.add_argument("--limit", type=int, default=None, help="Rows per sweeper (default: SWEEP_BATCH)")
        parser.add_argument("--list", action="store_true", help="List the sweepers and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            self.stdout.write("outbox (tasks not yet taken by the broker)")
            for item in sweep.sweepers():
                self.stdout.write(f"{item.name} (queue {item.queue}): {item.description}")
            return
        known = {"outbox", *(item.name for item in sweep.sweepers())}
        unknown = set(options["only"] or []) - known
        if unknown:
            self.stderr.write(f"Unknown sweeper(s): {', '.join(sorted(unknown))}. Known: {', '.join(sorted(known))}")
            raise SystemExit(2)

        def show(name: str, outcome: Any) -> None:
            if isinstance(outcome, dict):
                outcome = ", ".join(f"{key} {value}" for key, value in outcome.items())
            elif isinstance(outcome, int):
                outcome = f"{outcome} queued again"
            self.stdout.write(f"  {name:<22} {outcome}")

        self.stdout.write("Sweeping pending work:")
        sweep.sweep_pending(
            stale_after=options["stale_after"], limit=options["limit"], only=options["only"], progress=show
        )
        self.stdout.write(self.style.SUCCESS("Done."))
