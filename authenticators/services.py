"""Writes: authenticators (registered by platform admins, approved by staff), their members and
webhooks, and certificates (issued by an authenticator, linked by a seller, revoked by the authenticator).

Every change is audited; certificate moves go through `workflow.CERTIFICATE_WORKFLOW`.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from authenticators import selectors, signals, workflow
from authenticators.models import (
    Authenticator,
    AuthenticatorMembership,
    Certificate,
    CertificatePhoto,
    InboundSignature,
)
from core.roles import is_platform_admin, is_platform_staff
from core.services import audit_record
from core.statemachine import apply_transition

WEBHOOK_EVENTS = ("certificate.linked", "certificate.reused", "certificate.revoked")
MAX_PHOTOS = 10


class CertificateConflict(ValidationError):
    """The same certificate id was posted before with different content (409)."""


class CertificateReused(ValidationError):
    """The certificate already backs another listing, by its id or its photos (the link is refused)."""


@dataclass(frozen=True)
class Issued:
    certificate: Certificate
    created: bool  # False: the same result was posted before and nothing changed


# --- Authenticators ---------------------------------------------------------------------------


def authenticator_register(
    *, actor: Any, name: str, website: str = "", contact_email: str = "", manager: Any | None = None
) -> tuple[Authenticator, str]:
    """A platform admin registers an authenticator (pending until staff approve it). Returns it and its
    inbound signing secret, shown once."""
    if not is_platform_admin(actor):
        raise PermissionDenied("Only platform admins register authenticators.")
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "An authenticator needs a name."})
    if Authenticator.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": f"An authenticator called “{name}” is registered already."})
    secret = secrets.token_urlsafe(32)
    base = slugify(name)[:70] or "authenticator"
    slug, n = base, 1
    while Authenticator.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    with transaction.atomic():
        authenticator = Authenticator.objects.create(
            name=name[:200], slug=slug, website=website, contact_email=contact_email, inbound_secret=secret
        )
        audit_record(actor=actor, action="authenticator.registered", obj=authenticator, to_state=workflow.PENDING)
        if manager is not None:
            authenticator_member_add(actor=actor, authenticator=authenticator, user=manager, role="manager")
    return authenticator, secret


def authenticator_decide(*, actor: Any, authenticator: Authenticator, action: str, reason: str = "") -> Authenticator:
    """Approve, suspend or reinstate (platform staff)."""
    if not is_platform_staff(actor):
        raise PermissionDenied("Only platform staff approve or suspend authenticators.")
    updates: dict[str, Any] = {"decided_by": actor, "decided_at": timezone.now(), "status_reason": reason}
    return apply_transition(
        workflow.AUTHENTICATOR_WORKFLOW, authenticator, action, actor=actor, reason=reason, updates=updates
    )


def authenticator_member_add(
    *, actor: Any, authenticator: Authenticator, user: Any, role: str
) -> AuthenticatorMembership:
    if not (is_platform_admin(actor) or selectors.can_issue(actor, authenticator.pk)):
        raise PermissionDenied("Only platform admins and the authenticator's managers add members.")
    if role not in AuthenticatorMembership.Role.values:
        raise ValidationError({"role": f"Unknown role “{role}”."})
    with transaction.atomic():
        membership, created = AuthenticatorMembership.objects.update_or_create(
            user=user, authenticator=authenticator, defaults={"role": role}
        )
        audit_record(
            actor=actor, action="authenticator.member_added" if created else "authenticator.member_changed",
            obj=authenticator, data={"user": user.get_username(), "role": role},
        )  # fmt: skip
    return membership


def authenticator_webhook_set(*, actor: Any, authenticator: Authenticator, url: str) -> str:
    """Where certificate events are sent (signed, retried: the platform's webhook deliveries). The URL is
    checked with the webhook address policy (no private addresses). Returns the new signing secret."""
    from takedowns.models import WebhookEndpoint
    from takedowns.services.notifications import webhook_secret, webhook_url_check

    if not (is_platform_admin(actor) or selectors.can_issue(actor, authenticator.pk)):
        raise PermissionDenied("Only platform admins and the authenticator's managers set its webhook.")
    url = webhook_url_check(url)
    secret = webhook_secret()
    with transaction.atomic():
        old = authenticator.webhook_endpoint
        endpoint = WebhookEndpoint.objects.create(
            brand=None,
            url=url,
            secret=secret,
            events=list(WEBHOOK_EVENTS),  # never any platform event
            description=f"Authenticator {authenticator.name}"[:200],
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        if old is not None:
            WebhookEndpoint.objects.filter(pk=old.pk).update(is_active=False)
        Authenticator.objects.filter(pk=authenticator.pk).update(webhook_endpoint=endpoint)
        authenticator.webhook_endpoint = endpoint
        audit_record(actor=actor, action="authenticator.webhook_set", obj=authenticator, data={"url": url})
    return secret


def authenticator_inbound_secret_rotate(*, actor: Any, authenticator: Authenticator) -> str:
    if not (is_platform_admin(actor) or selectors.can_issue(actor, authenticator.pk)):
        raise PermissionDenied("Only platform admins and the authenticator's managers rotate its secret.")
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        Authenticator.objects.filter(pk=authenticator.pk).update(inbound_secret=secret)
        authenticator.inbound_secret = secret
        audit_record(actor=actor, action="authenticator.inbound_secret_rotated", obj=authenticator)
    return secret


def _emit(authenticator: Authenticator, event: str, payload: dict[str, Any]) -> None:
    """Queue one signed delivery to the authenticator's endpoint (sent and retried by takedowns' deliveries)."""
    from core.tasks import enqueue_on_commit
    from takedowns.models import WebhookDelivery
    from takedowns.tasks import webhook_deliver

    endpoint = authenticator.webhook_endpoint
    if endpoint is None or not endpoint.wants(event):
        return
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event, payload=payload)
    enqueue_on_commit(webhook_deliver, delivery.pk)


def _payload(certificate: Certificate, **extra: Any) -> dict[str, Any]:
    return {
        "certificate_id": certificate.certificate_id,
        "certificate": certificate.pk,
        "brand": certificate.brand.name,
        "verdict": certificate.verdict,
        "state": certificate.state,
        **extra,
    }


# --- Certificates: issue ---------------------------------------------------------------------


def _fingerprint(*, certificate_id: str, brand_id: int, verdict: str, authenticated_on: date, item_description: str,
                 photo_hashes: list[str]) -> str:  # fmt: skip
    canonical = json.dumps(
        [certificate_id, brand_id, verdict, authenticated_on.isoformat(), item_description.strip(), photo_hashes],
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def certificate_issue(
    *,
    actor: Any,
    authenticator: Authenticator,
    certificate_id: str,
    brand: Any,
    verdict: str,
    authenticated_on: date,
    item_description: str = "",
    photos: list[Any],
    photo_urls: list[str] | None = None,
    source: str = "api",
) -> Issued:
    """Record one authentication result. `photos` are file objects (uploads, or fetched bytes wrapped in
    ContentFile), each checked by its content and hashed as listing images are. `actor` is a manager of the
    authenticator, or None for a signed webhook (the signature stands for the authenticator).

    Posting the same result again returns the certificate unchanged (`created=False`); the same
    certificate id with other content is refused (CertificateConflict)."""
    from core.uploads import IMAGE_KINDS, inspect_upload
    from engine.matcher import query_features

    if actor is not None and not selectors.can_issue(actor, authenticator.pk):
        raise PermissionDenied("Only the authenticator's managers issue its certificates.")
    if not authenticator.is_approved:
        raise PermissionDenied("This authenticator is not approved by the platform (yet).")
    certificate_id = (certificate_id or "").strip()
    errors: dict[str, str] = {}
    if not certificate_id:
        errors["certificate_id"] = "A certificate needs its id."
    if verdict not in Certificate.Verdict.values:
        errors["verdict"] = f"The verdict is one of: {', '.join(Certificate.Verdict.values)}."
    if authenticated_on > timezone.localdate():
        errors["authenticated_on"] = "The authentication date cannot be in the future."
    if not photos:
        errors["photos"] = "Send at least one photo of the item."
    elif len(photos) > MAX_PHOTOS:
        errors["photos"] = f"Send at most {MAX_PHOTOS} photos."
    if brand is None or not brand.is_active:
        errors["brand"] = "Name an active brand."
    if errors:
        raise ValidationError(errors)
    checked = []
    for n, file in enumerate(photos):
        try:
            inspected = inspect_upload(
                file, allowed=IMAGE_KINDS, max_bytes=settings.DOCUMENT_MAX_BYTES, max_pixels=settings.IMAGE_MAX_PIXELS
            )
        except ValidationError as exc:
            raise ValidationError({"photos": f"Photo {n + 1}: {' '.join(exc.messages)}"}) from None
        data = file.read()
        file.seek(0)
        try:
            features = query_features(data, local=False)
        except (OSError, ValueError):
            raise ValidationError({"photos": f"Photo {n + 1} could not be read as an image."}) from None
        checked.append((data, inspected, features))
    fingerprint = _fingerprint(
        certificate_id=certificate_id,
        brand_id=brand.pk,
        verdict=verdict,
        authenticated_on=authenticated_on,
        item_description=item_description,
        photo_hashes=[inspected.sha256 for _, inspected, _ in checked],
    )
    existing = Certificate.objects.filter(authenticator=authenticator, certificate_id=certificate_id).first()
    if existing is not None:
        return _repeat(existing, fingerprint)
    urls = list(photo_urls or [])
    try:
        with transaction.atomic():
            certificate = Certificate.objects.create(
                authenticator=authenticator,
                certificate_id=certificate_id[:128],
                brand=brand,
                verdict=verdict,
                authenticated_on=authenticated_on,
                item_description=item_description,
                fingerprint=fingerprint,
                issued_by=actor,
                source=source,
            )
            for position, (data, inspected, features) in enumerate(checked):
                name = f"certificate-photos/{inspected.sha256[:2]}/{inspected.sha256}{inspected.kind.extension}"
                if not default_storage.exists(name):
                    name = default_storage.save(name, ContentFile(data))
                CertificatePhoto.objects.create(
                    certificate=certificate,
                    position=position,
                    file=name,
                    sha256=inspected.sha256,
                    content_type=inspected.kind.content_type,
                    width=inspected.width,
                    height=inspected.height,
                    phash=f"{features.phash:016x}",
                    dhash=f"{features.dhash:016x}",
                    source_url=urls[position] if position < len(urls) else "",
                )
            audit_record(
                actor=actor, action="certificate.issued", obj=certificate, brand_id=brand.pk,
                to_state=workflow.ISSUED,
                data={"authenticator": authenticator.slug, "certificate_id": certificate_id, "verdict": verdict,
                      "source": source, "photos": len(checked)},
            )  # fmt: skip
    except IntegrityError:  # the same id posted twice at once: the other request won
        existing = Certificate.objects.get(authenticator=authenticator, certificate_id=certificate_id)
        return _repeat(existing, fingerprint)
    return Issued(certificate, True)


def _repeat(existing: Certificate, fingerprint: str) -> Issued:
    if existing.fingerprint == fingerprint:
        return Issued(existing, False)
    raise CertificateConflict(
        f"Certificate {existing.certificate_id} was posted before with other content; a certificate is not "
        "changed once issued (revoke it and issue a new id).",
        code="duplicate",
    )


# --- Certificates: link -------------------------------------------------------------------------


def _listing_attributed_to(listing: Any, brand: Any) -> bool:
    """The listing is about the brand: a detection of that brand on it, or its name in the listing's text."""
    from engine.normalize import key
    from listings.models import Detection

    if Detection.objects.filter(listing=listing, brand=brand).exists():
        return True
    name_key = key(brand.name)
    return bool(name_key) and name_key in (listing.search_key or key(f"{listing.title} {listing.description}"))


