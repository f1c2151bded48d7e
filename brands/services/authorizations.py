"""Agent authorizations: an agent acts for a brand once its letter of authorization is verified."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from brands.models import AgentAuthorization, Brand, IPDocument, Membership
from brands.services._verification import verification_decide, verification_resubmit
from brands.services.documents import document_upload
from brands.tenancy import can_manage
from brands.workflow import AUTHORIZATION_WORKFLOW
from core.services import audit_record


def authorization_file(
    *,
    actor: AbstractBaseUser,
    brand: Brand,
    agent: AbstractBaseUser,
    file: object,
    agent_organisation: str = "",
    scope: str = "",
    valid_until: dt.date | None = None,
) -> AgentAuthorization:
    """File the letter of authorization (or power of attorney) for one of the brand's members."""
    if not can_manage(actor, brand.pk):
        raise PermissionDenied("Only the brand's managers file authorizations.")
    membership = Membership.objects.filter(brand=brand, user=agent).first()
    if membership is None:
        raise ValidationError({"agent": "The agent must first be invited as a member of the brand."})
    if valid_until and valid_until < timezone.localdate():
        raise ValidationError({"valid_until": "This authorization has already ended."})
    document = document_upload(actor=actor, brand=brand, file=file, kind=IPDocument.Kind.AUTHORIZATION)
    with transaction.atomic():
        authorization = AgentAuthorization.objects.create(
            brand=brand,
            agent=agent,
            agent_organisation=agent_organisation.strip()[:200],
            document=document,
            scope=scope.strip(),
            valid_until=valid_until,
            submitted_by=actor,
            submitted_at=timezone.now(),
        )
        Membership.objects.filter(pk=membership.pk).update(is_agent=True)
        audit_record(actor=actor, action="agentauthorization.filed", obj=authorization, brand_id=brand.pk)
    return authorization


def authorization_decide(
    *, actor: AbstractBaseUser, authorization: AgentAuthorization, action: str, reason: str = ""
) -> AgentAuthorization:
    return verification_decide(
        AUTHORIZATION_WORKFLOW, authorization, actor=actor, action=action, reason=reason,
        denied="Only moderators decide on authorizations.",
    )  # fmt: skip


def authorization_resubmit(
    *, actor: AbstractBaseUser, authorization: AgentAuthorization, answer: str, file: object | None = None
) -> AgentAuthorization:
    def new_letter() -> dict[str, object]:
        if file is None:
            return {}
        return {
            "document": document_upload(
                actor=actor, brand=authorization.brand, file=file, kind=IPDocument.Kind.AUTHORIZATION
            )
        }

    return verification_resubmit(
        AUTHORIZATION_WORKFLOW, authorization, actor=actor, answer=answer,
        denied="Only the brand's managers can resubmit an authorization.", more_updates=new_letter,
    )  # fmt: skip
