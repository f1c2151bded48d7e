"""Text printed in listing photos goes through the word-mark and counterfeit-term signals (issue 17)."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from brands import services as brand_services
from engine.ocr import OCR_VERSION
from listings.matching import listings_match
from listings.models import Detection, Listing, ListingImage
from listings.services import listing_image_upload, listings_ingest
from portal import demo_art
from tests.conftest import Cast
from tests.factories import IPRightFactory
from tests.listings.kit import MARKETPLACE, listing_item

# Real commits: matching queued on commit runs right away, in-process, as in the embedded default.
pytestmark = pytest.mark.django_db(transaction=True)

BANNER = [("AURORA", 30), ("REPLICA 1:1", 22)]


@pytest.fixture
def right_a(cast: Cast):
    return IPRightFactory(brand=cast.brand_a, verified=True, kind="trademark_word", word_mark="AURORA")


def _word_mark(cast: Cast, right) -> None:
    brand_services.asset_create(
        actor=cast.manager_a, brand=cast.brand_a, right=right, kind="word_mark", label="Name", words=["Aurora"]
    )


def _listing(external_id: str, photo: bytes, *, title: str = "Leather shoulder bag") -> Listing:
    listings_ingest(items=[listing_item(external_id, title=title, description="Brown leather, gold clasp.")])
    listing = Listing.objects.get(marketplace=MARKETPLACE, external_id=external_id)
    listing_image_upload(listing=listing, file=SimpleUploadedFile(f"{external_id}.jpg", photo))
    return listing


def test_a_brand_name_moved_into_the_photo_is_detected_with_where_it_was_read(cast: Cast, right_a) -> None:
    _word_mark(cast, right_a)
    listing = _listing("OCR1", demo_art.product_photo_with_text("bag", seed=5, lines=BANNER))

    detection = Detection.objects.get(listing=listing, brand=cast.brand_a)
    assert detection.signals[0] == "image:text"
    assert detection.image == listing.images.get()
    assert detection.score >= 0.6
    read = {entry["kind"]: entry for entry in detection.evidence["photo_text"]}
    assert read["word_mark"]["mark"] == "Aurora"
    assert read["word_mark"]["found"] == "AURORA"
    terms = {
        entry["term"].casefold() for entry in detection.evidence["photo_text"] if entry["kind"] == "counterfeit_term"
    }
    assert "replica" in terms
    # The mark's line sits in the top label of the 640 px photo, centred.
    (x0, y0), _, (x1, y1), _ = read["word_mark"]["quad"]
    assert 180 < x0 < x1 < 460
    assert 20 < y0 < y1 < 110
    assert detection.evidence_image
    assert default_storage.exists(detection.evidence_image.name)
    # The title never named the brand: the text signal's hit is the photo's.
    assert [hit["field"] for hit in detection.evidence["text"]["word_marks"]] == ["photo"]


def test_a_photo_is_read_once_and_the_reading_kept(cast: Cast, right_a) -> None:
    _word_mark(cast, right_a)
    listing = _listing("OCR2", demo_art.product_photo_with_text("bag", seed=5, lines=BANNER))
    image = ListingImage.objects.get(listing=listing)
    assert image.ocr["version"] == OCR_VERSION
    assert [line["text"] for line in image.ocr["lines"]][:2] == ["AURORA", "REPLICA 1:1"]
    assert "aurora" in image.text_key

    summary = listings_match(listing_ids=[listing.pk])
    assert summary.readings == {}  # matched again from the stored reading
    assert Detection.objects.filter(listing=listing, brand=cast.brand_a).count() == 1


def test_the_brand_name_alone_in_a_photo_is_not_a_detection(cast: Cast, right_a) -> None:
    """Genuine resellers show the brand too: a mark with nothing else stays below the text threshold."""
    _word_mark(cast, right_a)
    listing = _listing("OCR3", demo_art.product_photo_with_text("bag", seed=6, lines=[("AURORA", 30)]))
    assert not Detection.objects.filter(listing=listing).exists()
    assert ListingImage.objects.get(listing=listing).ocr["lines"][0]["text"] == "AURORA"


def test_photos_without_text_read_nothing_and_unrelated_text_detects_nothing(cast: Cast, right_a) -> None:
    _word_mark(cast, right_a)
    plain = _listing("OCR4", demo_art.product_photo("bag", seed=7))
    assert ListingImage.objects.get(listing=plain).ocr["lines"] == []
    shop = _listing(
        "OCR5", demo_art.product_photo_with_text("bag", seed=8, lines=[("FREE SHIPPING", 28), ("SUMMER SALE", 24)])
    )
    assert ListingImage.objects.get(listing=shop).ocr["lines"]
    assert not Detection.objects.filter(listing__in=[plain, shop]).exists()


def test_a_new_word_mark_back_scans_text_read_in_photos(cast: Cast, right_a) -> None:
    listing = _listing("OCR6", demo_art.product_photo_with_text("bag", seed=5, lines=BANNER))
    assert not Detection.objects.filter(listing=listing).exists()

    _word_mark(cast, right_a)  # registered after the listing was read: the back-scan finds it

    detection = Detection.objects.get(listing=listing, brand=cast.brand_a)
    assert detection.source == Detection.Source.BACKSCAN
    assert detection.signals[0] == "image:text"


def test_reading_photos_can_be_switched_off(cast: Cast, right_a, settings) -> None:
    settings.MATCH_OCR = False
    _word_mark(cast, right_a)
    listing = _listing("OCR7", demo_art.product_photo_with_text("bag", seed=5, lines=BANNER))
    assert ListingImage.objects.get(listing=listing).ocr == {}
    assert not Detection.objects.filter(listing=listing).exists()


def _word_logo(word: str) -> bytes:
    """A combined mark as a brand uploads it: a symbol beside its name, on white."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 200), "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse((20, 40, 140, 160), fill=(180, 40, 40))
    draw.text((170, 50), word, font=demo_art._font(84), fill=(180, 40, 40))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _name_logo(cast: Cast, right):
    return brand_services.asset_create(
        actor=cast.manager_a, brand=cast.brand_a, right=right, kind="logo", label="Name logo",
        image=SimpleUploadedFile("logo.png", _word_logo("Aurora")),
    )  # fmt: skip


