"""Stay-down: the images of a listing removed by an approved takedown become private references of the
brand, so the same picture re-listed (re-encoded, cropped, by another seller or the same one) is flagged
as re-listed removed content at once, first in the brand's detections and the moderator queue; a
reversed takedown retires them. Real services, real database, tasks in-process: no mocks."""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image, ImageOps
from rest_framework.test import APIClient

from brands import services as brand_services
from brands.models import Job, ReferenceAsset
from core.models import AuditEvent
from listings import references
from listings.matching import listings_match
from listings.models import Detection, Listing
from listings.services import listing_image_upload, listings_ingest
from listings.staydown import RELISTED
from takedowns.models import Complaint, ComplaintItem, Standing, StayDownReference
from takedowns.selectors import moderation_queue
from takedowns.services.moderation import item_decide
from takedowns.services.sellers import counter_notice_file
from takedowns.services.staydown import staydown_create
from takedowns.tasks import staydown_create as staydown_task
from tests.conftest import Cast
from tests.engine import imagegen
from tests.factories import IPRightFactory
from tests.listings.kit import MARKETPLACE, listing_item
from tests.takedowns.factories import COUNTER, file_notice, item_in_state, notice_item, seller_login

# Real commits: the stay-down task queued on approval, the features job and the back-scan run in-process.
pytestmark = pytest.mark.django_db(transaction=True)

OTHER_SELLER = {"external_id": "S2", "name": "Second Chance Deals", "country": "tr"}


def _photo(seed: int = 7) -> bytes:
    return imagegen.encode(imagegen.photo(seed), quality=92)


def _relisted_copy(data: bytes, *, quality: int = 55) -> bytes:
    """The same picture as a re-lister posts it: cropped to 80 % (each side) and re-encoded as JPEG."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    w, h = image.size
    x0, y0 = round(w * 0.12), round(h * 0.08)
    out = io.BytesIO()
    image.crop((x0, y0, x0 + round(w * 0.8), y0 + round(h * 0.8))).save(out, format="JPEG", quality=quality)
    return out.getvalue()


def _listing(external_id: str, photo: bytes | None = None, **overrides) -> Listing:
    listings_ingest(items=[listing_item(external_id, title=f"Leather tote {external_id}", **overrides)])
    listing = Listing.objects.get(marketplace=MARKETPLACE, external_id=external_id)
    if photo is not None:
        listing_image_upload(listing=listing, file=SimpleUploadedFile(f"{external_id}.jpg", photo))
    return listing


@pytest.fixture
def right_a(cast: Cast):
    return IPRightFactory(brand=cast.brand_a, verified=True, kind="trademark_figurative")


@pytest.fixture
def removed(cast: Cast, right_a):
    """Listing R1 of seller S1, photo included, removed by brand A's approved takedown."""
    listing = _listing("R1", _photo())
    item = item_in_state(cast, "approved", listing=listing, right=right_a)
    return item


def _relisted_detection(listing: Listing) -> Detection | None:
    return Detection.objects.filter(listing=listing, signals__0=RELISTED).first()


# --- The acceptance: approved, re-listed (re-encoded, cropped 80 %) by another seller, found at once ----


def test_a_removed_photo_relisted_by_another_seller_is_found_in_one_matching_pass(cast: Cast, removed) -> None:
    # The approval made the listing's image a stay-down reference of brand A and the right relied on.
    reference = StayDownReference.objects.get(item=removed)
    asset = reference.asset
    assert (asset.kind, asset.brand_id, asset.right_id) == ("stay_down", cast.brand_a.pk, removed.right_id)
    assert asset.features_status == "done"
    assert asset.retired_at is None
    assert asset.origin["notice"] == removed.complaint.reference
    assert asset.origin["listing"]["external_id"] == "R1"
    # The bytes were copied: the reference does not depend on the listing's file.
    assert asset.image.name != reference.listing_image.file.name
    assert default_storage.exists(asset.image.name)
    assert Job.objects.get(object_type="brands.referenceasset", object_id=str(asset.pk)).status == "done"
    assert AuditEvent.objects.filter(action="staydown.created", object_id=str(reference.pk)).exists()
    # The back-scan found the removed listing itself: that is no re-listing.
    assert not Detection.objects.filter(listing=removed.listing).exists()

    relisting = _listing("R2", _relisted_copy(_photo()), seller=OTHER_SELLER)

    detection = _relisted_detection(relisting)
    assert detection is not None, "the re-listing's own matching pass must flag it"
    assert detection.source == Detection.Source.SCAN
    assert detection.brand_id == cast.brand_a.pk
    assert detection.asset_id == asset.pk
    assert detection.signals[0] == RELISTED
    assert detection.signals[1] in ("image:local", "image:hash")
    relisted = detection.evidence["relisted"]
    assert relisted["notice"] == removed.complaint.reference
    assert relisted["listing"]["external_id"] == "R1"
    assert relisted["same_seller"] is False
    assert relisted["picture"]["difference"] <= relisted["thresholds"]["max_difference"]
    assert 0.55 < relisted["picture"]["overlap"] <= 0.8
    assert detection.evidence_image

    # One matching pass from nothing finds it again (the real service, nothing else runs first).
    Detection.objects.filter(pk=detection.pk).delete()
    references.reset()
    summary = listings_match(listing_ids=[relisting.pk])
    assert summary.created == 1
    assert _relisted_detection(relisting) is not None


