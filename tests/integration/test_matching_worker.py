"""The matching pipeline on the real path: PostgreSQL, Redis and a `celery worker` process.

A reference added by a brand is indexed by the worker, a listing pushed by the platform is
matched by the worker, the detection lands in PostgreSQL with its evidence, and running the
task again changes nothing. Skipped without the services (fails instead with IPPC_REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import redis
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from brands import services
from brands.models import Job, ReferenceAsset
from listings.models import Detection, Listing
from listings.services import listing_image_upload, listings_ingest
from listings.tasks import listings_match
from portal import demo_art
from tests.conftest import Cast, WorkerProcess, wait_for
from tests.factories import IPRightFactory
from tests.listings.kit import MARKETPLACE, listing_item

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _worker_idle(worker: WorkerProcess) -> bool:
    """Every task the worker received has finished (so the test's tables can be emptied safely)."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    if any(client.llen(f"{worker.key_prefix}{queue}") for queue in settings.TASK_QUEUES):
        return False
    log = worker.log()
    received = set(re.findall(r"Task [\w.]+\[([\w-]+)\] received", log))
    finished = set(re.findall(r"Task [\w.]+\[([\w-]+)\] (?:succeeded|raised|retry)", log))
    return received <= finished


@pytest.fixture
def shared_media(settings: Any, celery_worker_process: WorkerProcess) -> None:
    """The worker reads the files this process stores: one storage location for both."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": celery_worker_process.media_root}},
    }


def test_a_worker_indexes_a_reference_then_detects_a_listing_idempotently(
    cast: Cast, celery_worker_process: WorkerProcess, shared_media: None
) -> None:
    right = IPRightFactory(brand=cast.brand_a, verified=True, word_mark="AURORA")
    asset = services.asset_create(
        actor=cast.manager_a, brand=cast.brand_a, right=right, kind="logo", label="Sun logo",
        image=SimpleUploadedFile("logo.png", demo_art.sun_logo()),
    )  # fmt: skip
    services.asset_create(
        actor=cast.manager_a, brand=cast.brand_a, right=right, kind="word_mark", label="Name", words=["AURORA"]
    )
    job = wait_for(
        lambda: Job.objects.filter(object_id=str(asset.pk), status__in=("done", "failed")).first(), timeout=90
    )
    assert job.status == "done", job.error
    assert ReferenceAsset.objects.get(pk=asset.pk).features["engine"]["kind"] == "logo"

    listings_ingest(items=[listing_item("W1", title="AUR0RA handbag 1:1 replica", price="30")])
    listing = Listing.objects.get(marketplace=MARKETPLACE, external_id="W1")
    photo = demo_art.product_photo("bag", seed=3, logo=demo_art.sun_logo(), logo_scale=0.22)
    listing_image_upload(listing=listing, file=SimpleUploadedFile("w1.jpg", photo))

    detection = wait_for(lambda: Detection.objects.filter(listing=listing, image__isnull=False).first(), timeout=90)
    assert detection.brand_id == cast.brand_a.pk
    assert detection.asset_id == asset.pk
    assert "text" in detection.signals  # the word mark and "replica" add to the picture
    assert detection.evidence_image.name
    wait_for(lambda: not Listing.objects.get(pk=listing.pk).needs_matching, timeout=60)
    keys = sorted(Detection.objects.filter(listing=listing).values_list("dedupe_key", flat=True))

    # The same task again, through the broker: nothing new.
    done_before = celery_worker_process.log().count("listings.listings_match[")
    listings_match.apply_async(args=[[listing.pk], "scan"])
    wait_for(lambda: celery_worker_process.log().count("listings.listings_match[") > done_before + 1, timeout=60)
    wait_for(lambda: re.search(r"listings\.listings_match\[[\w-]+\] succeeded", celery_worker_process.log()))
    assert sorted(Detection.objects.filter(listing=listing).values_list("dedupe_key", flat=True)) == keys
    wait_for(lambda: _worker_idle(celery_worker_process), timeout=60)
    assert "Traceback" not in celery_worker_process.log()
