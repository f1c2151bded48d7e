"""Pages: an authenticator's certificates (issue, revoke, settings), staff approving authenticators,
and a seller linking certificates to its listings. Reads go through `selectors` (tenancy in one place)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from authenticators import selectors, services
from authenticators.forms import CertificateForm, DecideForm, LinkForm, RegisterForm, RevokeForm, WebhookForm
from authenticators.models import Authenticator, Certificate
from core.roles import is_platform_admin, is_platform_staff


def _text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _issuing_authenticator(request: HttpRequest) -> Authenticator | None:
    """The authenticator the user issues for (its first one where it is a manager)."""
    for authenticator_id, role in sorted(selectors.authenticator_roles(request.user).items()):
        if role == "manager":
            return Authenticator.objects.get(pk=authenticator_id)
    return None


@login_required
def certificate_list(request: HttpRequest, form: CertificateForm | None = None) -> HttpResponse:
    if not (selectors.is_authenticator_user(request.user) or is_platform_staff(request.user)):
        raise PermissionDenied
    certificates = selectors.certificate_list(user=request.user)
    state = request.GET.get("state", "")
    if state in Certificate.State.values:
        certificates = certificates.filter(state=state)
    issuer = _issuing_authenticator(request)
    context = {
        "certificates": certificates[:200],
        "state": state,
        "states": Certificate.State.choices,
        "issuer": issuer,
        "form": form or (CertificateForm() if issuer else None),
    }
    return render(request, "authenticators/certificate_list.html", context, status=400 if form else 200)


@login_required
@require_POST
def certificate_issue(request: HttpRequest) -> HttpResponse:
    issuer = _issuing_authenticator(request)
    if issuer is None:
        raise PermissionDenied
    form = CertificateForm(request.POST, request.FILES)
    if not form.is_valid():
        return certificate_list(request, form)
    try:
        issued = services.certificate_issue(
            actor=request.user, authenticator=issuer, photos=request.FILES.getlist("photos"), source="form",
            **{k: form.cleaned_data[k] for k in ("certificate_id", "brand", "verdict", "authenticated_on",
                                                  "item_description")},
        )  # fmt: skip
    except services.CertificateConflict as exc:
        form.add_error("certificate_id", _text(exc))
        return certificate_list(request, form)
    except ValidationError as exc:
        for field, errors in getattr(exc, "message_dict", {"__all__": exc.messages}).items():
            form.add_error(field if field in form.fields else None, " ".join(errors))
        return certificate_list(request, form)
    messages.success(
        request,
        f"Certificate {issued.certificate.certificate_id} issued."
        if issued.created
        else f"Certificate {issued.certificate.certificate_id} was issued before; nothing changed.",
    )
    return redirect("authenticators:certificate", pk=issued.certificate.pk)


@login_required
def certificate_detail(request: HttpRequest, pk: int) -> HttpResponse:
    certificate = get_object_or_404(selectors.certificate_list(user=request.user).prefetch_related("photos"), pk=pk)
    context = {
        "certificate": certificate,
        "photos": certificate.photos.all()
        if selectors.may_see_photos(user=request.user, certificate=certificate)
        else [],
        "may_revoke": selectors.can_issue(request.user, certificate.authenticator_id)
        and certificate.state != Certificate.State.REVOKED,
        "revoke_form": RevokeForm(),
    }
    return render(request, "authenticators/certificate_detail.html", context)


@login_required
@require_POST
def certificate_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    certificate = get_object_or_404(selectors.certificate_list(user=request.user), pk=pk)
    form = RevokeForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError("A reason is required to revoke.")
        services.certificate_revoke(actor=request.user, certificate=certificate, reason=form.cleaned_data["reason"])
        messages.success(request, f"Certificate {certificate.certificate_id} revoked; the seller and brand are told.")
    except ValidationError as exc:
        messages.error(request, _text(exc))
    return redirect("authenticators:certificate", pk=pk)


@login_required
def authenticator_settings(request: HttpRequest) -> HttpResponse:
    """Managers: the webhook URL (its signing secret shown once) and the inbound signing secret."""
    issuer = _issuing_authenticator(request)
    if issuer is None:
        raise PermissionDenied
    form, shown = WebhookForm(initial={"url": issuer.webhook_endpoint.url if issuer.webhook_endpoint else ""}), {}
    if request.method == "POST":
        try:
            if request.POST.get("rotate") == "inbound":
                shown["inbound"] = services.authenticator_inbound_secret_rotate(
                    actor=request.user, authenticator=issuer
                )
            else:
                form = WebhookForm(request.POST)
                if form.is_valid():
                    shown["webhook"] = services.authenticator_webhook_set(
                        actor=request.user, authenticator=issuer, url=form.cleaned_data["url"]
                    )
        except ValidationError as exc:
            form.add_error("url" if "url" in getattr(exc, "message_dict", {}) else None, _text(exc))
        issuer.refresh_from_db()
    return render(
        request,
        "authenticators/settings.html",
        {"authenticator": issuer, "form": form, "shown": shown},
        status=400 if form.errors else 200,
    )


# --- Staff ---------------------------------------------------------------------------------------------


@login_required
def staff_list(request: HttpRequest, form: RegisterForm | None = None) -> HttpResponse:
    if not is_platform_staff(request.user):
        raise PermissionDenied
    authenticators = selectors.authenticator_list(user=request.user).prefetch_related("memberships__user")
    return render(
        request,
        "authenticators/staff_list.html",
        {
            "authenticators": authenticators,
            "register_form": form or (RegisterForm() if is_platform_admin(request.user) else None),
            "shown_secret": request.session.pop("authenticator_secret", None),
        },
        status=400 if form else 200,
    )


@login_required
@require_POST
def staff_register(request: HttpRequest) -> HttpResponse:
    if not is_platform_admin(request.user):
        raise PermissionDenied
    form = RegisterForm(request.POST)
    if not form.is_valid():
        return staff_list(request, form)
    manager = None
    if form.cleaned_data["manager"]:
        manager = get_user_model().objects.filter(username=form.cleaned_data["manager"]).first()
        if manager is None:
            form.add_error("manager", "No user with this name.")
            return staff_list(request, form)
    try:
        authenticator, secret = services.authenticator_register(
            actor=request.user, name=form.cleaned_data["name"], website=form.cleaned_data["website"], manager=manager
        )
    except ValidationError as exc:
        form.add_error(None, _text(exc))
        return staff_list(request, form)
    request.session["authenticator_secret"] = {"name": authenticator.name, "secret": secret}
    messages.success(request, f"{authenticator.name} registered; it can issue once approved.")
    return redirect("authenticators:staff")


@login_required
@require_POST
def staff_decide(request: HttpRequest, pk: int) -> HttpResponse:
    if not is_platform_staff(request.user):
        raise PermissionDenied
    authenticator = get_object_or_404(selectors.authenticator_list(user=request.user), pk=pk)
    form = DecideForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError("Choose approve, suspend or reinstate.")
        services.authenticator_decide(actor=request.user, authenticator=authenticator, **form.cleaned_data)
        messages.success(request, f"{authenticator.name}: {form.cleaned_data['action']} done.")
    except ValidationError as exc:
        messages.error(request, _text(exc))
    return redirect("authenticators:staff")


# --- Sellers -------------------------------------------------------------------------------------------


def _seller_rows(request: HttpRequest) -> list[dict[str, Any]]:
    listings = list(selectors.seller_listings(user=request.user).order_by("-first_seen_at")[:200])
    valid = selectors.listing_certificates(listing_ids=[listing.pk for listing in listings])
    return [{"listing": listing, "certificate": valid.get(listing.pk)} for listing in listings]


@login_required
def seller_listings(request: HttpRequest) -> HttpResponse:
    """The seller's listings with their certificates, and a form to link one."""
    from takedowns.selectors import is_seller

    if not is_seller(request.user):
        raise PermissionDenied
    return render(request, "authenticators/seller_listings.html", {"rows": _seller_rows(request), "form": LinkForm()})


@login_required
@require_POST
def seller_link(request: HttpRequest, listing_id: int) -> HttpResponse:
    listing = get_object_or_404(selectors.seller_listings(user=request.user), pk=listing_id)
    form = LinkForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, "Give the authenticator (as on the certificate, e.g. “entrupy”) and the certificate id."
        )
        return redirect("authenticators:seller-listings")
    certificate = Certificate.objects.filter(
        authenticator__slug=form.cleaned_data["authenticator"].lower(),
        certificate_id=form.cleaned_data["certificate_id"].strip(),
    ).first()
    if certificate is None:
        messages.error(request, "No certificate with this id from this authenticator.")
        return redirect("authenticators:seller-listings")
    try:
        services.certificate_link(actor=request.user, certificate=certificate, listing=listing)
        messages.success(request, f"Certificate {certificate.certificate_id} now backs “{listing.title}”.")
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _text(exc) if isinstance(exc, ValidationError) else str(exc))
    return redirect("authenticators:seller-listings")
