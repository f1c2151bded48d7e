"""Complainant pages: the brand's notices with its standing, filing a notice (typed listings, or chosen
on the detections and search pages), the receipt, one notice with its items and the brand's moves
(answer, withdraw, report legal action, submit a draft), evidence downloads and the audit export."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
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
from brands.selectors import agent_statuses, brands_user_may_file_for
from brands.tenancy import can_manage, get_scoped_or_404
from listings import selectors as listing_selectors
from listings.forms import ListingSearchForm
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
ITEMS_PER_PAGE = 50  # a notice's listings per page
RECEIPT_ROWS = 100  # the receipt lists this many; the notice's own page has them all


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


SHOWN_DETECTIONS = 50  # the form lists this many of the chosen detections


@dataclass
class Selection:
    """What the form was opened (or posted) with: the chosen detections (scoped to the reader) and
    listing ids; `too_many` is the size of a selection refused because no filing takes that many."""

    detection_ids: list[int] = field(default_factory=list)
    detection_brand_ids: set[int] = field(default_factory=set)
    shown: list[Any] = field(default_factory=list)
    listing_ids: list[int] = field(default_factory=list)
    too_many: int = 0

    @property
    def count(self) -> int:
        return len(self.detection_ids) + len(self.listing_ids)


def filing_cap() -> int:
    return settings.TAKEDOWN_MAX_ITEMS * complaint_services.MAX_NOTICES_PER_FILING


def _preselected(request: HttpRequest) -> Selection:
    """`?detections=1,2` or `?select=detections&<the detections page's filters>` (every new detection they
    match, not just one page); `?listings=1,2` or `?select=listings&<the search's fields>`."""
    source = request.POST if request.method == "POST" else request.GET
    cap = filing_cap()
    selection = Selection()
    if request.method == "GET" and request.GET.get("select") == "detections":
        chosen = listing_selectors.new_detections_matching(user=request.user, params=request.GET)
    else:
        ids = split_ids(source.getlist("detections"))[: cap + 1]
        chosen = listing_selectors.detection_list(user=request.user).filter(pk__in=ids) if ids else None
    if chosen is not None:
        rows = list(chosen.order_by("-score", "-created_at", "-id").values_list("pk", "brand_id")[: cap + 1])
        if len(rows) > cap:
            selection.too_many = chosen.count()
        else:
            selection.detection_ids = [pk for pk, _ in rows]
            selection.detection_brand_ids = {brand_id for _, brand_id in rows}
            selection.shown = list(
                listing_selectors.detection_list(user=request.user)
                .filter(pk__in=selection.detection_ids[:SHOWN_DETECTIONS])
                .order_by("-score", "-created_at", "-id")
            )
    if request.method == "GET" and request.GET.get("select") == "listings":
        search = ListingSearchForm(request.GET)
        query = listing_selectors.ListingQuery()
        if search.is_valid():
            query = listing_selectors.ListingQuery(
                **{k: v for k, v in search.cleaned_data.items() if v not in ("", None)}
            )
        matching = listing_selectors.listings_matching(user=request.user, query=query)
        ids = list(matching.values_list("pk", flat=True)[: cap + 1])
        if len(ids) > cap:
            selection.too_many = matching.count()
        else:
            selection.listing_ids = ids
    elif request.method == "GET":
        selection.listing_ids = split_ids(request.GET.getlist("listings"))[:cap]
    return selection


@login_required
def complaint_new(request: HttpRequest) -> HttpResponse:
    may_file = brands_user_may_file_for(user=request.user)
    waiting = agent_statuses(user=request.user)
    if not may_file.exists():
        if not waiting:
            raise PermissionDenied("Only a brand's managers (or its authorized agents) file notices.")
        if request.method != "POST":
            # An agent whose authorization is not verified yet learns it here, before typing a notice.
            return render(request, "takedowns/complaint_agent_pending.html", {"statuses": waiting}, status=403)
    selection = _preselected(request)
    source = Complaint.Source.MANUAL
    if selection.detection_ids:
        source = Complaint.Source.DETECTIONS
    elif request.POST.get("source") == Complaint.Source.SEARCH or (request.method == "GET" and selection.listing_ids):
        source = Complaint.Source.SEARCH
    status = 200
    problems: list[str] = []  # with the selection the form was opened with (the form itself is not bound)
    if request.method == "POST":
        form = ComplaintForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            response, status = _file(request, form, selection, source, waiting)
            if response is not None:
                return response
        else:
            _report_every_problem(request, form, selection)
    else:
        initial = {
            "detections": ",".join(str(pk) for pk in selection.detection_ids),
            "listings": "\n".join(str(i) for i in selection.listing_ids),
            "filer_name": request.user.get_full_name(),
            "filer_email": request.user.email,
            "idempotency_key": uuid.uuid4().hex,
        }
        if len(selection.detection_brand_ids) == 1:
            initial["brand"] = next(iter(selection.detection_brand_ids))
        elif request.GET.get("brand", "").isdigit():
            initial["brand"] = int(request.GET["brand"])
        form = ComplaintForm(initial=initial, user=request.user)
        if len(selection.detection_brand_ids) > 1:
            problems.append("The detections you chose belong to several brands: a notice is for one brand.")
        if selection.too_many:
            problems.append(complaint_services.too_many_message(selection.too_many))
    if (form.errors or problems) and status == 200:
        status = 422
    context = {
        "form": form,
        "problems": problems,
        "detections": selection.shown,
        "detection_count": len(selection.detection_ids),
        "selected_count": selection.count,
        "parts": complaint_services.notice_parts(selection.count) if selection.count else [],
        "source": source,
        "max_items": settings.TAKEDOWN_MAX_ITEMS,
        "waiting": waiting,
    }
    return render(request, "takedowns/complaint_new.html", context, status=status)


def _items(form: ComplaintForm, selection: Selection, brand: Brand) -> tuple[list[dict[str, Any]], bool]:
    """The notice's items, and whether they are only a placeholder: with no listing named yet, one item
    without a listing still has the right, the type and the explanation checked (every problem at once)."""
    data = form.cleaned_data
    shared = {
        "right": data.get("right"),
        "infringement_type": data.get("infringement_type") or "",
        "explanation": data.get("explanation") or "",
    }
    items = [{"detection": pk, **shared} for pk in selection.detection_ids]
    items += [{"listing": ref, **shared} for ref in form.listing_refs()]
    if not items:
        return [{"listing": None, **shared}], True
    return items, False


def _report_every_problem(request: HttpRequest, form: ComplaintForm, selection: Selection) -> None:
    """The form refused some input (an unknown choice, a file): report the service's problems with the rest
    too, so that one submission shows every missing element."""
    brand = form.cleaned_data.get("brand")
    if brand is None:
        return
    items, placeholder = _items(form, selection, brand)
    filer, statements = filer_and_statements({name: form.cleaned_data.get(name) or "" for name in FILING_FIELDS})
    submit = request.POST.get("action") != "draft"
    try:
        errors = complaint_services.complaint_validate(
            actor=request.user, brand=brand, items=items, filer=filer, statements=statements, submit=submit
        )
    except (PermissionDenied, ValidationError):
        return  # said when the form is posted without the other problems
    if errors:
        form.add_service_errors(ValidationError(errors), placeholder=placeholder)


FILING_FIELDS = ("rights_holder", "filer_name", "filer_organisation", "filer_email", "filer_phone",
                 "filer_address", "good_faith", "accurate_under_penalty", "signature_name")  # fmt: skip


def _file(
    request: HttpRequest, form: ComplaintForm, selection: Selection, source: str, waiting: list[Any]
) -> tuple[HttpResponse | None, int]:
    data = form.cleaned_data
    brand = data["brand"]
    status = next((s for s in waiting if s.brand.pk == brand.pk), None)
    if status is not None:
        form.add_error(None, f"Nothing was filed. {status.summary} Your input is kept below: submit it again once "
                             "the authorization is verified.")  # fmt: skip
        return None, 403
    stray = selection.detection_brand_ids - {brand.pk}
    if stray:
        count = sum(1 for d in selection.shown if d.brand_id != brand.pk) or len(stray)
        form.add_error("brand", f"{count} of the chosen detections are another brand's; file them separately.")
        return None, 422
    items, placeholder = _items(form, selection, brand)
    submit = request.POST.get("action") != "draft"
    filer, statements = filer_and_statements(data)
    try:
        results = complaint_services.complaint_file_in_parts(
            actor=request.user,
            brand=brand,
            items=items,
            filer=filer,
            statements=statements,
            source=source,
            submit=submit,
            idempotency_key=data["idempotency_key"],
            attachments=data["attachments"],
        )
    except ValidationError as exc:
        form.add_service_errors(exc, placeholder=placeholder)
        return None, 422
    except PermissionDenied as exc:
        form.add_error(None, f"Nothing was filed: {exc} Your input is kept below.")
        return None, 403
    if len(results) > 1:
        parts = ", ".join(f"{r.complaint.reference} ({r.complaint.items.count()} listings)" for r in results)
        new = [r for r in results if r.created]
        if not new:
            messages.info(request, f"These notices were already filed with this form; nothing new filed: {parts}.")
        else:
            what = "notices" if submit else "drafts"
            email = results[0].complaint.filer_email
            messages.success(
                request,
                f"{len(items)} listings filed as {len(results)} {what} of at most {settings.TAKEDOWN_MAX_ITEMS}: "
                f"{parts}. A receipt for each was sent to {email}.",
            )
        return redirect(f"{reverse('takedowns:complaint-list')}?brand={brand.pk}"), 302
    result = results[0]
    complaint = result.complaint
    if not result.created:
        messages.info(request, f"Notice {complaint.reference} was already filed with this form; nothing new filed.")
    elif submit:
        messages.success(request, f"Notice {complaint.reference} filed. A receipt was sent to {complaint.filer_email}.")
    else:
        messages.success(request, f"Draft {complaint.reference} saved. Sign and submit it when it is ready.")
    return redirect("takedowns:complaint-receipt", pk=complaint.pk), 302


@login_required
@require_GET
def complaint_receipt(request: HttpRequest, pk: int) -> HttpResponse:
    _require_reader(request)
    complaint = get_object_or_404(selectors.complaint_list(user=request.user), pk=pk)
    items = complaint.items.select_related("listing", "right").order_by("pk")
    context = {"complaint": complaint, "items": items[:RECEIPT_ROWS], "item_count": items.count()}
    return render(request, "takedowns/complaint_receipt.html", context)


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
    """One notice; its items a page at a time (a bulk notice names hundreds of listings)."""
    complaint = _complaint_or_404(request, pk)
    all_items = complaint.items.all()
    page = Paginator(all_items.order_by("pk").values_list("pk", flat=True), ITEMS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    items = list(
        complaint.items.filter(pk__in=list(page.object_list))
        .select_related("listing", "listing__seller", "right", "detection", "detection__asset", "brand", "complaint")
        .prefetch_related(
            Prefetch("decisions", queryset=Decision.objects.select_related("decided_by"), to_attr="decision_list")
        )
        .order_by("pk")
    )
    by_state = dict(all_items.order_by().values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    manage = can_manage(request.user, complaint.brand_id)
    context = {
        "complaint": complaint,
        "items": [_item_context(request, item) for item in items],
        "page": page,
        "item_count": page.paginator.count,
        "state_counts": [(ComplaintItem.State(s).label, n) for s, n in sorted(by_state.items())],
        "attachments": complaint.attachments.all(),
        "can_manage": manage,
        "drafts": manage and by_state.get("draft", 0) > 0,
    }
    return render(request, "takedowns/complaint_detail.html", context)


def item_page_url(item: ComplaintItem) -> str:
    """The notice page that shows `item`, at its anchor."""
    before = ComplaintItem.objects.filter(complaint_id=item.complaint_id, pk__lt=item.pk).count()
    number = before // ITEMS_PER_PAGE + 1
    query = f"?page={number}" if number > 1 else ""
    return f"{reverse('takedowns:complaint-detail', args=[item.complaint_id])}{query}#item-{item.pk}"


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
    return redirect(item_page_url(item))


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
