"""The real client address of a request, trusting X-Forwarded-For only as far as our own proxies.

Anyone can send `X-Forwarded-For`; only the entries our own proxies appended are true. Settings:
- TRUSTED_PROXY_COUNT = N: the request passes through exactly N proxies of ours (a load balancer,
  nginx); the client is the address the outermost of them saw, N entries from the right of
  [X-Forwarded-For..., REMOTE_ADDR].
- TRUSTED_PROXIES = networks: from the right of that list, every address inside these networks is a
  proxy of ours; the first one outside them is the client.
With neither (the default), X-Forwarded-For is ignored: the client is REMOTE_ADDR.
Login lockouts (django-axes) and API throttles are keyed on this address.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from django.conf import settings


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def _address(text: str) -> str | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def client_ip(request: Any) -> str:
    """The client's address (a string; REMOTE_ADDR where nothing trusted says otherwise)."""
    meta = getattr(request, "META", {})
    remote = _address(meta.get("REMOTE_ADDR", "")) or "0.0.0.0"  # noqa: S104 (an address to key on, no bind)
    count = settings.TRUSTED_PROXY_COUNT
    trusted = _networks(tuple(settings.TRUSTED_PROXIES))
    if not count and not trusted:
        return remote
    forwarded = [part for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    hops = [_address(part) for part in forwarded] + [remote]
    if trusted:
        nearest = remote
        for hop in reversed(hops):
            if hop is None:  # garbage where our proxy should have written: trust no further left
                return nearest
            if not any(ipaddress.ip_address(hop) in network for network in trusted):
                return hop
            nearest = hop
        return nearest
    if len(hops) <= count:  # fewer hops than our own proxies: not from them, so not believed
        return remote
    return hops[-1 - count] or remote
