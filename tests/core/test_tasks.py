"""Task plumbing: queued on commit only, retries for transient errors only, quiet on gone rows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from brands import services
from brands.models import Membership
from brands.tasks import membership_send_invitation
from core.tasks import TRANSIENT_ERRORS
from ippc.celery import app as celery_app
from tests.conftest import Cast, invite_in_a_failed_request

pytestmark = pytest.mark.django_db


class FlakyBackend(EmailBackend):
    """An SMTP stand-in that refuses connections a set number of times, then delivers."""

    failures_left: ClassVar[int] = 0
    error: ClassVar[type[Exception]] = ConnectionRefusedError
    attempts: ClassVar[int] = 0

    def send_messages(self, messages):
        type(self).attempts += 1
        if type(self).failures_left > 0:
            type(self).failures_left -= 1
            raise type(self).error("smtp unavailable")
        return super().send_messages(messages)


@pytest.fixture
def flaky_mail(settings) -> Iterator[type[FlakyBackend]]:
    settings.EMAIL_BACKEND = "tests.core.test_tasks.FlakyBackend"
    FlakyBackend.failures_left, FlakyBackend.attempts, FlakyBackend.error = 0, 0, ConnectionRefusedError
    # Let in-process retries run their course (as a worker would) instead of raising the first error.
    previous = celery_app.conf.task_eager_propagates
    celery_app.conf.task_eager_propagates = False
    yield FlakyBackend
    celery_app.conf.task_eager_propagates = previous


def test_transient_errors_are_named_not_everything() -> None:
    assert Exception not in TRANSIENT_ERRORS
    assert ValueError not in TRANSIENT_ERRORS
    assert membership_send_invitation.max_retries == 5


def test_transient_failure_is_retried_then_succeeds(cast: Cast, flaky_mail: type[FlakyBackend]) -> None:
    membership = services.membership_invite(
        actor=cast.manager_a, brand=cast.brand_a, email="r@example.test", role="viewer"
    )
    flaky_mail.failures_left = 2
    membership_send_invitation.apply(args=[membership.pk], throw=False)
    assert flaky_mail.attempts == 3
    assert len(mail.outbox) == 1
    membership.refresh_from_db()
    assert membership.invitation_sent_at is not None


def test_permanent_failure_is_not_retried(cast: Cast, flaky_mail: type[FlakyBackend]) -> None:
    membership = services.membership_invite(
        actor=cast.manager_a, brand=cast.brand_a, email="p@example.test", role="viewer"
    )
    flaky_mail.failures_left, flaky_mail.error = 10, ValueError
    result = membership_send_invitation.apply(args=[membership.pk], throw=False)
    assert result.failed()
    assert flaky_mail.attempts == 1
    membership.refresh_from_db()
    assert membership.invitation_sent_at is None


def test_retries_are_capped(cast: Cast, flaky_mail: type[FlakyBackend]) -> None:
    membership = services.membership_invite(
        actor=cast.manager_a, brand=cast.brand_a, email="c@example.test", role="viewer"
    )
    flaky_mail.failures_left = 100
    result = membership_send_invitation.apply(args=[membership.pk], throw=False)
    assert result.failed()
    assert flaky_mail.attempts == 1 + membership_send_invitation.max_retries


def test_task_for_a_deleted_row_exits_quietly(cast: Cast) -> None:
    membership_send_invitation.apply(args=[987654], throw=True)
    assert mail.outbox == []


def test_redelivered_task_sends_once(cast: Cast, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        membership = services.membership_invite(
            actor=cast.manager_a, brand=cast.brand_a, email="once@example.test", role="viewer"
        )
    membership_send_invitation.apply(args=[membership.pk], throw=True)
    assert len(mail.outbox) == 1


def test_nothing_is_queued_when_the_transaction_rolls_back(cast: Cast, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        invite_in_a_failed_request(cast, "gone@example.test")
    assert callbacks == []
    assert mail.outbox == []
    assert not Membership.objects.filter(user__email="gone@example.test").exists()
