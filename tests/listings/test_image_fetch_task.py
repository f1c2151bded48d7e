"""Listing images by URL: fetched by the ingest task, stored once per content, SSRF-safe."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from listings import services
from listings.models import ListingImage
from tests.factories import image_bytes

pytestmark = pytest.mark.django_db
PNG = image_bytes("PNG", seed=4, size=(120, 90))


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/img"):
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(PNG)))
            self.end_headers()
            self.wfile.write(PNG)
        elif self.path == "/to-metadata":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def image_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _ingest(urls: list[str], django_capture_on_commit_callbacks: Any) -> list[ListingImage]:
    item = {"marketplace": "m", "external_id": "1", "seller": {"external_id": "s", "name": "S"}, "title": "Bag"}
    with django_capture_on_commit_callbacks(execute=True):
        services.listings_ingest(items=[{**item, "images": urls}])
    return list(ListingImage.objects.order_by("position"))


def test_allow_listed_image_server_images_are_fetched_hashed_and_stored_once(
    settings: Any, image_server: str, django_capture_on_commit_callbacks: Any
) -> None:
    settings.IMAGE_FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    images = _ingest([f"{image_server}/img/a.png", f"{image_server}/img/b.png"], django_capture_on_commit_callbacks)
    assert [i.status for i in images] == ["stored", "stored"]
    assert images[0].file.name == images[1].file.name  # same bytes, one stored file
    assert (images[0].width, images[0].height) == (120, 90)
    assert len(images[0].phash) == 16
    assert images[0].file.read() == PNG


def test_private_addresses_are_refused_and_recorded_not_retried(
    settings: Any, image_server: str, django_capture_on_commit_callbacks: Any
) -> None:
    settings.IMAGE_FETCH_ALLOWED_NETWORKS = []
    images = _ingest([f"{image_server}/img/a.png"], django_capture_on_commit_callbacks)
    assert images[0].status == "failed"
    assert images[0].attempts == 1
    assert "127.0.0.1" in images[0].error or "private" in images[0].error.lower() or "loopback" in images[0].error


def test_redirect_to_cloud_metadata_is_refused(
    settings: Any, image_server: str, django_capture_on_commit_callbacks: Any
) -> None:
    settings.IMAGE_FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    images = _ingest([f"{image_server}/to-metadata"], django_capture_on_commit_callbacks)
    assert images[0].status == "failed"
    assert "169.254.169.254" in images[0].error


def test_missing_image_is_a_permanent_failure(
    settings: Any, image_server: str, django_capture_on_commit_callbacks: Any
) -> None:
    settings.IMAGE_FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    images = _ingest([f"{image_server}/nope.png"], django_capture_on_commit_callbacks)
    assert images[0].status == "failed"
    assert "404" in images[0].error