def photo_reuse(*, certificate: Certificate, listing_id: int) -> int | None:
    """Another listing (not `listing_id`) showing one of the certificate's photos, or None.

    Candidates come from the shared listing-image index (pHash of the photo's 8 rotations and mirrors,
    within the index's radius). Within the matcher's radius (MATCH_HASH_RADIUS) that is the same
    picture; farther out (a cropped or re-framed copy moves the hash) the two pictures are laid onto each
    other and compared pixel by pixel with the stay-down thresholds (`engine.relisting`), so a different
    photo of a similar bag is not taken for a copy."""
    from engine.hamming_index import as_int
    from engine.images import DIHEDRAL
    from engine.matcher import photo_hashes
    from engine.relisting import compare_pictures
    from listings import image_index
    from listings.models import ListingImage

    near = settings.MATCH_HASH_RADIUS
    for photo in certificate.photos.all():
        with photo.file.open("rb") as handle:
            data = handle.read()
        try:
            phashes, _ = photo_hashes(data)
        except (OSError, ValueError):
            continue
        variants = [*DIHEDRAL, "untrimmed"]  # the order of photo_hashes: 8 turns and mirrors, then untrimmed
        radius = image_index.current().radius
        candidates = {image_id for hits in image_index.search_many(phashes, radius) for image_id, _ in hits}
        rows = (
            ListingImage.objects.filter(pk__in=list(candidates), status=ListingImage.Status.STORED)
            .exclude(listing_id=listing_id)
            .exclude(phash="")
            .order_by("pk")
        )
        for image in rows:  # distances from the row: the index may hold an image's previous hash
            distance, variant = min(
                ((h ^ as_int(image.phash)).bit_count(), v) for h, v in zip(phashes, variants, strict=False)
            )
            if distance <= near:
                return image.listing_id
            if distance > radius:
                continue
            try:
                with image.file.open("rb") as handle:
                    comparison = compare_pictures(data, handle.read(), signal="hash", variant=variant)
            except (OSError, ValueError):
                continue
            if comparison.is_same(
                max_difference=settings.STAYDOWN_MAX_DIFFERENCE, min_overlap=settings.STAYDOWN_MIN_OVERLAP
            ):
                return image.listing_id
    return None


