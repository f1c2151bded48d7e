"""Recompute every stored search key with the current normaliser (engine/normalize.py).

    manage.py reindex_search             # rewrite the keys that changed (progress bars)
    manage.py reindex_search --match     # and queue those listings for matching again

Keys: a listing's title and title + description (catalogue search) and the text read in its
photos. Run it after a change to the normaliser (migrations run it for the changes shipped so
far); search reads the stored keys, so until then it misses the spellings the new folds find.
The word-mark signal keys the text itself when it matches: `--match` gives the listings whose
keys changed a new matching pass at once, instead of at their next change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand
from tqdm import tqdm

from listings.matching import listings_queue_matching
from listings.models import Listing, ListingImage
from listings.search_keys import reindex_images, reindex_listings


class Command(BaseCommand):
    help = "Recompute every stored search key with the current normaliser."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--match", action="store_true", help="queue the listings whose keys changed for matching")
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size = max(1, options["batch_size"])
        quiet = options["verbosity"] < 1
        listings = self._walk(reindex_listings, Listing.objects, "listings", "listing", batch_size, quiet)
        self.stdout.write(f"{len(listings)} listing(s) with new search keys.")
        photos = self._walk(reindex_images, ListingImage.objects, "photo text", "img", batch_size, quiet)
        self.stdout.write(f"{len(photos)} listing(s) with a new key for the text in their photos.")
        changed = sorted(listings | photos)
        if options["match"] and changed:
            tasks = listings_queue_matching(listing_ids=changed)
            self.stdout.write(f"{len(changed)} listing(s) queued for matching in {tasks} task(s).")

    @staticmethod
    def _walk(reindex: Callable, manager: Any, desc: str, unit: str, batch_size: int, quiet: bool) -> set[int]:
        """Run one reindexer over every row with a progress bar; the listing ids whose keys changed."""
        changed: set[int] = set()
        with tqdm(total=manager.count(), desc=desc, unit=unit, disable=quiet) as bar:
            for read, ids in reindex(manager.all(), batch_size=batch_size):
                changed.update(ids)
                bar.update(read)
        return changed