def test_a_logos_words_printed_in_a_photo_are_a_logo_detection_that_draws_the_line(cast: Cast, right_a) -> None:
    asset = _name_logo(cast, right_a)
    asset.refresh_from_db()
    assert asset.features["engine"]["words"] == ["Aurora"]  # read once, when registered
    # No word-mark asset, no counterfeit talk, a clean title: only the logo's words in the photo.
    listing = _listing("OCR9", demo_art.product_photo_with_text("bag", seed=4, lines=[("AURORA", 30)]))

    detection = Detection.objects.get(listing=listing, brand=cast.brand_a)
    assert detection.signals == ["image:logo_text"]
    assert detection.asset_id == asset.pk
    match = detection.evidence["image_match"]
    assert match["signal"] == "logo_text"
    assert match["text"] == "AURORA"
    assert detection.score >= 0.5
    (x0, y0), _, (x1, y1), _ = match["region"]  # the label at the top of the 640 px photo, centred
    assert 180 < x0 < x1 < 460
    assert 20 < y0 < y1 < 110
    assert default_storage.exists(detection.evidence_image.name)
    client = Client()
    client.force_login(cast.manager_a)
    page = client.get(reverse("listings:detection-detail", args=[detection.pk])).content.decode()
    assert "The words of the registered logo are read in the listing&#x27;s image as “AURORA”" in page

    # Another brand's name two letters away is not this logo's words.
    other = _listing("OCR10", demo_art.product_photo_with_text("bag", seed=4, lines=[("AUDORE", 30)]))
    assert not Detection.objects.filter(listing=other).exists()


def test_with_ocr_off_a_logos_words_find_nothing(cast: Cast, right_a, settings) -> None:
    settings.MATCH_OCR = False
    _name_logo(cast, right_a)
    listing = _listing("OCR11", demo_art.product_photo_with_text("bag", seed=4, lines=[("AURORA", 30)]))
    assert not Detection.objects.filter(listing=listing).exists()


def test_reprocessing_reads_the_words_of_logos_registered_before_they_were_read(cast: Cast, right_a) -> None:
    from io import StringIO

    from django.core.management import call_command

    from brands.models import ReferenceAsset
    from listings import references

    asset = _name_logo(cast, right_a)
    asset.refresh_from_db()
    engine = {k: v for k, v in asset.features["engine"].items() if k != "words"}  # as an older engine stored it
    ReferenceAsset.objects.filter(pk=asset.pk).update(features={**asset.features, "engine": engine})
    references.reset()
    listing = _listing("OCR12", demo_art.product_photo_with_text("bag", seed=4, lines=[("AURORA", 30)]))
    assert not Detection.objects.filter(listing=listing).exists()

    out = StringIO()
    call_command("reprocess_matching", stdout=out)
    assert "1 reference(s) queued" in out.getvalue()
    assert ReferenceAsset.objects.get(pk=asset.pk).features["engine"]["words"] == ["Aurora"]
    assert Detection.objects.filter(listing=listing, asset=asset, signals=["image:logo_text"]).exists()

    out = StringIO()
    call_command("reprocess_matching", stdout=out)  # read now: nothing left to do
    assert "0 reference(s) queued" in out.getvalue()
