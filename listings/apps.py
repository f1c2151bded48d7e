from django.apps import AppConfig


def _queue_matching(sender, listing_ids, **kwargs) -> None:
    """New or changed listings: match them (on the match queue, after the commit)."""
    from listings.matching import listings_queue_matching

    listings_queue_matching(listing_ids=list(listing_ids))


def _start_backscan(sender, asset_id, change, job_id=None, **kwargs) -> None:
    """A brand's reference was added, changed or removed: look at the stored listings again."""
    from listings.matching import backscan_start

    backscan_start(asset_id=asset_id, change=change, job_id=job_id)


class ListingsConfig(AppConfig):
    """The marketplace catalogue: sellers, listings, images, and the detections the workers raise."""

    name = "listings"
    verbose_name = "Listings"

    def ready(self) -> None:
        from brands.signals import reference_asset_changed
        from listings.models import Listing
        from listings.signals import listings_changed

        listings_changed.connect(_queue_matching, sender=Listing, dispatch_uid="listings.queue_matching")
        reference_asset_changed.connect(_start_backscan, dispatch_uid="listings.start_backscan")

        from core import sweep
        from listings.matching import detections_requeue_unannounced, listings_requeue_stale
        from listings.services import images_requeue_stale

        sweep.register(
            "listing_images", queue="ingest", requeue=images_requeue_stale, description="Listing images to fetch"
        )
        sweep.register("listings", queue="match", requeue=listings_requeue_stale, description="Listings to match")
        sweep.register(
            "announcements",
            queue="notify",
            requeue=detections_requeue_unannounced,
            description="New detections to announce to their brand",
        )
