"""Per-brand calibration: the rule (engine.calibration), the brand's thresholds recomputed from its
decisions, matching using them, and who may see and reset them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import AuditEvent, PeriodicJobRun
from engine.calibration import Decision, calibrate, precision_recall
from listings.calibration import calibration_view
from listings.feedback import feedback_record_decision
from listings.matching import detection_set_state
from listings.models import BrandCalibration, Detection
from tests.conftest import ROLES, Cast, client_for
from tests.factories import DetectionFactory, IPRightFactory, ListingFactory
from tests.feedback import kit
from tests.takedowns.factories import seller_login

pytestmark = pytest.mark.django_db(transaction=True)


def _decisions(dismissed: list[float], confirmed: list[float]) -> list[Decision]:
    return [Decision(score=s, confirmed=False) for s in dismissed] + [
        Decision(score=s, confirmed=True) for s in confirmed
    ]


# --- The rule --------------------------------------------------------------------------------------


def test_the_threshold_keeps_every_confirmed_detection_and_drops_dismissed_ones_below() -> None:
    decisions = _decisions(dismissed=[0.55, 0.6, 0.62, 0.9], confirmed=[0.7, 0.8, 0.95])
    result = calibrate(signal="image:local", decisions=decisions, floor=0.5, min_decisions=5)
    assert result.calibrated
    assert result.threshold == pytest.approx((0.62 + 0.7) / 2)
    assert result.recall_calibrated == result.recall_global == 1.0
    assert result.precision_global == pytest.approx(3 / 7)
    assert result.precision_calibrated == pytest.approx(3 / 4)
    assert result.removed == 3


def test_the_threshold_never_goes_below_the_global_floor() -> None:
    # Decisions scored under the floor (made under an older, lower setting) do not pull it down.
    decisions = _decisions(dismissed=[0.2, 0.3, 0.35, 0.4], confirmed=[0.45, 0.7, 0.8])
    result = calibrate(signal="text", decisions=decisions, floor=0.6, min_decisions=2)
    assert result.threshold == 0.6
    assert not result.calibrated
    assert calibrate(signal="text", decisions=[], floor=0.6, min_decisions=0).threshold == 0.6


def test_too_few_decisions_or_no_confirmed_one_keep_the_global_threshold() -> None:
    decisions = _decisions(dismissed=[0.55, 0.6], confirmed=[0.9])
    few = calibrate(signal="image:hash", decisions=decisions, floor=0.5, min_decisions=4)
    assert (few.threshold, few.calibrated) == (0.5, False)
    assert "3 of the 4 decisions" in few.note
    none_confirmed = calibrate(signal="image:hash", decisions=_decisions([0.6] * 5, []), floor=0.5, min_decisions=4)
    assert (none_confirmed.threshold, none_confirmed.calibrated) == (0.5, False)
    assert precision_recall(_decisions([0.6], [0.7]), 0.65) == (1.0, 1.0)


# --- The brand's thresholds and matching -----------------------------------------------------------


def _decide(cast: Cast, *, dismissed: list[float], confirmed: list[float]) -> None:
    """The brand's decisions, through the services: dismissals by its manager, approved notices."""
    for score in dismissed:
        detection = DetectionFactory(brand=cast.brand_a, score=score)
        detection_set_state(actor=cast.manager_a, detection=detection, state="dismissed", reason="Authentic resale")
    for score in confirmed:
        detection = DetectionFactory(brand=cast.brand_a, score=score, state=Detection.State.REPORTED)
        feedback_record_decision(
            actor=cast.moderator, brand_id=cast.brand_a.pk, listing_id=detection.listing_id,
            detection_id=detection.pk, approved=True, reason="Counterfeit", notice="N-1",
        )  # fmt: skip


def _text_threshold(cast: Cast) -> float:
    return next(row for row in calibration_view(brand_id=cast.brand_a.pk)["signals"] if row["signal"] == "text")[
        "in_force"
    ]


