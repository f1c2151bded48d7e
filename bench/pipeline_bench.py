"""End-to-end matching throughput: listings/s through PostgreSQL + Redis + real Celery workers.

Every signal is on: each listing has one stored photo (800–1200 px JPEG) and a title; the
references are logos (local features), authentic photos (hashes and local features), word
marks and price ranges of several brands. Part of the listings infringe (a logo pasted into
the photo, a copied authentic photo, an evasive brand name with "replica"), the rest do not.

    .venv/bin/python bench/pipeline_bench.py            (make bench-pipeline; --listings 3000)

Phase 1 (not timed) stores the listings and their images and queues their matching tasks
while no worker runs. Phase 2 starts `celery worker -Q match,backscan,notify --concurrency=<cores>` and
times from the moment the worker is ready until every listing is matched. The figure is set
against the target (≥ 116 listings/s, i.e. 10 million a day); the per-stage engine figures and
their naive baselines are in bench/matching_bench.py. Figures go to bench/results/pipeline.json
and into the `end_to_end` key of bench/results/matching.json when that file exists.

Needs PostgreSQL (DATABASE_URL pointing at any database of the server; the bench creates and
drops its own `ippc_e2e_<pid>`) and Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379/13).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET = 116.0  # listings/s: 10 million a day

from bench.search_bench import psql  # noqa: E402 - after the path set-up above


def photo(rng: random.Random, *, logo: bytes | None = None, paste: bytes | None = None) -> bytes:
    """A textured product photo, optionally with a logo pasted on it or an authentic photo inside."""
    from PIL import Image, ImageDraw, ImageFilter

    width = rng.randint(800, 1200)
    height = int(width * rng.uniform(0.75, 1.25))
    # Seeded from rng (PIL's effect_noise draws from C's rand(): its texture changed with whatever
    # else the process had done, so two runs of the same seed stored different photos).
    noise = np.random.default_rng(rng.getrandbits(32)).normal(128.0, rng.uniform(20, 60), (height // 8, width // 8))
    base = Image.fromarray(np.clip(noise, 0, 255).astype(np.uint8), "L").resize((width, height))
    tint = Image.new("RGB", (width, height), tuple(rng.randint(60, 230) for _ in range(3)))
    image = Image.blend(tint, base.convert("RGB"), 0.35)
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(3, 8)):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        box = [x0, y0, x0 + rng.randint(60, width // 2), y0 + rng.randint(60, height // 2)]
        colour = tuple(rng.randint(0, 255) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(1))
    if paste is not None:
        inner = Image.open(io.BytesIO(paste)).convert("RGB")
        inner.thumbnail((int(width * 0.7), int(height * 0.7)))
        image.paste(inner, ((width - inner.width) // 2, (height - inner.height) // 2))
    if logo is not None:
        mark = Image.open(io.BytesIO(logo)).convert("RGBA")
        side = int(width * rng.uniform(0.12, 0.3))
        mark = mark.resize((side, side)).rotate(rng.uniform(-12, 12), expand=True)
        image.paste(mark, (rng.randrange(0, width - mark.width), rng.randrange(0, height - mark.height)), mark)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=rng.randint(70, 90))
    return out.getvalue()


def logo_art(rng: random.Random) -> bytes:
    from PIL import Image, ImageDraw

    size = 400
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    colour = (*tuple(rng.randint(0, 200) for _ in range(3)), 255)
    for _ in range(rng.randint(3, 6)):
        x0, y0 = rng.randrange(0, 300), rng.randrange(0, 300)
        shape = [x0, y0, x0 + rng.randint(40, 120), y0 + rng.randint(40, 120)]
        kind = rng.random()
        if kind < 0.33:
            draw.ellipse(shape, outline=colour, width=rng.randint(8, 20))
        elif kind < 0.66:
            draw.rectangle(shape, fill=colour)
        else:
            draw.polygon(
                [(shape[0], shape[3]), ((shape[0] + shape[2]) // 2, shape[1]), (shape[2], shape[3])], fill=colour
            )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def new_reference_latency(right, rng: random.Random) -> dict[str, float]:
    """A brand saves a new logo while the workers run: seconds until its features are ready (computed
    by a worker), and until a listing showing it, pushed right then, is detected (every worker's
    catalogue picks the reference up within MATCH_INDEX_REFRESH_SECONDS; nothing is rebuilt)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from brands import services as brand_services
    from brands.models import ReferenceAsset
    from core.uploads import IMAGE_KINDS, inspect_upload
    from listings.matching import listings_queue_matching
    from listings.models import Detection, Listing, ListingImage
    from listings.services import image_store, listings_ingest

    logo = logo_art(rng)
    data = photo(rng, logo=logo)
    started = time.perf_counter()
    asset = brand_services.asset_create(
        actor=None, brand=right.brand, right=right, kind="logo", label="new logo",
        image=SimpleUploadedFile("new.png", logo),
    )  # fmt: skip
    deadline = started + 120
    while ReferenceAsset.objects.get(pk=asset.pk).features_status != "done":
        if time.perf_counter() > deadline:
            return {"features_ready_s": float("nan"), "detected_s": float("nan")}
        time.sleep(0.02)
    ready = time.perf_counter()
    listings_ingest(
        items=[{"marketplace": "bench", "external_id": "NEWREF", "title": "Handbag", "price": "49", "currency": "EUR",
                "seller": {"external_id": "S-new", "name": "New seller"}}],
        source="bench",
    )  # fmt: skip
    listing = Listing.objects.get(marketplace="bench", external_id="NEWREF")
    image = ListingImage.objects.create(listing=listing, position=0)
    inspected = inspect_upload(
        SimpleUploadedFile("n.jpg", data), allowed=IMAGE_KINDS, max_bytes=20_000_000, max_pixels=50_000_000
    )
    image_store(image=image, data=data, inspected=inspected)
    listings_queue_matching(listing_ids=[listing.pk])
    while time.perf_counter() < deadline:
        if Detection.objects.filter(listing=listing, asset=asset).exists():
            return {
                "features_ready_s": round(ready - started, 2),
                "detected_s": round(time.perf_counter() - started, 2),
            }
        time.sleep(0.02)
    return {"features_ready_s": round(ready - started, 2), "detected_s": float("nan")}


