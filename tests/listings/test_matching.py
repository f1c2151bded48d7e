"""The matching pipeline: listings in, detections with evidence out (tasks in-process, either database)."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image, ImageOps

from brands import services as brand_services
from brands.models import Job
from listings.matching import DetectionStateError, detection_set_state, listings_match
from listings.models import Detection, Listing, ListingImage
from listings.selectors import image_search
from listings.services import listing_image_upload, listings_ingest
from portal import demo_art
from tests.conftest import Cast
from tests.factories import IPRightFactory
from tests.listings.kit import MARKETPLACE, listing_item

# Real commits: work queued on commit (asset features, matching, back-scans) runs right away,
# in-process, as in the embedded default.
pytestmark = pytest.mark.django_db(transaction=True)


def _file(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def _jpeg(image: Image.Image, quality: int = 85) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=quality)
    return out.getvalue()


@pytest.fixture
def right_a(cast: Cast):
    return IPRightFactory(brand=cast.brand_a, verified=True, kind="trademark_combined", word_mark="AURORA")


def _logo_asset(cast: Cast, right, logo: bytes | None = None):
    return brand_services.asset_create(
        actor=cast.manager_a, brand=cast.brand_a, right=right, kind="logo", label="Sun logo",
        image=_file("logo.png", logo or demo_art.sun_logo()),
    )  # fmt: skip


def _word_mark(cast: Cast, right, words=("AURORA",)):
    return brand_services.asset_create(
        actor=cast.manager_a, brand=cast.brand_a, right=right, kind="word_mark", label="Name", words=list(words)
    )


def _listing(external_id: str, *, title: str = "Leather bag", photo: bytes | None = None, **overrides) -> Listing:
    listings_ingest(items=[listing_item(external_id, title=title, **overrides)])
    listing = Listing.objects.get(marketplace=MARKETPLACE, external_id=external_id)
    if photo is not None:
        listing_image_upload(listing=listing, file=_file(f"{external_id}.jpg", photo))
    return listing


def _photo_with_logo(seed: int = 3, scale: float = 0.22) -> bytes:
    return demo_art.product_photo("bag", seed=seed, logo=demo_art.sun_logo(), logo_scale=scale)


def test_a_logo_inside_a_listing_photo_becomes_a_detection_with_evidence(cast: Cast, right_a) -> None:
    asset = _logo_asset(cast, right_a)
    listing = _listing("L1", title="Designer handbag", photo=_photo_with_logo())

    detection = Detection.objects.get(listing=listing)
    assert detection.brand == cast.brand_a
    assert detection.asset == asset
    assert detection.image is not None
    assert detection.signals[0].startswith("image:")
    assert detection.score >= 0.5
    match = detection.evidence["image_match"]
    assert match["region"]
    assert len(match["region"]) == 4
    # The stored picture is a real PNG, and the listing's risk reflects the detection.
    with default_storage.open(detection.evidence_image.name, "rb") as handle:
        assert Image.open(handle).format == "PNG"
    assert Listing.objects.get(pk=listing.pk).risk_score == pytest.approx(detection.score)
    assert ListingImage.objects.get(pk=detection.image_id).match_status == "done"


def test_a_plain_photo_and_an_innocent_title_raise_nothing(cast: Cast, right_a) -> None:
    _logo_asset(cast, right_a)
    _word_mark(cast, right_a)
    listing = _listing("L1", title="Plain canvas tote bag", photo=demo_art.product_photo("bag", seed=5))
    assert not Detection.objects.filter(listing=listing).exists()
    assert Listing.objects.get(pk=listing.pk).risk_score == 0


def test_matching_again_creates_no_duplicate(cast: Cast, right_a) -> None:
    _logo_asset(cast, right_a)
    _word_mark(cast, right_a)
    listing = _listing("L1", title="AUR0RA bag replica", photo=_photo_with_logo())
    before = list(Detection.objects.values_list("dedupe_key", "score"))
    assert before
    summary = listings_match(listing_ids=[listing.pk])
    summary_again = listings_match(listing_ids=[listing.pk])
    assert list(Detection.objects.values_list("dedupe_key", "score")) == before
    assert summary.created == summary_again.created == 0


@pytest.mark.parametrize(
    "title",
    [
        "AURORA Luna bag replica",
        "Аurоrа Luna bag replica",  # Cyrillic А, о, а
        "A u r o r a Luna bag replica",
        "A.U.R.O.R.A Luna bag replica",
        "AUR0RA Luna bag replica",
        "Aurorra Luna bag replica",
        "aurora-inspired Luna bag, 1:1 mirror quality",
    ],
)
def test_word_mark_evasions_are_detected_with_the_span_and_normalisation(cast: Cast, right_a, title: str) -> None:
    _word_mark(cast, right_a)
    listing = _listing("L1", title=title, price="39", currency="EUR")
    detection = Detection.objects.get(listing=listing)
    assert detection.signals == ["text"]
    hit = detection.evidence["text"]["word_marks"][0]
    assert title[hit["start"] : hit["end"]] == hit["found"]
    assert hit["mark"] == "AURORA"


def test_a_low_price_against_the_brands_range_raises_the_score(cast: Cast, right_a) -> None:
    _word_mark(cast, right_a)
    brand_services.asset_create(
        actor=cast.manager_a, brand=cast.brand_a, right=right_a, kind="price_range", label="Luna",
        price_min=Decimal("450"), price_max=Decimal("1200"), currency="EUR",
    )  # fmt: skip
    cheap = _listing("L1", title="AURORA Luna bag replica", price="39")
    fair = _listing("L2", title="AURORA Luna bag replica", price="700")
    cheap_score = Detection.objects.get(listing=cheap).score
    fair_detection = Detection.objects.filter(listing=fair).first()
    assert Detection.objects.get(listing=cheap).evidence["text"]["price"]["score"] > 0
    assert fair_detection is None or fair_detection.score < cheap_score


def test_an_authorized_seller_is_never_flagged(cast: Cast, right_a) -> None:
    _logo_asset(cast, right_a)
    _word_mark(cast, right_a)
    brand_services.asset_create(
        actor=cast.manager_a, brand=cast.brand_a, right=right_a, kind="authorized_seller", label="Official store",
        marketplace=MARKETPLACE, seller_external_id="OFFICIAL", seller_name="Aurora Official",
    )  # fmt: skip
    official = _listing(
        "L1", title="AURORA bag replica", photo=_photo_with_logo(),
        seller={"external_id": "OFFICIAL", "name": "Aurora Official"},
    )  # fmt: skip
    other = _listing("L2", title="AURORA bag replica", photo=_photo_with_logo(seed=4))
    assert not Detection.objects.filter(listing=official).exists()
    assert Detection.objects.filter(listing=other, brand=cast.brand_a).exists()


def test_a_new_reference_back_scans_the_stored_listings_with_progress(cast: Cast, right_a) -> None:
    listing = _listing("L1", title="Designer handbag", photo=_photo_with_logo())
    bystander = _listing("L2", title="Plain tote", photo=demo_art.product_photo("bag", seed=8))
    assert not Detection.objects.exists()

    asset = _logo_asset(cast, right_a)

    detection = Detection.objects.get(listing=listing)
    assert detection.source == Detection.Source.BACKSCAN
    assert not Detection.objects.filter(listing=bystander).exists()
    job = Job.objects.get(object_type="brands.referenceasset", object_id=str(asset.pk))
    assert job.status == Job.Status.DONE
    assert job.progress_total >= 2
    assert job.progress_done == job.progress_total


def test_removing_a_reference_removes_its_new_detections_but_keeps_dismissed_ones(cast: Cast, right_a) -> None:
    asset = _logo_asset(cast, right_a)
    first = _listing("L1", photo=_photo_with_logo())
    second = _listing("L2", photo=_photo_with_logo(seed=4))
    dismissed = detection_set_state(
        actor=cast.manager_a, detection=Detection.objects.get(listing=second), state="dismissed", reason="Licensed."
    )
    brand_services.asset_delete(actor=cast.manager_a, asset=asset)
    assert not Detection.objects.filter(listing=first).exists()
    assert Detection.objects.filter(pk=dismissed.pk, state="dismissed").exists()
    assert Listing.objects.get(pk=first.pk).risk_score == 0


def test_dismissing_needs_a_reason_and_lowers_the_listings_risk(cast: Cast, right_a) -> None:
    _word_mark(cast, right_a)
    listing = _listing("L1", title="AURORA replica bag", price="20")
    detection = Detection.objects.get(listing=listing)
    with pytest.raises(DetectionStateError, match="why"):
        detection_set_state(actor=cast.manager_a, detection=detection, state="dismissed", reason=" ")
    assert Detection.objects.get(pk=detection.pk).state == "new"
    detection_set_state(actor=cast.manager_a, detection=detection, state="dismissed", reason="Parody, allowed.")
    assert Listing.objects.get(pk=listing.pk).risk_score == 0
    # A dismissed detection stays dismissed when the listing is matched again.
    listings_match(listing_ids=[listing.pk])
    assert Detection.objects.get(pk=detection.pk).state == "dismissed"
    with pytest.raises(DetectionStateError):
        detection_set_state(actor=cast.manager_a, detection=detection, state="reported")


def test_an_edited_listing_loses_a_detection_that_no_longer_fires(cast: Cast, right_a) -> None:
    _word_mark(cast, right_a)
    listing = _listing("L1", title="AURORA replica bag", price="20")
    assert Detection.objects.filter(listing=listing).exists()
    _listing("L1", title="Plain leather bag", price="20")
    assert not Detection.objects.filter(listing=listing).exists()


def test_an_unreadable_stored_image_is_recorded_not_retried(cast: Cast, right_a) -> None:
    _logo_asset(cast, right_a)
    listing = _listing("L1", photo=_photo_with_logo())
    image = listing.images.get()
    with default_storage.open(image.file.name, "wb") as handle:  # the stored file got corrupted
        handle.write(b"\xff\xd8\xff\xe0 not a jpeg any more")
    Detection.objects.all().delete()
    summary = listings_match(listing_ids=[listing.pk])
    assert summary.image_failures == 1
    image.refresh_from_db()
    assert image.match_status == "failed"
    assert "Could not read the image" in image.match_error
    # The brand sees why on the listing's page and in the API.
    client = Client()
    client.force_login(cast.manager_a)
    page = client.get(reverse("listings:detail", args=[listing.pk])).content.decode()
    assert "Matching failed" in page
    assert "Could not read the image" in page
    api = client.get(f"/api/v1/listings/{listing.pk}/").json()
    assert api["images"][0]["match_status"] == "failed"


def test_an_authentic_photo_is_found_mirrored_and_cropped(cast: Cast, right_a) -> None:
    authentic = demo_art.product_photo("jacket", seed=11, logo=demo_art.peak_logo(), logo_scale=0.2)
    brand_services.asset_create(
        actor=cast.manager_a, brand=cast.brand_a, right=right_a, kind="product_photo", label="Summit jacket",
        image=_file("authentic.jpg", authentic),
    )  # fmt: skip
    original = Image.open(io.BytesIO(authentic))
    mirrored = _listing("L1", photo=_jpeg(ImageOps.mirror(original)))
    w, h = original.size
    cropped = _listing("L2", photo=_jpeg(original.crop((int(w * 0.1), int(h * 0.1), int(w * 0.85), int(h * 0.85)))))
    assert Detection.objects.filter(listing=mirrored, brand=cast.brand_a).exists()
    assert Detection.objects.filter(listing=cropped, brand=cast.brand_a).exists()


def test_image_search_ranks_a_copy_first_even_mirrored(cast: Cast) -> None:
    photo = demo_art.product_photo("bag", seed=21)
    copy = _listing("L1", photo=_jpeg(ImageOps.mirror(Image.open(io.BytesIO(photo))), quality=60))
    _listing("L2", photo=demo_art.product_photo("jacket", seed=22))
    hits = image_search(user=cast.manager_a, data=photo)
    assert hits
    assert hits[0].listing == copy


def test_reprocessing_brings_outdated_references_and_images_back_into_matching(cast: Cast, right_a) -> None:
    from io import StringIO

    from django.core.management import call_command

    from brands.models import ReferenceAsset
    from listings import references

    asset = _logo_asset(cast, right_a)
    listing = _listing("L1", photo=_photo_with_logo())
    assert Detection.objects.filter(listing=listing).exists()
    # As stored by an older engine: no engine features (the workers skip it), an old image hash.
    features = {k: v for k, v in asset.features.items() if k != "engine"}
    ReferenceAsset.objects.filter(pk=asset.pk).update(features=features)
    ListingImage.objects.filter(listing=listing).update(phash="0" * 16)
    Detection.objects.all().delete()
    references.reset()  # a worker started after the upgrade
    listings_match(listing_ids=[listing.pk])
    assert not Detection.objects.exists()

    out = StringIO()
    call_command("reprocess_matching", "--images", stdout=out)

    assert "1 reference(s) queued" in out.getvalue()
    assert "1 listing image(s) re-hashed" in out.getvalue()
    assert "engine" in ReferenceAsset.objects.get(pk=asset.pk).features
    assert ListingImage.objects.get(listing=listing).phash != "0" * 16
    assert Detection.objects.filter(listing=listing, asset=asset).exists()


def test_two_workers_matching_the_same_listing_leave_one_detection(cast: Cast, right_a) -> None:
    """The second worker finds no row when it looks, then the first one's insert when it writes."""
    from listings import matching

    _word_mark(cast, right_a)
    listing = _listing("L1", title="AURORA replica bag", price="20")
    first = Detection.objects.get(listing=listing)
    catalogue = matching.references.current(force=True)
    summary = matching.MatchSummary()
    findings = matching.listing_findings(catalogue, listing, summary)
    # What the second worker saw before the first one's commit: no detection yet.
    real_filter = Detection.objects.select_for_update

    class NothingYet:
        def filter(self, **kwargs):
            return Detection.objects.none()

    Detection.objects.select_for_update = lambda: NothingYet()  # type: ignore[method-assign]
    try:
        matching._upsert(listing, findings, Detection.Source.SCAN, summary)
    finally:
        Detection.objects.select_for_update = real_filter  # type: ignore[method-assign]
    assert list(Detection.objects.filter(listing=listing)) == [first]
    assert summary.created == 0
    assert summary.updated == 1


