"""IP rights, agent authorizations and reference assets in the Django admin: listed and searchable for
platform staff; filed and verified only through the workflow (no add, no delete, state read-only)."""

from __future__ import annotations

from typing import Any

import pytest

from brands.models import IPRight
from tests.conftest import Cast
from tests.factories import IPRightFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["ipright", "agentauthorization", "referenceasset"])
def test_lists_for_a_platform_admin(cast: Cast, client: Any, model: str) -> None:
    IPRightFactory(brand=cast.brand_a, verified=True, title="AURORA word mark")
    client.force_login(cast.admin)
    assert client.get(f"/admin/brands/{model}/").status_code == 200
    assert client.get(f"/admin/brands/{model}/", {"q": "aurora"}).status_code == 200
    assert client.get(f"/admin/brands/{model}/add/").status_code == 403


def test_a_rights_verification_is_read_only(cast: Cast, client: Any) -> None:
    right = IPRightFactory(brand=cast.brand_a, title="AURORA word mark")  # pending
    client.force_login(cast.admin)
    html = client.get(f"/admin/brands/ipright/{right.pk}/change/").content.decode()
    assert 'name="title"' in html
    for field in ("status", "registration_number", "holder_name", "valid_until", "decided_by"):
        assert f'name="{field}"' not in html, field
    assert "Pending review" in html  # shown, not editable
    client.post(f"/admin/brands/ipright/{right.pk}/change/", {"title": "Renamed mark", "status": "verified"})
    right.refresh_from_db()
    assert (right.title, right.status) == ("Renamed mark", "pending")
    response = client.post(f"/admin/brands/ipright/{right.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert IPRight.objects.filter(pk=right.pk).exists()
