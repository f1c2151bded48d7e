"""Filing a selection bigger than one notice: every problem of every item reported at once (numbered
across the whole selection) before anything is filed, then consecutive complete notices, all or none."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from core.models import AuditEvent
from listings.models import Detection
from takedowns.models import Complaint
from takedowns.services.complaints import complaint_file_in_parts, complaint_validate, notice_parts
from tests.conftest import Cast
from tests.factories import DetectionFactory, IPRightFactory, ListingFactory
from tests.takedowns.factories import filer, notice_item, signed

pytestmark = pytest.mark.django_db


@pytest.fixture
def right(cast: Cast) -> Any:
    return IPRightFactory(brand=cast.brand_a, verified=True)


def test_notice_parts(settings: Any) -> None:
    settings.TAKEDOWN_MAX_ITEMS = 500
    assert notice_parts(320) == [320]
    assert notice_parts(500) == [500]
    assert notice_parts(1000) == [500, 500]
    assert notice_parts(501) == [500, 1]


def test_every_problem_numbered_across_the_selection(cast: Cast, right: Any, settings: Any) -> None:
    settings.TAKEDOWN_MAX_ITEMS = 3
    listings = [ListingFactory() for _ in range(5)]
    items = [notice_item(x, right) for x in listings]
    items[1]["explanation"] = "short"
    items[4]["listing"] = "nowhere:x"
    items.append(notice_item(listings[0], right))  # the same listing and right as item 1, in another part
    errors = complaint_validate(actor=cast.manager_a, brand=cast.brand_a, items=items, filer=filer(email=""),
                                statements=signed(good_faith=False))  # fmt: skip
    assert set(errors) == {"filer_email", "good_faith", "items"}
    assert [m.split(":")[0] for m in errors["items"]] == [
        "Item 2, explanation", "Item 5, listing", "Item 6, listing",
    ]  # fmt: skip
    assert "also item 1" in errors["items"][-1]
    with pytest.raises(ValidationError):
        complaint_file_in_parts(actor=cast.manager_a, brand=cast.brand_a, items=items, filer=filer(),
                                statements=signed())  # fmt: skip
    assert not Complaint.objects.exists()


def test_parts_are_complete_notices_and_their_detections_are_reported(cast: Cast, right: Any, settings: Any) -> None:
    settings.TAKEDOWN_MAX_ITEMS = 4
    detections = [DetectionFactory(brand=cast.brand_a) for _ in range(7)]
    items = [{"detection": d.pk, "right": right.pk, "infringement_type": "counterfeit",
              "explanation": notice_item(d.listing, right)["explanation"]} for d in detections]  # fmt: skip
    results = complaint_file_in_parts(actor=cast.manager_a, brand=cast.brand_a, items=items, filer=filer(),
                                      statements=signed(), source="detections", idempotency_key="k")  # fmt: skip
    assert [r.complaint.items.count() for r in results] == [4, 3]
    assert all(r.complaint.signature_name and r.complaint.submitted_at for r in results)
    assert set(Detection.objects.values_list("state", flat=True)) == {"reported"}
    assert AuditEvent.objects.filter(action="detection.reported").count() == 7
    again = complaint_file_in_parts(actor=cast.manager_a, brand=cast.brand_a, items=items, filer=filer(),
                                    statements=signed(), source="detections", idempotency_key="k")  # fmt: skip
    assert [r.created for r in again] == [False, False]
    assert Complaint.objects.count() == 2


def test_a_selection_past_the_cap_is_refused_with_the_numbers(cast: Cast, right: Any, settings: Any) -> None:
    settings.TAKEDOWN_MAX_ITEMS = 2
    items = [notice_item(ListingFactory(), right) for _ in range(5)]
    errors = complaint_validate(actor=cast.manager_a, brand=cast.brand_a, items=items, filer=filer(),
                                statements=signed())  # fmt: skip
    assert errors == {"items": "5 listings are more than one filing takes: at most 4 (2 notices of 2). Narrow "
                      "the selection (brand, minimum score, signal) and file the rest afterwards."}  # fmt: skip
