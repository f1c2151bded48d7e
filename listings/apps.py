from django.apps import AppConfig


class ListingsConfig(AppConfig):
    """The marketplace catalogue: sellers, listings, images, and the detections the workers raise."""

    name = "listings"
    verbose_name = "Listings"

    def ready(self) -> None:
        from brands.signals import reference_asset_changed
        from listings.models import Listing
        from listings.signals import listings_changed

        def queue_matching(sender, listing_ids, **kwargs) -> None:
            from listings.matching import listings_queue_matching

            listings_queue_matching(listing_ids=list(listing_ids))

        def start_backscan(sender, asset_id, change, job_id=None, **kwargs) -> None:
            from listings.matching import backscan_start

            backscan_start(asset_id=asset_id, change=change, job_id=job_id)

        listings_changed.connect(queue_matching, sender=Listing, dispatch_uid="listings.queue_matching")
        reference_asset_changed.connect(start_backscan, dispatch_uid="listings.start_backscan")
