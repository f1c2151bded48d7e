"""Pages for gated brands: the public notices, gates (staff and brands), seller approvals, and the seller's
held listings with their statements. Access: selectors narrow what is listed; services refuse moves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from brands.downloads import private_file_response
from brands.models import Brand
from brands.tenancy import brand_roles, can_manage
from core.roles import is_platform_staff
from gating import selectors, services, workflow
from gating.forms import ApprovalForm, DecideForm, DocumentForm, GateEditForm, GateForm, ResubmitForm
from listings.models import Seller
from takedowns.selectors import is_seller
from takedowns.services.sellers import seller_ids_for


def _names(text: str) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _attempt(request: HttpRequest, done: str, move: Callable[[], object]) -> bool:
    """Run a service move for a button press: on success say `done`; when the service refuses
    (ValidationError), show its reasons instead. Returns whether it succeeded."""
    try:
        move()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return False
    messages.success(request, done)
    return True


def public_gates(request: HttpRequest) -> HttpResponse:
    """No login: the gated brands and their notices."""
    return render(request, "gating/public.html", {"gates": selectors.public_gates()})


def _gate_form(request: HttpRequest, data: Any = None) -> GateForm | None:
    user = request.user
    if is_platform_staff(user):
        brands = Brand.objects.all().order_by("name")
    else:
        brands = Brand.objects.manageable_by(user).order_by("name")
    if not brands.exists():
        return None
    return GateForm(data, brands=brands)


@login_required
def gate_list(request: HttpRequest) -> HttpResponse:
    staff = is_platform_staff(request.user)
    if not staff and not brand_roles(request.user):
        raise PermissionDenied
    form = _gate_form(request, request.POST or None)
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            values = {
                "brand": data["brand"], "starts_on": data["starts_on"], "notice": data["notice"],
                "categories": _names(data["categories"]), "marketplaces": _names(data["marketplaces"]),
                "request_note": data["request_note"],
            }  # fmt: skip
            try:
                if staff:
                    gate = services.gate_create(actor=request.user, **values)
                    messages.success(request, f"{gate.brand.name} is gated from {gate.starts_on:%Y-%m-%d}.")
                else:
                    gate = services.gate_request(actor=request.user, **values)
                    messages.success(request, "Request sent: a moderator will approve or decline it.")
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                return redirect("gating:gate-detail", pk=gate.pk)
    context = {"gates": selectors.gate_list(user=request.user), "form": form, "staff": staff}
    return render(request, "gating/gates.html", context, status=422 if form is not None and form.errors else 200)


@login_required
def gate_detail(request: HttpRequest, pk: int) -> HttpResponse:
    gate = get_object_or_404(selectors.gate_list(user=request.user), pk=pk)
    staff = is_platform_staff(request.user)
    actions = workflow.GATE_WORKFLOW.actions_from(gate.state) if staff else []
    decide = DecideForm(actions=actions) if actions else None
    edit = None
    if staff and gate.state in (workflow.REQUESTED, workflow.ACTIVE):
        edit = GateEditForm(
            initial={"starts_on": gate.starts_on, "notice": gate.notice, "categories": ", ".join(gate.categories),
                     "marketplaces": ", ".join(gate.marketplaces)}
        )  # fmt: skip
    context = {
        "gate": gate,
        "decide": decide,
        "edit": edit,
        "holds": selectors.gate_holds(user=request.user).filter(gate=gate)[:200],
        "may_release": staff or can_manage(request.user, gate.brand_id),
    }
    return render(request, "gating/gate_detail.html", context)


@login_required
@require_POST
def gate_decide(request: HttpRequest, pk: int) -> HttpResponse:
    gate = get_object_or_404(selectors.gate_list(user=request.user), pk=pk)
    if not is_platform_staff(request.user):
        raise PermissionDenied
    form = DecideForm(request.POST, actions=workflow.GATE_WORKFLOW.actions_from(gate.state))
    if not form.is_valid():
        messages.error(request, "That move is not possible for this gate now.")
        return redirect("gating:gate-detail", pk=gate.pk)
    _attempt(request, "Done.", lambda: services.gate_decide(actor=request.user, gate=gate, **form.cleaned_data))
    return redirect("gating:gate-detail", pk=gate.pk)


@login_required
@require_POST
def hold_release(request: HttpRequest, pk: int) -> HttpResponse:
    hold = get_object_or_404(selectors.gate_holds(user=request.user), pk=pk)
    reason = request.POST.get("reason", "")
    _attempt(request, "Hold lifted.", lambda: services.hold_release(actor=request.user, hold=hold, reason=reason))
    return redirect("gating:gate-detail", pk=hold.gate_id)


@login_required
@require_POST
def gate_edit(request: HttpRequest, pk: int) -> HttpResponse:
    gate = get_object_or_404(selectors.gate_list(user=request.user), pk=pk)
    if not is_platform_staff(request.user):
        raise PermissionDenied
    form = GateEditForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        _attempt(request, "Gate changed.", lambda: services.gate_update(
            actor=request.user, gate=gate, starts_on=data["starts_on"], notice=data["notice"],
            categories=_names(data["categories"]), marketplaces=_names(data["marketplaces"]),
        ))  # fmt: skip
    else:
        messages.error(request, "Check the start date and the notice.")
    return redirect("gating:gate-detail", pk=gate.pk)


@login_required
def approval_list(request: HttpRequest) -> HttpResponse:
    if not (is_platform_staff(request.user) or brand_roles(request.user) or is_seller(request.user)):
        raise PermissionDenied
    return render(
        request, "gating/approvals.html",
        {"approvals": selectors.approval_list(user=request.user)[:500], "is_seller": is_seller(request.user)},
    )  # fmt: skip


@login_required
def approval_new(request: HttpRequest) -> HttpResponse:
    if not is_seller(request.user):
        raise PermissionDenied
    sellers = Seller.objects.filter(pk__in=seller_ids_for(request.user))
    brands = Brand.objects.filter(gates__state=workflow.ACTIVE).distinct().order_by("name")
    initial = {"brand": request.GET.get("brand")} if (request.GET.get("brand") or "").isdigit() else {}
    form = ApprovalForm(request.POST or None, request.FILES or None, sellers=sellers, brands=brands, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        documents = [(data["file"], data["kind"])]
        if data.get("file2"):
            documents.append((data["file2"], data.get("kind2") or "other"))
        try:
            approval = services.approval_submit(
                actor=request.user, seller=data["seller"], brand=data["brand"], statement=data["statement"],
                documents=documents,
            )  # fmt: skip
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "Application sent: the brand or a moderator will decide; you will be notified.")
            return redirect("gating:approval-detail", pk=approval.pk)
    return render(request, "gating/approval_new.html", {"form": form}, status=422 if form.errors else 200)


@login_required
def approval_detail(request: HttpRequest, pk: int) -> HttpResponse:
    approval = get_object_or_404(selectors.approval_list(user=request.user).prefetch_related("documents"), pk=pk)
    user = request.user
    decider = services.may_decide(user, approval)
    is_own = approval.seller_id in seller_ids_for(user)
    actions = list(workflow.APPROVAL_WORKFLOW.actions_from(approval.state, "brand_manager")) if decider else []
    context = {
        "approval": approval,
        "decide": DecideForm(actions=actions) if actions else None,
        "document_form": DocumentForm()
        if is_own and approval.state in (workflow.SUBMITTED, workflow.NEEDS_INFO)
        else None,
        "resubmit": ResubmitForm() if is_own and approval.state == workflow.NEEDS_INFO else None,
    }
    return render(request, "gating/approval_detail.html", context)


@login_required
@require_POST
def approval_action(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    approval = get_object_or_404(selectors.approval_list(user=request.user), pk=pk)
    if what not in ("decide", "document", "resubmit"):
        raise Http404

    def move() -> None:
        if what == "decide":
            actions = workflow.APPROVAL_WORKFLOW.actions_from(approval.state, "brand_manager")
            form = DecideForm(request.POST, actions=actions)
            if not form.is_valid():
                raise ValidationError("That move is not possible for this application now.")
            services.approval_decide(actor=request.user, approval=approval, **form.cleaned_data)
        elif what == "document":
            form = DocumentForm(request.POST, request.FILES)
            if not form.is_valid():
                raise ValidationError("Choose a file and its kind.")
            services.approval_add_document(actor=request.user, approval=approval, **form.cleaned_data)
        else:  # resubmit
            form = ResubmitForm(request.POST)
            if not form.is_valid():
                raise ValidationError("Answer the question you were asked.")
            services.approval_resubmit(actor=request.user, approval=approval, **form.cleaned_data)

    _attempt(request, "Done.", move)
    return redirect("gating:approval-detail", pk=approval.pk)


@login_required
def document_download(request: HttpRequest, pk: int) -> HttpResponse:
    document = selectors.approval_document_for(user=request.user, pk=pk)
    if document is None:
        raise Http404
    return private_file_response(document.file, filename=document.original_name, content_type=document.content_type)


@login_required
def seller_home(request: HttpRequest) -> HttpResponse:
    if not is_seller(request.user):
        raise PermissionDenied
    context = {
        "holds": selectors.seller_holds(user=request.user),
        "approvals": selectors.approval_list(user=request.user).filter(seller_id__in=seller_ids_for(request.user)),
        "gates": selectors.gated_brands_for_seller(),
    }
    return render(request, "gating/seller_home.html", context)


@login_required
def held_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if not is_seller(request.user):
        raise PermissionDenied
    hold = get_object_or_404(selectors.seller_holds(user=request.user, open_only=False), pk=pk)
    return render(request, "gating/held_detail.html", {"hold": hold})
