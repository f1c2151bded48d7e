"""Signals of the catalogue (the matching pipeline subscribes; listings knows no subscriber).

`listings_changed(listing_ids)` is sent after a commit that created listings, changed their
text, or stored new images for them: those listings have `needs_matching=True`.
"""

from django.dispatch import Signal

listings_changed = Signal()

# `detections_found(detection_ids_by_brand={brand_id: [ids]})`, after the commit that created them
# (the takedown workflow drafts notices for fast-track brands from it).
detections_found = Signal()

# `listing_hold_changed(listing_id, held, reason, actor)`, sent *inside* the transaction that held or
# released a listing (listings.services.listing_hold / listing_release), so what a receiver writes (the
# platform's `listing.held` / `listing.released` webhook deliveries) commits or rolls back with it.
listing_hold_changed = Signal()

# `detection_raised(detection_ids)`, after the commit that created a detection or raised its score (a
# rescan that found it stronger): the gating app holds a gated brand's listings from it.
detection_raised = Signal()
