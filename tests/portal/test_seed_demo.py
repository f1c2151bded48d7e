"""The demo seed: every role present, credentials printed once, safe to run again."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from brands.models import Brand, Membership
from core.roles import is_moderator, is_platform_admin

pytestmark = pytest.mark.django_db


def _seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def _credentials(output: str) -> dict[str, str]:
    return dict(
        re.findall(
            r"^\s+(?:manager|viewer|agent|moderator|platform admin|platform system)\s+\S+(?:\s\S+)?\s+(\w+)\s+(\S+)$",
            output,
            re.M,
        )
    )


def test_seed_creates_every_role_and_prints_working_credentials() -> None:
    output = _seed()
    credentials = _credentials(output)
    assert set(credentials) == {"alice", "victor", "nina", "oskar", "lars", "maya", "admin", "marketplace"}
    assert Brand.objects.count() >= 2
    for brand in Brand.objects.all():
        roles = set(Membership.objects.filter(brand=brand).values_list("role", flat=True))
        assert roles == {"manager", "viewer"}
    users = get_user_model().objects
    assert is_moderator(users.get(username="maya"))
    assert is_platform_admin(users.get(username="admin"))
    client = Client()
    assert client.login(username="alice", password=credentials["alice"])
    html = client.get("/").content.decode()
    assert "Aurora Leather" in html
    assert "Nordpeak" not in html


def test_demo_staff_get_an_authenticator_key_and_recovery_codes_that_work() -> None:
    from base64 import b32decode

    from django_otp import match_token
    from django_otp.oath import totp

    from core.mfa import token_check

    output = _seed()
    keys = dict(re.findall(r"^\s+(\w+)\s+authenticator key ([A-Z2-7 ]+?)\s+recovery codes", output, re.M))
    assert set(keys) == {"maya", "admin"}
    maya = get_user_model().objects.get(username="maya")
    code = f"{totp(b32decode(keys['maya'].replace(' ', ''))):06d}"
    assert match_token(maya, code) is not None
    recovery = re.search(r"^\s+maya\s+authenticator key .* recovery codes (\S+),", output, re.M).group(1)
    assert token_check(user=maya, token=recovery) is None  # as typed, dashes and all
    assert token_check(user=maya, token=recovery) == "The second-factor code is wrong or expired."  # once only


def test_second_run_changes_nothing_and_prints_no_passwords() -> None:
    _seed()
    users = get_user_model().objects.count()
    output = _seed()
    assert "not seeded" in output
    assert _credentials(output) == {}
    assert get_user_model().objects.count() == users


def test_reset_passwords_gives_new_working_passwords() -> None:
    first = _credentials(_seed())
    second = _credentials(_seed("--reset-passwords"))
    assert set(second) == set(first)
    assert second["alice"] != first["alice"]
    assert Client().login(username="alice", password=second["alice"])


def test_fixed_password_option() -> None:
    _seed("--password", "demo-demo-demo")
    assert Client().login(username="nina", password="demo-demo-demo")


def _check_rights_in_every_state_with_assets_processed() -> None:
    from brands.models import AgentAuthorization, IPDocument, IPRight, Job, ReferenceAsset

    assert set(IPRight.objects.values_list("status", flat=True)) == {"verified", "pending", "needs_info", "rejected"}
    assert IPDocument.objects.filter(kind="certificate").count() == IPRight.objects.count()
    assert set(ReferenceAsset.objects.values_list("kind", flat=True)) == {
        "logo", "product_photo", "word_mark", "price_range", "authorized_seller", "stay_down",
    }  # fmt: skip
    assert set(ReferenceAsset.objects.values_list("features_status", flat=True)) == {"done"}
    assert set(Job.objects.values_list("status", flat=True)) == {"done"}
    logo = ReferenceAsset.objects.filter(kind="logo").first()
    assert len(logo.features["phash"]) == 16
    assert AgentAuthorization.objects.get().status == "pending"


@pytest.mark.django_db(transaction=True)  # real commits, as in the test below
def test_the_demo_is_whole_where_a_broker_is_configured_and_no_worker_runs_yet(settings) -> None:
    """`seed_demo` against PostgreSQL + Redis (production-like) builds the same demo: its stories build on
    detections, which it computes itself rather than leaving them to a worker that starts later."""
    from ippc.celery import app
    from listings.models import Detection, Listing

    app.conf.task_always_eager = False  # as configured with REDIS_URL (the test fixture made it eager)
    broker = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:9/0"  # nothing listens there: nothing may be sent
    try:
        _seed("--stories-only")
    finally:
        app.conf.broker_url = broker
        app.conf.task_always_eager = True
    flagged = set(Detection.objects.values_list("listing__external_id", flat=True))
    assert {"X-200", "X-201", "X-204", "X-205", "X-401", "X-403"} <= flagged
    x201 = Detection.objects.filter(listing__external_id="X-201", brand__slug="aurora-leather")
    assert any(d.evidence_image for d in x201)  # its evidence picture, for the moderator's queue
    assert not Listing.objects.filter(needs_matching=True).exists()


@pytest.mark.django_db(transaction=True)  # real commits: matching runs as it does after `make run`'s seeding
def test_demo_stories_show_rights_in_every_state_and_listings_matched_with_detections_in_several_states() -> None:
    from listings.models import Detection, Listing

    _seed("--stories-only")
    _check_rights_in_every_state_with_assets_processed()
    flagged = set(Detection.objects.values_list("listing__external_id", flat=True))
    # Counterfeits with a pasted logo, an evasive name or a stolen catalogue photo are flagged ...
    assert {"X-200", "X-201", "X-204", "X-205", "X-401", "X-403"} <= flagged
    # ... the brands' own stores and the innocent listings are not.
    assert not flagged & {"A-100", "A-101", "N-300", "G-500", "G-501", "G-502", "G-503", "G-504"}
    assert set(Detection.objects.values_list("state", flat=True)) == {"new", "dismissed", "reported"}
    assert any(d.signals[0] == "image:local" and d.evidence_image for d in Detection.objects.all())
    # The sun printed small and recoloured on X-205 is found by the learned logo stage, its box drawn.
    printed = [d for d in Detection.objects.filter(listing__external_id="X-205") if "image:logo" in d.signals]
    assert printed
    assert all(d.evidence_image for d in printed)
    # The sun small in its own colours on X-209: its look alone names nothing, the keypoints in its box
    # place the whole logo (drawn where they put it).
    checked = Detection.objects.get(listing__external_id="X-209", brand__name="Aurora Leather")
    assert checked.signals[0] == "image:logo_box"
    assert checked.evidence["image_match"]["inliers"] >= checked.evidence["thresholds"]["min_inliers"]
    assert checked.evidence_image
    # X-206's title is clean: the brand's name and "REPLICA 1:1" are only printed in its photo, read by OCR.
    read = Detection.objects.get(listing__external_id="X-206", brand__name="Aurora Leather")
    assert "image:text" in read.signals
    assert "text" not in read.signals
    assert {entry["found"] for entry in read.evidence["photo_text"]} >= {"AURORA"}
    assert read.evidence_image
    # X-404's label spells out the word in Nordpeak's logo, spaced (ORB finds no logo there): found by
    # reading it, a logo detection that draws the line read.
    worded = Detection.objects.get(listing__external_id="X-404", brand__name="Nordpeak Outdoor")
    assert worded.signals[0] == "image:logo_text"
    assert worded.evidence["image_match"]["text"] == "NORDPEAK"
    assert worded.evidence["reference"]["kind"] == "logo"
    assert worded.evidence_image
    # Stay-down: X-207's photo, removed by Aurora's approved takedown, re-listed by another seller as X-208
    # (cropped, re-encoded): the only re-listed content, first in Maya's queue. Look-alike demo shots are not.
    relisted = Detection.objects.filter(signals__0="image:relisted")
    assert list(relisted.values_list("listing__external_id", flat=True)) == ["X-208"]
    origin = relisted.get().evidence["relisted"]
    assert origin["listing"]["external_id"] == "X-207"
    assert origin["same_seller"] is False
    assert relisted.get().evidence_image
    from django.contrib.auth import get_user_model

    from takedowns.selectors import moderation_queue

    assert moderation_queue(user=get_user_model().objects.get(username="maya"))[0].listing.external_id == "X-208"
    assert not Listing.objects.filter(needs_matching=True).exists()


@pytest.mark.django_db(transaction=True)
def test_the_full_demo_covers_the_workflow_and_spreads_over_ninety_days() -> None:
    """The whole demo, seeded once (a minute of matching: both checks read the same seeding)."""
    from django.utils import timezone

    started = timezone.now()
    _seed("--password", "demo-demo-demo")
    _check_notices_cover_the_workflow_states_and_a_suspended_repeat_infringer()
    _check_history_spreads_over_ninety_days_with_a_shape_and_in_order(started)
    # The demo's audit trail (notices, decisions, strikes, suspensions) is one unbroken hash chain.
    out = StringIO()
    call_command("audit_verify", stdout=out)
    assert re.match(r"OK: \d{3,} entries", out.getvalue()), out.getvalue()


def _check_notices_cover_the_workflow_states_and_a_suspended_repeat_infringer() -> None:
    from listings.models import Listing, Seller
    from takedowns.models import ComplaintItem, Suspension

    story = ComplaintItem.objects.filter(listing__external_id__startswith="X-")  # the history's are below
    states = dict(story.values_list("listing__external_id", "state"))
    # The other stories' listings (feedback, gating) only have the drafts fast track makes for Aurora.
    others = ComplaintItem.objects.exclude(listing__external_id__regex=r"^(H|X)-")
    assert set(others.values_list("state", "complaint__source")) <= {("draft", "auto")}
    assert states == {
        "X-200": "counter_noticed", "X-201": "submitted", "X-202": "in_review", "X-203": "needs_info",
        "X-204": "rejected", "X-400": "approved", "X-401": "approved", "X-402": "approved",
        "X-207": "approved", "X-208": "submitted",
    }  # fmt: skip
    assert ComplaintItem.objects.get(listing__external_id="X-201").is_overdue
    repeat = Seller.objects.get(external_id="S-4410")
    assert repeat.status == "suspended"
    assert Suspension.objects.get(seller=repeat).state == "active"
    assert set(Listing.objects.filter(seller=repeat).values_list("status", flat=True)) == {"removed"}
    # The seller's login sees its own notice and the counter-notice it filed.
    client = Client()
    assert client.login(username="luxdeals", password="demo-demo-demo")


def _check_history_spreads_over_ninety_days_with_a_shape_and_in_order(started) -> None:
    """Charts need a shape: three months of listings, detections and notices, growing, quieter at weekends,
    with a campaign's spike; and every row after what it follows (detection after listing, notice after
    detection, decision after notice, counter-notice after decision), none in the future."""
    import collections
    import datetime as dt

    from django.utils import timezone

    from listings.models import Detection, Listing
    from takedowns.models import Complaint, ComplaintItem, CounterNotice, Decision

    now = timezone.now()
    assert Listing.objects.count() >= 200
    assert Detection.objects.count() >= 150
    assert Complaint.objects.count() >= 30
    days = {timezone.localdate(d) for d in Detection.objects.values_list("created_at", flat=True)}
    assert len(days) >= 60
    oldest = Listing.objects.order_by("first_seen_at").first().first_seen_at
    assert started - dt.timedelta(days=92) <= oldest <= started - dt.timedelta(days=80)
    for model, stamp in ((Listing, "first_seen_at"), (Detection, "created_at"), (Complaint, "submitted_at"),
                         (ComplaintItem, "decided_at"), (Decision, "created_at"), (CounterNotice, "created_at")):  # fmt: skip
        assert not model.objects.filter(**{f"{stamp}__gt": now}).exists(), model
    for detection in Detection.objects.select_related("listing"):
        assert detection.created_at >= detection.listing.first_seen_at, detection.pk
        taken = (detection.evidence.get("listing") or {}).get("taken_at")
        # Re-dated with its detection; one matched at seeding time was snapshot a few ms before its row was saved.
        assert taken is None or abs(dt.datetime.fromisoformat(taken) - detection.created_at) < dt.timedelta(
            seconds=1
        ), detection.pk
    # Drafts (fast track drafts notices from Aurora's sure new detections) are not submitted yet.
    for item in ComplaintItem.objects.exclude(state="draft").select_related("detection", "complaint"):
        if item.detection is not None:
            assert item.complaint.submitted_at >= item.detection.created_at, item.pk
        if item.decided_at is not None:
            assert item.decided_at >= item.submitted_at, item.pk
        assert dt.datetime.fromisoformat(item.snapshot["captured_at"]) == item.submitted_at, item.pk
    for decision in Decision.objects.select_related("item"):
        assert decision.created_at >= decision.item.submitted_at, decision.pk
    for counter in CounterNotice.objects.select_related("item"):
        first = counter.item.decisions.order_by("created_at").first()
        assert counter.created_at >= first.created_at, counter.pk
    assert set(ComplaintItem.objects.values_list("state", flat=True)) >= {
        "submitted", "approved", "rejected", "counter_noticed", "reinstated", "upheld",
    }  # fmt: skip
    # The shape: more listings in the last month than in the first, fewer on weekends, one week's spike.
    seen = [timezone.localtime(s) for s in Listing.objects.values_list("first_seen_at", flat=True)]
    first_month = sum(1 for s in seen if s < started - dt.timedelta(days=60))
    last_month = sum(1 for s in seen if s >= started - dt.timedelta(days=30))
    assert last_month > first_month * 1.3
    per_weekday = collections.Counter(s.weekday() for s in seen)
    assert (per_weekday[5] + per_weekday[6]) / 2 < sum(per_weekday[d] for d in range(5)) / 5
    weekly = collections.Counter(timezone.localdate(d).isocalendar()[:2] for d in Detection.objects.values_list(
        "created_at", flat=True))  # fmt: skip
    ordered = sorted(weekly.values())
    assert ordered[-1] >= 1.5 * ordered[len(ordered) // 2]
