"""Writes for the catalogue: bulk upsert of listings from the platform, image uploads.

Ingestion is idempotent: each listing's content is hashed, and a listing whose hash did not
change is left alone (no write, no queued work). Items are validated one by one, so one bad
item is reported without failing its batch.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from core.models import AuditEvent
from core.tasks import enqueue_many_on_commit, enqueue_on_commit
from core.uploads import IMAGE_KINDS, InspectedFile, inspect_upload
from engine.matcher import query_features
from listings.models import Listing, ListingImage, SavedSearch, Seller
from listings.signals import listing_hold_changed, listings_changed

MAX_BATCH = 1000
MAX_IMAGES = 20
UPLOAD_POSITION_START = 100  # uploaded images come after the URL ones and survive URL updates
_MARKETPLACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_url = URLValidator(schemes=["http", "https"])


@dataclass
class ItemResult:
    index: int
    status: str  # created | updated | unchanged | failed
    listing_id: int | None = None
    marketplace: str = ""
    external_id: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class IngestResult:
    items: list[ItemResult]

    @property
    def counts(self) -> dict[str, int]:
        counts = {"created": 0, "updated": 0, "unchanged": 0, "failed": 0}
        for item in self.items:
            counts[item.status] += 1
        return counts


def _text(raw: dict[str, Any], name: str, errors: dict[str, list[str]], *, limit: int, required: bool) -> str:
    value = raw.get(name)
    if value is None:
        value = ""
    if not isinstance(value, str | int):
        errors.setdefault(name, []).append("Must be text.")
        return ""
    value = " ".join(str(value).split()) if name != "description" else str(value).strip()
    if required and not value:
        errors.setdefault(name, []).append("This field is required.")
    if len(value) > limit:
        errors.setdefault(name, []).append(f"At most {limit} characters.")
    return value


def clean_item(raw: Any) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """Validate one listing as sent by the platform; return (clean data, errors by field)."""
    errors: dict[str, list[str]] = {}
    if not isinstance(raw, dict):
        return None, {"non_field_errors": ["Each item must be a JSON object."]}
    clean: dict[str, Any] = {
        "marketplace": _text(raw, "marketplace", errors, limit=64, required=True),
        "external_id": _text(raw, "external_id", errors, limit=128, required=True),
        "title": _text(raw, "title", errors, limit=500, required=True),
        "description": _text(raw, "description", errors, limit=20000, required=False),
        "category": _text(raw, "category", errors, limit=200, required=False),
        "url": _text(raw, "url", errors, limit=1000, required=False),
        "currency": _text(raw, "currency", errors, limit=3, required=False).upper(),
        "status": _text(raw, "status", errors, limit=16, required=False) or Listing.Status.ACTIVE,
    }
    if clean["status"] == Listing.Status.HELD:
        errors.setdefault("status", []).append("“held” is set by the portal (gated brands), not by the feed.")
    if clean["marketplace"] and not _MARKETPLACE.match(clean["marketplace"]):
        errors.setdefault("marketplace", []).append("Letters, digits, dot, dash and underscore only.")
    if clean["status"] not in Listing.Status.values:
        errors.setdefault("status", []).append(f"One of: {', '.join(Listing.Status.values)}.")
    if clean["url"]:
        try:
            _url(clean["url"])
        except ValidationError:
            errors.setdefault("url", []).append("Enter a valid http(s) URL.")

    price = raw.get("price")
    clean["price"] = None
    if price not in (None, ""):
        try:
            number = Decimal(str(price))
            if not number.is_finite() or number < 0 or number >= Decimal("1e10"):
                raise InvalidOperation
            clean["price"] = number.quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            errors.setdefault("price", []).append("Enter a positive amount.")
        if not clean["currency"]:
            errors.setdefault("currency", []).append("A price needs its currency.")
    if clean["currency"] and not _CURRENCY.match(clean["currency"]):
        errors.setdefault("currency", []).append("Use a three-letter currency code.")

    seller = raw.get("seller")
    if not isinstance(seller, dict):
        errors.setdefault("seller", []).append("Give the seller as an object with external_id and name.")
        clean["seller"] = {}
    else:
        seller_errors: dict[str, list[str]] = {}
        clean["seller"] = {
            "external_id": _text(seller, "external_id", seller_errors, limit=128, required=True),
            "name": _text(seller, "name", seller_errors, limit=255, required=True),
            "country": _text(seller, "country", seller_errors, limit=2, required=False).upper(),
        }
        for name, messages in seller_errors.items():
            errors.setdefault(f"seller.{name}", []).extend(messages)

    if "images" not in raw or raw.get("images") is None:
        clean["images"] = None  # not sent: leave the listing's images as they are
        return (None, errors) if errors else (clean, {})
    images = raw.get("images") or []
    if not isinstance(images, list) or not all(isinstance(u, str) for u in images):
        errors.setdefault("images", []).append("A list of image URLs.")
        images = []
    if len(images) > MAX_IMAGES:
        errors.setdefault("images", []).append(f"At most {MAX_IMAGES} images.")
    clean_images = []
    for position, url in enumerate(images[:MAX_IMAGES]):
        url = url.strip()
        try:
            _url(url)
        except ValidationError:
            errors.setdefault("images", []).append(f"Image {position + 1} is not a valid http(s) URL.")
            continue
        if len(url) > 2000:
            errors.setdefault("images", []).append(f"Image {position + 1}: URL too long.")
            continue
        clean_images.append(url)
    clean["images"] = clean_images
    return (None, errors) if errors else (clean, {})


def content_hash(item: dict[str, Any]) -> str:
    canonical = {**item, "price": str(item["price"]) if item["price"] is not None else None}
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _sellers(items: list[dict[str, Any]]) -> dict[tuple[str, str], Seller]:
    wanted: dict[tuple[str, str], dict[str, str]] = {}
    for item in items:
        wanted[(item["marketplace"], item["seller"]["external_id"])] = item["seller"]
    existing: dict[tuple[str, str], Seller] = {}
    for marketplace in {m for m, _ in wanted}:
        ids = [e for m, e in wanted if m == marketplace]
        for seller in Seller.objects.filter(marketplace=marketplace, external_id__in=ids):
            existing[(seller.marketplace, seller.external_id)] = seller
    # Rows are inserted, updated and locked in key order: two batches sharing sellers then take
    # their locks in the same order and queue behind each other instead of deadlocking.
    missing = [
        Seller(marketplace=m, external_id=e, name=data["name"], country=data["country"])
        for (m, e), data in sorted(wanted.items())
        if (m, e) not in existing
    ]
    if missing:
        Seller.objects.bulk_create(missing, ignore_conflicts=True)  # a concurrent batch may create the same
        for seller in Seller.objects.filter(
            marketplace__in={s.marketplace for s in missing}, external_id__in=[s.external_id for s in missing]
        ):
            existing[(seller.marketplace, seller.external_id)] = seller
    renamed = []
    for key, data in sorted(wanted.items()):
        seller = existing[key]
        if (seller.name, seller.country) != (data["name"], data["country"] or seller.country):
            seller.name, seller.country = data["name"], data["country"] or seller.country
            seller.updated_at = timezone.now()  # bulk_update does not apply auto_now
            renamed.append(seller)
    if renamed:
        Seller.objects.bulk_update(renamed, ["name", "country", "updated_at"])
    return existing


def listings_ingest(*, items: list[Any], source: str = "api") -> IngestResult:
    """Upsert up to MAX_BATCH listings by (marketplace, external_id); report each item's outcome."""
    if len(items) > MAX_BATCH:
        raise ValidationError(f"At most {MAX_BATCH} listings per batch; this one has {len(items)}.")
    results: list[ItemResult] = []
    valid: list[tuple[ItemResult, dict[str, Any]]] = []
    first_index: dict[tuple[str, str], int] = {}
    for index, raw in enumerate(items):
        clean, errors = clean_item(raw)
        result = ItemResult(index=index, status="failed", errors=errors)
        results.append(result)
        if clean is None:
            continue
        key = (clean["marketplace"], clean["external_id"])
        result.marketplace, result.external_id = key
        if key in first_index:
            result.errors = {"external_id": [f"Appears twice in this batch (items {first_index[key]} and {index})."]}
            continue
        first_index[key] = index
        valid.append((result, clean))
    if not valid:
        return IngestResult(results)

    now = timezone.now()
    with transaction.atomic():
        sellers = _sellers([clean for _, clean in valid])
        existing: dict[tuple[str, str], Listing] = {}
        for marketplace in sorted({clean["marketplace"] for _, clean in valid}):
            ids = [clean["external_id"] for _, clean in valid if clean["marketplace"] == marketplace]
            # Images prefetched once per batch: the diff and the reconciliation both read them.
            locked = (
                Listing.objects.select_for_update(of=("self",))
                .filter(marketplace=marketplace, external_id__in=ids)
                .order_by("pk")
            )
            for listing in locked.select_related("seller").prefetch_related("images"):
                existing[(listing.marketplace, listing.external_id)] = listing

        to_create: list[tuple[ItemResult, Listing, list[str]]] = []
        to_update: list[tuple[ItemResult, Listing, list[str], dict[str, Any]]] = []
        for result, clean in valid:
            digest = content_hash(clean)
            seller = sellers[(clean["marketplace"], clean["seller"]["external_id"])]
            listing = existing.get((clean["marketplace"], clean["external_id"]))
            fields = {k: clean[k] for k in ("title", "description", "price", "currency", "category", "url", "status")}
            held = listing.removed_by_decision if listing is not None else False
            if held or seller.status == Seller.Status.SUSPENDED:
                # A takedown or a suspension removed it (or its seller is suspended): the feed may update
                # its text, not put it online.
                fields["status"] = Listing.Status.REMOVED
                held = True
            elif listing is not None and listing.hold_reason and fields["status"] != Listing.Status.REMOVED:
                # Held for a gated brand: only the gating app releases it; the feed may still take it down.
                fields["status"] = Listing.Status.HELD
            if listing is None:
                listing = Listing(
                    marketplace=clean["marketplace"], external_id=clean["external_id"], seller=seller,
                    first_seen_at=now, last_seen_at=now, changed_at=now, content_hash=digest,
                    removed_by_decision=held, **fields,
                )  # fmt: skip
                listing.compute_keys()
                to_create.append((result, listing, clean["images"]))
            elif listing.content_hash == digest:
                result.status, result.listing_id = "unchanged", listing.pk
            else:
                before = {k: getattr(listing, k) for k in fields}
                seller_before = (listing.seller.external_id, listing.seller.name)
                for name, value in fields.items():
                    setattr(listing, name, value)
                listing.seller = seller
                listing.removed_by_decision = held
                listing.content_hash, listing.last_seen_at, listing.changed_at = digest, now, now
                listing.updated_at = now  # bulk_update does not apply auto_now
                listing.needs_matching = True
                listing.compute_keys()
                changes = {k: {"from": str(before[k]), "to": str(fields[k])} for k in fields if before[k] != fields[k]}
                seller_after = (clean["seller"]["external_id"], clean["seller"]["name"])
                if seller_before != seller_after:
                    changes["seller"] = {"from": " / ".join(seller_before), "to": " / ".join(seller_after)}
                previous_urls = images_before(listing)
                if clean["images"] is not None and previous_urls != clean["images"]:
                    changes["images"] = {"from": len(previous_urls), "to": len(clean["images"])}
                to_update.append((result, listing, clean["images"], changes))

        to_create.sort(key=lambda entry: (entry[1].marketplace, entry[1].external_id))
        to_update.sort(key=lambda entry: entry[1].pk)
        Listing.objects.bulk_create([listing for _, listing, _ in to_create], batch_size=500)
        for result, listing, _ in to_create:
            result.status, result.listing_id = "created", listing.pk
        if to_update:
            Listing.objects.bulk_update(
                [listing for _, listing, _, _ in to_update],
                ["title", "description", "price", "currency", "category", "url", "status", "seller",
                 "content_hash", "last_seen_at", "changed_at", "needs_matching", "title_key", "search_key",
                 "category_key", "updated_at", "removed_by_decision"],
                batch_size=500,
            )  # fmt: skip
            for result, listing, _, _ in to_update:
                result.status, result.listing_id = "updated", listing.pk

        new_images = [
            ListingImage(listing=listing, position=pos, source_url=url)
            for _, listing, urls in to_create
            for pos, url in enumerate(urls or [])
        ]
        for _, listing, urls, _ in to_update:
            if urls is not None:
                new_images += _reconcile_images(listing, urls)
        ListingImage.objects.bulk_create(new_images, batch_size=1000)
        AuditEvent.objects.bulk_create(
            [
                AuditEvent(
                    actor_label=f"platform ({source})",
                    action="listing.updated",
                    object_type="listings.listing",
                    object_id=str(listing.pk),
                    object_repr=str(listing)[:255],
                    data=changes,
                )
                for _, listing, _, changes in to_update
            ],
            batch_size=500,
        )
        image_ids = [image.pk for image in new_images if image.pk]
        if not image_ids and new_images:  # backends that do not return ids from bulk_create
            image_ids = list(
                ListingImage.objects.filter(
                    listing__in=[image.listing_id for image in new_images], status=ListingImage.Status.PENDING
                ).values_list("pk", flat=True)
            )
        _queue_fetches(image_ids)
        changed_ids = [listing.pk for _, listing, _ in to_create] + [listing.pk for _, listing, _, _ in to_update]
        if changed_ids:
            transaction.on_commit(lambda: listings_changed.send(sender=Listing, listing_ids=changed_ids))
    return IngestResult(results)


