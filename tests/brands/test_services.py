"""Brand and membership services: invitations, roles, the last-manager rule, the audit trail."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client

from brands import services
from brands.models import Membership
from core.models import AuditEvent
from tests.conftest import Cast
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_invite_new_person_creates_account_and_emails_a_set_password_link(
    cast: Cast, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        membership = services.membership_invite(
            actor=cast.manager_a,
            brand=cast.brand_a,
            email="New.Person@Example.test",
            role="viewer",
            full_name="New Person",
        )
    user = membership.user
    assert user.email == "new.person@example.test"
    assert user.get_full_name() == "New Person"
    assert not user.has_usable_password()
    assert membership.role == "viewer"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.person@example.test"]
    assert "Aurora Leather" in message.subject
    link = next(line for line in message.body.splitlines() if "/accounts/reset/" in line)
    membership.refresh_from_db()
    assert membership.invitation_sent_at is not None

    # The link really lets the invitee choose a password and log in.
    client = Client()
    path = urlsplit(link.strip()).path
    response = client.get(path, follow=True)
    assert response.status_code == 200
    set_url = response.redirect_chain[-1][0]
    response = client.post(set_url, {"new_password1": "a-Long-passphrase-42", "new_password2": "a-Long-passphrase-42"})
    assert response.status_code == 302
    assert Client().login(username="new.person@example.test", password="a-Long-passphrase-42")


def test_invite_existing_user_adds_membership_without_new_account(
    cast: Cast, django_capture_on_commit_callbacks
) -> None:
    users_before = get_user_model().objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        membership = services.membership_invite(
            actor=cast.admin, brand=cast.brand_a, email=cast.manager_b.email.upper(), role="manager"
        )
    assert membership.user == cast.manager_b
    assert get_user_model().objects.count() == users_before
    assert "Log in with your existing account" in mail.outbox[0].body


def test_duplicate_invite_is_refused_and_changes_nothing(cast: Cast) -> None:
    with pytest.raises(ValidationError) as excinfo:
        services.membership_invite(actor=cast.manager_a, brand=cast.brand_a, email=cast.viewer_a.email, role="manager")
    assert "already a member" in str(excinfo.value)
    assert Membership.objects.get(pk=cast.membership_viewer_a.pk).role == "viewer"


def test_invite_rejects_unknown_role(cast: Cast) -> None:
    with pytest.raises(ValidationError):
        services.membership_invite(actor=cast.manager_a, brand=cast.brand_a, email="x@example.test", role="owner")
    assert not get_user_model().objects.filter(email="x@example.test").exists()


def test_invite_is_audited(cast: Cast) -> None:
    membership = services.membership_invite(
        actor=cast.manager_a, brand=cast.brand_a, email="z@example.test", role="viewer"
    )
    event = AuditEvent.objects.get(action="membership.created", object_id=str(membership.pk))
    assert event.actor == cast.manager_a
    assert event.brand_id == cast.brand_a.pk
    assert event.to_state == "viewer"


def test_role_change_is_audited_with_from_and_to(cast: Cast) -> None:
    services.membership_change_role(actor=cast.manager_a, membership=cast.membership_viewer_a, role="manager")
    event = AuditEvent.objects.get(action="membership.role_changed")
    assert (event.from_state, event.to_state, event.actor_label) == ("viewer", "manager", "manager_a")


def test_last_manager_cannot_be_demoted_or_removed(cast: Cast) -> None:
    with pytest.raises(ValidationError, match="at least one manager"):
        services.membership_change_role(actor=cast.admin, membership=cast.membership_manager_a, role="viewer")
    with pytest.raises(ValidationError, match="at least one manager"):
        services.membership_remove(actor=cast.admin, membership=cast.membership_manager_a)
    assert Membership.objects.get(pk=cast.membership_manager_a.pk).role == "manager"


def test_a_manager_can_step_down_once_there_is_another(cast: Cast) -> None:
    services.membership_change_role(actor=cast.manager_a, membership=cast.membership_viewer_a, role="manager")
    services.membership_remove(actor=cast.manager_a, membership=cast.membership_manager_a)
    assert list(Membership.objects.filter(brand=cast.brand_a).values_list("user__username", flat=True)) == ["viewer_a"]
    assert AuditEvent.objects.filter(action="membership.removed", data__user="manager_a").exists()


def test_brand_create_rejects_duplicate_names_case_insensitively(cast: Cast) -> None:
    with pytest.raises(ValidationError):
        services.brand_create(actor=cast.admin, name="aurora leather")


def test_brand_create_makes_unique_slug(cast: Cast) -> None:
    first = services.brand_create(actor=cast.admin, name="Acme")
    UserFactory()  # unrelated noise
    second = services.brand_create(actor=cast.admin, name="ACME!")
    assert first.slug == "acme"
    assert second.slug == "acme-2"


def test_brand_update_audits_only_real_changes(cast: Cast) -> None:
    services.brand_update(actor=cast.manager_a, brand=cast.brand_a, website="https://aurora.example", country="FR")
    event = AuditEvent.objects.get(action="brand.updated")
    assert event.data == {"website": {"from": "", "to": "https://aurora.example"}}


def test_brand_update_validates(cast: Cast) -> None:
    with pytest.raises(ValidationError):
        services.brand_update(actor=cast.manager_a, brand=cast.brand_a, contact_email="not-an-email")