def test_managers_are_emailed_about_new_detections_but_not_once_per_back_scan_chunk(
    cast: Cast, right_a, mailoutbox
) -> None:
    _listing("L0", title="Designer handbag", photo=_photo_with_logo())
    _logo_asset(cast, right_a)  # the back-scan finds L0: no email per chunk
    assert not [m for m in mailoutbox if "suspected infringement" in m.subject]
    _listing("L1", title="Designer handbag", photo=_photo_with_logo(seed=4))
    mails = [m for m in mailoutbox if "suspected infringement" in m.subject]
    assert len(mails) == 1
    assert mails[0].to == [cast.manager_a.email]
    assert "/listings/detections/?brand=" in mails[0].body


def _printed_logo_photo() -> bytes:
    """The sun printed small (8 % of the photo) in off-white onto a bag: too few corners for the
    geometric check, found by the learned logo stage."""
    return demo_art.product_photo("bag", seed=19, logo=demo_art.sun_logo(), logo_scale=0.08, printed=(245, 240, 230))


def test_a_small_printed_logo_is_found_by_the_learned_stage_with_its_similarity(cast: Cast, right_a) -> None:
    asset = _logo_asset(cast, right_a)
    listing = _listing("L1", title="Shoulder bag", photo=_printed_logo_photo())

    detection = Detection.objects.get(listing=listing, asset=asset)
    assert detection.signals == ["image:logo"]
    match = detection.evidence["image_match"]
    assert match["signal"] == "logo"
    assert match["similarity"] >= detection.evidence["thresholds"]["logo_similarity"]
    x0, y0 = min(x for x, _ in match["region"]), min(y for _, y in match["region"])
    x1, y1 = max(x for x, _ in match["region"]), max(y for _, y in match["region"])
    assert x0 < 320 < x1  # the box is on the printed mark, at the photo's (320, 380)
    assert y0 < 380 < y1
    assert detection.evidence_image


