"""Site-wide routes: /favicon.ico answers (browsers ask for it on every site), and pages link the icon."""

from __future__ import annotations

from typing import Any

import pytest


def test_favicon_ico_is_served_to_anyone(client: Any) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert "max-age=86400" in response["Cache-Control"]


@pytest.mark.django_db
def test_pages_link_the_icon(client: Any) -> None:
    html = client.get("/accounts/login/").content.decode()
    assert 'rel="icon" href="/static/favicon.svg"' in html
    assert 'rel="icon" href="/favicon.ico"' in html