def test_the_evidence_page_says_which_listing_and_notice_the_picture_was_removed_by(cast: Cast, removed) -> None:
    relisting = _listing("R2", _relisted_copy(_photo()), seller=OTHER_SELLER)
    detection = _relisted_detection(relisting)
    client = Client()
    client.force_login(cast.viewer_a)
    html = client.get(reverse("listings:detection-detail", args=[detection.pk])).content.decode()
    day = removed.decided_at.strftime("%Y-%m-%d")
    assert f"Re-listed: matches an image of listing “Leather tote R1” ({MARKETPLACE}:R1) removed on {day}" in html
    assert f"by notice {removed.complaint.reference} (another seller)" in html
    assert reverse("takedowns:complaint-detail", args=[removed.complaint_id]) in html
    assert "Same picture: laid onto the listing" in html


def test_the_same_seller_relisting_counts_too(cast: Cast, removed) -> None:
    mirrored = io.BytesIO()
    ImageOps.mirror(Image.open(io.BytesIO(_photo()))).save(mirrored, format="JPEG", quality=70)
    relisting = _listing("R3", mirrored.getvalue())  # seller S1 again
    detection = _relisted_detection(relisting)
    assert detection is not None
    assert detection.evidence["relisted"]["same_seller"] is True


def test_a_different_photo_is_not_a_relisting(cast: Cast, removed) -> None:
    other = _listing("R4", _photo(seed=8), seller=OTHER_SELLER)
    assert not Detection.objects.filter(listing=other).exists()


def test_another_brand_is_not_told_about_a_relisting_of_brand_a(cast: Cast, removed) -> None:
    relisting = _listing("R2", _relisted_copy(_photo()), seller=OTHER_SELLER)
    assert set(Detection.objects.filter(listing=relisting).values_list("brand_id", flat=True)) == {cast.brand_a.pk}


# --- Idempotent -----------------------------------------------------------------------------------------


def test_running_the_task_again_or_approving_again_adds_nothing(cast: Cast, removed) -> None:
    from core.statemachine import IllegalTransition

    before = (StayDownReference.objects.count(), ReferenceAsset.objects.filter(kind="stay_down").count())
    assert before == (1, 1)
    assert staydown_create(item_id=removed.pk) == 0
    staydown_task.delay(removed.pk)
    with pytest.raises(IllegalTransition):
        item_decide(actor=cast.moderator, item=removed, action="approve", reason="Again.")
    assert (StayDownReference.objects.count(), ReferenceAsset.objects.filter(kind="stay_down").count()) == before
    assert AuditEvent.objects.filter(action="staydown.created").count() == 1


def test_the_same_picture_removed_twice_keeps_one_reference(cast: Cast, removed, right_a) -> None:
    twin = _listing("R5", _photo(), seller=OTHER_SELLER)  # the very same file, listed elsewhere
    assert _relisted_detection(twin) is not None
    second = item_in_state(cast, "approved", listing=twin, right=right_a)
    assert ReferenceAsset.objects.filter(kind="stay_down").count() == 1
    assert set(StayDownReference.objects.values_list("item_id", flat=True)) == {removed.pk, second.pk}
    assert len(set(StayDownReference.objects.values_list("asset_id", flat=True))) == 1


def test_a_takedown_of_a_relisting_keeps_the_original_reference(cast: Cast, removed, right_a) -> None:
    relisting = _listing("R2", _relisted_copy(_photo()), seller=OTHER_SELLER)
    original = StayDownReference.objects.get(item=removed).asset_id
    second = item_in_state(cast, "approved", listing=relisting, right=right_a)
    assert StayDownReference.objects.get(item=second).asset_id == original
    assert ReferenceAsset.objects.filter(kind="stay_down").count() == 1


