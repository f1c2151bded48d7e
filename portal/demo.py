"""Demo data for the embedded default: brands, users for every role.

Each capability adds its part here so that `make run` shows it working.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from brands.models import Membership
from brands.services import brand_create
from core.roles import MODERATORS, PLATFORM_ADMINS


@dataclass(frozen=True)
class DemoUser:
    username: str
    email: str
    first_name: str
    last_name: str
    role: str  # "manager"/"viewer" (with brand), "moderator", "platform admin"
    brand: str = ""


DEMO_BRANDS = [
    {
        "name": "Aurora Leather",
        "legal_name": "Aurora Leather Goods S.p.A.",
        "website": "https://aurora-leather.example",
        "contact_email": "legal@aurora-leather.example",
        "country": "IT",
        "description": "Hand-made handbags, belts and small leather goods. Frequent target of replica sellers.",
    },
    {
        "name": "Nordpeak Outdoor",
        "legal_name": "Nordpeak Outdoor AB",
        "website": "https://nordpeak.example",
        "contact_email": "brandprotection@nordpeak.example",
        "country": "SE",
        "description": "Technical jackets, backpacks and tents. Its peak logo is copied on cheap jackets.",
    },
]

DEMO_USERS = [
    DemoUser("alice", "alice@aurora-leather.example", "Alice", "Moretti", "manager", "Aurora Leather"),
    DemoUser("victor", "victor@aurora-leather.example", "Victor", "Bianchi", "viewer", "Aurora Leather"),
    DemoUser("nina", "nina@nordpeak.example", "Nina", "Lindqvist", "manager", "Nordpeak Outdoor"),
    DemoUser("oskar", "oskar@nordpeak.example", "Oskar", "Berg", "viewer", "Nordpeak Outdoor"),
    DemoUser("maya", "maya@ippc.example", "Maya", "Okafor", "moderator"),
    DemoUser("admin", "admin@ippc.example", "Ada", "Admin", "platform admin"),
]


def demo_is_needed() -> bool:
    return not get_user_model().objects.exists()


@transaction.atomic
def seed_demo(*, password: str | None = None) -> list[tuple[DemoUser, str]]:
    """Create the demo data; return each demo user with the password it was given."""
    brands = {spec["name"]: brand_create(actor=None, **spec) for spec in DEMO_BRANDS}
    user_model = get_user_model()
    credentials = []
    for demo in DEMO_USERS:
        user_password = password or secrets.token_urlsafe(9)
        user = user_model.objects.create_user(
            username=demo.username,
            email=demo.email,
            password=user_password,
            first_name=demo.first_name,
            last_name=demo.last_name,
            is_staff=demo.role in ("moderator", "platform admin"),
        )
        if demo.role == "moderator":
            user.groups.add(Group.objects.get(name=MODERATORS))
        elif demo.role == "platform admin":
            user.groups.add(Group.objects.get(name=PLATFORM_ADMINS))
        else:
            Membership.objects.create(user=user, brand=brands[demo.brand], role=demo.role)
        credentials.append((demo, user_password))
    return credentials


def reset_demo_passwords(*, password: str | None = None) -> list[tuple[DemoUser, str]]:
    user_model = get_user_model()
    credentials = []
    for demo in DEMO_USERS:
        user = user_model.objects.filter(username=demo.username).first()
        if user is None:
            continue
        user_password = password or secrets.token_urlsafe(9)
        user.set_password(user_password)
        user.save(update_fields=["password"])
        credentials.append((demo, user_password))
    return credentials
