"""Detection pages: the brand's list of what the workers found, one detection's evidence explained,
dismiss / restore (managers), the evidence picture, and the htmx partials used on listing pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_POST

from brands.downloads import private_file_response
from brands.models import Brand
from brands.tenancy import can_manage, get_scoped_or_404
from core.roles import is_platform_staff
from listings import selectors
from listings.badges import authentication_badges
from listings.feedback import earlier_line
from listings.models import Detection, Listing
from listings.page_filters import LEAD_SIGNALS, SIGNAL_LABELS, DetectionPageFilter
from listings.selection import detection_filing_context, page_size, page_size_links
from listings.staydown import relisted_first, relisted_line

PER_PAGE = 25
MAX_BADGE_LISTINGS = 100


def _require_detections(request: HttpRequest) -> None:
    if not selectors.can_see_detections(request.user):
        raise PermissionDenied


@login_required
@require_GET
def detection_list(request: HttpRequest) -> HttpResponse:
    _require_detections(request)
    detections = selectors.detection_list(user=request.user)
    filters = DetectionPageFilter(request.GET or None, queryset=detections)
    rows = filters.qs if filters.is_bound and filters.is_valid() else detections
    # The counts answer "how many of each state with my other filters", so they ignore `state`.
    without_state = request.GET.copy()
    without_state.pop("state", None)
    without_state.pop("page", None)
    unstated = DetectionPageFilter(without_state, queryset=detections)
    counts = selectors.detection_counts(detections=unstated.qs if unstated.is_valid() else detections)
    per_page = page_size(request.GET.get("page_size"))
    page = Paginator(relisted_first(rows), per_page).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    state_links = []
    for value, label in Detection.State.choices:
        link = without_state.copy()
        link["state"] = value
        state_links.append(
            {"value": value, "label": label, "count": counts[value], "query": link.urlencode(),
             "active": request.GET.get("state") == value}
        )  # fmt: skip
    badges = authentication_badges({d.listing_id for d in page})  # detections on authenticated listings
    for detection in page:
        detection.authentication = badges.get(detection.listing_id)
    context = {
        # Filing a notice from here: managers pick rows, or every new detection the filters match (one brand).
        **detection_filing_context(request, rows),
        "filters": filters,
        "page": page,
        "page_size_links": page_size_links(request.GET, per_page),
        "counts": counts,
        "total": sum(counts.values()),
        "state_links": state_links,
        "all_states_query": without_state.urlencode(),
        "brands": Brand.objects.for_user(request.user).order_by("name"),
        "states": Detection.State.choices,
        "signals": list(SIGNAL_LABELS.items()),
        "selected": {k: request.GET.get(k, "") for k in ("brand", "state", "signal", "min_score")},
        "querystring": params.urlencode(),
        **_report_filters(request, detections),
        **_feedback_context(request),
    }
    return render(request, "listings/detection_list.html", context)


def _feedback_context(request: HttpRequest) -> dict[str, Any]:
    """Suggestions from repeated dismissals: the chosen brand's, or those of the brands the user belongs to."""
    from brands.tenancy import brand_roles
    from listings.feedback import suggestions

    chosen = request.GET.get("brand", "")
    if chosen.isdigit():
        ids = list(Brand.objects.for_user(request.user).filter(pk=int(chosen)).values_list("pk", flat=True))
    else:
        ids = sorted(brand_roles(request.user))
    found = suggestions(brand_ids=ids)
    managed = {s.brand_id for s in found if can_manage(request.user, s.brand_id)}
    calibration_brand = Brand.objects.filter(pk=ids[0]).first() if len(ids) == 1 else None
    return {
        "suggestions": found,
        "managed": managed,
        "show_brand": len(ids) > 1,
        "calibration_brand": calibration_brand,
    }


def _report_filters(request: HttpRequest, detections: Any) -> dict[str, Any]:
    """The filters the reports link with (dates, seller, marketplace, category, strongest signal)."""
    seller = request.GET.get("seller", "")
    seller_name = ""
    if seller.isdigit():
        row = detections.filter(listing__seller_id=int(seller)).values_list("listing__seller__name").first()
        seller_name = row[0] if row else ""
    without_seller = request.GET.copy()
    without_seller.pop("seller", None)
    without_seller.pop("page", None)
    return {
        "more": {k: request.GET.get(k, "") for k in ("since", "until", "seller", "marketplace", "category", "lead")},
        "seller_name": seller_name,
        "without_seller": without_seller.urlencode(),
        "leads": [(s, SIGNAL_LABELS[s]) for s in LEAD_SIGNALS],
    }


