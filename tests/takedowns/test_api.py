"""The takedown REST API: filing notices, the full lifecycle with a seller's token, bulk decisions,
refused moves, evidence, the audit trail, standing, notifications and webhooks."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from rest_framework.test import APIClient

from core.models import AuditEvent
from listings.models import Listing
from takedowns.models import Attachment, Complaint, ComplaintItem, Notification, WebhookDelivery, WebhookEndpoint
from tests.conftest import Cast
from tests.factories import DetectionFactory, IPRightFactory, ListingFactory, SellerFactory, pdf_file
from tests.takedowns.factories import COUNTER, FILER_NAME, WHY, file_notice, item_in_state, seller_login

pytestmark = pytest.mark.django_db

SIGNATURE = {
    "filer_name": FILER_NAME,
    "filer_email": "ada@aurora.example",
    "filer_address": "1 Rue de la Paix, Paris",
    "good_faith": True,
    "accurate_under_penalty": True,
    "signature_name": FILER_NAME,
}


def as_user(api: APIClient, user: Any) -> APIClient:
    api.force_authenticate(user)
    return api


def notice(cast: Cast, right: Any, listings: list[Any], **overrides: Any) -> dict[str, Any]:
    items = [
        {"listing": ref, "right": right.pk, "infringement_type": "counterfeit", "explanation": WHY}
        for ref in (listing if isinstance(listing, str) else listing.pk for listing in listings)
    ]
    return {"brand": cast.brand_a.pk, "items": items, **SIGNATURE, **overrides}


@pytest.fixture
def right(cast: Cast) -> Any:
    return IPRightFactory(brand=cast.brand_a, verified=True)


# --- Filing -------------------------------------------------------------------------------------


def test_filing_a_notice_answers_201_with_the_snapshot_and_confirms_receipt(
    cast: Cast, api: APIClient, right: Any, django_capture_on_commit_callbacks: Any
) -> None:
    by_id, by_url, by_key = ListingFactory(), ListingFactory(), ListingFactory(marketplace="shopmart")
    listings = [by_id, by_url.url, f"{by_key.marketplace}:{by_key.external_id}"]

    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(api, cast.manager_a).post("/api/v1/complaints/", notice(cast, right, listings))

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reference"].startswith("N")
    assert body["source"] == "api"
    assert (body["signature_name"], body["good_faith"], body["accurate_under_penalty"]) == (FILER_NAME, True, True)
    assert body["item_count"] == 3
    assert {item["listing"] for item in body["items"]} == {by_id.pk, by_url.pk, by_key.pk}
    item = next(i for i in body["items"] if i["listing"] == by_id.pk)
    assert item["state"] == "submitted"
    assert item["snapshot"]["title"] == by_id.title
    assert len(item["snapshot_hash"]) == 64
    assert item["due_at"]
    receipt = Notification.objects.get(user=cast.manager_a, event="complaint.received")
    assert body["reference"] in receipt.title
    assert any(body["reference"] in m.subject for m in mail.outbox)


def test_missing_elements_are_all_named_and_nothing_is_filed(cast: Cast, api: APIClient, right: Any) -> None:
    payload = {
        "brand": cast.brand_a.pk,
        "items": [{"listing": ListingFactory().pk, "right": right.pk, "infringement_type": "patent"}],
    }

    response = as_user(api, cast.manager_a).post("/api/v1/complaints/", payload)

    assert response.status_code == 400
    errors = response.json()
    assert {"filer_name", "filer_email", "good_faith", "accurate_under_penalty", "signature_name", "items"} <= set(
        errors
    )
    items = " ".join(errors["items"])
    assert "Item 1, infringement type" in items
    assert "Item 1, explanation" in items
    assert not Complaint.objects.exists()
    assert not ComplaintItem.objects.exists()


def test_unknown_listing_and_foreign_right_are_refused(cast: Cast, api: APIClient) -> None:
    other_brands_right = IPRightFactory(brand=cast.brand_b, verified=True)
    payload = notice(cast, other_brands_right, ["shopmart:no-such-listing"])

    response = as_user(api, cast.manager_a).post("/api/v1/complaints/", payload)

    assert response.status_code == 400
    items = " ".join(response.json()["items"])
    assert "No listing matches 'shopmart:no-such-listing'" in items
    assert "Choose one of the brand's IP rights" in items


def test_a_duplicate_of_an_open_notice_is_refused_naming_it(cast: Cast, api: APIClient, right: Any) -> None:
    listing = ListingFactory()
    first = as_user(api, cast.manager_a).post("/api/v1/complaints/", notice(cast, right, [listing])).json()

    response = api.post("/api/v1/complaints/", notice(cast, right, [listing]))

    assert response.status_code == 400
    assert f"Notice {first['reference']}" in " ".join(response.json()["items"])
    assert Complaint.objects.count() == 1


@pytest.mark.parametrize("where", ["header", "body"])
def test_a_retried_post_with_the_same_idempotency_key_returns_the_same_notice(
    cast: Cast, api: APIClient, right: Any, where: str
) -> None:
    payload = notice(cast, right, [ListingFactory()])
    headers = {}
    if where == "header":
        headers = {"Idempotency-Key": "client-retry-7f3a"}
    else:
        payload["idempotency_key"] = "client-retry-7f3a"
    as_user(api, cast.manager_a)

    first = api.post("/api/v1/complaints/", payload, headers=headers)
    again = api.post("/api/v1/complaints/", payload, headers=headers)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["reference"] == first.json()["reference"]
    assert Complaint.objects.count() == 1
    assert ComplaintItem.objects.count() == 1


def test_a_draft_is_saved_unsigned_then_signed_and_submitted(cast: Cast, api: APIClient, right: Any) -> None:
    payload = {"brand": cast.brand_a.pk, "items": notice(cast, right, [ListingFactory()])["items"], "submit": False}
    as_user(api, cast.manager_a)

    draft = api.post("/api/v1/complaints/", {**payload, "filer_name": FILER_NAME, "filer_email": "ada@aurora.example"})
    assert draft.status_code == 201, draft.content
    assert draft.json()["items"][0]["state"] == "draft"
    assert draft.json()["signed_at"] is None

    unsigned = api.post(f"/api/v1/complaints/{draft.json()['id']}/submit/", {"filer_name": FILER_NAME})
    assert unsigned.status_code == 400
    assert {"good_faith", "accurate_under_penalty", "signature_name", "filer_email"} <= set(unsigned.json())

    submitted = api.post(f"/api/v1/complaints/{draft.json()['id']}/submit/", SIGNATURE)
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["items"][0]["state"] == "submitted"
    assert submitted.json()["signed_at"]

    again = api.post(f"/api/v1/complaints/{draft.json()['id']}/submit/", SIGNATURE)
    assert again.status_code == 400
    assert "no draft listings left" in str(again.json())


def test_filing_from_a_detection_needs_no_listing(cast: Cast, api: APIClient, right: Any) -> None:
    detection = DetectionFactory(brand=cast.brand_a, score=0.8)
    payload = notice(cast, right, [])
    payload["items"] = [
        {"detection": detection.pk, "right": right.pk, "infringement_type": "counterfeit", "explanation": WHY}
    ]
    payload["source"] = "detections"

    response = as_user(api, cast.manager_a).post("/api/v1/complaints/", payload)

    assert response.status_code == 201, response.content
    assert response.json()["items"][0]["listing"] == detection.listing_id
    assert response.json()["items"][0]["detection"] == detection.pk


# --- The lifecycle ------------------------------------------------------------------------------


def test_full_lifecycle_file_claim_approve_counter_notice_legal_action_uphold(
    cast: Cast, right: Any, django_capture_on_commit_callbacks: Any
) -> None:
    seller = SellerFactory(name="Shop One")
    listing = ListingFactory(seller=seller)
    manager, moderator, shop = APIClient(), APIClient(), APIClient()
    manager.force_authenticate(cast.manager_a)
    moderator.force_authenticate(cast.moderator)
    admin = APIClient()
    admin.force_authenticate(cast.admin)

    issued = admin.post(f"/api/v1/sellers/{seller.pk}/accounts/", {"username": "shop-one", "email": "s@shop.example"})
    assert issued.status_code == 201, issued.content
    shop.credentials(HTTP_AUTHORIZATION=f"Token {issued.json()['token']}")  # the seller uses its API token

    with django_capture_on_commit_callbacks(execute=True):
        filed = manager.post("/api/v1/complaints/", notice(cast, right, [listing]))
    assert filed.status_code == 201
    item_id = filed.json()["items"][0]["id"]
    assert shop.get("/api/v1/seller/notices/").json()["count"] == 1  # submitted notices are shown to the seller

    queue = moderator.get("/api/v1/moderation/queue/", {"claimed": "unclaimed"}).json()
    assert [row["id"] for row in queue["results"]] == [item_id]
    claimed = moderator.post(f"/api/v1/moderation/items/{item_id}/claim/")
    assert claimed.status_code == 200
    assert (claimed.json()["state"], claimed.json()["claimed_by"]) == ("in_review", cast.moderator.username)
    assert moderator.get("/api/v1/moderation/queue/", {"claimed": "me"}).json()["count"] == 1

    with django_capture_on_commit_callbacks(execute=True):
        approved = moderator.post(
            f"/api/v1/moderation/items/{item_id}/decide/", {"action": "approve", "template": "counterfeit_confirmed"}
        )
    assert approved.status_code == 200, approved.content
    assert approved.json()["state"] == "approved"
    listing.refresh_from_db()
    assert listing.status == Listing.Status.REMOVED

    seen = shop.get(f"/api/v1/seller/notices/{item_id}/")
    assert seen.status_code == 200
    statement = seen.json()["statement_of_reasons"]
    assert statement["measure"].startswith("The listing was removed")
    assert statement["automated_decision"] is False
    assert statement["ground"]["right"]["id"] == right.pk
    assert seen.json()["can_contest"] is True
    assert seen.json()["contest_until"]
    assert seen.json()["decisions"][0]["decided_by"] == "Platform staff"
    assert any("was removed" in n["title"] for n in shop.get("/api/v1/notifications/").json()["results"])

    with django_capture_on_commit_callbacks(execute=True):
        countered = shop.post(f"/api/v1/seller/notices/{item_id}/counter-notice/", COUNTER)
    assert countered.status_code == 201, countered.content
    assert countered.json()["state"] == "counter_noticed"
    assert countered.json()["counter_notice"]["kind"] == "counter_notice"
    assert countered.json()["respond_until"]
    assert Notification.objects.filter(user=cast.manager_a, event="item.counter_noticed").exists()

    complainant_view = manager.get(f"/api/v1/items/{item_id}/").json()
    assert complainant_view["counter_notice"]["contact_email"] == COUNTER["contact_email"]
    legal = manager.post(
        f"/api/v1/items/{item_id}/legal-action/",
        {"details": "Action filed at the Tribunal judiciaire de Paris, case 24/01234."},
    )
    assert legal.status_code == 200, legal.content
    assert legal.json()["legal_action_at"]

    with django_capture_on_commit_callbacks(execute=True):
        upheld = moderator.post(
            f"/api/v1/moderation/items/{item_id}/decide/", {"action": "uphold", "reason": "Legal action is pending."}
        )
    assert upheld.status_code == 200, upheld.content
    assert upheld.json()["state"] == "upheld"
    final = shop.get(f"/api/v1/seller/notices/{item_id}/").json()
    assert final["statement_of_reasons"]["decision"] == "Takedown upheld"

    trail = manager.get(f"/api/v1/complaints/{filed.json()['id']}/audit/")
    assert trail.status_code == 200
    actions = [entry["action"] for entry in trail.json()]
    for expected in (
        "complaint.filed", "complaintitem.submit", "complaintitem.start_review", "complaintitem.approve",
        "complaintitem.counter_notice", "complaintitem.legal_action", "complaintitem.uphold",
    ):  # fmt: skip
        assert expected in actions
    assert all(len(entry["entry_hash"]) == 64 for entry in trail.json())


# --- Moderation ---------------------------------------------------------------------------------


def test_bulk_decide_reports_the_refused_item_and_decides_the_rest(cast: Cast, api: APIClient, right: Any) -> None:
    items = list(file_notice(cast, [ListingFactory() for _ in range(3)], right).complaint.items.order_by("pk"))
    withdrawn = items[1]
    as_user(api, cast.manager_a).post(f"/api/v1/items/{withdrawn.pk}/withdraw/", {"reason": "Settled."})
    ids = [item.pk for item in items]

    response = as_user(api, cast.moderator).post(
        "/api/v1/moderation/items/bulk-decide/", {"ids": ids, "action": "reject", "template": "genuine_resale"}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["decided"] == [items[0].pk, items[2].pk]
    assert list(body["refused"]) == [str(withdrawn.pk)]
    assert "withdrawn" in body["refused"][str(withdrawn.pk)]
    states = dict(ComplaintItem.objects.values_list("pk", "state"))
    assert (states[items[0].pk], states[withdrawn.pk], states[items[2].pk]) == ("rejected", "withdrawn", "rejected")


def test_bulk_decide_refuses_more_than_500_and_a_template_for_another_action(cast: Cast, api: APIClient) -> None:
    as_user(api, cast.moderator)
    too_many = api.post("/api/v1/moderation/items/bulk-decide/", {"ids": list(range(1, 502)), "action": "reject"})
    wrong = api.post(
        "/api/v1/moderation/items/bulk-decide/", {"ids": [1], "action": "reject", "template": "counterfeit_confirmed"}
    )
    assert too_many.status_code == 400
    assert "ids" in too_many.json()
    assert wrong.status_code == 400
    assert "template" in wrong.json()


def test_an_illegal_transition_is_refused_and_changes_nothing(cast: Cast, api: APIClient, right: Any) -> None:
    item = item_in_state(cast, "rejected", right=right)
    events = AuditEvent.objects.count()

    response = as_user(api, cast.moderator).post(
        f"/api/v1/moderation/items/{item.pk}/decide/", {"action": "approve", "reason": "Changed my mind."}
    )

    # The project's exception handler answers every refused move with 400 (as the rights workflow).
    assert response.status_code == 400
    assert "Cannot approve a complaint item that is rejected." in str(response.json())
    item.refresh_from_db()
    assert item.state == "rejected"
    assert not item.decisions.filter(outcome="approve").exists()
    assert AuditEvent.objects.count() == events


def test_a_claimed_item_is_not_decided_by_another_moderator(cast: Cast, api: APIClient, right: Any) -> None:
    from tests.factories import make_moderator

    item = item_in_state(cast, "in_review", right=right)  # claimed by cast.moderator
    second = make_moderator("moderator2")

    response = as_user(api, second).post(
        f"/api/v1/moderation/items/{item.pk}/decide/", {"action": "reject", "template": "genuine_resale"}
    )

    assert response.status_code == 409  # a conflict with another moderator: reload, do not fix the input
    assert response.json()["code"] == "claimed"
    assert "Another moderator has claimed this item" in response.json()["detail"]
    item.refresh_from_db()
    assert (item.state, item.claimed_by_id) == ("in_review", cast.moderator.pk)


def test_the_queue_is_staff_only_ordered_by_priority_and_filtered(cast: Cast, api: APIClient, right: Any) -> None:
    normal = file_notice(cast, [ListingFactory()], right).complaint.items.get()
    fast = file_notice(cast, [ListingFactory()], right).complaint.items.get()
    ComplaintItem.objects.filter(pk=fast.pk).update(fast_track=True)
    as_user(api, cast.moderator)

    assert [r["id"] for r in api.get("/api/v1/moderation/queue/").json()["results"]] == [fast.pk, normal.pk]
    api.post(f"/api/v1/moderation/items/{normal.pk}/claim/")
    assert [r["id"] for r in api.get("/api/v1/moderation/queue/?claimed=me").json()["results"]] == [normal.pk]
    assert [r["id"] for r in api.get("/api/v1/moderation/queue/?state=in_review").json()["results"]] == [normal.pk]
    assert api.get(f"/api/v1/moderation/queue/?brand={cast.brand_b.pk}").json()["count"] == 0
    assert api.get("/api/v1/moderation/queue/?claimed=someone").status_code == 400


def test_stats_show_decision_times_and_transparency(cast: Cast, api: APIClient, right: Any) -> None:
    item_in_state(cast, "approved", right=right)

    body = as_user(api, cast.moderator).get("/api/v1/moderation/stats/", {"days": 7}).json()

    assert body["days"] == 7
    assert body["decision_times"]["count"] == 1
    assert body["decision_times"]["median_hours"] is not None
    assert body["transparency"]["by_state"] == {"approved": 1}


def test_a_suspension_is_appealed_by_its_seller_and_lifted_by_a_moderator(
    cast: Cast, api: APIClient, right: Any
) -> None:
    seller = SellerFactory()
    seller_user = seller_login(cast, seller)
    for _ in range(3):  # three strikes
        item_in_state(cast, "approved", listing=ListingFactory(seller=seller), right=right)
    shop = APIClient()
    shop.force_authenticate(seller_user)
    suspension = shop.get("/api/v1/seller/suspensions/").json()["results"][0]
    assert suspension["state"] == "active"
    assert suspension["can_appeal"] is True

    appeal = shop.post(
        f"/api/v1/seller/suspensions/{suspension['id']}/appeal/",
        {"text": "The goods were genuine, bought from the brand's distributor.", "signature_name": "Sean Murphy"},
    )
    assert appeal.status_code == 200, appeal.content
    assert appeal.json()["state"] == "appealed"
    second = shop.post(
        f"/api/v1/seller/suspensions/{suspension['id']}/appeal/",
        {"text": "Trying a second appeal on the same suspension.", "signature_name": "Sean Murphy"},
    )
    assert second.status_code == 400

    queue = as_user(api, cast.moderator).get("/api/v1/moderation/suspensions/", {"state": "appealed"}).json()
    assert [s["id"] for s in queue["results"]] == [suspension["id"]]
    lifted = api.post(
        f"/api/v1/moderation/suspensions/{suspension['id']}/decide/",
        {"action": "lift", "reason": "Invoices check out."},
    )
    assert lifted.status_code == 200, lifted.content
    assert lifted.json()["state"] == "lifted"


# --- Sellers ------------------------------------------------------------------------------------


def test_a_seller_sees_only_its_own_notices_and_never_drafts(cast: Cast, api: APIClient, right: Any) -> None:
    shop_one, shop_two = SellerFactory(), SellerFactory()
    own = file_notice(cast, [ListingFactory(seller=shop_one)], right).complaint.items.get()
    file_notice(cast, [ListingFactory(seller=shop_one)], right, submit=False)  # a draft: not a notice yet
    file_notice(cast, [ListingFactory(seller=shop_two)], right)

    body = as_user(api, seller_login(cast, shop_one)).get("/api/v1/seller/notices/").json()

    assert [row["id"] for row in body["results"]] == [own.pk]
    assert body["results"][0]["statement_of_reasons"] is None  # not decided yet
    assert api.get("/api/v1/complaints/").json()["count"] == 0  # a seller is no complainant


def test_a_counter_notice_missing_its_elements_names_them(cast: Cast, api: APIClient, right: Any) -> None:
    seller = SellerFactory()
    item = item_in_state(cast, "approved", listing=ListingFactory(seller=seller), right=right)

    response = as_user(api, seller_login(cast, seller)).post(
        f"/api/v1/seller/notices/{item.pk}/counter-notice/", {"kind": "counter_notice", "statement": "Mistake."}
    )

    assert response.status_code == 400
    assert {"statement", "good_faith_mistake", "consent_jurisdiction", "contact_address", "signature_name"} <= set(
        response.json()
    )
    item.refresh_from_db()
    assert item.state == "approved"


def test_an_issued_seller_token_is_returned_once_and_works(cast: Cast, right: Any) -> None:
    seller = SellerFactory()
    file_notice(cast, [ListingFactory(seller=seller)], right)
    admin = APIClient()
    admin.force_authenticate(cast.admin)

    issued = admin.post(f"/api/v1/sellers/{seller.pk}/accounts/", {"username": "shop-x"})
    taken = admin.post(f"/api/v1/sellers/{seller.pk}/accounts/", {"username": "shop-x"})
    missing = admin.post("/api/v1/sellers/999999/accounts/", {"username": "shop-y"})

    assert issued.status_code == 201
    assert (taken.status_code, missing.status_code) == (400, 404)
    shop = APIClient()
    shop.credentials(HTTP_AUTHORIZATION=f"Token {issued.json()['token']}")
    assert shop.get("/api/v1/seller/notices/").json()["count"] == 1


# --- Evidence and the audit trail ---------------------------------------------------------------


def test_attachments_are_checked_by_content_and_listed_on_the_notice(cast: Cast, api: APIClient, right: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    complaint = file_notice(cast, [ListingFactory()], right).complaint
    url = f"/api/v1/complaints/{complaint.pk}/attachments/"
    as_user(api, cast.manager_a)

    added = api.post(
        url, {"file": pdf_file("purchase.pdf", "Test purchase"), "description": "Receipt"}, format="multipart"
    )
    again = api.post(url, {"file": pdf_file("copy.pdf", "Test purchase")}, format="multipart")
    fake = SimpleUploadedFile("evil.pdf", b"#!/bin/sh\necho not a pdf\n", content_type="application/pdf")
    refused = api.post(url, {"file": fake}, format="multipart")

    assert added.status_code == 201, added.content
    assert added.json()["content_type"] == "application/pdf"
    assert (again.status_code, refused.status_code) == (400, 400)
    assert "already attached" in str(again.json())
    assert Attachment.objects.filter(complaint=complaint).count() == 1
    detail = api.get(f"/api/v1/complaints/{complaint.pk}/").json()
    assert [a["original_name"] for a in detail["attachments"]] == ["purchase.pdf"]
    download = as_user(api, cast.moderator).get(detail["attachments"][0]["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content).startswith(b"%PDF-")
    other = Attachment.objects.get().pk + 1000
    assert api.get(f"/api/v1/complaints/{complaint.pk}/attachments/{other}/download/").status_code == 404


def test_the_audit_trail_covers_the_notice_and_its_items_only(cast: Cast, api: APIClient, right: Any) -> None:
    item = item_in_state(cast, "rejected", right=right)
    item_in_state(cast, "approved", right=right)  # another notice: not in this trail

    trail = as_user(api, cast.viewer_a).get(f"/api/v1/complaints/{item.complaint_id}/audit/").json()

    assert {(e["object_type"], e["object_id"]) for e in trail} == {
        ("takedowns.complaint", str(item.complaint_id)),
        ("takedowns.complaintitem", str(item.pk)),
    }
    reject = next(e for e in trail if e["action"] == "complaintitem.reject")
    assert (reject["from_state"], reject["to_state"]) == ("in_review", "rejected")
    assert [e["id"] for e in trail] == sorted(e["id"] for e in trail)


# --- Complainant items, standing, notifications, webhooks ---------------------------------------


def test_the_complainant_answers_a_question_and_the_item_returns_to_the_queue(
    cast: Cast, api: APIClient, right: Any
) -> None:
    item = item_in_state(cast, "needs_info", right=right)
    as_user(api, cast.manager_a)

    short = api.post(f"/api/v1/items/{item.pk}/answer/", {"answer": "Yes."})
    answered = api.post(f"/api/v1/items/{item.pk}/answer/", {"answer": "The clasp carries our registered logo."})

    assert short.status_code == 400
    assert "answer" in short.json()
    assert answered.status_code == 200
    assert (answered.json()["state"], answered.json()["question"]) == ("submitted", "Please show the copied element.")
    assert api.get("/api/v1/items/", {"state": "submitted"}).json()["count"] == 1


def test_standing_shows_accuracy_and_policy_and_auto_approval_is_the_managers_choice(
    cast: Cast, api: APIClient, right: Any
) -> None:
    item_in_state(cast, "approved", right=right)
    item_in_state(cast, "rejected", right=right)
    as_user(api, cast.manager_a)

    body = api.get("/api/v1/standing/").json()

    assert body["policy"]["strike_limit"] >= 1
    (row,) = body["results"]
    assert row["brand"] == cast.brand_a.pk
    assert row["current_accuracy"] == {"approved": 1, "decided": 2, "rate": 0.5, "enough": False}
    enabled = api.post(f"/api/v1/standing/{cast.brand_a.pk}/auto-approve/", {"enabled": True})
    assert enabled.status_code == 200
    assert enabled.json()["auto_approve"] is True
    assert api.post(f"/api/v1/standing/{cast.brand_a.pk}/auto-approve/", {}).status_code == 400


def test_notifications_are_marked_read_only_for_their_owner(cast: Cast, api: APIClient) -> None:
    mine = [Notification.objects.create(user=cast.manager_a, event="e", title=f"n{i}") for i in range(3)]
    theirs = Notification.objects.create(user=cast.manager_b, event="e", title="not mine")
    as_user(api, cast.manager_a)

    marked = api.post("/api/v1/notifications/mark-read/", {"ids": [mine[0].pk, theirs.pk]})
    assert marked.json() == {"marked": 1}
    assert api.get("/api/v1/notifications/", {"unread": "true"}).json()["count"] == 2
    assert api.post("/api/v1/notifications/mark-read/", {}).status_code == 400
    assert api.post("/api/v1/notifications/mark-read/", {"all": True}).json() == {"marked": 2}
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_a_webhook_secret_is_shown_once_and_deliveries_are_logged(
    cast: Cast, api: APIClient, right: Any, settings: Any
) -> None:
    settings.WEBHOOK_ALLOWED_NETWORKS = ("127.0.0.1/32",)  # an internal receiver (nothing listens: port 9)
    as_user(api, cast.manager_a)
    created = api.post(
        "/api/v1/webhooks/",
        {"brand": cast.brand_a.pk, "url": "http://127.0.0.1:9/ippc", "events": ["complaint.received"]},
    )
    assert created.status_code == 201, created.content
    secret = created.json()["secret"]
    assert len(secret) >= 32
    endpoint_id = created.json()["id"]
    assert "secret" not in api.get(f"/api/v1/webhooks/{endpoint_id}/").json()
    assert all("secret" not in row for row in api.get("/api/v1/webhooks/").json()["results"])
    assert WebhookEndpoint.objects.get(pk=endpoint_id).secret == secret

    bad = api.post("/api/v1/webhooks/", {"brand": cast.brand_a.pk, "url": "ftp://x", "events": ["no.such"]})
    assert bad.status_code == 400

    file_notice(cast, [ListingFactory()], right)  # emits complaint.received (delivery queued on commit)
    log = api.get("/api/v1/webhooks/deliveries/", {"endpoint": endpoint_id}).json()
    assert [row["event"] for row in log["results"]] == ["complaint.received"]
    delivery = WebhookDelivery.objects.get(pk=log["results"][0]["id"])
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", attempts=8)
    again = api.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/redeliver/")
    assert again.status_code == 200
    assert (again.json()["status"], again.json()["attempts"], again.json()["event_id"]) == (
        "pending", 0, str(delivery.event_id),
    )  # fmt: skip

    off = api.post(f"/api/v1/webhooks/{endpoint_id}/deactivate/")
    assert off.status_code == 200
    assert off.json()["is_active"] is False
    assert AuditEvent.objects.filter(action="webhook.deactivated", object_id=str(endpoint_id)).count() == 1


# --- Query counts -------------------------------------------------------------------------------


def _queries(client: APIClient, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries)


@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("manager", "/api/v1/complaints/"),
        ("manager", "/api/v1/complaints/{complaint}/"),
        ("manager", "/api/v1/items/"),
        ("moderator", "/api/v1/moderation/queue/"),
        ("seller", "/api/v1/seller/notices/"),
    ],
)
def test_reads_take_a_fixed_number_of_queries_however_many_items(
    cast: Cast, api: APIClient, right: Any, role: str, url: str
) -> None:
    from takedowns.services.moderation import item_claim, item_decide

    seller = SellerFactory()
    user = {"manager": cast.manager_a, "moderator": cast.moderator, "seller": seller_login(cast, seller)}[role]
    as_user(api, user)
    small = file_notice(cast, [ListingFactory(seller=seller)], right).complaint

    def decide(item: ComplaintItem) -> None:  # leaves a decision to read (the queue: a claim to show)
        if role == "moderator":
            item_claim(actor=cast.moderator, item=item)
        else:
            item_decide(actor=cast.moderator, item=item, action="request_info", reason="Which element is copied?")

    decide(small.items.get())
    api.get(url.format(complaint=small.pk))  # the first request caches the caller's roles on the user
    before = _queries(api, url.format(complaint=small.pk))

    detection = DetectionFactory(brand=cast.brand_a, listing=ListingFactory(seller=seller))
    listings = [ListingFactory(seller=seller), ListingFactory(seller=seller), detection.listing]
    large = file_notice(cast, listings, right).complaint
    for item in large.items.order_by("pk")[:2]:
        decide(item)

    assert _queries(api, url.format(complaint=large.pk)) == before