def image_search_latency(pictures: dict[int, bytes], rng: random.Random) -> dict[str, float]:
    """Search by image, as a brand user would (synchronous): a re-encoded, mirrored copy of a
    stored photo; p50/p95 over the queries after one warm-up, and how often its listing ranks first."""
    import statistics

    from django.contrib.auth.models import Group, User
    from PIL import Image, ImageOps

    from core.roles import MODERATORS
    from listings.selectors import image_search

    user = User.objects.create_user(f"bench-moderator-{rng.randrange(10**6)}", is_staff=True)
    user.groups.add(Group.objects.get(name=MODERATORS))
    queries = []
    for listing_id, data in pictures.items():
        image = ImageOps.mirror(Image.open(io.BytesIO(data)).convert("RGB"))
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=60)
        queries.append((listing_id, out.getvalue()))
    image_search(user=user, data=queries[0][1])  # loads the index once, as a running web process has
    times, first = [], 0
    for listing_id, data in queries:
        started = time.perf_counter()
        hits = image_search(user=user, data=data)
        times.append((time.perf_counter() - started) * 1000)
        first += bool(hits) and hits[0].listing.pk == listing_id
    times.sort()
    return {
        "queries": len(queries),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[min(len(times) - 1, round(0.95 * (len(times) - 1)))], 1),
        "found_first": first,
    }


