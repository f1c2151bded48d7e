"""The seller's side: accounts issued by the platform, counter-notices and appeals, strikes, and
suspension of repeat infringers (with its own statement of reasons and appeal)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from core.roles import is_platform_admin, is_platform_staff
from core.services import audit_record
from core.statemachine import IllegalTransition, apply_transition
from listings.models import Listing, Seller
from listings.services import listings_set_status
from takedowns import workflow
from takedowns.models import ComplaintItem, CounterNotice, SellerAccount, Strike, Suspension
from takedowns.services import notifications
from takedowns.services.complaints import FULL_NAME_ERROR, add_business_days, is_email, is_full_name, signature_of
from takedowns.statements import statement_text, suspension_statement


def seller_ids_for(user: Any) -> list[int]:
    if not user.is_authenticated:
        return []
    return list(SellerAccount.objects.filter(user=user).values_list("seller_id", flat=True))


def seller_account_create(
    *, actor: Any, seller: Seller, username: str, email: str, password: str | None = None
) -> tuple[Any, str]:
    """Issue a login (and an API token) to a seller; returns the user and the token key.

    `actor` None is the platform's own command line (`manage.py seller_account`)."""
    if actor is not None and not is_platform_admin(actor):
        raise PermissionDenied("Only platform admins issue seller accounts.")
    username = (username or "").strip()
    if not re.fullmatch(r"[\w.@+-]{3,150}", username):
        raise ValidationError({"username": "3–150 letters, digits and @/./+/-/_ only."})
    users = get_user_model()
    if users.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": "That user name is taken."})
    with transaction.atomic():
        user = users.objects.create_user(username=username, email=(email or "").strip())
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()  # the seller sets one through "forgot password", or uses the token
        user.save()
        SellerAccount.objects.create(seller=seller, user=user, created_by=actor)
        token, _ = Token.objects.get_or_create(user=user)
        audit_record(actor=actor, action="seller.account_issued", obj=seller, data={"user": username})
    return user, token.key


def _own_item(actor: Any, item: ComplaintItem) -> None:
    if item.seller_id not in seller_ids_for(actor):
        raise PermissionDenied("Only the seller the notice is about can answer it.")


