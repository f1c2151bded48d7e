"""The matching pipeline's writes: listings in, detections with evidence out.

For each listing: its text goes through the word-mark matcher and the counterfeit-term and
price signals; each stored image is decoded at reduced size, hashed and matched (perceptual
hashes, local features with a geometric check) against every brand's references; whatever
passes the thresholds (settings) becomes a `Detection` with its evidence. Re-running is
idempotent: a detection is keyed by (listing, image, asset) and updated in place. Listings of
a brand's authorized sellers are never flagged for that brand.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import reduce
from operator import or_
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Max, Min, Q
from django.utils import timezone

from brands.models import Job, ReferenceAsset
from core.services import audit_record, audit_record_many
from core.tasks import enqueue_many_on_commit
from engine.evidence import render_match
from engine.matcher import ImageMatch, query_features
from engine.normalize import key as search_key
from engine.ocr import OCR_VERSION, OcrResult, TextLine, read_text
from engine.text_signals import (
    PriceSignal,
    TermHit,
    TextSignals,
    WordMarkHit,
    counterfeit_terms,
    price_signal,
    text_signals,
)
from listings import calibration, references
from listings.feedback import (
    earlier_caption,
    feedback_apply,
    feedback_forget_dismissal,
    feedback_record_dismissal,
)
from listings.models import Detection, Listing, ListingImage
from listings.search_keys import photo_text_key
from listings.signals import detection_raised, detections_found
from listings.staydown import relisted_caption, relisted_findings

logger = logging.getLogger(__name__)


@dataclass
class Finding:
    brand_id: int
    image_id: int | None
    asset_id: int | None
    score: float
    signals: list[str]
    evidence: dict[str, Any]
    match: ImageMatch | None = None


@dataclass
class MatchSummary:
    listings: int = 0
    images: int = 0
    image_failures: int = 0
    created: int = 0
    updated: int = 0
    new_by_brand: dict[int, int] = field(default_factory=dict)
    new_ids_by_brand: dict[int, list[int]] = field(default_factory=dict)
    matched_images: list[int] = field(default_factory=list)
    failed_images: dict[int, str] = field(default_factory=dict)
    readings: dict[int, OcrResult] = field(default_factory=dict)  # image id -> text read now (to store)
    raised_ids: list[int] = field(default_factory=list)  # detections created, or found stronger than before

    def as_dict(self) -> dict[str, Any]:
        return {
            "listings": self.listings,
            "images": self.images,
            "image_failures": self.image_failures,
            "created": self.created,
            "updated": self.updated,
        }


def combine(image_score: float, text_score: float) -> float:
    """One score from an image match and the brand's text signals.

    The stronger signal counts in full and the weaker one adds half of what is left, so two
    independent signals of 0.6 give 0.8, and a weak text signal never lowers an image match.
    """
    strong, weak = max(image_score, text_score), min(image_score, text_score)
    return round(min(1.0, strong + (1.0 - strong) * weak * 0.5), 4)


def _snapshot(listing: Listing) -> dict[str, Any]:
    return {
        "marketplace": listing.marketplace,
        "external_id": listing.external_id,
        "title": listing.title,
        "description": listing.description[:2000],
        "price": str(listing.price) if listing.price is not None else None,
        "currency": listing.currency,
        "url": listing.url,
        "seller": {"external_id": listing.seller.external_id, "name": listing.seller.name},
        "content_hash": listing.content_hash,
        "taken_at": timezone.now().isoformat(),
    }


def _price_for(catalogue: references.Catalogue, brand_id: int, listing: Listing) -> PriceSignal | None:
    best: PriceSignal | None = None
    for reference in catalogue.price_ranges.get(brand_id, []):
        signal = price_signal(
            price=listing.price,
            currency=listing.currency,
            reference_min=reference.minimum,
            reference_max=reference.maximum,
            reference_currency=reference.currency,
        )
        if signal is not None and (best is None or signal.score > best.score):
            best = signal
    return best


@dataclass
class PhotoText:
    """What one listing photo says, for the text signals: its reading and the hits found in it."""

    image_id: int
    lines: list[TextLine]
    marks: list[tuple[int, WordMarkHit, int]] = field(default_factory=list)  # (asset id, hit, line number)
    terms: list[tuple[TermHit, int]] = field(default_factory=list)  # (hit, line number)


def _photo_text(catalogue: references.Catalogue, image_id: int, reading: OcrResult) -> PhotoText:
    """Word marks and counterfeit terms in a photo's text, through the same matchers as titles.

    Matched line by line (a mark is not read across two lines); each hit keeps its line, so the
    evidence can draw it, and is labelled as found in the photo.
    """
    photo = PhotoText(image_id=image_id, lines=reading.lines)
    for number, line in enumerate(reading.lines):
        for asset_id, hit in catalogue.word_marks.find(title=line.text):
            photo.marks.append((asset_id, replace(hit, field="photo"), number))
        for term in counterfeit_terms(title=line.text):
            photo.terms.append((replace(term, field="photo"), number))
    return photo


def _text_findings(
    catalogue: references.Catalogue, listing: Listing, photos: list[PhotoText]
) -> dict[int, tuple[TextSignals, int, PhotoText | None]]:
    """Per brand: its text signals on this listing (title, description and the text read in its
    photos), the word-mark asset that fired first, and the photo that mark was read in (None: the
    listing's own text)."""
    hits: list[tuple[int, WordMarkHit, PhotoText | None]] = [
        (asset_id, hit, None)
        for asset_id, hit in catalogue.word_marks.find(title=listing.title, description=listing.description)
    ]
    for photo in photos:
        hits += [(asset_id, hit, photo) for asset_id, hit, _ in photo.marks]
    by_brand: dict[int, list[tuple[int, WordMarkHit, PhotoText | None]]] = defaultdict(list)
    for asset_id, hit, photo in hits:
        info = catalogue.assets.get(asset_id)
        if info is not None:
            by_brand[info.brand_id].append((asset_id, hit, photo))
    if not by_brand:
        return {}
    # Once, for every brand: counterfeit talk in the listing's text and in its photos.
    terms = counterfeit_terms(title=listing.title, description=listing.description)
    terms += [term for photo in photos for term, _ in photo.terms]
    out: dict[int, tuple[TextSignals, int, PhotoText | None]] = {}
    for brand_id, brand_hits in by_brand.items():
        signals = text_signals(
            title=listing.title,
            description=listing.description,
            word_marks=[hit for _, hit, _ in brand_hits],
            price=_price_for(catalogue, brand_id, listing),
            terms=terms,
        )
        # The strongest mark; the listing's own text rather than a photo when both have it.
        strongest = max(brand_hits, key=lambda triple: (triple[1].score, triple[2] is None))
        out[brand_id] = (signals, strongest[0], strongest[2])
    return out


def _photo_evidence(catalogue: references.Catalogue, brand_id: int, photos: list[PhotoText]) -> list[dict[str, Any]]:
    """The brand's word marks and every counterfeit term read in the photos: what, where, how sure."""
    out: list[dict[str, Any]] = []
    for photo in photos:
        found: list[tuple[dict[str, Any], int]] = []
        for asset_id, hit, number in photo.marks:
            info = catalogue.assets.get(asset_id)
            if info is not None and info.brand_id == brand_id:
                fields = {"kind": "word_mark", "mark": hit.mark, "normalised": hit.normalised, "method": hit.method}
                found.append(({**fields, "found": hit.found}, number))
        for term, number in photo.terms:
            found.append(({"kind": "counterfeit_term", "term": term.term, "found": term.found}, number))
        for fields, number in found:
            line = photo.lines[number]
            out.append(
                {
                    "image_id": photo.image_id,
                    **fields,
                    "line": line.text,
                    "confidence": round(line.score, 3),
                    "quad": [list(point) for point in line.quad],
                }
            )
    return out


def _in_listing_text(signals: TextSignals) -> bool:
    """A word mark was found in the listing's title or description (not only in a photo)."""
    return any(hit.field != "photo" for hit in signals.word_marks)


def _reading(image: ListingImage, data: bytes, summary: MatchSummary) -> OcrResult | None:
    """The photo's text: as stored when read by this reader's version, else read now (and stored)."""
    if not settings.MATCH_OCR:
        return None
    stored = image.ocr or {}
    if stored.get("version") == OCR_VERSION:
        return OcrResult.from_dict(stored)
    reading = read_text(data)
    summary.readings[image.pk] = reading
    return reading


def listing_findings(catalogue: references.Catalogue, listing: Listing, summary: MatchSummary) -> list[Finding]:
    """Everything the engine finds on one listing, already filtered by thresholds and authorizations."""
    findings: list[Finding] = []
    thresholds = {
        "hash_radius": settings.MATCH_HASH_RADIUS,
        "min_inliers": settings.MATCH_MIN_INLIERS,
        "image_min_score": settings.MATCH_IMAGE_MIN_SCORE,
        "text_min_score": settings.MATCH_TEXT_MIN_SCORE,
    }
    snapshot = _snapshot(listing)
    floors = calibration.floors()  # per brand and signal: its calibrated threshold, else the global one
    matched: list[tuple[ListingImage, list[ImageMatch]]] = []
    photos: list[PhotoText] = []
    for image in listing.images.all():
        if image.status != ListingImage.Status.STORED or not image.file:
            continue
        summary.images += 1
        try:
            with image.file.open("rb") as handle:
                data = handle.read()
            reading = _reading(image, data, summary)
            features = query_features(data, logos=settings.MATCH_LOGO_MODEL)
            # A logo's words read in the photo find it too (signal "logo_text").
            matches = catalogue.matcher.match(features, text=reading.lines if reading is not None else ())
        except (OSError, ValueError, SyntaxError) as exc:  # permanent: recorded on the image, not retried
            summary.image_failures += 1
            summary.failed_images[image.pk] = f"Could not read the image: {exc}"[:2000]
            continue
        summary.matched_images.append(image.pk)
        matched.append((image, matches))
        if reading is not None and reading.lines:
            photos.append(_photo_text(catalogue, image.pk, reading))
    text = _text_findings(catalogue, listing, photos)
    photo_evidence = {brand_id: _photo_evidence(catalogue, brand_id, photos) for brand_id in text}
    image_brands: set[int] = set()
    for image, matches in matched:
        for match in matches:
            info = catalogue.assets.get(match.key)
            if info is None or match.score < floors.image(info.brand_id, match.signal, reference=info.kind):
                continue
            brand_text = text.get(info.brand_id)
            text_score = brand_text[0].score if brand_text else 0.0
            in_photos = photo_evidence.get(info.brand_id) or []
            signals = (
                [f"image:{match.signal}"]
                + (["text"] if brand_text and _in_listing_text(brand_text[0]) else [])
                + (["image:text"] if in_photos else [])
            )
            findings.append(
                Finding(
                    brand_id=info.brand_id,
                    image_id=image.pk,
                    asset_id=info.asset_id,
                    score=combine(match.score, text_score),
                    signals=signals,
                    evidence={
                        "listing": {**snapshot, "image": {"id": image.pk, "sha256": image.sha256}},
                        "reference": {"asset_id": info.asset_id, "label": info.label, "kind": info.kind},
                        "image_match": match.as_dict(),
                        "text": brand_text[0].as_dict() if brand_text else None,
                        "photo_text": in_photos,
                        # Inliers needed depend on the reference: logos have fewer corners than photos.
                        "thresholds": {
                            **thresholds,
                            "min_inliers": settings.MATCH_LOGO_MIN_INLIERS
                            if info.kind == ReferenceAsset.Kind.LOGO
                            else settings.MATCH_MIN_INLIERS,
                            "logo_similarity": settings.MATCH_LOGO_SIMILARITY,
                            "logo_box_similarity": settings.MATCH_LOGO_BOX_SIMILARITY,
                        },
                    },
                    match=match,
                )
            )
            image_brands.add(info.brand_id)
    for brand_id, (signals, asset_id, photo) in text.items():
        if brand_id in image_brands or signals.score < floors.text(brand_id, in_photo=photo is not None):
            continue  # an image detection of this brand already carries the text evidence
        info = catalogue.assets[asset_id]
        in_photos = photo_evidence.get(brand_id) or []
        in_text = ["text"] if _in_listing_text(signals) else []
        # A mark read only in a photo is that photo's detection: its evidence draws where.
        names = ["image:text", *in_text] if photo is not None else [*in_text, *(["image:text"] if in_photos else [])]
        findings.append(
            Finding(
                brand_id=brand_id,
                image_id=photo.image_id if photo is not None else None,
                asset_id=asset_id,
                score=round(signals.score, 4),
                signals=names,
                evidence={
                    "listing": snapshot,
                    "reference": {"asset_id": asset_id, "label": info.label, "kind": info.kind},
                    "image_match": None,
                    "text": signals.as_dict(),
                    "photo_text": in_photos,
                    "thresholds": thresholds,
                },
            )
        )
    return [
        f
        for f in findings
        if not catalogue.is_authorized(
            brand_id=f.brand_id, marketplace=listing.marketplace, seller_external_id=listing.seller.external_id
        )
    ]


def _evidence_caption(finding: Finding) -> list[str]:
    lines = [f"Score {finding.score:.2f} · signals: {', '.join(finding.signals)}"]
    match = finding.evidence.get("image_match") or {}
    thresholds = finding.evidence["thresholds"]
    if match.get("signal") == "hash":
        lines.append(
            f"Perceptual hash distance {match.get('hash_distance')} of 64 bits "
            f"(threshold {thresholds['hash_radius']}), reference variant: {match.get('variant') or 'as is'}"
        )
    elif match.get("signal") == "logo":
        other = match.get("closest_other")
        lead = "clearly closer than to any other logo"
        if other is not None:
            lead = f"to the closest other mark it knows {other:.2f}"
        lines.append(
            f"Logo model: the boxed mark's similarity to the logo is {match.get('similarity'):.2f} "
            f"(threshold {thresholds.get('logo_similarity', 0):.2f}), {lead}"
        )
    elif match.get("signal") == "logo_text":
        lines.append(
            f"The words of the logo, read in the photo (boxed): “{(match.get('text') or '')[:60]}”, "
            f"read with confidence {match.get('score'):.2f} (threshold {thresholds.get('image_min_score', 0):.2f}); "
            "the same letters, no misspelling allowed"
        )
    elif match:
        lines.append(
            f"{match.get('inliers')} geometrically consistent keypoints (threshold {thresholds['min_inliers']})"
        )
    for read in [r for r in finding.evidence.get("photo_text") or [] if r["image_id"] == finding.image_id][:2]:
        named = f"word mark “{read['mark']}”" if read["kind"] == "word_mark" else f"counterfeit term “{read['term']}”"
        lines.append(
            f"Text in the photo (boxed): “{read['line'][:60]}” read with confidence {read['confidence']:.2f} "
            f"holds the {named} as “{read['found']}”"
        )
    text = finding.evidence.get("text") or {}
    for hit in [h for h in text.get("word_marks") or [] if h["field"] != "photo"][:2]:
        lines.append(
            f"Word mark “{hit['mark']}” found as “{hit['found']}” "
            f"({hit['method']}; both normalise to “{hit['normalised']}”)"
        )
    return lines


def _render_evidence(finding: Finding, image: ListingImage, asset: ReferenceAsset | None) -> str:
    """Store the side-by-side picture; return its storage name ('' when there is nothing to draw)."""
    try:
        with image.file.open("rb") as handle:
            listing_bytes = handle.read()
        reference_bytes = None
        if asset is not None and asset.image:
            with asset.image.open("rb") as handle:
                reference_bytes = handle.read()
        match = finding.match
        png = render_match(
            listing_image=listing_bytes,
            reference_image=reference_bytes,
            region=match.region if match else None,
            keypoints=match.keypoints if match else (),
            caption=relisted_caption(finding) + earlier_caption(finding) + _evidence_caption(finding),
            text_regions=[
                read["quad"] for read in finding.evidence.get("photo_text") or [] if read["image_id"] == image.pk
            ],
        )
    except (OSError, ValueError) as exc:
        logger.warning("Could not render evidence for listing image %s: %s", image.pk, exc)
        return ""
    digest = hashlib.sha256(png).hexdigest()
    name = f"evidence/{digest[:2]}/{digest}.png"
    if not default_storage.exists(name):
        default_storage.save(name, ContentFile(png))
    return name


def _upsert(listing: Listing, findings: list[Finding], source: str, summary: MatchSummary) -> bool:
    """Create or update the listing's detections; drop new ones that no longer fire. True if any changed."""
    keys = {Detection.make_key(listing_id=listing.pk, image_id=f.image_id, asset_id=f.asset_id): f for f in findings}
    existing = {d.dedupe_key: d for d in Detection.objects.select_for_update().filter(listing=listing)}
    # A detection still "new" whose signal is gone (the seller edited the listing, a reference
    # changed) goes; one whose image could not be read this time stays until it can be.
    unreadable = set(summary.failed_images)
    stale = [
        d.pk
        for k, d in existing.items()
        if k not in keys and d.state == Detection.State.NEW and d.image_id not in unreadable
    ]
    if stale:
        Detection.objects.filter(pk__in=stale).delete()
    touched = bool(stale)
    # A detection that replaces one the brand was already told about (a text detection now merged
    # into an image one) is not news: it keeps the announcement. A back-scan's findings are reported
    # on its job, not announced.
    now = timezone.now()
    stale_ids = set(stale)
    announced: dict[int, list[Any]] = defaultdict(list)  # per brand: announcements to hand on, one each
    for d in existing.values():
        if d.pk in stale_ids and d.announced_at is not None:
            announced[d.brand_id].append(d.announced_at)
    images = {image.pk: image for image in listing.images.all()}
    assets = ReferenceAsset.objects.in_bulk([f.asset_id for f in findings if f.image_id and f.asset_id])
    for key, finding in keys.items():
        detection = existing.get(key)
        geometry = finding.evidence.get("image_match")
        unchanged = (
            detection is not None
            and abs(detection.score - finding.score) < 1e-4
            and detection.signals == finding.signals
            and (detection.evidence or {}).get("image_match") == geometry
            and (detection.evidence or {}).get("text") == finding.evidence.get("text")
        )
        if unchanged:
            continue
        touched = True
        picture = ""
        if finding.image_id and finding.image_id in images:
            picture = _render_evidence(finding, images[finding.image_id], assets.get(finding.asset_id))
        if detection is None:
            try:
                with transaction.atomic():  # a savepoint: another worker may match the same listing now
                    created = Detection.objects.create(
                        brand_id=finding.brand_id,
                        listing=listing,
                        image_id=finding.image_id,
                        asset_id=finding.asset_id,
                        dedupe_key=key,
                        signals=finding.signals,
                        score=finding.score,
                        evidence=finding.evidence,
                        evidence_image=picture,
                        source=source,
                        announced_at=now
                        if source == Detection.Source.BACKSCAN
                        else (announced[finding.brand_id].pop() if announced[finding.brand_id] else None),
                    )
            except IntegrityError:  # it created this detection first: one row, with our figures
                Detection.objects.filter(dedupe_key=key).update(
                    signals=finding.signals, score=finding.score, evidence=finding.evidence, updated_at=timezone.now()
                )
                summary.updated += 1
                continue
            summary.created += 1
            summary.raised_ids.append(created.pk)
            summary.new_by_brand[finding.brand_id] = summary.new_by_brand.get(finding.brand_id, 0) + 1
            summary.new_ids_by_brand.setdefault(finding.brand_id, []).append(created.pk)
        else:
            Detection.objects.filter(pk=detection.pk).update(
                signals=finding.signals,
                score=finding.score,
                evidence=finding.evidence,
                evidence_image=picture or detection.evidence_image,
                updated_at=timezone.now(),
            )
            summary.updated += 1
            if finding.score > detection.score:
                summary.raised_ids.append(detection.pk)
    return touched


def listing_risk_refresh(*, listing_ids: list[int]) -> None:
    """Listing.risk_score = the highest score of its open detections (0 without any)."""
    scores = dict(
        Detection.objects.open()
        .filter(listing_id__in=listing_ids)
        .values("listing_id")
        .annotate(top=Max("score"))
        .values_list("listing_id", "top")
    )
    for listing_id in listing_ids:
        Listing.objects.filter(pk=listing_id).update(risk_score=scores.get(listing_id, 0.0))


def listings_match(*, listing_ids: list[int], source: str = Detection.Source.SCAN, fresh: bool = False) -> MatchSummary:
    """Run the whole engine over these listings and record what it finds (idempotent).

    `fresh`: look at PostgreSQL's references now rather than within the refresh interval (a
    back-scan must see the reference that started it).
    """
    catalogue = references.current(force=fresh)
    summary = MatchSummary()
    listings = list(
        Listing.objects.filter(pk__in=listing_ids).select_related("seller").prefetch_related("images").order_by("pk")
    )
    with_detections = set(
        Detection.objects.filter(listing_id__in=listing_ids).values_list("listing_id", flat=True).distinct()
    )
    touched: list[int] = []
    for listing in listings:
        summary.listings += 1
        findings = feedback_apply(listing, relisted_findings(listing, listing_findings(catalogue, listing, summary)))
        if findings or listing.pk in with_detections:  # nothing found and nothing to undo: no write
            with transaction.atomic():
                if _upsert(listing, findings, source, summary):
                    touched.append(listing.pk)
    now = timezone.now()
    with transaction.atomic():
        for image_id, reading in summary.readings.items():  # read once: re-matching and back-scans reuse it
            stored = reading.as_dict()
            ListingImage.objects.filter(pk=image_id).update(ocr=stored, text_key=photo_text_key(stored))
        if summary.matched_images:
            ListingImage.objects.filter(pk__in=summary.matched_images).update(
                match_status=ListingImage.MatchStatus.DONE, match_error="", matched_at=now
            )
        for image_id, error in summary.failed_images.items():
            ListingImage.objects.filter(pk=image_id).update(
                match_status=ListingImage.MatchStatus.FAILED, match_error=error
            )
        # Only what was matched is done: a listing whose text or images changed after it was
        # loaded (an image stored meanwhile) keeps needs_matching for the task that change queued,
        # or for the sweep if that task is lost.
        if listings:
            as_loaded = reduce(or_, (Q(pk=listing.pk, changed_at=listing.changed_at) for listing in listings))
            Listing.objects.filter(as_loaded).update(needs_matching=False)
        if touched:
            listing_risk_refresh(listing_ids=touched)
    # A back-scan runs in many chunks: its findings are on the asset's job and the detections
    # page, not in one email per chunk.
    if summary.new_by_brand and source != Detection.Source.BACKSCAN:
        from listings.tasks import detections_notify

        delay = min(settings.ANNOUNCE_DELAY, settings.CELERY_MAX_COUNTDOWN)
        brands = [(brand_id,) for brand_id in sorted(summary.new_by_brand)]
        enqueue_many_on_commit(detections_notify, brands, **({"countdown": delay} if delay > 0 else {}))
    if summary.new_ids_by_brand:
        found = {brand_id: list(ids) for brand_id, ids in summary.new_ids_by_brand.items()}
        transaction.on_commit(lambda: detections_found.send(sender=Detection, detection_ids_by_brand=found))
    if summary.raised_ids:
        raised = list(summary.raised_ids)
        transaction.on_commit(lambda: detection_raised.send(sender=Detection, detection_ids=raised))
    return summary


def listings_queue_matching(*, listing_ids: list[int], source: str = Detection.Source.SCAN) -> int:
    """Queue matching in batches (on commit); return how many tasks were queued."""
    from listings.tasks import listings_match as task

    chunks = _chunks(sorted(set(listing_ids)), max(1, settings.MATCH_BATCH_SIZE))
    return enqueue_many_on_commit(task, [(chunk, source) for chunk in chunks])


def listings_requeue_stale(*, cutoff: datetime, limit: int) -> int:
    """Sweeper: listings still waiting to be matched since before `cutoff` are queued again."""
    # Also a listing with a stored image never matched (a flag cleared by a run that began before
    # the image arrived, in data written before that was fixed).
    unmatched_image = Q(
        images__status=ListingImage.Status.STORED,
        images__match_status=ListingImage.MatchStatus.PENDING,
        images__updated_at__lt=cutoff,
    )
    ids = list(
        Listing.objects.filter(Q(needs_matching=True) | unmatched_image, changed_at__lt=cutoff, updated_at__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)
        .distinct()[:limit]
    )
    if ids:
        with transaction.atomic():
            Listing.objects.filter(pk__in=ids).update(updated_at=timezone.now())
            listings_queue_matching(listing_ids=ids)
    return len(ids)


def detections_announce(*, brand_id: int) -> int:
    """Tell a brand's managers about its detections not announced yet: exactly one mention each.

    The detections are claimed in the transaction that sends the email, so two runs never both
    count one, and a failed send leaves them to the next run.
    """
    from brands.models import Brand
    from brands.selectors import manager_emails

    brand = Brand.objects.filter(pk=brand_id).first()
    if brand is None:
        return 0
    with transaction.atomic():
        ids = list(
            Detection.objects.select_for_update(skip_locked=True)
            .filter(brand_id=brand_id, state=Detection.State.NEW, announced_at__isnull=True)
            .values_list("pk", flat=True)
        )
        if not ids:
            return 0
        Detection.objects.filter(pk__in=ids).update(announced_at=timezone.now())
        recipients = manager_emails(brand=brand)
        if recipients:
            _announce_email(brand, len(ids), recipients)
    return len(ids)


def _announce_email(brand: Any, count: int, recipients: list[str]) -> None:
    from django.core.mail import send_mail
    from django.urls import reverse

    plural = "s" if count != 1 else ""
    send_mail(
        subject=f"[{settings.SITE_NAME}] {count} new suspected infringement{plural} for {brand.name}",
        message=(
            f"The platform's workers found {count} new listing match{'es' if count != 1 else ''} for {brand.name}.\n"
            f"Review the evidence and dismiss or report them:\n\n"
            f"{settings.SITE_URL}{reverse('listings:detections')}?brand={brand.pk}&state=new\n"
        ),
        from_email=None,
        recipient_list=recipients,
    )


def detections_requeue_unannounced(*, cutoff: datetime, limit: int) -> int:
    """Sweeper: brands with detections created before `cutoff` and still not announced are told."""
    from listings.tasks import detections_notify

    brand_ids = list(
        Detection.objects.filter(state=Detection.State.NEW, announced_at__isnull=True, created_at__lt=cutoff)
        .order_by()
        .values_list("brand_id", flat=True)
        .distinct()[:limit]
    )
    enqueue_many_on_commit(detections_notify, [(brand_id,) for brand_id in brand_ids])
    return len(brand_ids)


# --- Detections: what brand users do with them ---------------------------------------------


class DetectionStateError(ValueError):
    pass


def detection_set_state(*, actor: Any, detection: Detection, state: str, reason: str = "") -> Detection:
    """Dismiss a detection (with a reason) or put it back to new; audited; conditional update."""
    allowed = {Detection.State.NEW: {Detection.State.DISMISSED}, Detection.State.DISMISSED: {Detection.State.NEW}}
    if state not in allowed.get(detection.state, set()):
        raise DetectionStateError(
            f"A {detection.get_state_display().lower()} detection cannot become {Detection.State(state).label.lower()}."
            if state in Detection.State.values
            else f"Unknown state {state!r}."
        )
    reason = " ".join(reason.split())[:500]
    if state == Detection.State.DISMISSED and not reason:
        raise DetectionStateError("Say why the detection is dismissed (e.g. authentic product, parody, resale).")
    with transaction.atomic():
        changed = Detection.objects.filter(pk=detection.pk, state=detection.state).update(
            state=state, state_reason=reason, state_changed_by=actor, updated_at=timezone.now()
        )
        if changed != 1:
            raise DetectionStateError("Someone else changed this detection just now; reload and try again.")
        if state == Detection.State.DISMISSED:  # remembered: not raised again for this seller's copies
            feedback_record_dismissal(actor=actor, detection=detection, reason=reason)
        else:
            feedback_forget_dismissal(detection=detection)
        audit_record(
            actor=actor, action=f"detection.{state}", obj=detection, brand_id=detection.brand_id,
            from_state=detection.state, to_state=state, reason=reason,
        )  # fmt: skip
    listing_risk_refresh(listing_ids=[detection.listing_id])
    detection.refresh_from_db()
    return detection


def detections_forget_asset(*, asset_id: int) -> int:
    """A removed reference: its new detections go (reported or dismissed ones stay, as history)."""
    rows = Detection.objects.filter(dedupe_key__endswith=f":{asset_id}", state=Detection.State.NEW)
    listing_ids = list(rows.values_list("listing_id", flat=True))
    deleted, _ = rows.delete()
    if listing_ids:
        listing_risk_refresh(listing_ids=listing_ids)
    return deleted


# --- Back-scan: a new or changed reference looks at the listings already stored -------------


def _chunks(ids: list[int], size: int) -> list[list[int]]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def backscan_plan(*, asset: ReferenceAsset) -> list[dict[str, Any]]:
    """The units of work (listing id ranges or id lists) a back-scan for `asset` needs.

    Images: every listing with a stored image, as id ranges (a worker each, in parallel).
    Word marks: listings whose search key contains a spelling's key (the trigram index finds
    them), then the full pipeline decides. Price ranges and authorized sellers change how the
    brand's existing detections score: those listings are matched again.
    """
    size = max(1, settings.MATCH_BACKSCAN_CHUNK)
    if asset.kind in ReferenceAsset.IMAGE_KINDS:
        with_images = Listing.objects.filter(images__status=ListingImage.Status.STORED)
        bounds = with_images.aggregate(lo=Min("id"), hi=Max("id"))
        if bounds["lo"] is None:
            return []
        return [{"range": [lo, min(lo + size, bounds["hi"] + 1)]} for lo in range(bounds["lo"], bounds["hi"] + 1, size)]
    if asset.kind == ReferenceAsset.Kind.WORD_MARK:
        ids: set[int] = set()
        for word in asset.words:
            word_key = search_key(word)
            if len(word_key) >= 2:  # in the listing's text or in the text read in its photos
                ids.update(Listing.objects.filter(search_key__contains=word_key).values_list("id", flat=True))
                ids.update(
                    ListingImage.objects.filter(text_key__contains=word_key).values_list("listing_id", flat=True)
                )
        return [{"ids": chunk} for chunk in _chunks(sorted(ids), size)]
    ids = sorted(set(Detection.objects.filter(brand_id=asset.brand_id).values_list("listing_id", flat=True)))
    if asset.kind == ReferenceAsset.Kind.AUTHORIZED_SELLER:
        ids = sorted(
            set(ids)
            | set(
                Listing.objects.filter(
                    marketplace__iexact=asset.marketplace, seller__external_id=asset.seller_external_id
                ).values_list("id", flat=True)
            )
        )
    return [{"ids": chunk} for chunk in _chunks(ids, size)]


def backscan_start(*, asset_id: int, change: str, job_id: int | None) -> int:
    """Subscriber of `reference_asset_changed`: plan the back-scan and queue it into the asset's job."""
    from brands.services import job_progress
    from listings.tasks import asset_backscan

    if change in ("removed", "retired"):  # retired: a stay-down reference whose takedown was reversed
        detections_forget_asset(asset_id=asset_id)
        return 0
    asset = ReferenceAsset.objects.filter(pk=asset_id).first()
    if asset is None or job_id is None:
        return 0
    plan = backscan_plan(asset=asset)
    if not plan:
        return 0
    # Planned once per job, with its chunks' tasks in the same transaction: a redelivered feature
    # task (its worker died after planning) finds the plan and adds no second set of chunks.
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or "backscan_chunks" in (job.result or {}):
            return 0
        Job.objects.filter(pk=job_id).update(result={**(job.result or {}), "backscan_chunks": len(plan)})
        job_progress(job_id=job_id, add_total=len(plan), message=f"Back-scan of stored listings: {len(plan)} chunk(s)")
        return enqueue_many_on_commit(asset_backscan, [(job_id, unit) for unit in plan])


def backscan_chunk(*, job_id: int, unit: dict[str, Any]) -> MatchSummary:
    """One unit of a back-scan: match its listings again (the pipeline is idempotent) and count it."""
    from brands.services import job_finish_if_complete, job_progress

    if "range" in unit:
        lo, hi = unit["range"]
        ids = list(
            Listing.objects.filter(id__gte=lo, id__lt=hi, images__status=ListingImage.Status.STORED)
            .distinct()
            .values_list("id", flat=True)
        )
    else:
        ids = [int(i) for i in unit.get("ids", [])]
    summary = listings_match(listing_ids=ids, source=Detection.Source.BACKSCAN, fresh=True) if ids else MatchSummary()
    job_progress(
        job_id=job_id, done=1, message=f"Back-scan: {summary.listings} listing(s), {summary.created} new detection(s)"
    )
    job_finish_if_complete(job_id=job_id, message="Features ready; stored listings scanned.")
    return summary


def detections_mark_reported(
    *,
    actor: Any,
    detection_ids: list[int],
    reason: str,
    brand_id: int | None = None,
    listing_ids: list[int] | None = None,
) -> int:
    """Detections a brand turned into a notice leave the "new" list (dismissed ones stay dismissed): those
    named, and `brand_id`'s new detections of `listing_ids` (listings the notice names without one)."""
    wanted = Q(pk__in=detection_ids or [])
    if brand_id is not None and listing_ids:
        wanted |= Q(brand_id=brand_id, listing_id__in=listing_ids)
    if not detection_ids and not (brand_id is not None and listing_ids):
        return 0
    with transaction.atomic():
        rows = list(
            Detection.objects.select_for_update(of=("self",))
            .select_related("brand")  # named in each audit event
            .filter(wanted, state=Detection.State.NEW)
            .order_by("pk")
        )
        Detection.objects.filter(pk__in=[d.pk for d in rows]).update(
            state=Detection.State.REPORTED, state_reason=reason[:500], state_changed_by=actor, updated_at=timezone.now()
        )
        for brand_id in sorted({d.brand_id for d in rows}):
            audit_record_many(
                actor=actor, action="detection.reported", objects=[d for d in rows if d.brand_id == brand_id],
                brand_id=brand_id, from_state=Detection.State.NEW, to_state=Detection.State.REPORTED, reason=reason,
            )  # fmt: skip
    return len(rows)
