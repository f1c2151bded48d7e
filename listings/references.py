"""The references a worker matches listings against, held in memory and synced from PostgreSQL.

PostgreSQL is the source of truth (`ReferenceAsset.features`, computed by the asset job). Each
process keeps one `Catalogue`: the engine's `Matcher` over every brand's logos and authentic
photos, a `WordMarkMatcher` over every word mark, the brands' price ranges and their authorized
sellers. Before matching, a process asks PostgreSQL which usable assets exist and when their
features last changed (one narrow query, at most every `MATCH_INDEX_REFRESH_SECONDS`); new or
updated ones are added, removed ones (or ones whose right stopped being verified) are dropped.
Nothing is rebuilt, so a new reference is matchable by every worker within about a second.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings

from brands.models import ReferenceAsset, VerificationStatus
from engine.matcher import Matcher, ReferenceFeatures
from engine.text_signals import WordMarkMatcher


@dataclass(frozen=True)
class AssetInfo:
    asset_id: int
    brand_id: int
    kind: str
    label: str
    right_id: int


@dataclass(frozen=True)
class PriceRange:
    asset_id: int
    minimum: Decimal
    maximum: Decimal | None
    currency: str


@dataclass
class Catalogue:
    matcher: Matcher
    word_marks: WordMarkMatcher
    assets: dict[int, AssetInfo] = field(default_factory=dict)
    price_ranges: dict[int, list[PriceRange]] = field(default_factory=dict)  # brand id -> ranges
    authorized: set[tuple[int, str, str]] = field(default_factory=set)  # (brand id, marketplace, seller ext id)
    versions: dict[int, object] = field(default_factory=dict)  # asset id -> features_updated_at held
    synced_at: float = 0.0

    def is_authorized(self, *, brand_id: int, marketplace: str, seller_external_id: str) -> bool:
        return (brand_id, marketplace.casefold(), seller_external_id) in self.authorized

    @property
    def image_reference_count(self) -> int:
        return len(self.matcher)


def new_matcher() -> Matcher:
    return Matcher(
        hash_radius=settings.MATCH_HASH_RADIUS,
        min_inliers=settings.MATCH_MIN_INLIERS,
        logo_min_inliers=settings.MATCH_LOGO_MIN_INLIERS,
        mark_threshold=settings.MATCH_LOGO_SIMILARITY,
        mark_margin=settings.MATCH_LOGO_MARGIN,
        mark_cohort_margin=settings.MATCH_LOGO_COHORT_MARGIN,
        box_similarity=settings.MATCH_LOGO_BOX_SIMILARITY,
    )


def usable_assets():
    """Assets matching may use: features computed, backed by a right that is verified now, and not
    retired (a stay-down reference whose takedown was reversed)."""
    return ReferenceAsset.objects.filter(
        features_status=ReferenceAsset.FeatureStatus.DONE,
        right__status=VerificationStatus.VERIFIED,
        retired_at__isnull=True,
    )


_lock = threading.Lock()
_catalogue: Catalogue | None = None


def current(*, force: bool = False) -> Catalogue:
    """This process's catalogue, brought up to date if the last look is older than the refresh interval."""
    global _catalogue
    with _lock:
        if _catalogue is None:
            _catalogue = Catalogue(matcher=new_matcher(), word_marks=WordMarkMatcher([]))
            force = True
        if force or time.monotonic() - _catalogue.synced_at >= settings.MATCH_INDEX_REFRESH_SECONDS:
            sync(_catalogue)
        return _catalogue


def reset() -> None:
    """Forget this process's catalogue (tests; a changed setting)."""
    global _catalogue
    with _lock:
        _catalogue = None


def sync(catalogue: Catalogue) -> dict[str, int]:
    """Apply what changed in PostgreSQL since the catalogue's last look; return the counts."""
    live = dict(usable_assets().values_list("id", "features_updated_at"))
    gone = [asset_id for asset_id in catalogue.versions if asset_id not in live]
    changed = [asset_id for asset_id, version in live.items() if catalogue.versions.get(asset_id) != version]
    text_changed = False
    for asset_id in gone:
        info = catalogue.assets.pop(asset_id, None)
        catalogue.versions.pop(asset_id, None)
        catalogue.matcher.remove(asset_id)
        text_changed |= info is not None and info.kind != ReferenceAsset.Kind.LOGO
    rows = usable_assets().filter(pk__in=changed) if changed else ReferenceAsset.objects.none()
    for asset in rows.iterator(chunk_size=200):
        info = AssetInfo(asset.pk, asset.brand_id, asset.kind, asset.label, asset.right_id)
        catalogue.assets[asset.pk] = info
        catalogue.versions[asset.pk] = asset.features_updated_at
        if asset.kind in ReferenceAsset.IMAGE_KINDS:
            engine_features = (asset.features or {}).get("engine")
            if engine_features:
                catalogue.matcher.add(asset.pk, ReferenceFeatures.from_json(engine_features))
            else:  # computed by an older version: skipped until reprocessed
                catalogue.matcher.remove(asset.pk)
        else:
            text_changed = True
    if text_changed:
        _rebuild_text(catalogue)
    catalogue.synced_at = time.monotonic()
    return {"removed": len(gone), "changed": len(changed)}


def _rebuild_text(catalogue: Catalogue) -> None:
    """Word marks, price ranges and authorized sellers: few and small, rebuilt together when any changes."""
    text_kinds = (
        ReferenceAsset.Kind.WORD_MARK,
        ReferenceAsset.Kind.PRICE_RANGE,
        ReferenceAsset.Kind.AUTHORIZED_SELLER,
    )
    marks: list[tuple[object, str]] = []
    ranges: dict[int, list[PriceRange]] = {}
    authorized: set[tuple[int, str, str]] = set()
    for asset in usable_assets().filter(kind__in=text_kinds, pk__in=list(catalogue.assets)):
        if asset.kind == ReferenceAsset.Kind.WORD_MARK:
            marks += [(asset.pk, word) for word in asset.words if word.strip()]
        elif asset.kind == ReferenceAsset.Kind.PRICE_RANGE and asset.price_min is not None:
            ranges.setdefault(asset.brand_id, []).append(
                PriceRange(asset.pk, asset.price_min, asset.price_max, asset.currency)
            )
        elif asset.kind == ReferenceAsset.Kind.AUTHORIZED_SELLER:
            authorized.add((asset.brand_id, asset.marketplace.casefold(), asset.seller_external_id))
    catalogue.word_marks = WordMarkMatcher(marks)
    catalogue.price_ranges = ranges
    catalogue.authorized = authorized
