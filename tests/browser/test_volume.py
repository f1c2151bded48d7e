"""Bulk at scale in the browser: the platform pushes 500 replica listings, a brand manager files them as
one notice from "all 500 new detections these filters match", and that notice's page shows them 50 at a
time: quick to load, readable on a desktop and on a phone, accessible.

Runs after the other browser tests (files run in name order): 500 listings noticed today would make
every daily chart in their screenshots one spike."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.browser.support import (
    DemoSite,
    Shots,
    axe_violations,
    expect,
    fill_notice,
    horizontal_overflow,
    reload_until,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

BULK_MARKET = "bulk-market"


def test_a_notice_of_500_listings(open_as: Callable[..., Page], demo_site: DemoSite, shots: Shots) -> None:
    answer = demo_site.api(
        "marketplace", "POST", "/api/v1/listings/bulk/",
        {"listings": [
            {"marketplace": BULK_MARKET, "external_id": f"RO-{n:03d}",
             "seller": {"external_id": "S-7500", "name": "ReplicaOutlet500", "country": "CN"},
             "title": f"AURORA Luna handbag replica 1:1, batch {n:03d}", "price": "39.00", "currency": "EUR",
             "category": "bags", "url": f"https://{BULK_MARKET}.example/item/RO-{n:03d}"}
            for n in range(500)
        ]},
    )  # fmt: skip
    assert answer["counts"]["created"] == 500, answer["counts"]

    alice = open_as("alice")
    alice.goto(f"/listings/detections/?state=new&marketplace={BULK_MARKET}")
    alice.get_by_label("Brand").select_option(label="Aurora Leather")
    alice.get_by_role("button", name="Filter").click()
    file_all = alice.get_by_test_id("file-all")
    # Matching runs in the background (a worker, or the web process in the embedded default).
    reload_until(alice, file_all.filter(has_text="all 500 new detections"), timeout=240)
    expect(file_all).to_have_text("File a notice for all 500 new detections these filters match")
    shots(alice, "500 new detections")
    file_all.click()
    expect(alice.get_by_test_id("chosen-count")).to_contain_text("500 detections chosen")
    fill_notice(alice, right="AURORA word mark, EU", explanation=(
        "Replicas of our Luna handbag sold as “1:1” copies under our AURORA word mark at a tenth of the price."
    ))  # fmt: skip
    shots(alice, "the notice form with 500 listings")
    alice.get_by_test_id("submit-notice").click()
    expect(alice.get_by_test_id("receipt")).to_contain_text("received", timeout=120_000)  # filed in the request
    shots(alice, "the receipt")

    # The notice's page: 50 listings at a time, loaded in under 2 s.
    alice.get_by_role("link", name="Open the notice").click()
    notice = alice.url
    loaded_ms = alice.evaluate("() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd")
    assert loaded_ms < 2000, f"the notice's page took {loaded_ms:.0f} ms to load"
    summary = alice.get_by_test_id("item-summary")
    expect(summary).to_contain_text("500 listings · 500 submitted · showing 1–50")
    expect(alice.get_by_test_id("item")).to_have_count(50)
    expect(alice.get_by_test_id("item-pages").first).to_contain_text("Page 1 of 10")
    shots(alice, "the notice, first page")
    serious = [v for v in axe_violations(alice) if v["impact"] in ("serious", "critical")]
    assert serious == []
    alice.get_by_test_id("item-pages").first.get_by_role("link", name="Next").click()
    expect(summary).to_contain_text("showing 51–100")
    expect(alice.get_by_test_id("item")).to_have_count(50)
    shots(alice, "the notice, second page", full_page=False)

    phone = open_as("alice", phone=True)
    phone.goto(notice)
    expect(phone.get_by_test_id("item").first).to_be_visible()
    assert horizontal_overflow(phone) == 0
    shots(phone, "the notice on a phone")
    phone.goto("/takedowns/notices/")
    expect(phone.get_by_test_id("complaint-row").first).to_contain_text("500")
    assert horizontal_overflow(phone) == 0
    shots(phone, "the notices on a phone")