def _highlight(text: str, field: str, marks: list[dict], terms: list[dict]) -> list[dict[str, Any]]:
    """Split `text` into plain and matched segments from the evidence's offsets (escaped when rendered).

    Offsets that do not fit the text (or overlap an earlier span) are skipped, never trusted.
    """
    spans = []
    for kind, hits in (("mark", marks), ("term", terms)):
        for hit in hits:
            start, end = hit.get("start"), hit.get("end")
            if hit.get("field") != field or not isinstance(start, int) or not isinstance(end, int):
                continue
            if 0 <= start < end <= len(text):
                spans.append((start, end, kind, hit))
    spans.sort(key=lambda span: (span[0], -span[1]))
    segments: list[dict[str, Any]] = []
    position = 0
    for start, end, kind, hit in spans:
        if start < position:
            continue
        if start > position:
            segments.append({"text": text[position:start]})
        segments.append({"text": text[start:end], "kind": kind, "hit": hit})
        position = end
    if position < len(text):
        segments.append({"text": text[position:]})
    return segments


def _changes(snapshot: dict[str, Any], listing: Listing) -> list[dict[str, str]]:
    """What differs between the listing as detected and as it is now."""
    now = {
        "Title": listing.title,
        "Description": listing.description[:2000],
        "Price": f"{listing.price} {listing.currency}".strip() if listing.price is not None else "",
        "URL": listing.url,
        "Seller": listing.seller.name,
    }
    price = snapshot.get("price")
    then = {
        "Title": snapshot.get("title") or "",
        "Description": snapshot.get("description") or "",
        "Price": f"{price} {snapshot.get('currency') or ''}".strip() if price is not None else "",
        "URL": snapshot.get("url") or "",
        "Seller": (snapshot.get("seller") or {}).get("name") or "",
    }
    return [{"field": k, "then": then[k], "now": now[k]} for k in now if then[k] != now[k]]


def _relisted_explanations(evidence: dict[str, Any]) -> list[str]:
    relisted = evidence.get("relisted") or {}
    if not relisted:
        return []
    picture, limits = relisted.get("picture") or {}, relisted.get("thresholds") or {}
    lines = [relisted_line(evidence)]
    if picture.get("difference") is not None:
        lines.append(
            f"Same picture: laid onto the listing's image as matched, their colours differ by "
            f"{float(picture['difference']):.1f} of 255 on average (at most {limits.get('max_difference', '?')}), "
            f"over {float(picture.get('overlap') or 0):.0%} of the removed image (at least "
            f"{float(limits.get('min_overlap') or 0):.0%})."
        )
    return lines


def _explanations(evidence: dict[str, Any]) -> list[str]:
    """The distances and thresholds, in plain words."""
    thresholds = evidence.get("thresholds") or {}
    lines = _relisted_explanations(evidence)
    match = evidence.get("image_match") or {}
    if match:
        if match.get("hash_distance") is not None and match.get("signal") != "local":
            variant = match.get("variant") or "as uploaded"
            lines.append(
                f"The listing's image differs from the reference in {match['hash_distance']} of 64 bits of its "
                f"perceptual hash; {thresholds.get('hash_radius', '?')} or fewer count as the same picture "
                f"(reference compared {variant})."
            )
        if match.get("inliers"):  # hash matches carry 0: no geometric check was needed
            lines.append(
                f"{match['inliers']} distinctive points of the listing's image line up with the reference under "
                f"one geometric transformation; at least {thresholds.get('min_inliers', '?')} are needed."
            )
        if match.get("signal") == "logo_text" and match.get("score") is not None:
            lines.append(
                f"The words of the registered logo are read in the listing's image as “{match.get('text') or ''}” "
                f"(boxed in the picture), letter for letter, with confidence {float(match['score']):.2f}; "
                f"detections need at least {thresholds.get('image_min_score', '?')}."
            )
        elif match.get("signal") == "logo" and match.get("similarity") is not None:
            other = match.get("closest_other")
            lines.append(
                f"The logo model boxed a mark in the listing's image whose similarity to the registered logo is "
                f"{float(match['similarity']):.2f}; at least {thresholds.get('logo_similarity', '?')} is needed"
                + (
                    f", and it must be clearly closer to this logo than to any other mark the model knows "
                    f"(other brands' logos and the marks it was trained on): the closest other is {float(other):.2f}."
                    if other is not None
                    else "."
                )
            )
        elif match.get("signal") == "logo_box" and match.get("similarity") is not None:
            lines.append(
                f"The logo model boxed a mark in the listing's image that looks most like this registered logo "
                f"(similarity {float(match['similarity']):.2f}; boxes from "
                f"{thresholds.get('logo_box_similarity', '?')} are checked point by point), and the points above, "
                f"found in the box, place the whole logo there."
            )
        elif match.get("score") is not None:
            lines.append(
                f"Image similarity {float(match['score']):.2f}; detections need at least "
                f"{thresholds.get('image_min_score', '?')}."
            )
    text = evidence.get("text") or {}
    if text.get("score") is not None:
        lines.append(
            f"Text evidence {float(text['score']):.2f}; a detection on text alone needs at least "
            f"{thresholds.get('text_min_score', '?')}."
        )
    price = text.get("price") or {}
    if price.get("ratio") is not None:
        top = price.get("reference_max")
        span = f"{price.get('reference_min')}–{top}" if top is not None else f"from {price.get('reference_min')}"
        lines.append(
            f"Price {price.get('price')} {price.get('currency') or ''} is {float(price['ratio']):.0%} of the lowest "
            f"authentic price (authentic range {span})."
        )
    return lines


