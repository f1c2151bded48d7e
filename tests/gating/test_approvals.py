"""Seller approvals: every transition (legal and illegal), who decides, duplicates, documents checked by
content and never public (downloadable by the seller, the brand's members and staff only), the audit
trail and the notifications to seller and brand."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.models import AuditEvent
from core.statemachine import IllegalTransition
from gating import services
from gating.models import ApprovalDocument, SellerApproval
from takedowns.models import Notification
from tests.conftest import Cast, client_for
from tests.gating import kit

pytestmark = pytest.mark.django_db


@pytest.fixture
def gated(cast: Cast):
    return kit.gate(cast)


@pytest.fixture
def seller_user(cast: Cast):
    return kit.seller_user(cast)


def test_a_seller_applies_with_documents_and_the_brand_is_told(cast: Cast, gated, seller_user) -> None:
    approval = kit.approval(cast, seller_user)
    assert approval.state == "submitted"
    document = approval.documents.get()
    assert (document.kind, document.content_type) == ("invoice", "application/pdf")
    assert document.file.name.startswith(f"approvals/{cast.brand_a.pk}/")
    assert "invoice" not in document.file.name  # a generated name, never the user's
    assert Notification.objects.filter(user=cast.manager_a, event="approval.submitted").exists()
    assert AuditEvent.objects.filter(action="sellerapproval.submitted", brand_id=cast.brand_a.pk).exists()
    assert AuditEvent.objects.filter(action="approvaldocument.uploaded").exists()


def test_applying_for_a_brand_that_is_not_gated_is_refused(cast: Cast, seller_user) -> None:
    with pytest.raises(ValidationError, match="not a gated brand"):
        kit.approval(cast, seller_user)


def test_a_seller_applies_only_for_its_own_sellers(cast: Cast, gated, seller_user) -> None:
    kit.seller("S2")
    with pytest.raises(PermissionDenied):
        kit.approval(cast, seller_user, external_id="S2")
    with pytest.raises(PermissionDenied):
        kit.approval(cast, cast.manager_a)


def test_a_duplicate_application_is_refused_clearly(cast: Cast, gated, seller_user) -> None:
    kit.approval(cast, seller_user)
    with pytest.raises(ValidationError, match="not filed twice"):
        kit.approval(cast, seller_user, text="Another invoice")
    assert SellerApproval.objects.count() == 1


def test_an_application_needs_a_document_and_a_statement(cast: Cast, gated, seller_user) -> None:
    with pytest.raises(ValidationError, match="at least one document"):
        services.approval_submit(
            actor=seller_user, seller=kit.seller(), brand=cast.brand_a, statement="From the distributor", documents=[]
        )
    with pytest.raises(ValidationError, match="where your goods come from"):
        services.approval_submit(
            actor=seller_user, seller=kit.seller(), brand=cast.brand_a, statement=" ",
            documents=[(kit.pdf(), "invoice")],
        )  # fmt: skip


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("invoice.pdf", b"<html><script>alert(1)</script></html>", "HTML"),
        ("invoice.pdf", b"MZ\x90\x00 not a pdf at all", "not"),
        ("invoice.png", b"%PDF-1.4 truncated", ""),
    ],
)
def test_bad_uploads_are_refused_and_leave_nothing(cast: Cast, gated, seller_user, name, data, message) -> None:
    with pytest.raises(ValidationError) as refused:
        services.approval_submit(
            actor=seller_user, seller=kit.seller(), brand=cast.brand_a, statement="From the distributor",
            documents=[(SimpleUploadedFile(name, data), "invoice")],
        )  # fmt: skip
    assert message.lower() in " ".join(refused.value.messages).lower()
    assert not SellerApproval.objects.exists()
    assert not ApprovalDocument.objects.exists()


def test_the_same_document_twice_is_refused(cast: Cast, gated, seller_user) -> None:
    approval = kit.approval(cast, seller_user)
    with pytest.raises(ValidationError, match="already on this application"):
        services.approval_add_document(actor=seller_user, approval=approval, file=kit.pdf(), kind="invoice")
    services.approval_add_document(
        actor=seller_user, approval=approval, file=kit.pdf(text="Distributor agreement"), kind="distributor_agreement"
    )
    assert approval.documents.count() == 2


def test_every_legal_path_is_audited_and_notified(cast: Cast, gated, seller_user) -> None:
    approval = kit.approval(cast, seller_user)
    approval = services.approval_decide(
        actor=cast.manager_a, approval=approval, action="request_info", reason="Send the 2025 invoices"
    )
    assert approval.state == "needs_info"
    assert Notification.objects.filter(user=seller_user, event="approval.needs_info").exists()
    services.approval_add_document(actor=seller_user, approval=approval, file=kit.pdf(text="2025"), kind="invoice")
    approval = services.approval_resubmit(actor=seller_user, approval=approval, answer="Attached")
    assert approval.state == "submitted"
    assert "Attached" in approval.statement
    approval = services.approval_decide(actor=cast.moderator, approval=approval, action="approve", reason="Good")
    assert approval.state == "approved"
    assert approval.decided_by == cast.moderator
    approval = services.approval_decide(actor=cast.manager_a, approval=approval, action="revoke", reason="Fakes")
    assert approval.state == "revoked"
    events = AuditEvent.objects.filter(object_type="gating.sellerapproval").order_by("pk")
    moves = list(events.values_list("from_state", "to_state"))
    assert moves == [
        ("", "submitted"), ("submitted", "needs_info"), ("needs_info", "submitted"), ("submitted", "approved"),
        ("approved", "revoked"),
    ]  # fmt: skip
    assert Notification.objects.filter(user=seller_user, event="approval.revoked").exists()
    assert Notification.objects.filter(user=cast.manager_a, event="approval.approved").exists()


def test_a_rejected_seller_may_apply_again(cast: Cast, gated, seller_user) -> None:
    approval = kit.approval(cast, seller_user)
    services.approval_decide(actor=cast.manager_a, approval=approval, action="reject", reason="Invoices unreadable")
    assert kit.approval(cast, seller_user, text="Readable invoice").state == "submitted"


@pytest.mark.parametrize(
    ("path", "action"),
    [((), "revoke"), (("approve",), "approve"), (("approve",), "reject"), (("reject",), "approve"),
     (("request_info",), "approve"), (("approve", "revoke"), "approve"), (("reject",), "request_info")],
)  # fmt: skip
def test_illegal_moves_are_refused_and_change_nothing(cast: Cast, gated, seller_user, path, action) -> None:
    approval = kit.approval(cast, seller_user)
    for step in path:
        approval = services.approval_decide(actor=cast.manager_a, approval=approval, action=step, reason="r")
    before = approval.state
    with pytest.raises(IllegalTransition):
        services.approval_decide(actor=cast.manager_a, approval=approval, action=action, reason="again")
    approval.refresh_from_db()
    assert approval.state == before


def test_resubmitting_is_only_from_needs_info_and_decisions_need_a_reason(cast: Cast, gated, seller_user) -> None:
    approval = kit.approval(cast, seller_user)
    with pytest.raises(IllegalTransition):
        services.approval_resubmit(actor=seller_user, approval=approval, answer="again")
    with pytest.raises(ValidationError, match="reason"):
        services.approval_decide(actor=cast.manager_a, approval=approval, action="approve", reason="")


@pytest.mark.parametrize("role", ["viewer", "outsider"])
def test_viewers_and_other_brands_cannot_decide(cast: Cast, gated, seller_user, role: str) -> None:
    approval = kit.approval(cast, seller_user)
    with pytest.raises(PermissionDenied):
        services.approval_decide(actor=cast.user(role), approval=approval, action="approve", reason="x")
    with pytest.raises(PermissionDenied):
        services.approval_decide(actor=seller_user, approval=approval, action="approve", reason="x")


def test_another_seller_cannot_add_documents_or_resubmit(cast: Cast, gated, seller_user) -> None:
    approval = kit.approval(cast, seller_user)
    other = kit.seller_user(cast, "S2")
    with pytest.raises(PermissionDenied):
        services.approval_add_document(actor=other, approval=approval, file=kit.pdf(text="x"), kind="invoice")
    services.approval_decide(actor=cast.manager_a, approval=approval, action="request_info", reason="More")
    with pytest.raises(PermissionDenied):
        services.approval_resubmit(actor=other, approval=approval, answer="x")


@pytest.mark.parametrize(
    ("who", "sees"),
    [("seller", True), ("other_seller", False), ("manager", True), ("viewer", True), ("outsider", False),
     ("moderator", True), ("admin", True), ("anonymous", False)],
)  # fmt: skip
def test_who_sees_an_application_and_downloads_its_documents(cast: Cast, gated, seller_user, client, who, sees) -> None:
    approval = kit.approval(cast, seller_user)
    document = approval.documents.get()
    users = {"seller": seller_user, "other_seller": kit.seller_user(cast, "S2")}
    user = users.get(who) or cast.user(who)
    if user is not None:
        client_for(client, user)
    page = client.get(reverse("gating:approval-detail", args=[approval.pk]))
    download = client.get(reverse("gating:document", args=[document.pk]))
    api = client.get(f"/api/v1/seller-approvals/{approval.pk}/documents/{document.pk}/download/")
    if user is None:
        assert page.status_code == download.status_code == 302  # to the login page
        assert api.status_code == 401
    elif sees:
        assert page.status_code == download.status_code == api.status_code == 200
        assert download["Cache-Control"] == "private, no-store"
        assert b"".join(download.streaming_content).startswith(b"%PDF")
    else:
        assert page.status_code == download.status_code == api.status_code == 404


def test_a_seller_applies_and_a_manager_decides_through_the_pages(cast: Cast, gated, seller_user, client) -> None:
    client_for(client, seller_user)
    form = client.get(reverse("gating:approval-new") + f"?brand={cast.brand_a.pk}")
    assert form.status_code == 200
    sent = client.post(
        reverse("gating:approval-new"),
        {"seller": kit.seller().pk, "brand": cast.brand_a.pk, "statement": "From the EU distributor",
         "file": kit.pdf(), "kind": "invoice", "file2": kit.pdf(text="Agreement"), "kind2": "distributor_agreement"},
    )  # fmt: skip
    approval = SellerApproval.objects.get()
    assert sent.status_code == 302
    assert approval.documents.count() == 2
    bad = client.post(
        reverse("gating:approval-new"),
        {"seller": kit.seller().pk, "brand": cast.brand_a.pk, "statement": "Again", "file": kit.pdf(text="Other"),
         "kind": "invoice"},
    )  # fmt: skip
    assert bad.status_code == 422
    assert "not filed twice" in bad.content.decode()
    client_for(client, cast.manager_a)
    client.post(
        reverse("gating:approval-action", args=[approval.pk, "decide"]), {"action": "approve", "reason": "Fine"}
    )
    approval.refresh_from_db()
    assert approval.state == "approved"
    client_for(client, cast.viewer_a)
    page = client.get(reverse("gating:approval-detail", args=[approval.pk])).content.decode()
    assert 'data-testid="approval-decide"' not in page
