"""DRF throttles keyed on the real client address (core.client_ip), not a client-supplied header."""

from __future__ import annotations

from typing import Any

from rest_framework import throttling

from core.client_ip import client_ip


class ClientIpMixin:
    def get_ident(self, request: Any) -> str:
        return client_ip(request)


class AnonThrottle(ClientIpMixin, throttling.AnonRateThrottle):
    pass


class UserThrottle(ClientIpMixin, throttling.UserRateThrottle):
    pass


class ScopedThrottle(ClientIpMixin, throttling.ScopedRateThrottle):
    pass
