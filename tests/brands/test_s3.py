"""Documents on S3-compatible storage, for real: a moto server on loopback, a private bucket,
and downloads through short-lived signed URLs."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import runpy
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from moto.server import ThreadedMotoServer
from rest_framework.test import APIClient

from brands import services
from brands.models import IPDocument
from tests.conftest import Cast
from tests.factories import IPRightFactory, pdf_bytes, pdf_file

pytestmark = pytest.mark.django_db

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "ippc" / "settings.py"
BUCKET = "ippc-test-documents"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


# What the storage must at least be, whatever else ippc/settings.py adds.
REQUIRED_OPTIONS = {
    "bucket_name": BUCKET,
    "access_key": "testing",
    "secret_key": "testing",
    "region_name": "us-east-1",
    "default_acl": "private",
    "querystring_auth": True,
    "querystring_expire": 300,
    "file_overwrite": False,
    "addressing_style": "path",
}


def production_storage(endpoint: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The default storage (and any AWS_* settings) exactly as ippc/settings.py builds them when the
    bucket variables are set, so these tests exercise the production configuration."""
    env = {
        "AWS_STORAGE_BUCKET_NAME": BUCKET,
        "AWS_S3_ENDPOINT_URL": endpoint,
        "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_S3_ADDRESSING_STYLE": "path",
        "AWS_QUERYSTRING_EXPIRE": "300",
    }
    with mock.patch.dict(os.environ, env):
        namespace = runpy.run_path(str(SETTINGS_FILE))
    storage = namespace["STORAGES"]["default"]
    aws_settings = {name: value for name, value in namespace.items() if name.startswith("AWS_")}
    return storage, aws_settings


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    werkzeug_log = logging.getLogger("werkzeug")
    level = werkzeug_log.level
    werkzeug_log.setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        boto3.client("s3", endpoint_url=endpoint, **CREDENTIALS).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        server.stop()
        werkzeug_log.setLevel(level)


@pytest.fixture
def s3(moto_endpoint: str, settings: Any) -> Iterator[Any]:
    """The default storage is the moto bucket for this test; the bucket starts and ends empty."""
    storage, aws_settings = production_storage(moto_endpoint)
    for name, value in aws_settings.items():
        setattr(settings, name, value)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**storage, "OPTIONS": {**storage["OPTIONS"], **REQUIRED_OPTIONS, "endpoint_url": moto_endpoint}},
    }
    client = boto3.client("s3", endpoint_url=moto_endpoint, **CREDENTIALS)
    yield client
    for key in object_keys(client):
        client.delete_object(Bucket=BUCKET, Key=key)


def test_production_settings_use_a_private_bucket_with_short_lived_urls(moto_endpoint: str) -> None:
    storage, _ = production_storage(moto_endpoint)
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"]["endpoint_url"] == moto_endpoint
    assert {k: storage["OPTIONS"].get(k) for k in REQUIRED_OPTIONS} == REQUIRED_OPTIONS


def object_keys(client: Any) -> list[str]:
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def fetch(url: str) -> tuple[int, bytes, Any]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never through a proxy
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers


@pytest.fixture
def document(cast: Cast, s3: Any) -> IPDocument:
    return services.document_upload(
        actor=cast.manager_a,
        brand=cast.brand_a,
        file=pdf_file("Aurora certificate.pdf", "on s3"),
        kind="certificate",
        right=IPRightFactory(brand=cast.brand_a),
    )


def test_upload_stores_the_object_under_a_generated_key_with_identical_bytes(
    cast: Cast, s3: Any, document: IPDocument
) -> None:
    assert re.fullmatch(rf"documents/{cast.brand_a.pk}/[0-9a-f]{{32}}\.pdf", document.file.name)
    assert object_keys(s3) == [document.file.name]
    stored = s3.get_object(Bucket=BUCKET, Key=document.file.name)["Body"].read()
    assert stored == pdf_bytes("on s3")
    assert hashlib.sha256(stored).hexdigest() == document.sha256


def test_the_bucket_object_is_not_public(s3: Any, document: IPDocument, moto_endpoint: str) -> None:
    status, body, _ = fetch(f"{moto_endpoint}/{BUCKET}/{document.file.name}")
    assert status == 403
    assert body != pdf_bytes("on s3")


@pytest.mark.parametrize("role", ["viewer", "manager", "moderator", "admin"])
def test_download_redirects_members_to_a_signed_url_serving_the_exact_bytes(
    cast: Cast, s3: Any, document: IPDocument, moto_endpoint: str, role: str
) -> None:
    api = APIClient()
    api.force_authenticate(cast.user(role))

    response = api.get(f"/api/v1/documents/{document.pk}/download/")

    assert response.status_code == 302
    url = response["Location"]
    assert url.startswith(f"{moto_endpoint}/{BUCKET}/{document.file.name}?")
    assert "private" in response["Cache-Control"]
    status, body, headers = fetch(url)
    assert status == 200
    assert body == pdf_bytes("on s3")
    assert headers["Content-Disposition"].startswith("attachment")
    assert "Aurora_certificate.pdf" in headers["Content-Disposition"]
    assert headers["Content-Type"] == "application/pdf"


def test_download_url_is_signed_with_sigv4_and_expires_in_300_seconds(
    cast: Cast, s3: Any, document: IPDocument
) -> None:
    api = APIClient()
    api.force_authenticate(cast.viewer_a)

    url = api.get(f"/api/v1/documents/{document.pk}/download/")["Location"]

    query = parse_qs(urlsplit(url).query)
    assert query.get("X-Amz-Signature"), url
    assert query.get("X-Amz-Expires") == ["300"], url
    assert fetch(url)[1] == pdf_bytes("on s3")


@pytest.mark.parametrize(("role", "expected"), [("outsider", 404), ("anonymous", 401)])
def test_others_get_no_signed_url(cast: Cast, s3: Any, document: IPDocument, role: str, expected: int) -> None:
    api = APIClient()
    if cast.user(role) is not None:
        api.force_authenticate(cast.user(role))

    response = api.get(f"/api/v1/documents/{document.pk}/download/")

    assert response.status_code == expected
    assert "Location" not in response
    assert b"X-Amz-Signature" not in response.content


def test_page_download_redirects_to_a_signed_url(
    cast: Cast, s3: Any, document: IPDocument, client: Any, moto_endpoint: str
) -> None:
    client.force_login(cast.viewer_a)
    response = client.get(f"/brands/documents/{document.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith(f"{moto_endpoint}/{BUCKET}/{document.file.name}?")
    assert fetch(response["Location"])[1] == pdf_bytes("on s3")


def test_refused_upload_leaves_no_object_in_the_bucket(cast: Cast, s3: Any) -> None:
    html = SimpleUploadedFile("evil.pdf", b"<html><script>alert(1)</script></html>", content_type="application/pdf")
    with pytest.raises(ValidationError):
        services.document_upload(actor=cast.manager_a, brand=cast.brand_a, file=html, kind="certificate")
    assert object_keys(s3) == []
    assert not IPDocument.objects.exists()


def test_duplicate_upload_leaves_a_single_object(cast: Cast, s3: Any, document: IPDocument) -> None:
    with pytest.raises(ValidationError):
        services.document_upload(
            actor=cast.manager_a, brand=cast.brand_a, file=pdf_file("again.pdf", "on s3"), kind="other"
        )
    assert object_keys(s3) == [document.file.name]


def test_deleting_a_document_removes_its_object(
    cast: Cast, s3: Any, document: IPDocument, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.document_delete(actor=cast.manager_a, document=document)
    assert object_keys(s3) == []