def _small_logo_photo() -> bytes:
    """The sun at 8 % of the photo in its own colours on a bag: too few corners for ORB over the whole
    photo, a look the embedder finds short of the similarity that names a logo by itself."""
    return demo_art.product_photo("bag", seed=19, logo=demo_art.sun_logo(), logo_scale=0.08)


def test_a_mark_its_look_alone_does_not_name_is_checked_point_by_point(cast: Cast, right_a, settings) -> None:
    asset = _logo_asset(cast, right_a)
    listing = _listing("L1", title="Shoulder bag", photo=_small_logo_photo())

    detection = Detection.objects.get(listing=listing, asset=asset)
    assert detection.signals == ["image:logo_box"]
    match = detection.evidence["image_match"]
    thresholds = detection.evidence["thresholds"]
    assert thresholds["logo_box_similarity"] <= match["similarity"] < thresholds["logo_similarity"]
    assert match["inliers"] >= thresholds["min_inliers"]
    assert match["keypoints"]  # the evidence joins the logo's points to the photo's
    x0, y0 = min(x for x, _ in match["region"]), min(y for _, y in match["region"])
    x1, y1 = max(x for x, _ in match["region"]), max(y for _, y in match["region"])
    assert x0 < 320 < x1  # the logo drawn on the mark, at the photo's (320, 380)
    assert y0 < 380 < y1
    assert detection.evidence_image

    client = Client()
    client.force_login(cast.viewer_a)
    page = client.get(reverse("listings:detection-detail", args=[detection.pk])).content.decode()
    assert "checked point by point" in page


