"""Bring stored data up to the current matching engine: reference features and listing-image hashes.

    manage.py reprocess_matching                 # references without engine features, logos without model
                                                 # vectors (or with fewer views than the engine
                                                 # embeds now) or not yet read for their words
    manage.py reprocess_matching --all           # every image reference, e.g. after an engine upgrade
    manage.py reprocess_matching --images        # also re-hash every stored listing image and match it again

References are queued as jobs (features, then a back-scan), visible on each brand's Jobs tab;
listing images are re-hashed here, with a progress bar, and their listings queued for matching.
"""

from __future__ import annotations

import base64
from typing import Any

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand
from django.utils import timezone
from tqdm import tqdm

from brands.models import ReferenceAsset
from brands.services import asset_reprocess
from engine import logo_model
from engine.matcher import REFERENCE_VIEWS, query_features
from listings.matching import listings_queue_matching
from listings.models import ListingImage


def _outdated(asset: ReferenceAsset) -> bool:
    """No engine features, or a logo computed before the learned stage (no vectors), with another
    number of views than the engine embeds now (REFERENCE_VIEWS), or before its words were read
    (no "words" key; an empty list is a logo read and found without words)."""
    engine = (asset.features or {}).get("engine")
    if not engine:
        return True
    if asset.kind != ReferenceAsset.Kind.LOGO:
        return False
    if not engine.get("marks") or "words" not in engine:
        return True
    try:
        views = len(logo_model.decode_vectors(base64.b64decode(engine["marks"])))
    except (ValueError, TypeError):
        return True
    return views != REFERENCE_VIEWS


class Command(BaseCommand):
    help = "Recompute reference features and listing-image hashes with the current matching engine."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--all", action="store_true", help="every image reference, not only outdated ones")
        parser.add_argument("--images", action="store_true", help="re-hash stored listing images and re-match")

    def handle(self, *args: Any, **options: Any) -> None:
        assets = ReferenceAsset.objects.filter(kind__in=ReferenceAsset.IMAGE_KINDS).exclude(image="")
        if not options["all"]:
            assets = [a for a in assets if _outdated(a)]
        queued = 0
        for asset in tqdm(list(assets), desc="references", unit="asset", disable=not assets):
            asset_reprocess(actor=None, asset=asset)
            queued += 1
        self.stdout.write(f"{queued} reference(s) queued for features and a back-scan.")
        if not options["images"]:
            return
        rehashed, failed, listing_ids = 0, [], set()
        images = ListingImage.objects.filter(status=ListingImage.Status.STORED).exclude(file="")
        for image in tqdm(images.iterator(chunk_size=500), total=images.count(), desc="listing images", unit="img"):
            try:
                with default_storage.open(image.file.name, "rb") as handle:
                    features = query_features(handle.read(), local=False)
            except (OSError, ValueError) as exc:
                failed.append(f"image {image.pk}: {exc}")
                continue
            ListingImage.objects.filter(pk=image.pk).update(
                phash=f"{features.phash:016x}",
                dhash=f"{features.dhash:016x}",
                match_status="pending",
                updated_at=timezone.now(),  # the running processes' image indexes pick re-hashed rows up by it
            )
            listing_ids.add(image.listing_id)
            rehashed += 1
        tasks = listings_queue_matching(listing_ids=sorted(listing_ids))
        self.stdout.write(
            f"{rehashed} listing image(s) re-hashed; {len(listing_ids)} listing(s) queued for matching "
            f"in {tasks} task(s); {len(failed)} unreadable."
        )
        for line in failed[:20]:
            self.stdout.write(f"  {line}")
