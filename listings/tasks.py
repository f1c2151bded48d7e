"""Background work for the catalogue: fetching listing images by URL (ingest queue)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from core.tasks import RETRY_TRANSIENT


class ImageFetchTransient(Exception):
    """The image server is down or slow: worth another try later."""


@shared_task(
    name="listings.listing_image_fetch",
    bind=True,
    **{**RETRY_TRANSIENT, "autoretry_for": (*RETRY_TRANSIENT["autoretry_for"], ImageFetchTransient)},
)
def listing_image_fetch(self, image_id: int) -> None:
    """Download one listing image safely (no private addresses), check it by content, store it."""
    from listings.fetch import FetchFailed, FetchPolicy, FetchRefused, fetch_image
    from listings.models import ListingImage
    from listings.services import image_fail, image_store

    image = ListingImage.objects.filter(pk=image_id).first()
    if image is None or image.status != ListingImage.Status.PENDING or not image.source_url:
        return
    ListingImage.objects.filter(pk=image_id).update(attempts=image.attempts + 1)
    policy = FetchPolicy(
        max_bytes=settings.DOCUMENT_MAX_BYTES,
        max_pixels=settings.IMAGE_MAX_PIXELS,
        timeout=settings.IMAGE_FETCH_TIMEOUT,
        total_timeout=settings.IMAGE_FETCH_TIMEOUT * 3,
        allowed_networks=tuple(settings.IMAGE_FETCH_ALLOWED_NETWORKS),
    )
    try:
        fetched = fetch_image(image.source_url, policy)
    except FetchRefused as exc:  # permanent: recorded, not retried
        image_fail(image_id=image_id, error=str(exc))
        return
    except FetchFailed as exc:
        if self.request.retries >= self.max_retries:
            image_fail(image_id=image_id, error=f"Gave up after {self.request.retries + 1} attempts: {exc}")
            return
        raise ImageFetchTransient(str(exc)) from exc
    image_store(image=image, data=fetched.data, inspected=fetched.inspected)
    from listings.matching import listings_queue_matching

    listings_queue_matching(listing_ids=[image.listing_id])


@shared_task(name="listings.saved_searches_run", **RETRY_TRANSIENT)
def saved_searches_run() -> dict[str, int]:
    """Periodic (beat): run every saved search; brands with new hits are told."""
    from listings.services import saved_searches_run_all

    return saved_searches_run_all()


@shared_task(name="listings.saved_search_notify", **RETRY_TRANSIENT)
def saved_search_notify(search_id: int, new_hits: int) -> None:
    from urllib.parse import urlencode

    from django.core.mail import send_mail
    from django.urls import reverse

    from brands.selectors import manager_emails
    from listings.models import SavedSearch

    search = SavedSearch.objects.select_related("brand").filter(pk=search_id).first()
    if search is None:
        return
    recipients = manager_emails(brand=search.brand)
    if not recipients:
        return
    url = f"{settings.SITE_URL}{reverse('listings:search')}?{urlencode({**search.params, 'sort': 'newest'})}"
    send_mail(
        subject=f"[{settings.SITE_NAME}] {new_hits} new listing{'s' if new_hits != 1 else ''} for “{search.name}”",
        message=(
            f"The saved search “{search.name}” of {search.brand.name} found {new_hits} new or changed "
            f"listing{'s' if new_hits != 1 else ''} since its last run ({search.total_hits} in all).\n\n{url}\n"
        ),
        from_email=None,
        recipient_list=recipients,
    )


@shared_task(name="listings.listings_match", **RETRY_TRANSIENT)
def listings_match(listing_ids: list[int], source: str = "scan") -> dict[str, int]:
    """Match a batch of new or changed listings against every brand's references (idempotent)."""
    from listings.matching import listings_match as run

    return run(listing_ids=[int(i) for i in listing_ids], source=source).as_dict()


@shared_task(name="listings.asset_backscan", **RETRY_TRANSIENT)
def asset_backscan(job_id: int, unit: dict) -> dict[str, int]:
    """One chunk of a new reference's back-scan over the stored listings; progress goes to the job."""
    from listings.matching import backscan_chunk

    return backscan_chunk(job_id=job_id, unit=unit).as_dict()


@shared_task(name="listings.detections_notify", **RETRY_TRANSIENT)
def detections_notify(brand_id: int, count: int | None = None) -> int:
    """Tell a brand's managers about its new suspected infringements not announced yet.

    `count` is ignored (messages queued before the announcement was recorded per detection carry it).
    """
    from listings.matching import detections_announce

    return detections_announce(brand_id=brand_id)


@shared_task(name="listings.calibration_recompute", **RETRY_TRANSIENT)
def calibration_recompute(brand_id: int) -> dict[str, object]:
    """A brand's per-signal thresholds from its decisions (queued, debounced, after a decision)."""
    from brands.models import Brand
    from listings.calibration import calibration_recompute as run

    if not Brand.objects.filter(pk=brand_id).exists():
        return {}
    return {"brand": brand_id, "thresholds": run(brand_id=brand_id).thresholds}


@shared_task(name="listings.calibrations_recompute_all", **RETRY_TRANSIENT)
def calibrations_recompute_all() -> dict[str, int]:
    """Periodic (beat): every brand's calibration recomputed."""
    from listings.calibration import calibrations_recompute_all as run

    return run()