def test_the_point_by_point_check_has_its_own_threshold(cast: Cast, right_a, settings) -> None:
    settings.MATCH_OCR = False  # the logo's words, read in the photo, would find it too
    settings.MATCH_LOGO_BOX_SIMILARITY = 2.0  # off
    _logo_asset(cast, right_a)
    listing = _listing("L1", title="Shoulder bag", photo=_small_logo_photo())
    assert not Detection.objects.filter(listing=listing).exists()


def test_the_learned_stage_can_be_switched_off(cast: Cast, right_a, settings) -> None:
    settings.MATCH_LOGO_MODEL = False
    _logo_asset(cast, right_a)
    listing = _listing("L1", title="Shoulder bag", photo=_printed_logo_photo())
    assert not Detection.objects.filter(listing=listing).exists()


def test_reprocessing_gives_logos_from_before_the_learned_stage_their_vectors(cast: Cast, right_a) -> None:
    from io import StringIO

    from django.core.management import call_command

    from brands.models import ReferenceAsset
    from listings import references

    asset = _logo_asset(cast, right_a)
    asset.refresh_from_db()  # its features were computed after the commit
    engine = {k: v for k, v in asset.features["engine"].items() if k != "marks"}  # as an older engine stored it
    ReferenceAsset.objects.filter(pk=asset.pk).update(features={**asset.features, "engine": engine})
    references.reset()
    listing = _listing("L1", title="Shoulder bag", photo=_printed_logo_photo())
    assert not Detection.objects.filter(listing=listing).exists()

    out = StringIO()
    call_command("reprocess_matching", stdout=out)

    assert "1 reference(s) queued" in out.getvalue()
    assert ReferenceAsset.objects.get(pk=asset.pk).features["engine"]["marks"]
    assert Detection.objects.filter(listing=listing, asset=asset, signals=["image:logo"]).exists()


