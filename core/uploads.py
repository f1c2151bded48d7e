"""Content-based checks for uploaded files: the type comes from the bytes, never from the name.
Reused for IP documents (PDF or image), listing images and logos (which may also be SVG)."""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass
from typing import IO, Protocol
from uuid import uuid4

from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.utils.text import get_valid_filename
from PIL import Image


class UploadRejected(ValidationError):
    """An upload we refuse; the message is a sentence the end user can act on."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="upload_rejected")


@dataclass(frozen=True)
class FileKind:
    name: str
    content_type: str
    extension: str
    is_image: bool


PDF = FileKind(name="pdf", content_type="application/pdf", extension=".pdf", is_image=False)
PNG = FileKind(name="png", content_type="image/png", extension=".png", is_image=True)
JPEG = FileKind(name="jpeg", content_type="image/jpeg", extension=".jpg", is_image=True)
WEBP = FileKind(name="webp", content_type="image/webp", extension=".webp", is_image=True)
# Only where a caller names it, and only to turn it into a PNG on the server (brands.svg): an SVG is
# never stored or served, since a browser would run the scripts it may hold.
SVG = FileKind(name="svg", content_type="image/svg+xml", extension=".svg", is_image=True)

DOCUMENT_KINDS = frozenset({PDF, PNG, JPEG, WEBP})
IMAGE_KINDS = frozenset({PNG, JPEG, WEBP})
LOGO_KINDS = frozenset({PNG, JPEG, WEBP, SVG})

SVG_MAX_BYTES = 2 * 1024 * 1024  # a logo's markup; far larger ones are generated clutter or an attack


@dataclass(frozen=True)
class InspectedFile:
    kind: FileKind
    sha256: str
    size: int
    width: int | None
    height: int | None


class _BinaryFile(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...
    def seek(self, offset: int, whence: int = ..., /) -> int: ...
    def tell(self) -> int: ...


# Messages list kinds in this order, whatever order a frozenset iterates in.
_ORDER = (PDF, PNG, JPEG, WEBP, SVG)
_LABELS = {PDF: "PDF", PNG: "PNG", JPEG: "JPEG", WEBP: "WebP", SVG: "SVG"}
# Pillow calls multi-picture JPEGs (common from phone and stereo cameras) "MPO"; they are JPEGs.
_PILLOW_FORMATS = {PNG: {"PNG"}, JPEG: {"JPEG", "MPO"}, WEBP: {"WEBP"}}
_PILLOW_OPENERS = {PNG: ["PNG"], JPEG: ["JPEG"], WEBP: ["WEBP"]}
# A user's own spelling of the right extension is kept; any of these is replaced when it is wrong.
_EXTENSION_ALIASES = {
    PDF: {".pdf"},
    PNG: {".png"},
    JPEG: {".jpg", ".jpeg", ".jpe", ".jfif"},
    WEBP: {".webp"},
    SVG: {".svg"},
}
_KNOWN_EXTENSIONS = set().union(*_EXTENSION_ALIASES.values())

_CHUNK_SIZE = 64 * 1024
_HEAD_SIZE = 4096  # enough to recognise markup that starts with a comment or a doctype
_PDF_HEADER_WINDOW = 1024  # readers accept "%PDF-" anywhere in the first kilobyte
_PDF_TRAILER_WINDOW = 2048
_MAX_NAME_LENGTH = 150

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SIGNATURE = b"\xff\xd8\xff"
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_HTML_MARKERS = (b"<!doctype html", b"<html", b"<script", b"<head", b"<body")
_EXECUTABLE_SIGNATURES = (
    b"MZ",  # Windows
    b"\x7fELF",  # Linux
    b"\xcf\xfa\xed\xfe",  # macOS, 64-bit
    b"\xce\xfa\xed\xfe",  # macOS, 32-bit
)
_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")  # DOCX, XLSX, PPTX and ODF files are ZIP archives


def _pdf_name_pattern(name: str) -> bytes:
    # A PDF name may spell any character as #xx, so "/Java#53cript" is "/JavaScript" to a reader.
    parts = [re.escape(char.encode()) + b"|#" + f"{ord(char):02x}".encode() for char in name]
    return b"/" + b"".join(b"(?:" + part + b")" for part in parts)


_PDF_ACTIVE_CONTENT = re.compile(b"|".join(_pdf_name_pattern(name) for name in ("JavaScript", "Launch")), re.IGNORECASE)
_PDF_SCAN_OVERLAP = 1 + 3 * len("JavaScript")  # the longest way to spell a token, every character escaped


def sniff(head: bytes) -> FileKind | None:
    """The kind of file these first bytes begin, by magic bytes only; None when it is none of ours."""
    if head.startswith(_PNG_SIGNATURE):
        return PNG
    if head.startswith(_JPEG_SIGNATURE):
        return JPEG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if b"%PDF-" in head[:_PDF_HEADER_WINDOW]:
        return PDF
    return None


def inspect_upload(
    file: IO[bytes] | _BinaryFile,
    *,
    allowed: frozenset[FileKind],
    max_bytes: int,
    max_pixels: int = 50_000_000,
) -> InspectedFile:
    """Check an upload by its content and describe it; raise UploadRejected with the reason otherwise.

    `file` is a Django File/UploadedFile or any seekable binary file object; it is left at position 0.
    """
    try:
        return _inspect(file, allowed=allowed, max_bytes=max_bytes, max_pixels=max_pixels)
    finally:
        file.seek(0)


def stored_name(prefix: str, kind: FileKind) -> str:
    """A fresh storage path; never derived from the user's file name, so it cannot collide or traverse."""
    return f"{prefix}/{uuid4().hex}{kind.extension}"


