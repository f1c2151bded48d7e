"""At 390 px (a phone) no page scrolls sideways: every table scrolls inside its own frame
(Bootstrap's `.table-responsive`) instead of widening the page. Checked on the rendered HTML of the
main pages, as each role sees them."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from django.urls import reverse

from listings.models import Detection
from tests.conftest import Cast
from tests.factories import DetectionFactory, IPRightFactory, ListingFactory
from tests.takedowns.pages_kit import file_notice, item_in_state

pytestmark = pytest.mark.django_db

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Tables(HTMLParser):
    """Every <table>, with whether an element around it is a `.table-responsive` frame."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.tables: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "table":
            framed = any(responsive for _, responsive in self.stack)
            self.tables.append((dict(attrs).get("data-testid") or "(table)", framed))
        if tag not in VOID:
            self.stack.append((tag, "table-responsive" in classes))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return


def unframed_tables(html: str) -> list[str]:
    parser = _Tables()
    parser.feed(html)
    return [name for name, framed in parser.tables if not framed]


@pytest.fixture
def world(cast: Cast) -> dict[str, Any]:
    from tests.listings.test_detections_pages import _rich_evidence

    right = IPRightFactory(brand=cast.brand_a, verified=True, title="AURORA word mark")
    listing = ListingFactory(title="AURORA bag — 1:1 replica")
    detection = DetectionFactory(brand=cast.brand_a, listing=listing, with_picture=True)
    detection.evidence = _rich_evidence(detection)
    detection.save(update_fields=["evidence"])
    notice = file_notice(cast, [listing, ListingFactory()], right)
    item_in_state(cast, "in_review")
    return {"detection": detection, "notice": notice, "listing": listing}


def _pages(cast: Cast, world: dict[str, Any]) -> list[tuple[Any, str]]:
    slug = cast.brand_a.slug
    return [
        (cast.manager_a, reverse("listings:detections")),
        (cast.manager_a, reverse("listings:detection-detail", args=[world["detection"].pk])),
        (cast.manager_a, reverse("listings:search") + "?q=aurora"),
        (cast.manager_a, reverse("listings:detail", args=[world["listing"].pk])),
        (cast.manager_a, reverse("listings:saved")),
        (cast.manager_a, reverse("takedowns:complaint-list")),
        (cast.manager_a, reverse("takedowns:complaint-detail", args=[world["notice"].pk])),
        (cast.manager_a, reverse("takedowns:complaint-receipt", args=[world["notice"].pk])),
        (cast.manager_a, reverse("brands:list")),
        (cast.manager_a, reverse("brands:detail", args=[slug])),
        (cast.manager_a, reverse("brands:rights", args=[slug])),
        (cast.manager_a, reverse("brands:assets", args=[slug])),
        (cast.manager_a, reverse("takedowns:webhooks")),
        (cast.moderator, reverse("takedowns:moderation-queue")),
        (cast.moderator, reverse("takedowns:moderation-suspensions")),
        (cast.moderator, reverse("moderation:queue")),
    ]


def test_tables_scroll_inside_their_frame(cast: Cast, client: Any, world: dict[str, Any]) -> None:
    problems = {}
    for user, url in _pages(cast, world):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, url
        unframed = unframed_tables(response.content.decode())
        if unframed:
            problems[url] = unframed
    assert problems == {}


def test_the_three_pages_measured_too_wide_have_framed_tables(cast: Cast, client: Any, world: dict) -> None:
    client.force_login(cast.manager_a)
    detail = client.get(reverse("listings:detection-detail", args=[world["detection"].pk])).content.decode()
    assert 'class="table-responsive"><table class="table table-sm small" data-testid="word-marks"' in detail
    listing = client.get(reverse("listings:detections")).content.decode()
    assert '<div class="table-responsive"><table class="table align-middle" data-testid="detections">' in listing
    client.force_login(cast.moderator)
    queue = client.get(reverse("takedowns:moderation-queue")).content.decode()
    assert '<div class="table-responsive"><table class="table align-middle" data-testid="queue">' in queue
    assert Detection.objects.exists()


def test_the_parser_sees_an_unframed_table() -> None:
    assert unframed_tables('<div class="card"><table data-testid="x"></table></div>') == ["x"]
    assert unframed_tables('<div class="table-responsive"><table data-testid="x"></table></div><p>') == []