def counter_notice_file(
    *,
    actor: Any,
    item: ComplaintItem,
    kind: str,
    statement: str,
    contact_name: str,
    contact_email: str,
    signature_name: str,
    good_faith_mistake: bool = False,
    consent_jurisdiction: bool = False,
    contact_phone: str = "",
    contact_address: str = "",
) -> CounterNotice:
    """A counter-notice (DMCA §512(g)(3)) or an appeal (DSA Art. 20) against a removal, within the window."""
    _own_item(actor, item)
    errors: dict[str, str] = {}
    if kind not in CounterNotice.Kind.values:
        errors["kind"] = f"One of: {', '.join(CounterNotice.Kind.values)}."
    statement = (statement or "").strip()
    if len(statement) < 30:
        errors["statement"] = "Explain why the removal was a mistake (at least 30 characters)."
    contact_name = " ".join((contact_name or "").split())
    if not contact_name:
        errors["contact_name"] = "Give your name (or your company's)."
    if not is_email((contact_email or "").strip()):
        errors["contact_email"] = "Give an email address where the rights holder's lawyers can reach you."
    if kind == CounterNotice.Kind.COUNTER_NOTICE:
        if not good_faith_mistake:
            errors["good_faith_mistake"] = (
                "Confirm, under penalty of perjury, that you believe in good faith the listing was removed by "
                "mistake or misidentification."
            )
        if not consent_jurisdiction:
            errors["consent_jurisdiction"] = (
                "Consent to the jurisdiction of the court for your address (or, outside the US, any judicial "
                "district where the platform may be found) and to accept service from the complainant."
            )
        if not (contact_address or "").strip():
            errors["contact_address"] = "A counter-notice needs your postal address."
    signature = signature_of(signature_name)
    if not is_full_name(signature):
        errors["signature_name"] = FULL_NAME_ERROR
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    respond_until = add_business_days(now, settings.TAKEDOWN_RESPONSE_BUSINESS_DAYS)
    with transaction.atomic():
        # Locked, so the window cannot close between this check and the transition.
        item = ComplaintItem.objects.select_for_update().get(pk=item.pk)
        if item.state == workflow.APPROVED and item.contest_until and item.contest_until < now:
            raise IllegalTransition(f"The window to contest this removal closed on {item.contest_until:%Y-%m-%d}.")
        item = apply_transition(
            workflow.ITEM_WORKFLOW,
            item,
            "counter_notice",
            actor=actor,
            brand_id=item.brand_id,
            reason=statement[:2000],
            updates={"respond_until": respond_until},
            data={"kind": kind},
        )
        counter = CounterNotice.objects.create(
            item=item,
            seller_id=item.seller_id,
            kind=kind,
            statement=statement[:10000],
            good_faith_mistake=good_faith_mistake,
            consent_jurisdiction=consent_jurisdiction,
            contact_name=contact_name[:200],
            contact_email=contact_email.strip()[:254],
            contact_phone=(contact_phone or "").strip()[:40],
            contact_address=(contact_address or "").strip()[:2000],
            signature_name=signature[:200],
            signed_at=now,
            filed_by=actor,
        )
        complaint = item.complaint
        label = counter.get_kind_display().lower()
        notifications.notify(
            users=[complaint.filed_by, *notifications.brand_managers(item.brand_id)],
            event="item.counter_noticed",
            title=f"Notice {complaint.reference}: the seller filed a {label}",
            body=(
                f"{item.seller.name} contests the removal of “{item.snapshot.get('title', '')[:80]}”:\n"
                f"{statement}\n\nContact: {contact_name}, {contact_email}, {contact_address}\n\n"
                f"The listing will be reinstated after {respond_until:%Y-%m-%d} unless you report, on the "
                "notice's page, that you have started legal action against the seller."
            ),
            url=reverse("takedowns:complaint-detail", args=[complaint.pk]),
        )
        notifications.notify(
            users=notifications.moderators(),
            event="item.counter_noticed",
            title=f"{counter.get_kind_display()} on notice {complaint.reference}",
            body=statement[:1000],
            url=reverse("takedowns:moderation-item", args=[item.pk]),
        )
        notifications.webhook_emit(
            event="item.counter_noticed",
            brand_id=item.brand_id,
            payload={
                "item": item.pk,
                "complaint": complaint.reference,
                "listing": item.listing_id,
                "kind": kind,
                "respond_until": respond_until.isoformat(),
                "statement": statement,
            },
        )
    return counter


# --- Strikes and suspension ---------------------------------------------------------------


def _active_strikes(seller_id: int, now: dt.datetime) -> list[Strike]:
    """Strikes that count: within the window, not voided, and after the last suspension lifted on
    appeal (lifting it gives the seller a fresh start instead of a re-suspension at the next strike)."""
    since = now - dt.timedelta(days=settings.STRIKE_WINDOW_DAYS)
    lifted = (
        Suspension.objects.filter(seller_id=seller_id, state=Suspension.State.LIFTED, decided_at__isnull=False)
        .order_by("-decided_at")
        .values_list("decided_at", flat=True)
        .first()
    )
    if lifted is not None and lifted > since:
        since = lifted
    return list(
        Strike.objects.filter(seller_id=seller_id, voided_at__isnull=True, created_at__gte=since)
        .select_related("brand")
        .order_by("created_at")
    )


def seller_strike_count_refresh(*, seller_id: int) -> int:
    count = len(_active_strikes(seller_id, timezone.now()))
    Seller.objects.filter(pk=seller_id).update(strike_count=count)
    return count


def strike_issue(*, item: ComplaintItem, actor: Any) -> Strike:
    """An approved takedown is a strike (voided if the listing is reinstated); past the limit, suspension."""
    now = timezone.now()
    strike, created = Strike.objects.get_or_create(
        item=item, defaults={"seller_id": item.seller_id, "brand_id": item.brand_id, "created_at": now}
    )
    if created:
        audit_record(actor=actor, action="seller.strike", obj=item.seller, data={"item": item.pk, "strike": strike.pk})
    strikes = _active_strikes(item.seller_id, now)
    Seller.objects.filter(pk=item.seller_id).update(strike_count=len(strikes))
    if len(strikes) >= settings.STRIKE_LIMIT:
        seller_suspend(seller_id=item.seller_id, strikes=strikes, actor=actor)
    return strike