def safe_original_name(name: str, kind: FileKind) -> str:
    """The user's file name made safe to show and to offer as a download name, with an extension that
    matches the content."""
    basename = name.replace("\\", "/").rsplit("/", 1)[-1]  # browsers on Windows may send a full path
    try:
        cleaned = get_valid_filename(basename)
    except SuspiciousFileOperation:  # nothing usable was left, e.g. ".."
        cleaned = ""
    stem, dot, rest = cleaned.rpartition(".")
    suffix = dot + rest if dot else ""
    if suffix.lower() in _EXTENSION_ALIASES[kind]:
        extension = suffix
    else:
        # A wrong known extension (a PDF called .png) would mislead whoever opens the download.
        extension = kind.extension
        if suffix.lower() not in _KNOWN_EXTENSIONS:
            stem = cleaned
    stem = stem.lstrip(".")  # no hidden files
    if not stem:
        return "upload" + extension
    return stem[: _MAX_NAME_LENGTH - len(extension)] + extension


# --- Inspection ------------------------------------------------------------------------


def _inspect(file: _BinaryFile, *, allowed: frozenset[FileKind], max_bytes: int, max_pixels: int) -> InspectedFile:
    declared_size = _declared_size(file)
    # Refuse an oversized file before reading any of it.
    if declared_size is not None and declared_size > max_bytes:
        raise UploadRejected(_too_large_message(declared_size, max_bytes))

    file.seek(0)
    head = file.read(_HEAD_SIZE)
    if not head:
        raise UploadRejected("The file is empty.")

    kind = sniff(head)
    if kind is None and SVG in allowed and _markup_kind(head) == "svg":
        kind = SVG
        if declared_size is not None and declared_size > SVG_MAX_BYTES:
            raise UploadRejected(_too_large_message(declared_size, SVG_MAX_BYTES, what="SVG"))
        max_bytes = min(max_bytes, SVG_MAX_BYTES)
    if kind is None:
        raise UploadRejected(_unrecognised_message(head, allowed))
    if kind is PDF and not head.startswith(b"%PDF-"):
        # A page with a PDF header further down is a polyglot that a browser may render as HTML.
        markup_message = _markup_message(head[: head.find(b"%PDF-")], allowed)
        if markup_message:
            raise UploadRejected(markup_message)
    if kind not in allowed:
        raise UploadRejected(_wrong_kind_message(kind, allowed))

    digest, size, tail, has_active_content = _read_through(
        file, max_bytes=max_bytes, scan_pdf=kind is PDF, what="SVG" if kind is SVG else "file"
    )

    width = height = None
    if kind is PDF:
        if b"%%EOF" not in tail:
            raise UploadRejected("The PDF is damaged or truncated.")
        if has_active_content:
            raise UploadRejected("PDFs with embedded scripts or launch actions are not accepted.")
    elif kind is not SVG:  # an SVG's markup is checked by the caller that renders it (brands.svg)
        width, height = _check_image(file, kind, max_pixels=max_pixels)
    return InspectedFile(kind=kind, sha256=digest, size=size, width=width, height=height)