def images_before(listing: Listing) -> list[str]:
    return [i.source_url for i in listing.images.all() if i.source_url and i.position < UPLOAD_POSITION_START]


def _reconcile_images(listing: Listing, urls: list[str]) -> list[ListingImage]:
    """Keep URL images whose URL stayed at its position; drop the others; return the new ones to create.

    Images the platform uploaded (positions from UPLOAD_POSITION_START) are not touched.
    """
    current = {
        image.position: image
        for image in listing.images.all()
        if image.source_url and image.position < UPLOAD_POSITION_START
    }
    stale = [image.pk for pos, image in current.items() if pos >= len(urls) or image.source_url != urls[pos]]
    if stale:
        ListingImage.objects.filter(pk__in=stale).delete()
    return [
        ListingImage(listing=listing, position=pos, source_url=url)
        for pos, url in enumerate(urls)
        if pos not in current or current[pos].pk in stale
    ]


def _queue_fetches(image_ids: Iterable[int]) -> None:
    from listings.tasks import listing_image_fetch

    enqueue_many_on_commit(listing_image_fetch, [(image_id,) for image_id in image_ids])


def images_requeue_stale(*, cutoff: datetime, limit: int) -> int:
    """Sweeper: images still waiting to be fetched since before `cutoff` are queued again; one whose
    attempts ran out (its last worker died mid-fetch) is failed with the reason."""
    rows = list(
        ListingImage.objects.filter(status=ListingImage.Status.PENDING, updated_at__lt=cutoff)
        .exclude(source_url="")
        .order_by("pk")
        .values_list("pk", "attempts")[:limit]
    )
    exhausted = [pk for pk, attempts in rows if attempts >= settings.IMAGE_FETCH_MAX_ATTEMPTS]
    if exhausted:
        ListingImage.objects.filter(pk__in=exhausted, status=ListingImage.Status.PENDING).update(
            status=ListingImage.Status.FAILED, error=f"Gave up after {settings.IMAGE_FETCH_MAX_ATTEMPTS} attempts"
        )
    again = [pk for pk, attempts in rows if attempts < settings.IMAGE_FETCH_MAX_ATTEMPTS]
    if again:
        with transaction.atomic():
            ListingImage.objects.filter(pk__in=again).update(updated_at=timezone.now())
            _queue_fetches(again)
    return len(again)


