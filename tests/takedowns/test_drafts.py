"""Fast-track brands find a draft notice for their surest new detections, straight from the matching pipeline."""

from __future__ import annotations

import pytest

from brands import services as brand_services
from listings.models import Detection, Listing
from listings.services import listings_ingest
from takedowns.models import Complaint, Standing
from takedowns.services.complaints import Filer, Statements, complaint_submit
from tests.conftest import Cast
from tests.factories import IPRightFactory
from tests.listings.kit import MARKETPLACE, listing_item

pytestmark = pytest.mark.django_db(transaction=True)


def _brand_with_word_mark(cast: Cast, status: str):
    right = IPRightFactory(brand=cast.brand_a, verified=True, kind="trademark_word", word_mark="AURORA")
    brand_services.asset_create(
        actor=cast.manager_a, brand=cast.brand_a, right=right, kind="word_mark", label="Name", words=["AURORA"]
    )
    Standing.objects.update_or_create(brand=cast.brand_a, defaults={"status": status})
    return right


def _ingest(external_id: str, title: str) -> Listing:
    listings_ingest(items=[listing_item(external_id, title=title, price="19", currency="EUR")])
    return Listing.objects.get(marketplace=MARKETPLACE, external_id=external_id)


def test_a_fast_track_brand_gets_a_draft_to_sign_and_nothing_is_filed_before(cast: Cast, settings) -> None:
    settings.FAST_TRACK_DRAFT_MIN_SCORE = 0.5
    right = _brand_with_word_mark(cast, Standing.Status.FAST_TRACK)
    listing = _ingest("D1", "AUR0RA bag replica 1:1 mirror quality")
    detection = Detection.objects.get(listing=listing, brand=cast.brand_a)

    draft = Complaint.objects.get(brand=cast.brand_a, source=Complaint.Source.AUTO)
    item = draft.items.get()
    assert (item.state, item.listing_id, item.right_id, item.detection_id) == (
        "draft",
        listing.pk,
        right.pk,
        detection.pk,
    )
    assert draft.signed_at is None
    assert draft.submitted_at is None
    assert cast.manager_a.notifications.filter(event="complaint.drafted").exists()

    # The next scan of the same listing does not draft it again while the draft is open.
    listings_ingest(
        items=[listing_item("D1", title="AUR0RA bag replica 1:1 mirror quality!", price="19", currency="EUR")]
    )
    assert Complaint.objects.filter(brand=cast.brand_a).count() == 1

    complaint_submit(
        actor=cast.manager_a, complaint=draft,
        filer=Filer(name="Ada Lovelace", email="ada@aurora.example"),
        statements=Statements(good_faith=True, accurate_under_penalty=True, signature_name="Ada Lovelace"),
    )  # fmt: skip
    item.refresh_from_db()
    assert item.state == "submitted"
    assert item.due_at is not None


def test_a_brand_without_fast_track_gets_no_draft(cast: Cast, settings) -> None:
    settings.FAST_TRACK_DRAFT_MIN_SCORE = 0.5
    _brand_with_word_mark(cast, Standing.Status.NORMAL)
    _ingest("D2", "AUR0RA bag replica 1:1 mirror quality")
    assert Detection.objects.filter(brand=cast.brand_a).exists()
    assert not Complaint.objects.exists()


def test_a_notice_the_brand_files_itself_takes_the_listing_out_of_the_fast_track_draft(cast: Cast, settings) -> None:
    """The draft is the platform's suggestion, not a notice: filing one's own for the listing is not refused
    as a duplicate; the listing leaves the draft, and a draft left empty goes."""
    from takedowns.services.complaints import complaint_file

    settings.FAST_TRACK_DRAFT_MIN_SCORE = 0.5
    right = _brand_with_word_mark(cast, Standing.Status.FAST_TRACK)
    listing = _ingest("D3", "AUR0RA bag replica 1:1 mirror quality")
    detection = Detection.objects.get(listing=listing, brand=cast.brand_a)
    draft = Complaint.objects.get(brand=cast.brand_a, source=Complaint.Source.AUTO)

    filed = complaint_file(
        actor=cast.manager_a, brand=cast.brand_a, source="detections",
        filer=Filer(name="Ada Lovelace", email="ada@aurora.example"),
        statements=Statements(good_faith=True, accurate_under_penalty=True, signature_name="Ada Lovelace"),
        items=[{
            "listing": listing.pk, "right": right.pk, "infringement_type": "counterfeit", "detection": detection.pk,
            "explanation": "Replica of our bag sold under a misspelt AURORA.",
        }],
    ).complaint  # fmt: skip

    assert filed.items.get().state == "submitted"
    assert not Complaint.objects.filter(pk=draft.pk).exists()
    # A notice that is really open (submitted) still refuses a second one for the same listing and right.
    with pytest.raises(Exception, match="still open"):
        complaint_file(
            actor=cast.manager_a, brand=cast.brand_a, source="detections",
            filer=Filer(name="Ada Lovelace", email="ada@aurora.example"),
            statements=Statements(good_faith=True, accurate_under_penalty=True, signature_name="Ada Lovelace"),
            items=[{"listing": listing.pk, "right": right.pk, "infringement_type": "counterfeit",
                    "explanation": "Replica of our bag sold again, same listing."}],
        )  # fmt: skip
