"""Bulk filing at scale: how long a brand manager waits for a 500-listing notice.

Builds, in a throw-away SQLite database, one brand with 500 listings (a stored picture each) and 500
detections (an evidence picture each), then times through Django's test client (the whole request:
middleware, queries, templates):
- the detections list, 200 a page, with "file a notice for all 500 new detections these filters match";
- the notice form opened with all 500 of them chosen;
- filing the 500-listing notice (the form's POST, one notice);
- the notice's page (50 listings a page, thumbnails lazy) — first and last page — and, for comparison,
  the same page with every listing on it (what it served before it was paginated).

    .venv/bin/python bench/notice_page_bench.py            (about a minute on 2 cores)
    .venv/bin/python bench/notice_page_bench.py --items 320 --runs 9

Writes bench/results/notice_page.json. Figures are medians of --runs warm requests.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=500, help="listings in the notice (default 500)")
    parser.add_argument("--runs", type=int, default=5, help="timed requests per page (median)")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "notice_page.json"))
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="ippc-notice-bench-"))
    (tmp / "static").mkdir()
    os.environ.update(
        DATABASE_URL=f"sqlite:///{tmp / 'bench.sqlite3'}", MEDIA_ROOT=str(tmp / "media"), DEBUG="0",
        STATIC_ROOT=str(tmp / "static"),
        SECRET_KEY=secrets.token_urlsafe(64), ALLOWED_HOSTS="testserver", SECURE_SSL_REDIRECT="0", LOG_LEVEL="WARNING", TAKEDOWN_MAX_ITEMS=str(max(500, args.items)),
    )  # fmt: skip
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "ippc.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    setup_test_environment()  # the test client's host, an in-memory mail outbox
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # No collectstatic here: static URLs unhashed (the manifest storage would refuse every page).
    static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    settings.STORAGES = {**settings.STORAGES, "staticfiles": static}
    print(f"database in {tmp}; migrating…", flush=True)
    call_command("migrate", verbosity=0)

    from brands.models import Membership
    from listings.models import Detection, ListingImage
    from takedowns import views_complaints
    from takedowns.models import Complaint
    from tests.factories import (
        BrandFactory,
        DetectionFactory,
        IPRightFactory,
        ListingFactory,
        UserFactory,
        image_bytes,
    )

    brand = BrandFactory(name="Bench Brand")
    manager = UserFactory(username="bench-manager", first_name="Ada", last_name="Lovelace")
    Membership.objects.create(user=manager, brand=brand, role="manager")
    right = IPRightFactory(brand=brand, verified=True, title="BENCH word mark")
    print(f"{args.items} listings with a stored picture, {args.items} detections with an evidence picture…", flush=True)
    started = time.perf_counter()
    from django.core.files.base import ContentFile

    picture = image_bytes("JPEG", seed=3, size=(480, 480))
    for n in range(args.items):
        listing = ListingFactory(title=f"BENCH replica bag {n}")
        image = ListingImage(listing=listing, position=0, status="stored", content_type="image/jpeg", width=480,
                             height=480, sha256=f"{n:064x}", match_status="done")  # fmt: skip
        image.file.save(f"bench/{n}.jpg", ContentFile(picture), save=False)
        image.save()
        DetectionFactory(brand=brand, listing=listing, score=0.6 + (n % 40) / 100, with_picture=True)
    print(f"  built in {time.perf_counter() - started:.1f} s", flush=True)

    client = Client(secure=True)  # production settings (DEBUG off): as over HTTPS
    client.force_login(manager)

    def timed(label: str, method: str, url: str, data: dict | None = None, runs: int = args.runs) -> dict:
        response = getattr(client, method)(url, data or {})  # warm-up (and the response we check)
        assert response.status_code in (200, 302), (label, response.status_code)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            getattr(client, method)(url, data or {})
            times.append(time.perf_counter() - start)
        figure = {"median_s": round(statistics.median(times), 3), "max_s": round(max(times), 3),
                  "bytes": len(response.content), "status": response.status_code}  # fmt: skip
        print(f"  {label:<58} {figure['median_s']:>6.3f} s  {figure['bytes'] / 1024:>7.0f} KB", flush=True)
        return figure

    results: dict = {"items": args.items, "runs": args.runs, "database": "sqlite", "figures": {}}
    figures = results["figures"]
    detections = reverse("listings:detections")
    figures["detections_list_200_a_page"] = timed(
        "detections list, 200 a page", "get", detections, {"brand": brand.pk, "page_size": 200}
    )
    form_url = reverse("takedowns:complaint-new")
    figures["notice_form_all_chosen"] = timed(
        f"notice form with all {args.items} detections chosen", "get", form_url,
        {"select": "detections", "brand": brand.pk},
    )  # fmt: skip
    ids = ",".join(str(pk) for pk in Detection.objects.filter(brand=brand).values_list("pk", flat=True))
    post = {
        "brand": brand.pk, "detections": ids, "right": right.pk, "infringement_type": "counterfeit",
        "explanation": "Copies our registered BENCH mark on bags we did not make, at a tenth of the price.",
        "filer_name": "Ada Lovelace", "filer_email": "ada@bench.example", "good_faith": "on",
        "accurate_under_penalty": "on", "signature_name": "Ada Lovelace", "action": "submit",
        "idempotency_key": "bench-1",
    }  # fmt: skip
    start = time.perf_counter()
    if os.environ.get("BENCH_PROFILE"):
        import cProfile

        with cProfile.Profile() as profile:
            response = client.post(form_url, post)
        profile.dump_stats(os.environ["BENCH_PROFILE"])
    else:
        response = client.post(form_url, post)
    filing = time.perf_counter() - start
    assert response.status_code == 302, response.status_code
    complaint = Complaint.objects.get()
    assert complaint.items.count() == args.items
    figures["file_one_notice"] = {"seconds": round(filing, 2), "notices": 1, "listings": args.items}
    print(f"  {'filing the notice (one POST)':<58} {filing:>6.3f} s", flush=True)
    detail = reverse("takedowns:complaint-detail", args=[complaint.pk])
    figures["notice_page_first"] = timed("notice page, page 1 (50 listings)", "get", detail)
    last = -(-args.items // views_complaints.ITEMS_PER_PAGE)
    figures["notice_page_last"] = timed(f"notice page, page {last}", "get", detail, {"page": last})
    views_complaints.ITEMS_PER_PAGE = 10**6
    figures["notice_page_unpaginated"] = timed(
        f"for comparison: all {args.items} listings on one page", "get", detail, runs=max(1, args.runs // 2)
    )
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(results, indent=1) + "\n")
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
