"""Issue a seller a login and an API token so it can read notices against it and answer them."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from listings.models import Seller
from takedowns.services.sellers import seller_account_create


class Command(BaseCommand):
    help = "Create a seller-centre login and API token for a marketplace seller (printed once)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("marketplace")
        parser.add_argument("seller_external_id")
        parser.add_argument("username")
        parser.add_argument("--email", default="", help="where notices and password resets go")

    def handle(self, *args: Any, **options: Any) -> None:
        seller = Seller.objects.filter(
            marketplace=options["marketplace"], external_id=options["seller_external_id"]
        ).first()
        if seller is None:
            raise CommandError(f"No seller {options['seller_external_id']} on {options['marketplace']}.")
        try:
            user, token = seller_account_create(
                actor=None, seller=seller, username=options["username"], email=options["email"]
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(f"Seller account {user.username} for {seller}."))
        self.stdout.write(f"API token (shown once): {token}")
        self.stdout.write("The seller sets a password with “Forgot password?” on the login page, or uses the token.")
