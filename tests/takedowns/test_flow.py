"""The notice-and-takedown path end to end through the services: file, review, remove, contest, reinstate."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.models import AuditEvent
from core.statemachine import IllegalTransition
from listings.models import Listing, Seller
from takedowns.models import ComplaintItem, Strike, Suspension
from takedowns.services.complaints import Filer, Statements, complaint_file
from takedowns.services.deadlines import deadlines_run
from takedowns.services.moderation import item_claim, item_decide
from takedowns.services.sellers import counter_notice_file, seller_account_create
from tests.factories import DetectionFactory, IPRightFactory, ListingFactory, SellerFactory

pytestmark = pytest.mark.django_db

FILER = Filer(name="Ada Lovelace", email="ada@aurora.example", address="1 Rue de la Paix, Paris")
SIGNED = Statements(good_faith=True, accurate_under_penalty=True, signature_name="Ada Lovelace")
WHY = "The listing sells bags bearing our registered AURORA mark; they are not genuine (price, stitching)."


def _file(cast, listings, right, **kw):
    items = [{"listing": lst.pk, "right": right.pk, "infringement_type": "counterfeit", "explanation": WHY}
             for lst in listings]  # fmt: skip
    return complaint_file(actor=cast.manager_a, brand=cast.brand_a, items=items, filer=FILER, statements=SIGNED, **kw)


def test_file_approve_counter_notice_and_reinstate_after_window(cast, django_capture_on_commit_callbacks):
    right = IPRightFactory(brand=cast.brand_a, verified=True)
    seller = SellerFactory()
    listing = ListingFactory(seller=seller)
    seller_user, token = seller_account_create(
        actor=cast.admin, seller=seller, username="shop1", email="s@shop.example"
    )
    assert token

    with django_capture_on_commit_callbacks(execute=True):
        result = _file(cast, [listing], right)
    item = result.complaint.items.get()
    assert item.state == "submitted"
    assert item.snapshot["title"] == listing.title
    assert item.due_at
    assert any("received" in m.subject for m in mail.outbox)

    item_claim(actor=cast.moderator, item=item)
    item.refresh_from_db()
    assert item.state == "in_review"
    assert item.claimed_by == cast.moderator
    item_decide(actor=cast.moderator, item=item, action="approve", template="counterfeit_confirmed")
    item.refresh_from_db()
    listing.refresh_from_db()
    assert item.state == "approved"
    assert listing.status == Listing.Status.REMOVED
    decision = item.decisions.get()
    assert decision.statement["measure"].startswith("The listing was removed")
    assert Strike.objects.filter(item=item, voided_at__isnull=True).exists()
    assert seller_user.notifications.filter(event="item.approved").exists()

    counter_notice_file(
        actor=seller_user, item=item, kind="counter_notice", statement="These are genuine bags bought from Aurora's distributor.",
        contact_name="Shop One Ltd", contact_email="legal@shop.example", contact_address="2 Main St, Dublin",
        signature_name="Sean Murphy", good_faith_mistake=True, consent_jurisdiction=True,
    )  # fmt: skip
    item.refresh_from_db()
    assert item.state == "counter_noticed"
    assert item.respond_until > timezone.now()

    assert deadlines_run()["reinstated"] == 0  # window still open
    ComplaintItem.objects.filter(pk=item.pk).update(respond_until=timezone.now() - dt.timedelta(minutes=1))
    assert deadlines_run()["reinstated"] == 1
    item.refresh_from_db()
    listing.refresh_from_db()
    assert item.state == "reinstated"
    assert listing.status == Listing.Status.REINSTATED
    assert not Strike.objects.filter(item=item, voided_at__isnull=True).exists()
    actions = list(AuditEvent.objects.filter(object_type="takedowns.complaintitem", object_id=str(item.pk))
                   .order_by("id").values_list("action", flat=True))  # fmt: skip
    assert actions[:1] == ["complaintitem.submit"]
    assert "complaintitem.approve" in actions
    assert actions[-1] == "complaintitem.reinstate"


def test_missing_elements_file_nothing(cast):
    right = IPRightFactory(brand=cast.brand_a, verified=True)
    listing = ListingFactory()
    with pytest.raises(ValidationError) as exc:
        complaint_file(
            actor=cast.manager_a, brand=cast.brand_a, filer=Filer(), statements=Statements(),
            items=[{"listing": listing.pk, "right": right.pk, "infringement_type": "patent", "explanation": "x"}],
        )  # fmt: skip
    errors = exc.value.message_dict
    assert {"filer_name", "filer_email", "good_faith", "accurate_under_penalty", "signature_name", "items"} <= set(
        errors
    )
    assert ComplaintItem.objects.count() == 0


def test_duplicate_open_notice_refused_with_pointer(cast):
    right = IPRightFactory(brand=cast.brand_a, verified=True)
    listing = ListingFactory()
    first = _file(cast, [listing], right).complaint
    with pytest.raises(ValidationError) as exc:
        _file(cast, [listing], right)
    assert first.reference in str(exc.value)


def test_illegal_transition_changes_nothing(cast):
    right = IPRightFactory(brand=cast.brand_a, verified=True)
    item = _file(cast, [ListingFactory()], right).complaint.items.get()
    item_decide(actor=cast.moderator, item=item, action="reject", reason="Genuine resale.")
    with pytest.raises(IllegalTransition):
        item_decide(actor=cast.moderator, item=item, action="approve", reason="Changed my mind")
    item.refresh_from_db()
    assert item.state == "rejected"


def test_three_strikes_suspend_seller_and_delist(cast):
    right = IPRightFactory(brand=cast.brand_a, verified=True)
    seller = SellerFactory()
    listings = [ListingFactory(seller=seller) for _ in range(5)]
    complaint = _file(cast, listings[:3], right).complaint
    for item in complaint.items.all():
        item_decide(actor=cast.moderator, item=item, action="approve", reason="Counterfeit.")
    seller.refresh_from_db()
    assert seller.status == Seller.Status.SUSPENDED
    assert seller.strike_count == 3
    assert Suspension.objects.get(seller=seller).state == "active"
    assert set(Listing.objects.filter(seller=seller).values_list("status", flat=True)) == {"removed"}


def test_fast_track_auto_approval_flagged_automated(cast, settings):
    from takedowns.models import Standing

    settings.ACCURACY_MIN_DECISIONS = 2
    right = IPRightFactory(brand=cast.brand_a, verified=True)
    for item in _file(cast, [ListingFactory(), ListingFactory()], right).complaint.items.all():
        item_decide(actor=cast.moderator, item=item, action="approve", reason="Counterfeit.")
    standing = Standing.objects.get(brand=cast.brand_a)
    assert standing.status == "fast_track"
    Standing.objects.filter(pk=standing.pk).update(auto_approve=True)
    detection = DetectionFactory(brand=cast.brand_a, score=0.95)
    result = complaint_file(
        actor=cast.manager_a, brand=cast.brand_a, filer=FILER, statements=SIGNED,
        items=[{"detection": detection.pk, "right": right.pk, "infringement_type": "counterfeit", "explanation": WHY}],
    )  # fmt: skip
    item = result.complaint.items.get()
    assert result.auto_approved == [item.pk]
    assert item.fast_track
    item.refresh_from_db()
    assert item.state == "approved"
    assert item.automated
    assert item.decisions.get().statement["automated_decision"] is True


def test_seller_account_command_prints_a_working_token(cast):
    from io import StringIO

    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    seller = SellerFactory(marketplace="shopmart", external_id="S-77")
    out = StringIO()
    call_command("seller_account", "shopmart", "S-77", "shop77", "--email", "ops@shop77.example", stdout=out)
    token = out.getvalue().split("API token (shown once): ")[1].split()[0]
    user = Token.objects.get(key=token).user
    assert list(user.seller_accounts.values_list("seller_id", flat=True)) == [seller.pk]


def test_an_idempotency_key_replays_the_same_notice_but_not_a_different_one(cast):
    right = IPRightFactory(brand=cast.brand_a, verified=True)
    listing, other = ListingFactory(), ListingFactory()
    first = _file(cast, [listing], right, idempotency_key="retry-1")
    again = _file(cast, [listing], right, idempotency_key="retry-1")
    assert (again.complaint.pk, again.created) == (first.complaint.pk, False)
    with pytest.raises(ValidationError) as exc:
        _file(cast, [other], right, idempotency_key="retry-1")
    assert first.complaint.reference in str(exc.value)
    assert ComplaintItem.objects.count() == 1


def test_the_platform_feed_cannot_put_a_taken_down_listing_back_online(cast):
    from listings.services import listings_ingest
    from tests.listings.kit import listing_item

    right = IPRightFactory(brand=cast.brand_a, verified=True)
    listings_ingest(items=[listing_item("T1", title="Luna bag")])
    listing = Listing.objects.get(external_id="T1")
    item = _file(cast, [listing], right).complaint.items.get()
    item_decide(actor=cast.moderator, item=item, action="approve", reason="Counterfeit goods with our mark.")

    # The platform had not processed the takedown yet and pushes the listing again, "active", new price.
    listings_ingest(items=[listing_item("T1", title="Luna bag", price="39.00", status="active")])
    listing.refresh_from_db()
    assert (listing.status, str(listing.price)) == ("removed", "39.00")

    # Reinstated by the workflow, the feed is in charge again.
    ComplaintItem.objects.filter(pk=item.pk).update(state="counter_noticed")
    item_decide(actor=cast.moderator, item=item, action="reinstate", reason="The seller showed a licence.")
    listings_ingest(items=[listing_item("T1", title="Luna bag", price="41.00", status="active")])
    listing.refresh_from_db()
    assert listing.status == "active"


def test_a_suspended_sellers_new_listings_arrive_removed(cast):
    from listings.services import listings_ingest
    from tests.listings.kit import listing_item

    right = IPRightFactory(brand=cast.brand_a, verified=True)
    listings_ingest(items=[listing_item(f"U{i}") for i in range(3)])  # all from seller S1
    seller = Seller.objects.get(external_id="S1")
    for item in _file(cast, list(Listing.objects.filter(seller=seller)), right).complaint.items.all():
        item_decide(actor=cast.moderator, item=item, action="approve", reason="Counterfeit goods with our mark.")
    seller.refresh_from_db()
    assert seller.status == Seller.Status.SUSPENDED

    listings_ingest(items=[listing_item("U9", status="active")])
    assert Listing.objects.get(external_id="U9").status == "removed"

    # Lifted on appeal: the listing that arrived during the suspension goes online too.
    from takedowns.services.sellers import suspension_decide

    suspension_decide(actor=cast.moderator, suspension=seller.suspensions.get(), action="lift", reason="Licence shown.")
    assert Listing.objects.get(external_id="U9").status == "reinstated"
