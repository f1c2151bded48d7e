"""The REST API for rights, reference assets, jobs and agent authorizations."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from brands.models import AgentAuthorization, IPRight, Membership, ReferenceAsset
from brands.selectors import agent_may_act
from core.models import AuditEvent
from tests.conftest import ROLES, Cast
from tests.factories import IPRightFactory, MembershipFactory, UserFactory, pdf_file

pytestmark = pytest.mark.django_db


def as_user(api: APIClient, user: Any) -> APIClient:
    if user is not None:
        api.force_authenticate(user)
    return api


def right_payload(cast: Cast, **overrides: Any) -> dict[str, Any]:
    payload = {
        "brand": cast.brand_a.pk,
        "kind": "trademark_word",
        "title": "AURORA word mark, EU",
        "registration_number": "018123456",
        "office": "EUIPO",
        "jurisdictions": ["EU", "GB"],
        "nice_classes": [18],
        "holder_name": "Aurora Leather S.p.A.",
        "valid_from": "2021-03-01",
        "valid_until": (timezone.localdate() + dt.timedelta(days=2000)).isoformat(),
        "word_mark": "AURORA",
    }
    payload.update(overrides)
    return payload


# --- Rights ------------------------------------------------------------------------------------

CREATE_EXPECTED = {"anonymous": 401, "outsider": 400, "viewer": 403, "manager": 201, "moderator": 403, "admin": 201}


@pytest.mark.parametrize("role", ROLES)
def test_filing_a_right_through_the_api_is_for_the_brands_managers(cast: Cast, api: APIClient, role: str) -> None:
    response = as_user(api, cast.user(role)).post("/api/v1/rights/", right_payload(cast), format="json")

    assert response.status_code == CREATE_EXPECTED[role], response.content[:300]
    if response.status_code == 201:
        body = response.json()
        assert body["status"] == "pending"
        assert body["brand"] == cast.brand_a.pk
        assert body["jurisdictions"] == ["EU", "GB"]
        assert {"level", "title", "detail"} <= set(body["checks"][0])
        assert IPRight.objects.get(pk=body["id"]).status == "pending"
    else:
        assert not IPRight.objects.exists()
    if role == "outsider":
        assert "brand" in response.json()


def test_invalid_right_through_the_api_answers_400_naming_the_field(cast: Cast, api: APIClient) -> None:
    response = as_user(api, cast.manager_a).post(
        "/api/v1/rights/", right_payload(cast, kind="copyright", nice_classes=[18]), format="json"
    )
    assert response.status_code == 400
    assert "nice_classes" in response.json()
    assert not IPRight.objects.exists()


def test_duplicate_right_through_the_api_names_the_existing_one(cast: Cast, api: APIClient) -> None:
    IPRightFactory(brand=cast.brand_a, office="EUIPO", registration_number="018123456", title="The first filing")
    response = as_user(api, cast.manager_a).post("/api/v1/rights/", right_payload(cast), format="json")
    assert response.status_code == 400
    assert "The first filing" in " ".join(response.json()["registration_number"])


def test_right_list_is_scoped_to_the_users_brands(cast: Cast, api: APIClient) -> None:
    right_a = IPRightFactory(brand=cast.brand_a)
    right_b = IPRightFactory(brand=cast.brand_b)

    def listed(user: Any) -> set[int]:
        return {r["id"] for r in as_user(APIClient(), user).get("/api/v1/rights/").json()["results"]}

    assert listed(cast.manager_a) == {right_a.pk}
    assert listed(cast.viewer_a) == {right_a.pk}
    assert listed(cast.manager_b) == {right_b.pk}
    assert listed(cast.moderator) == {right_a.pk, right_b.pk}
    assert as_user(api, cast.manager_b).get(f"/api/v1/rights/{right_a.pk}/").status_code == 404


def test_moderator_finds_the_review_queue_by_status(cast: Cast, api: APIClient) -> None:
    pending = IPRightFactory(brand=cast.brand_a)
    resubmitted = IPRightFactory(brand=cast.brand_b, status="resubmitted")
    IPRightFactory(brand=cast.brand_a, verified=True)

    response = as_user(api, cast.moderator).get("/api/v1/rights/?status__in=pending,resubmitted")

    assert {r["id"] for r in response.json()["results"]} == {pending.pk, resubmitted.pk}


DECIDE_EXPECTED = {"anonymous": 401, "outsider": 404, "viewer": 403, "manager": 403, "moderator": 200, "admin": 200}


@pytest.mark.parametrize("role", ROLES)
def test_only_platform_staff_decide_through_the_api(cast: Cast, api: APIClient, role: str) -> None:
    right = IPRightFactory(brand=cast.brand_a)

    response = as_user(api, cast.user(role)).post(
        f"/api/v1/rights/{right.pk}/decide/", {"action": "verify"}, format="json"
    )

    assert response.status_code == DECIDE_EXPECTED[role], response.content[:300]
    expected_status = "verified" if response.status_code == 200 else "pending"
    assert IPRight.objects.get(pk=right.pk).status == expected_status
    if response.status_code == 200:
        assert response.json()["status"] == "verified"


def test_reject_without_a_reason_answers_400_on_reason(cast: Cast, api: APIClient) -> None:
    right = IPRightFactory(brand=cast.brand_a)
    response = as_user(api, cast.moderator).post(
        f"/api/v1/rights/{right.pk}/decide/", {"action": "reject", "reason": "  "}, format="json"
    )
    assert response.status_code == 400
    assert "reason" in response.json()
    assert IPRight.objects.get(pk=right.pk).status == "pending"


def test_reject_with_a_reason_records_it(cast: Cast, api: APIClient) -> None:
    right = IPRightFactory(brand=cast.brand_a)
    response = as_user(api, cast.moderator).post(
        f"/api/v1/rights/{right.pk}/decide/", {"action": "reject", "reason": "Holder differs."}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["status_reason"]) == ("rejected", "Holder differs.")


def test_illegal_transition_answers_400_with_a_message(cast: Cast, api: APIClient) -> None:
    right = IPRightFactory(brand=cast.brand_a, verified=True)
    response = as_user(api, cast.moderator).post(
        f"/api/v1/rights/{right.pk}/decide/", {"action": "verify"}, format="json"
    )
    assert response.status_code == 400
    assert "Cannot verify a right that is verified." in str(response.json())
    assert not AuditEvent.objects.filter(action="ipright.verify").exists()


def test_unknown_decision_answers_400(cast: Cast, api: APIClient) -> None:
    right = IPRightFactory(brand=cast.brand_a)
    response = as_user(api, cast.moderator).post(
        f"/api/v1/rights/{right.pk}/decide/", {"action": "approve"}, format="json"
    )
    assert response.status_code == 400
    assert "action" in response.json()


def test_manager_resubmits_after_a_question(cast: Cast, api: APIClient) -> None:
    right = IPRightFactory(brand=cast.brand_a, status="needs_info", status_reason="Which holder?")

    response = as_user(api, cast.manager_a).post(
        f"/api/v1/rights/{right.pk}/resubmit/", {"answer": "The holder is Aurora Leather S.p.A."}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["status"] == "resubmitted"
    assert response.json()["brand_answer"] == "The holder is Aurora Leather S.p.A."


@pytest.mark.parametrize(("role", "expected"), [("viewer", 403), ("outsider", 404), ("moderator", 403)])
def test_others_cannot_resubmit(cast: Cast, api: APIClient, role: str, expected: int) -> None:
    right = IPRightFactory(brand=cast.brand_a, status="needs_info")
    response = as_user(api, cast.user(role)).post(
        f"/api/v1/rights/{right.pk}/resubmit/", {"answer": "Answer."}, format="json"
    )
    assert response.status_code == expected
    assert IPRight.objects.get(pk=right.pk).status == "needs_info"


def test_resubmitting_a_pending_right_answers_400(cast: Cast, api: APIClient) -> None:
    right = IPRightFactory(brand=cast.brand_a)
    response = as_user(api, cast.manager_a).post(
        f"/api/v1/rights/{right.pk}/resubmit/", {"answer": "Answer."}, format="json"
    )
    assert response.status_code == 400
    assert IPRight.objects.get(pk=right.pk).status == "pending"


@pytest.mark.parametrize(("status", "expected"), [("pending", 200), ("rejected", 200), ("verified", 400)])
def test_correcting_a_right_through_the_api(cast: Cast, api: APIClient, status: str, expected: int) -> None:
    right = IPRightFactory(brand=cast.brand_a, status=status, title="Old")
    response = as_user(api, cast.manager_a).patch(f"/api/v1/rights/{right.pk}/", {"title": "New"}, format="json")
    assert response.status_code == expected
    assert IPRight.objects.get(pk=right.pk).title == ("New" if expected == 200 else "Old")


@pytest.mark.parametrize(("role", "expected"), [("viewer", 403), ("outsider", 404), ("moderator", 403)])
def test_only_managers_correct_a_right(cast: Cast, api: APIClient, role: str, expected: int) -> None:
    right = IPRightFactory(brand=cast.brand_a, title="Old")
    response = as_user(api, cast.user(role)).patch(f"/api/v1/rights/{right.pk}/", {"title": "New"}, format="json")
    assert response.status_code == expected
    assert IPRight.objects.get(pk=right.pk).title == "Old"


# --- Reference assets and jobs -------------------------------------------------------------------


def test_manager_creates_a_word_mark_and_follows_its_job(
    cast: Cast, api: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    right = IPRightFactory(brand=cast.brand_a, verified=True)
    as_user(api, cast.manager_a)

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/assets/",
            {"brand": cast.brand_a.pk, "right": right.pk, "kind": "word_mark", "label": "Aurora",
             "words": ["Aurora", "AURORA", "Aur0ra"]},
            format="json",
        )  # fmt: skip

    assert response.status_code == 201, response.content[:300]
    body = response.json()
    assert body["words"] == ["Aurora", "Aur0ra"]
    assert isinstance(body["latest_job"], int)
    job = api.get(f"/api/v1/jobs/{body['latest_job']}/")
    assert job.status_code == 200
    assert job.json()["status"] == "done"
    assert job.json()["percent"] == 100
    assert job.json()["object_id"] == str(body["id"])
    assert api.get(f"/api/v1/assets/{body['id']}/").json()["features_status"] == "done"

    outsider = as_user(APIClient(), cast.manager_b)
    assert outsider.get(f"/api/v1/jobs/{body['latest_job']}/").status_code == 404
    assert outsider.get(f"/api/v1/assets/{body['id']}/").status_code == 404
    assert outsider.get("/api/v1/jobs/").json()["results"] == []


def test_asset_on_a_pending_right_answers_400_on_right(cast: Cast, api: APIClient) -> None:
    right = IPRightFactory(brand=cast.brand_a)
    response = as_user(api, cast.manager_a).post(
        "/api/v1/assets/",
        {"brand": cast.brand_a.pk, "right": right.pk, "kind": "word_mark", "label": "Aurora", "words": ["Aurora"]},
        format="json",
    )
    assert response.status_code == 400
    assert "right" in response.json()
    assert not ReferenceAsset.objects.exists()


@pytest.mark.parametrize(("role", "expected"), [("viewer", 403), ("outsider", 400), ("moderator", 403)])
def test_only_managers_create_assets(cast: Cast, api: APIClient, role: str, expected: int) -> None:
    right = IPRightFactory(brand=cast.brand_a, verified=True)
    response = as_user(api, cast.user(role)).post(
        "/api/v1/assets/",
        {"brand": cast.brand_a.pk, "right": right.pk, "kind": "word_mark", "label": "Aurora", "words": ["Aurora"]},
        format="json",
    )
    assert response.status_code == expected
    assert not ReferenceAsset.objects.exists()


# --- Agent authorizations ------------------------------------------------------------------------


@pytest.fixture
def agent(cast: Cast) -> Any:
    user = UserFactory(username="agent_smith")
    MembershipFactory(user=user, brand=cast.brand_a, role=Membership.Role.MANAGER)
    return user


def test_agent_may_act_only_once_the_authorization_is_verified(cast: Cast, api: APIClient, agent: Any) -> None:
    assert agent_may_act(user=agent, brand=cast.brand_a)  # a plain member, before being declared an agent

    response = as_user(api, cast.manager_a).post(
        "/api/v1/authorizations/",
        {"brand": cast.brand_a.pk, "agent": agent.pk, "file": pdf_file("power of attorney.pdf", "POA"),
         "agent_organisation": "Smith & Partners", "scope": "File complaints"},
        format="multipart",
    )  # fmt: skip

    assert response.status_code == 201, response.content[:300]
    body = response.json()
    assert body["status"] == "pending"
    assert body["document"]["original_name"] == "power_of_attorney.pdf"
    assert not agent_may_act(user=agent, brand=cast.brand_a)

    response = as_user(APIClient(), cast.moderator).post(
        f"/api/v1/authorizations/{body['id']}/decide/", {"action": "verify"}, format="json"
    )

    assert response.status_code == 200, response.content[:300]
    assert response.json()["status"] == "verified"
    assert agent_may_act(user=agent, brand=cast.brand_a)
    assert not agent_may_act(user=agent, brand=cast.brand_b)


def test_an_expired_authorization_no_longer_lets_the_agent_act(cast: Cast, agent: Any) -> None:
    from brands import services

    authorization = services.authorization_file(
        actor=cast.manager_a, brand=cast.brand_a, agent=agent, file=pdf_file("poa.pdf", "short"),
        valid_until=timezone.localdate(),
    )  # fmt: skip
    services.authorization_decide(actor=cast.moderator, authorization=authorization, action="verify")
    assert agent_may_act(user=agent, brand=cast.brand_a)
    AgentAuthorization.objects.filter(pk=authorization.pk).update(
        valid_until=timezone.localdate() - dt.timedelta(days=1)
    )
    assert not agent_may_act(user=agent, brand=cast.brand_a)


@pytest.mark.parametrize(("role", "expected"), [("manager", 403), ("viewer", 403), ("outsider", 404)])
def test_only_platform_staff_decide_authorizations(
    cast: Cast, api: APIClient, agent: Any, role: str, expected: int
) -> None:
    from brands import services

    authorization = services.authorization_file(
        actor=cast.manager_a, brand=cast.brand_a, agent=agent, file=pdf_file("poa.pdf", "decide")
    )
    response = as_user(api, cast.user(role)).post(
        f"/api/v1/authorizations/{authorization.pk}/decide/", {"action": "verify"}, format="json"
    )
    assert response.status_code == expected
    assert AgentAuthorization.objects.get(pk=authorization.pk).status == "pending"
    assert not agent_may_act(user=agent, brand=cast.brand_a)


def test_authorization_for_someone_who_is_not_a_member_answers_400(cast: Cast, api: APIClient, media: Path) -> None:
    stranger = UserFactory(username="stranger")
    response = as_user(api, cast.manager_a).post(
        "/api/v1/authorizations/",
        {"brand": cast.brand_a.pk, "agent": stranger.pk, "file": pdf_file("poa.pdf", "stranger")},
        format="multipart",
    )
    assert response.status_code == 400
    assert "agent" in response.json()
    assert not AgentAuthorization.objects.exists()
    assert not any(p.is_file() for p in media.rglob("*"))


@pytest.mark.parametrize(("role", "expected"), [("viewer", 403), ("outsider", 400), ("moderator", 403)])
def test_only_managers_file_authorizations(cast: Cast, api: APIClient, agent: Any, role: str, expected: int) -> None:
    response = as_user(api, cast.user(role)).post(
        "/api/v1/authorizations/",
        {"brand": cast.brand_a.pk, "agent": agent.pk, "file": pdf_file("poa.pdf", role)},
        format="multipart",
    )
    assert response.status_code == expected
    assert not AgentAuthorization.objects.exists()
