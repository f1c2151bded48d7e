"""Moderator pages: the takedown queue (claim/release, bulk decisions, time to decision), one item
side by side with its evidence and the decision form, and seller suspensions under appeal."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from takedowns import selectors, workflow
from takedowns.forms import BulkDecisionForm, DecisionForm, QueueFilterForm, SuspensionDecisionForm, split_ids
from takedowns.models import ComplaintItem, Decision, Suspension
from takedowns.services import moderation as moderation_services
from takedowns.services.moderation import REASON_TEMPLATES
from takedowns.services.sellers import suspension_decide
from takedowns.views import error_text, is_htmx, item_changes, require_staff, safe_next

PER_PAGE = 50


def _queue(request: HttpRequest) -> tuple[QueueFilterForm, Any]:
    form = QueueFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_valid():
        data = form.cleaned_data
        filters = {
            "state": data["state"],
            "brand": data["brand"].pk if data["brand"] else None,
            "infringement_type": data["infringement_type"],
            "overdue": data["overdue"],
            "claimed": data["claimed"],
        }
    return form, selectors.moderation_queue(user=request.user, **filters)


def _queue_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    form, rows = _queue(request)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return {
        "filters": form,
        "page": page,
        "times": selectors.decision_times(),
        "bulk_form": extra.pop("bulk_form", None) or BulkDecisionForm(),
        "templates": REASON_TEMPLATES,
        "querystring": params.urlencode(),
        "appeals": Suspension.objects.filter(state=Suspension.State.APPEALED).count(),
        **extra,
    }


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    require_staff(request)
    return render(request, "takedowns/moderation/queue.html", _queue_context(request))


@login_required
@require_POST
def bulk_decide(request: HttpRequest) -> HttpResponse:
    """Decide the selected rows the same way; the answer counts what was decided and what was refused."""
    require_staff(request)
    form = BulkDecisionForm(request.POST)
    result = None
    status = 200
    if form.is_valid():
        ids = split_ids(request.POST.getlist("item")) or split_ids([form.cleaned_data["items"]])
        try:
            result = moderation_services.items_decide_bulk(
                actor=request.user,
                item_ids=ids,
                action=form.cleaned_data["action"],
                reason=form.cleaned_data["reason"],
                template=form.cleaned_data["template"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
    if form.errors:
        status = 422
    context = _queue_context(request, bulk_form=form, bulk_result=result)
    template = "takedowns/moderation/_queue_body.html" if is_htmx(request) else "takedowns/moderation/queue.html"
    return render(request, template, context, status=status)


def _queue_item(request: HttpRequest, pk: int) -> ComplaintItem:
    return get_object_or_404(selectors.moderation_queue(user=request.user), pk=pk)


def _row_response(request: HttpRequest, pk: int, *, error: str = "", status: int = 200) -> HttpResponse:
    if is_htmx(request):
        item = selectors.moderation_queue(user=request.user).filter(pk=pk).first()
        if item is None:
            item = get_object_or_404(selectors.item_list(user=request.user), pk=pk)
        context = {"item": item, "row_error": error, "user": request.user}
        return render(request, "takedowns/moderation/_queue_row.html", context, status=status)
    if error:
        messages.error(request, error)
    return redirect(safe_next(request, "takedowns:moderation-queue"))


@login_required
@require_POST
def claim(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff(request)
    item = get_object_or_404(selectors.item_list(user=request.user), pk=pk)
    try:
        moderation_services.item_claim(actor=request.user, item=item)
    except ValidationError as exc:
        return _row_response(request, pk, error=error_text(exc), status=422)
    return _row_response(request, pk)


@login_required
@require_POST
def release(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff(request)
    item = get_object_or_404(selectors.item_list(user=request.user), pk=pk)
    try:
        moderation_services.item_release(actor=request.user, item=item)
    except ValidationError as exc:
        return _row_response(request, pk, error=error_text(exc), status=422)
    return _row_response(request, pk)


@login_required
def item_review(request: HttpRequest, pk: int) -> HttpResponse:
    """One item side by side: the listing as filed vs the brand's reference and the detection's
    evidence, the right, the explanation, the complainant's standing; and the decision form."""
    require_staff(request)
    item = get_object_or_404(
        selectors.item_list(user=request.user)
        .select_related("detection", "detection__asset", "listing__seller", "decided_by")
        .prefetch_related(
            Prefetch("decisions", queryset=Decision.objects.select_related("decided_by"), to_attr="decision_list")
        ),
        pk=pk,
    )
    counter_stage = item.state == workflow.COUNTER_NOTICED
    form = DecisionForm(request.POST or None, counter=counter_stage)
    if request.method == "POST" and form.is_valid():
        try:
            moderation_services.item_decide(actor=request.user, item=item, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            label = dict(form.fields["action"].choices)[form.cleaned_data["action"]]
            messages.success(request, f"{label}: item {item.pk} of notice {item.complaint.reference}.")
            following = selectors.moderation_queue(user=request.user, claimed="unclaimed").exclude(pk=item.pk).first()
            if following is not None and request.POST.get("next") == "queue-next":
                return redirect("takedowns:moderation-item", pk=following.pk)
            return redirect("takedowns:moderation-queue")
    standing, accuracy = selectors.standing_of(brand_id=item.brand_id)
    asset = item.detection.asset if item.detection else None
    context = {
        "item": item,
        "complaint": item.complaint,
        "form": form,
        "decidable": item.state in (workflow.SUBMITTED, workflow.IN_REVIEW, workflow.COUNTER_NOTICED),
        "counter_stage": counter_stage,
        "counter": item.counter_notice_or_none,
        "decisions": item.decision_list,
        "changes": item_changes(item),
        "snapshot_images": [i for i in (item.snapshot or {}).get("images", []) if isinstance(i, dict) and i.get("id")],
        "asset": asset,
        "right": item.right,
        "standing": standing,
        "accuracy": accuracy,
        "policy": selectors.policy(),
        "attachments": item.complaint.attachments.all(),
        "claimed_by_other": item.claimed_by_id not in (None, request.user.pk),
        "templates": REASON_TEMPLATES,
    }
    return render(request, "takedowns/moderation/item.html", context, status=422 if form.errors else 200)


@login_required
def suspension_list(request: HttpRequest) -> HttpResponse:
    require_staff(request)
    state = request.GET.get("state", Suspension.State.APPEALED)
    suspensions = Suspension.objects.select_related("seller").order_by("appealed_at", "created_at")
    if state in Suspension.State.values:
        suspensions = suspensions.filter(state=state)
    context = {
        "suspensions": Paginator(suspensions, PER_PAGE).get_page(request.GET.get("page")),
        "state": state,
        "states": Suspension.State.choices,
    }
    return render(request, "takedowns/moderation/suspension_list.html", context)


@login_required
def suspension_review(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff(request)
    suspension = get_object_or_404(Suspension.objects.select_related("seller", "decided_by"), pk=pk)
    form = SuspensionDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            suspension_decide(actor=request.user, suspension=suspension, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            verb = "lifted" if form.cleaned_data["action"] == "lift" else "upheld"
            messages.success(request, f"Suspension of {suspension.seller.name} {verb}.")
            return redirect("takedowns:moderation-suspensions")
    context = {
        "suspension": suspension,
        "strikes": suspension.strikes.select_related("item", "item__complaint", "brand").order_by("created_at"),
        "form": form,
        "decidable": suspension.state in (Suspension.State.ACTIVE, Suspension.State.APPEALED),
    }
    return render(request, "takedowns/moderation/suspension.html", context, status=422 if form.errors else 200)