def _changed_by(request: HttpRequest, detection: Detection) -> str:
    """Who last dismissed or restored it; brand users see platform staff as "Platform staff"."""
    actor = detection.state_changed_by
    if actor is None:
        return ""
    if is_platform_staff(actor) and not is_platform_staff(request.user):
        return "Platform staff"
    return actor.get_full_name() or actor.get_username()


def _state_context(request: HttpRequest, detection: Detection, **extra: Any) -> dict[str, Any]:
    return {
        "detection": detection,
        "can_manage": can_manage(request.user, detection.brand_id),
        "changed_by": _changed_by(request, detection),
        **extra,
    }


@login_required
@require_GET
def detection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_detections(request)
    detection = get_scoped_or_404(selectors.detection_list(user=request.user), request.user, pk=pk)
    evidence = detection.evidence or {}
    snapshot = evidence.get("listing") or {}
    text = evidence.get("text") or {}
    marks = [m for m in text.get("word_marks") or [] if isinstance(m, dict)]
    terms = [t for t in text.get("counterfeit_terms") or [] if isinstance(t, dict)]
    context = _state_context(
        request,
        detection,
        evidence=evidence,
        snapshot=snapshot,
        reference=evidence.get("reference") or {},
        image_match=evidence.get("image_match") or {},
        word_marks=marks,
        counterfeit_terms=terms,
        price=text.get("price") or {},
        thresholds=evidence.get("thresholds") or {},
        title_segments=_highlight(snapshot.get("title") or "", "title", marks, terms),
        description_segments=_highlight(snapshot.get("description") or "", "description", marks, terms),
        changes=_changes(snapshot, detection.listing),
        explanations=_explanations(evidence),
        relisted=evidence.get("relisted") or {},
        relisted_line=relisted_line(evidence),
        earlier_line=earlier_line(evidence),
        taken_at=parse_datetime(snapshot.get("taken_at") or "") if isinstance(snapshot.get("taken_at"), str) else None,
        list_url=f"{reverse('listings:detections')}?{urlencode({'brand': detection.brand_id})}",
    )
    return render(request, "listings/detection_detail.html", context)


@login_required
@require_POST
def detection_state(request: HttpRequest, pk: int) -> HttpResponse:
    """Dismiss (with a reason) or restore; htmx gets the state partial back, a plain form a redirect."""
    from listings.matching import DetectionStateError, detection_set_state

    _require_detections(request)
    detection = get_scoped_or_404(selectors.detection_list(user=request.user), request.user, pk=pk)
    if not can_manage(request.user, detection.brand_id):
        raise PermissionDenied
    state = request.POST.get("state", "")
    reason = request.POST.get("reason", "")
    htmx = bool(request.headers.get("HX-Request"))
    try:
        detection = detection_set_state(actor=request.user, detection=detection, state=state, reason=reason)
    except DetectionStateError as exc:
        if htmx:
            context = _state_context(request, detection, error=str(exc), reason=reason)
            return render(request, "listings/_detection_state.html", context, status=422)
        messages.error(request, str(exc))
        return redirect("listings:detection-detail", pk=detection.pk)
    notice = "Detection dismissed." if detection.state == Detection.State.DISMISSED else "Detection restored."
    if htmx:
        return render(request, "listings/_detection_state.html", _state_context(request, detection, notice=notice))
    messages.success(request, notice)
    return redirect("listings:detection-detail", pk=detection.pk)


@login_required
@require_GET
def detection_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    _require_detections(request)
    detection = get_scoped_or_404(Detection.objects.all(), request.user, pk=pk)
    if not detection.evidence_image:
        raise Http404("No evidence picture")
    return private_file_response(
        detection.evidence_image, filename=f"detection-{detection.pk}.png", content_type="image/png", inline=True
    )


@login_required
@require_GET
def listing_detections(request: HttpRequest, pk: int) -> HttpResponse:
    """The listing page's "Detections" section (loaded with htmx): only the reader's brands'.

    Readers without brands (the platform's own systems) get nothing (204: htmx leaves the page as is).
    """
    if not selectors.can_see_detections(request.user):
        return HttpResponse(status=204)
    detections = selectors.detection_list(user=request.user).filter(listing_id=pk).order_by("-score", "-id")
    return render(request, "listings/_detection_listing.html", {"detections": detections, "listing_id": pk})


@login_required
@require_GET
def risk_badges(request: HttpRequest) -> HttpResponse:
    """Risk badges for the search results (htmx, out-of-band swaps), counting only the reader's brands."""
    if not selectors.can_see_detections(request.user):
        return HttpResponse(status=204)
    ids = []
    for value in request.GET.getlist("listing")[:MAX_BADGE_LISTINGS]:
        if value.isdigit():
            ids.append(int(value))
    risks = selectors.listing_risks(user=request.user, listing_ids=ids)
    return render(request, "listings/_detection_badges.html", {"badges": sorted(risks.items())})
