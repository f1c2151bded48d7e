"""Reference assets: backed by a verified right, validated, and processed in a job users can follow."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from brands import services
from brands.models import IPRight, Job, ReferenceAsset
from brands.signals import reference_asset_changed
from brands.tasks import asset_process
from tests.conftest import Cast
from tests.factories import IPRightFactory, jpeg_file, pdf_file, png_file

pytestmark = pytest.mark.django_db

HEX16 = re.compile(r"[0-9a-f]{16}")


@pytest.fixture
def right(cast: Cast) -> IPRight:
    return IPRightFactory(brand=cast.brand_a, verified=True, title="AURORA EU word mark")


class Subscriber:
    """A stand-in for the listings back-scan: records what it is told and may add work to the job."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.add_work = 0

    def __call__(self, sender: Any, **kwargs: Any) -> None:
        kwargs.pop("signal", None)
        self.calls.append(kwargs)
        if self.add_work and kwargs["job_id"]:
            services.job_progress(job_id=kwargs["job_id"], add_total=self.add_work, message="Back-scan queued")


@pytest.fixture
def subscriber() -> Iterator[Subscriber]:
    receiver = Subscriber()
    reference_asset_changed.connect(receiver, weak=False, dispatch_uid="test-assets-subscriber")
    try:
        yield receiver
    finally:
        reference_asset_changed.disconnect(dispatch_uid="test-assets-subscriber")


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def create(cast: Cast, right: IPRight, kind: str, **data: Any) -> ReferenceAsset:
    return services.asset_create(actor=cast.manager_a, brand=cast.brand_a, right=right, kind=kind, **data)


def jobs_of(asset: ReferenceAsset) -> list[Job]:
    return list(Job.objects.filter(object_type="brands.referenceasset", object_id=str(asset.pk)).order_by("pk"))


# --- What an asset needs ---------------------------------------------------------------------


@pytest.mark.parametrize("status", ["pending", "needs_info", "resubmitted", "rejected", "expired"])
def test_asset_needs_a_verified_right(cast: Cast, status: str) -> None:
    unverified = IPRightFactory(brand=cast.brand_a, status=status, title="Not yet")

    with pytest.raises(ValidationError) as excinfo:
        create(cast, unverified, "word_mark", label="Aurora", words=["Aurora"])

    assert "right" in excinfo.value.message_dict
    assert "verified" in excinfo.value.message_dict["right"][0]
    assert not ReferenceAsset.objects.exists()
    assert not Job.objects.exists()


def test_asset_cannot_rely_on_another_brands_right(cast: Cast) -> None:
    right_b = IPRightFactory(brand=cast.brand_b, verified=True)
    with pytest.raises(ValidationError) as excinfo:
        create(cast, right_b, "word_mark", label="Aurora", words=["Aurora"])
    assert "right" in excinfo.value.message_dict
    assert not ReferenceAsset.objects.exists()


