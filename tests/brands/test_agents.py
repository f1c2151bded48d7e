"""Outside agents act for a brand only with a verified authorization on file."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from brands import selectors, services
from brands.models import Membership
from tests.conftest import Cast
from tests.factories import UserFactory, pdf_file

pytestmark = pytest.mark.django_db


def _agent(cast: Cast, valid_until: dt.date | None = None) -> tuple[Any, Any]:
    agent = UserFactory(username="agent")
    Membership.objects.create(user=agent, brand=cast.brand_a, role=Membership.Role.MANAGER)
    authorization = services.authorization_file(
        actor=cast.manager_a, brand=cast.brand_a, agent=agent, file=pdf_file("loa.pdf", "Letter"),
        agent_organisation="Berg & Partners IP", valid_until=valid_until,
    )  # fmt: skip
    return agent, authorization


def test_agent_reads_but_cannot_act_until_the_authorization_is_verified(cast: Cast, api: Any) -> None:
    agent, authorization = _agent(cast)
    api.force_authenticate(agent)
    assert api.get(f"/api/v1/brands/{cast.brand_a.pk}/").status_code == 200
    assert api.patch(f"/api/v1/brands/{cast.brand_a.pk}/", {"description": "x"}).status_code == 403
    assert not selectors.agent_may_act(user=agent, brand=cast.brand_a)

    services.authorization_decide(actor=cast.moderator, authorization=authorization, action="verify")
    api.force_authenticate(None)
    api.force_authenticate(type(agent).objects.get(pk=agent.pk))  # a fresh request: roles are re-read
    assert api.patch(f"/api/v1/brands/{cast.brand_a.pk}/", {"description": "x"}).status_code == 200
    assert selectors.agent_may_act(user=agent, brand=cast.brand_a)


def test_rejected_or_ended_authorization_gives_no_power(cast: Cast, api: Any) -> None:
    agent, authorization = _agent(cast, valid_until=timezone.localdate() + dt.timedelta(days=1))
    services.authorization_decide(actor=cast.moderator, authorization=authorization, action="verify")
    type(authorization).objects.filter(pk=authorization.pk).update(
        valid_until=timezone.localdate() - dt.timedelta(days=1)
    )
    api.force_authenticate(type(agent).objects.get(pk=agent.pk))
    assert api.patch(f"/api/v1/brands/{cast.brand_a.pk}/", {"description": "x"}).status_code == 403
    assert not selectors.agent_may_act(user=agent, brand=cast.brand_a)


def test_authorization_for_a_non_member_is_refused(cast: Cast) -> None:
    from django.core.exceptions import ValidationError

    stranger = UserFactory(username="stranger")
    with pytest.raises(ValidationError, match="member"):
        services.authorization_file(actor=cast.manager_a, brand=cast.brand_a, agent=stranger, file=pdf_file())
