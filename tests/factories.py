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