def certificate_link(*, actor: Any, certificate: Certificate, listing: Any) -> Certificate:
    """A seller links a certificate to one of its listings. Refused with the reason when the certificate is
    not authentic, of another brand, revoked, or already backs another listing; re-use (by the id, or by
    the photos matching another listing's images) is also recorded, sent as `certificate_reused` and to the
    authenticator's webhook, and raised as CertificateReused. Linking the same pair again changes nothing."""
    from takedowns.selectors import seller_ids_for

    if not (is_platform_admin(actor) or listing.seller_id in set(seller_ids_for(actor))):
        raise PermissionDenied("Only the listing's seller links a certificate to it.")
    certificate = Certificate.objects.select_related("authenticator", "brand").get(pk=certificate.pk)
    if certificate.state == Certificate.State.LINKED and certificate.listing_id == listing.pk:
        return certificate
    if certificate.state == Certificate.State.REVOKED:
        raise ValidationError("This certificate was revoked by its authenticator; it backs no listing.", code="revoked")
    if not certificate.authenticator.is_approved:
        raise ValidationError("The authenticator of this certificate is not approved by the platform.", code="invalid")
    if certificate.verdict != Certificate.Verdict.AUTHENTIC:
        raise ValidationError(
            f"This certificate's verdict is “{certificate.get_verdict_display().lower()}”: only an authentic "
            "item's certificate backs a listing.",
            code="invalid",
        )
    if not _listing_attributed_to(listing, certificate.brand):
        raise ValidationError(
            f"This certificate is for {certificate.brand.name}, and this listing is not one of that brand's.",
            code="invalid",
        )
    other = (
        Certificate.objects.filter(listing=listing, state=Certificate.State.LINKED).exclude(pk=certificate.pk).first()
    )
    if other is not None:
        raise ValidationError(
            f"This listing is already backed by certificate {other.certificate_id} ({other.authenticator.name}).",
            code="invalid",
        )
    reason = ""
    if certificate.state == Certificate.State.LINKED:
        reason = (
            f"Certificate {certificate.certificate_id} of {certificate.authenticator.name} already backs another "
            "listing; a certificate backs one listing only."
        )
        kind = "id"
    else:
        matched = photo_reuse(certificate=certificate, listing_id=listing.pk)
        if matched is not None:
            reason = (
                f"The photos of certificate {certificate.certificate_id} ({certificate.authenticator.name}) match "
                "the photos of another listing: a certificate backs one item, in one listing."
            )
            kind = "photo"
    if reason:
        _record_reuse(actor=actor, certificate=certificate, listing=listing, reason=reason, kind=kind)
        raise CertificateReused(reason, code="reused")
    with transaction.atomic():
        try:
            certificate = apply_transition(
                workflow.CERTIFICATE_WORKFLOW, certificate, "link", actor=actor, brand_id=certificate.brand_id,
                updates={"listing": listing, "linked_by": actor, "linked_at": timezone.now()},
                data={"listing": listing.pk, "certificate_id": certificate.certificate_id},
            )  # fmt: skip
        except IntegrityError:
            raise ValidationError("This listing was given another certificate just now.", code="invalid") from None
        _emit(certificate.authenticator, "certificate.linked", _payload(certificate, listing=_listing_ref(listing)))
        listing_id, certificate_pk = listing.pk, certificate.pk
        transaction.on_commit(
            lambda: signals.certificate_linked.send(
                sender=Certificate, listing_id=listing_id, certificate_id=certificate_pk
            )
        )
    return certificate


