"""Background work for brands: invitation emails (notify queue)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from core.tasks import RETRY_TRANSIENT


@shared_task(name="brands.membership_send_invitation", **RETRY_TRANSIENT)
def membership_send_invitation(membership_id: int) -> None:
    """Email a new member; new accounts get a link to set their password."""
    from brands.models import Membership

    membership = Membership.objects.select_related("user", "brand", "invited_by").filter(pk=membership_id).first()
    if membership is None or membership.invitation_sent_at is not None:
        return  # removed before we ran, or already sent (a redelivered task)
    user = membership.user
    if not user.email:
        return
    set_password_url = ""
    if not user.has_usable_password():
        path = reverse(
            "password_reset_confirm",
            kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                "token": default_token_generator.make_token(user),
            },
        )
        set_password_url = f"{settings.SITE_URL}{path}"
    context = {
        "membership": membership,
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        "set_password_url": set_password_url,
    }
    send_mail(
        subject=f"[{settings.SITE_NAME}] You have been added to {membership.brand.name}",
        message=render_to_string("brands/email/invitation.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )
    Membership.objects.filter(pk=membership.pk, invitation_sent_at__isnull=True).update(
        invitation_sent_at=timezone.now()
    )
