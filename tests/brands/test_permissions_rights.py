"""The permission matrix for IP rights, documents, authorizations, reference assets, jobs and
the moderation pages: every page and endpoint, for every role (another brand's objects: 404)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.utils import timezone

from brands import services
from brands.models import AgentAuthorization, IPDocument, Job, ReferenceAsset
from tests.conftest import ROLES, Cast
from tests.factories import IPRightFactory, pdf_file, png_file


@dataclass
class World:
    cast: Cast
    right: Any  # pending: can be decided
    asked: Any  # needs_info: can be resubmitted
    verified: Any
    document: IPDocument
    asset: ReferenceAsset
    job: Job
    authorization: AgentAuthorization

    def ids(self) -> dict[str, Any]:
        return {
            "a": self.cast.brand_a.pk, "slug": self.cast.brand_a.slug, "r": self.right.pk, "asked": self.asked.pk,
            "v": self.verified.pk, "d": self.document.pk, "asset": self.asset.pk, "job": self.job.pk,
            "auth": self.authorization.pk, "viewer": self.cast.viewer_a.pk,
        }  # fmt: skip


@pytest.fixture
def world(cast: Cast, django_capture_on_commit_callbacks: Any) -> World:
    brand = cast.brand_a
    right = IPRightFactory(brand=brand, title="Pending mark")
    asked = IPRightFactory(brand=brand, title="Asked mark", status="needs_info", status_reason="Which classes?")
    verified = IPRightFactory(brand=brand, title="Verified mark", verified=True)
    document = services.document_upload(
        actor=cast.manager_a, brand=brand, file=pdf_file(), kind="certificate", right=right
    )
    with django_capture_on_commit_callbacks(execute=True):
        asset = services.asset_create(
            actor=cast.manager_a, brand=brand, right=verified, kind="logo", label="Logo", image=png_file(seed=5)
        )
    authorization = services.authorization_file(
        actor=cast.manager_a, brand=brand, agent=cast.viewer_a, file=pdf_file("letter.pdf", "Letter of authorization")
    )
    job = Job.objects.get(object_id=str(asset.pk))
    return World(cast, right, asked, verified, document, asset, job, authorization)


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    url: str
    expected: dict[str, int]
    data: Callable[[dict[str, Any]], dict[str, Any]] = field(default=lambda ids: {})
    multipart: bool = False


def expect(anonymous: int, outsider: int, viewer: int, manager: int, moderator: int, admin: int) -> dict[str, int]:
    return dict(zip(ROLES, (anonymous, outsider, viewer, manager, moderator, admin), strict=True))


def right_json(ids: dict[str, Any]) -> dict[str, Any]:
    return {
        "brand": ids["a"], "kind": "copyright", "title": "Catalogue photos", "registration_number": "VA-2-123-456",
        "office": "OTHER", "office_other": "US Copyright Office", "jurisdictions": ["US"], "holder_name": "Aurora",
    }  # fmt: skip


def right_form(ids: dict[str, Any]) -> dict[str, Any]:
    return {**right_json(ids), "jurisdictions": "US", "nice_classes": ""}


API = [
    Case("rights list", "get", "/api/v1/rights/", expect(401, 200, 200, 200, 200, 200)),
    Case("right detail", "get", "/api/v1/rights/{r}/", expect(401, 404, 200, 200, 200, 200)),
    Case("right file", "post", "/api/v1/rights/", expect(401, 400, 403, 201, 403, 201), right_json),
    Case("right correct", "patch", "/api/v1/rights/{r}/", expect(401, 404, 403, 200, 403, 200), lambda ids: {"title": "Renamed"}),
    Case("right decide", "post", "/api/v1/rights/{r}/decide/", expect(401, 404, 403, 403, 200, 200), lambda ids: {"action": "verify"}),
    Case("right resubmit", "post", "/api/v1/rights/{asked}/resubmit/", expect(401, 404, 403, 200, 403, 200), lambda ids: {"answer": "Classes 18 and 25."}),
    Case("documents list", "get", "/api/v1/documents/", expect(401, 200, 200, 200, 200, 200)),
    Case("document detail", "get", "/api/v1/documents/{d}/", expect(401, 404, 200, 200, 200, 200)),
    Case("document download", "get", "/api/v1/documents/{d}/download/", expect(401, 404, 200, 200, 200, 200)),
    Case("document upload", "post", "/api/v1/documents/", expect(401, 400, 403, 201, 403, 201),
         lambda ids: {"brand": ids["a"], "right": ids["r"], "kind": "other", "file": pdf_file("more.pdf", "More")}, multipart=True),
    Case("document delete", "delete", "/api/v1/documents/{d}/", expect(401, 404, 403, 204, 403, 204)),
    Case("authorization detail", "get", "/api/v1/authorizations/{auth}/", expect(401, 404, 200, 200, 200, 200)),
    Case("authorization file", "post", "/api/v1/authorizations/", expect(401, 400, 403, 201, 403, 201),
         lambda ids: {"brand": ids["a"], "agent": ids["viewer"], "file": pdf_file("poa.pdf", "Power of attorney")}, multipart=True),
    Case("authorization decide", "post", "/api/v1/authorizations/{auth}/decide/", expect(401, 404, 403, 403, 200, 200), lambda ids: {"action": "verify"}),
    Case("assets list", "get", "/api/v1/assets/", expect(401, 200, 200, 200, 200, 200)),
    Case("asset detail", "get", "/api/v1/assets/{asset}/", expect(401, 404, 200, 200, 200, 200)),
    Case("asset create", "post", "/api/v1/assets/", expect(401, 400, 403, 201, 403, 201),
         lambda ids: {"brand": ids["a"], "right": ids["v"], "kind": "word_mark", "label": "Spellings", "words": ["AURORA", "Aur0ra"]}),
    Case("asset update", "patch", "/api/v1/assets/{asset}/", expect(401, 404, 403, 200, 403, 200), lambda ids: {"label": "Main logo"}),
    Case("asset delete", "delete", "/api/v1/assets/{asset}/", expect(401, 404, 403, 204, 403, 204)),
    Case("job detail", "get", "/api/v1/jobs/{job}/", expect(401, 404, 200, 200, 200, 200)),
]  # fmt: skip

PAGES = [
    Case("rights", "get", "/brands/{slug}/rights/", expect(302, 404, 200, 200, 200, 200)),
    Case("right new form", "get", "/brands/{slug}/rights/new/", expect(302, 404, 403, 200, 403, 200)),
    Case("right new", "post", "/brands/{slug}/rights/new/", expect(302, 404, 403, 302, 403, 302), right_form),
    Case("right page", "get", "/brands/{slug}/rights/{r}/", expect(302, 404, 200, 200, 200, 200)),
    Case("right edit form", "get", "/brands/{slug}/rights/{r}/edit/", expect(302, 404, 403, 200, 403, 200)),
    Case("right resubmit", "post", "/brands/{slug}/rights/{asked}/resubmit/", expect(302, 404, 403, 302, 403, 302), lambda ids: {"answer": "Done."}),
    Case("document upload", "post", "/brands/{slug}/rights/{r}/documents/", expect(302, 404, 403, 302, 403, 302),
         lambda ids: {"kind": "other", "file": pdf_file("more.pdf", "More evidence")}),
    Case("document view", "get", "/brands/documents/{d}/", expect(302, 404, 200, 200, 200, 200)),
    Case("document delete", "post", "/brands/documents/{d}/delete/", expect(302, 404, 403, 302, 403, 302)),
    Case("assets", "get", "/brands/{slug}/assets/", expect(302, 404, 200, 200, 200, 200)),
    Case("asset new form", "get", "/brands/{slug}/assets/new/?kind=word_mark", expect(302, 404, 403, 200, 403, 200)),
    Case("asset new", "post", "/brands/{slug}/assets/new/?kind=word_mark", expect(302, 404, 403, 302, 403, 302),
         lambda ids: {"right": ids["v"], "label": "Spellings", "words": "AURORA\nAur0ra"}),
    Case("asset edit form", "get", "/brands/{slug}/assets/{asset}/edit/", expect(302, 404, 403, 200, 403, 200)),
    Case("asset edit", "post", "/brands/{slug}/assets/{asset}/edit/", expect(302, 404, 403, 302, 403, 302),
         lambda ids: {"right": ids["v"], "label": "Renamed logo"}),
    Case("asset image", "get", "/brands/{slug}/assets/{asset}/image/", expect(302, 404, 200, 200, 200, 200)),
    Case("asset delete", "post", "/brands/{slug}/assets/{asset}/delete/", expect(302, 404, 403, 302, 403, 302)),
    Case("jobs", "get", "/brands/{slug}/jobs/", expect(302, 404, 200, 200, 200, 200)),
    Case("authorization file", "post", "/brands/{slug}/authorizations/new/", expect(302, 404, 403, 302, 403, 302),
         lambda ids: {"agent": ids["viewer"], "file": pdf_file("poa.pdf", "Power of attorney")}),
    Case("moderation queue", "get", "/moderation/", expect(302, 403, 403, 403, 200, 200)),
    Case("moderation right", "get", "/moderation/rights/{r}/", expect(302, 403, 403, 403, 200, 200)),
    Case("moderation decide", "post", "/moderation/rights/{r}/", expect(302, 403, 403, 403, 302, 302), lambda ids: {"action": "verify"}),
    Case("moderation authorization", "get", "/moderation/authorizations/{auth}/", expect(302, 403, 403, 403, 200, 200)),
]  # fmt: skip


def _matrix(cases: list[Case]) -> list[Any]:
    return [pytest.param(case, role, id=f"{case.name}-{role}") for case in cases for role in ROLES]


@pytest.mark.parametrize(("case", "role"), _matrix(API))
def test_api_matrix(case: Case, role: str, world: World, api: Any) -> None:
    user = world.cast.user(role)
    if user is not None:
        api.force_authenticate(user)
    ids = world.ids()
    data = case.data(ids)
    response = getattr(api, case.method)(
        case.url.format(**ids), data or None, format="multipart" if case.multipart else "json"
    )
    assert response.status_code == case.expected[role], getattr(response, "content", b"")[:300]


@pytest.mark.parametrize(("case", "role"), _matrix(PAGES))
def test_page_matrix(case: Case, role: str, world: World, client: Any) -> None:
    user = world.cast.user(role)
    if user is not None:
        client.force_login(user)
    ids = world.ids()
    response = getattr(client, case.method)(case.url.format(**ids), case.data(ids))
    assert response.status_code == case.expected[role], response.content[:300]
    if role == "anonymous":
        assert "/login/" in response["Location"]
    if case.method == "post" and response.status_code == 302 and role != "anonymous":
        # a successful write lands back on a page, with no error message queued
        follow = client.get(response["Location"])
        assert follow.status_code == 200
        assert "alert-danger" not in follow.content.decode(), follow.content.decode()[:2000]


def test_world_is_what_the_matrix_assumes(world: World) -> None:
    assert world.right.status == "pending"
    assert world.asked.status == "needs_info"
    assert world.job.status == "done"
    assert world.asset.features_status == "queued"  # (the object in memory; the row is done)
    assert ReferenceAsset.objects.get(pk=world.asset.pk).features_status == "done"
    assert world.authorization.valid_until is None or world.authorization.valid_until >= timezone.localdate()
