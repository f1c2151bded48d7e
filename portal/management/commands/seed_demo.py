"""Seed the demo data into an empty database and print the demo credentials once."""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from portal.demo import DemoUser, demo_is_needed, demo_second_factors, reset_demo_passwords, seed_demo


class Command(BaseCommand):
    help = "Create demo brands and users (only into an empty database) and print their credentials."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="Give the existing demo users new passwords and print them.",
        )
        parser.add_argument(
            "--password",
            default=os.environ.get("IPPC_DEMO_PASSWORD"),
            help="Use this password for every demo user instead of random ones (env IPPC_DEMO_PASSWORD).",
        )
        parser.add_argument(
            "--stories-only",
            action="store_true",
            help="Seed the demo's stories without the three months of history behind them (faster).",
        )

    def handle(self, *args, reset_passwords: bool, password: str | None, stories_only: bool, **options) -> None:
        if reset_passwords:
            credentials = reset_demo_passwords(password=password)
            if not credentials:
                raise CommandError("No demo users found.")
            self._print(credentials, "New demo passwords")
            self._print_second_factors(demo_second_factors())
            return
        if not demo_is_needed():
            self.stdout.write("Database already has users: demo data not seeded (use --reset-passwords for new ones).")
            return
        # The demo's own notices (rights verified, invitations) are not worth printing. Its background work
        # (image features, matching, evidence) runs here, in order, also where a broker is configured:
        # the stories build on their detections, which a worker would make only later.
        from ippc.celery import app

        eager = app.conf.task_always_eager
        app.conf.task_always_eager = True
        try:
            with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
                credentials = seed_demo(password=password, history=not stories_only)
        finally:
            app.conf.task_always_eager = eager
        self._print(credentials, "Demo data created. Log in with (shown once)")
        self._print_second_factors(demo_second_factors())

    def _print(self, credentials: list[tuple[DemoUser, str]], title: str) -> None:
        self.stdout.write(self.style.SUCCESS(title + ":"))
        self.stdout.write(f"  {'role':<16}{'brand':<20}{'user':<14}password")
        for demo, password in credentials:
            self.stdout.write(f"  {demo.role_label:<16}{demo.brand or '-':<20}{demo.username:<14}{password}")
        self.stdout.write("  (user name or email both work at the login page)")

    def _print_second_factors(self, factors: list[tuple[DemoUser, str, list[str]]]) -> None:
        if not factors:
            return
        self.stdout.write("  Moderators and platform admins also need a second factor: type the key into an")
        self.stdout.write("  authenticator app (or use a recovery code once; more on the Profile page):")
        for demo, key, codes in factors:
            self.stdout.write(f"  {demo.username:<8}authenticator key {key}   recovery codes {', '.join(codes[:3])}")