def strike_void(*, item: ComplaintItem, reason: str, actor: Any) -> None:
    changed = Strike.objects.filter(item=item, voided_at__isnull=True).update(
        voided_at=timezone.now(), void_reason=reason[:255]
    )
    if changed:
        audit_record(actor=actor, action="seller.strike_voided", obj=item.seller, reason=reason, data={"item": item.pk})
        seller_strike_count_refresh(seller_id=item.seller_id)


def seller_suspend(*, seller_id: int, strikes: list[Strike], actor: Any) -> Suspension | None:
    """Suspend the seller and delist all its active listings (once: an open suspension is kept)."""
    with transaction.atomic():
        seller = Seller.objects.select_for_update().get(pk=seller_id)
        if Suspension.objects.filter(
            seller=seller, state__in=[Suspension.State.ACTIVE, Suspension.State.APPEALED]
        ).exists():
            return None
        now = timezone.now()
        suspension = Suspension.objects.create(
            seller=seller, appeal_until=now + dt.timedelta(days=settings.SUSPENSION_APPEAL_DAYS)
        )
        suspension.strikes.set(strikes)
        active_ids = list(
            Listing.objects.filter(seller=seller).exclude(status=Listing.Status.REMOVED).values_list("pk", flat=True)
        )
        delisted = listings_set_status(
            actor=None,
            listing_ids=active_ids,
            status=Listing.Status.REMOVED,
            reason=f"Seller suspended for repeat infringement ({len(strikes)} strikes)",
            data={"suspension": suspension.pk},
        )
        statement = suspension_statement(suspension, strikes)
        Suspension.objects.filter(pk=suspension.pk).update(statement=statement, delisted_listing_ids=delisted)
        Seller.objects.filter(pk=seller.pk).update(status=Seller.Status.SUSPENDED)
        audit_record(
            actor=None,
            action="seller.suspended",
            obj=seller,
            from_state=seller.status,
            to_state=Seller.Status.SUSPENDED,
            reason=f"{len(strikes)} strikes within {settings.STRIKE_WINDOW_DAYS} days",
            data={"suspension": suspension.pk, "delisted": len(delisted)},
        )
        suspension.refresh_from_db()
        notifications.notify(
            users=notifications.seller_users(seller.pk),
            event="seller.suspended",
            title="Your seller account is suspended for repeated infringement",
            body=statement_text(statement),
            url=reverse("takedowns:seller-home"),
        )
        notifications.webhook_emit(
            event="seller.suspended",
            brand_id=None,
            payload={
                "seller": {"id": seller.pk, "external_id": seller.external_id, "marketplace": seller.marketplace},
                "delisted_listings": delisted,
                "statement_of_reasons": statement,
            },
        )
    return suspension


def suspension_appeal(*, actor: Any, suspension: Suspension, text: str, signature_name: str) -> Suspension:
    if suspension.seller_id not in seller_ids_for(actor):
        raise PermissionDenied("Only the suspended seller can appeal its suspension.")
    text = (text or "").strip()
    signature = signature_of(signature_name)
    errors = {}
    if len(text) < 30:
        errors["text"] = "Explain why the suspension should be lifted (at least 30 characters)."
    if not is_full_name(signature):
        errors["signature_name"] = FULL_NAME_ERROR
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        changed = Suspension.objects.filter(
            pk=suspension.pk, state=Suspension.State.ACTIVE, appeal_until__gte=now
        ).update(
            state=Suspension.State.APPEALED, appeal_text=text[:10000], appeal_signature=signature[:200], appealed_at=now
        )
        suspension.refresh_from_db()
        if changed != 1:
            if suspension.state != Suspension.State.ACTIVE:
                raise IllegalTransition(
                    f"This suspension is {suspension.get_state_display().lower()}; it cannot be appealed."
                )
            raise IllegalTransition(f"The appeal window closed on {suspension.appeal_until:%Y-%m-%d}.")
        audit_record(
            actor=actor,
            action="suspension.appeal",
            obj=suspension,
            from_state="active",
            to_state="appealed",
            reason=text[:2000],
        )
        notifications.notify(
            users=notifications.moderators(),
            event="suspension.appealed",
            title=f"{suspension.seller.name} appeals its suspension",
            body=text[:1000],
            url=reverse("takedowns:moderation-suspension", args=[suspension.pk]),
        )
    return suspension