def image_store(*, image: ListingImage, data: bytes, inspected: InspectedFile) -> ListingImage:
    """Keep the bytes once per content (content-addressed name) and mark the image stored."""
    name = f"listing-images/{inspected.sha256[:2]}/{inspected.sha256}{inspected.kind.extension}"
    if not default_storage.exists(name):
        default_storage.save(name, ContentFile(data))
    # The same (border-trimmed) hashes the matcher and search by image compare against.
    features = query_features(data, local=False)
    changed = ListingImage.objects.filter(pk=image.pk).update(
        phash=f"{features.phash:016x}",
        dhash=f"{features.dhash:016x}",
        match_status=ListingImage.MatchStatus.PENDING,
        file=name,
        sha256=inspected.sha256,
        content_type=inspected.kind.content_type,
        width=inspected.width,
        height=inspected.height,
        status=ListingImage.Status.STORED,
        error="",
        updated_at=timezone.now(),  # update() skips auto_now; the processes' image indexes add rows by it
    )
    if changed:
        Listing.objects.filter(pk=image.listing_id).update(needs_matching=True, changed_at=timezone.now())
    image.refresh_from_db()
    return image


def image_fail(*, image_id: int, error: str) -> None:
    ListingImage.objects.filter(pk=image_id).update(status=ListingImage.Status.FAILED, error=error[:2000])


