"""Takedowns on the real path: a Celery worker process (Redis, PostgreSQL) emails the seller its
statement of reasons and runs the periodic deadlines sweep that reinstates a listing.

Needs DATABASE_URL=postgres://... and REDIS_URL; skipped otherwise (fails instead when
IPPC_REQUIRE_SERVICES=1, as in CI).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from listings.models import Listing
from takedowns.models import ComplaintItem, Notification
from takedowns.services.moderation import item_decide
from takedowns.tasks import deadlines_run
from tests.conftest import Cast, WorkerProcess, wait_for
from tests.factories import IPRightFactory, ListingFactory, SellerFactory
from tests.takedowns.factories import REASON, file_notice, item_in_state, seller_login

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _all_mail_sent(worker: WorkerProcess, before: int) -> None:
    """Wait until the worker has sent every notification email queued so far, so it is idle when the
    test's tables are flushed (a worker still writing then can deadlock with the flush)."""
    queued = Notification.objects.exclude(user__email="").count()
    wait_for(lambda: len(worker.sent_mails()) - before >= queued, timeout=60)


def test_the_worker_emails_the_seller_its_statement_of_reasons(
    cast: Cast, celery_worker_process: WorkerProcess
) -> None:
    before = len(celery_worker_process.sent_mails())
    right = IPRightFactory(brand=cast.brand_a, verified=True, registration_number="018999111")
    seller = SellerFactory()
    seller_user = seller_login(cast, seller, username="worker-shop")
    item = file_notice(cast, [ListingFactory(seller=seller)], right).complaint.items.get()
    item_decide(actor=cast.moderator, item=item, action="approve", reason=REASON)

    def seller_mail() -> str | None:
        mails = [m for m in celery_worker_process.sent_mails() if seller_user.email in m and "018999111" in m]
        return mails[0] if mails else None

    mail = wait_for(seller_mail, timeout=60)
    assert "How to contest" in mail
    assert f"/takedowns/seller/items/{item.pk}/" in mail
    _all_mail_sent(celery_worker_process, before)


def test_the_worker_runs_the_deadlines_sweep(cast: Cast, celery_worker_process: WorkerProcess) -> None:
    before = len(celery_worker_process.sent_mails())
    item = item_in_state(cast, "counter_noticed")
    ComplaintItem.objects.filter(pk=item.pk).update(respond_until=timezone.now() - dt.timedelta(minutes=1))
    deadlines_run.delay()
    wait_for(lambda: ComplaintItem.objects.get(pk=item.pk).state == "reinstated", timeout=60)
    assert Listing.objects.get(pk=item.listing_id).status == Listing.Status.REINSTATED
    decision = ComplaintItem.objects.get(pk=item.pk).decisions.get(outcome="reinstate")
    assert decision.automated
    assert decision.decided_by is None
    _all_mail_sent(celery_worker_process, before)
