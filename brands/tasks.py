"""Background work for brands: emails (notify), reference asset features (match), expiry (maintenance)."""

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


@shared_task(name="brands.asset_process", **RETRY_TRANSIENT)
def asset_process(asset_id: int, job_id: int, change: str) -> None:
    """Compute a reference asset's features, then let subscribers (the back-scan) add their work."""
    from brands.models import Job, ReferenceAsset
    from brands.services import job_fail, job_finish, job_progress, job_start
    from brands.signals import reference_asset_changed
    from engine.images import image_features
    from engine.matcher import reference_features
    from engine.normalize import key, plain_fold

    asset = ReferenceAsset.objects.filter(pk=asset_id).first()
    if asset is None:
        job_finish(job_id=job_id, message="The asset was removed before it was processed.")
        return
    if Job.objects.filter(pk=job_id, status__in=(Job.Status.DONE, Job.Status.FAILED)).exists():
        return  # a redelivered message of a job that already ended
    job_start(job_id=job_id, message="Computing features")
    ReferenceAsset.objects.filter(pk=asset_id).update(features_status=ReferenceAsset.FeatureStatus.RUNNING)
    try:
        if asset.kind in ReferenceAsset.IMAGE_KINDS:
            with asset.image.open("rb") as handle:
                data = handle.read()
            kind = "logo" if asset.kind == ReferenceAsset.Kind.LOGO else "photo"
            # Shown to people (size, hashes) and, under "engine", what every worker indexes.
            features = {**image_features(data).as_dict(), "engine": reference_features(data, kind=kind).to_json()}
        elif asset.kind == ReferenceAsset.Kind.WORD_MARK:
            features = {
                # Each spelling as people read it, and the key search and the word-mark signal use.
                "folded": sorted({plain_fold(w) for w in asset.words}),
                "compact": sorted({key(w) for w in asset.words}),
            }
        elif asset.kind == ReferenceAsset.Kind.PRICE_RANGE:
            features = {
                "min": str(asset.price_min),
                "max": str(asset.price_max) if asset.price_max is not None else None,
                "currency": asset.currency,
            }
        else:
            features = {
                "marketplace": asset.marketplace.strip().casefold(),
                "seller_external_id": asset.seller_external_id,
            }
    except (OSError, ValueError, SyntaxError) as exc:  # a file that cannot be read: permanent, recorded
        ReferenceAsset.objects.filter(pk=asset_id).update(
            features_status=ReferenceAsset.FeatureStatus.FAILED, features_error=str(exc)[:1000]
        )
        job_fail(job_id=job_id, error=f"Could not compute features: {exc}")
        return
    ReferenceAsset.objects.filter(pk=asset_id).update(
        features=features,
        features_status=ReferenceAsset.FeatureStatus.DONE,
        features_error="",
        features_updated_at=timezone.now(),
    )
    job_progress(job_id=job_id, done=1, message="Features ready")
    reference_asset_changed.send(
        sender=ReferenceAsset, asset_id=asset_id, brand_id=asset.brand_id, change=change, job_id=job_id
    )
    job = Job.objects.get(pk=job_id)
    if job.progress_done >= job.progress_total and not job.is_finished:
        job_finish(job_id=job_id, message="Features ready; no stored listings to scan.")


@shared_task(name="brands.right_send_notice", **RETRY_TRANSIENT)
def right_send_notice(right_id: int, event: str, days: int | None = None) -> None:
    """Email the brand's managers about a decision on a right, its expiry, or its coming end."""
    from brands.models import IPRight
    from brands.selectors import manager_emails

    right = IPRight.objects.select_related("brand").filter(pk=right_id).first()
    if right is None:
        return
    recipients = manager_emails(brand=right.brand)
    if not recipients:
        return
    subjects = {
        "verify": "verified",
        "reject": "rejected",
        "request_info": "needs more information",
        "expire": "has expired",
        "expiring": "ends today" if days == 0 else f"ends in {days} day{'s' if days != 1 else ''}",
    }
    context = {
        "right": right,
        "event": event,
        "days": days,
        "site_name": settings.SITE_NAME,
        "url": f"{settings.SITE_URL}{reverse('brands:right-detail', args=[right.brand.slug, right.pk])}",
    }
    send_mail(
        subject=f"[{settings.SITE_NAME}] {right.title} {subjects.get(event, event)}",
        message=render_to_string("brands/email/right_notice.txt", context),
        from_email=None,
        recipient_list=recipients,
    )


@shared_task(name="brands.rights_expire_and_remind", **RETRY_TRANSIENT)
def rights_expire_and_remind() -> dict[str, int]:
    """Daily (beat): expire rights past their end date; remind managers 30 and 7 days before."""
    from brands.services import rights_expire_due, rights_remind_expiring

    return {"expired": rights_expire_due(), "reminded": rights_remind_expiring()}
