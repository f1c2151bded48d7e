"""Brand pages: the list of the user's brands, a brand's profile and its members.

Member management is done in place with htmx: each action returns the members partial.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from brands import selectors, services
from brands.forms import AuthorizationForm, BrandProfileForm, ChangeRoleForm, InviteMemberForm
from brands.models import AgentAuthorization, Brand, IPRight, Membership, ReferenceAsset
from brands.tenancy import brand_roles, can_manage, get_scoped_or_404


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@login_required
def brand_list(request: HttpRequest) -> HttpResponse:
    brands = selectors.brand_list(user=request.user)
    return render(request, "brands/brand_list.html", {"brands": brands, "roles": brand_roles(request.user)})


def _members_context(request: HttpRequest, brand: Brand, **extra: object) -> dict[str, object]:
    return {
        "brand": brand,
        "members": selectors.membership_list(user=request.user, brand=brand),
        "can_manage": can_manage(request.user, brand.pk),
        "invite_form": extra.pop("invite_form", None) or InviteMemberForm(),
        "role_choices": Membership.Role.choices,
        **extra,
    }


@login_required
def brand_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """Overview: profile, counts, members and the agents' authorizations."""
    from brands.views_rights import member_users

    brand = get_scoped_or_404(Brand.objects.all(), request.user, slug=slug)
    context = _members_context(request, brand, my_role=brand_roles(request.user).get(brand.pk), tab="overview")
    context["authorizations"] = AgentAuthorization.objects.filter(brand=brand).select_related("agent", "document")
    context["counts"] = {
        "verified_rights": IPRight.objects.filter(brand=brand, status="verified").count(),
        "rights_in_review": IPRight.objects.filter(brand=brand, status__in=("pending", "resubmitted")).count(),
        "assets": ReferenceAsset.objects.filter(brand=brand).count(),
    }
    if context["can_manage"]:
        context["authorization_form"] = AuthorizationForm(members=member_users(brand), auto_id="auth_%s")
    return render(request, "brands/brand_detail.html", context)


@login_required
def brand_edit(request: HttpRequest, slug: str) -> HttpResponse:
    brand = get_scoped_or_404(Brand.objects.all(), request.user, slug=slug)
    if not can_manage(request.user, brand.pk):
        raise PermissionDenied
    form = BrandProfileForm(request.POST or None, instance=Brand.objects.get(pk=brand.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.brand_update(actor=request.user, brand=brand, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Brand profile saved.")
            return redirect("brands:detail", slug=brand.slug)
    return render(request, "brands/brand_edit.html", {"brand": brand, "form": form})


def _members_response(request: HttpRequest, brand: Brand, status: int = 200, **extra: object) -> HttpResponse:
    if request.headers.get("HX-Request"):
        return render(request, "brands/_members.html", _members_context(request, brand, **extra), status=status)
    for error in extra.get("errors", []):
        messages.error(request, error)
    if extra.get("notice"):
        messages.success(request, extra["notice"])
    return redirect("brands:detail", slug=brand.slug)


def _managed_brand(request: HttpRequest, slug: str) -> Brand:
    brand = get_scoped_or_404(Brand.objects.all(), request.user, slug=slug)
    if not can_manage(request.user, brand.pk):
        raise PermissionDenied
    return brand


@login_required
@require_POST
def member_invite(request: HttpRequest, slug: str) -> HttpResponse:
    brand = _managed_brand(request, slug)
    form = InviteMemberForm(request.POST)
    if not form.is_valid():
        return _members_response(request, brand, status=422, invite_form=form, errors=["Check the invitation form."])
    try:
        membership = services.membership_invite(actor=request.user, brand=brand, **form.cleaned_data)
    except ValidationError as exc:
        return _members_response(request, brand, status=422, invite_form=form, errors=[_error_text(exc)])
    return _members_response(
        request, brand, notice=f"Invited {membership.user.email} as {membership.get_role_display()}."
    )


@login_required
@require_POST
def member_role(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    brand = _managed_brand(request, slug)
    membership = get_scoped_or_404(Membership.objects.filter(brand=brand), request.user, pk=pk)
    form = ChangeRoleForm(request.POST)
    if not form.is_valid():
        return _members_response(request, brand, status=422, errors=["Choose a valid role."])
    try:
        services.membership_change_role(actor=request.user, membership=membership, role=form.cleaned_data["role"])
    except ValidationError as exc:
        return _members_response(request, brand, status=422, errors=[_error_text(exc)])
    return _members_response(
        request, brand, notice=f"{membership.user.get_username()} is now {form.cleaned_data['role']}."
    )


@login_required
@require_POST
def member_remove(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    brand = _managed_brand(request, slug)
    membership = get_scoped_or_404(Membership.objects.filter(brand=brand), request.user, pk=pk)
    try:
        services.membership_remove(actor=request.user, membership=membership)
    except ValidationError as exc:
        return _members_response(request, brand, status=422, errors=[_error_text(exc)])
    return _members_response(request, brand, notice=f"Removed {membership.user.get_username()}.")
