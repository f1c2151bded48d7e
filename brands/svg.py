"""SVG logos become PNGs with alpha before anything is stored. An SVG that could make the server read
another file or the network is refused; the rest is drawn by resvg in a child process with limits."""

from __future__ import annotations

import base64
import binascii
import io
import logging
import math
import re
import subprocess
import sys
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes
from xml.etree.ElementTree import Element, tostring  # serialising only: untrusted input is parsed by defusedxml

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring
from PIL import Image

from core.uploads import IMAGE_KINDS, SVG_MAX_BYTES, UploadRejected, inspect_upload

logger = logging.getLogger(__name__)

LONG_SIDE = 1024  # px of the stored PNG's longer side
MAX_DECLARED_SIDE = 10_000  # px: the size an SVG claims for itself, per side
MAX_ELEMENTS = 50_000
MAX_DEPTH = 200  # nesting; also keeps the recursive serialiser far from Python's recursion limit
RENDER_TIMEOUT_S = 10.0
RENDER_MEMORY_BYTES = 1024 * 1024 * 1024
EMBEDDED_MAX_PIXELS = 25_000_000  # an image embedded as a data: URI is decoded by the renderer
MIN_INK_ALPHA = 8  # of 255: fainter than this everywhere reads as blank

SVG_NS = "http://www.w3.org/2000/svg"
_EMBEDDABLE_TYPES = {"image/png", "image/jpeg", "image/jpg", "image/webp"}
# The DOCTYPE that SVG 1.0/1.1 exporters (older Illustrator among them) write: a public identifier and
# no internal subset, so no entity can be declared. It is removed; any other DOCTYPE is refused.
_STANDARD_DOCTYPE = re.compile(
    rb'<!DOCTYPE\s+svg\s+PUBLIC\s+"-//W3C//DTD SVG [0-9A-Za-z. ]{1,20}//EN"'
    rb'\s+"http://www\.w3\.org/[0-9A-Za-z./_-]{1,80}\.dtd"\s*>',
)
_CSS_URL = re.compile(r"url\(\s*['\"]?\s*([^'\")\s]*)", re.IGNORECASE)
_LENGTH = re.compile(r"\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(px|pt|pc|mm|cm|in|em|ex|%)?\s*")
_PX_PER_UNIT = {"": 1.0, "px": 1.0, "pt": 96 / 72, "pc": 16.0, "mm": 96 / 25.4, "cm": 96 / 2.54, "in": 96.0,
                "em": 16.0, "ex": 8.0}  # fmt: skip
_DEFAULT_SIDE = 100.0  # what resvg assumes without a width, height or viewBox

_EXIT_INVALID, _EXIT_MEMORY = 2, 3  # the renderer's exit statuses for an unreadable SVG and for no memory
_RENDERER = """
import resource, sys
memory, seconds, side = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds))
import resvg_py
svg = sys.stdin.buffer.read().decode("utf-8")
try:
    # width and height together fit the drawing inside side x side, keeping its aspect ratio; dpi=0
    # (the binding's default) would make every length in mm, cm, in, pt or pc zero.
    png = resvg_py.svg_to_bytes(svg_string=svg, width=side, height=side, dpi=96.0)
except ValueError as exc:
    sys.stderr.write(str(exc)[:200])
    sys.exit(2)
except MemoryError:
    sys.exit(3)
sys.stdout.buffer.write(bytes(png))
"""


@dataclass(frozen=True)
class RenderedLogo:
    png: bytes
    width: int
    height: int


def render_logo_svg(data: bytes) -> RenderedLogo:
    """The SVG drawn as a PNG with alpha, its longer side LONG_SIDE px, in its own colours.

    Raises UploadRejected, with a reason the uploader can act on, for markup that refers to anything
    outside itself (other files, the network, entities), is too large or too complex, or draws nothing.
    """
    root = _parse(data)
    _check_tree(root)
    _check_declared_size(root)
    # The renderer gets the tree we checked, written out again: no DOCTYPE, comment or processing
    # instruction survives, and no difference between two XML parsers can hide anything from the checks.
    markup = tostring(root, encoding="unicode")
    png = _render(markup)
    return _checked_rendering(png)


