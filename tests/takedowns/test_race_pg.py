"""Races on PostgreSQL with real connections: two moderators deciding or claiming the same item, two
filers naming the same listing and right at the same moment. Exactly one wins each time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from core.models import AuditEvent
from core.statemachine import IllegalTransition
from listings.models import Listing
from takedowns.models import Complaint, ComplaintItem, Decision
from takedowns.services.moderation import item_claim, item_decide
from tests.factories import IPRightFactory, ListingFactory, make_moderator
from tests.takedowns.factories import REASON, file_notice, item_in_state

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 8


@pytest.fixture(autouse=True)
def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (SQLite serializes writers itself): set DATABASE_URL=postgres://...")


def _race(*calls: Callable[[], Any]) -> list[tuple[str, Any]]:
    """Run `calls` at the same moment, each in its own thread with its own connection.

    Returns ("ok", result) or ("error", exception) per call, in the order given.
    """
    barrier = threading.Barrier(len(calls))
    outcomes: list[tuple[str, Any]] = [("missing", None)] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        from django.db import connection as own_connection

        try:
            barrier.wait(timeout=10)
            outcomes[index] = ("ok", call())
        except BaseException as exc:  # recorded, asserted by the test
            outcomes[index] = ("error", exc)
        finally:
            own_connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def _one_winner(outcomes: list[tuple[str, Any]], error: type[Exception]) -> int:
    winners = [i for i, (kind, _) in enumerate(outcomes) if kind == "ok"]
    losers = [value for kind, value in outcomes if kind == "error"]
    assert len(winners) == 1, outcomes
    assert len(losers) == len(outcomes) - 1, outcomes
    for exc in losers:
        assert isinstance(exc, error), repr(exc)
    return winners[0]


def test_two_moderators_deciding_the_same_item_one_wins(cast) -> None:
    second_moderator = make_moderator("moderator2")
    right = IPRightFactory(brand=cast.brand_a, verified=True)
    winners = set()
    for _ in range(ROUNDS):
        item = item_in_state(cast, "in_review", right=right)
        ComplaintItem.objects.filter(pk=item.pk).update(claimed_by=None, claimed_at=None)  # nobody holds it
        outcomes = _race(
            lambda item=item: item_decide(actor=cast.moderator, item=item, action="approve", reason=REASON),
            lambda item=item: item_decide(
                actor=second_moderator, item=item, action="reject", reason="Genuine goods, resold."
            ),
        )
        winner = _one_winner(outcomes, IllegalTransition)
        winners.add(winner)
        expected = ("approved", "approve", "removed", cast.moderator) if winner == 0 else (
            "rejected", "reject", "active", second_moderator,
        )  # fmt: skip
        state, outcome, listing_status, moderator = expected
        item.refresh_from_db()
        assert item.state == state
        assert item.decided_by == moderator
        decisions = list(Decision.objects.filter(item=item))
        assert [(d.outcome, d.decided_by) for d in decisions] == [(outcome, moderator)]
        events = AuditEvent.objects.filter(
            object_type="takedowns.complaintitem",
            object_id=str(item.pk),
            action__in=["complaintitem.approve", "complaintitem.reject"],
        )
        assert [(e.action, e.actor) for e in events] == [(f"complaintitem.{outcome}", moderator)]
        assert Listing.objects.get(pk=item.listing_id).status == listing_status
        strikes = 1 if outcome == "approve" else 0
        assert item.seller.strikes.count() == strikes
    # Either moderator can win; the test does not depend on which.
    assert winners <= {0, 1}


def test_two_moderators_claiming_the_same_item_one_wins(cast) -> None:
    second_moderator = make_moderator("moderator2")
    right = IPRightFactory(brand=cast.brand_a, verified=True)
    moderators = (cast.moderator, second_moderator)
    for _ in range(ROUNDS):
        item = item_in_state(cast, "submitted", right=right)
        outcomes = _race(*[lambda m=m, item=item: item_claim(actor=m, item=item) for m in moderators])
        winner = _one_winner(outcomes, IllegalTransition)
        item.refresh_from_db()
        assert item.state == "in_review"
        assert item.claimed_by == moderators[winner]
        loser = outcomes[1 - winner][1]
        assert moderators[winner].username in str(loser) or "changed by someone else" in str(loser)
        events = AuditEvent.objects.filter(object_type="takedowns.complaintitem", object_id=str(item.pk))
        assert [e.actor for e in events.filter(action="complaintitem.start_review")] == [moderators[winner]]
        assert [e.actor for e in events.filter(action="complaintitem.claim")] == [moderators[winner]]


def test_two_notices_for_the_same_listing_and_right_at_once_file_one(cast) -> None:
    right = IPRightFactory(brand=cast.brand_a, verified=True)
    for _ in range(ROUNDS):
        listing = ListingFactory()
        before = Complaint.objects.count()
        outcomes = _race(
            lambda listing=listing: file_notice(cast, [listing], right),
            lambda listing=listing: file_notice(cast, [listing], right),
        )
        winner = _one_winner(outcomes, ValidationError)
        loser = outcomes[1 - winner][1]
        assert "items" in loser.message_dict, loser
        message = " ".join(loser.message_dict["items"])
        assert "Another notice for one of these listings and rights was filed just now" in message or (
            "is still open" in message
        )
        assert Complaint.objects.count() == before + 1
        item = ComplaintItem.objects.get(listing=listing, right=right)
        assert item.complaint == outcomes[winner][1].complaint
        assert item.state == "submitted"
        filed = AuditEvent.objects.filter(action="complaint.filed", object_id=str(item.complaint_id))
        assert filed.count() == 1