def listing_image_upload(*, listing: Listing, file: Any, position: int | None = None) -> ListingImage:
    """An image uploaded by the platform instead of a URL: checked by content, stored, recorded."""
    inspected = inspect_upload(
        file, allowed=IMAGE_KINDS, max_bytes=settings.DOCUMENT_MAX_BYTES, max_pixels=settings.IMAGE_MAX_PIXELS
    )
    data = file.read()
    with transaction.atomic():
        if position is None:
            last = listing.images.order_by("-position").values_list("position", flat=True).first()
            position = UPLOAD_POSITION_START if last is None else max(last + 1, UPLOAD_POSITION_START)
        image, _ = ListingImage.objects.update_or_create(
            listing=listing, position=position, defaults={"source_url": "", "status": ListingImage.Status.PENDING}
        )
        image = image_store(image=image, data=data, inspected=inspected)
        transaction.on_commit(lambda: listings_changed.send(sender=Listing, listing_ids=[listing.pk]))
    return image


SAVED_SEARCH_FIELDS = ("q", "marketplace", "category", "status", "price_min", "price_max")


def _clean_params(params: dict[str, Any]) -> dict[str, Any]:
    from listings.forms import ListingSearchForm

    form = ListingSearchForm({k: v for k, v in params.items() if k in SAVED_SEARCH_FIELDS})
    if not form.is_valid():
        raise ValidationError({"params": [f"{k}: {' '.join(v)}" for k, v in form.errors.items()]})
    clean = {k: str(v) for k, v in form.cleaned_data.items() if k in SAVED_SEARCH_FIELDS and v not in ("", None)}
    if not clean:
        raise ValidationError({"params": ["A saved search needs at least a query or a filter."]})
    return clean