def _declared_size(file: _BinaryFile) -> int | None:
    size = getattr(file, "size", None)
    if isinstance(size, int):
        return size
    try:
        file.seek(0, 2)
        return file.tell()
    except (AttributeError, OSError, ValueError):
        return None


def _read_through(
    file: _BinaryFile, *, max_bytes: int, scan_pdf: bool, what: str = "file"
) -> tuple[str, int, bytes, bool]:
    """One pass over the content in fixed-size chunks: hash, size, the last bytes and, for PDFs,
    whether active content is named. Stops as soon as the file proves too large."""
    file.seek(0)
    hasher = hashlib.sha256()
    size = 0
    tail = b""
    carry = b""  # the end of the previous chunk, so a token split across two chunks is still found
    found = False
    while chunk := file.read(_CHUNK_SIZE):
        size += len(chunk)
        if size > max_bytes:
            raise UploadRejected(_too_large_message(size, max_bytes, what=what))
        hasher.update(chunk)
        tail = (tail + chunk)[-_PDF_TRAILER_WINDOW:]
        if scan_pdf and not found:
            window = carry + chunk
            found = _names_active_content(window)
            carry = window[-_PDF_SCAN_OVERLAP:]
    if size == 0:  # the head was read, so only a file that changed under us gets here
        raise UploadRejected("The file is empty.")
    return hasher.hexdigest(), size, tail, found


def _names_active_content(data: bytes) -> bool:
    # The pattern ignores case so that hex escapes match in either case, but names are case-sensitive:
    # decode the escapes and compare exactly.
    for match in _PDF_ACTIVE_CONTENT.finditer(data):
        name = re.sub(rb"#([0-9a-fA-F]{2})", lambda m: bytes([int(m.group(1), 16)]), match.group())
        if name in (b"/JavaScript", b"/Launch"):
            return True
    return False


def _check_image(file: _BinaryFile, kind: FileKind, *, max_pixels: int) -> tuple[int, int]:
    file.seek(0)
    try:
        # Only the plugin for the sniffed kind may open it: no other Pillow parser ever sees the bytes.
        with Image.open(file, formats=_PILLOW_OPENERS[kind]) as image:
            if image.format not in _PILLOW_FORMATS[kind]:
                raise UploadRejected(_DAMAGED_IMAGE)
            width, height = image.size
            # Opening reads the header only; refuse a decompression bomb before any pixel is decoded.
            if width * height > max_pixels:
                raise UploadRejected(_too_many_pixels_message(width * height, max_pixels))
            # Decode everything, so a truncated or corrupt image is refused now rather than when shown.
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own limit (the warning only arrives as an exception when warnings are errors).
        match = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = int(match.group(1)) if match else None
        raise UploadRejected(_too_many_pixels_message(pixels, max_pixels)) from exc
    except _DECODE_ERRORS as exc:
        raise UploadRejected(_DAMAGED_IMAGE) from exc
    return width, height


# What Pillow raises on malformed input (UnidentifiedImageError and "image file is truncated" are OSErrors).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError, struct.error)
_DAMAGED_IMAGE = "The image is damaged or truncated and cannot be read."


# --- Messages --------------------------------------------------------------------------


def _unrecognised_message(head: bytes, allowed: frozenset[FileKind]) -> str:
    markup_message = _markup_message(head, allowed)
    if markup_message:
        return markup_message
    if head.startswith((b"GIF87a", b"GIF89a")):
        return f"GIF images are not accepted; upload {_suggestion(allowed, images=True)} instead."
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypmsf1", b"ftypavif"):
        return f"HEIC and AVIF images are not accepted; upload {_suggestion(allowed, images=True)} instead."
    if head.startswith(_ZIP_SIGNATURES):
        return f"ZIP archives and Office documents are not accepted; upload {_suggestion(allowed)} instead."
    if head.startswith(_EXECUTABLE_SIGNATURES):
        return "Programs and executable files are not accepted."
    labels = [_LABELS[kind] for kind in _ordered(allowed)]
    if len(labels) == 1:
        return f"Unsupported file type: the accepted type is {labels[0]}."
    return f"Unsupported file type: accepted types are {_join(labels, 'and')}."


