"""Saved searches: a brand's standing query tells its managers about new matching listings."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from listings import services
from listings.models import SavedSearch
from listings.tasks import saved_searches_run
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def _listing(external_id: str, title: str) -> dict[str, Any]:
    return {
        "marketplace": "demo-market",
        "external_id": external_id,
        "seller": {"external_id": "S1", "name": "Seller"},
        "title": title,
    }


def test_only_listings_after_the_first_run_are_new_and_managers_are_emailed(
    cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    services.listings_ingest(items=[_listing("1", "AURORA bag"), _listing("2", "plain bag")])
    search = services.saved_search_create(
        actor=cast.manager_a, brand=cast.brand_a, name="Aurora fakes", params={"q": "aurora"}
    )
    assert (search.total_hits, search.last_new_hits) == (1, 0)
    services.listings_ingest(items=[_listing("3", "AUR0RA replica bag"), _listing("4", "tote")])
    with django_capture_on_commit_callbacks(execute=True):
        outcome = saved_searches_run.apply().get()
    assert outcome == {"searches": 1, "with_new_hits": 1}
    search.refresh_from_db()
    assert (search.total_hits, search.last_new_hits) == (2, 1)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [cast.manager_a.email]
    assert "1 new listing for “Aurora fakes”" in mail.outbox[0].subject
    with django_capture_on_commit_callbacks(execute=True):
        saved_searches_run.apply()
    assert len(mail.outbox) == 1  # nothing new: no email


def test_invalid_or_empty_saved_searches_are_refused(cast: Cast) -> None:
    with pytest.raises(ValidationError, match="at least a query"):
        services.saved_search_create(actor=cast.manager_a, brand=cast.brand_a, name="All", params={})
    with pytest.raises(ValidationError):
        services.saved_search_create(actor=cast.manager_a, brand=cast.brand_a, name="Bad", params={"price_min": "x"})
    services.saved_search_create(actor=cast.manager_a, brand=cast.brand_a, name="A", params={"q": "a"})
    with pytest.raises(ValidationError, match="already has"):
        services.saved_search_create(actor=cast.manager_a, brand=cast.brand_a, name="a", params={"q": "b"})


@pytest.mark.parametrize(
    ("role", "status"),
    [("anonymous", 401), ("outsider", 404), ("viewer", 403), ("manager", 200), ("moderator", 403), ("admin", 200)],
)
def test_run_endpoint_permissions(cast: Cast, api: Any, role: str, status: int) -> None:
    search = services.saved_search_create(actor=cast.manager_a, brand=cast.brand_a, name="A", params={"q": "x"})
    if cast.user(role) is not None:
        api.force_authenticate(cast.user(role))
    assert api.post(f"/api/v1/saved-searches/{search.pk}/run/").status_code == status


def test_api_create_and_list_are_scoped(cast: Cast, api: Any) -> None:
    api.force_authenticate(cast.manager_a)
    response = api.post(
        "/api/v1/saved-searches/", {"brand": cast.brand_a.pk, "name": "Aurora", "params": {"q": "aurora"}}
    )
    assert response.status_code == 201, response.content
    api.force_authenticate(cast.manager_b)
    assert api.get("/api/v1/saved-searches/").json()["results"] == []
    response = api.post("/api/v1/saved-searches/", {"brand": cast.brand_a.pk, "name": "Spy", "params": {"q": "aurora"}})
    assert response.status_code == 400
    assert not SavedSearch.objects.filter(name="Spy").exists()


def test_save_from_the_search_page(cast: Cast, client: Any) -> None:
    client.force_login(cast.manager_a)
    response = client.post(
        "/listings/saved/new/", {"brand": cast.brand_a.pk, "name": "Aurora", "q": "aurora", "notify": "on"}
    )
    assert response.status_code == 302
    html = client.get("/listings/saved/").content.decode()
    assert "Aurora" in html
    client.force_login(cast.viewer_a)
    assert client.post("/listings/saved/new/", {"brand": cast.brand_a.pk, "name": "V", "q": "x"}).status_code == 403
    client.force_login(cast.manager_b)
    assert client.post("/listings/saved/new/", {"brand": cast.brand_a.pk, "name": "V", "q": "x"}).status_code == 404