# --- Markup --------------------------------------------------------------------------------------


def _parse(data: bytes) -> Element:
    body = _STANDARD_DOCTYPE.sub(b"", data, count=1)
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UploadRejected(
            "SVGs with a DOCTYPE or entity declarations are not accepted, because they can make the server "
            "read other files; export the logo again without them."
        ) from exc
    except ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        where = f" (line {line})" if line else ""
        raise UploadRejected(f"The SVG is not well-formed XML{where} and cannot be read.") from exc
    if root.tag != f"{{{SVG_NS}}}svg":
        raise UploadRejected(f'This is not an SVG image: its root must be an <svg> element with xmlns="{SVG_NS}".')
    return root


def _check_tree(root: Element) -> None:
    count = 0
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        count += 1
        if count > MAX_ELEMENTS:
            raise UploadRejected(
                f"The SVG is too complex (more than {MAX_ELEMENTS:,} elements); simplify it or upload a PNG instead."
            )
        if depth > MAX_DEPTH:
            raise UploadRejected(f"The SVG nests elements more than {MAX_DEPTH} deep; simplify it or upload a PNG.")
        name = _local(element.tag)
        if name == "script":
            raise UploadRejected("SVGs with scripts are not accepted; export the logo without them.")
        for attribute, value in element.attrib.items():
            attribute = _local(attribute)
            if attribute.lower().startswith("on"):
                raise UploadRejected(
                    f"SVGs with scripts are not accepted (“{attribute}” on <{name}>); export the logo without them."
                )
            if attribute == "href":
                _check_href(value)
            _check_css(value)
        if name == "style" and element.text:
            _check_css(element.text)
            if "@import" in element.text.lower():
                raise UploadRejected(_external_message("@import"))
        stack.extend((child, depth + 1) for child in element)


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _check_href(value: str) -> None:
    """A link must stay inside the SVG (#id) or embed an image that we can check (data:)."""
    target = value.strip()
    if target.startswith("#"):
        return
    if target[:5].lower() == "data:":
        _check_embedded_image(target)
        return
    raise UploadRejected(_external_message(target))


def _check_css(text: str) -> None:
    for match in _CSS_URL.finditer(text):
        if not match.group(1).startswith("#"):
            raise UploadRejected(_external_message(match.group(1) or match.group(0)))


def _external_message(target: str) -> str:
    shown = target if len(target) <= 60 else target[:57] + "…"
    return (
        f"The SVG refers to something outside itself (“{shown}”); only links inside the SVG (#id) and "
        "images embedded as data: URIs are accepted."
    )


def _check_embedded_image(uri: str) -> None:
    header, comma, payload = uri[5:].partition(",")
    parameters = [part.strip().lower() for part in header.split(";")]
    media_type = parameters[0]
    if not comma or media_type not in _EMBEDDABLE_TYPES:
        label = media_type or "file"
        raise UploadRejected(
            f"The SVG embeds a {label} that is not accepted; embedded images must be PNG, JPEG or WebP."
        )
    try:
        if "base64" in parameters[1:]:
            raw = base64.b64decode(re.sub(r"\s+", "", payload), validate=True)
        else:
            raw = unquote_to_bytes(payload)
    except (binascii.Error, ValueError) as exc:
        raise UploadRejected("The SVG embeds an image whose data: URI is damaged.") from exc
    try:
        inspect_upload(io.BytesIO(raw), allowed=IMAGE_KINDS, max_bytes=SVG_MAX_BYTES, max_pixels=EMBEDDED_MAX_PIXELS)
    except UploadRejected as exc:
        raise UploadRejected(f"The SVG embeds an image that cannot be used: {exc.messages[0]}") from exc


