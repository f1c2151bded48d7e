"""The four journeys of issue 16 in a real browser, against the live demo site: a brand manager, a
moderator, a seller and a brand viewer, each through the pages a person uses.

They tell one story on one seeded site, in this order: Alice (Aurora Leather) files a right, which Maya
verifies, and a logo on it; the platform pushes listings that copy the logo and she files one notice for
all of them, then answers the counter-notice LuxDeals4U filed in the demo; Maya, on her own round, verifies
Aurora's pending design right, approves the
overdue notice against LuxDeals4U, rejects another, and upholds the contested takedown Alice answered;
LuxDeals4U reads the statement of reasons of the takedown Maya approved and contests it; Victor, a
read-only member of Aurora, reads the reports and exports them. Each step is a screenshot under
BROWSER_ARTIFACTS (default var/browser-artifacts/<test>/)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PIL import Image, ImageDraw, ImageFont

from portal import demo_art
from tests.browser.support import DemoSite, Shots, expect, fill_notice, reload_until, settle

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.browser

AURORA = "/brands/aurora-leather"
MARKET = "browser-market"  # the platform's listings in these tests, apart from the demo's own
NEW_RIGHT = "AURORA moon crest, EU"
NEW_LOGO = "Moon crest logo"
COPIES = [  # listings showing the new logo on a bag (no word mark in the text: the picture gives them away)
    ("MC-1", "Moon crest leather handbag, mirror quality", "49"),
    ("MC-2", "Crescent shoulder bag with crest, new season", "39"),
    ("MC-3", "Luxury crest tote bag, factory price", "35"),
]


def crest_logo(size: int = 512) -> bytes:
    """The new figurative mark: a crescent moon and three stars over the word LUNARIS, drawn here."""
    image = Image.new("RGB", (size, size), (247, 244, 236))
    draw = ImageDraw.Draw(image)
    cx, cy, r = size // 2, int(size * 0.4), int(size * 0.24)
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(32, 46, 92))
    draw.ellipse([cx - r + r // 2, cy - r - r // 6, cx + r + r // 2, cy + r - r // 6], fill=(247, 244, 236))
    for index, (sx, sy) in enumerate(((0.66, 0.2), (0.78, 0.34), (0.7, 0.5))):
        points = []
        for k in range(10):
            radius = size * (0.045 if k % 2 == 0 else 0.018) * (1 - index * 0.15)
            angle = -math.pi / 2 + k * math.pi / 5
            points.append((size * sx + radius * math.cos(angle), size * sy + radius * math.sin(angle)))
        draw.polygon(points, fill=(196, 150, 40))
    draw.rectangle([int(size * 0.18), int(size * 0.7), int(size * 0.82), int(size * 0.715)], fill=(32, 46, 92))
    font = ImageFont.load_default(size=size // 9)
    draw.text((cx, int(size * 0.82)), "LUNARIS", font=font, fill=(32, 46, 92), anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def file_payload(name: str, mime: str, data: bytes) -> dict:
    return {"name": name, "mimeType": mime, "buffer": data}


def choose(select: Locator, text: str) -> None:
    """Pick the option whose label contains `text`."""
    select.select_option(value=select.locator("option", has_text=text).first.get_attribute("value"))


def test_brand_manager_journey(open_as: Callable[..., Page], demo_site: DemoSite, shots: Shots) -> None:
    alice = open_as("alice")

    # A right with its registration certificate.
    alice.goto(f"{AURORA}/rights/")
    alice.get_by_role("link", name="File a right").click()
    alice.get_by_label("Kind").select_option(label="Trademark (figurative)")
    alice.get_by_label("Title").fill(NEW_RIGHT)
    alice.get_by_label("Registration number").fill("018 990 421")
    alice.get_by_role("combobox", name="Office", exact=True).select_option(label="EUIPO (European Union)")
    alice.get_by_label("Jurisdictions").fill("EU")
    alice.get_by_label("Nice classes").fill("18, 25")
    alice.get_by_label("Registered holder").fill("Aurora Leather Goods S.p.A.")
    alice.get_by_label("Valid from").fill("2024-03-01")
    logo = crest_logo()
    alice.get_by_label("Mark image").set_input_files(file_payload("crest.png", "image/png", logo))
    certificate = demo_art.certificate_pdf(
        office="EUIPO", number="018 990 421", mark="Moon crest (figurative)",
        holder="Aurora Leather Goods S.p.A.", classes="18, 25", valid="2024-03-01 to 2034-03-01",
    )  # fmt: skip
    alice.get_by_label("Certificate").set_input_files(file_payload("certificate.pdf", "application/pdf", certificate))
    shots(alice, "files a right with its certificate")
    alice.get_by_role("button", name="File for verification").click()
    expect(alice.get_by_text("was filed and is waiting for a moderator")).to_be_visible()
    expect(alice.get_by_role("heading", name=NEW_RIGHT)).to_be_visible()
    expect(alice.get_by_text("Pending").first).to_be_visible()
    expect(alice.get_by_role("link", name="certificate.pdf")).to_be_visible()
    shots(alice, "the right waits for verification")

    # Meanwhile a moderator checks the certificate and verifies it.
    maya = open_as("maya")
    maya.goto("/moderation/")
    maya.get_by_role("link", name=NEW_RIGHT).click()
    expect(maya.get_by_title("certificate.pdf")).to_be_visible()
    maya.get_by_label("Verify").check()
    shots(maya, "a moderator verifies the right")
    maya.get_by_role("button", name="Record decision").click()
    expect(maya.get_by_text(NEW_RIGHT).first).to_be_visible()

    # The logo, backed by the verified right: its features are computed and the listings scanned again.
    alice.reload()
    expect(alice.get_by_text("Verified").first).to_be_visible()
    alice.goto(f"{AURORA}/assets/")
    alice.get_by_role("link", name="Add logo").click()
    choose(alice.get_by_label("Right"), NEW_RIGHT)
    alice.get_by_label("Name").fill(NEW_LOGO)
    alice.get_by_label("Image").set_input_files(file_payload("crest.png", "image/png", logo))
    shots(alice, "adds the logo")
    alice.get_by_role("button", name="Add", exact=True).click()
    expect(alice.get_by_text(f"“{NEW_LOGO}” added")).to_be_visible()
    ready = alice.get_by_role("row").filter(has_text=NEW_LOGO).get_by_text("Ready", exact=True)
    reload_until(alice, ready, timeout=90)
    shots(alice, "the logo is ready")

    # The platform's systems push listings that show the logo, as they do every day (REST API, token).
    answer = demo_site.api(
        "marketplace", "POST", "/api/v1/listings/bulk/",
        {"listings": [
            {"marketplace": MARKET, "external_id": external_id,
             "seller": {"external_id": "S-7001", "name": "CrestCopies88", "country": "CN"},
             "title": title, "description": "Top quality, same as the original.", "price": price, "currency": "EUR",
             "category": "bags", "url": f"https://browser-market.example/item/{external_id}"}
            for external_id, title, price in COPIES
        ]},
    )  # fmt: skip
    assert answer["counts"]["created"] == len(COPIES), answer
    for seed, item in enumerate(answer["items"]):
        photo = demo_art.product_photo("bag", seed=seed + 3, logo=logo, logo_scale=0.34)
        demo_site.api(
            "marketplace", "POST", f"/api/v1/listings/{item['listing_id']}/images/",
            files={"file": (f"{item['external_id']}.jpg", photo)},
        )  # fmt: skip

    # Their detections appear on Alice's list, with the evidence picture.
    alice.goto("/listings/detections/")
    alice.get_by_label("Marketplace").fill(MARKET)
    alice.get_by_label("State").select_option(label="New")
    alice.get_by_role("button", name="Filter").click()
    rows = alice.get_by_test_id("detection-row")
    reload_until(alice, rows, count=len(COPIES))  # each listing's images are fetched and matched by the worker
    expect(rows).to_have_count(len(COPIES))
    for _, title, _ in COPIES:
        row = rows.filter(has_text=title)
        expect(row.get_by_text(NEW_LOGO)).to_be_visible()
        expect(row.get_by_role("img", name=re.compile("Evidence for detection"))).to_be_visible()
    settle(alice)  # the pictures loaded
    assert all(
        alice.evaluate(
            "() => [...document.images].filter(i => i.alt.startsWith('Evidence')).map(i => i.naturalWidth > 0)"
        )
    )
    shots(alice, "the new listings are detected")
    rows.filter(has_text=COPIES[0][1]).get_by_role("link", name=COPIES[0][1]).click()
    evidence = alice.get_by_test_id("evidence-image")
    expect(evidence).to_be_visible()
    settle(alice)
    assert evidence.evaluate("img => img.naturalWidth") > 0
    expect(alice.get_by_text(NEW_LOGO).first).to_be_visible()
    shots(alice, "a detection with its evidence picture")
    alice.go_back()

    # One notice for every detection the filters match, not only the page.
    alice.get_by_test_id("file-all").click()
    expect(alice.get_by_test_id("chosen-count")).to_have_text(re.compile(f"^{len(COPIES)} detections chosen"))
    fill_notice(alice, right=NEW_RIGHT, explanation=(
        "Bags bearing our registered moon crest, sold at a fraction of the price of the genuine ones, "
        "which we sell only in our own stores."
    ))  # fmt: skip
    alice.get_by_label("Evidence").set_input_files(file_payload("certificate.pdf", "application/pdf", certificate))
    shots(alice, "the notice for all matching detections")
    alice.get_by_test_id("submit-notice").click()
    receipt = alice.get_by_test_id("receipt")
    expect(receipt).to_contain_text("received")
    reference = alice.get_by_test_id("reference").inner_text().strip()
    shots(alice, "the receipt")

    # Follow the notice: every listing submitted, and the detections no longer wait as new.
    alice.get_by_role("link", name="Open the notice").click()
    expect(alice.get_by_role("heading", name=f"Notice {reference}")).to_be_visible()
    expect(alice.get_by_test_id("item-summary")).to_contain_text(f"{len(COPIES)} listings")
    expect(alice.get_by_test_id("item").filter(has_text="Submitted")).to_have_count(len(COPIES))
    shots(alice, "the notice, submitted")
    alice.goto("/takedowns/notices/")
    expect(alice.get_by_role("link", name=reference)).to_be_visible()
    alice.goto(f"/listings/detections/?marketplace={MARKET}&state=new")
    expect(alice.get_by_text("No detections match.")).to_be_visible()

    # The seller contested an earlier takedown (the demo's): Alice reports the court case she started.
    alice.goto("/takedowns/notices/")
    alice.get_by_label("With listings in state").select_option(label="Counter-noticed")
    alice.get_by_role("button", name="Filter").click()
    alice.get_by_test_id("complaint-row").first.get_by_role("link").first.click()
    contested = alice
    item = contested.get_by_test_id("item").filter(has_text="AUR0RA Luna bag 1:1 mirror quality")
    expect(item.get_by_test_id("counter-notice")).to_contain_text("removed by mistake")
    item.get_by_label("Legal action started").fill(
        "Tribunale di Firenze, case 4471/2026, filed against LuxDeals4U Trading Co. for trademark infringement."
    )
    shots(alice, "answers the counter-notice")
    item.get_by_role("button", name="Report legal action").click()
    expect(item.get_by_role("status")).to_contain_text("Legal action reported")
    expect(item.get_by_test_id("counter-notice")).to_contain_text("Tribunale di Firenze, case 4471/2026")
    shots(alice, "legal action reported")


def test_moderator_journey(open_as: Callable[..., Page], shots: Shots) -> None:
    maya = open_as("maya")  # password, then the authenticator app's code (the first log-in of the session)

    # The verification queue: Aurora's design right, filed with its certificate three days ago.
    maya.goto("/")
    maya.get_by_role("link", name="Moderation", exact=True).click()
    shots(maya, "the verification queue")
    maya.get_by_role("link", name="Aurora Luna handbag design").click()
    expect(maya.get_by_role("heading", name="Documents")).to_be_visible()
    maya.get_by_label("Verify").check()
    shots(maya, "verifies the design right")
    maya.get_by_role("button", name="Record decision").click()
    expect(maya.get_by_role("alert").filter(has_text="Aurora Luna handbag design")).to_be_visible()
    expect(maya.get_by_role("link", name="Aurora Luna handbag design")).to_have_count(0)

    # The takedown queue: the overdue notice against LuxDeals4U comes first among Aurora's.
    maya.goto("/takedowns/moderation/")
    expect(maya.get_by_test_id("overdue-count")).not_to_have_text("0")
    maya.get_by_label("Brand").select_option(label="Aurora Leather")
    maya.get_by_label("Overdue").check()
    maya.get_by_role("button", name="Filter").click()
    shots(maya, "the takedown queue, overdue")
    overdue = maya.get_by_test_id("queue-row").filter(has_text="Аurоrа style handbag (inspired)")
    expect(overdue.get_by_test_id("overdue")).to_be_visible()
    overdue.get_by_role("button", name="Claim").click()
    expect(overdue.get_by_test_id("claim-cell")).to_contain_text("you")
    overdue.get_by_role("link", name="Аurоrа style handbag (inspired)").click()
    expect(maya.get_by_test_id("evidence-image")).to_be_visible()
    maya.get_by_label("Approve (remove listing)").check()
    maya.get_by_label("Reason", exact=True).fill(
        "Cyrillic look-alike letters spell AURORA and the photo shows Aurora's registered sun logo on a bag "
        "Aurora did not make."
    )
    shots(maya, "approves the overdue notice")
    maya.get_by_role("button", name="Record decision", exact=True).click()
    expect(maya.get_by_role("alert").filter(has_text="Approve (remove listing): item")).to_be_visible()

    # Another one in review: rejected, with the reason the complainant will read.
    maya.goto("/takedowns/moderation/")
    maya.get_by_role("link", name="A u r o r a leather bag — wholesale").click()
    maya.get_by_label("Reject").check()
    maya.get_by_label("Reason", exact=True).fill(
        "The notice names the figurative sun logo, but the wholesale photos show a different emblem; "
        "file again under the word mark if the spelling is the concern."
    )
    shots(maya, "rejects one with a reason")
    maya.get_by_role("button", name="Record decision", exact=True).click()
    expect(maya.get_by_role("alert").filter(has_text="Reject: item")).to_be_visible()

    # The seller's counter-notice, and the brand's legal action: the removal is upheld.
    maya.goto("/takedowns/moderation/")
    maya.get_by_label("State").select_option(label="Counter-noticed")
    maya.get_by_role("button", name="Filter").click()
    maya.get_by_role("link", name="AUR0RA Luna bag 1:1 mirror quality").click()
    counter = maya.get_by_test_id("counter-notice")
    expect(counter).to_contain_text("removed by mistake")
    maya.get_by_label("Uphold the removal").check()
    maya.get_by_label("Reason", exact=True).fill(
        "The seller offers no licence from Aurora; Aurora has started proceedings in Florence. The removal stands."
    )
    shots(maya, "upholds the removal after the counter-notice")
    maya.get_by_role("button", name="Record decision", exact=True).click()
    expect(maya.get_by_role("alert").filter(has_text="Uphold the removal: item")).to_be_visible()
    maya.goto("/takedowns/moderation/?state=counter_noticed")
    expect(maya.get_by_role("link", name="AUR0RA Luna bag 1:1 mirror quality")).to_have_count(0)
    shots(maya, "the queue afterwards")

    # The transparency report: 90 days of notices and decisions, the DSA figures, today's decisions in them.
    maya.get_by_test_id("report-link").click()
    expect(maya.get_by_role("heading", name="Transparency report")).to_be_visible()
    daily = maya.get_by_test_id("daily-chart")
    expect(daily.get_by_text("Day", exact=True)).to_be_visible()
    assert daily.locator("circle").count() > 60  # a point a day, both lines
    expect(maya.get_by_test_id("dsa-figures")).to_contain_text("Decisions: takedowns upheld after a counter-notice")
    shots(maya, "the transparency report")


def test_seller_journey(open_as: Callable[..., Page], shots: Shots) -> None:
    seller = open_as("luxdeals")
    seller.goto("/")
    expect(seller.get_by_role("heading", name="Seller centre")).to_be_visible()
    row = seller.get_by_test_id("seller-item-row").filter(has_text="Аurоrа style handbag (inspired)")
    expect(row).to_contain_text("Approved")  # the takedown Maya approved
    shots(seller, "the seller centre")

    # The statement of reasons: what was decided, on which right, and how to contest it.
    row.get_by_role("link").first.click()
    statement = seller.get_by_test_id("statement-of-reasons")
    expect(statement).to_contain_text("Cyrillic look-alike letters")
    expect(statement).to_contain_text("Aurora sun logo")
    expect(statement).to_contain_text("How to contest")
    shots(seller, "the statement of reasons")

    # A counter-notice with every DMCA element; the rights holder is told.
    form = seller.get_by_test_id("counter-notice-form")
    form.get_by_label("Why the removal was a mistake").fill(
        "This is our own unbranded bag; the look-alike letters were the supplier's listing text and we have "
        "removed them. The sun on the photo is a generic motif, not Aurora's logo."
    )
    form.get_by_label("Name (or company)").fill("LuxDeals4U Trading Co.")
    form.get_by_label("Email").fill("legal@luxdeals4u.example")
    form.get_by_label("Postal address").fill("88 Nathan Road, Kowloon, Hong Kong")
    form.get_by_label(re.compile("under penalty of perjury")).check()
    form.get_by_label(re.compile("consent to the jurisdiction")).check()
    form.get_by_label("Signature (your full name)").fill("Wei Chen")
    shots(seller, "files a counter-notice")
    form.get_by_role("button", name="File").click()
    expect(seller.get_by_role("alert").filter(has_text="filed")).to_be_visible()
    expect(seller.get_by_test_id("counter-notice")).to_contain_text("our own unbranded bag")
    expect(seller.get_by_text("Counter-noticed").first).to_be_visible()
    shots(seller, "the counter-notice is filed")


def test_brand_viewer_journey(open_as: Callable[..., Page], shots: Shots) -> None:
    victor = open_as("victor")  # Aurora Leather, read-only
    victor.goto("/")
    expect(victor.get_by_role("link", name="Aurora Leather")).to_be_visible()
    shots(victor, "the dashboard")

    # The reports: 90 days of history, charts with axes and a table view.
    victor.get_by_role("link", name="Reports", exact=True).first.click()
    expect(victor.get_by_test_id("report-period")).to_contain_text("(90 days)")
    daily = victor.get_by_test_id("chart-detections")
    expect(daily).to_be_visible()
    assert daily.locator("a rect").count() > 30  # a bar a day on most of the 90 days, each a link to its rows
    expect(daily.get_by_text("Day", exact=True)).to_be_visible()  # the x axis title
    expect(victor.locator("svg.chart-svg")).to_have_count(7)
    shots(victor, "the reports, 90 days")

    # Filter: the last 30 days on the demo marketplace.
    filters = victor.get_by_test_id("report-filters")
    until = dt.date.fromisoformat(filters.get_by_label("To", exact=True).input_value())  # today, the default
    filters.get_by_label("From", exact=True).fill((until - dt.timedelta(days=30)).isoformat())
    filters.get_by_label("Marketplace", exact=True).fill("demo-market")
    filters.get_by_role("button", name="Show").click()
    expect(victor.get_by_test_id("report-period")).to_contain_text("(31 days) · demo-market")
    detections = int(victor.get_by_test_id("headline-detections").inner_text())
    assert detections > 0
    shots(victor, "filtered by date and marketplace")

    # Drill into a seller cluster (back on the quarter: which of the demo's clusters fall in the last 30
    # days depends on the day the demo was seeded): the sellers sharing a picture, and one's detections.
    victor.go_back()
    expect(victor.get_by_test_id("report-period")).to_contain_text("(90 days)")
    cluster = victor.get_by_test_id("cluster").first
    expect(cluster.get_by_test_id("cluster-picture").first.get_by_role("img")).to_be_visible()
    seller = cluster.get_by_test_id("cluster-seller").first
    seller_name = seller.get_by_test_id("cluster-seller-name").inner_text().strip()  # without "(suspended)"
    seller.click()
    expect(victor.get_by_test_id("seller-filter")).to_contain_text(seller_name)
    rows = victor.get_by_test_id("detection-row")
    expect(rows.first).to_be_visible()
    for index in range(rows.count()):
        expect(rows.nth(index)).to_contain_text(seller_name)
    shots(victor, "a seller of the cluster")

    # Export what the list shows: a CSV download, formula-safe.
    with victor.expect_download() as download_info:
        victor.get_by_test_id("export-detections").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    table = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    header, body = table[0], table[1:]
    assert header[:3] == ["detection_id", "brand", "state"]
    assert len(body) == rows.count()
    assert all(row[1] == "Aurora Leather" for row in body)
    assert {row[header.index("seller_name")] for row in body} == {seller_name}
    formulas = [cell for row in table for cell in row if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert formulas == [], formulas  # cells a spreadsheet would run are neutralised with a leading '

    # Read-only: no edit controls anywhere he goes, and the server refuses a change all the same.
    expect(victor.get_by_text("File a notice")).to_have_count(0)
    expect(victor.get_by_role("checkbox")).to_have_count(0)
    rows.first.get_by_role("link").last.click()
    expect(victor.get_by_role("heading", name=re.compile("Detection #"))).to_be_visible()
    expect(victor.get_by_role("button")).to_have_count(1)  # the account menu's "Log out" only
    state_before = victor.get_by_test_id("detection-state").inner_text()
    detection_url = victor.url
    shots(victor, "a detection, read only")
    victor.goto(f"{AURORA}/")
    for control in ("Edit", "Invite", "File a right", "Add logo"):
        expect(victor.get_by_role("link", name=control)).to_have_count(0)
        expect(victor.get_by_role("button", name=control)).to_have_count(0)
    csrf = next(c["value"] for c in victor.context.cookies() if c["name"] == "csrftoken")
    answer = victor.request.post(
        detection_url.rstrip("/") + "/state/",
        form={"state": "dismissed", "reason": "Viewer trying to dismiss"},
        headers={"X-CSRFToken": csrf, "Referer": detection_url},
    )
    assert answer.status == 403
    answer = victor.request.post(
        f"{AURORA}/edit/",
        form={"description": "Changed by a viewer"},
        headers={"X-CSRFToken": csrf, "Referer": detection_url},
    )
    assert answer.status in (403, 404)
    victor.goto(detection_url)
    expect(victor.get_by_test_id("detection-state")).to_have_text(state_before)
    shots(victor, "nothing changed")
