"""Helpers of the gating tests: a gated brand A with its word mark, sellers with logins, listings the
engine attributes to brand A through the real matching path (ingest -> match -> detection -> hold)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from brands import services as brand_services
from gating import services
from gating.models import SellerApproval
from listings.models import Listing, Seller
from listings.services import listings_ingest
from takedowns.models import WebhookEndpoint
from tests.factories import IPRightFactory, pdf_bytes
from tests.listings.kit import MARKETPLACE, listing_item
from tests.takedowns.factories import seller_login

NOTICE = "Aurora bags are sold only by approved resellers or with a certificate from an approved authenticator."


def word_mark(cast: Any) -> Any:
    right = IPRightFactory(brand=cast.brand_a, verified=True, kind="trademark_combined", word_mark="AURORA")
    return brand_services.asset_create(
        actor=cast.manager_a, brand=cast.brand_a, right=right, kind="word_mark", label="Name", words=["AURORA"]
    )


def gate(cast: Any, *, starts_on: dt.date | None = None, **kwargs: Any) -> Any:
    return services.gate_create(
        actor=cast.moderator,
        brand=cast.brand_a,
        starts_on=starts_on or timezone.localdate(),
        notice=NOTICE,
        request_note="Asked by Aurora's legal team by email",
        **kwargs,
    )


def seller(external_id: str = "S1", name: str = "Seller One") -> Seller:
    return Seller.objects.get_or_create(
        marketplace=MARKETPLACE, external_id=external_id, defaults={"name": name, "country": "CN"}
    )[0]


def seller_user(cast: Any, external_id: str = "S1", username: str = "") -> Any:
    return seller_login(cast, seller(external_id), username=username or f"seller-{external_id.lower()}")


def listing(
    external_id: str, *, title: str = "AURORA Luna bag replica", seller_id: str = "S1", **overrides: Any
) -> Listing:
    item = listing_item(external_id, title=title, **overrides)
    item["seller"] = {"external_id": seller_id, "name": f"Seller {seller_id}", "country": "CN"}
    listings_ingest(items=[item])
    return Listing.objects.get(marketplace=MARKETPLACE, external_id=external_id)


def platform_endpoint() -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(brand=None, url="https://platform.example/hooks", secret="s" * 32)


def pdf(name: str = "invoice.pdf", text: str = "Invoice 2026-001") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(text), content_type="application/pdf")


def approval(cast: Any, user: Any, *, external_id: str = "S1", text: str = "Invoice 2026-001") -> SellerApproval:
    return services.approval_submit(
        actor=user,
        seller=seller(external_id),
        brand=cast.brand_a,
        statement="Bought from Aurora's EU distributor; invoices attached.",
        documents=[(pdf(text=text), "invoice")],
    )
