"""Signals of the catalogue (the matching pipeline subscribes; listings knows no subscriber).

`listings_changed(listing_ids)` is sent after a commit that created listings, changed their
text, or stored new images for them: those listings have `needs_matching=True`.
"""

from django.dispatch import Signal

listings_changed = Signal()
