"""The authenticators' test kit: two authenticators with their members, a seller with listings of brand A,
and item photos that survive re-encoding and cropping as real photos do."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from authenticators import services
from authenticators.models import Authenticator, Certificate
from tests.factories import ListingFactory, SellerFactory, UserFactory
from tests.takedowns.factories import seller_login


def photo_bytes(seed: int = 0, *, fmt: str = "JPEG", crop: float = 0.0, quality: int = 92) -> bytes:
    """A photo-like picture (smooth shapes over a gradient) for `seed`; `crop` trims that share of each side."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter

    rng = np.random.default_rng(seed)
    width, height = 480, 360
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([(x * rng.uniform(0.2, 0.5) + y * rng.uniform(0.1, 0.4)) % 256 for _ in range(3)], axis=-1).astype(
        np.uint8
    )
    image = Image.fromarray(base)
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = int(rng.integers(0, width - 60)), int(rng.integers(0, height - 60))
        size = int(rng.integers(40, 160))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse([x0, y0, x0 + size, y0 + size], fill=colour)
        else:
            draw.rectangle([x0, y0, x0 + size, y0 + size // 2], fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(2))
    if crop:
        dx, dy = int(width * crop), int(height * crop)
        image = image.crop((dx, dy, width - dx, height - dy))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **({"quality": quality} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def photo_file(seed: int = 0, name: str = "item.jpg", **kw: Any) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, photo_bytes(seed, **kw), content_type="image/jpeg")


@dataclass
class Kit:
    cast: Any
    authenticator: Authenticator
    other_authenticator: Authenticator
    auth_manager: Any
    auth_viewer: Any
    other_auth_manager: Any
    seller: Any
    seller_user: Any
    other_seller: Any
    other_seller_user: Any
    listing: Any  # seller's listing of brand A ("Aurora Leather" in its title)
    second_listing: Any  # seller's second listing of brand A
    other_listing: Any  # other seller's listing of brand A

    def issue(self, certificate_id: str = "ENT-1", *, seed: int = 0, verdict: str = "authentic", brand: Any = None,
              authenticator: Authenticator | None = None, actor: Any = None) -> Certificate:  # fmt: skip
        return services.certificate_issue(
            actor=actor or self.auth_manager,
            authenticator=authenticator or self.authenticator,
            certificate_id=certificate_id,
            brand=brand or self.cast.brand_a,
            verdict=verdict,
            authenticated_on=date(2026, 11, 2),
            item_description="Aurora Leather tote, black, serial AL-77",
            photos=[photo_file(seed)],
        ).certificate

    def user(self, role: str) -> Any:
        return {
            "anonymous": None,
            "auth_manager": self.auth_manager,
            "auth_viewer": self.auth_viewer,
            "other_authenticator": self.other_auth_manager,
            "brand_manager": self.cast.manager_a,
            "brand_viewer": self.cast.viewer_a,
            "other_brand": self.cast.manager_b,
            "seller": self.seller_user,
            "other_seller": self.other_seller_user,
            "moderator": self.cast.moderator,
            "admin": self.cast.admin,
        }[role]


def approved_authenticator(cast: Any, name: str, manager: Any) -> Authenticator:
    authenticator, _secret = services.authenticator_register(actor=cast.admin, name=name, manager=manager)
    return services.authenticator_decide(actor=cast.moderator, authenticator=authenticator, action="approve")


@pytest.fixture
def kit(cast: Any) -> Kit:
    auth_manager = UserFactory(username="entrupy_anna")
    auth_viewer = UserFactory(username="entrupy_vic")
    other_auth_manager = UserFactory(username="realauth_rob")
    authenticator = approved_authenticator(cast, "Entrupy", auth_manager)
    services.authenticator_member_add(actor=auth_manager, authenticator=authenticator, user=auth_viewer, role="viewer")
    other = approved_authenticator(cast, "Real Authentication", other_auth_manager)
    seller, other_seller = SellerFactory(name="Vintage Vault"), SellerFactory(name="Resale Row")
    return Kit(
        cast=cast,
        authenticator=authenticator,
        other_authenticator=other,
        auth_manager=auth_manager,
        auth_viewer=auth_viewer,
        other_auth_manager=other_auth_manager,
        seller=seller,
        seller_user=seller_login(cast, seller, "vault"),
        other_seller=other_seller,
        other_seller_user=seller_login(cast, other_seller, "resale"),
        listing=ListingFactory(seller=seller, title="Aurora Leather tote, pre-owned"),
        second_listing=ListingFactory(seller=seller, title="Aurora Leather tote black"),
        other_listing=ListingFactory(seller=other_seller, title="Pre-owned Aurora Leather bag"),
    )
