"""IP documents: checked by content, stored under generated names, deduplicated, and never public."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from brands import services
from brands.models import IPDocument
from core.models import AuditEvent
from tests.conftest import ROLES, Cast
from tests.factories import IPRightFactory, image_bytes, jpeg_file, pdf_bytes, pdf_file

pytestmark = pytest.mark.django_db


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def upload(cast: Cast, file: Any, *, brand: Any = None, **kwargs: Any) -> IPDocument:
    return services.document_upload(
        actor=cast.manager_a, brand=brand or cast.brand_a, file=file, kind=kwargs.pop("kind", "certificate"), **kwargs
    )


# --- Storing ---------------------------------------------------------------------------------


def test_upload_is_stored_under_a_generated_name_with_facts_taken_from_the_content(cast: Cast, media: Path) -> None:
    content = pdf_bytes("Aurora certificate")

    document = upload(cast, SimpleUploadedFile("Aurora certificate (final).pdf", content, content_type="text/plain"))

    assert re.fullmatch(rf"documents/{cast.brand_a.pk}/[0-9a-f]{{32}}\.pdf", document.file.name)
    assert "certificate" not in document.file.name.lower()
    assert stored_files(media) == [media / document.file.name]
    assert (media / document.file.name).read_bytes() == content
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert document.size == len(content)
    assert document.content_type == "application/pdf"  # not the browser's claim
    assert document.original_name == "Aurora_certificate_final.pdf"
    assert document.uploaded_by == cast.manager_a
    event = AuditEvent.objects.get(action="document.uploaded", object_id=str(document.pk))
    assert event.data["sha256"] == document.sha256


def test_two_uploads_with_the_same_name_do_not_overwrite_each_other(cast: Cast, media: Path) -> None:
    first = upload(cast, pdf_file("scan.pdf", "one"))
    second = upload(cast, pdf_file("scan.pdf", "two"))
    assert first.file.name != second.file.name
    assert (media / first.file.name).read_bytes() == pdf_bytes("one")
    assert (media / second.file.name).read_bytes() == pdf_bytes("two")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\ana\\Desktop\\scan 1.pdf", "scan_1.pdf"),
        ("<img src=x onerror=alert(1)>.pdf", "img_srcx_onerroralert1.pdf"),
        (".hidden.pdf", "hidden.pdf"),
        ("...pdf", "upload.pdf"),
        ("certificate", "certificate.pdf"),
    ],
)
def test_original_name_is_sanitised(cast: Cast, name: str, expected: str) -> None:
    document = upload(cast, SimpleUploadedFile(name, pdf_bytes(name), content_type="application/pdf"))
    assert document.original_name == expected
    assert "/" not in document.file.name.removeprefix(f"documents/{cast.brand_a.pk}/")


def test_a_pdf_renamed_png_is_stored_as_a_pdf(cast: Cast, media: Path) -> None:
    document = upload(cast, SimpleUploadedFile("scan.png", pdf_bytes("renamed"), content_type="image/png"))
    assert document.content_type == "application/pdf"
    assert document.file.name.endswith(".pdf")
    assert document.original_name == "scan.pdf"
    assert not document.is_image


def test_a_jpeg_photo_is_accepted_as_an_image(cast: Cast) -> None:
    document = upload(cast, jpeg_file("shop front.jpeg", seed=4), kind="other")
    assert document.content_type == "image/jpeg"
    assert document.is_image
    assert document.original_name == "shop_front.jpeg"


SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
)
HTML_PAGE = b"<!DOCTYPE html><html><body><script>fetch('/api/v1/me/')</script></body></html>"
ACTIVE_PDF = pdf_bytes("x").replace(
    b"/Type /Catalog", b"/Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >>"
)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        pytest.param("logo.svg", SVG_WITH_SCRIPT, "SVG images are not accepted", id="svg-with-script"),
        pytest.param("logo.png", SVG_WITH_SCRIPT, "SVG images are not accepted", id="svg-renamed-png"),
        pytest.param("page.pdf", HTML_PAGE, "HTML files are not accepted", id="html-renamed-pdf"),
        pytest.param("photo.jpg", image_bytes("JPEG", seed=2)[:300], "damaged or truncated", id="truncated-jpeg"),
        pytest.param("scan.pdf", pdf_bytes("cut")[:-40], "damaged or truncated", id="truncated-pdf"),
        pytest.param("scan.pdf", ACTIVE_PDF, "embedded scripts", id="pdf-with-javascript"),
        pytest.param("notes.txt", b"just some text", "Unsupported file type", id="plain-text"),
        pytest.param("empty.pdf", b"", "empty", id="empty"),
    ],
)
def test_dangerous_or_broken_files_are_refused_leaving_nothing_behind(
    cast: Cast, media: Path, name: str, content: bytes, message: str
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        upload(cast, SimpleUploadedFile(name, content, content_type="application/pdf"))

    assert message in " ".join(excinfo.value.messages)
    assert not IPDocument.objects.exists()
    assert stored_files(media) == []
    assert not AuditEvent.objects.filter(action="document.uploaded").exists()


def test_oversized_file_is_refused_with_the_limit_in_the_message(cast: Cast, media: Path, settings: Any) -> None:
    settings.DOCUMENT_MAX_BYTES = 2048
    with pytest.raises(ValidationError) as excinfo:
        upload(cast, pdf_file("big.pdf", padding=4000))

    assert "too large" in excinfo.value.messages[0]
    assert "2 KB" in excinfo.value.messages[0]
    assert not IPDocument.objects.exists()
    assert stored_files(media) == []


def test_same_content_twice_for_a_brand_is_refused_with_a_pointer_to_the_first(cast: Cast, media: Path) -> None:
    first = upload(cast, pdf_file("original certificate.pdf", "same"))

    with pytest.raises(ValidationError) as excinfo:
        upload(cast, pdf_file("copy.pdf", "same"), kind="other")

    message = " ".join(excinfo.value.message_dict["file"])
    assert first.original_name in message
    assert IPDocument.objects.filter(brand=cast.brand_a).count() == 1
    assert stored_files(media) == [media / first.file.name]


def test_another_brand_may_upload_the_same_content(cast: Cast, media: Path) -> None:
    first = upload(cast, pdf_file("a.pdf", "shared"))
    second = services.document_upload(
        actor=cast.manager_b, brand=cast.brand_b, file=pdf_file("b.pdf", "shared"), kind="certificate"
    )
    assert first.sha256 == second.sha256
    assert second.file.name.startswith(f"documents/{cast.brand_b.pk}/")
    assert len(stored_files(media)) == 2


def test_document_cannot_be_attached_to_another_brands_right(cast: Cast, media: Path) -> None:
    right_b = IPRightFactory(brand=cast.brand_b)
    with pytest.raises(ValidationError) as excinfo:
        upload(cast, pdf_file(), right=right_b)
    assert "right" in excinfo.value.message_dict
    assert stored_files(media) == []


# --- Deleting --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["verified", "expired"])
def test_evidence_of_a_verified_right_cannot_be_deleted(cast: Cast, media: Path, status: str) -> None:
    right = IPRightFactory(brand=cast.brand_a, status=status)
    document = upload(cast, pdf_file(), right=right)

    with pytest.raises(ValidationError) as excinfo:
        services.document_delete(actor=cast.manager_a, document=document)

    assert "cannot be deleted" in excinfo.value.messages[0]
    assert IPDocument.objects.filter(pk=document.pk).exists()
    assert (media / document.file.name).is_file()


def test_evidence_of_a_pending_right_can_be_deleted_and_its_file_goes(
    cast: Cast, media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    document = upload(cast, pdf_file(), right=IPRightFactory(brand=cast.brand_a))

    with django_capture_on_commit_callbacks(execute=True):
        services.document_delete(actor=cast.manager_a, document=document)

    assert not IPDocument.objects.exists()
    assert stored_files(media) == []
    assert AuditEvent.objects.filter(action="document.deleted", object_id=str(document.pk)).exists()


def test_a_document_backing_an_agent_authorization_cannot_be_deleted(cast: Cast, media: Path) -> None:
    authorization = services.authorization_file(
        actor=cast.manager_a, brand=cast.brand_a, agent=cast.viewer_a, file=pdf_file("power of attorney.pdf")
    )
    with pytest.raises(ValidationError):
        services.document_delete(actor=cast.manager_a, document=authorization.document)
    assert IPDocument.objects.filter(pk=authorization.document_id).exists()
    assert (media / authorization.document.file.name).is_file()


@pytest.mark.parametrize(("status", "role", "expected"), [
    ("pending", "manager", 204),
    ("pending", "viewer", 403),
    ("pending", "outsider", 404),
    ("verified", "manager", 400),
])  # fmt: skip
def test_api_delete_of_a_document(
    cast: Cast,
    api: APIClient,
    media: Path,
    django_capture_on_commit_callbacks: Any,
    status: str,
    role: str,
    expected: int,
) -> None:
    document = upload(cast, pdf_file(), right=IPRightFactory(brand=cast.brand_a, status=status))
    api.force_authenticate(cast.user(role))

    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete(f"/api/v1/documents/{document.pk}/")

    assert response.status_code == expected
    kept = expected != 204
    assert IPDocument.objects.filter(pk=document.pk).exists() is kept
    assert (media / document.file.name).is_file() is kept


# --- Downloading -------------------------------------------------------------------------------

DOWNLOAD_EXPECTED = {"anonymous": 401, "outsider": 404, "viewer": 200, "manager": 200, "moderator": 200, "admin": 200}


@pytest.fixture
def document(cast: Cast) -> IPDocument:
    return upload(
        cast, pdf_file("Aurora EUTM certificate.pdf", "download me"), right=IPRightFactory(brand=cast.brand_a)
    )


def assert_private_download(response: Any, content: bytes, filename: str) -> None:
    assert b"".join(response.streaming_content) == content
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert filename in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"]


@pytest.mark.parametrize("role", ROLES)
def test_api_download_is_for_the_brand_and_platform_staff_only(
    cast: Cast, api: APIClient, document: IPDocument, role: str
) -> None:
    user = cast.user(role)
    if user is not None:
        api.force_authenticate(user)

    response = api.get(f"/api/v1/documents/{document.pk}/download/")

    assert response.status_code == DOWNLOAD_EXPECTED[role]
    if response.status_code == 200:
        assert_private_download(response, pdf_bytes("download me"), "Aurora_EUTM_certificate.pdf")
    else:
        assert b"%PDF" not in response.content


@pytest.mark.parametrize("role", ROLES)
def test_page_download_is_for_the_brand_and_platform_staff_only(
    cast: Cast, client: Any, document: IPDocument, role: str
) -> None:
    user = cast.user(role)
    if user is not None:
        client.force_login(user)

    response = client.get(f"/brands/documents/{document.pk}/")

    if role == "anonymous":
        assert response.status_code == 302
        assert "/login/" in response["Location"]
    else:
        assert response.status_code == DOWNLOAD_EXPECTED[role]
    if response.status_code == 200:
        assert_private_download(response, pdf_bytes("download me"), "Aurora_EUTM_certificate.pdf")


def test_image_download_cannot_run_as_part_of_the_site(cast: Cast, api: APIClient) -> None:
    image = upload(cast, jpeg_file("photo.jpg", seed=9), kind="other")
    api.force_authenticate(cast.viewer_a)

    response = api.get(f"/api/v1/documents/{image.pk}/download/")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_document_metadata_is_listed_only_for_the_brand(cast: Cast, api: APIClient, document: IPDocument) -> None:
    api.force_authenticate(cast.viewer_a)
    listed = api.get("/api/v1/documents/").json()["results"]
    assert [d["id"] for d in listed] == [document.pk]
    assert listed[0]["download_url"].endswith(f"/api/v1/documents/{document.pk}/download/")
    assert "file" not in listed[0]  # the storage name is never handed out

    api.force_authenticate(cast.manager_b)
    assert api.get("/api/v1/documents/").json()["results"] == []
    assert api.get(f"/api/v1/documents/{document.pk}/").status_code == 404


def test_media_files_are_not_reachable_at_any_public_url(cast: Cast, client: Any, document: IPDocument) -> None:
    client.force_login(cast.admin)
    name = document.file.name
    for url in (f"/media-not-public/{name}", f"/media/{name}", f"/static/../media/{name}", f"/{name}"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"download me" not in b"".join(getattr(response, "streaming_content", [response.content]))


# --- Upload endpoint -------------------------------------------------------------------------

UPLOAD_EXPECTED = {"anonymous": 401, "outsider": 400, "viewer": 403, "manager": 201, "moderator": 403, "admin": 201}


@pytest.mark.parametrize("role", ROLES)
def test_api_upload_is_for_the_brands_managers(cast: Cast, api: APIClient, media: Path, role: str) -> None:
    user = cast.user(role)
    if user is not None:
        api.force_authenticate(user)

    response = api.post(
        "/api/v1/documents/",
        {"brand": cast.brand_a.pk, "kind": "certificate", "file": pdf_file("api upload.pdf", "api")},
        format="multipart",
    )

    assert response.status_code == UPLOAD_EXPECTED[role], response.content[:300]
    if response.status_code == 201:
        body = response.json()
        assert body["brand"] == cast.brand_a.pk
        assert body["content_type"] == "application/pdf"
        assert body["original_name"] == "api_upload.pdf"
        assert body["sha256"] == hashlib.sha256(pdf_bytes("api")).hexdigest()
        assert len(stored_files(media)) == 1
    else:
        assert not IPDocument.objects.exists()
        assert stored_files(media) == []
    if role == "outsider":
        assert "brand" in response.json()


def test_api_upload_refusal_explains_why(cast: Cast, api: APIClient, media: Path) -> None:
    api.force_authenticate(cast.manager_a)
    response = api.post(
        "/api/v1/documents/",
        {"brand": cast.brand_a.pk, "kind": "certificate", "file": SimpleUploadedFile("x.pdf", HTML_PAGE)},
        format="multipart",
    )
    assert response.status_code == 400
    assert "HTML files are not accepted" in str(response.json())
    assert stored_files(media) == []
