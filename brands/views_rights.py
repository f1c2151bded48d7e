"""Pages for a brand's IP rights, their documents and agent authorizations."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from brands import selectors, services
from brands.downloads import private_file_response
from brands.forms import AnswerForm, AuthorizationForm, DocumentUploadForm, RightForm
from brands.models import AgentAuthorization, Brand, IPDocument, IPRight
from brands.services.rights import EDITABLE_STATES
from brands.tenancy import brand_roles, can_manage, get_scoped_or_404
from brands.validity import right_checks
from brands.workflow import NEEDS_INFO, REJECTED


def _brand(request: HttpRequest, slug: str) -> Brand:
    return get_scoped_or_404(Brand.objects.all(), request.user, slug=slug)


def _managed(request: HttpRequest, slug: str) -> Brand:
    brand = _brand(request, slug)
    if not can_manage(request.user, brand.pk):
        raise PermissionDenied
    return brand


def _base_context(request: HttpRequest, brand: Brand, tab: str) -> dict[str, object]:
    return {"brand": brand, "tab": tab, "can_manage": can_manage(request.user, brand.pk),
            "my_role": brand_roles(request.user).get(brand.pk)}  # fmt: skip


@login_required
def right_list(request: HttpRequest, slug: str) -> HttpResponse:
    brand = _brand(request, slug)
    rights = list(selectors.right_list(user=request.user, brand=brand).prefetch_related("documents"))
    for right in rights:
        right.checks = right_checks(right)
    context = _base_context(request, brand, "rights")
    context["rights"] = rights
    return render(request, "brands/right_list.html", context)


@login_required
def right_new(request: HttpRequest, slug: str) -> HttpResponse:
    brand = _managed(request, slug)
    form = RightForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            right = services.right_create(
                actor=request.user, brand=brand, certificate=form.cleaned_data.get("certificate"),
                **form.service_data(),
            )  # fmt: skip
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"“{right.title}” was filed and is waiting for a moderator.")
            return redirect("brands:right-detail", slug=brand.slug, pk=right.pk)
    context = _base_context(request, brand, "rights")
    context.update(form=form, title="File an IP right")
    return render(request, "brands/right_form.html", context)


@login_required
def right_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    brand = _brand(request, slug)
    right = get_scoped_or_404(IPRight.objects.filter(brand=brand), request.user, pk=pk)
    context = _base_context(request, brand, "rights")
    manage = context["can_manage"]
    context.update(
        right=right,
        checks=right_checks(right),
        documents=right.documents.all(),
        history=selectors.object_history(obj=right),
        editable=manage and right.status in EDITABLE_STATES,
        answer_form=AnswerForm() if manage and right.status in (NEEDS_INFO, REJECTED) else None,
        upload_form=DocumentUploadForm() if manage else None,
    )
    return render(request, "brands/right_detail.html", context)


@login_required
def right_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    brand = _managed(request, slug)
    right = get_scoped_or_404(IPRight.objects.filter(brand=brand), request.user, pk=pk)
    form = RightForm(request.POST or None, request.FILES or None, editing=True, initial=RightForm.initial_for(right))
    if request.method == "POST" and form.is_valid():
        try:
            services.right_update(actor=request.user, right=right, **form.service_data())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "Changes saved.")
            return redirect("brands:right-detail", slug=brand.slug, pk=right.pk)
    context = _base_context(request, brand, "rights")
    context.update(form=form, right=right, title=f"Correct “{right.title}”")
    return render(request, "brands/right_form.html", context)


@login_required
@require_POST
def right_resubmit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    brand = _managed(request, slug)
    right = get_scoped_or_404(IPRight.objects.filter(brand=brand), request.user, pk=pk)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            services.right_resubmit(actor=request.user, right=right, answer=form.cleaned_data["answer"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Resubmitted: a moderator will review it again.")
    else:
        messages.error(request, "Write your answer before resubmitting.")
    return redirect("brands:right-detail", slug=brand.slug, pk=right.pk)


@login_required
@require_POST
def document_upload(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    brand = _managed(request, slug)
    right = get_scoped_or_404(IPRight.objects.filter(brand=brand), request.user, pk=pk)
    form = DocumentUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            document = services.document_upload(actor=request.user, brand=brand, right=right, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"“{document.original_name}” added.")
    else:
        messages.error(request, "Choose a file to upload.")
    return redirect("brands:right-detail", slug=brand.slug, pk=right.pk)


@login_required
@require_POST
def document_delete(request: HttpRequest, pk: int) -> HttpResponse:
    document = get_scoped_or_404(IPDocument.objects.select_related("brand", "right"), request.user, pk=pk)
    if not can_manage(request.user, document.brand_id):
        raise PermissionDenied
    try:
        services.document_delete(actor=request.user, document=document)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"“{document.original_name}” deleted.")
    if document.right_id:
        return redirect("brands:right-detail", slug=document.brand.slug, pk=document.right_id)
    return redirect("brands:detail", slug=document.brand.slug)


@login_required
@require_GET
@xframe_options_sameorigin  # moderators view PDFs and images inline, in a frame of our own pages
def document_download(request: HttpRequest, pk: int) -> HttpResponse:
    document = get_scoped_or_404(IPDocument.objects.all(), request.user, pk=pk)
    return private_file_response(
        document.file,
        filename=document.original_name,
        content_type=document.content_type,
        inline=request.GET.get("inline") == "1",
    )


def member_users(brand: Brand) -> QuerySet:
    return get_user_model().objects.filter(memberships__brand=brand).order_by("username")


@login_required
@require_POST
def authorization_file(request: HttpRequest, slug: str) -> HttpResponse:
    brand = _managed(request, slug)
    form = AuthorizationForm(request.POST, request.FILES, members=member_users(brand))
    if form.is_valid():
        try:
            services.authorization_file(actor=request.user, brand=brand, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Authorization filed: a moderator will verify it.")
    else:
        messages.error(request, "Check the authorization form: " + "; ".join(
            f"{f}: {' '.join(e)}" for f, e in form.errors.items()))  # fmt: skip
    return redirect("brands:detail", slug=brand.slug)


@login_required
@require_POST
def authorization_resubmit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    brand = _managed(request, slug)
    authorization = get_scoped_or_404(AgentAuthorization.objects.filter(brand=brand), request.user, pk=pk)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            services.authorization_resubmit(
                actor=request.user, authorization=authorization, answer=form.cleaned_data["answer"],
                file=request.FILES.get("file"),
            )  # fmt: skip
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Authorization resubmitted.")
    return redirect("brands:detail", slug=brand.slug)
