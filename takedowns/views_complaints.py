"""Complainant pages: the brand's notices with its standing, filing a notice (typed listings, or chosen
on the detections and search pages), the receipt, one notice with its items and the brand's moves
(answer, withdraw, report legal action, submit a draft), evidence downloads and the audit export."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from brands.downloads import private_file_response
from brands.models import Brand
from brands.tenancy import can_manage, get_scoped_or_404
from listings import selectors as listing_selectors
from listings.models import ListingImage
from takedowns import selectors
from takedowns.forms import AnswerForm, ComplaintForm, LegalActionForm, SubmitDraftForm, WithdrawForm, split_ids
from takedowns.models import Attachment, Complaint, ComplaintItem, Decision, Standing
from takedowns.page_filters import ORIGINS, notice_filters
from takedowns.services import complaints as complaint_services
from takedowns.services.complaints import filer_and_statements
from takedowns.services.standing import standing_set_auto_approve
from takedowns.views import is_htmx, item_changes, window_open

PER_PAGE = 25


def _require_reader(request: HttpRequest) -> None:
    """Notices are read by brand members (their brands') and platform staff."""
    if not listing_selectors.can_see_detections(request.user):
        raise PermissionDenied


# --- The list, with the brand's standing ----------------------------------------------------


@login_required
@require_GET
def complaint_list(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    filters = notice_filters(user=request.user, data=request.GET)
    brands, brand, state = filters.brands, filters.brand, filters.state
    complaints = filters.complaints(selectors.complaint_list(user=request.user))
    page = Paginator(complaints.order_by("-created_at", "-id"), PER_PAGE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    context: dict[str, Any] = {
        "page": page,
        "brands": brands,
        "brand": brand,
        "states": ComplaintItem.State.choices,
        "selected": {"state": state, "brand": str(brand.pk) if brand else ""},
        "querystring": params.urlencode(),
        "notice_filters": filters,
        "origins": list(ORIGINS.items()),
        "export_query": filters.query().urlencode(),
        "can_file": Brand.objects.manageable_by(request.user).exists(),
    }
    if brand is not None:
        context.update(_standing_context(request, brand))
    return render(request, "takedowns/complaint_list.html", context)


def _standing_context(request: HttpRequest, brand: Brand) -> dict[str, Any]:
    standing, accuracy = selectors.standing_of(brand_id=brand.pk)
    rows = dict(
        selectors.item_list(user=request.user)
        .filter(brand=brand)
        .order_by()
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    top = max(rows.values(), default=0) or 1
    chart = [
        {"state": value, "label": label, "count": rows.get(value, 0), "percent": round(100 * rows.get(value, 0) / top)}
        for value, label in ComplaintItem.State.choices
        if value != "draft" or rows.get(value)
    ]
    return {
        "standing": standing,
        "accuracy": accuracy,
        "policy": selectors.policy(),
        "chart": chart,
        "can_manage_brand": can_manage(request.user, brand.pk),
        "is_fast_track": standing.status == Standing.Status.FAST_TRACK,
    }


@login_required
@require_POST
def standing_auto_approve(request: HttpRequest, pk: int) -> HttpResponse:
    brand = get_scoped_or_404(Brand.objects.all(), request.user, pk=pk)
    enabled = request.POST.get("enabled") == "on"
    standing_set_auto_approve(actor=request.user, brand_id=brand.pk, enabled=enabled)
    messages.success(
        request,
        "Auto-approval is on: notices backed by a high-confidence detection are approved at once (still appealable)."
        if enabled
        else "Auto-approval is off: every notice waits for a moderator.",
    )
    return redirect(f"{reverse('takedowns:complaint-list')}?brand={brand.pk}")


# --- Filing ----------------------------------------------------------------------------------


def _preselected(request: HttpRequest) -> tuple[list[Any], list[int]]:
    """The detections (scoped to the reader) and the listing ids the page was opened with."""
    source = request.POST if request.method == "POST" else request.GET
    detection_ids = split_ids(source.getlist("detections"))[: 2 * 500]
    detections = []
    if detection_ids:
        detections = list(
            listing_selectors.detection_list(user=request.user)
            .filter(pk__in=detection_ids)
            .select_related("listing", "listing__seller", "brand", "asset")
            .order_by("-score", "id")
        )
    return detections, split_ids(request.GET.getlist("listings"))[:500]


@login_required
def complaint_new(request: HttpRequest) -> HttpResponse:
    brands = Brand.objects.manageable_by(request.user)
    if not brands.exists():
        raise PermissionDenied("Only a brand's managers (or its authorized agents) file notices.")
    detections, listing_ids = _preselected(request)
    source = Complaint.Source.MANUAL
    if detections:
        source = Complaint.Source.DETECTIONS
    elif request.POST.get("source") == Complaint.Source.SEARCH or (request.method == "GET" and listing_ids):
        source = Complaint.Source.SEARCH
    if request.method == "POST":
        form = ComplaintForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            response = _file(request, form, detections, source)
            if response is not None:
                return response
    else:
        detection_brands = {d.brand_id for d in detections}
        initial = {
            "detections": ",".join(str(d.pk) for d in detections),
            "listings": "\n".join(str(i) for i in listing_ids),
            "filer_name": request.user.get_full_name(),
            "filer_email": request.user.email,
            "idempotency_key": uuid.uuid4().hex,
        }
        if len(detection_brands) == 1:
            initial["brand"] = detection_brands.pop()
        elif request.GET.get("brand", "").isdigit():
            initial["brand"] = int(request.GET["brand"])
        form = ComplaintForm(initial=initial, user=request.user)
        if len({d.brand_id for d in detections}) > 1:
            form.add_error(None, "The detections you chose belong to several brands: a notice is for one brand.")
    context = {"form": form, "detections": detections, "source": source, "max_items": 500}
    return render(request, "takedowns/complaint_new.html", context, status=422 if form.errors else 200)


def _file(request: HttpRequest, form: ComplaintForm, detections: list[Any], source: str) -> HttpResponse | None:
    data = form.cleaned_data
    shared = {
        "right": data["right"],
        "infringement_type": data["infringement_type"],
        "explanation": data["explanation"],
    }
    items = [{"detection": d.pk, **shared} for d in detections if d.brand_id == data["brand"].pk]
    stray = [d for d in detections if d.brand_id != data["brand"].pk]
    if stray:
        form.add_error("brand", f"{len(stray)} of the chosen detections are another brand's; file them separately.")
        return None
    items += [{"listing": ref, **shared} for ref in form.listing_refs()]
    submit = request.POST.get("action") != "draft"
    filer, statements = filer_and_statements(data)
    try:
        result = complaint_services.complaint_file(
            actor=request.user,
            brand=data["brand"],
            items=items,
            filer=filer,
            statements=statements,
            source=source,
            submit=submit,
            idempotency_key=data["idempotency_key"],
            attachments=data["attachments"],
        )
    except ValidationError as exc:
        form.add_service_errors(exc)
        return None
    complaint = result.complaint
    if not result.created:
        messages.info(request, f"Notice {complaint.reference} was already filed with this form; nothing new filed.")
    elif submit:
        messages.success(request, f"Notice {complaint.reference} filed. A receipt was sent to {complaint.filer_email}.")
    else:
        messages.success(request, f"Draft {complaint.reference} saved. Sign and submit it when it is ready.")
    return redirect("takedowns:complaint-receipt", pk=complaint.pk)


@login_required
@require_GET
def complaint_receipt(request: HttpRequest, pk: int) -> HttpResponse:
    _require_reader(request)
    complaint = get_object_or_404(selectors.complaint_list(user=request.user), pk=pk)
    items = complaint.items.select_related("listing", "right").order_by("pk")
    return render(request, "takedowns/complaint_receipt.html", {"complaint": complaint, "items": items})


# --- One notice -------------------------------------------------------------------------------


def _complaint_or_404(request: HttpRequest, pk: int) -> Complaint:
    _require_reader(request)
    return get_object_or_404(selectors.complaint_list(user=request.user), pk=pk)


def _item_or_404(request: HttpRequest, pk: int) -> ComplaintItem:
    _require_reader(request)
    return get_object_or_404(
        selectors.item_list(user=request.user).select_related("detection", "detection__asset", "listing__seller"),
        pk=pk,
    )


def _item_context(request: HttpRequest, item: ComplaintItem, **extra: Any) -> dict[str, Any]:
    manage = can_manage(request.user, item.brand_id)
    decisions = list(getattr(item, "decision_list", None) or item.decisions.select_related("decided_by"))
    counter = item.counter_notice_or_none
    return {
        "item": item,
        "can_manage": manage,
        "decisions": decisions,
        "counter": counter,
        "changes": item_changes(item),
        "snapshot_images": [i for i in (item.snapshot or {}).get("images", []) if isinstance(i, dict) and i.get("id")],
        "can_withdraw": manage and item.state in ("submitted", "in_review"),
        "can_answer": manage and item.state == "needs_info",
        "can_report_legal_action": manage
        and item.state == "counter_noticed"
        and not item.legal_action
        and window_open(item.respond_until),
        "answer_form": extra.pop("answer_form", None) or AnswerForm(prefix=f"a{item.pk}"),
        "withdraw_form": extra.pop("withdraw_form", None) or WithdrawForm(prefix=f"w{item.pk}"),
        "legal_form": extra.pop("legal_form", None) or LegalActionForm(prefix=f"l{item.pk}"),
        **extra,
    }


@login_required
@require_GET
def complaint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = _complaint_or_404(request, pk)
    items = list(
        complaint.items.select_related(
            "listing", "listing__seller", "right", "detection", "detection__asset", "brand", "complaint"
        )
        .prefetch_related(
            Prefetch("decisions", queryset=Decision.objects.select_related("decided_by"), to_attr="decision_list")
        )
        .order_by("pk")
    )
    manage = can_manage(request.user, complaint.brand_id)
    context = {
        "complaint": complaint,
        "items": [_item_context(request, item) for item in items],
        "attachments": complaint.attachments.all(),
        "can_manage": manage,
        "drafts": manage and any(i.state == "draft" for i in items),
        "states": sorted({i.get_state_display() for i in items}),
    }
    return render(request, "takedowns/complaint_detail.html", context)


def _item_response(request: HttpRequest, item: ComplaintItem, *, notice: str = "", status: int = 200, **forms: Any):
    if is_htmx(request):
        item.refresh_from_db()
        context = _item_context(request, item, notice=notice, **forms)
        return render(request, "takedowns/_complaint_item.html", context, status=status)
    if status >= 400:
        for form in forms.values():
            for errors in form.errors.values():
                messages.error(request, " ".join(errors))
    elif notice:
        messages.success(request, notice)
    return redirect(f"{reverse('takedowns:complaint-detail', args=[item.complaint_id])}#item-{item.pk}")


def _item_action(request: HttpRequest, pk: int, form_class: type, prefix: str, key: str, act: Any, notice: str):
    item = _item_or_404(request, pk)
    if not can_manage(request.user, item.brand_id):
        raise PermissionDenied("Only the brand's managers act on its notices.")
    form = form_class(request.POST, prefix=f"{prefix}{item.pk}")
    if form.is_valid():
        try:
            act(item, form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return _item_response(request, item, notice=notice)
    return _item_response(request, item, status=422, **{key: form})


@login_required
@require_POST
def item_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    def act(item: ComplaintItem, data: dict[str, Any]) -> None:
        complaint_services.item_withdraw(actor=request.user, item=item, reason=data["reason"])

    return _item_action(request, pk, WithdrawForm, "w", "withdraw_form", act, "Listing withdrawn from the notice.")


@login_required
@require_POST
def item_answer(request: HttpRequest, pk: int) -> HttpResponse:
    def act(item: ComplaintItem, data: dict[str, Any]) -> None:
        complaint_services.item_answer(actor=request.user, item=item, answer=data["answer"])

    return _item_action(request, pk, AnswerForm, "a", "answer_form", act, "Answer sent; the listing is back in review.")


@login_required
@require_POST
def item_legal_action(request: HttpRequest, pk: int) -> HttpResponse:
    def act(item: ComplaintItem, data: dict[str, Any]) -> None:
        complaint_services.item_report_legal_action(actor=request.user, item=item, details=data["details"])

    notice = "Legal action reported: the listing stays down until a moderator decides."
    return _item_action(request, pk, LegalActionForm, "l", "legal_form", act, notice)


@login_required
def complaint_submit(request: HttpRequest, pk: int) -> HttpResponse:
    """Sign and submit a draft notice."""
    complaint = _complaint_or_404(request, pk)
    if not can_manage(request.user, complaint.brand_id):
        raise PermissionDenied("Only the brand's managers submit its notices.")
    if request.method == "POST":
        form = SubmitDraftForm(request.POST)
        if form.is_valid():
            filer, statements = filer_and_statements(form.cleaned_data)
            try:
                complaint_services.complaint_submit(
                    actor=request.user,
                    complaint=complaint,
                    filer=filer,
                    statements=statements,
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, f"Notice {complaint.reference} submitted.")
                return redirect("takedowns:complaint-receipt", pk=complaint.pk)
    else:
        form = SubmitDraftForm(
            initial={
                "rights_holder": complaint.rights_holder,
                "filer_name": complaint.filer_name or request.user.get_full_name(),
                "filer_organisation": complaint.filer_organisation,
                "filer_email": complaint.filer_email or request.user.email,
                "filer_phone": complaint.filer_phone,
                "filer_address": complaint.filer_address,
            }
        )
    status = 422 if form.errors else 200
    return render(request, "takedowns/complaint_submit.html", {"complaint": complaint, "form": form}, status=status)


# --- Files and exports --------------------------------------------------------------------------


@login_required
@require_GET
def attachment_download(request: HttpRequest, pk: int) -> HttpResponse:
    _require_reader(request)
    attachment = get_scoped_or_404(Attachment.objects.all(), request.user, pk=pk)
    return private_file_response(
        attachment.file,
        filename=attachment.original_name,
        content_type=attachment.content_type,
        inline=attachment.content_type.startswith("image/"),
    )


def item_visible(user: Any, item_id: int) -> ComplaintItem | None:
    """The item if the user may see it as the brand, as platform staff, or as the seller it is about."""
    item = selectors.item_list(user=user).filter(pk=item_id).first()
    if item is None:
        item = selectors.seller_item_list(user=user).filter(pk=item_id).first()
    return item


@login_required
@require_GET
def item_image(request: HttpRequest, pk: int, image_id: int) -> HttpResponse:
    """A picture of the listing as filed: only one the snapshot names, only to those who see the item."""
    item = item_visible(request.user, pk)
    if item is None:
        raise Http404
    named = {i.get("id") for i in (item.snapshot or {}).get("images", []) if isinstance(i, dict)}
    if image_id not in named:
        raise Http404
    picture = get_object_or_404(ListingImage, pk=image_id, listing_id=item.listing_id)
    if picture.status != ListingImage.Status.STORED or not picture.file:
        raise Http404("Image not stored")
    name = picture.file.name.rsplit("/", 1)[-1]
    return private_file_response(picture.file, filename=name, content_type=picture.content_type, inline=True)


def _audit_events(complaint: Complaint) -> Any:
    objects = [("takedowns.complaint", str(complaint.pk))]
    objects += [("takedowns.complaintitem", str(i)) for i in complaint.items.values_list("pk", flat=True)]
    from core.selectors import audit_events_for

    return audit_events_for(objects)


@login_required
@require_GET
def complaint_audit(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The notice's audit trail with its hash chain fields, so the recipient can verify it."""
    from core.selectors import audit_export_csv, audit_export_json

    complaint = _complaint_or_404(request, pk)
    events = _audit_events(complaint)
    filename = f"notice-{complaint.reference}-audit.{fmt}"
    if fmt == "json":
        body = {"complaint": complaint.reference, "events": audit_export_json(events)}
        response: HttpResponse = JsonResponse(body, json_dumps_params={"ensure_ascii": False, "indent": 1})
    elif fmt == "csv":
        response = HttpResponse(audit_export_csv(events), content_type="text/csv; charset=utf-8")
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