def saved_search_create(
    *, actor: Any, brand: Any, name: str, params: dict[str, Any], notify: bool = True
) -> SavedSearch:
    name = " ".join(name.split())[:120]
    if not name:
        raise ValidationError({"name": ["Give the search a name."]})
    clean = _clean_params(params)
    if SavedSearch.objects.filter(brand=brand, name__iexact=name).exists():
        raise ValidationError({"name": [f"{brand.name} already has a saved search called “{name}”."]})
    with transaction.atomic():
        search = SavedSearch.objects.create(brand=brand, name=name, params=clean, notify=notify, created_by=actor)
        # The first run sets the baseline: only listings that appear or change afterwards are "new".
        saved_search_run(search=search, notify=False)
    return search


def saved_search_run(*, search: SavedSearch, notify: bool = True) -> int:
    """Run one saved search; return how many listings matched that are new since the last run."""
    from listings.selectors import ListingQuery, listing_search

    query = ListingQuery(**_query_kwargs(search.params))
    matches = listing_search(user=None, query=query, skip_access=True)
    now = timezone.now()
    new = matches.filter(changed_at__gt=search.last_run_at).count() if search.last_run_at else 0
    total = matches.count()
    SavedSearch.objects.filter(pk=search.pk).update(last_run_at=now, last_new_hits=new, total_hits=total)
    search.last_run_at, search.last_new_hits, search.total_hits = now, new, total
    if new and notify and search.notify:
        from listings.tasks import saved_search_notify

        enqueue_on_commit(saved_search_notify, search.pk, new)
    return new