def _check_declared_size(root: Element) -> None:
    view_box = _view_box(root.get("viewBox"))
    width, height = _length(root.get("width")), _length(root.get("height"))
    if view_box is not None:
        view_width, view_height = view_box
        if width is None and height is None:
            width, height = view_width, view_height
        elif width is None:
            width = height * view_width / view_height
        elif height is None:
            height = width * view_height / view_width
    width = _DEFAULT_SIDE if width is None else width
    height = _DEFAULT_SIDE if height is None else height
    if not (math.isfinite(width) and math.isfinite(height)) or max(width, height) > MAX_DECLARED_SIDE:
        raise UploadRejected(
            f"The SVG declares a size of {_number(width)} × {_number(height)} px; the limit is "
            f"{MAX_DECLARED_SIDE:,} px a side."
        )
    if width <= 0 or height <= 0:
        raise UploadRejected("The SVG has no area (its width, height or viewBox is zero) and draws nothing.")


def _view_box(value: str | None) -> tuple[float, float] | None:
    numbers = re.split(r"[\s,]+", (value or "").strip())
    if len(numbers) != 4:
        return None
    try:
        width, height = float(numbers[2]), float(numbers[3])
    except ValueError:
        return None
    if not (width > 0 and height > 0):  # NaN included
        raise UploadRejected("The SVG has no area (its width, height or viewBox is zero) and draws nothing.")
    return width, height


def _length(value: str | None) -> float | None:
    """A length in px; None where resvg falls back to the viewBox (absent, a percentage, unreadable)."""
    match = _LENGTH.fullmatch(value or "")
    if not match or match.group(2) == "%":
        return None
    return float(match.group(1)) * _PX_PER_UNIT[match.group(2) or ""]


def _number(value: float) -> str:
    return f"{value:,.0f}" if math.isfinite(value) else "an infinite"


# --- Rendering -----------------------------------------------------------------------------------


def _render(markup: str) -> bytes:
    """PNG bytes from resvg, run in a child process: the clock and the memory it may use are capped,
    and it gets no environment (no secrets) and no file to work from."""
    command = [
        sys.executable, "-I", "-c", _RENDERER,
        str(RENDER_MEMORY_BYTES), str(math.ceil(RENDER_TIMEOUT_S) + 1), str(LONG_SIDE),
    ]  # fmt: skip
    try:
        done = subprocess.run(  # our own interpreter and script; the SVG goes in on stdin
            command,
            input=markup.encode("utf-8"),
            capture_output=True,
            timeout=RENDER_TIMEOUT_S,
            env={},
            cwd="/",
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise UploadRejected(
            f"The SVG takes too long to draw (over {RENDER_TIMEOUT_S:g} seconds); simplify it or upload a PNG."
        ) from exc
    if done.returncode == _EXIT_INVALID:
        reason = done.stderr.decode("utf-8", "replace").strip()
        raise UploadRejected(f"The SVG cannot be drawn ({reason})." if reason else "The SVG cannot be drawn.")
    if done.returncode == _EXIT_MEMORY or done.returncode < 0:  # out of memory or CPU time, or killed
        raise UploadRejected("The SVG is too complex to draw; simplify it or upload a PNG instead.")
    if done.returncode != 0 or not done.stdout:
        # The renderer is missing or broken: a fault of this server, not of the upload.
        logger.error("SVG renderer failed (exit %s): %s", done.returncode, done.stderr[-2000:])
        raise RuntimeError(f"The SVG renderer failed (exit {done.returncode}).")
    return done.stdout


def _checked_rendering(png: bytes) -> RenderedLogo:
    with Image.open(io.BytesIO(png), formats=["PNG"]) as image:
        rgba = image.convert("RGBA")
    extrema = rgba.getextrema()
    if extrema[3][1] < MIN_INK_ALPHA:
        raise UploadRejected("The logo is blank: the SVG draws nothing visible.")
    if all(low == high for low, high in extrema):
        raise UploadRejected("The logo is blank: the SVG fills its whole area with a single colour.")
    return RenderedLogo(png=png, width=rgba.width, height=rgba.height)
