"""The catalogue pages: the search page with its filters, facets and pages of results, and a
listing's own page with its images, seller and history."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils.html import escape

from listings.models import Listing, ListingImage
from listings.services import listing_image_upload, listings_ingest
from tests.conftest import Cast
from tests.factories import png_file
from tests.listings.kit import (
    DECOYS_BY_NAME,
    PLANTED_IN_DESCRIPTION,
    PLANTED_TITLES,
    listing_item,
    seed_catalogue,
    user_without_membership,
)

pytestmark = pytest.mark.django_db

SEARCH = "/listings/"


@pytest.fixture
def catalogue(db: None) -> dict[str, Listing]:
    return seed_catalogue()


def _html(response: Any) -> str:
    return response.content.decode()


def _result_titles(html: str) -> list[str]:
    table = html.split('data-testid="results"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<a href="/listings/\d+/">([^<]*)</a>', table)


# --- Search page ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "manager", "outsider", "moderator", "admin"])
def test_search_page_shows_every_evasive_spelling_and_the_normalised_key(
    cast: Cast, catalogue: dict, client: Any, role: str
) -> None:
    client.force_login(cast.user(role))

    response = client.get(SEARCH, {"q": "gucci"})

    assert response.status_code == 200
    html = _html(response)
    titles = _result_titles(html)
    expected = [*PLANTED_TITLES.values(), *(title for title, _ in PLANTED_IN_DESCRIPTION.values())]
    assert sorted(titles) == sorted(escape(title) for title in expected)
    for title, _ in DECOYS_BY_NAME.values():
        assert escape(title) not in titles
    hint = html.split('data-testid="normalised"', 1)[1].split("</div>", 1)[0]
    assert "<code>guci</code>" in hint
    assert f"{len(expected)} listings" in html


def test_search_page_without_a_query_lists_everything_and_shows_no_key_hint(
    cast: Cast, catalogue: dict, client: Any
) -> None:
    client.force_login(cast.viewer_a)

    html = _html(client.get(SEARCH))

    assert len(_result_titles(html)) == len(catalogue)
    assert 'data-testid="normalised"' not in html


def test_search_page_shows_facets(cast: Cast, catalogue: dict, client: Any) -> None:
    client.force_login(cast.viewer_a)

    html = _html(client.get(SEARCH, {"q": "gucci"}))

    planted = len(PLANTED_TITLES) + len(PLANTED_IN_DESCRIPTION)
    assert re.search(rf"<span>shopmart</span><span[^>]*>{planted}</span>", html)
    assert re.search(rf"<span>Bags</span><span[^>]*>{planted}</span>", html)
    assert re.search(rf"<span>active</span><span[^>]*>{planted}</span>", html)


def test_anonymous_visitors_are_sent_to_log_in(client: Any) -> None:
    response = client.get(SEARCH)

    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_a_user_without_membership_is_forbidden(catalogue: dict, client: Any) -> None:
    client.force_login(user_without_membership())

    assert client.get(SEARCH, {"q": "gucci"}).status_code == 403
    assert client.get(f"/listings/{catalogue['upper'].pk}/").status_code == 403


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"price_min": "abc"}, "price_min"),
        ({"price_max": "-1"}, "price_max"),
        ({"seen_since": "not-a-date"}, "seen_since"),
        ({"status": "sold"}, "status"),
        ({"sort": "bogus"}, "sort"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_bad_form_input_shows_the_error_instead_of_failing(
    cast: Cast, catalogue: dict, client: Any, params: dict, field: str
) -> None:
    client.force_login(cast.viewer_a)

    response = client.get(SEARCH, params)

    assert response.status_code == 200
    assert f'<div class="text-danger small mt-2">{field}:' in _html(response)


def test_search_page_filters_by_category_and_status(cast: Cast, catalogue: dict, client: Any) -> None:
    listings_ingest(items=[listing_item("R1", title="Gucci boots", category="Shoes", status="removed")])
    client.force_login(cast.viewer_a)

    html = _html(client.get(SEARCH, {"q": "gucci", "category": "shoes", "status": "removed"}))

    assert _result_titles(html) == ["Gucci boots"]


def test_search_results_are_paginated_by_25_keeping_the_query(cast: Cast, client: Any) -> None:
    listings_ingest(items=[listing_item(f"P{i:02d}", title=f"Gucci item {i:02d}") for i in range(30)])
    client.force_login(cast.viewer_a)

    first = _html(client.get(SEARCH, {"q": "gucci", "sort": "oldest"}))
    second = _html(client.get(SEARCH, {"q": "gucci", "sort": "oldest", "page": "2"}))

    assert len(_result_titles(first)) == 25
    assert "Page 1 of 2" in first
    assert "?q=gucci&amp;sort=oldest&page=2" in first
    assert len(_result_titles(second)) == 5
    assert "Page 2 of 2" in second
    assert set(_result_titles(first)).isdisjoint(_result_titles(second))


def test_relevance_pages_list_title_hits_first_and_every_match_once(cast: Cast, client: Any) -> None:
    items = [listing_item(f"T{i:02d}", title=f"Gucci tote {i:02d}") for i in range(20)]
    items += [listing_item(f"D{i:02d}", title=f"Tote {i:02d}", description="Like Gucсi") for i in range(10)]
    listings_ingest(items=items)
    client.force_login(cast.viewer_a)

    first = _result_titles(_html(client.get(SEARCH, {"q": "gucci"})))
    second = _result_titles(_html(client.get(SEARCH, {"q": "gucci", "page": "2"})))

    assert len(first) == 25
    assert len(second) == 5
    titles = first + second
    assert len(set(titles)) == 30
    assert all(title.startswith("Gucci") for title in titles[:20])
    assert not any(title.startswith("Gucci") for title in titles[20:])


def test_a_page_number_out_of_range_shows_the_last_page(cast: Cast, client: Any) -> None:
    listings_ingest(items=[listing_item(f"P{i:02d}") for i in range(30)])
    client.force_login(cast.viewer_a)

    response = client.get(SEARCH, {"page": "99"})

    assert response.status_code == 200
    html = _html(response)
    assert "Page 2 of 2" in html
    assert "Page 99" not in html
    assert len(_result_titles(html)) == 5


@pytest.mark.parametrize("page", ["abc", "0", "-3", ""])
def test_a_malformed_page_number_shows_the_first_page(cast: Cast, client: Any, page: str) -> None:
    listings_ingest(items=[listing_item(f"P{i:02d}") for i in range(30)])
    client.force_login(cast.viewer_a)

    response = client.get(SEARCH, {"page": page})

    assert response.status_code == 200
    assert "Page 1 of 2" in _html(response)
    assert len(_result_titles(_html(response))) == 25


# --- Listing page ------------------------------------------------------------------------------------


def test_listing_page_shows_seller_images_and_history(cast: Cast, client: Any, settings: Any) -> None:
    settings.IMAGE_FETCH_ALLOWED_NETWORKS = []
    listings_ingest(items=[listing_item("L1", title="Leather bag", images=["http://127.0.0.1:9/a.png"])])
    listings_ingest(
        items=[listing_item("L1", title="Gucсi leather bag", images=["http://127.0.0.1:9/a.png"], price="12.50")]
    )
    listing = Listing.objects.get()
    failed = listing.images.get()
    ListingImage.objects.filter(pk=failed.pk).update(status="failed", error="The address is private.")
    stored = listing_image_upload(listing=listing, file=png_file())
    client.force_login(cast.viewer_a)

    response = client.get(f"/listings/{listing.pk}/")

    assert response.status_code == 200
    html = _html(response)
    assert escape("Gucсi leather bag") in html
    assert "Seller One" in html
    assert "12.50 EUR" in html
    images = html.split('data-testid="images"', 1)[1].split("</div>\n      <h2", 1)[0]
    assert f'src="/listings/images/{stored.pk}/"' in images
    assert "The address is private." in images
    history = html.split('<h2 class="h6">History</h2>', 1)[1]
    assert "listing.updated" in history
    assert "platform (api)" in history
    assert escape("Leather bag → Gucсi leather bag") in history
    assert client.get(f"/listings/images/{stored.pk}/").status_code == 200


def test_an_unchanged_listing_page_says_so(cast: Cast, catalogue: dict, client: Any) -> None:
    client.force_login(cast.viewer_a)

    html = _html(client.get(f"/listings/{catalogue['upper'].pk}/"))

    assert "Unchanged since first seen." in html
    assert "No images." in html


def test_an_unknown_listing_is_a_404(cast: Cast, client: Any) -> None:
    client.force_login(cast.viewer_a)

    assert client.get("/listings/999999/").status_code == 404


def test_an_image_not_stored_yet_is_a_404(cast: Cast, client: Any) -> None:
    listings_ingest(items=[listing_item("L1", images=["http://127.0.0.1:9/a.png"])])
    image = ListingImage.objects.get()  # pending: no on-commit fetch inside the test transaction
    client.force_login(cast.viewer_a)

    assert client.get(f"/listings/images/{image.pk}/").status_code == 404