@pytest.mark.parametrize("kind", ["logo", "product_photo"])
def test_image_assets_refuse_a_pdf(cast: Cast, right: IPRight, media: Path, kind: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        create(cast, right, kind, label="Logo", image=pdf_file("logo.pdf"))

    assert "must be an image" in " ".join(excinfo.value.messages)
    assert not ReferenceAsset.objects.exists()
    assert stored_files(media) == []


def test_image_assets_need_an_image(cast: Cast, right: IPRight) -> None:
    with pytest.raises(ValidationError) as excinfo:
        create(cast, right, "logo", label="Logo")
    assert "image" in excinfo.value.message_dict


def test_the_same_image_cannot_be_added_twice(cast: Cast, right: IPRight, media: Path) -> None:
    first = create(cast, right, "logo", label="Main logo", image=png_file(seed=1))
    with pytest.raises(ValidationError) as excinfo:
        create(cast, right, "product_photo", label="Again", image=png_file("other.png", seed=1))
    assert "Main logo" in excinfo.value.message_dict["image"][0]
    assert stored_files(media) == [media / first.image.name]


def test_word_mark_spellings_are_deduplicated_ignoring_case(cast: Cast, right: IPRight) -> None:
    asset = create(
        cast, right, "word_mark", label="Aurora", words=["Aurora", "AURORA", "  aurora  ", "Aur0ra", "", "aur0ra"]
    )
    assert asset.words == ["Aurora", "Aur0ra"]
    assert ReferenceAsset.objects.get(pk=asset.pk).words == ["Aurora", "Aur0ra"]


def test_word_mark_needs_a_spelling(cast: Cast, right: IPRight) -> None:
    with pytest.raises(ValidationError) as excinfo:
        create(cast, right, "word_mark", label="Aurora", words=["  ", ""])
    assert "words" in excinfo.value.message_dict


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"price_min": "120.00", "price_max": "80.00", "currency": "EUR"}, "price_max"),
        ({"price_min": "80", "price_max": "120", "currency": "EURO"}, "currency"),
        ({"price_min": "80", "price_max": "120", "currency": "€"}, "currency"),
        ({"price_min": "80", "price_max": "120", "currency": ""}, "currency"),
        ({"price_min": "-1", "currency": "EUR"}, "price_min"),
        ({"price_min": "cheap", "currency": "EUR"}, "price_min"),
        ({"price_max": "100", "currency": "EUR"}, "price_min"),
    ],
)
def test_price_range_is_validated(cast: Cast, right: IPRight, data: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        create(cast, right, "price_range", label="Classic bag", **data)
    assert field in excinfo.value.message_dict
    assert not ReferenceAsset.objects.exists()


def test_valid_price_range_is_kept_with_an_upper_case_currency(cast: Cast, right: IPRight) -> None:
    asset = create(cast, right, "price_range", label="Classic bag", price_min="80", price_max="120.5", currency="eur")
    asset.refresh_from_db()
    assert (str(asset.price_min), str(asset.price_max), asset.currency) == ("80.00", "120.50", "EUR")


def test_an_authorized_seller_is_listed_once(cast: Cast, right: IPRight) -> None:
    create(cast, right, "authorized_seller", label="Aurora flagship", marketplace="shopmart", seller_external_id="S-1")

    with pytest.raises(ValidationError) as excinfo:
        create(cast, right, "authorized_seller", label="Again", marketplace="ShopMart", seller_external_id="S-1")

    assert "Aurora flagship" in excinfo.value.message_dict["seller_external_id"][0]
    assert ReferenceAsset.objects.filter(kind="authorized_seller").count() == 1


# --- Processing --------------------------------------------------------------------------------


def test_creating_a_word_mark_runs_a_job_that_folds_its_spellings(
    cast: Cast, right: IPRight, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        asset = create(cast, right, "word_mark", label="Aurora", words=["Aurora Café", "AURORA"])

    asset.refresh_from_db()
    assert asset.features_status == "done"
    assert asset.features["folded"] == ["aurora", "aurora cafe"]
    assert asset.features["compact"] == ["aurora", "auroracafe"]
    assert asset.features_error == ""
    assert asset.features_updated_at is not None
    [job] = jobs_of(asset)
    assert job.kind == "asset.process"
    assert job.brand == cast.brand_a
    assert job.created_by == cast.manager_a
    assert job.status == "done"
    assert job.percent == 100
    assert job.finished_at is not None
    assert job.error == ""


@pytest.mark.parametrize("kind", ["logo", "product_photo"])
def test_creating_an_image_asset_computes_its_perceptual_hashes(
    cast: Cast, right: IPRight, django_capture_on_commit_callbacks: Any, media: Path, kind: str
) -> None:
    image = png_file("logo.png", seed=5, size=(120, 80)) if kind == "logo" else jpeg_file(seed=6, size=(120, 80))
    with django_capture_on_commit_callbacks(execute=True):
        asset = create(cast, right, kind, label="Aurora logo", image=image)

    asset.refresh_from_db()
    assert asset.features_status == "done"
    assert HEX16.fullmatch(asset.features["phash"])
    assert HEX16.fullmatch(asset.features["dhash"])
    assert (asset.features["width"], asset.features["height"]) == (120, 80)
    assert asset.image.name.startswith(f"assets/{cast.brand_a.pk}/")
    assert (media / asset.image.name).is_file()
    [job] = jobs_of(asset)
    assert (job.status, job.percent) == ("done", 100)


def test_nothing_is_processed_before_the_asset_is_committed(
    cast: Cast, right: IPRight, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        asset = create(cast, right, "word_mark", label="Aurora", words=["Aurora"])
        [job] = jobs_of(asset)
        assert job.status == "queued"
        assert ReferenceAsset.objects.get(pk=asset.pk).features_status == "queued"
    assert callbacks  # the work waits for the commit


def test_subscribers_hear_about_a_new_asset_with_its_job(
    cast: Cast, right: IPRight, subscriber: Subscriber, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        asset = create(cast, right, "word_mark", label="Aurora", words=["Aurora"])

    [job] = jobs_of(asset)
    assert subscriber.calls == [
        {"asset_id": asset.pk, "brand_id": cast.brand_a.pk, "change": "created", "job_id": job.pk}
    ]


def test_job_stays_running_until_the_subscribers_work_is_done(
    cast: Cast, right: IPRight, subscriber: Subscriber, django_capture_on_commit_callbacks: Any
) -> None:
    subscriber.add_work = 3
    with django_capture_on_commit_callbacks(execute=True):
        asset = create(cast, right, "word_mark", label="Aurora", words=["Aurora"])

    [job] = jobs_of(asset)
    assert job.status == "running"
    assert (job.progress_done, job.progress_total) == (1, 4)
    assert job.percent == 25
    assert ReferenceAsset.objects.get(pk=asset.pk).features_status == "done"

    services.job_progress(job_id=job.pk, done=2)
    job.refresh_from_db()
    assert (job.status, job.percent) == ("running", 75)

    services.job_progress(job_id=job.pk, done=1)
    services.job_finish(job_id=job.pk, message="Back-scan finished")
    job.refresh_from_db()
    assert (job.status, job.percent, job.message) == ("done", 100, "Back-scan finished")


def test_updating_an_asset_processes_it_again_in_a_new_job(
    cast: Cast, right: IPRight, subscriber: Subscriber, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        asset = create(cast, right, "word_mark", label="Aurora", words=["Aurora"])
    with django_capture_on_commit_callbacks(execute=True):
        services.asset_update(actor=cast.manager_a, asset=asset, words=["Aurora", "Aurora Leather"])

    asset.refresh_from_db()
    assert asset.features["folded"] == ["aurora", "aurora leather"]
    first, second = jobs_of(asset)
    assert (first.status, second.status) == ("done", "done")
    assert [call["change"] for call in subscriber.calls] == ["created", "updated"]
    assert subscriber.calls[1]["job_id"] == second.pk


def test_an_update_that_changes_nothing_queues_no_job(
    cast: Cast, right: IPRight, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        asset = create(cast, right, "word_mark", label="Aurora", words=["Aurora"])
        services.asset_update(actor=cast.manager_a, asset=asset, label="  Aurora ")
    assert len(jobs_of(asset)) == 1


def test_deleting_an_asset_removes_its_image_and_tells_subscribers(
    cast: Cast, right: IPRight, subscriber: Subscriber, media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        asset = create(cast, right, "logo", label="Logo", image=png_file(seed=7))
    assert (media / asset.image.name).is_file()
    asset_id = asset.pk

    with django_capture_on_commit_callbacks(execute=True):
        services.asset_delete(actor=cast.manager_a, asset=asset)

    assert not ReferenceAsset.objects.filter(pk=asset_id).exists()
    assert stored_files(media) == []
    assert subscriber.calls[-1] == {
        "asset_id": asset_id,
        "brand_id": cast.brand_a.pk,
        "change": "removed",
        "job_id": None,
    }


def test_a_corrupt_image_on_disk_fails_the_asset_and_its_job_with_a_reason(
    cast: Cast, right: IPRight, subscriber: Subscriber, media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        asset = create(cast, right, "logo", label="Logo", image=png_file(seed=8))
    (media / asset.image.name).write_bytes(b"\x89PNG\r\n\x1a\n this is no longer an image")
    job = services.job_create(kind="asset.process", title="Reprocess", brand=cast.brand_a, obj=asset, total=1)
    calls_before = len(subscriber.calls)

    result = asset_process.apply(args=[asset.pk, job.pk, "updated"])

    assert result.successful()  # recorded, not raised and not retried
    asset.refresh_from_db()
    job.refresh_from_db()
    assert asset.features_status == "failed"
    assert asset.features_error
    assert job.status == "failed"
    assert job.error.startswith("Could not compute features")
    assert job.finished_at is not None
    assert len(subscriber.calls) == calls_before  # nothing to back-scan with


def test_processing_an_asset_removed_meanwhile_finishes_its_job_quietly(cast: Cast, right: IPRight) -> None:
    job = services.job_create(kind="asset.process", title="Gone", brand=cast.brand_a, total=1)
    result = asset_process.apply(args=[987654, job.pk, "created"])
    assert result.successful()
    job.refresh_from_db()
    assert job.status == "done"
