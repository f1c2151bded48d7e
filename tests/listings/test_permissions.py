"""Permission matrix for the catalogue's pages and endpoints. Listings are the platform's
shared catalogue (brand members and staff read it; only the platform's systems write it);
saved searches belong to a brand (another brand's answer 404)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from listings import services
from listings.models import Listing, ListingImage
from tests.conftest import Cast
from tests.factories import UserFactory, image_bytes

pytestmark = pytest.mark.django_db
ROLES = ["anonymous", "nobody", "outsider", "viewer", "manager", "moderator", "admin", "system"]


@pytest.fixture
def world(cast: Cast) -> dict[str, Any]:
    services.listings_ingest(
        items=[
            {"marketplace": "m", "external_id": "1", "seller": {"external_id": "s", "name": "S"}, "title": "AURORA bag"}
        ]
    )
    listing = Listing.objects.get()
    image = services.listing_image_upload(listing=listing, file=SimpleUploadedFile("a.png", image_bytes()))
    search = services.saved_search_create(actor=cast.manager_a, brand=cast.brand_a, name="A", params={"q": "aurora"})
    system = UserFactory(username="platform-bot")
    system.groups.add(Group.objects.get_or_create(name="Platform systems")[0])
    users = {
        "anonymous": None, "nobody": UserFactory(username="nobody"), "outsider": cast.manager_b,
        "viewer": cast.viewer_a, "manager": cast.manager_a, "moderator": cast.moderator, "admin": cast.admin,
        "system": system,
    }  # fmt: skip
    return {"users": users, "l": listing.pk, "img": image.pk, "s": search.pk, "a": cast.brand_a.pk,
            "seller": listing.seller_id}  # fmt: skip


def expect(*codes: int) -> dict[str, int]:
    return dict(zip(ROLES, codes, strict=True))


API = [
    ("get", "/api/v1/listings/?q=aurora", None, expect(401, 403, 200, 200, 200, 200, 200, 200)),
    ("get", "/api/v1/listings/{l}/", None, expect(401, 403, 200, 200, 200, 200, 200, 200)),
    ("get", "/api/v1/sellers/", None, expect(401, 403, 200, 200, 200, 200, 200, 200)),
    ("get", "/api/v1/sellers/{seller}/", None, expect(401, 403, 200, 200, 200, 200, 200, 200)),
    ("post", "/api/v1/listings/bulk/", {"listings": []}, expect(401, 403, 403, 403, 403, 403, 200, 200)),
    ("get", "/api/v1/saved-searches/{s}/", None, expect(401, 404, 404, 200, 200, 200, 200, 404)),
    ("post", "/api/v1/saved-searches/{s}/run/", None, expect(401, 404, 404, 403, 200, 403, 200, 404)),
    ("delete", "/api/v1/saved-searches/{s}/", None, expect(401, 404, 404, 403, 204, 403, 204, 404)),
    ("post", "/api/v1/saved-searches/", {"brand": "{a}", "name": "B", "params": {"q": "x"}},
     expect(401, 400, 400, 403, 201, 403, 201, 400)),
]  # fmt: skip

PAGES = [
    ("get", "/listings/", expect(302, 403, 200, 200, 200, 200, 200, 200)),
    ("get", "/listings/{l}/", expect(302, 403, 200, 200, 200, 200, 200, 200)),
    ("get", "/listings/images/{img}/", expect(302, 403, 200, 200, 200, 200, 200, 200)),
    ("get", "/listings/image-search/", expect(302, 403, 200, 200, 200, 200, 200, 200)),
    ("get", "/listings/saved/", expect(302, 403, 200, 200, 200, 200, 200, 200)),
    ("post", "/listings/saved/{s}/run/", expect(302, 404, 404, 403, 302, 403, 302, 404)),
]  # fmt: skip


def _fill(value: Any, world: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return value.format(**{k: v for k, v in world.items() if k != "users"})
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    return value


@pytest.mark.parametrize(
    ("method", "url", "data", "expected", "role"),
    [pytest.param(m, u, d, e, r, id=f"{m} {u} {r}") for m, u, d, e in API for r in ROLES],
)
def test_api_matrix(world: dict, api: Any, method: str, url: str, data: Any, expected: dict, role: str) -> None:
    user = world["users"][role]
    if user is not None:
        api.force_authenticate(user)
    body = _fill(data, world)
    if isinstance(body, dict) and "brand" in body:
        body["brand"] = int(body["brand"])
    response = getattr(api, method)(_fill(url, world), body, format="json")
    assert response.status_code == expected[role], response.content[:300]


@pytest.mark.parametrize(
    ("method", "url", "expected", "role"),
    [pytest.param(m, u, e, r, id=f"{m} {u} {r}") for m, u, e in PAGES for r in ROLES],
)
def test_page_matrix(world: dict, client: Any, method: str, url: str, expected: dict, role: str) -> None:
    user = world["users"][role]
    if user is not None:
        client.force_login(user)
    response = getattr(client, method)(_fill(url, world))
    assert response.status_code == expected[role], response.content[:300]


def test_stored_images_are_not_public(world: dict, client: Any) -> None:
    image = ListingImage.objects.get(pk=world["img"])
    assert client.get(f"/media-not-public/{image.file.name}").status_code == 404
    assert client.get(f"/media/{image.file.name}").status_code == 404
