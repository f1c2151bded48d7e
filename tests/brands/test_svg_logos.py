"""SVG logos: drawn on the server into a PNG with alpha (the only file kept), never allowed to reach
outside themselves, and still refused wherever an image is not a logo."""

from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageDraw
from rest_framework.test import APIClient

from brands import services, svg
from brands.models import IPDocument, IPRight, ReferenceAsset
from core.models import AuditEvent
from engine.matcher import Matcher, ReferenceFeatures, query_features
from tests.conftest import Cast
from tests.factories import IPRightFactory

pytestmark = pytest.mark.django_db

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# A 200 x 100 logo: a red square on the left, a blue disc on the right, nothing behind them.
LOGO_SVG = b"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     width="200" height="100" viewBox="0 0 200 100">
  <defs><circle id="disc" r="30"/></defs>
  <style>.mark { fill: #d01010; }</style>
  <rect class="mark" x="20" y="20" width="60" height="60"/>
  <use xlink:href="#disc" x="140" y="50" fill="#1030c0"/>
</svg>
"""
SCALE = 1024 / 200  # the stored PNG is 1024 x 512


def svg_file(content: bytes, name: str = "aurora.svg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/svg+xml")


def minimal_svg(body: str, *, attributes: str = 'width="100" height="100"') -> bytes:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" {attributes}>'
        f'{body}<rect x="10" y="10" width="50" height="50" fill="#000"/></svg>'
    ).encode()


# A mark with corners for the matcher to find: two peaks, a white notch and three bars (200 x 100).
MARK_SHAPES = [
    ([(10, 90), (45, 15), (80, 90)], "#d01010"),
    ([(55, 90), (85, 40), (115, 90)], "#1030c0"),
    ([(125, 20), (190, 20), (190, 32), (125, 32)], "#202020"),
    ([(125, 44), (170, 44), (170, 56), (125, 56)], "#202020"),
    ([(125, 68), (182, 68), (182, 80), (125, 80)], "#202020"),
    ([(30, 70), (45, 45), (60, 70)], "#ffffff"),
]
MARK_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" viewBox="0 0 200 100">'
    + "".join(
        f'<polygon points="{" ".join(f"{x},{y}" for x, y in points)}" fill="{colour}"/>'
        for points, colour in MARK_SHAPES
    )
    + "</svg>"
).encode()


def mark_drawn_by_pillow(scale: float) -> Image.Image:
    """MARK_SVG drawn independently, on a transparent background."""
    image = Image.new("RGBA", (round(200 * scale), round(100 * scale)), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    for points, colour in MARK_SHAPES:
        draw.polygon([(x * scale, y * scale) for x, y in points], fill=colour)
    return image


def encoded(image: Image.Image, fmt: str, name: str) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{fmt.lower()}")


@pytest.fixture
def right(cast: Cast) -> IPRight:
    return IPRightFactory(brand=cast.brand_a, verified=True, title="AURORA figurative mark")


def create(cast: Cast, right: IPRight, kind: str = "logo", **data: Any) -> ReferenceAsset:
    return services.asset_create(actor=cast.manager_a, brand=cast.brand_a, right=right, kind=kind, **data)


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def assert_is_the_logo_as_png(path: Path) -> None:
    """The stored file is a PNG with alpha, 1024 px on its long side, with the SVG's ink where it drew it."""
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert b"<svg" not in data
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.mode == "RGBA"
        assert image.size == (1024, 512)
        rgba = image.copy()
    alpha_box = rgba.getchannel("A").getbbox()
    expected_box = (20 * SCALE, 20 * SCALE, 170 * SCALE, 80 * SCALE)
    assert all(abs(got - want) <= 2 for got, want in zip(alpha_box, expected_box, strict=True)), alpha_box
    assert rgba.getpixel((int(50 * SCALE), int(50 * SCALE))) == (0xD0, 0x10, 0x10, 255)  # the square, in its red
    assert rgba.getpixel((int(140 * SCALE), int(50 * SCALE))) == (0x10, 0x30, 0xC0, 255)  # the disc, in its blue
    assert rgba.getpixel((int(100 * SCALE), int(50 * SCALE)))[3] == 0  # between them: transparent
    assert rgba.getpixel((3, 3))[3] == 0
    assert rgba.getpixel((int(140 * SCALE), int(85 * SCALE)))[3] == 0  # below the disc


def hamming(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


# --- Accepted: stored as a PNG and matched like one ----------------------------------------------


def test_an_svg_logo_is_stored_as_a_png_with_alpha_and_gets_features(
    cast: Cast, right: IPRight, media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        asset = create(cast, right, label="Aurora logo", image=svg_file(LOGO_SVG))

    asset.refresh_from_db()
    assert asset.image.name.startswith(f"assets/{cast.brand_a.pk}/")
    assert asset.image.name.endswith(".png")
    assert stored_files(media) == [media / asset.image.name]  # the PNG only, never the SVG
    assert_is_the_logo_as_png(media / asset.image.name)
    # The content the brand gave is what deduplicates: the SVG's sha256.
    assert asset.image_sha256 == hashlib.sha256(LOGO_SVG).hexdigest()

    assert asset.features_status == "done", asset.features_error
    assert (asset.features["width"], asset.features["height"]) == (1024, 512)
    assert asset.features["engine"]  # what the matcher indexes, computed as for any PNG logo

    event = AuditEvent.objects.get(action="referenceasset.created", object_id=str(asset.pk))
    stored_sha256 = hashlib.sha256((media / asset.image.name).read_bytes()).hexdigest()
    assert event.data["upload"] == {
        "name": "aurora.svg",
        "sha256": hashlib.sha256(LOGO_SVG).hexdigest(),
        "content_type": "image/svg+xml",
        "size": len(LOGO_SVG),
        "stored_as": {"content_type": "image/png", "sha256": stored_sha256, "width": 1024, "height": 512},
    }


def test_an_svg_logo_is_found_in_a_photo_like_the_same_logo_uploaded_as_png(
    cast: Cast, right: IPRight, media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        from_svg = create(cast, right, label="From SVG", image=svg_file(MARK_SVG))
        from_png = create(
            cast, right, label="From PNG", image=encoded(mark_drawn_by_pillow(1024 / 200), "PNG", "m.png")
        )

    from_svg.refresh_from_db()
    from_png.refresh_from_db()
    assert (from_svg.features_status, from_png.features_status) == ("done", "done")
    assert hamming(from_svg.features["phash"], from_png.features["phash"]) <= 4
    assert hamming(from_svg.features["dhash"], from_png.features["dhash"]) <= 4

    # A listing photo: the mark, drawn by someone else and smaller, on a box on a beige table.
    photo = Image.new("RGB", (800, 600), (235, 225, 200))
    ImageDraw.Draw(photo).rectangle([100, 150, 520, 420], fill=(90, 120, 90))
    mark = mark_drawn_by_pillow(1.6)
    photo.paste(mark, (150, 200), mark)
    matcher = Matcher()
    matcher.add(from_svg.pk, ReferenceFeatures.from_json(from_svg.features["engine"]))
    found = matcher.match(query_features(encoded(photo, "JPEG", "listing.jpg").read()))
    assert [match.key for match in found] == [from_svg.pk]

    elsewhere = Image.new("RGB", (800, 600), (235, 225, 200))
    ImageDraw.Draw(elsewhere).ellipse([100, 100, 500, 400], fill=(20, 90, 20))
    assert matcher.match(query_features(encoded(elsewhere, "JPEG", "other.jpg").read())) == []


def test_the_same_svg_cannot_be_added_twice(cast: Cast, right: IPRight, media: Path) -> None:
    first = create(cast, right, label="Main logo", image=svg_file(LOGO_SVG))
    with pytest.raises(ValidationError) as excinfo:
        create(cast, right, label="Again", image=svg_file(LOGO_SVG, name="other-name.svg"))
    assert "Main logo" in excinfo.value.message_dict["image"][0]
    assert stored_files(media) == [media / first.image.name]


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(
            b'<?xml version="1.0" standalone="no"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
            b'"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n' + minimal_svg(""),
            id="svg-1.1-doctype-of-older-exporters",
        ),
        pytest.param(
            minimal_svg(
                '<image width="20" height="20" href="data:image/png;base64,'
                + base64.b64encode(encoded(mark_drawn_by_pillow(0.2), "PNG", "m.png").read()).decode()
                + '"/>'
            ),
            id="embedded-png",
        ),
        pytest.param(minimal_svg("", attributes='viewBox="0 0 100 100"'), id="viewbox-only"),
        pytest.param(minimal_svg("", attributes='width="30mm" height="30mm"'), id="millimetres"),
        pytest.param(b"\xef\xbb\xbf" + minimal_svg("<!-- exported -->"), id="utf8-bom-and-comment"),
        pytest.param(minimal_svg("").decode().encode("utf-16"), id="utf-16"),
    ],
)
def test_ordinary_svg_exports_are_accepted(cast: Cast, right: IPRight, media: Path, content: bytes) -> None:
    asset = create(cast, right, label="Logo", image=svg_file(content))
    with Image.open(media / asset.image.name) as image:
        assert (image.format, image.mode) == ("PNG", "RGBA")
        assert max(image.size) == 1024


# --- The page and the API ----------------------------------------------------------------------


def test_a_manager_uploads_an_svg_logo_on_the_page(
    cast: Cast, right: IPRight, client: Any, media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(cast.manager_a)
    url = reverse("brands:asset-new", args=[cast.brand_a.slug])
    assert "or SVG" in client.get(url, {"kind": "logo"}).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {"kind": "logo", "right": right.pk, "label": "Aurora logo", "image": svg_file(LOGO_SVG)}
        )

    assert response.status_code == 302, response.content.decode()[:2000]
    asset = ReferenceAsset.objects.get()
    assert asset.features_status == "done"
    assert_is_the_logo_as_png(media / asset.image.name)
    image = client.get(reverse("brands:asset-image", args=[cast.brand_a.slug, asset.pk]))
    assert image.status_code == 200
    assert image["Content-Type"] == "image/png"


def test_a_hostile_svg_on_the_page_is_refused_with_the_reason(
    cast: Cast, right: IPRight, client: Any, media: Path
) -> None:
    client.force_login(cast.manager_a)
    hostile = minimal_svg('<image href="file:///etc/passwd" width="10" height="10"/>')
    response = client.post(
        reverse("brands:asset-new", args=[cast.brand_a.slug]),
        {"kind": "logo", "right": right.pk, "label": "Aurora logo", "image": svg_file(hostile)},
    )
    assert response.status_code == 200
    assert "The SVG refers to something outside itself" in response.content.decode()
    assert "file:///etc/passwd" in response.content.decode()
    assert not ReferenceAsset.objects.exists()
    assert stored_files(media) == []


def test_the_api_takes_an_svg_logo_and_stores_a_png(
    cast: Cast, right: IPRight, api: APIClient, media: Path, django_capture_on_commit_callbacks: Any
) -> None:
    api.force_authenticate(cast.manager_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/assets/",
            {"brand": cast.brand_a.pk, "right": right.pk, "kind": "logo", "label": "Aurora logo",
             "image": svg_file(LOGO_SVG)},
            format="multipart",
        )  # fmt: skip

    assert response.status_code == 201, response.content[:500]
    body = response.json()
    assert body["has_image"] is True
    assert body["image_sha256"] == hashlib.sha256(LOGO_SVG).hexdigest()
    detail = api.get(f"/api/v1/assets/{body['id']}/").json()
    assert detail["features_status"] == "done"
    assert (detail["features"]["width"], detail["features"]["height"]) == (1024, 512)
    asset = ReferenceAsset.objects.get(pk=body["id"])
    assert_is_the_logo_as_png(media / asset.image.name)


def test_the_api_refuses_a_hostile_svg_with_a_400_and_the_reason(
    cast: Cast, right: IPRight, api: APIClient, media: Path
) -> None:
    api.force_authenticate(cast.manager_a)
    hostile = b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + minimal_svg(
        "<text>&xxe;</text>"
    )
    response = api.post(
        "/api/v1/assets/",
        {"brand": cast.brand_a.pk, "right": right.pk, "kind": "logo", "label": "Logo", "image": svg_file(hostile)},
        format="multipart",
    )
    assert response.status_code == 400
    assert "DOCTYPE or entity declarations are not accepted" in response.json()["non_field_errors"][0]
    assert not ReferenceAsset.objects.exists()
    assert stored_files(media) == []


# --- Refused: anything that reaches outside, too much, or nothing --------------------------------


def _big_embedded_png() -> str:
    """A small PNG file that declares 36 megapixels: a decompression bomb for whoever draws it."""
    buffer = io.BytesIO()
    Image.new("1", (6000, 6000)).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


HOSTILE = [
    pytest.param(
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        + minimal_svg("<text>&xxe;</text>"),
        "SVGs with a DOCTYPE or entity declarations are not accepted",
        id="doctype-external-entity",
    ),
    pytest.param(
        b'<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        + minimal_svg("<text>&b;</text>"),
        "SVGs with a DOCTYPE or entity declarations are not accepted",
        id="entity-expansion",
    ),
    pytest.param(
        b'<!DOCTYPE svg SYSTEM "file:///etc/passwd">' + minimal_svg(""),
        "SVGs with a DOCTYPE or entity declarations are not accepted",
        id="doctype-system-file",
    ),
    pytest.param(
        minimal_svg('<image href="file:///etc/passwd" width="10" height="10"/>'),
        "The SVG refers to something outside itself (“file:///etc/passwd”)",
        id="image-href-file-url",
    ),
    pytest.param(
        minimal_svg('<image xlink:href="/etc/passwd" width="10" height="10"/>'),
        "The SVG refers to something outside itself (“/etc/passwd”)",
        id="image-xlink-href-path",
    ),
    pytest.param(
        minimal_svg('<image href="http://127.0.0.1/logo.png" width="10" height="10"/>'),
        "The SVG refers to something outside itself (“http://127.0.0.1/logo.png”)",
        id="image-href-local-network",
    ),
    pytest.param(
        minimal_svg('<image href=" HTTPS://example.com/logo.png" width="10" height="10"/>'),
        "The SVG refers to something outside itself",
        id="image-href-https",
    ),
    pytest.param(
        minimal_svg('<use xlink:href="other.svg#mark"/>'),
        "The SVG refers to something outside itself (“other.svg#mark”)",
        id="use-of-another-document",
    ),
    pytest.param(
        minimal_svg('<filter id="f"><feImage href="file:///etc/hostname"/></filter>'),
        "The SVG refers to something outside itself",
        id="filter-image-file",
    ),
    pytest.param(
        minimal_svg('<rect width="5" height="5" style="fill: url(\'http://127.0.0.1/p.svg#g\')"/>'),
        "The SVG refers to something outside itself (“http://127.0.0.1/p.svg#g”)",
        id="css-url-in-style",
    ),
    pytest.param(
        minimal_svg("<style>@import url(https://example.com/logo.css);</style>"),
        "The SVG refers to something outside itself",
        id="css-import",
    ),
    pytest.param(
        minimal_svg(
            '<image width="10" height="10" href="data:image/svg+xml;base64,'
            + base64.b64encode(minimal_svg('<image href="file:///etc/passwd"/>')).decode()
            + '"/>'
        ),
        "embedded images must be PNG, JPEG or WebP",
        id="embedded-svg",
    ),
    pytest.param(
        minimal_svg(f'<image width="10" height="10" href="data:image/png;base64,{_big_embedded_png()}"/>'),
        "The SVG embeds an image that cannot be used: The image is too large (36 megapixels)",
        id="embedded-decompression-bomb",
    ),
    pytest.param(
        minimal_svg("<script>alert(document.cookie)</script>"),
        "SVGs with scripts are not accepted",
        id="script",
    ),
    pytest.param(
        minimal_svg("", attributes='width="100" height="100" onload="alert(1)"'),
        "SVGs with scripts are not accepted (“onload” on <svg>)",
        id="event-handler",
    ),
    pytest.param(
        minimal_svg("", attributes='width="100000" height="100"'),
        "The SVG declares a size of 100,000 × 100 px; the limit is 10,000 px a side.",
        id="width-100000",
    ),
    pytest.param(
        minimal_svg("", attributes='viewBox="0 0 50000 50000"'),
        "The SVG declares a size of 50,000 × 50,000 px",
        id="huge-viewbox",
    ),
    pytest.param(
        minimal_svg("", attributes='width="1e999" height="10"'),
        "The SVG declares a size of an infinite × 10 px",
        id="infinite-width",
    ),
    pytest.param(
        minimal_svg("", attributes='width="100" height="100" viewBox="0 0 0 10"'),
        "The SVG has no area",
        id="empty-viewbox",
    ),
    pytest.param(
        minimal_svg("", attributes='width="100" height="100"')[:-6]
        + b"<!--"
        + b"x" * (10 * 1024 * 1024)
        + b"--></svg>",
        "The SVG is too large (10 MB); the limit is 2 MB.",
        id="10-MB",
    ),
    pytest.param(
        b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">' + b"<g>" * 250 + b"</g>" * 250 + b"</svg>",
        "nests elements more than 200 deep",
        id="deep-nesting",
    ),
    pytest.param(
        b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"></svg>',
        "The logo is blank: the SVG draws nothing visible.",
        id="blank",
    ),
    pytest.param(
        b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
        b'<rect width="100" height="100" fill="#000" opacity="0.01"/></svg>',
        "The logo is blank: the SVG draws nothing visible.",
        id="invisible-ink",
    ),
    pytest.param(
        b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50"><rect width="100%" height="100%" fill="#fff"/></svg>',
        "The logo is blank: the SVG fills its whole area with a single colour.",
        id="one-flat-colour",
    ),
    pytest.param(
        b'<svg width="100" height="100"><rect width="50" height="50"/></svg>',
        'its root must be an <svg> element with xmlns="http://www.w3.org/2000/svg"',
        id="no-svg-namespace",
    ),
    pytest.param(
        b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="50" height="50"></svg>',
        "The SVG is not well-formed XML (line 1)",
        id="not-well-formed",
    ),
]


@pytest.mark.parametrize(("content", "message"), HOSTILE)
def test_hostile_or_useless_svgs_are_refused_leaving_nothing_behind(
    cast: Cast, right: IPRight, media: Path, content: bytes, message: str
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        create(cast, right, label="Logo", image=svg_file(content))

    assert message in " ".join(excinfo.value.messages)
    assert not ReferenceAsset.objects.exists()
    assert stored_files(media) == []
    assert not AuditEvent.objects.filter(action="referenceasset.created").exists()


def test_an_svg_that_takes_too_long_to_draw_is_stopped_and_refused(
    cast: Cast, right: IPRight, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Five levels of ten <use> each: 100,000 squares from a file of a few hundred bytes.
    levels = ['<rect id="l0" width="1" height="1"/>']
    for level in range(1, 6):
        uses = "".join(f'<use href="#l{level - 1}" x="{i % 3}"/>' for i in range(10))
        levels.append(f'<g id="l{level}">{uses}</g>')
    content = minimal_svg(f'<defs>{"".join(levels)}</defs><use href="#l5"/>')
    monkeypatch.setattr(svg, "RENDER_TIMEOUT_S", 0.5)

    with pytest.raises(ValidationError) as excinfo:
        create(cast, right, label="Logo", image=svg_file(content))

    assert "The SVG takes too long to draw (over 0.5 seconds)" in excinfo.value.messages[0]
    assert not ReferenceAsset.objects.exists()
    assert stored_files(media) == []


def test_an_svg_with_too_many_elements_is_refused_before_drawing(
    cast: Cast, right: IPRight, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(svg, "MAX_ELEMENTS", 100)
    content = minimal_svg('<rect width="1" height="1"/>' * 100)
    with pytest.raises(ValidationError) as excinfo:
        create(cast, right, label="Logo", image=svg_file(content))
    assert "The SVG is too complex (more than 100 elements)" in excinfo.value.messages[0]
    assert stored_files(media) == []


# --- Still refused where the image is not a logo -------------------------------------------------


def test_a_product_photo_cannot_be_an_svg(cast: Cast, right: IPRight, media: Path) -> None:
    with pytest.raises(ValidationError) as excinfo:
        create(cast, right, "product_photo", label="Bag", image=svg_file(LOGO_SVG))
    assert excinfo.value.messages == [
        "SVG images are not accepted because they can contain scripts; upload a PNG, JPEG or WebP instead."
    ]
    assert stored_files(media) == []


def test_an_ip_document_cannot_be_an_svg(cast: Cast, media: Path) -> None:
    with pytest.raises(ValidationError) as excinfo:
        services.document_upload(actor=cast.manager_a, brand=cast.brand_a, file=svg_file(LOGO_SVG), kind="other")
    assert "SVG images are not accepted because they can contain scripts" in excinfo.value.messages[0]
    assert not IPDocument.objects.exists()
    assert stored_files(media) == []


def test_a_logo_that_is_neither_image_nor_svg_names_every_accepted_kind(cast: Cast, right: IPRight) -> None:
    with pytest.raises(ValidationError) as excinfo:
        create(cast, right, label="Logo", image=SimpleUploadedFile("logo.gif", b"GIF89a" + b"\0" * 40))
    assert excinfo.value.messages == ["GIF images are not accepted; upload a PNG, JPEG, WebP or SVG instead."]