def _listing_ref(listing: Any) -> dict[str, Any]:
    return {"id": listing.pk, "marketplace": listing.marketplace, "external_id": listing.external_id}


def _record_reuse(*, actor: Any, certificate: Certificate, listing: Any, reason: str, kind: str) -> None:
    """Audited in a transaction of its own, so that the refusal raised afterwards does not undo it."""
    with transaction.atomic():
        audit_record(
            actor=actor, action="certificate.reuse_refused", obj=certificate, brand_id=certificate.brand_id,
            reason=reason, data={"listing": listing.pk, "by": kind, "backs": certificate.listing_id},
        )  # fmt: skip
        _emit(
            certificate.authenticator,
            "certificate.reused",
            _payload(certificate, listing=_listing_ref(listing), reason=reason, detected_by=kind),
        )
        listing_id, certificate_pk = listing.pk, certificate.pk
        transaction.on_commit(
            lambda: signals.certificate_reused.send(
                sender=Certificate, listing_id=listing_id, certificate_id=certificate_pk, reason=reason
            )
        )


# --- Certificates: revoke -------------------------------------------------------------------------


def certificate_revoke(*, actor: Any, certificate: Certificate, reason: str) -> Certificate:
    """The authenticator withdraws a certificate: it backs no listing any more (the listing is kept on the
    certificate for the record). The seller and the brand are told; `certificate_revoked` is sent."""
    from takedowns.services.notifications import brand_managers, notify, seller_users

    if not selectors.can_issue(actor, certificate.authenticator_id):
        raise PermissionDenied("Only the managers of the authenticator that issued it revoke a certificate.")
    with transaction.atomic():
        certificate = apply_transition(
            workflow.CERTIFICATE_WORKFLOW, certificate, "revoke", actor=actor, reason=reason,
            brand_id=certificate.brand_id, updates={"revoked_at": timezone.now(), "revoke_reason": reason.strip()},
        )  # fmt: skip
        certificate = Certificate.objects.select_related("authenticator", "brand", "listing").get(pk=certificate.pk)
        listing = certificate.listing
        title = f"Certificate {certificate.certificate_id} revoked by {certificate.authenticator.name}"
        body = f"Reason: {reason.strip()}"
        users = brand_managers(certificate.brand_id)
        if listing is not None:
            users += seller_users(listing.seller_id)
            body = f"It backed listing “{listing.title}”. {body}"
        notify(users=users, event="certificate.revoked", title=title, body=body)
        _emit(
            certificate.authenticator,
            "certificate.revoked",
            _payload(certificate, reason=reason.strip(), listing=_listing_ref(listing) if listing else None),
        )
        listing_id, certificate_pk, text = certificate.listing_id, certificate.pk, reason.strip()
        transaction.on_commit(
            lambda: signals.certificate_revoked.send(
                sender=Certificate, listing_id=listing_id, certificate_id=certificate_pk, reason=text
            )
        )
    return certificate


