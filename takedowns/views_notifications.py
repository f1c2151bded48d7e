"""In-app notifications (the bell), and webhook endpoints with their delivery log: brand managers
manage their brands' endpoints, platform admins the platform's own (no brand)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from brands.models import Brand
from brands.tenancy import can_manage
from core.roles import is_platform_admin
from takedowns import selectors
from takedowns.forms import WebhookEndpointForm
from takedowns.models import WebhookDelivery, WebhookEndpoint
from takedowns.services.notifications import (
    notifications_mark_read,
    webhook_endpoint_create,
    webhook_endpoint_deactivate,
    webhook_redeliver,
)
from takedowns.views import is_htmx, safe_next

PER_PAGE = 30


# --- Notifications ---------------------------------------------------------------------------


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    rows = selectors.notification_list(user=request.user).order_by(
        F("read_at").asc(nulls_first=True), "-created_at", "-id"
    )
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    unread = selectors.unread_count(user=request.user)
    return render(request, "takedowns/notifications.html", {"page": page, "unread": unread})


@login_required
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    """Mark the given notifications read (`id`, repeated), or all of them when none is given."""
    ids = [int(v) for v in request.POST.getlist("id") if v.isdigit()]
    count = notifications_mark_read(user=request.user, ids=ids or None)
    if is_htmx(request):
        return render(
            request, "takedowns/_bell.html", {"nav_unread": selectors.unread_count(user=request.user), "oob": True}
        )
    if not ids:
        messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked read.")
    return redirect("takedowns:notifications")


@login_required
@require_GET
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notification's link, marking it read on the way."""
    notification = get_object_or_404(selectors.notification_list(user=request.user), pk=pk)
    notifications_mark_read(user=request.user, ids=[notification.pk])
    target = notification.url
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("takedowns:notifications")


# --- Webhooks ----------------------------------------------------------------------------------


def _webhook_scope(request: HttpRequest) -> tuple[Any, bool]:
    """The brands whose endpoints the user manages, and whether it manages the platform's."""
    platform = is_platform_admin(request.user)
    brands = Brand.objects.manageable_by(request.user).order_by("name")
    if not platform and not brands.exists():
        raise PermissionDenied("Webhooks are set up by brand managers and platform admins.")
    return brands, platform


def _may_change(request: HttpRequest, endpoint: WebhookEndpoint) -> bool:
    if endpoint.brand_id is None:
        return is_platform_admin(request.user)
    return can_manage(request.user, endpoint.brand_id)


@login_required
def webhook_list(request: HttpRequest) -> HttpResponse:
    brands, platform = _webhook_scope(request)
    form = WebhookEndpointForm(request.POST or None, brands=brands, platform=platform)
    created = None
    if request.method == "POST" and form.is_valid():
        brand = form.cleaned_data["brand"]
        if brand is None and not platform:
            raise PermissionDenied
        try:
            created = webhook_endpoint_create(
                actor=request.user,
                brand=brand,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                description=form.cleaned_data["description"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            form = WebhookEndpointForm(brands=brands, platform=platform)
    endpoints = list(selectors.webhook_endpoint_list(user=request.user))
    for endpoint in endpoints:
        endpoint.may_change = _may_change(request, endpoint)
    context = {"form": form, "endpoints": endpoints, "created": created}
    return render(request, "takedowns/webhooks.html", context, status=422 if form.errors else 200)


@login_required
@require_POST
def webhook_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    _webhook_scope(request)
    endpoint = get_object_or_404(selectors.webhook_endpoint_list(user=request.user), pk=pk)
    if not _may_change(request, endpoint):
        raise PermissionDenied
    webhook_endpoint_deactivate(actor=request.user, endpoint=endpoint)
    messages.success(request, f"{endpoint.url} deactivated: it receives no more events.")
    return redirect("takedowns:webhooks")


@login_required
@require_GET
def delivery_list(request: HttpRequest) -> HttpResponse:
    _webhook_scope(request)
    deliveries = selectors.webhook_delivery_list(user=request.user)
    endpoint_id = request.GET.get("endpoint", "")
    status = request.GET.get("status", "")
    if endpoint_id.isdigit():
        deliveries = deliveries.filter(endpoint_id=int(endpoint_id))
    if status in WebhookDelivery.Status.values:
        deliveries = deliveries.filter(status=status)
    page = Paginator(deliveries, PER_PAGE).get_page(request.GET.get("page"))
    for delivery in page.object_list:
        delivery.may_change = _may_change(request, delivery.endpoint)
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "page": page,
        "statuses": WebhookDelivery.Status.choices,
        "selected": {"endpoint": endpoint_id, "status": status},
        "endpoints": selectors.webhook_endpoint_list(user=request.user),
        "querystring": params.urlencode(),
    }
    return render(request, "takedowns/webhook_deliveries.html", context)


@login_required
@require_POST
def delivery_redeliver(request: HttpRequest, pk: int) -> HttpResponse:
    _webhook_scope(request)
    delivery = get_object_or_404(selectors.webhook_delivery_list(user=request.user), pk=pk)
    if not _may_change(request, delivery.endpoint):
        raise PermissionDenied
    if delivery.status != WebhookDelivery.Status.FAILED:
        messages.error(request, "Only a failed delivery is sent again; this one is still being retried or delivered.")
    else:
        delivery = webhook_redeliver(actor=request.user, delivery=delivery)
        messages.success(request, f"Delivery {delivery.event_id} queued again ({delivery.get_status_display()}).")
    return redirect(safe_next(request, "takedowns:webhook-deliveries"))
