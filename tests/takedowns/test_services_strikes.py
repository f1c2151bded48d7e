"""Strikes to suspension: repeat infringers are suspended and delisted with their own statement of
reasons; old and reversed strikes do not count; an appeal can lift the suspension."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from core.models import AuditEvent
from core.statemachine import IllegalTransition
from listings.models import Listing, Seller
from takedowns.models import Strike, Suspension, WebhookDelivery, WebhookEndpoint
from takedowns.services.moderation import item_decide
from takedowns.services.sellers import suspension_appeal, suspension_decide
from tests.factories import IPRightFactory, ListingFactory, SellerFactory
from tests.takedowns.factories import REASON, file_notice, item_in_state, seller_login

pytestmark = pytest.mark.django_db

APPEAL = "The three listings were genuine stock; the strikes came from one mistaken batch of notices."


@pytest.fixture
def seller(cast):
    return SellerFactory()


@pytest.fixture
def right(cast):
    return IPRightFactory(brand=cast.brand_a, verified=True)


def _approve(cast, listings, right) -> list:
    items = list(file_notice(cast, listings, right).complaint.items.order_by("pk"))
    for item in items:
        item_decide(actor=cast.moderator, item=item, action="approve", reason=REASON)
    return items


def _delisted_status(listing_ids) -> set[str]:
    return set(Listing.objects.filter(pk__in=listing_ids).values_list("status", flat=True))


def test_the_strike_limit_suspends_the_seller_and_delists_everything(cast, seller, right, settings) -> None:
    endpoint = WebhookEndpoint.objects.create(brand=None, url="https://platform.example/hooks", secret="s" * 32)
    brand_endpoint = WebhookEndpoint.objects.create(brand=cast.brand_a, url="https://a.example/h", secret="t" * 32)
    seller_user = seller_login(cast, seller)
    infringing = [ListingFactory(seller=seller) for _ in range(settings.STRIKE_LIMIT)]
    others = [ListingFactory(seller=seller) for _ in range(3)]
    elsewhere = ListingFactory()  # another seller's listing stays online

    _approve(cast, infringing[:-1], right)
    seller.refresh_from_db()
    assert (seller.status, seller.strike_count) == (Seller.Status.ACTIVE, settings.STRIKE_LIMIT - 1)
    assert not Suspension.objects.exists()

    _approve(cast, infringing[-1:], right)
    seller.refresh_from_db()
    assert (seller.status, seller.strike_count) == (Seller.Status.SUSPENDED, settings.STRIKE_LIMIT)
    suspension = Suspension.objects.get(seller=seller)
    assert suspension.state == "active"
    assert sorted(suspension.delisted_listing_ids) == sorted(x.pk for x in others)
    assert suspension.strikes.count() == settings.STRIKE_LIMIT
    assert _delisted_status(x.pk for x in infringing + others) == {"removed"}
    assert Listing.objects.get(pk=elsewhere.pk).status == "active"
    for listing in others:
        event = AuditEvent.objects.get(action="listing.removed", object_id=str(listing.pk))
        assert (event.from_state, event.to_state) == ("active", "removed")
        assert "suspended" in event.reason
    assert AuditEvent.objects.filter(action="seller.suspended", object_id=str(seller.pk)).count() == 1

    appeal_days = suspension.appeal_until - suspension.created_at
    assert abs(appeal_days - dt.timedelta(days=settings.SUSPENSION_APPEAL_DAYS)) < dt.timedelta(seconds=5)
    statement = suspension.statement
    assert statement["measure"].startswith("All the seller's listings were removed")
    assert (
        f"{settings.STRIKE_LIMIT} upheld takedowns within {settings.STRIKE_WINDOW_DAYS} days" in statement["facts"][0]
    )
    assert f"{suspension.appeal_until:%Y-%m-%d %H:%M}" in statement["redress"][0]

    notice = seller_user.notifications.get(event="seller.suspended")
    assert "Appeal until" in notice.body
    hook = WebhookDelivery.objects.get(event="seller.suspended")
    assert hook.endpoint == endpoint
    assert hook.payload["seller"]["external_id"] == seller.external_id
    assert sorted(hook.payload["delisted_listings"]) == sorted(x.pk for x in others)
    assert not WebhookDelivery.objects.filter(endpoint=brand_endpoint, event="seller.suspended").exists()


def test_strikes_older_than_the_window_do_not_count(cast, seller, right, settings) -> None:
    old = _approve(cast, [ListingFactory(seller=seller) for _ in range(settings.STRIKE_LIMIT - 1)], right)
    long_ago = timezone.now() - dt.timedelta(days=settings.STRIKE_WINDOW_DAYS + 1)
    Strike.objects.filter(item__in=old).update(created_at=long_ago)

    _approve(cast, [ListingFactory(seller=seller)], right)
    seller.refresh_from_db()
    assert seller.status == Seller.Status.ACTIVE
    assert seller.strike_count == 1
    assert not Suspension.objects.exists()


def test_the_periodic_task_ages_strike_counts(cast, seller, right) -> None:
    from takedowns.tasks import deadlines_run

    items = _approve(cast, [ListingFactory(seller=seller)], right)
    Strike.objects.filter(item__in=items).update(
        created_at=timezone.now() - dt.timedelta(days=settings.STRIKE_WINDOW_DAYS + 1)
    )
    assert deadlines_run.apply().get()["strike_counts"] == 1
    seller.refresh_from_db()
    assert seller.strike_count == 0


def test_a_reinstated_takedowns_strike_does_not_count(cast, seller, right, settings) -> None:
    reversed_item = item_in_state(cast, "reinstated", listing=ListingFactory(seller=seller), right=right)
    assert Strike.objects.get(item=reversed_item).voided_at is not None
    _approve(cast, [ListingFactory(seller=seller) for _ in range(settings.STRIKE_LIMIT - 1)], right)
    seller.refresh_from_db()
    assert seller.status == Seller.Status.ACTIVE
    assert seller.strike_count == settings.STRIKE_LIMIT - 1


def _suspend(cast, seller, right, *, extra: int = 2):
    infringing = [ListingFactory(seller=seller) for _ in range(settings.STRIKE_LIMIT)]
    others = [ListingFactory(seller=seller) for _ in range(extra)]
    items = _approve(cast, infringing, right)
    return Suspension.objects.get(seller=seller), infringing, others, items


def test_an_appeal_lifted_relists_what_the_suspension_took_down_only(cast, seller, right) -> None:
    seller_user = seller_login(cast, seller)
    platform = WebhookEndpoint.objects.create(brand=None, url="https://platform.example/hooks", secret="s" * 32)
    suspension, infringing, others, _ = _suspend(cast, seller, right)

    suspension_appeal(actor=seller_user, suspension=suspension, text=APPEAL, signature_name="Sean Murphy")
    suspension.refresh_from_db()
    assert suspension.state == "appealed"
    assert cast.moderator.notifications.filter(event="suspension.appealed").exists()

    suspension_decide(actor=cast.moderator, suspension=suspension, action="lift", reason="Strikes from one batch.")
    suspension.refresh_from_db()
    seller.refresh_from_db()
    assert suspension.state == "lifted"
    assert seller.status == Seller.Status.ACTIVE
    assert _delisted_status(x.pk for x in others) == {"reinstated"}
    assert _delisted_status(x.pk for x in infringing) == {"removed"}  # removed by their own takedowns
    assert seller_user.notifications.filter(event="suspension.lift").exists()
    assert WebhookDelivery.objects.filter(endpoint=platform, event="seller.reinstated").exists()
    event = AuditEvent.objects.get(action="suspension.lift")
    assert (event.from_state, event.to_state, event.actor) == ("appealed", "lifted", cast.moderator)


def test_an_appeal_upheld_keeps_the_suspension(cast, seller, right) -> None:
    seller_user = seller_login(cast, seller)
    suspension, infringing, others, _ = _suspend(cast, seller, right)
    suspension_appeal(actor=seller_user, suspension=suspension, text=APPEAL, signature_name="Sean Murphy")
    suspension_decide(actor=cast.moderator, suspension=suspension, action="uphold", reason="Three clear counterfeits.")
    suspension.refresh_from_db()
    seller.refresh_from_db()
    assert suspension.state == "upheld"
    assert seller.status == Seller.Status.SUSPENDED
    assert _delisted_status(x.pk for x in infringing + others) == {"removed"}
    assert seller_user.notifications.filter(event="suspension.uphold").exists()
    with pytest.raises(IllegalTransition):
        suspension_decide(actor=cast.moderator, suspension=suspension, action="lift", reason="Changed my mind.")


def test_an_appeal_after_the_window_is_refused(cast, seller, right) -> None:
    seller_user = seller_login(cast, seller)
    suspension, *_ = _suspend(cast, seller, right)
    Suspension.objects.filter(pk=suspension.pk).update(appeal_until=timezone.now() - dt.timedelta(minutes=1))
    with pytest.raises(IllegalTransition) as exc:
        suspension_appeal(actor=seller_user, suspension=suspension, text=APPEAL, signature_name="Sean Murphy")
    assert "appeal window closed" in str(exc.value)
    suspension.refresh_from_db()
    assert (suspension.state, suspension.appeal_text) == ("active", "")


def test_only_the_suspended_seller_appeals_and_only_staff_decide(cast, seller, right) -> None:
    suspension, *_ = _suspend(cast, seller, right)
    stranger = seller_login(cast, SellerFactory(), username="stranger")
    with pytest.raises(PermissionDenied):
        suspension_appeal(actor=stranger, suspension=suspension, text=APPEAL, signature_name="Some One")
    for user in (cast.manager_a, stranger):
        with pytest.raises(PermissionDenied):
            suspension_decide(actor=user, suspension=suspension, action="lift", reason="Why not.")
    suspension.refresh_from_db()
    assert suspension.state == "active"


def test_a_takedown_reversed_during_the_suspension_is_relisted_when_it_is_lifted(cast, seller, right) -> None:
    from takedowns.services.sellers import counter_notice_file
    from tests.takedowns.factories import COUNTER

    seller_user = seller_login(cast, seller)
    suspension, infringing, others, items = _suspend(cast, seller, right)
    first = items[0]
    counter_notice_file(actor=seller_user, item=first, **COUNTER)
    item_decide(actor=cast.moderator, item=first, action="reinstate", reason="Genuine stock after all.")
    # Reversed, but the seller is still suspended: the listing stays down for now.
    assert Listing.objects.get(pk=first.listing_id).status == "removed"

    suspension_decide(actor=cast.moderator, suspension=suspension, action="lift", reason="Only two strikes left.")
    assert Listing.objects.get(pk=first.listing_id).status == "reinstated"
    assert _delisted_status(x.pk for x in others) == {"reinstated"}
    assert _delisted_status(x.pk for x in infringing[1:]) == {"removed"}


def test_after_a_lifted_suspension_earlier_strikes_stop_counting(cast, seller, right) -> None:
    seller_user = seller_login(cast, seller)
    suspension, _, _, _ = _suspend(cast, seller, right)
    suspension_appeal(actor=seller_user, suspension=suspension, text=APPEAL, signature_name="Sean Murphy")
    suspension_decide(actor=cast.moderator, suspension=suspension, action="lift", reason="Strikes from one batch.")
    seller.refresh_from_db()
    assert seller.strike_count == 0

    _approve(cast, [ListingFactory(seller=seller)], right)  # one new strike: not a second suspension
    seller.refresh_from_db()
    assert (seller.status, seller.strike_count) == (Seller.Status.ACTIVE, 1)
    assert Suspension.objects.filter(seller=seller).count() == 1
