"""The main pages of each role in the real browser: at 1366×900 and on a 390×844 phone no page scrolls
sideways (tests/test_small_screens.py checks the tables' frames in the HTML; this is what Chromium lays
out), every page is a screenshot, and axe-core finds no serious or critical accessibility problem."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from tests.browser.support import ARTIFACTS, Shots, axe_violations, expect, horizontal_overflow, settle

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

# Each role's main pages: (name, path, then the first link there that this CSS selector finds, if any).
PAGES: dict[str | None, list[tuple[str, str, str]]] = {
    None: [("log in", "/accounts/login/", "")],
    "alice": [
        ("dashboard", "/", ""),
        ("reports", "/reports/", ""),
        ("detections", "/listings/detections/", ""),
        (
            "a detection",
            "/listings/detections/?state=new",
            "[data-testid=detection-row] a[href*='/listings/detections/']",
        ),
        ("notices", "/takedowns/notices/", ""),
        ("a notice", "/takedowns/notices/", "[data-testid=complaint-row] a"),
        ("new notice", "/takedowns/notices/new/", ""),
        ("search", "/listings/?q=aurora", ""),
        ("brand", "/brands/aurora-leather/", ""),
        ("rights", "/brands/aurora-leather/rights/", ""),
        ("assets", "/brands/aurora-leather/assets/", ""),
    ],
    "victor": [
        ("dashboard", "/", ""),
        ("reports", "/reports/", ""),
        ("detections", "/listings/detections/", ""),
    ],
    "maya": [
        ("takedown queue", "/takedowns/moderation/", ""),
        ("a queue item", "/takedowns/moderation/", "[data-testid=queue-row] a[href*='/moderation/items/']"),
        ("verification queue", "/moderation/", ""),
        ("transparency report", "/takedowns/moderation/report/", ""),
    ],
    "luxdeals": [
        ("seller centre", "/takedowns/seller/", ""),
        ("a notice in the seller centre", "/takedowns/seller/", "[data-testid=seller-item-row] a"),
    ],
}
ROLES = {None: "anonymous", "alice": "manager", "victor": "viewer", "maya": "moderator", "luxdeals": "seller"}
SERIOUS = ("serious", "critical")


def visit(page: Page, path: str, link_in: str) -> None:
    page.goto(path)
    if link_in:
        page.locator(link_in).first.click()
    expect(page.locator("main h1, main h2").first).to_be_visible()
    settle(page)


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("username", list(PAGES), ids=[ROLES[u] for u in PAGES])
def test_no_page_scrolls_sideways(open_as: Callable[..., Page], shots: Shots, username: str | None, size: str) -> None:
    page = open_as(username, phone=size == "phone")
    wide = {}
    for name, path, link_in in PAGES[username]:
        visit(page, path, link_in)
        shots(page, name)
        if overflow := horizontal_overflow(page):
            wide[name] = f"{page.url}: {overflow} px wider than the screen"
    assert wide == {}


@pytest.mark.parametrize("username", list(PAGES), ids=[ROLES[u] for u in PAGES])
def test_no_serious_accessibility_problems(open_as: Callable[..., Page], username: str | None) -> None:
    page = open_as(username)
    found, serious = {}, {}
    for name, path, link_in in PAGES[username]:
        visit(page, path, link_in)
        violations = axe_violations(page)
        found[name] = {"url": page.url, "violations": violations}
        bad = [f"{v['impact']} {v['id']}: {v['help']} ({v['nodes'][0]['target']})" for v in violations]
        if bad := [line for line, v in zip(bad, violations, strict=True) if v["impact"] in SERIOUS]:
            serious[name] = bad
    report = ARTIFACTS / "accessibility" / f"{ROLES[username]}.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(found, indent=2))
    assert serious == {}, f"axe-core (details in {report})"
