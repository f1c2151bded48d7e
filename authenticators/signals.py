"""Signals of the certificates, each sent after the commit that made the change (apps above subscribe;
the gating app holds and releases listings on them). `certificate_id` is the Certificate's primary key.

- `certificate_linked(sender, listing_id, certificate_id)`: a valid certificate now backs the listing;
- `certificate_reused(sender, listing_id, certificate_id, reason)`: a link was refused because the
  certificate (by its id or its photos) already backs another listing; `listing_id` is the refused one;
- `certificate_revoked(sender, listing_id, certificate_id, reason)`: the authenticator withdrew it;
  `listing_id` is the listing it backed (None if it backed none).
"""

from django.dispatch import Signal

certificate_linked = Signal()
certificate_reused = Signal()
certificate_revoked = Signal()
