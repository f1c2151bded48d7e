"""Dashboard, login, profile/API token, system status, health probe, navigation per role."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token

from core.models import WorkerHeartbeat
from core.services import heartbeat_record
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def test_login_page_renders_for_anonymous(client: Any) -> None:
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b"Log in to IPPC" in response.content


def test_login_with_email_or_username_and_logout(cast: Cast, client: Any) -> None:
    cast.manager_a.set_password("secret-pass-1")
    cast.manager_a.save()
    response = client.post("/accounts/login/", {"username": cast.manager_a.email.upper(), "password": "secret-pass-1"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    html = client.get("/").content.decode()
    assert "Aurora Leather" in html
    assert "Nordpeak" not in html
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302
    assert client.login(username="manager_a", password="secret-pass-1")


def test_wrong_password_shows_error(cast: Cast, client: Any) -> None:
    response = client.post("/accounts/login/", {"username": "manager_a", "password": "nope"})
    assert response.status_code == 200
    assert b"didn't match" in response.content


def test_password_reset_sends_email_for_known_address_only(cast: Cast, client: Any, mailoutbox: list) -> None:
    response = client.post("/accounts/password_reset/", {"email": cast.viewer_a.email})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert "/accounts/reset/" in mailoutbox[0].body
    client.post("/accounts/password_reset/", {"email": "nobody@example.test"})
    assert len(mailoutbox) == 1  # same answer page, no email, nothing revealed


def test_navigation_depends_on_role(cast: Cast, client: Any) -> None:
    client.force_login(cast.viewer_a)
    html = client.get("/").content.decode()
    assert "Brand viewer" in html
    assert 'href="/system/"' not in html
    assert 'href="/admin/"' not in html
    client.force_login(cast.admin)
    html = client.get("/").content.decode()
    assert 'href="/system/"' in html
    assert 'href="/admin/"' in html
    assert "Platform admin" in html
    client.force_login(cast.moderator)
    html = client.get("/").content.decode()
    assert "Moderator" in html
    assert 'href="/system/"' not in html


def test_staff_dashboard_lists_all_brands(cast: Cast, client: Any) -> None:
    client.force_login(cast.moderator)
    html = client.get("/").content.decode()
    assert "Aurora Leather" in html
    assert "Nordpeak Outdoor" in html


def test_api_token_is_shown_once_then_masked_and_can_be_revoked(cast: Cast, client: Any) -> None:
    client.force_login(cast.viewer_a)
    response = client.post("/accounts/token/rotate/", follow=True)
    key = Token.objects.get(user=cast.viewer_a).key
    assert key in response.content.decode()
    html = client.get("/accounts/profile/").content.decode()
    assert key not in html
    assert key[:6] in html
    client.post("/accounts/token/rotate/")
    assert Token.objects.get(user=cast.viewer_a).key != key
    client.post("/accounts/token/revoke/")
    assert not Token.objects.filter(user=cast.viewer_a).exists()


def test_token_endpoints_reject_get(cast: Cast, client: Any) -> None:
    client.force_login(cast.viewer_a)
    assert client.get("/accounts/token/rotate/").status_code == 405


def test_system_status_reports_configuration_and_queues(cast: Cast, client: Any) -> None:
    heartbeat_record(queue="ingest", hostname="worker-1")
    client.force_login(cast.admin)
    html = client.get("/system/").content.decode()
    for queue in ("ingest", "match", "notify", "maintenance"):
        assert f"<code>{queue}</code>" in html
    if settings.CELERY_TASK_ALWAYS_EAGER:
        assert "in-process" in html  # the embedded default has no broker
    else:
        assert "Celery workers via broker" in html


def test_heartbeat_counts_beats(db: None) -> None:
    heartbeat_record(queue="match", hostname="w")
    heartbeat_record(queue="match", hostname="w")
    assert WorkerHeartbeat.objects.get(queue="match", hostname="w").beats == 2


def test_healthz_is_a_liveness_probe(client: Any, db: None) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_static_assets_are_served_locally(client: Any) -> None:
    response = client.get("/accounts/login/")
    html = response.content.decode()
    assert "cdn" not in html.lower()
    assert "/static/vendor/htmx-2.0.11.min.js" in html
    assert "/static/vendor/bootstrap-5.3.9.min.css" in html
