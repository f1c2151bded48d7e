"""Signals of the catalogue (the matching pipeline subscribes; listings knows no subscriber).

`listings_changed(listing_ids)` is sent after a commit that created listings, changed their
text, or stored new images for them: those listings have `needs_matching=True`.
"""

from django.dispatch import Signal

listings_changed = Signal()

# `detections_found(detection_ids_by_brand={brand_id: [ids]})`, after the commit that created them
# (the takedown workflow drafts notices for fast-track brands from it).
detections_found = Signal()
