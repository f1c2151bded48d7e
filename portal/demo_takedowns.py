"""Demo notices: Aurora and Nordpeak file from their detections; Maya works the queue; a seller
answers with a counter-notice; a repeat infringer reaches three strikes and is suspended."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from brands.models import Brand
from listings.models import Detection, Listing
from portal.demo_listings import MARKET
from takedowns.models import ComplaintItem
from takedowns.services.complaints import Filer, Statements, complaint_file
from takedowns.services.moderation import item_claim, item_decide
from takedowns.services.sellers import counter_notice_file

WHY = {
    "X-200": "Sells AUR0RA Luna bags as “1:1 mirror quality” replicas at €59 with our sun logo on the photo; "
    "genuine Luna bags cost €450–1,200 and are sold only by our official store.",
    "X-201": "Uses look-alike Cyrillic letters to spell AURORA and our sun logo to pass off an “inspired” copy.",
    "X-202": "Wholesale “AAA grade” copies marked A u r o r a with our sun logo; we never sell wholesale here.",
    "X-203": "“Aurorra” tote described as a dupe of our brand: a misspelling of our mark to sell copies.",
    "X-204": "The photos show our registered sun logo on a bag we did not make.",
    "X-400": "N0RDPEAK “replica” jackets of our Summit shell at €79, with our peak logo.",
    "X-401": "“Inspired by” copies of our Summit jacket bearing our peak logo.",
    "X-402": "N.O.R.D.P.E.A.K spelled out to dodge filters; counterfeit shells sold at a fraction of our price.",
}


def _item(brand: Brand, external_id: str) -> dict:
    listing = Listing.objects.get(marketplace=MARKET, external_id=external_id)
    detection = Detection.objects.filter(brand=brand, listing=listing).select_related("asset").first()
    right = detection.asset.right if detection and detection.asset else brand.rights.filter(status="verified").first()
    return {
        "listing": listing.pk,
        "right": right.pk,
        "infringement_type": "counterfeit",
        "explanation": WHY[external_id],
        "detection": detection.pk if detection else None,
    }


def seed_takedowns() -> None:
    users = {u.username: u for u in get_user_model().objects.all()}
    alice, nina, maya, seller = users["alice"], users["nina"], users["maya"], users["luxdeals"]
    aurora, nordpeak = Brand.objects.get(name="Aurora Leather"), Brand.objects.get(name="Nordpeak Outdoor")

    aurora_notice = complaint_file(
        actor=alice, brand=aurora, source="detections",
        items=[_item(aurora, x) for x in ("X-200", "X-201", "X-202", "X-203", "X-204")],
        filer=Filer(
            name="Alice Moretti", organisation="Aurora Leather Goods S.p.A.", email="alice@aurora-leather.example",
            phone="+39 055 123 4567", address="Via dei Calzaiuoli 12, 50122 Firenze, Italy",
        ),
        statements=Statements(good_faith=True, accurate_under_penalty=True, signature_name="Alice Moretti"),
    ).complaint  # fmt: skip
    items = {i.listing.external_id: i for i in aurora_notice.items.select_related("listing")}
    # Approved, then contested by the seller: Aurora has until the deadline to show legal action.
    item_decide(actor=maya, item=items["X-200"], action="approve", template="counterfeit_confirmed")
    counter_notice_file(
        actor=seller, item=items["X-200"], kind="counter_notice",
        statement=(
            "Our bags are bought from a licensed factory and the photos are ours; the listing was removed by mistake."
        ),
        contact_name="LuxDeals4U Trading Co.", contact_email="legal@luxdeals4u.example",
        contact_address="88 Nathan Road, Kowloon, Hong Kong", signature_name="Wei Chen",
        good_faith_mistake=True, consent_jurisdiction=True,
    )  # fmt: skip
    # Maya is reviewing one; another waits past its SLA; one needs more information; one was rejected.
    item_claim(actor=maya, item=items["X-202"])
    ComplaintItem.objects.filter(pk=items["X-201"].pk).update(due_at=timezone.now() - dt.timedelta(hours=5))
    item_decide(actor=maya, item=items["X-203"], action="request_info", template="need_proof_of_copying")
    item_decide(
        actor=maya, item=items["X-204"], action="reject",
        reason="The photos show a generic sun motif that differs from the registered logo (rays and proportions).",
    )  # fmt: skip

    # Nordpeak's notice: three approvals against the same seller reach the strike limit: suspended.
    nordpeak_notice = complaint_file(
        actor=nina, brand=nordpeak, source="detections",
        items=[_item(nordpeak, x) for x in ("X-400", "X-401", "X-402")],
        filer=Filer(name="Nina Lindqvist", organisation="Nordpeak Outdoor AB", email="nina@nordpeak.example",
                    address="Sveavägen 44, 111 34 Stockholm, Sweden"),
        statements=Statements(good_faith=True, accurate_under_penalty=True, signature_name="Nina Lindqvist"),
    ).complaint  # fmt: skip
    for item in nordpeak_notice.items.all():
        item_decide(actor=maya, item=item, action="approve", template="logo_misuse")


def date_story_takedowns(*, now: dt.datetime) -> None:
    """The services stamp `now`: date the two story notices as the story tells them. Nordpeak filed 9 days
    ago and Maya approved all three the same day (the seller's suspension with them); Aurora filed two days
    and five hours ago, so that X-201 is now 5 hours past its 48-hour SLA, and Maya decided the next day,
    the seller contesting X-200 that evening."""
    from portal.demo_history import date_decision
    from takedowns.models import Complaint, CounterNotice, Suspension
    from takedowns.services.complaints import add_business_days

    def file(complaint: Complaint, at: dt.datetime) -> None:
        Complaint.objects.filter(pk=complaint.pk).update(created_at=at, updated_at=at, submitted_at=at, signed_at=at)
        for item in complaint.items.all():
            ComplaintItem.objects.filter(pk=item.pk).update(
                created_at=at, updated_at=at, submitted_at=at, due_at=at + (item.due_at - item.submitted_at),
                snapshot={**item.snapshot, "captured_at": at.isoformat()},
            )  # fmt: skip
        Detection.objects.filter(complaint_items__complaint=complaint).update(updated_at=at)

    items = {i.listing.external_id: i for i in ComplaintItem.objects.select_related("listing", "complaint")}
    nordpeak_at = (now - dt.timedelta(days=9)).replace(hour=10, minute=20)
    file(items["X-400"].complaint, nordpeak_at)
    for hours, external_id in ((5, "X-400"), (5.2, "X-401"), (5.4, "X-402")):
        date_decision(items[external_id].pk, nordpeak_at + dt.timedelta(hours=hours))
    suspended_at = nordpeak_at + dt.timedelta(hours=5.4)
    appeal_until = suspended_at + dt.timedelta(days=settings.SUSPENSION_APPEAL_DAYS)
    Suspension.objects.filter(seller=items["X-400"].seller).update(created_at=suspended_at, appeal_until=appeal_until)

    aurora_at = now - dt.timedelta(hours=5) - dt.timedelta(hours=settings.TAKEDOWN_SLA_HOURS)
    file(items["X-200"].complaint, aurora_at)
    for hours, external_id in ((20, "X-200"), (21, "X-203"), (21.5, "X-204")):
        date_decision(items[external_id].pk, aurora_at + dt.timedelta(hours=hours))
    contested_at = aurora_at + dt.timedelta(hours=30)
    CounterNotice.objects.filter(item=items["X-200"]).update(created_at=contested_at, signed_at=contested_at)
    ComplaintItem.objects.filter(pk=items["X-200"].pk).update(
        respond_until=add_business_days(contested_at, settings.TAKEDOWN_RESPONSE_BUSINESS_DAYS), updated_at=contested_at
    )
    ComplaintItem.objects.filter(pk=items["X-202"].pk).update(claimed_at=now - dt.timedelta(minutes=40))
    ComplaintItem.objects.filter(pk=items["X-201"].pk).update(due_at=now - dt.timedelta(hours=5))
