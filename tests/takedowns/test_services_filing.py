"""Filing a notice: every element the law asks for, the rights it may rely on, duplicates and replays,
the listing snapshot, the detections it uses, and the evidence attached to it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from core.models import AuditEvent
from listings.models import Detection, ListingImage
from takedowns.models import Attachment, Complaint, ComplaintItem
from takedowns.services.attachments import attachment_add
from takedowns.services.complaints import complaint_file, item_withdraw
from takedowns.services.moderation import item_decide
from tests.factories import DetectionFactory, IPRightFactory, ListingFactory, pdf_bytes, pdf_file, png_file
from tests.takedowns.factories import file_notice, filer, notice_item, signed

pytestmark = pytest.mark.django_db

HTML_PAGE = b"<!DOCTYPE html><html><body><script>fetch('/api/v1/me/')</script></body></html>"


@pytest.fixture
def right(cast):
    return IPRightFactory(brand=cast.brand_a, verified=True)


def _refused(cast, listings, right, **kw) -> dict[str, Any]:
    with pytest.raises(ValidationError) as exc:
        file_notice(cast, listings, right, **kw)
    return exc.value.message_dict


def _nothing_filed() -> None:
    assert not Complaint.objects.exists()
    assert not ComplaintItem.objects.exists()
    assert not AuditEvent.objects.filter(object_type__startswith="takedowns.").exists()


def _stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# --- Each legally required element -------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "key"),
    [
        pytest.param({"filer": filer(name="")}, "filer_name", id="filer-name"),
        pytest.param({"filer": filer(email="")}, "filer_email", id="filer-email-missing"),
        pytest.param({"filer": filer(email="ada at aurora")}, "filer_email", id="filer-email-invalid"),
        pytest.param({"statements": signed(good_faith=False)}, "good_faith", id="good-faith"),
        pytest.param({"statements": signed(accurate_under_penalty=False)}, "accurate_under_penalty", id="perjury"),
        pytest.param({"statements": signed(signature_name="")}, "signature_name", id="signature-missing"),
        pytest.param({"statements": signed(signature_name="Ada")}, "signature_name", id="signature-not-full-name"),
        pytest.param({"statements": signed(signature_name="Grace Hopper")}, "signature_name", id="signature-other"),
        pytest.param({"source": "fax"}, "source", id="source"),
    ],
)
def test_each_missing_element_has_its_own_error_and_nothing_is_filed(cast, right, change, key) -> None:
    errors = _refused(cast, [ListingFactory()], right, **change)
    assert set(errors) == {key}
    _nothing_filed()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        pytest.param({"explanation": "fake"}, "explanation", "at least 20 characters", id="explanation"),
        pytest.param({"explanation": ""}, "explanation", "at least 20 characters", id="no-explanation"),
        pytest.param({"infringement_type": ""}, "infringement type", "One of", id="no-type"),
        pytest.param({"infringement_type": "libel"}, "infringement type", "One of", id="unknown-type"),
        pytest.param({"right": None}, "right", "Choose one of the brand's IP rights", id="no-right"),
        pytest.param({"listing": 999999}, "listing", "No listing matches", id="unknown-listing"),
        pytest.param({"listing": ""}, "listing", "No listing matches", id="no-listing"),
    ],
)
def test_each_missing_item_element_is_named_and_nothing_is_filed(cast, right, overrides, field, message) -> None:
    item = notice_item(ListingFactory(), right, **overrides)
    errors = _refused(cast, [], right, items=[item])
    assert set(errors) == {"items"}
    assert len(errors["items"]) == 1
    assert errors["items"][0].startswith(f"Item 1, {field}:")
    assert message in errors["items"][0]
    _nothing_filed()


def test_no_items_at_all(cast, right) -> None:
    with pytest.raises(ValidationError) as exc:
        complaint_file(actor=cast.manager_a, brand=cast.brand_a, items=[], filer=filer(), statements=signed())
    assert exc.value.message_dict == {"items": ["Name at least one listing."]}
    _nothing_filed()


def test_a_listing_can_be_named_by_url_or_marketplace_key(cast, right) -> None:
    by_url, by_key = ListingFactory(), ListingFactory()
    items = [
        notice_item(by_url, right, listing=by_url.url),
        notice_item(by_key, right, listing=f"{by_key.marketplace}:{by_key.external_id}"),
    ]
    complaint = file_notice(cast, [], right, items=items).complaint
    assert set(complaint.items.values_list("listing_id", flat=True)) == {by_url.pk, by_key.pk}


# --- The rights a notice may rely on -------------------------------------------------------------


@pytest.mark.parametrize(
    ("right_kwargs", "message"),
    [
        pytest.param({"status": "pending"}, "only verified rights back a notice", id="pending"),
        pytest.param({"status": "rejected"}, "only verified rights back a notice", id="rejected"),
        pytest.param({"verified": True, "valid_until": dt.date(2021, 1, 1)}, "expired on 2021-01-01", id="expired"),
    ],
)
def test_unverified_or_expired_rights_are_refused(cast, right_kwargs, message) -> None:
    right = IPRightFactory(brand=cast.brand_a, **right_kwargs)
    errors = _refused(cast, [ListingFactory()], right)
    assert message in errors["items"][0]
    _nothing_filed()


def test_another_brands_right_is_refused(cast) -> None:
    theirs = IPRightFactory(brand=cast.brand_b, verified=True)
    errors = _refused(cast, [ListingFactory()], theirs)
    assert "Choose one of the brand's IP rights" in errors["items"][0]
    _nothing_filed()


@pytest.mark.parametrize(
    ("kind", "refused", "accepted"),
    [
        ("trademark_word", "patent", "trademark"),
        ("copyright", "counterfeit", "copyright"),
        ("patent", "design", "patent"),
        ("design", "copyright", "design"),
    ],
)
def test_the_infringement_type_must_be_one_the_right_supports(cast, kind, refused, accepted) -> None:
    right = IPRightFactory(brand=cast.brand_a, verified=True, kind=kind)
    listing = ListingFactory()
    errors = _refused(cast, [], right, items=[notice_item(listing, right, infringement_type=refused)])
    assert "supports" in errors["items"][0]
    _nothing_filed()
    file_notice(cast, [], right, items=[notice_item(listing, right, infringement_type=accepted)])
    assert ComplaintItem.objects.get().infringement_type == accepted


def test_more_than_the_maximum_items_is_refused(cast, right, settings) -> None:
    settings.TAKEDOWN_MAX_ITEMS = 3
    errors = _refused(cast, [ListingFactory() for _ in range(4)], right)
    assert "at most 3 listings" in errors["items"][0]
    _nothing_filed()
    file_notice(cast, [ListingFactory() for _ in range(3)], right)
    assert ComplaintItem.objects.count() == 3


def test_the_same_listing_and_right_twice_in_one_notice_is_refused(cast, right) -> None:
    listing = ListingFactory()
    errors = _refused(cast, [listing, listing], right)
    assert errors["items"] == ["Item 2, listing: The same listing and right appear twice (also item 1)."]
    _nothing_filed()


# --- Duplicates of an open notice, replays -------------------------------------------------------


def test_a_duplicate_of_an_open_notice_is_refused_with_its_reference(cast, right) -> None:
    listing = ListingFactory()
    first = file_notice(cast, [listing], right).complaint
    errors = _refused(cast, [listing], right)
    assert first.reference in errors["items"][0]
    assert f"/notices/{first.pk}/" in errors["items"][0]
    assert Complaint.objects.count() == 1
    # The same listing under another right is another notice.
    other_right = IPRightFactory(brand=cast.brand_a, verified=True)
    file_notice(cast, [listing], other_right)
    assert ComplaintItem.objects.filter(listing=listing).count() == 2


@pytest.mark.parametrize("close", ["reject", "withdraw"])
def test_a_duplicate_is_allowed_again_once_the_open_item_is_closed(cast, right, close) -> None:
    listing = ListingFactory()
    item = file_notice(cast, [listing], right).complaint.items.get()
    if close == "reject":
        item_decide(actor=cast.moderator, item=item, action="reject", reason="Genuine resale.")
    else:
        item_withdraw(actor=cast.manager_a, item=item, reason="Filed by mistake.")
    again = file_notice(cast, [listing], right).complaint.items.get()
    assert again.state == "submitted"
    assert ComplaintItem.objects.filter(listing=listing, right=right).count() == 2


def test_a_replayed_idempotency_key_returns_the_same_notice_without_new_rows(cast, right) -> None:
    listing = ListingFactory()
    first = file_notice(cast, [listing], right, idempotency_key="req-42")
    counts = (Complaint.objects.count(), ComplaintItem.objects.count(), AuditEvent.objects.count())
    again = file_notice(cast, [listing], right, idempotency_key="req-42")
    assert (first.created, again.created) == (True, False)
    assert again.complaint.pk == first.complaint.pk
    assert (Complaint.objects.count(), ComplaintItem.objects.count(), AuditEvent.objects.count()) == counts
    # Another brand's key space is its own.
    theirs = IPRightFactory(brand=cast.brand_b, verified=True)
    other = file_notice(cast, [listing], theirs, actor=cast.manager_b, brand=cast.brand_b, idempotency_key="req-42")
    assert other.created
    assert other.complaint.pk != first.complaint.pk


# --- Snapshot, detections, receipt ----------------------------------------------------------------


def test_the_snapshot_survives_the_seller_editing_the_listing_and_deleting_its_images(cast, right) -> None:
    listing = ListingFactory(title="AURORA bag replica", price="19.00")
    ListingImage.objects.create(listing=listing, position=0, source_url="https://cdn.example/a.jpg", sha256="a" * 64)
    ListingImage.objects.create(listing=listing, position=1, source_url="https://cdn.example/b.jpg", sha256="b" * 64)
    item = file_notice(cast, [listing], right).complaint.items.get()
    snapshot, digest = item.snapshot, item.snapshot_hash
    assert snapshot["title"] == "AURORA bag replica"
    assert snapshot["price"] == "19.00"
    assert [i["source_url"] for i in snapshot["images"]] == ["https://cdn.example/a.jpg", "https://cdn.example/b.jpg"]
    assert len(digest) == 64

    listing.title, listing.price, listing.description = "Brown bag", "89.00", "Nothing to see here."
    listing.save()
    listing.images.all().delete()

    item.refresh_from_db()
    assert (item.snapshot, item.snapshot_hash) == (snapshot, digest)
    filed = AuditEvent.objects.get(action="complaint.filed")
    assert filed.data["snapshot_hashes"] == [digest]


def test_detections_used_become_reported_and_back_the_item(cast, right) -> None:
    detection = DetectionFactory(brand=cast.brand_a, score=0.83)
    untouched = DetectionFactory(brand=cast.brand_a)
    items = [{"detection": detection.pk, "right": right.pk, "infringement_type": "counterfeit",
              "explanation": "Detected copy of our logo on a fake bag."}]  # fmt: skip
    item = file_notice(cast, [], right, items=items).complaint.items.get()
    assert (item.listing_id, item.detection_id, item.risk_score) == (detection.listing_id, detection.pk, 0.83)
    detection.refresh_from_db()
    untouched.refresh_from_db()
    assert detection.state == Detection.State.REPORTED
    assert untouched.state == Detection.State.NEW


def test_another_brands_detection_is_refused(cast, right) -> None:
    theirs = DetectionFactory(brand=cast.brand_b)
    items = [notice_item(theirs.listing, right, detection=theirs.pk)]
    errors = _refused(cast, [], right, items=items)
    assert "No such detection for this brand" in errors["items"][0]
    theirs.refresh_from_db()
    assert theirs.state == Detection.State.NEW


def test_receipt_goes_to_the_filer(cast, right, django_capture_on_commit_callbacks) -> None:
    from django.core import mail

    with django_capture_on_commit_callbacks(execute=True):
        complaint = file_notice(cast, [ListingFactory()], right).complaint
    receipt = cast.manager_a.notifications.get(event="complaint.received")
    assert complaint.reference in receipt.title
    assert "Ada Lovelace" in receipt.body
    assert any(complaint.reference in m.subject and cast.manager_a.email in m.to for m in mail.outbox)


# --- Attachments ---------------------------------------------------------------------------------


def test_evidence_is_checked_by_content_and_kept_once(cast, right, media) -> None:
    complaint = file_notice(cast, [ListingFactory()], right, attachments=[pdf_file(), png_file()]).complaint
    kinds = sorted(complaint.attachments.values_list("content_type", flat=True))
    assert kinds == ["application/pdf", "image/png"]
    assert len(_stored_files(media)) == 2

    with pytest.raises(ValidationError) as exc:
        attachment_add(actor=cast.manager_a, complaint=complaint, file=pdf_file("copy.pdf"))
    assert "already attached" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        attachment_add(
            actor=cast.manager_a,
            complaint=complaint,
            file=SimpleUploadedFile("proof.pdf", HTML_PAGE, "application/pdf"),
        )
    assert "HTML files are not accepted" in str(exc.value)
    assert complaint.attachments.count() == 2
    assert len(_stored_files(media)) == 2


@pytest.mark.parametrize(
    "uploads",
    [
        pytest.param(lambda: [SimpleUploadedFile("proof.pdf", HTML_PAGE, "application/pdf")], id="html-as-pdf"),
        pytest.param(lambda: [pdf_file("a.pdf"), pdf_file("b.pdf")], id="same-pdf-twice"),
        pytest.param(lambda: [pdf_file(), SimpleUploadedFile("x.pdf", pdf_bytes("cut")[:-40])], id="truncated"),
    ],
)
def test_a_bad_attachment_files_nothing_and_leaves_no_file(cast, right, media, uploads) -> None:
    listing = ListingFactory()
    with pytest.raises(ValidationError):
        file_notice(cast, [listing], right, attachments=uploads())
    _nothing_filed()
    assert not Attachment.objects.exists()
    assert _stored_files(media) == []
    file_notice(cast, [listing], right)  # the listing is free for a corrected notice


def test_only_the_brands_managers_attach_evidence(cast, right) -> None:
    from django.core.exceptions import PermissionDenied

    complaint = file_notice(cast, [ListingFactory()], right).complaint
    for user in (cast.viewer_a, cast.manager_b):
        with pytest.raises(PermissionDenied):
            attachment_add(actor=user, complaint=complaint, file=pdf_file())
    assert not complaint.attachments.exists()


def test_a_draft_needs_no_signature_until_it_is_submitted(cast, right) -> None:
    complaint = file_notice(
        cast, [ListingFactory()], right, submit=False, statements=signed(signature_name="")
    ).complaint
    assert (complaint.signed_at, complaint.submitted_at) == (None, None)
    assert complaint.items.get().state == "draft"
    assert timezone.now() - complaint.created_at < dt.timedelta(minutes=1)