# --- Retired when the takedown is reversed ----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["counter_notice", "appeal"])
def test_a_reinstated_takedown_retires_its_references(cast: Cast, removed, kind: str) -> None:
    relisting = _listing("R2", _relisted_copy(_photo()), seller=OTHER_SELLER)
    assert _relisted_detection(relisting) is not None
    seller = seller_login(cast, removed.seller)
    counter_notice_file(actor=seller, item=removed, **{**COUNTER, "kind": kind})
    removed.refresh_from_db()
    item_decide(actor=cast.moderator, item=removed, action="reinstate", reason="The seller showed a licence.")

    reference = StayDownReference.objects.get(item=removed)
    assert reference.retired_at is not None
    assert "reversed" in reference.retired_reason
    asset = reference.asset
    assert asset.retired_at is not None  # kept for the record ...
    assert ReferenceAsset.objects.filter(pk=asset.pk).exists()
    assert AuditEvent.objects.filter(action="referenceasset.retired", object_id=str(asset.pk)).exists()
    assert not references.usable_assets().filter(pk=asset.pk).exists()  # ... but no longer matched
    # The re-listing's new detection went with it; a fresh re-listing is not flagged.
    assert _relisted_detection(relisting) is None
    again = _listing("R6", _relisted_copy(_photo(), quality=80), seller=OTHER_SELLER)
    assert not Detection.objects.filter(listing=again).exists()


def test_a_picture_another_standing_takedown_removed_stays_in_use(cast: Cast, removed, right_a) -> None:
    twin = _listing("R5", _photo(), seller=OTHER_SELLER)
    second = item_in_state(cast, "approved", listing=twin, right=right_a)
    seller = seller_login(cast, removed.seller)
    counter_notice_file(actor=seller, item=removed, **COUNTER)
    removed.refresh_from_db()
    item_decide(actor=cast.moderator, item=removed, action="reinstate", reason="Licensed.")
    asset = StayDownReference.objects.get(item=second).asset
    assert asset.retired_at is None
    assert asset.origin["notice"] == second.complaint.reference  # it now names the takedown that stands
    assert _relisted_detection(_listing("R7", _relisted_copy(_photo()), seller=OTHER_SELLER)) is not None


# --- Private to the brand: pages and API ----------------------------------------------------------------


def test_the_brand_reads_its_stay_down_references_with_their_notice_and_cannot_change_them(cast: Cast, removed) -> None:
    asset = StayDownReference.objects.get(item=removed).asset
    client = Client()
    client.force_login(cast.manager_a)
    page = client.get(reverse("brands:assets", args=["aurora"])).content.decode()
    assert reverse("takedowns:staydown-list", args=["aurora"]) in page  # the section, loaded with htmx
    assert asset.label not in page  # not among the assets the brand added
    section = client.get(reverse("takedowns:staydown-list", args=["aurora"]), HTTP_HX_REQUEST="true")
    html = section.content.decode()
    assert section.status_code == 200
    assert removed.complaint.reference in html
    assert "Leather tote R1" in html
    assert "in use" in html
    assert client.get(reverse("brands:asset-edit", args=["aurora", asset.pk])).status_code == 403
    assert client.post(reverse("brands:asset-delete", args=["aurora", asset.pk])).status_code == 403
    assert client.get(reverse("brands:asset-new", args=["aurora"]), {"kind": "stay_down"}).status_code == 404

    api = APIClient()
    api.force_authenticate(cast.manager_a)
    rows = api.get("/api/v1/assets/", {"kind": "stay_down"}).json()["results"]
    assert [(r["id"], r["origin"]["notice"], r["retired_at"]) for r in rows] == [
        (asset.pk, removed.complaint.reference, None)
    ]
    assert api.patch(f"/api/v1/assets/{asset.pk}/", {"label": "Mine"}, format="json").status_code == 403
    assert api.delete(f"/api/v1/assets/{asset.pk}/").status_code == 403
    created = api.post(
        "/api/v1/assets/",
        {"brand": cast.brand_a.pk, "right": removed.right_id, "kind": "stay_down", "label": "By hand"},
        format="json",
    )
    assert created.status_code == 400
    assert ReferenceAsset.objects.filter(kind="stay_down").count() == 1