def profile_matching(ids: list[int], *, cprofile: bool = True) -> None:
    """Run the matching task's body on `ids` here, in batches like the queue does (under cProfile)."""
    import cProfile
    import pstats

    import cv2
    from django.conf import settings

    from listings.matching import listings_match

    cv2.setNumThreads(1)  # a worker process, as celery runs it
    batch = max(1, settings.MATCH_BATCH_SIZE)
    listings_match(listing_ids=ids[:batch])  # warm-up: the catalogue is loaded once per process
    ids = ids[batch:]
    profiler = cProfile.Profile()
    started, wall = time.process_time(), time.perf_counter()
    if cprofile:
        profiler.enable()
    for start in range(0, len(ids), batch):
        listings_match(listing_ids=ids[start : start + batch])
    profiler.disable()
    cpu, wall = time.process_time() - started, time.perf_counter() - wall
    n = max(1, len(ids))
    print(
        f"\n{len(ids)} listings matched in-process: {1000 * cpu / n:.1f} ms CPU per listing"
        f" ({1000 * wall / n:.1f} ms wall: the rest is waiting on PostgreSQL, the disk or the machine)"
    )
    if not cprofile:
        return
    stats = pstats.Stats(profiler).sort_stats("cumulative")
    stats.print_stats(45)
    stats.sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=3000)
    parser.add_argument("--brands", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="300 listings, 5 brands: a smoke run")
    parser.add_argument(
        "--profile",
        type=int,
        metavar="N",
        default=0,
        help="instead of timing the worker, match N of the stored listings in this process and print the CPU "
        "time per listing and, under cProfile, where it goes (nothing is written to bench/results)",
    )
    parser.add_argument(
        "--no-cprofile", action="store_true", help="with --profile: CPU time only (no profiler overhead)"
    )
    args = parser.parse_args()
    if args.quick:
        args.listings, args.brands = 300, 5
    rng = random.Random(args.seed)

    admin = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    if not admin.startswith(("postgres://", "postgresql://")):
        sys.exit("The benchmark needs PostgreSQL: set DATABASE_URL=postgres://user@host:5432/postgres")
    parts = urlsplit(admin)
    db_name = f"ippc_e2e_{os.getpid()}"
    bench_url = urlunsplit(parts._replace(path=f"/{db_name}"))
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    broker = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    prefix = f"ippc-e2e-{uuid.uuid4().hex[:8]}:"
    media = Path(tempfile.mkdtemp(prefix="ippc-e2e-media-"))
    env = {
        **os.environ, "DATABASE_URL": bench_url, "REDIS_URL": broker, "CELERY_KEY_PREFIX": prefix,
        "MEDIA_ROOT": str(media), "DEBUG": "1", "LOG_LEVEL": "WARNING",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }  # fmt: skip
    env.pop("CELERY_BROKER_URL", None)
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "ippc.settings"
    psql(admin_url, f"CREATE DATABASE {db_name}")
    worker = None
    try:
        import django

        django.setup()
        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.core.management import call_command
        from django.db import connection
        from django.utils import timezone
        from tqdm import tqdm

        from brands import services as brand_services
        from brands.models import IPRight, Job
        from core.uploads import IMAGE_KINDS, inspect_upload
        from ippc.celery import app
        from listings.apps import ListingsConfig  # noqa: F401
        from listings.matching import listings_queue_matching
        from listings.models import Detection, Listing, ListingImage
        from listings.services import image_store, listings_ingest
        from listings.signals import listings_changed

        app.conf.broker_transport_options = {**app.conf.broker_transport_options, "global_keyprefix": prefix}
        app.conf.task_always_eager = True  # references: features computed here, before the timed part
        print(f"migrating {db_name}…", flush=True)
        call_command("migrate", verbosity=0)
        manager = None
        logos, photos, names = [], [], []
        print(f"references: {args.brands} brands (logo, authentic photo, word mark, price range each)", flush=True)
        for b in range(args.brands):
            name = f"Brand{chr(65 + b % 26)}{b:02d}x"
            brand = brand_services.brand_create(actor=None, name=name)
            right = IPRight.objects.create(
                brand=brand, kind="trademark_combined", title=f"{name} mark", registration_number=f"R{b}",
                office="EUIPO", jurisdictions=["EU"], nice_classes=[18], holder_name=name, status="verified",
                valid_from="2020-01-01", word_mark=name, submitted_at=timezone.now(), decided_at=timezone.now(),
            )  # fmt: skip
            logo, authentic = logo_art(rng), photo(rng)
            logos.append(logo)
            photos.append(authentic)
            names.append(name)
            for kind, extra in (
                ("logo", {"image": SimpleUploadedFile("logo.png", logo)}),
                ("product_photo", {"image": SimpleUploadedFile("photo.jpg", authentic)}),
                ("word_mark", {"words": [name]}),
                ("price_range", {"price_min": "300", "price_max": "900", "currency": "EUR"}),
            ):
                brand_services.asset_create(actor=manager, brand=brand, right=right, kind=kind, label=kind, **extra)
        assert not Job.objects.exclude(status="done").exists(), "reference features failed"

        # Phase 1: listings and stored images, matching queued (no worker yet).
        app.conf.task_always_eager = False
        listings_changed.receivers = []  # queued explicitly below, once per listing
        infringing = 0
        ids: list[int] = []
        pictures_by_listing: dict[int, bytes] = {}
        for start in tqdm(range(0, args.listings, 200), desc="storing listings", unit="batch"):
            items, pictures = [], []
            for i in range(start, min(args.listings, start + 200)):
                roll, b = rng.random(), rng.randrange(args.brands)
                title = f"{rng.choice(['Classic', 'New', 'Vintage'])} {rng.choice(['bag', 'jacket', 'watch'])} {i}"
                if roll < 0.1:
                    pictures.append(photo(rng, logo=logos[b]))
                    infringing += 1
                elif roll < 0.2:
                    pictures.append(photo(rng, paste=photos[b]))
                    infringing += 1
                elif roll < 0.3:
                    title = f"{names[b][:3]} {names[b][3:]} {title} replica 1:1"
                    pictures.append(photo(rng))
                    infringing += 1
                else:
                    pictures.append(photo(rng))
                items.append({
                    "marketplace": "bench", "external_id": f"E{i}", "title": title, "price": "49", "currency": "EUR",
                    "seller": {"external_id": f"S{i % 97}", "name": f"Seller {i % 97}"},
                })  # fmt: skip
            listings_ingest(items=items, source="bench")
            by_ext = dict(
                Listing.objects.filter(external_id__in=[x["external_id"] for x in items]).values_list(
                    "external_id", "id"
                )
            )
            for item, data in zip(items, pictures, strict=True):
                image = ListingImage.objects.create(listing_id=by_ext[item["external_id"]], position=0)
                inspected = inspect_upload(
                    SimpleUploadedFile("p.jpg", data), allowed=IMAGE_KINDS, max_bytes=20_000_000, max_pixels=50_000_000
                )
                image_store(image=image, data=data, inspected=inspected)
                ids.append(by_ext[item["external_id"]])
                if len(pictures_by_listing) < 60:
                    pictures_by_listing[ids[-1]] = data
        Listing.objects.update(needs_matching=True)
        tasks = listings_queue_matching(listing_ids=ids)
        connection.close()
        print(
            f"{len(ids)} listings stored ({infringing} planted infringements); {tasks} matching tasks queued",
            flush=True,
        )

        if args.profile:
            profile_matching(ids[: args.profile], cprofile=not args.no_cprofile)
            return

        # Phase 2: real workers drain the queue.
        log = media / "worker.log"
        cmd = [
            sys.executable, "-m", "celery", "-A", "ippc", "worker", "-Q", "match,backscan,notify",
            f"--concurrency={args.concurrency}", "--without-gossip", "--without-mingle", "--without-heartbeat",
            "-n", f"e2e-{uuid.uuid4().hex[:6]}@%h", "--loglevel=INFO",
        ]  # fmt: skip
        with log.open("w") as handle:
            worker = subprocess.Popen(
                cmd, cwd=ROOT, env={**env, "LOG_LEVEL": "INFO"}, stdout=handle, stderr=subprocess.STDOUT
            )
        while "ready." not in log.read_text(errors="replace"):
            if worker.poll() is not None:
                sys.exit(f"worker exited:\n{log.read_text()}")
            time.sleep(0.05)
        started = time.perf_counter()
        with tqdm(total=len(ids), desc="matching (workers)", unit="listing") as bar:
            done = 0
            while done < len(ids):
                time.sleep(0.25)
                now_done = Listing.objects.filter(needs_matching=False).count()
                bar.update(now_done - done)
                done = now_done
                if worker.poll() is not None:
                    sys.exit(f"worker exited:\n{log.read_text()[-4000:]}")
        elapsed = time.perf_counter() - started
        rate = len(ids) / elapsed
        search_ms = image_search_latency(pictures_by_listing, rng)
        new_reference_s = new_reference_latency(right, rng)
        detections = Detection.objects.count()
        found = Detection.objects.values("listing").distinct().count()
        failed = ListingImage.objects.filter(match_status="failed").count()
        result = {
            "listings": len(ids),
            "images_per_listing": 1,
            "brands": args.brands,
            "references": {
                "logos": args.brands,
                "photos": args.brands,
                "word_marks": args.brands,
                "price_ranges": args.brands,
            },
            "worker_concurrency": args.concurrency,
            "cores": os.cpu_count(),
            "seconds": round(elapsed, 2),
            "listings_per_s": round(rate, 1),
            "listings_per_day": round(rate * 86400),
            "target_listings_per_s": TARGET,
            "planted_infringements": infringing,
            "listings_with_detections": found,
            "detections": detections,
            "image_failures": failed,
            "image_search": search_ms,
            "new_reference": new_reference_s,
        }
        print()
        print(
            f"{'listings':>10} {'seconds':>8} {'listings/s':>11} {'per day':>13} {'target/s':>9} {'detected':>9} {'planted':>8}"
        )
        print(
            f"{len(ids):>10} {elapsed:>8.1f} {rate:>11.1f} {rate * 86400:>13,.0f} {TARGET:>9.0f} {found:>9} {infringing:>8}"
        )
        # A smoke run (--quick) never replaces the committed figures.
        out = ROOT / ("var/bench/pipeline-quick.json" if args.quick else "bench/results/pipeline.json")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2))
        matching = ROOT / "bench" / "results" / "matching.json"
        if matching.exists() and not args.quick:
            data = json.loads(matching.read_text())
            data["end_to_end"] = result
            matching.write_text(json.dumps(data, indent=2))
        print(
            f"search by image over {len(ids)} stored images: p50 {search_ms['p50_ms']} ms, "
            f"p95 {search_ms['p95_ms']} ms, copy ranked first {search_ms['found_first']}/{search_ms['queries']}"
        )
        print(
            f"a new logo reference: features ready {new_reference_s['features_ready_s']} s after it was saved; "
            f"a listing showing it, pushed then, detected at {new_reference_s['detected_s']} s"
        )
        print(f"written to {out}")
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        # WITH (FORCE) ends this process's own connections too
        psql(admin_url, f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")
        import redis

        client = redis.Redis.from_url(broker)
        stale = list(client.scan_iter(match=f"{prefix}*"))
        if stale:
            client.delete(*stale)
        import shutil

        shutil.rmtree(media, ignore_errors=True)


if __name__ == "__main__":
    main()