def test_calibration_needs_the_minimum_number_of_decisions(cast: Cast, settings) -> None:
    settings.CALIBRATION_MIN_DECISIONS = 6
    _decide(cast, dismissed=[0.62, 0.64, 0.66], confirmed=[0.9, 0.95])
    assert _text_threshold(cast) == settings.MATCH_TEXT_MIN_SCORE  # 5 of 6: the global threshold

    _decide(cast, dismissed=[], confirmed=[0.92])

    assert _text_threshold(cast) == pytest.approx((0.66 + 0.9) / 2)
    calibration = BrandCalibration.objects.get(brand=cast.brand_a)
    assert calibration.thresholds == {"text": pytest.approx(0.78)}
    assert AuditEvent.objects.filter(action="calibration.recomputed", brand_id=cast.brand_a.pk).exists()
    # Another brand's thresholds are untouched.
    assert not BrandCalibration.objects.filter(brand=cast.brand_b, active=True).exists()


def test_matching_uses_the_brands_calibrated_threshold(cast: Cast, settings) -> None:
    settings.CALIBRATION_MIN_DECISIONS = 6
    right = IPRightFactory(brand=cast.brand_a, verified=True, kind="trademark_word", word_mark="AURORA")
    kit.word_mark(cast, right)
    weak_title = "AURORA inspired bag"
    before = kit.listing("C1", seller="S1", title=weak_title, price="49.90")
    weak = Detection.objects.get(listing=before, brand=cast.brand_a).score
    strong_listing = kit.listing("C2", seller="S1", title="AURORA replica bag", price="49.90")
    strong = Detection.objects.get(listing=strong_listing, brand=cast.brand_a).score
    assert strong > weak + 0.05

    # The brand dismissed detections scoring up to just above the weak one and confirmed the strong ones.
    _decide(cast, dismissed=[weak - 0.02, weak, weak + 0.01, weak + 0.01], confirmed=[strong, strong])
    threshold = _text_threshold(cast)
    assert weak < threshold <= strong

    again_weak = kit.listing("C3", seller="S2", title=weak_title, price="49.90")
    again_strong = kit.listing("C4", seller="S2", title="AURORA replica bag", price="49.90")
    assert not Detection.objects.filter(listing=again_weak, brand=cast.brand_a).exists()
    raised = Detection.objects.get(listing=again_strong, brand=cast.brand_a)
    assert raised.evidence["calibration"] == {
        "signal": "text", "threshold": round(threshold, 4), "global_threshold": settings.MATCH_TEXT_MIN_SCORE
    }  # fmt: skip


def test_a_reset_goes_back_to_the_global_thresholds_and_forgets_earlier_decisions(cast: Cast, settings) -> None:
    settings.CALIBRATION_MIN_DECISIONS = 4
    _decide(cast, dismissed=[0.62, 0.64], confirmed=[0.9, 0.95])
    assert _text_threshold(cast) > settings.MATCH_TEXT_MIN_SCORE

    from listings.calibration import calibration_reset

    calibration_reset(actor=cast.moderator, brand_id=cast.brand_a.pk, reason="Brand changed its catalogue")

    assert _text_threshold(cast) == settings.MATCH_TEXT_MIN_SCORE
    event = AuditEvent.objects.get(action="calibration.reset", brand_id=cast.brand_a.pk)
    assert (event.actor, event.reason, event.from_state, event.to_state) == (
        cast.moderator, "Brand changed its catalogue", "calibrated", "global"
    )  # fmt: skip


def test_the_periodic_job_recomputes_every_brand_and_shows_on_the_system_page(cast: Cast, settings) -> None:
    from listings.tasks import calibrations_recompute_all

    settings.CALIBRATION_MIN_DECISIONS = 4
    _decide(cast, dismissed=[0.62, 0.64], confirmed=[0.9, 0.95])
    BrandCalibration.objects.update(thresholds={}, active=False)

    result = calibrations_recompute_all.apply().get()

    assert result["calibrated"] == 1
    assert BrandCalibration.objects.get(brand=cast.brand_a).active
    assert "detection-calibration" in settings.CELERY_BEAT_SCHEDULE
    assert PeriodicJobRun.objects.filter(name="detection-calibration", runs=1).exists()


# --- Who sees and resets it ------------------------------------------------------------------------