def test_reprocessing_gives_logos_embedded_from_fewer_views_the_views_of_this_engine(cast: Cast, right_a) -> None:
    import base64
    from io import StringIO

    from django.core.management import call_command

    from brands.models import ReferenceAsset
    from engine import logo_model
    from engine.matcher import REFERENCE_VIEWS

    asset = _logo_asset(cast, right_a)
    asset.refresh_from_db()
    vectors = logo_model.decode_vectors(base64.b64decode(asset.features["engine"]["marks"]))
    assert len(vectors) == REFERENCE_VIEWS
    # As the engine before the zoomed and turned views stored it: the upload and its ink only.
    older = {**asset.features["engine"], "marks": base64.b64encode(logo_model.encode_vectors(vectors[:2])).decode()}
    ReferenceAsset.objects.filter(pk=asset.pk).update(features={**asset.features, "engine": older})

    out = StringIO()
    call_command("reprocess_matching", stdout=out)
    assert "1 reference(s) queued" in out.getvalue()
    again = ReferenceAsset.objects.get(pk=asset.pk).features["engine"]["marks"]
    assert len(logo_model.decode_vectors(base64.b64decode(again))) == REFERENCE_VIEWS
    out = StringIO()
    call_command("reprocess_matching", stdout=out)  # up to date now: nothing left to do
    assert "0 reference(s) queued" in out.getvalue()
