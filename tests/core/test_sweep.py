"""The sweep: committed work whose task was lost (a broker restarted empty, a worker killed) is done anyway."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from brands import services as brand_services
from brands.models import Job, ReferenceAsset
from core import sweep
from core.models import OutboxMessage
from listings import matching
from listings.models import Detection, Listing, ListingImage
from listings.services import listing_image_upload, listings_ingest
from portal import demo_art
from takedowns.models import Notification
from takedowns.services.notifications import notify
from tests.conftest import Cast, local_redis
from tests.factories import IPRightFactory
from tests.listings.kit import LOOPBACK_IMAGE, listing_item

pytestmark = pytest.mark.django_db(transaction=True)

AN_HOUR_AGO = timezone.now() - timedelta(hours=1)


@pytest.fixture
def word_mark(cast: Cast) -> ReferenceAsset:
    right = IPRightFactory(brand=cast.brand_a, verified=True, kind="trademark_word", word_mark="AURORA")
    return brand_services.asset_create(
        actor=cast.manager_a, brand=cast.brand_a, right=right, kind="word_mark", label="Name", words=["AURORA"]
    )


def _lose_matching(listing_ids: list[int]) -> None:
    """What a lost matching task leaves behind: listings still flagged, untouched for an hour."""
    Detection.objects.filter(listing_id__in=listing_ids).delete()
    Listing.objects.filter(pk__in=listing_ids).update(
        needs_matching=True, changed_at=AN_HOUR_AGO, updated_at=AN_HOUR_AGO
    )


def test_listings_whose_matching_was_lost_are_matched_by_the_sweep(cast: Cast, word_mark: ReferenceAsset) -> None:
    listings_ingest(items=[listing_item(f"S{i}", title=f"AURORA replica bag {i}") for i in range(3)])
    ids = list(Listing.objects.values_list("pk", flat=True))
    _lose_matching(ids)

    report = sweep.sweep_pending()

    assert report["listings"] == 3
    assert not Listing.objects.filter(needs_matching=True).exists()
    assert Detection.objects.filter(listing_id__in=ids, brand=cast.brand_a).count() == 3
    # Swept again: nothing is pending, nothing is queued twice.
    assert sweep.sweep_pending()["listings"] == 0
    assert Detection.objects.filter(listing_id__in=ids).count() == 3


def _listing_with_a_stored_photo(external_id: str) -> tuple[Listing, ListingImage]:
    listings_ingest(items=[listing_item(external_id, title="Leather bag")])
    listing = Listing.objects.get(external_id=external_id)
    photo = demo_art.product_photo("bag", seed=4, logo=demo_art.sun_logo(), logo_scale=0.22)
    image = listing_image_upload(listing=listing, file=SimpleUploadedFile("p.jpg", photo, content_type="image/jpeg"))
    return listing, image


def test_an_image_stored_while_its_listing_was_being_matched_is_not_lost(cast: Cast, monkeypatch) -> None:
    """A run that loaded the listing before the image arrived must not clear the flag the image set."""
    listing, image = _listing_with_a_stored_photo("RACE")
    # The image is still being fetched when a matching run (for the title) starts.
    ListingImage.objects.filter(pk=image.pk).update(status=ListingImage.Status.PENDING, match_status="pending")
    real_findings = matching.listing_findings

    def image_arrives_meanwhile(catalogue, loaded, summary):  # the fetch worker stores it; its task is lost
        ListingImage.objects.filter(pk=image.pk).update(status=ListingImage.Status.STORED)
        Listing.objects.filter(pk=loaded.pk).update(needs_matching=True, changed_at=timezone.now())
        return real_findings(catalogue, loaded, summary)

    monkeypatch.setattr(matching, "listing_findings", image_arrives_meanwhile)
    matching.listings_match(listing_ids=[listing.pk])
    monkeypatch.setattr(matching, "listing_findings", real_findings)

    listing.refresh_from_db()
    assert listing.needs_matching  # still owed a run with the image
    Listing.objects.filter(pk=listing.pk).update(changed_at=AN_HOUR_AGO, updated_at=AN_HOUR_AGO)
    assert sweep.sweep_pending()["listings"] == 1
    image.refresh_from_db()
    listing.refresh_from_db()
    assert image.match_status == ListingImage.MatchStatus.DONE
    assert not listing.needs_matching


def test_a_stored_image_never_matched_is_swept_even_without_the_listings_flag(cast: Cast) -> None:
    """Rows left by the old unconditional clear: the flag is gone but the image was never matched."""
    listing, image = _listing_with_a_stored_photo("LEGACY")
    ListingImage.objects.filter(pk=image.pk).update(match_status="pending", matched_at=None, updated_at=AN_HOUR_AGO)
    Listing.objects.filter(pk=listing.pk).update(needs_matching=False, changed_at=AN_HOUR_AGO, updated_at=AN_HOUR_AGO)

    assert sweep.sweep_pending()["listings"] == 1
    image.refresh_from_db()
    assert image.match_status == ListingImage.MatchStatus.DONE
    assert sweep.sweep_pending()["listings"] == 0


def test_recently_changed_listings_are_left_to_their_own_task(cast: Cast, word_mark: ReferenceAsset) -> None:
    listings_ingest(items=[listing_item("R1", title="AURORA bag")])
    Listing.objects.update(needs_matching=True)  # still waiting, but only for a moment
    assert sweep.sweep_pending()["listings"] == 0
    assert sweep.sweep_pending(stale_after=0)["listings"] == 1


def test_images_whose_fetch_was_lost_are_fetched_again_and_exhausted_ones_failed(cast: Cast) -> None:
    listings_ingest(
        items=[
            listing_item("I1", images=[LOOPBACK_IMAGE.format(1)]),
            listing_item("I2", images=[LOOPBACK_IMAGE.format(2)]),
        ]
    )
    first, second = ListingImage.objects.order_by("listing__external_id")
    # Lost tasks: both still pending an hour later; the second's worker died on its last attempt.
    ListingImage.objects.update(status=ListingImage.Status.PENDING, error="", updated_at=AN_HOUR_AGO)
    ListingImage.objects.filter(pk=second.pk).update(attempts=6)

    report = sweep.sweep_pending()

    assert report["listing_images"] == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == ListingImage.Status.FAILED  # fetched again: the loopback URL is refused
    assert "private" in first.error.lower() or "refused" in first.error.lower() or "not allowed" in first.error.lower()
    assert second.status == ListingImage.Status.FAILED
    assert second.error == "Gave up after 6 attempts"


def test_a_feature_job_whose_task_was_lost_runs(cast: Cast, word_mark: ReferenceAsset) -> None:
    job = Job.objects.get(kind="asset.process", object_id=str(word_mark.pk))
    Job.objects.filter(pk=job.pk).update(status=Job.Status.QUEUED, created_at=AN_HOUR_AGO, started_at=None)
    assert sweep.sweep_pending()["asset_jobs"] == 1
    assert Job.objects.get(pk=job.pk).status == Job.Status.DONE


def test_unsent_notification_emails_are_sent_once(cast: Cast, mailoutbox) -> None:
    [notification] = notify(users=[cast.manager_a], event="test", title="Your notice was decided")
    assert len(mailoutbox) == 1
    Notification.objects.filter(pk=notification.pk).update(emailed_at=None, created_at=AN_HOUR_AGO)
    assert sweep.sweep_pending()["notification_emails"] == 1
    assert len(mailoutbox) == 2  # the lost email, sent by the sweep
    assert sweep.sweep_pending()["notification_emails"] == 0
    from takedowns.tasks import notification_email

    notification_email.delay(notification.pk)  # a redelivered task: no second email
    assert len(mailoutbox) == 2


def test_the_command_runs_the_sweep_with_progress(cast: Cast, word_mark: ReferenceAsset) -> None:
    listings_ingest(items=[listing_item("C1", title="AURORA bag")])
    _lose_matching(list(Listing.objects.values_list("pk", flat=True)))
    out = StringIO()
    call_command("sweep_pending", stdout=out)
    text = out.getvalue()
    assert "outbox" in text
    assert "sent 0" in text
    assert "listings" in text
    assert "1 queued again" in text
    assert not Listing.objects.filter(needs_matching=True).exists()
    assert not OutboxMessage.objects.exists()


def test_the_command_refuses_an_unknown_sweeper() -> None:
    err = StringIO()
    with pytest.raises(SystemExit):
        call_command("sweep_pending", "--only", "nonsense", stderr=err)
    assert "Unknown sweeper" in err.getvalue()


def test_every_kind_of_pending_work_has_a_sweeper() -> None:
    names = {item.name for item in sweep.sweepers()}
    assert names == {"listings", "listing_images", "asset_jobs", "announcements", "notification_emails"}


def test_a_redelivered_feature_task_does_not_plan_the_back_scan_twice(cast: Cast) -> None:
    from brands.tasks import asset_process

    right = IPRightFactory(brand=cast.brand_a, verified=True, kind="trademark_word", word_mark="AURORA")
    listings_ingest(items=[listing_item(f"B{i}", title=f"AURORA replica bag {i}") for i in range(3)])
    asset = brand_services.asset_create(
        actor=cast.manager_a, brand=cast.brand_a, right=right, kind="word_mark", label="Name", words=["AURORA"]
    )
    job = Job.objects.get(kind="asset.process", object_id=str(asset.pk))
    assert job.status == Job.Status.DONE
    total = job.progress_total
    asset_process.delay(asset.pk, job.pk, "created")  # the same message handed out again
    job.refresh_from_db()
    assert job.progress_total == total
    assert job.result["backscan_chunks"] == total - 1
    assert Detection.objects.filter(brand=cast.brand_a).count() == 3


@pytest.fixture
def redis_broker() -> Iterator[tuple[Any, str]]:
    """Tasks go to the local Redis under a key prefix of the test's own (cleaned up afterwards)."""
    import uuid

    from ippc.celery import app

    url = "redis://127.0.0.1:6379/15"
    client = local_redis(15)
    prefix = f"ippc-sweep-{uuid.uuid4().hex[:8]}:"
    previous = (app.conf.task_always_eager, app.conf.broker_url, app.conf.broker_transport_options)
    app.conf.task_always_eager, app.conf.broker_url = False, url
    app.conf.broker_transport_options = {**previous[2], "global_keyprefix": prefix}
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield client, prefix
    finally:
        app.conf.task_always_eager, app.conf.broker_url, app.conf.broker_transport_options = previous
        app._pool = None
        app.amqp._producer_pool = None
        stale = list(client.scan_iter(match=f"{prefix}*"))
        if stale:
            client.delete(*stale)