def suspension_decide(*, actor: Any, suspension: Suspension, action: str, reason: str) -> Suspension:
    """lift (relist what the suspension took down, seller active again) or uphold, on appeal."""
    if not is_platform_staff(actor):
        raise PermissionDenied("Only moderators decide suspension appeals.")
    if action not in ("lift", "uphold"):
        raise IllegalTransition(f"Unknown decision “{action}”.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for the decision; the seller receives it."})
    target = Suspension.State.LIFTED if action == "lift" else Suspension.State.UPHELD
    sources = (
        [Suspension.State.APPEALED] if action == "uphold" else [Suspension.State.ACTIVE, Suspension.State.APPEALED]
    )
    now = timezone.now()
    with transaction.atomic():
        previous = Suspension.objects.filter(pk=suspension.pk).values_list("state", flat=True).first()
        changed = Suspension.objects.filter(pk=suspension.pk, state__in=sources).update(
            state=target, decided_by=actor, decision_reason=reason[:5000], decided_at=now
        )
        suspension.refresh_from_db()
        if changed != 1:
            raise IllegalTransition(f"A {suspension.get_state_display().lower()} suspension cannot be {target}.")
        audit_record(
            actor=actor,
            action=f"suspension.{action}",
            obj=suspension,
            from_state=previous or "",
            to_state=target,
            reason=reason,
        )
        seller = suspension.seller
        if action == "lift":
            Seller.objects.filter(pk=seller.pk).update(status=Seller.Status.ACTIVE)
            seller_strike_count_refresh(seller_id=seller.pk)  # a fresh start: earlier strikes stop counting
            # Relist what the suspension took down, and listings whose takedown was reversed while the
            # suspension kept them down (a reinstatement skips a suspended seller's listings), but not
            # listings removed by their own takedowns.
            reversed_meanwhile = ComplaintItem.objects.filter(
                seller=seller, state=workflow.REINSTATED, closed_at__gte=suspension.created_at
            ).values_list("listing_id", flat=True)
            # Listings the platform pushed while the seller was suspended arrived removed: relist those too.
            arrived_meanwhile = Listing.objects.filter(
                seller=seller, removed_by_decision=True, created_at__gte=suspension.created_at
            ).values_list("pk", flat=True)
            candidates = list(
                dict.fromkeys([*suspension.delisted_listing_ids, *reversed_meanwhile, *arrived_meanwhile])
            )
            taken_down = set(
                ComplaintItem.objects.filter(
                    listing_id__in=candidates,
                    state__in=[workflow.APPROVED, workflow.COUNTER_NOTICED, workflow.UPHELD],
                ).values_list("listing_id", flat=True)
            )
            listings_set_status(
                actor=actor,
                listing_ids=[i for i in candidates if i not in taken_down],
                status=Listing.Status.REINSTATED,
                reason="Suspension lifted on appeal",
                data={"suspension": suspension.pk},
            )
            notifications.webhook_emit(
                event="seller.reinstated",
                brand_id=None,
                payload={"seller": {"id": seller.pk, "external_id": seller.external_id}, "reason": reason},
            )
        notifications.notify(
            users=notifications.seller_users(seller.pk),
            event=f"suspension.{action}",
            title="Your suspension is lifted"
            if action == "lift"
            else "Your appeal was rejected: the suspension stands",
            body=reason,
            url=reverse("takedowns:seller-home"),
        )
    return suspension