PAGE_STATUS = {"anonymous": 302, "outsider": 404, "viewer": 200, "manager": 200, "moderator": 200, "admin": 200}
RESET_STATUS = {"anonymous": 302, "outsider": 404, "viewer": 403, "manager": 403, "moderator": 302, "admin": 302}


@pytest.mark.parametrize("role", ROLES)
def test_calibration_page_access(cast: Cast, client, role: str) -> None:
    response = client_for(client, cast.user(role)).get(reverse("listings:calibration", args=[cast.brand_a.slug]))
    assert response.status_code == PAGE_STATUS[role]
    if response.status_code == 200:
        assert 'data-testid="calibration"' in response.content.decode()
        assert ("Reset calibration" in response.content.decode()) == (role in ("moderator", "admin"))


@pytest.mark.parametrize("role", ROLES)
def test_only_platform_staff_reset_a_calibration(cast: Cast, client, role: str) -> None:
    response = client_for(client, cast.user(role)).post(
        reverse("listings:calibration-reset", args=[cast.brand_a.slug]), {"reason": "Fresh start"}
    )
    assert response.status_code == RESET_STATUS[role]
    reset = AuditEvent.objects.filter(action="calibration.reset", brand_id=cast.brand_a.pk).exists()
    assert reset == (RESET_STATUS[role] == 302 and role != "anonymous")


def test_a_seller_sees_no_calibration(cast: Cast, client, api) -> None:
    seller_user = seller_login(cast, ListingFactory().seller)
    assert (
        client_for(client, seller_user).get(reverse("listings:calibration", args=[cast.brand_a.slug])).status_code
        == 404
    )
    api.force_authenticate(seller_user)
    assert api.get("/api/v1/calibrations/").json()["results"] == []
    assert api.post(f"/api/v1/calibrations/{cast.brand_a.pk}/reset/", {}, format="json").status_code == 404


@pytest.mark.parametrize(
    ("role", "status"), [("outsider", 404), ("viewer", 403), ("manager", 403), ("moderator", 200), ("admin", 200)]
)
def test_calibration_api_reset_is_for_moderators(cast: Cast, api, role: str, status: int) -> None:
    api.force_authenticate(cast.user(role))
    response = api.post(f"/api/v1/calibrations/{cast.brand_a.pk}/reset/", {"reason": "x"}, format="json")
    assert response.status_code == status
    if status == 200:
        assert response.json()["reset_at"] is not None


def test_calibration_api_shows_the_figures_to_the_brand(cast: Cast, api, settings) -> None:
    settings.CALIBRATION_MIN_DECISIONS = 4
    _decide(cast, dismissed=[0.62, 0.64], confirmed=[0.9, 0.95])
    api.force_authenticate(cast.viewer_a)
    body = api.get(f"/api/v1/calibrations/{cast.brand_a.pk}/").json()
    text = next(row for row in body["signals"] if row["signal"] == "text")
    assert text["calibrated"] is True
    assert (text["decisions"], text["confirmed"], text["dismissed"]) == (4, 2, 2)
    assert text["precision_global"] == 0.5
    assert text["precision_calibrated"] == 1.0
    assert text["recall_global"] == text["recall_calibrated"] == 1.0
    assert [row["brand"] for row in api.get("/api/v1/calibrations/").json()["results"]] == [cast.brand_a.pk]
    api.force_authenticate(cast.manager_b)
    assert api.get(f"/api/v1/calibrations/{cast.brand_a.pk}/").status_code == 404
    api.force_authenticate(None)
    assert api.get(f"/api/v1/calibrations/{cast.brand_a.pk}/").status_code in (401, 403)


def test_decisions_in_one_transaction_queue_one_recomputation(cast: Cast) -> None:
    from django.db import transaction

    from core.models import OutboxMessage
    from listings.calibration import calibration_request

    with transaction.atomic():
        assert calibration_request(brand_id=cast.brand_a.pk) is True
        assert calibration_request(brand_id=cast.brand_a.pk) is False  # one run is queued: it counts both
        assert OutboxMessage.objects.filter(task="listings.calibration_recompute").count() == 1
    calibration = BrandCalibration.objects.get(brand=cast.brand_a)
    assert calibration.requested_at is None  # the run (in-process here) cleared the request
    assert calibration.computed_at is not None