def _markup_message(head: bytes, allowed: frozenset[FileKind]) -> str | None:
    """The refusal for SVG or HTML content (both can run scripts in a browser), or None."""
    markup = _markup_kind(head)
    if markup == "svg":
        return (
            "SVG images are not accepted because they can contain scripts; "
            f"upload {_suggestion(allowed, images=True)} instead."
        )
    if markup == "html":
        return "HTML files are not accepted."
    return None


def _markup_kind(head: bytes) -> str | None:
    """Whether these first bytes begin SVG ("svg") or HTML ("html") markup; None when neither."""
    text = _as_ascii_lowercase(head)
    svg_at = text.find(b"<svg")
    html_at = min((at for marker in _HTML_MARKERS if (at := text.find(marker)) >= 0), default=-1)
    # Whichever comes first decides: an SVG may hold a <script>, an HTML page may hold an <svg>.
    if svg_at >= 0 and (html_at < 0 or svg_at < html_at):
        return "svg"
    if html_at >= 0:
        return "html"
    return None


def _as_ascii_lowercase(head: bytes) -> bytes:
    if head.startswith(_UTF16_BOMS):
        head = head.decode("utf-16", errors="ignore").encode("utf-8", errors="ignore")
    return head.removeprefix(_UTF8_BOM).lstrip().lower()


def _wrong_kind_message(kind: FileKind, allowed: frozenset[FileKind]) -> str:
    found = "a PDF" if kind is PDF else f"a {_LABELS[kind]} image"
    labels = [_LABELS[k] for k in _ordered(allowed)]
    if allowed and all(k.is_image for k in allowed):
        wanted = f"an image ({_join(labels, 'or')})"
    elif allowed == {PDF}:
        wanted = "a PDF"
    else:
        wanted = f"a {_join(labels, 'or')} file"
    return f"This must be {wanted}; the file is {found}."


def _suggestion(allowed: frozenset[FileKind], *, images: bool = False) -> str:
    """'a PNG, JPEG or WebP' from the allowed kinds; only the image kinds when an image was offered."""
    kinds = _ordered(allowed)
    if images and any(k.is_image for k in kinds):
        kinds = [k for k in kinds if k.is_image]
    return "a " + _join([_LABELS[k] for k in kinds], "or")


def _ordered(kinds: frozenset[FileKind]) -> list[FileKind]:
    return [kind for kind in _ORDER if kind in kinds]


def _join(labels: list[str], conjunction: str) -> str:
    if len(labels) <= 1:
        return "".join(labels)
    return f"{', '.join(labels[:-1])} {conjunction} {labels[-1]}"


def _too_large_message(size: int, max_bytes: int, *, what: str = "file") -> str:
    limit = _human_size(max_bytes)
    actual = _human_size(size)
    if actual == limit:  # "(20 MB); the limit is 20 MB" would read as if it fitted
        actual = f"over {limit}"
    return f"The {what} is too large ({actual}); the limit is {limit}."


def _human_size(size: int) -> str:
    if size < 1024:
        return "1 byte" if size == 1 else f"{size} bytes"
    value = float(size)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            break
    return f"{_trim(f'{value:.1f}')} {unit}"


def _too_many_pixels_message(pixels: int | None, max_pixels: int) -> str:
    limit = f"the limit is {_megapixels(max_pixels)} megapixels"
    if pixels is None:
        return f"The image is too large; {limit}."
    return f"The image is too large ({_megapixels(pixels)} megapixels); {limit}."


def _megapixels(pixels: int) -> str:
    value = pixels / 1_000_000
    return f"{value:.0f}" if value >= 100 else _trim(f"{value:.3g}")


def _trim(number: str) -> str:
    return number.removesuffix(".0")
