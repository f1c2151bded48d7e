"""Managers are told exactly N for N new detections: once each, however often a listing is matched."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from core import sweep
from listings.models import Detection, Listing
from listings.services import listing_image_upload, listings_ingest
from listings.tasks import detections_notify
from tests.conftest import Cast
from tests.factories import IPRightFactory
from tests.listings.kit import MARKETPLACE, listing_item
from tests.listings.test_matching import _file, _listing, _logo_asset, _photo_with_logo, _word_mark

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def right_a(cast: Cast):
    return IPRightFactory(brand=cast.brand_a, verified=True, kind="trademark_combined", word_mark="AURORA")


def announced(mailoutbox) -> int:
    """The number of detections the emails announced, summed over every email sent."""
    counts = [re.search(r"(\d+) new suspected infringement", m.subject) for m in mailoutbox]
    return sum(int(c.group(1)) for c in counts if c)


def test_a_text_detection_replaced_by_an_image_detection_is_announced_once(cast: Cast, right_a, mailoutbox) -> None:
    _logo_asset(cast, right_a)
    _word_mark(cast, right_a)
    listing = _listing("T1", title="AURORA replica handbag")  # the title fires first (no photo yet)
    assert announced(mailoutbox) == 1
    listing_image_upload(listing=listing, file=_file("T1.jpg", _photo_with_logo()))  # then the photo
    detections = list(Detection.objects.filter(listing=listing))
    assert [bool(d.image_id) for d in detections] == [True]  # the text detection was replaced
    assert announced(mailoutbox) == 1  # the same listing, the same brand: not news again
    assert all(d.announced_at is not None for d in detections)


def test_n_new_detections_are_announced_as_n(cast: Cast, right_a, mailoutbox) -> None:
    _word_mark(cast, right_a)
    listings_ingest(items=[listing_item(f"N{i}", title=f"AURORA replica {i}") for i in range(7)])
    listings_ingest(items=[listing_item(f"M{i}", title=f"plain bag {i}") for i in range(3)])
    assert Detection.objects.filter(brand=cast.brand_a).count() == 7
    assert announced(mailoutbox) == 7
    # Matched again (an edit elsewhere, a re-scan): nothing new, nothing announced.
    listings_ingest(items=[listing_item(f"N{i}", title=f"AURORA replica {i}", price="12.00") for i in range(7)])
    assert announced(mailoutbox) == 7


def test_a_redelivered_announcement_task_does_not_tell_twice(cast: Cast, right_a, mailoutbox) -> None:
    _word_mark(cast, right_a)
    listings_ingest(items=[listing_item("D1", title="AURORA replica")])
    assert announced(mailoutbox) == 1
    detections_notify.delay(cast.brand_a.pk, 1)  # the same message handed out a second time
    assert announced(mailoutbox) == 1


def test_back_scan_findings_are_reported_on_the_job_not_announced(cast: Cast, right_a, mailoutbox) -> None:
    listings_ingest(items=[listing_item("B1", title="AURORA replica")])
    _word_mark(cast, right_a)  # the back-scan finds B1
    assert Detection.objects.filter(listing__external_id="B1").exists()
    assert announced(mailoutbox) == 0
    assert sweep.sweep_pending(stale_after=0)["announcements"] == 0


def test_an_announcement_whose_task_was_lost_is_sent_by_the_sweep(cast: Cast, right_a, mailoutbox) -> None:
    _word_mark(cast, right_a)
    listings_ingest(items=[listing_item("L1", title="AURORA replica")])
    mailoutbox.clear()
    Detection.objects.update(announced_at=None, created_at=timezone.now() - timedelta(hours=1))
    assert sweep.sweep_pending()["announcements"] == 1
    assert announced(mailoutbox) == 1
    assert Listing.objects.filter(marketplace=MARKETPLACE).count() == 1


def test_a_second_detection_beside_an_announced_one_is_news(cast: Cast, right_a, mailoutbox) -> None:
    _logo_asset(cast, right_a)
    listing = _listing("P1", title="Handbag", photo=_photo_with_logo(seed=3))
    assert announced(mailoutbox) == 1
    listing_image_upload(listing=listing, file=_file("P1b.jpg", _photo_with_logo(seed=5)))  # a second photo
    assert Detection.objects.filter(listing=listing).count() == 2
    assert announced(mailoutbox) == 2
