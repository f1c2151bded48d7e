"""The catalogue API: bulk ingestion by the platform's systems, search, listings, sellers, image
uploads, and the OpenAPI schema."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
import yaml
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from rest_framework.test import APIClient

from listings.models import Listing, ListingImage
from listings.services import listings_ingest
from tests.conftest import Cast
from tests.factories import png_file
from tests.listings.kit import PLANTED, listing_item, platform_system_user, seed_catalogue, user_without_membership

pytestmark = pytest.mark.django_db

BULK = "/api/v1/listings/bulk/"
LISTINGS = "/api/v1/listings/"
SELLERS = "/api/v1/sellers/"


@pytest.fixture(autouse=True)
def _fresh_throttles() -> None:
    cache.clear()  # throttle counters live in the cache; no test inherits another's


@pytest.fixture
def system(cast: Cast) -> Any:
    return platform_system_user()


@pytest.fixture
def catalogue(db: None) -> dict[str, Listing]:
    return seed_catalogue()


def _as(api: APIClient, user: Any) -> APIClient:
    if user is not None:
        api.force_authenticate(user)
    return api


def _who(cast: Cast, system: Any, role: str) -> Any:
    if role == "nobody":
        return user_without_membership()
    return system if role == "system" else cast.user(role)


def _text(response: Any) -> str:
    return response.content.decode()


# --- Bulk ingestion -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 401),
        ("nobody", 403),
        ("outsider", 403),
        ("viewer", 403),
        ("manager", 403),
        ("moderator", 403),
        ("admin", 200),
        ("system", 200),
    ],
)
def test_only_platform_systems_and_admins_may_push_listings(
    cast: Cast, system: Any, api: APIClient, role: str, expected: int
) -> None:
    response = _as(api, _who(cast, system, role)).post(BULK, {"listings": [listing_item("L1")]}, format="json")

    assert response.status_code == expected, response.content[:300]
    assert Listing.objects.exists() is (expected == 200)


def test_bulk_answers_counts_and_per_item_results_with_errors(system: Any, api: APIClient) -> None:
    body = {"listings": [listing_item("L1"), listing_item("L2", price="abc"), "oops"]}

    response = _as(api, system).post(BULK, body, format="json")

    assert response.status_code == 200
    data = response.json()
    assert data["counts"] == {"created": 1, "updated": 0, "unchanged": 0, "failed": 2}
    first, second, third = data["items"]
    assert first["index"] == 0
    assert first["status"] == "created"
    assert first["listing_id"] == Listing.objects.get(external_id="L1").pk
    assert first["errors"] == {}
    assert (second["index"], second["status"], second["listing_id"]) == (1, "failed", None)
    assert list(second["errors"]) == ["price"]
    assert (third["index"], third["status"]) == (2, "failed")
    assert "non_field_errors" in third["errors"]


def test_bulk_resent_is_all_unchanged(system: Any, api: APIClient) -> None:
    body = {"listings": [listing_item("L1"), listing_item("L2")]}
    _as(api, system).post(BULK, body, format="json")

    response = api.post(BULK, body, format="json")

    assert response.status_code == 200
    assert response.json()["counts"] == {"created": 0, "updated": 0, "unchanged": 2, "failed": 0}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param([listing_item("L1")], id="a list instead of an object"),
        pytest.param({"items": [listing_item("L1")]}, id="missing listings"),
        pytest.param({"listings": {"0": listing_item("L1")}}, id="listings not a list"),
        pytest.param({"listings": None}, id="listings null"),
    ],
)
def test_a_malformed_bulk_body_is_a_400_that_says_what_to_send(system: Any, api: APIClient, body: Any) -> None:
    response = _as(api, system).post(BULK, body, format="json")

    assert response.status_code == 400
    assert "listings" in response.json()
    assert "list of listings" in _text(response)
    assert not Listing.objects.exists()


def test_invalid_json_is_a_400_with_a_parse_error(system: Any, api: APIClient) -> None:
    response = _as(api, system).post(BULK, data='{"listings": [', content_type="application/json")

    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


def test_a_non_json_body_is_refused(system: Any, api: APIClient) -> None:
    response = _as(api, system).post(BULK, data="listings=1", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415


def test_more_than_a_thousand_listings_is_a_400(system: Any, api: APIClient) -> None:
    body = {"listings": [listing_item(f"X{i}") for i in range(1001)]}

    response = _as(api, system).post(BULK, body, format="json")

    assert response.status_code == 400
    assert "1000" in _text(response)
    assert not Listing.objects.exists()


def test_exactly_a_thousand_listings_are_accepted(system: Any, api: APIClient) -> None:
    body = {"listings": [listing_item(f"X{i}") for i in range(1000)]}

    response = _as(api, system).post(BULK, body, format="json")

    assert response.status_code == 200
    assert response.json()["counts"]["created"] == 1000


# --- Search and detail --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "manager", "outsider", "moderator", "admin"])
def test_search_finds_every_evasive_spelling(cast: Cast, catalogue: dict, api: APIClient, role: str) -> None:
    response = _as(api, cast.user(role)).get(LISTINGS, {"q": "gucci"})

    assert response.status_code == 200
    data = response.json()
    assert data["count"] == len(PLANTED)
    assert {row["external_id"] for row in data["results"]} == PLANTED
    row = data["results"][0]
    assert {"seller", "images", "relevance", "title", "price", "currency"} <= set(row)


@pytest.mark.parametrize(("role", "expected"), [("anonymous", 401), ("nobody", 403)])
def test_search_is_refused_to_users_outside_brands_and_staff(
    cast: Cast, catalogue: dict, system: Any, api: APIClient, role: str, expected: int
) -> None:
    response = _as(api, _who(cast, system, role)).get(LISTINGS, {"q": "gucci"})

    assert response.status_code == expected


def test_search_pages_list_every_match_once_title_hits_first(cast: Cast, api: APIClient) -> None:
    items = [listing_item(f"T{i:02d}", title=f"Gucci tote {i:02d}") for i in range(8)]
    items += [listing_item(f"D{i:02d}", title=f"Tote {i:02d}", description="Like G.U.C.C.I") for i in range(9)]
    listings_ingest(items=items)
    _as(api, cast.viewer_a)

    seen: list[str] = []
    for page in range(1, 5):
        response = api.get(LISTINGS, {"q": "gucci", "page": page, "page_size": 5})
        assert response.status_code == 200
        assert response.json()["count"] == 17
        seen += [row["external_id"] for row in response.json()["results"]]

    assert len(seen) == len(set(seen)) == 17
    assert all(external_id.startswith("T") for external_id in seen[:8])
    assert all(external_id.startswith("D") for external_id in seen[8:])


def test_search_applies_filters_and_sort(cast: Cast, catalogue: dict, api: APIClient) -> None:
    response = _as(api, cast.viewer_a).get(LISTINGS, {"q": "gucci", "marketplace": "nowhere", "sort": "newest"})

    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"price_min": "abc"}, "price_min"),
        ({"price_max": "-5"}, "price_max"),
        ({"sort": "bogus"}, "sort"),
        ({"status": "sold"}, "status"),
        ({"seen_since": "yesterday"}, "seen_since"),
        ({"seller": "x"}, "seller"),
    ],
)
def test_bad_search_parameters_are_a_400_naming_the_parameter(
    cast: Cast, api: APIClient, params: dict, field: str
) -> None:
    response = _as(api, cast.viewer_a).get(LISTINGS, params)

    assert response.status_code == 400
    assert field in response.json()


def test_listing_detail_and_unknown_id(cast: Cast, catalogue: dict, api: APIClient) -> None:
    listing = catalogue["cyrillic"]
    _as(api, cast.viewer_a)

    response = api.get(f"{LISTINGS}{listing.pk}/")

    assert response.status_code == 200
    data = response.json()
    assert data["id"] == listing.pk
    assert data["title"] == listing.title
    assert data["seller"]["external_id"] == "S1"
    assert api.get(f"{LISTINGS}999999/").status_code == 404


def test_listing_detail_is_refused_to_a_user_without_membership(catalogue: dict, api: APIClient) -> None:
    listing = catalogue["cyrillic"]

    response = _as(api, user_without_membership()).get(f"{LISTINGS}{listing.pk}/")

    assert response.status_code == 403


def test_sellers_are_listed_with_their_listing_counts(cast: Cast, catalogue: dict, api: APIClient) -> None:
    response = _as(api, cast.viewer_a).get(SELLERS)

    assert response.status_code == 200
    (seller,) = response.json()["results"]
    assert seller["external_id"] == "S1"
    assert seller["listing_count"] == len(catalogue)
    assert _as(APIClient(), user_without_membership()).get(SELLERS).status_code == 403
    assert APIClient().get(SELLERS).status_code == 401


# --- Image uploads --------------------------------------------------------------------------------


def _upload(api: APIClient, listing: Listing, file: Any) -> Any:
    return api.post(f"{LISTINGS}{listing.pk}/images/", {"file": file}, format="multipart")


@pytest.mark.parametrize(
    ("role", "expected"),
    [("anonymous", 401), ("viewer", 403), ("manager", 403), ("moderator", 403), ("admin", 201), ("system", 201)],
)
def test_only_platform_systems_and_admins_may_upload_images(
    cast: Cast, catalogue: dict, system: Any, api: APIClient, role: str, expected: int
) -> None:
    response = _upload(_as(api, _who(cast, system, role)), catalogue["upper"], png_file())

    assert response.status_code == expected


def test_a_png_upload_is_stored_and_served_to_brand_members_only(
    cast: Cast, catalogue: dict, system: Any, api: APIClient, client: Any
) -> None:
    listing = catalogue["upper"]

    response = _upload(_as(api, system), listing, png_file(size=(40, 30)))

    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "stored"
    assert (data["width"], data["height"]) == (40, 30)
    assert data["url"]
    image = ListingImage.objects.get(pk=data["id"])
    assert image.listing == listing
    assert image.sha256 == data["sha256"]

    anonymous = client.get(data["url"])
    assert anonymous.status_code == 302
    assert "/login/" in anonymous["Location"]

    client.force_login(cast.viewer_a)
    served = client.get(data["url"])
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content).startswith(b"\x89PNG")


def test_uploads_go_to_the_next_free_position(catalogue: dict, system: Any, api: APIClient) -> None:
    listing = catalogue["upper"]
    _as(api, system)

    first = _upload(api, listing, png_file(seed=1)).json()
    second = _upload(api, listing, png_file(seed=2)).json()

    # Uploads are numbered from 100, after the URL images, so URL updates never clash with them.
    assert (first["position"], second["position"]) == (100, 101)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "SVG images are not accepted",
        ),
        ("page.png", b"<!doctype html><html><body>hi</body></html>", "HTML files are not accepted."),
    ],
    ids=["svg", "html"],
)
def test_an_svg_or_html_upload_is_a_400_with_the_reason(
    catalogue: dict, system: Any, api: APIClient, name: str, content: bytes, message: str
) -> None:
    file = SimpleUploadedFile(name, content, content_type="image/png")

    response = _upload(_as(api, system), catalogue["upper"], file)

    assert response.status_code == 400
    assert message in _text(response)
    assert not ListingImage.objects.exists()


def test_an_upload_to_an_unknown_listing_is_a_404(system: Any, api: APIClient) -> None:
    response = api.post(f"{LISTINGS}999999/images/", {"file": png_file()}, format="multipart")
    assert response.status_code == 401

    response = _as(api, system).post(f"{LISTINGS}999999/images/", {"file": png_file()}, format="multipart")

    assert response.status_code == 404


def test_an_upload_without_a_file_is_a_400(catalogue: dict, system: Any, api: APIClient) -> None:
    response = _as(api, system).post(f"{LISTINGS}{catalogue['upper'].pk}/images/", {}, format="multipart")

    assert response.status_code == 400
    assert "file" in response.json()


# --- Schema ------------------------------------------------------------------------------------------


def test_the_openapi_schema_validates_and_documents_the_catalogue() -> None:
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)

    paths = yaml.safe_load(out.getvalue())["paths"]
    assert {"/api/v1/listings/", "/api/v1/listings/bulk/", "/api/v1/listings/{id}/images/", "/api/v1/sellers/"} <= set(
        paths
    )
    parameters = {p["name"] for p in paths["/api/v1/listings/"]["get"]["parameters"]}
    assert {"q", "marketplace", "price_min", "sort"} <= parameters