# --- Inbound signed results -------------------------------------------------------------------------


def inbound_check(*, authenticator: Authenticator, body: bytes, header: str) -> None:
    """A signed result is accepted once: a valid, fresh signature (the platform's scheme, with the
    authenticator's inbound secret) never seen before. Raises PermissionDenied or CertificateConflict."""
    from takedowns.services.notifications import webhook_verify

    if not authenticator.is_approved:
        raise PermissionDenied("This authenticator is not approved by the platform.")
    if not header or not webhook_verify(authenticator.inbound_secret, body, header):
        raise PermissionDenied(
            "The signature is missing, wrong or stale: sign “<unix time>.<body>” with HMAC-SHA256 and send "
            "X-IPPC-Signature: t=<unix time>,v1=<hex> within five minutes."
        )
    digest = hashlib.sha256(header.encode()).hexdigest()
    # A signature older than the tolerance is refused anyway: only recent ones need remembering.
    InboundSignature.objects.filter(received_at__lt=timezone.now() - timedelta(days=1)).delete()
    try:
        with transaction.atomic():
            InboundSignature.objects.create(authenticator=authenticator, signature=digest)
    except IntegrityError:
        raise CertificateConflict("This signed request was received before (replay refused).", code="replay") from None


def fetch_photos(urls: list[str]) -> list[ContentFile]:
    """The photos of a signed result, fetched with the listings' SSRF-safe fetcher (no private addresses)."""
    from listings.fetch import FetchFailed, FetchPolicy, FetchRefused, fetch_image

    policy = FetchPolicy(
        max_bytes=settings.DOCUMENT_MAX_BYTES,
        max_pixels=settings.IMAGE_MAX_PIXELS,
        timeout=settings.IMAGE_FETCH_TIMEOUT,
        total_timeout=settings.IMAGE_FETCH_TIMEOUT * 3,
        allowed_networks=tuple(settings.IMAGE_FETCH_ALLOWED_NETWORKS),
    )
    files = []
    for n, url in enumerate(urls):
        try:
            fetched = fetch_image(url, policy)
        except (FetchRefused, FetchFailed) as exc:
            raise ValidationError({"photo_urls": f"Photo {n + 1}: {exc}"}) from None
        files.append(ContentFile(fetched.data, name=f"photo-{n + 1}"))
    return files
