"""Reads for brands and memberships, always narrowed to what the user may see."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from brands.models import AgentAuthorization, Brand, IPRight, Job, Membership, ReferenceAsset
from brands.workflow import IN_REVIEW, NEEDS_INFO, VERIFIED
from core.models import AuditEvent
from core.roles import is_platform_staff


def _membership_count(**conditions: object) -> Coalesce:
    """A brand's memberships, counted in a subquery: `for_user` joins the memberships to the reader's
    own, so a count over that join would say "1 member" to every brand user."""
    rows = (
        Membership.objects.filter(brand=OuterRef("pk"), **conditions)
        .order_by()
        .values("brand")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def brand_list(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Brand]:
    return Brand.objects.for_user(user).annotate(
        member_count=_membership_count(),
        manager_count=_membership_count(role=Membership.Role.MANAGER),
    )


def membership_list(*, user: AbstractBaseUser | AnonymousUser, brand: Brand | None = None) -> QuerySet[Membership]:
    qs = Membership.objects.for_user(user).select_related("user", "brand", "invited_by")
    if brand is not None:
        qs = qs.filter(brand=brand)
    return qs


def user_memberships(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Membership]:
    """The user's own memberships (not those they can see as staff)."""
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user).select_related("brand").order_by("brand__name")


def right_list(*, user: AbstractBaseUser | AnonymousUser, brand: Brand | None = None) -> QuerySet[IPRight]:
    qs = IPRight.objects.for_user(user).select_related("brand", "submitted_by", "decided_by")
    return qs.filter(brand=brand) if brand is not None else qs


def verification_queue(*, user: AbstractBaseUser | AnonymousUser) -> dict[str, QuerySet]:
    """What moderators have to review, oldest first (platform staff only)."""
    if not is_platform_staff(user):
        return {"rights": IPRight.objects.none(), "authorizations": AgentAuthorization.objects.none()}
    return {
        "rights": IPRight.objects.filter(status__in=IN_REVIEW)
        .select_related("brand", "submitted_by")
        .annotate(document_count=Count("documents"))
        .order_by("submitted_at", "pk"),
        "authorizations": AgentAuthorization.objects.filter(status__in=IN_REVIEW)
        .select_related("brand", "agent", "document")
        .order_by("submitted_at", "pk"),
    }


def right_conflicts(*, right: IPRight) -> QuerySet[IPRight]:
    """The same registration claimed by other brands: a moderator should know before verifying."""
    return (
        IPRight.objects.filter(office=right.office, registration_number__iexact=right.registration_number)
        .exclude(brand=right.brand)
        .select_related("brand")
    )


def object_history(*, obj: object) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk)).select_related("actor")


def agent_may_act(*, user: AbstractBaseUser | AnonymousUser, brand: Brand) -> bool:
    """Members act for their brand; outside agents only with a verified, current authorization."""
    membership = Membership.objects.filter(user=user, brand=brand).first() if user.is_authenticated else None
    if membership is None:
        return False
    if not membership.is_agent:
        return True
    today = timezone.localdate()
    return (
        AgentAuthorization.objects.filter(brand=brand, agent=user, status=VERIFIED)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .exists()
    )


def verified_rights(*, brand: Brand) -> QuerySet[IPRight]:
    return IPRight.objects.filter(brand=brand, status=VERIFIED)


def asset_list(*, user: AbstractBaseUser | AnonymousUser, brand: Brand | None = None) -> QuerySet[ReferenceAsset]:
    qs = ReferenceAsset.objects.for_user(user).select_related("brand", "right")
    return qs.filter(brand=brand) if brand is not None else qs


def job_list(*, user: AbstractBaseUser | AnonymousUser, brand: Brand | None = None) -> QuerySet[Job]:
    qs = Job.objects.for_user(user).select_related("brand")
    return qs.filter(brand=brand) if brand is not None else qs


def latest_jobs_for(*, objects: list[object]) -> dict[str, Job]:
    """The newest job of each object, keyed "label:pk" (for status badges in lists)."""
    keys = {(o._meta.label_lower, str(o.pk)) for o in objects}
    jobs: dict[str, Job] = {}
    if not keys:
        return jobs
    types = {k[0] for k in keys}
    ids = {k[1] for k in keys}
    for job in Job.objects.filter(object_type__in=types, object_id__in=ids).order_by("created_at", "pk"):
        jobs[f"{job.object_type}:{job.object_id}"] = job
    return jobs


def manager_emails(*, brand: Brand) -> list[str]:
    """Where a brand's notices go: its managers' addresses (sorted, no blanks, no repeats)."""
    return sorted(
        set(
            Membership.objects.filter(brand=brand, role=Membership.Role.MANAGER)
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )


def brands_user_may_file_for(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Brand]:
    """Brands the user acts for now: its managed brands, less those where it is an outside agent
    without a verified, current authorization (the tenancy rules' `can_manage`)."""
    from brands.tenancy import can_manage

    brands = Brand.objects.manageable_by(user)
    return brands.filter(pk__in=[pk for pk in brands.values_list("pk", flat=True) if can_manage(user, pk)])


@dataclass(frozen=True)
class AgentStatus:
    """Where an outside agent stands with one brand: why it cannot act for it yet."""

    brand: Brand
    authorization: AgentAuthorization | None  # the latest one filed, None when none is on file

    @property
    def summary(self) -> str:
        a, brand = self.authorization, self.brand.name
        if a is None:
            return f"No letter of authorization is on file for you at {brand}: ask its managers to file one."
        filed = f"filed {a.submitted_at:%Y-%m-%d}" if a.submitted_at else "filed"
        reason = f" The moderator wrote: “{a.status_reason}”" if a.status_reason else ""
        if a.status == VERIFIED:  # verified, but its end date has passed
            return (
                f"Your authorization to act for {brand} ended on {a.valid_until:%Y-%m-%d}: {brand} must file a new one."
            )
        if a.status in IN_REVIEW:
            return f"Your authorization to act for {brand} ({filed}) is waiting for a moderator to verify it."
        if a.status == NEEDS_INFO:
            return f"A moderator needs more information on your authorization for {brand} ({filed}).{reason}"
        return f"Your authorization to act for {brand} ({filed}) is {a.get_status_display().lower()}.{reason}"


def agent_statuses(*, user: AbstractBaseUser | AnonymousUser) -> list[AgentStatus]:
    """The brands where `user` is an outside agent that may not act yet, with its latest authorization."""
    if not user.is_authenticated:
        return []
    statuses = []
    for membership in Membership.objects.filter(user=user, is_agent=True).select_related("brand"):
        if agent_may_act(user=user, brand=membership.brand):
            continue
        latest = (
            AgentAuthorization.objects.filter(brand=membership.brand, agent=user)
            .order_by("-submitted_at", "-pk")
            .first()
        )
        statuses.append(AgentStatus(brand=membership.brand, authorization=latest))
    return statuses
