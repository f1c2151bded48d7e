"""The reports' periods and buckets: whole local days, weeks from Monday, months, in the site's time zone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from listings.models import Detection
from listings.selectors_reports import Period, bucket_of, detection_figures
from tests.conftest import Cast
from tests.factories import DetectionFactory

pytestmark = pytest.mark.django_db


def test_a_period_picks_its_bucket_by_length() -> None:
    today = dt.date(2026, 3, 18)  # a Wednesday
    assert Period(today - dt.timedelta(days=89), today).bucket == "day"
    assert len(Period(today - dt.timedelta(days=89), today).buckets()) == 90
    weeks = Period(dt.date(2025, 9, 4), today).buckets()  # 196 days, from a Thursday
    assert weeks[0] == (dt.date(2025, 9, 1), dt.date(2025, 9, 4), dt.date(2025, 9, 7))  # clipped to the period
    assert weeks[-1] == (dt.date(2026, 3, 16), dt.date(2026, 3, 16), today)
    months = Period(dt.date(2024, 2, 10), today).buckets()
    assert months[0] == (dt.date(2024, 2, 1), dt.date(2024, 2, 10), dt.date(2024, 2, 29))
    assert months[-1] == (dt.date(2026, 3, 1), dt.date(2026, 3, 1), today)


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "Europe/Paris", "America/New_York"])
@pytest.mark.parametrize("days", [30, 200, 900])
def test_buckets_are_the_local_day_week_or_month(cast: Cast, settings, zone: str, days: int) -> None:
    settings.TIME_ZONE = zone
    with timezone.override(zone):
        period = Period.last(days)
        detection = DetectionFactory(brand=cast.brand_a)
        # Late in the evening UTC: already the next day east of Greenwich, still the same day west of it.
        moment = dt.datetime.combine(period.until - dt.timedelta(days=3), dt.time(22, 30), tzinfo=dt.UTC)
        Detection.objects.filter(pk=detection.pk).update(created_at=moment)
        local = timezone.localtime(moment).date()
        expected = next(key for key, first, last in period.buckets() if first <= local <= last)
        got = Detection.objects.filter(pk=detection.pk).annotate(b=bucket_of("created_at", period)).get().b
        assert got == expected
        figures = detection_figures(detections=Detection.objects.filter(brand=cast.brand_a), period=period)
        assert figures.by_bucket == {(expected, "text"): 1}
