"""Moderator pages: the verification queue (oldest first) and the decision pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from brands import selectors, services
from brands.forms import DecisionForm
from brands.models import AgentAuthorization, IPRight
from brands.validity import right_checks
from brands.workflow import IN_REVIEW
from core.roles import is_platform_staff


def _staff_only(request: HttpRequest) -> None:
    if not is_platform_staff(request.user):
        raise PermissionDenied


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    work = selectors.verification_queue(user=request.user)
    rights = list(work["rights"])
    for right in rights:
        right.checks = right_checks(right)
        right.problems = [c for c in right.checks if c.level != "ok"]
    return render(request, "brands/moderation/queue.html", {"rights": rights, "authorizations": work["authorizations"]})


def _next_in_queue(request: HttpRequest, after: object) -> HttpResponse:
    work = selectors.verification_queue(user=request.user)
    following = work["rights"].exclude(pk=after.pk).first() if isinstance(after, IPRight) else None
    if following is not None:
        return redirect("moderation:right", pk=following.pk)
    return redirect("moderation:queue")


def _decide(request: HttpRequest, obj: object, decide: object) -> tuple[DecisionForm, HttpResponse | None]:
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            decide(**form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            label = dict(form.fields["action"].choices)[form.cleaned_data["action"]]
            messages.success(request, f"{label}: “{obj}”. Next in the queue.")
            return form, _next_in_queue(request, obj)
    return form, None


@login_required
def right_review(request: HttpRequest, pk: int) -> HttpResponse:
    _staff_only(request)
    right = get_object_or_404(IPRight.objects.select_related("brand", "submitted_by", "decided_by"), pk=pk)
    form, done = _decide(
        request, right, lambda action, reason: services.right_decide(
            actor=request.user, right=right, action=action, reason=reason)
    )  # fmt: skip
    if done:
        return done
    context = {
        "right": right,
        "checks": right_checks(right),
        "conflicts": selectors.right_conflicts(right=right),
        "documents": right.documents.all(),
        "history": selectors.object_history(obj=right),
        "form": form,
        "in_review": right.status in IN_REVIEW,
    }
    return render(request, "brands/moderation/right.html", context, status=422 if form.errors else 200)


@login_required
def authorization_review(request: HttpRequest, pk: int) -> HttpResponse:
    _staff_only(request)
    authorization = get_object_or_404(AgentAuthorization.objects.select_related("brand", "agent", "document"), pk=pk)
    form, done = _decide(
        request, authorization, lambda action, reason: services.authorization_decide(
            actor=request.user, authorization=authorization, action=action, reason=reason)
    )  # fmt: skip
    if done:
        return done
    context = {
        "authorization": authorization,
        "documents_list": [authorization.document],
        "history": selectors.object_history(obj=authorization),
        "form": form,
        "in_review": authorization.status in IN_REVIEW,
    }
    return render(request, "brands/moderation/authorization.html", context, status=422 if form.errors else 200)
