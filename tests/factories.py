"""factory_boy factories shared by every test module."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from brands.models import Brand, Membership
from core.roles import MODERATORS, PLATFORM_ADMINS


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("correct horse battery staple")


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.Sequence(lambda n: f"brand-{n}")
    contact_email = factory.LazyAttribute(lambda b: f"legal@{b.slug}.example")
    country = "FR"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    brand = factory.SubFactory(BrandFactory)
    role = Membership.Role.VIEWER


def make_moderator(username: str = "moderator") -> object:
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=MODERATORS))
    return user


def make_platform_admin(username: str = "platformadmin") -> object:
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=PLATFORM_ADMINS))
    return user


# --- IP rights and upload files (brands: rights, documents, assets) ---------------------

import datetime as _dt  # noqa: E402
import io as _io  # noqa: E402
import zlib as _zlib  # noqa: E402

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.utils import timezone  # noqa: E402

from brands.models import IPRight  # noqa: E402


class IPRightFactory(factory.django.DjangoModelFactory):
    """A valid EU word mark, pending review; `IPRightFactory(verified=True)` for a usable one."""

    class Meta:
        model = IPRight

    class Params:
        verified = factory.Trait(
            status="verified",
            decided_at=factory.LazyFunction(timezone.now),
            status_reason="",
        )

    brand = factory.SubFactory(BrandFactory)
    kind = IPRight.Kind.TRADEMARK_WORD
    title = factory.Sequence(lambda n: f"Word mark {n}, EU")
    registration_number = factory.Sequence(lambda n: f"0190{n:05d}")
    office = "EUIPO"
    jurisdictions = factory.LazyFunction(lambda: ["EU"])
    nice_classes = factory.LazyFunction(lambda: [18, 25])
    holder_name = factory.LazyAttribute(lambda r: r.brand.legal_name or r.brand.name)
    valid_from = _dt.date(2020, 1, 1)
    valid_until = factory.LazyFunction(lambda: timezone.localdate() + _dt.timedelta(days=5 * 365))
    word_mark = "AURORA"
    status = "pending"
    submitted_at = factory.LazyFunction(timezone.now)


def image_bytes(fmt: str = "PNG", *, seed: int = 0, size: tuple[int, int] = (64, 64)) -> bytes:
    """A real image with a pattern that depends on `seed` (different seeds, different content)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, ((seed * 53) % 256, (seed * 97) % 256, (seed * 31 + 80) % 256))
    draw = ImageDraw.Draw(image)
    width, height = size
    for i in range(0, width, 8):
        draw.rectangle([i, (i * (seed + 3)) % height, i + 4, height - 1], fill=((i * 7 + seed) % 256, 40, 200))
    draw.ellipse([width // 4, height // 4, 3 * width // 4, 3 * height // 4], outline=(255, 255, 255), width=3)
    buffer = _io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def png_file(name: str = "logo.png", *, seed: int = 0, size: tuple[int, int] = (64, 64)) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes("PNG", seed=seed, size=size), content_type="image/png")


def jpeg_file(name: str = "photo.jpg", *, seed: int = 0, size: tuple[int, int] = (64, 64)) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes("JPEG", seed=seed, size=size), content_type="image/jpeg")


def pdf_bytes(text: str = "Registration certificate", *, padding: int = 0) -> bytes:
    """A minimal, valid one-page PDF showing `text` (different texts, different content)."""
    stream = _zlib.compress(f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode())
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    if padding:
        out += b"%" + b"x" * padding + b"\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def pdf_file(
    name: str = "certificate.pdf", text: str = "Registration certificate", *, padding: int = 0
) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(text, padding=padding), content_type="application/pdf")


# --- Catalogue and detections (listings) ----------------------------------------------------

from django.db.models import Max  # noqa: E402

from engine.normalize import text_key  # noqa: E402
from listings.models import Detection, Listing, Seller  # noqa: E402


class SellerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Seller
        django_get_or_create = ("marketplace", "external_id")

    marketplace = "shopmart"
    external_id = factory.Sequence(lambda n: f"S{n}")
    name = factory.Sequence(lambda n: f"Seller {n}")
    country = "CN"


class ListingFactory(factory.django.DjangoModelFactory):
    """A listing as ingestion would store it (search keys computed); `needs_matching` off."""

    class Meta:
        model = Listing

    marketplace = "shopmart"
    external_id = factory.Sequence(lambda n: f"L{n}")
    seller = factory.SubFactory(SellerFactory)
    title = factory.Sequence(lambda n: f"Leather bag {n}")
    description = "Genuine leather, fast shipping."
    price = "49.90"
    currency = "EUR"
    category = "Bags"
    url = factory.LazyAttribute(lambda item: f"https://shopmart.example/item/{item.external_id}")
    first_seen_at = factory.LazyFunction(timezone.now)
    last_seen_at = factory.LazyFunction(timezone.now)
    changed_at = factory.LazyFunction(timezone.now)
    content_hash = factory.Sequence(lambda n: f"{n:064x}")
    category_key = factory.LazyAttribute(lambda item: item.category.casefold())
    title_key = factory.LazyAttribute(lambda item: text_key(item.title))
    search_key = factory.LazyAttribute(lambda item: text_key(item.title, item.description))
    needs_matching = False


def detection_evidence(detection: object) -> dict:
    """Evidence shaped like the matcher's: the listing's snapshot, a text-only finding, thresholds."""
    listing = detection.listing
    return {
        "listing": {
            "marketplace": listing.marketplace,
            "external_id": listing.external_id,
            "title": listing.title,
            "description": listing.description,
            "price": str(listing.price) if listing.price is not None else None,
            "currency": listing.currency,
            "url": listing.url,
            "seller": {"external_id": listing.seller.external_id, "name": listing.seller.name},
            "content_hash": listing.content_hash,
            "taken_at": timezone.now().isoformat(),
        },
        "reference": {"asset_id": None, "label": "Word mark", "kind": "word_mark"},
        "image_match": None,
        "text": {"word_marks": [], "counterfeit_terms": [], "price": None, "score": detection.score},
        "thresholds": {"hash_radius": 10, "min_inliers": 12, "image_min_score": 0.6, "text_min_score": 0.5},
    }


class DetectionFactory(factory.django.DjangoModelFactory):
    """A detection of `brand` on `listing`; `DetectionFactory(with_picture=True)` stores an evidence PNG.

    The listing's `risk_score` is refreshed afterwards, as the matching service would.
    """

    class Meta:
        model = Detection
        skip_postgeneration_save = True

    class Params:
        with_picture = factory.Trait(
            evidence_image=factory.django.FileField(
                filename="evidence.png", data=factory.LazyFunction(lambda: image_bytes(seed=7))
            )
        )

    brand = factory.SubFactory(BrandFactory)
    listing = factory.SubFactory(ListingFactory)
    dedupe_key = factory.LazyAttributeSequence(lambda d, n: f"{d.listing.pk}:0:{900000 + n}")
    signals = factory.LazyFunction(lambda: ["text"])
    score = 0.7
    evidence = factory.LazyAttribute(detection_evidence)
    source = Detection.Source.SCAN
    state = Detection.State.NEW

    @factory.post_generation
    def refresh_risk(detection: Detection, create: bool, extracted: object, **kwargs: object) -> None:
        if not create:
            return
        top = Detection.objects.open().filter(listing_id=detection.listing_id).aggregate(top=Max("score"))["top"]
        Listing.objects.filter(pk=detection.listing_id).update(risk_score=top or 0.0)
