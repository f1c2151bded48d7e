"""Template helpers: status badges, check levels, human sizes."""

from __future__ import annotations

from django import template

register = template.Library()

_STATUS_CLASSES = {
    "pending": "text-bg-warning",
    "resubmitted": "text-bg-warning",
    "needs_info": "text-bg-info",
    "verified": "text-bg-success",
    "rejected": "text-bg-danger",
    "expired": "text-bg-secondary",
    "queued": "text-bg-secondary",
    "running": "text-bg-primary",
    "done": "text-bg-success",
    "failed": "text-bg-danger",
}
_CHECK_CLASSES = {"ok": "success", "warning": "warning", "problem": "danger"}


@register.filter
def status_class(status: str) -> str:
    return _STATUS_CLASSES.get(status, "text-bg-light")


@register.filter
def check_class(level: str) -> str:
    return _CHECK_CLASSES.get(level, "secondary")


@register.filter
def human_size(num: int) -> str:
    size = float(num or 0)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


@register.simple_tag(takes_context=True)
def actor_name(context: template.Context, event: object) -> str:
    """Who did it, as the reader may see it: brand users see "Moderator", not the staff member's name."""
    from core.roles import is_platform_staff

    request = context.get("request")
    viewer = getattr(request, "user", None)
    actor = getattr(event, "actor", None)
    if actor is not None and viewer is not None and not is_platform_staff(viewer) and is_platform_staff(actor):
        return "Moderator"
    return event.actor_label