def _query_kwargs(params: dict[str, Any]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {k: v for k, v in params.items() if k in ("q", "marketplace", "category", "status")}
    for name in ("price_min", "price_max"):
        if params.get(name) not in (None, ""):
            kwargs[name] = Decimal(params[name])
    return kwargs


def saved_searches_run_all() -> dict[str, int]:
    searches = list(SavedSearch.objects.select_related("brand"))
    notified = sum(1 for search in searches if saved_search_run(search=search))
    return {"searches": len(searches), "with_new_hits": notified}


def listings_set_status(
    *, actor: Any, listing_ids: Iterable[int], status: str, reason: str, data: dict | None = None
) -> list[int]:
    """Remove or reinstate listings (a takedown decision, a seller suspension); audited per listing.

    Returns the ids whose status actually changed. Listings already in `status` are left alone, so
    calling it twice changes nothing the second time. A listing removed here stays removed whatever
    the platform's feed says (`removed_by_decision`) until it is reinstated here.
    """
    if status not in Listing.Status.values:
        raise ValidationError({"status": f"One of: {', '.join(Listing.Status.values)}."})
    from core.services import audit_record

    changed: list[int] = []
    with transaction.atomic():
        listings = list(
            Listing.objects.select_for_update().filter(pk__in=list(listing_ids)).exclude(status=status).order_by("pk")
        )
        now = timezone.now()
        for listing in listings:
            previous = listing.status
            # A listing held for a gated brand stays held when a takedown is reversed: only the gating app
            # releases it.
            target = Listing.Status.HELD if listing.hold_reason and status != Listing.Status.REMOVED else status
            if target == previous:
                continue
            Listing.objects.filter(pk=listing.pk).update(
                status=target, removed_by_decision=status == Listing.Status.REMOVED, updated_at=now
            )
            listing.status = target
            audit_record(
                actor=actor,
                action=f"listing.{status}",
                obj=listing,
                from_state=previous,
                to_state=target,
                reason=reason,
                data=data,
            )
            changed.append(listing.pk)
    return changed


def listing_hold(*, listing_id: int, reason: str, actor: Any = None) -> bool:
    """Hold a listing (not shown as active) with its reason: a gated brand without proof of authenticity.

    A removed listing (takedown, suspension or the feed) is left alone. Holding a listing already held
    for the same reason changes nothing; another reason replaces the first. Returns whether anything
    changed. Audited, and the platform is told (`listing_hold_changed` -> `listing.held` webhook).
    """
    from core.services import audit_record

    reason = " ".join((reason or "").split())[:500]
    if not reason:
        raise ValidationError({"reason": "A held listing needs its reason."})
    with transaction.atomic():
        listing = Listing.objects.select_for_update().filter(pk=listing_id).first()
        if listing is None or listing.status == Listing.Status.REMOVED or listing.removed_by_decision:
            return False
        if listing.status == Listing.Status.HELD and listing.hold_reason == reason:
            return False
        previous = listing.status
        changed = (
            Listing.objects.filter(pk=listing.pk, status=previous)
            .exclude(status=Listing.Status.REMOVED)
            .update(status=Listing.Status.HELD, hold_reason=reason, updated_at=timezone.now())
        )
        if changed != 1:
            return False
        listing.status, listing.hold_reason = Listing.Status.HELD, reason
        audit_record(
            actor=actor, action="listing.held", obj=listing, from_state=previous, to_state=Listing.Status.HELD,
            reason=reason,
        )  # fmt: skip
        listing_hold_changed.send(sender=Listing, listing_id=listing.pk, held=True, reason=reason, actor=actor)
    return True


def listing_release(*, listing_id: int, actor: Any = None, reason: str = "") -> bool:
    """A held listing goes back online (held -> active) and its hold reason is cleared; audited, and the
    platform is told (`listing.released`). Returns False (nothing changed) if it was not held."""
    from core.services import audit_record

    with transaction.atomic():
        listing = Listing.objects.select_for_update().filter(pk=listing_id).first()
        if listing is None:
            return False
        if listing.status != Listing.Status.HELD:
            if listing.hold_reason:  # held, then taken down by the feed: nothing to hold it back any more
                Listing.objects.filter(pk=listing.pk).update(hold_reason="")
            return False
        changed = Listing.objects.filter(pk=listing.pk, status=Listing.Status.HELD).update(
            status=Listing.Status.ACTIVE, hold_reason="", updated_at=timezone.now()
        )
        if changed != 1:
            return False
        previous_reason = listing.hold_reason
        listing.status, listing.hold_reason = Listing.Status.ACTIVE, ""
        audit_record(
            actor=actor, action="listing.released", obj=listing, from_state=Listing.Status.HELD,
            to_state=Listing.Status.ACTIVE, reason=reason, data={"hold_reason": previous_reason},
        )  # fmt: skip
        listing_hold_changed.send(sender=Listing, listing_id=listing.pk, held=False, reason=reason, actor=actor)
    return True
