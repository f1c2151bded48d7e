"""The transparency report: staff only, with figures that follow the notices."""

from __future__ import annotations

import pytest
from django.urls import reverse

from takedowns.models import ComplaintItem
from takedowns.services.moderation import item_decide
from tests.conftest import client_for
from tests.factories import DetectionFactory, IPRightFactory, ListingFactory
from tests.takedowns.factories import file_notice

pytestmark = pytest.mark.django_db


def test_the_report_counts_notices_by_state_and_the_proactive_share(cast, client) -> None:
    right = IPRightFactory(brand=cast.brand_a, verified=True)
    detected = DetectionFactory(brand=cast.brand_a).listing
    complaint = file_notice(cast, [detected, ListingFactory()], right).complaint
    first = complaint.items.order_by("pk").first()
    ComplaintItem.objects.filter(pk=first.pk).update(detection=detected.detections.first())
    item_decide(actor=cast.moderator, item=first, action="approve", reason="Counterfeit goods with our mark.")

    html = client_for(client, cast.moderator).get(reverse("takedowns:moderation-report") + "?days=30").content.decode()
    assert 'data-testid="report-items">2<' in html
    assert 'data-testid="report-proactive">50 %<' in html
    assert "Approved (listing removed)" in html
    assert "Submitted" in html
    assert 'data-testid="daily-chart"' in html


@pytest.mark.parametrize("role", ["anonymous", "viewer", "manager", "outsider"])
def test_only_platform_staff_see_the_report(cast, client, role) -> None:
    response = client_for(client, cast.user(role)).get(reverse("takedowns:moderation-report"))
    assert response.status_code in (302, 403, 404)