def test_another_brand_sees_neither_the_references_nor_where_they_came_from(cast: Cast, removed) -> None:
    asset = StayDownReference.objects.get(item=removed).asset
    client = Client()
    client.force_login(cast.manager_b)
    assert client.get(reverse("takedowns:staydown-list", args=["aurora"])).status_code == 404
    assert client.get(reverse("brands:asset-image", args=["aurora", asset.pk])).status_code == 404
    own = client.get(reverse("takedowns:staydown-list", args=["nordpeak"]), HTTP_HX_REQUEST="true").content.decode()
    assert removed.complaint.reference not in own
    assert "None yet" in own
    api = APIClient()
    api.force_authenticate(cast.manager_b)
    assert api.get("/api/v1/assets/", {"kind": "stay_down"}).json()["results"] == []
    assert api.get(f"/api/v1/assets/{asset.pk}/").status_code == 404
    relisting = _listing("R2", _relisted_copy(_photo()), seller=OTHER_SELLER)
    detection = _relisted_detection(relisting)
    assert api.get(f"/api/v1/detections/{detection.pk}/").status_code == 404
    assert api.get("/api/v1/detections/").json()["results"] == []


# --- First in the brand's detections and in the moderator queue; drafted for fast track ------------------


def test_relisted_content_comes_first_in_the_brand_detections(cast: Cast, removed, right_a) -> None:
    relisting = _listing("R2", _relisted_copy(_photo()), seller=OTHER_SELLER)
    relisted = _relisted_detection(relisting)
    Detection.objects.filter(pk=relisted.pk).update(score=0.55)  # weaker than what follows
    brand_services.asset_create(
        actor=cast.manager_a, brand=cast.brand_a, right=right_a, kind="product_photo", label="Catalogue shot",
        image=SimpleUploadedFile("catalogue.jpg", _photo(seed=11)),
    )  # fmt: skip
    stronger = _listing("C1", _photo(seed=11), seller=OTHER_SELLER)
    plain = Detection.objects.get(listing=stronger)
    assert plain.score > 0.55
    assert plain.signals[0] != RELISTED

    client = Client()
    client.force_login(cast.viewer_a)
    page = client.get(reverse("listings:detections"), {"brand": cast.brand_a.pk})
    assert [d.pk for d in page.context["page"].object_list][:2] == [relisted.pk, plain.pk]
    api = APIClient()
    api.force_authenticate(cast.viewer_a)
    assert [row["id"] for row in api.get("/api/v1/detections/").json()["results"]][:2] == [relisted.pk, plain.pk]


def test_relisted_content_comes_first_in_the_moderator_queue(cast: Cast, removed, right_a) -> None:
    relisting = _listing("R2", _relisted_copy(_photo()), seller=OTHER_SELLER)
    relisted = _relisted_detection(relisting)
    urgent = file_notice(cast, [_listing("U1")], right_a).complaint.items.get()
    # A fast-track item at high risk would otherwise lead.
    ComplaintItem.objects.filter(pk=urgent.pk).update(fast_track=True, risk_score=0.99)
    file_notice(cast, [relisting], right_a, items=[notice_item(relisting, right_a, detection=relisted.pk)])
    queue = list(moderation_queue(user=cast.moderator))
    assert [i.listing_id for i in queue[:2]] == [relisting.pk, urgent.listing_id]
    assert queue[0].relisted
    assert not queue[1].relisted

    client = Client()
    client.force_login(cast.moderator)
    html = client.get(reverse("takedowns:moderation-queue")).content.decode()
    assert html.index('data-testid="relisted"') < html.index('data-testid="fast-track"')


def test_a_fast_track_brand_gets_the_relisting_drafted_as_a_notice(cast: Cast, removed) -> None:
    Standing.objects.update_or_create(brand=cast.brand_a, defaults={"status": Standing.Status.FAST_TRACK})
    relisting = _listing("R2", _relisted_copy(_photo()), seller=OTHER_SELLER)
    detection = _relisted_detection(relisting)
    draft = Complaint.objects.get(brand=cast.brand_a, source=Complaint.Source.AUTO)
    item = draft.items.get()
    assert (item.state, item.listing_id, item.detection_id, item.right_id) == (
        "draft", relisting.pk, detection.pk, removed.right_id
    )  # fmt: skip
    assert "re-lists content already removed" in item.explanation
    assert removed.complaint.reference in item.explanation
    assert draft.submitted_at is None  # nothing is filed without the brand's signature
