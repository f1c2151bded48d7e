"""Demo story for gated brands: Aurora Leather is gated for wallets on demo-market at its request; LuxDeals4U's
replica wallet is held with its statement of reasons and its application to sell Aurora waits for Alice;
SecondLife Vintage, a pre-owned reseller, is approved."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from brands.models import Brand
from gating import services
from listings.matching import listings_match
from listings.models import Listing, Seller
from listings.services import listings_ingest
from portal import demo_art
from portal.demo_listings import MARKET

HELD = "W-700"
NOTICE = (
    "Aurora Leather wallets are sold on demo-market only by resellers approved by Aurora Leather, or with a "
    "certificate from an approved authenticator for each item. Apply through the seller centre with your "
    "invoices or your distributor agreement."
)


def _invoice(seller: str, number: str) -> SimpleUploadedFile:
    pdf = demo_art.certificate_pdf(
        office="INVOICE", number=number, mark="AURORA Sole wallet x 20", holder=seller, classes="18",
        valid=timezone.localdate().isoformat(),
    )  # fmt: skip
    return SimpleUploadedFile(f"invoice-{number}.pdf", pdf)


def seed_gating_story() -> None:
    users = {u.username: u for u in get_user_model().objects.filter(username__in=["alice", "maya", "luxdeals"])}
    aurora = Brand.objects.get(name="Aurora Leather")
    services.gate_create(
        actor=users["maya"], brand=aurora, starts_on=timezone.localdate(), notice=NOTICE,
        categories=["wallets"], marketplaces=[MARKET], requested_by=users["alice"],
        request_note="Alice Moretti (Aurora Leather) asked for wallets to be gated: replicas outnumber originals.",
    )  # fmt: skip

    # A replica wallet by LuxDeals4U, attributed to Aurora by its title: held, LuxDeals4U told why.
    listings_ingest(
        items=[{
            "marketplace": MARKET, "external_id": HELD,
            "seller": {"external_id": "S-3107", "name": "LuxDeals4U", "country": "CN"},
            "title": "AUR0RA Sole wallet, 1:1 mirror quality", "description": "Replica wallet, same as original.",
            "price": "19", "currency": "EUR", "category": "wallets",
            "url": f"https://demo-market.example/item/{HELD}",
        }],
        source="demo",
    )  # fmt: skip
    listing = Listing.objects.get(marketplace=MARKET, external_id=HELD)
    listings_match(listing_ids=[listing.pk])  # idempotent: where tasks run at once it was matched on commit

    # LuxDeals4U applies (pending, for Alice to decide); SecondLife Vintage was approved.
    services.approval_submit(
        actor=users["luxdeals"], seller=Seller.objects.get(marketplace=MARKET, external_id="S-3107"), brand=aurora,
        statement="We buy from a wholesaler in Guangzhou; invoice attached.",
        documents=[(_invoice("LuxDeals4U", "GZ-2291"), "invoice")],
    )  # fmt: skip
    from takedowns.services.sellers import seller_account_create

    vintage = Seller.objects.get(marketplace=MARKET, external_id="S-6020")
    account, _token = seller_account_create(
        actor=None, seller=vintage, username="secondlife", email="shop@secondlife-vintage.example"
    )
    approval = services.approval_submit(
        actor=account, seller=vintage, brand=aurora,
        statement="Pre-owned Aurora goods bought from private owners, each with its original receipt.",
        documents=[(_invoice("SecondLife Vintage", "SLV-0412"), "invoice")],
    )  # fmt: skip
    services.approval_decide(
        actor=users["alice"], approval=approval, action="approve",
        reason="Receipts checked against our sales records: genuine pre-owned goods.",
    )  # fmt: skip