def test_when_the_broker_lost_its_messages_every_pending_row_is_queued_again_at_once(
    cast: Cast, redis_broker: tuple[Any, str], settings
) -> None:
    client, prefix = redis_broker
    assert sweep.sweep_pending()["broker_lost_messages"] is True  # a new broker: no sentinel yet
    listings_ingest(items=[listing_item(f"W{i}", title="AURORA replica") for i in range(3)])
    Listing.objects.update(needs_matching=True)  # queued a moment ago: their tasks are in the queue
    assert "broker_lost_messages" not in sweep.sweep_pending()
    assert client.llen(f"{prefix}match") == 1  # the ingest's own task, not queued twice
    # Redis restarted without persistence: the queue and the sentinel are gone (this test's keys
    # only: the database is shared with other tests' workers).
    client.delete(*client.scan_iter(match=f"{prefix}*"))
    # Sent since the restart (the outbox relay): no sign that the lost work is on its way.
    client.rpush(f"{prefix}match", *[b"x"] * settings.SWEEP_BACKLOG)
    report = sweep.sweep_pending()
    assert report["broker_lost_messages"] is True
    assert report["listings"] == 3  # not waiting SWEEP_STALE_AFTER for them, nor for the queue to drain
    assert client.llen(f"{prefix}match") == settings.SWEEP_BACKLOG + 1


def test_a_queue_with_a_backlog_is_left_alone_and_a_few_messages_are_not_a_backlog(
    cast: Cast, word_mark: ReferenceAsset, settings, redis_broker: tuple[Any, str]
) -> None:
    client, prefix = redis_broker
    sweep.sweep_pending()  # the sentinel is set: from here on only stale rows are queued again
    listings_ingest(items=[listing_item("Q1", title="AURORA replica")])
    _lose_matching(list(Listing.objects.values_list("pk", flat=True)))
    client.delete(f"{prefix}match")
    client.rpush(f"{prefix}match", *[b"x"] * settings.SWEEP_BACKLOG)  # a backlog waiting for workers
    assert sweep.queue_depth("match") == settings.SWEEP_BACKLOG
    assert sweep.sweep_pending(only=["listings"])["listings"].startswith("skipped")
    client.ltrim(f"{prefix}match", 0, 2)  # a heartbeat or two: work is not piling up
    assert sweep.sweep_pending(only=["listings"])["listings"] == 1
