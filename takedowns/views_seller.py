"""The seller centre: notices against the seller's listings (never drafts, never another seller's), the
statement of reasons of each decision, counter-notices and appeals, strikes and suspensions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from takedowns import selectors, workflow
from takedowns.forms import CounterNoticeForm, SuspensionAppealForm
from takedowns.models import Decision, Strike, Suspension
from takedowns.services.sellers import counter_notice_file, seller_ids_for, suspension_appeal
from takedowns.views import require_seller, window_open


def _home_context(request: HttpRequest, *, appeal_form: SuspensionAppealForm | None = None) -> dict[str, Any]:
    suspensions = list(selectors.seller_suspensions(user=request.user))
    open_suspension = next((s for s in suspensions if s.state == Suspension.State.ACTIVE), None)
    # No selector reads a seller's strikes yet; seller_ids_for is the scoping the selectors use.
    strikes = list(
        Strike.objects.filter(seller_id__in=seller_ids_for(request.user)).select_related(
            "item", "item__complaint", "seller"
        )[:100]
    )
    if appeal_form is None and open_suspension is not None and window_open(open_suspension.appeal_until):
        appeal_form = SuspensionAppealForm(prefix=f"s{open_suspension.pk}")
    return {
        "items": list(selectors.seller_item_list(user=request.user)[:200]),
        "suspensions": suspensions,
        "open_suspension": open_suspension,
        "appeal_form": appeal_form if open_suspension is not None else None,
        "strikes": strikes,
        "active_strikes": [s for s in strikes if s.voided_at is None],
        "policy": selectors.policy(),
    }


@login_required
def seller_home(request: HttpRequest) -> HttpResponse:
    require_seller(request)
    return render(request, "takedowns/seller/home.html", _home_context(request))


@login_required
@require_POST
def seller_suspension_appeal(request: HttpRequest, pk: int) -> HttpResponse:
    require_seller(request)
    suspension = get_object_or_404(selectors.seller_suspensions(user=request.user), pk=pk)
    form = SuspensionAppealForm(request.POST, prefix=f"s{suspension.pk}")
    if form.is_valid():
        try:
            suspension_appeal(actor=request.user, suspension=suspension, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "Appeal filed. A moderator will review it; you will be notified.")
            return redirect("takedowns:seller-home")
    return render(request, "takedowns/seller/home.html", _home_context(request, appeal_form=form), status=422)


@login_required
def seller_item(request: HttpRequest, pk: int) -> HttpResponse:
    require_seller(request)
    item = get_object_or_404(
        selectors.seller_item_list(user=request.user).prefetch_related(
            Prefetch("decisions", queryset=Decision.objects.order_by("created_at", "id"), to_attr="decision_list")
        ),
        pk=pk,
    )
    can_contest = item.state == workflow.APPROVED and window_open(item.contest_until)
    form = None
    if can_contest:
        form = CounterNoticeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                counter_notice_file(actor=request.user, item=item, **form.cleaned_data)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                kind = dict(form.fields["kind"].choices)[form.cleaned_data["kind"]]
                messages.success(request, f"{kind} filed. The rights holder has been told; you will be notified.")
                return redirect("takedowns:seller-item", pk=item.pk)
    elif request.method == "POST":
        messages.error(request, "This removal can no longer be contested here.")
        return redirect("takedowns:seller-item", pk=item.pk)
    # The moderator's questions to the brand are not the seller's business.
    decisions = [d for d in item.decision_list if d.outcome != Decision.Outcome.REQUEST_INFO]
    snapshot_images = [i for i in (item.snapshot or {}).get("images", []) if isinstance(i, dict) and i.get("id")]
    context = {
        "item": item,
        "decisions": decisions,
        "latest": decisions[-1] if decisions else None,
        "counter": item.counter_notice_or_none,
        "form": form,
        "can_contest": can_contest,
        "snapshot_images": snapshot_images,
        "policy": selectors.policy(),
    }
    status = 422 if form is not None and form.errors else 200
    return render(request, "takedowns/seller/item.html", context, status=status)
