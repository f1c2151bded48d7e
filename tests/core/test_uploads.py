"""Content-based upload checks, on real files generated here with Pillow and by hand."""

from __future__ import annotations

import contextlib
import hashlib
import io
import random
import re
import struct
import warnings
import zipfile
import zlib
from functools import cache

import pytest
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageFile

from core import uploads
from core.uploads import (
    DOCUMENT_KINDS,
    IMAGE_KINDS,
    JPEG,
    LOGO_KINDS,
    PDF,
    PNG,
    SVG,
    SVG_MAX_BYTES,
    WEBP,
    UploadRejected,
    inspect_upload,
    safe_original_name,
    sniff,
    stored_name,
)

MB = 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_WITH_SCRIPT = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'


# --- Real files, made in memory ---------------------------------------------------------


def image_bytes(fmt: str, size: tuple[int, int] = (40, 30), *, noisy: bool = False, **save_options: object) -> bytes:
    if noisy:  # random pixels: the compressed data, not the headers, makes up most of the file
        image = Image.frombytes("RGB", size, random.Random(0).randbytes(size[0] * size[1] * 3))
    else:
        image = Image.new("RGB", size, (200, 30, 60))
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save_options)
    return buffer.getvalue()


def make_pdf(*, extra_objects: tuple[bytes, ...] = (), padding: int = 0, before_header: bytes = b"") -> bytes:
    """A minimal valid one-page PDF with a correct xref table. `padding` bytes of comment go right
    after the header, so later content can be moved to a chosen offset."""
    open_action = b" /OpenAction 4 0 R" if extra_objects else b""
    objects = (
        b"<< /Type /Catalog /Pages 2 0 R" + open_action + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        *extra_objects,
    )
    out = bytearray(before_header + b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    if padding:
        assert padding >= 2
        out += b"%" + b"x" * (padding - 2) + b"\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref_at)
    return bytes(out)


def png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


@cache
def one_colour_png(width: int, height: int) -> bytes:
    """A valid 1-bit black PNG, written by hand: Pillow would need width*height bytes to create it."""
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte, then the packed pixels
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row * min(1000, height - y)) for y in range(0, height, 1000))
    idat += compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return PNG_SIGNATURE + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def rejected(file: object, allowed: frozenset = DOCUMENT_KINDS, max_bytes: int = 20 * MB, **kwargs: int) -> str:
    with pytest.raises(UploadRejected) as caught:
        inspect_upload(file, allowed=allowed, max_bytes=max_bytes, **kwargs)
    assert caught.value.code == "upload_rejected"
    return caught.value.messages[0]


# --- Accepted files ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "kind"),
    [("PNG", PNG), ("JPEG", JPEG), ("WEBP", WEBP)],
)
def test_valid_images_are_accepted_with_kind_hash_size_and_dimensions(fmt: str, kind: uploads.FileKind) -> None:
    content = image_bytes(fmt, (64, 48), noisy=True)
    file = upload(f"picture.{fmt.lower()}", content)

    inspected = inspect_upload(file, allowed=IMAGE_KINDS, max_bytes=MB)

    assert inspected.kind == kind
    assert inspected.sha256 == hashlib.sha256(content).hexdigest()
    assert inspected.size == len(content)
    assert (inspected.width, inspected.height) == (64, 48)
    assert file.tell() == 0


def test_valid_pdf_is_accepted() -> None:
    content = make_pdf()
    inspected = inspect_upload(upload("deed.pdf", content), allowed=DOCUMENT_KINDS, max_bytes=MB)

    assert inspected == uploads.InspectedFile(
        kind=PDF, sha256=hashlib.sha256(content).hexdigest(), size=len(content), width=None, height=None
    )
    assert inspected.kind.content_type == "application/pdf"


def test_pdf_with_bytes_before_its_header_is_accepted_as_readers_do() -> None:
    inspected = inspect_upload(
        upload("deed.pdf", make_pdf(before_header=b"\x00\x01 scanner preamble\n")), allowed=DOCUMENT_KINDS, max_bytes=MB
    )
    assert inspected.kind == PDF


def test_multi_picture_jpeg_from_a_camera_is_a_jpeg() -> None:
    second = Image.new("RGB", (40, 30), "blue")
    content = image_bytes("MPO", save_all=True, append_images=[second])

    inspected = inspect_upload(upload("stereo.jpg", content), allowed=IMAGE_KINDS, max_bytes=MB)

    assert inspected.kind == JPEG
    assert (inspected.width, inspected.height) == (40, 30)


def test_hash_is_of_the_whole_content_across_many_chunks() -> None:
    content = make_pdf(padding=5 * uploads._CHUNK_SIZE + 123)
    inspected = inspect_upload(upload("big.pdf", content), allowed=DOCUMENT_KINDS, max_bytes=MB)
    assert inspected.sha256 == hashlib.sha256(content).hexdigest()
    assert inspected.size == len(content)


def test_plain_binary_file_objects_and_django_files_work(tmp_path) -> None:
    content = image_bytes("PNG")
    path = tmp_path / "picture.png"
    path.write_bytes(content)

    with path.open("rb") as raw:
        raw.read(10)  # a file already read from is rewound first
        assert inspect_upload(raw, allowed=IMAGE_KINDS, max_bytes=MB).size == len(content)
        assert raw.tell() == 0
    with path.open("rb") as raw:
        django_file = File(raw)
        assert inspect_upload(django_file, allowed=IMAGE_KINDS, max_bytes=MB).kind == PNG
    assert inspect_upload(io.BytesIO(content), allowed=IMAGE_KINDS, max_bytes=MB).width == 40


def test_hand_built_png_decodes() -> None:
    # The decompression-bomb tests rely on this builder producing real PNGs.
    inspected = inspect_upload(upload("small.png", one_colour_png(300, 200)), allowed=IMAGE_KINDS, max_bytes=MB)
    assert (inspected.width, inspected.height) == (300, 200)


# --- The type comes from the content -------------------------------------------------------


def test_pdf_named_png_is_recognised_as_pdf() -> None:
    content = make_pdf()

    accepted = inspect_upload(upload("scan.png", content, "image/png"), allowed=DOCUMENT_KINDS, max_bytes=MB)
    assert accepted.kind == PDF

    message = rejected(upload("scan.png", content, "image/png"), allowed=IMAGE_KINDS)
    assert message == "This must be an image (PNG, JPEG or WebP); the file is a PDF."


def test_image_where_only_pdf_is_allowed() -> None:
    message = rejected(upload("deed.pdf", image_bytes("PNG"), "application/pdf"), allowed=frozenset({PDF}))
    assert message == "This must be a PDF; the file is a PNG image."


@pytest.mark.parametrize(
    "content",
    [
        SVG_WITH_SCRIPT,
        b"\xef\xbb\xbf \r\n\t" + SVG_WITH_SCRIPT,
        b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
        b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
        + SVG_WITH_SCRIPT.upper(),
        b"  <!-- logo -->\n" + SVG_WITH_SCRIPT,
        SVG_WITH_SCRIPT.decode().encode("utf-16"),
    ],
    ids=["plain", "bom-and-whitespace", "xml-prolog-doctype-uppercase", "comment-first", "utf-16"],
)
def test_svg_is_refused_because_of_scripts(content: bytes) -> None:
    message = rejected(upload("logo.png", content, "image/png"))
    assert message == (
        "SVG images are not accepted because they can contain scripts; upload a PNG, JPEG or WebP instead."
    )


@pytest.mark.parametrize(
    "content",
    [
        b"<!DOCTYPE html>\n<html><body><h1>Deed</h1></body></html>",
        b"<html><head><title>x</title></head></html>",
        b"\n\n<script>alert(1)</script>",
        b"<HEAD><TITLE>x</TITLE></HEAD>",
        b"<!doctype html><body><svg><circle r='1'/></svg></body>",
        # A polyglot: a page that a browser renders, with a PDF header further down.
        b"<html><body><script>alert(1)</script>\n" + make_pdf(),
    ],
    ids=["doctype", "html", "script", "head-uppercase", "page-with-inline-svg", "html-pdf-polyglot"],
)
def test_html_is_refused(content: bytes) -> None:
    assert rejected(upload("deed.pdf", content, "application/pdf")) == "HTML files are not accepted."


# --- SVG, where a caller allows it (logos, rendered to PNG by brands.svg) -------------------------


@pytest.mark.parametrize(
    "content",
    [
        SVG_WITH_SCRIPT,
        b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- Generator: an editor -->\n' + SVG_WITH_SCRIPT,
        SVG_WITH_SCRIPT.decode().encode("utf-16"),
    ],
    ids=["plain", "prolog-and-comment", "utf-16"],
)
def test_svg_is_recognised_by_content_where_it_is_allowed(content: bytes) -> None:
    inspected = inspect_upload(upload("logo.png", content, "image/png"), allowed=LOGO_KINDS, max_bytes=MB)
    assert inspected.kind is SVG
    assert inspected.sha256 == hashlib.sha256(content).hexdigest()
    assert inspected.size == len(content)
    assert (inspected.width, inspected.height) == (None, None)  # its markup is the renderer's to check


def test_only_the_caller_that_names_svg_gets_it() -> None:
    for allowed in (IMAGE_KINDS, DOCUMENT_KINDS):
        assert "SVG images are not accepted" in rejected(upload("logo.svg", SVG_WITH_SCRIPT), allowed=allowed)
    assert SVG not in IMAGE_KINDS | DOCUMENT_KINDS


def test_svg_has_its_own_size_limit() -> None:
    content = SVG_WITH_SCRIPT[:-6] + b"<!--" + b"x" * SVG_MAX_BYTES + b"--></svg>"
    message = rejected(upload("logo.svg", content), allowed=LOGO_KINDS, max_bytes=20 * MB)
    assert message == "The SVG is too large (over 2 MB); the limit is 2 MB."


def test_svg_size_limit_holds_without_a_declared_size() -> None:
    content = SVG_WITH_SCRIPT[:-6] + b"<!--" + b"x" * (3 * MB) + b"--></svg>"
    message = rejected(io.BytesIO(content), allowed=LOGO_KINDS, max_bytes=20 * MB)
    assert message == "The SVG is too large (3 MB); the limit is 2 MB."


def test_html_stays_refused_where_svg_is_allowed() -> None:
    page = b"<!doctype html><body><svg><circle r='1'/></svg></body>"
    assert rejected(upload("logo.svg", page), allowed=LOGO_KINDS) == "HTML files are not accepted."


def test_logo_messages_name_svg_among_the_accepted_kinds() -> None:
    assert rejected(upload("logo.gif", image_bytes("GIF")), allowed=LOGO_KINDS) == (
        "GIF images are not accepted; upload a PNG, JPEG, WebP or SVG instead."
    )
    assert rejected(upload("logo.pdf", make_pdf()), allowed=LOGO_KINDS) == (
        "This must be an image (PNG, JPEG, WebP or SVG); the file is a PDF."
    )


def test_gif_is_refused() -> None:
    message = rejected(upload("logo.gif", image_bytes("GIF")), allowed=IMAGE_KINDS)
    assert message == "GIF images are not accepted; upload a PNG, JPEG or WebP instead."


def test_zip_and_office_documents_are_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    message = rejected(upload("deed.docx", buffer.getvalue()))
    assert message.startswith("ZIP archives and Office documents are not accepted")


@pytest.mark.parametrize("signature", [b"MZ\x90\x00\x03\x00\x00\x00", b"\x7fELF\x02\x01\x01\x00"])
def test_executables_are_refused(signature: bytes) -> None:
    message = rejected(upload("deed.pdf", signature + bytes(200)))
    assert message == "Programs and executable files are not accepted."


def test_unknown_content_lists_the_allowed_types_in_order() -> None:
    text = upload("deed.pdf", b"just some plain text, not a document\n")
    assert rejected(text) == "Unsupported file type: accepted types are PDF, PNG, JPEG and WebP."
    text.seek(0)
    assert rejected(text, allowed=IMAGE_KINDS) == "Unsupported file type: accepted types are PNG, JPEG and WebP."


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (PNG_SIGNATURE + b"\x00" * 8, PNG),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 8, JPEG),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", WEBP),
        (b"%PDF-1.7\n", PDF),
        (b"\x00" * 1000 + b"%PDF-1.7\n", PDF),
        (b"\x00" * 1020 + b"%PDF-1.7\n", None),  # the header must start within the first 1024 bytes
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),
        (b"GIF89a", None),
        (b"", None),
    ],
)
def test_sniff(head: bytes, kind: uploads.FileKind | None) -> None:
    assert sniff(head) == kind


# --- Damaged, dangerous and oversized files ------------------------------------------------


def test_truncated_jpeg_is_refused() -> None:
    content = image_bytes("JPEG", (128, 96), noisy=True)
    message = rejected(upload("photo.jpg", content[: len(content) // 2]), allowed=IMAGE_KINDS)
    assert message == "The image is damaged or truncated and cannot be read."


def test_truncated_png_is_refused() -> None:
    content = image_bytes("PNG", (128, 96), noisy=True)
    message = rejected(upload("photo.png", content[: len(content) // 2]), allowed=IMAGE_KINDS)
    assert message == "The image is damaged or truncated and cannot be read."


def test_jpeg_whose_first_bytes_say_png_is_refused() -> None:
    content = PNG_SIGNATURE + image_bytes("JPEG", noisy=True)[len(PNG_SIGNATURE) :]
    message = rejected(upload("photo.png", content), allowed=IMAGE_KINDS)
    assert message == "The image is damaged or truncated and cannot be read."


def test_truncated_pdf_is_refused() -> None:
    content = make_pdf(padding=10_000)
    assert rejected(upload("deed.pdf", content[: len(content) // 2])) == "The PDF is damaged or truncated."


JAVASCRIPT_ACTION = b"<< /Type /Action /S /JavaScript /JS (app.alert('hi');) >>"
LAUNCH_ACTION = b"<< /Type /Action /S /Launch /F (cmd.exe) >>"
ESCAPED_JAVASCRIPT_ACTION = b"<< /Type /Action /S /Java#53cript /JS (app.alert('hi');) >>"
PDF_ACTIVE_CONTENT = "PDFs with embedded scripts or launch actions are not accepted."


@pytest.mark.parametrize(
    "action", [JAVASCRIPT_ACTION, LAUNCH_ACTION, ESCAPED_JAVASCRIPT_ACTION], ids=["javascript", "launch", "escaped"]
)
def test_pdf_with_active_content_is_refused(action: bytes) -> None:
    assert rejected(upload("deed.pdf", make_pdf(extra_objects=(action,)))) == PDF_ACTIVE_CONTENT


def test_lookalike_name_is_not_active_content() -> None:
    # PDF names are case-sensitive: /javascript is not the /JavaScript action type.
    content = make_pdf(extra_objects=(b"<< /Type /Annot /Subtype /Text /Contents (see /javascript docs) >>",))
    assert inspect_upload(upload("deed.pdf", content), allowed=DOCUMENT_KINDS, max_bytes=MB).kind == PDF


@pytest.mark.parametrize("action", [JAVASCRIPT_ACTION, ESCAPED_JAVASCRIPT_ACTION], ids=["plain", "escaped"])
@pytest.mark.parametrize("bytes_before_boundary", range(1, 12))
def test_pdf_script_token_split_across_chunks_is_found(action: bytes, bytes_before_boundary: int) -> None:
    token = re.search(rb"/Java\S+", action).group()
    unpadded = make_pdf(extra_objects=(action,))
    target = uploads._CHUNK_SIZE - min(bytes_before_boundary, len(token) - 1)
    content = make_pdf(extra_objects=(action,), padding=target - unpadded.index(token))
    assert content.index(token) == target  # the token starts before the first chunk ends and finishes after it

    assert rejected(upload("deed.pdf", content)) == PDF_ACTIVE_CONTENT
    assert rejected(io.BytesIO(content)) == PDF_ACTIVE_CONTENT


def test_oversized_file_is_refused() -> None:
    message = rejected(upload("deed.pdf", make_pdf(padding=500)), max_bytes=100)
    assert re.fullmatch(r"The file is too large \(\d+ bytes\); the limit is 100 bytes\.", message)


def test_oversized_file_message_uses_readable_sizes() -> None:
    message = rejected(upload("deed.pdf", bytes(int(23.4 * MB))), max_bytes=20 * MB)
    assert message == "The file is too large (23.4 MB); the limit is 20 MB."


def test_file_just_over_the_limit_does_not_read_as_fitting() -> None:
    message = rejected(upload("deed.pdf", bytes(20 * MB + 1)), max_bytes=20 * MB)
    assert message == "The file is too large (over 20 MB); the limit is 20 MB."


def test_oversized_stream_without_a_size_is_refused_while_reading() -> None:
    class Unsized(io.RawIOBase):
        """A readable, seekable stream that cannot tell its length up front."""

        def __init__(self, content: bytes) -> None:
            self._data = io.BytesIO(content)

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            return self._data.read(size)

        def seek(self, offset: int, whence: int = 0) -> int:
            if whence == io.SEEK_END:
                raise OSError("not supported")
            return self._data.seek(offset, whence)

    assert rejected(Unsized(make_pdf(padding=300_000)), max_bytes=100_000).startswith("The file is too large")


def test_empty_file_is_refused() -> None:
    assert rejected(upload("deed.pdf", b"")) == "The file is empty."


def test_decompression_bomb_is_refused_without_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = one_colour_png(20_000, 20_000)  # 400 megapixels in about 50 KB
    assert len(bomb) < 100_000

    def decode(self: ImageFile.ImageFile) -> None:
        raise AssertionError("the bomb was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", decode)
    message = rejected(upload("bomb.png", bomb), allowed=IMAGE_KINDS)
    assert message == "The image is too large (400 megapixels); the limit is 50 megapixels."


@pytest.mark.parametrize("pillow_warning", ["ignore", "error"])
def test_image_over_pillow_warning_size_is_refused(pillow_warning: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # 100 megapixels: above Pillow's warning threshold, below its hard error; with warnings turned
    # into errors (python -W error) Pillow raises the warning, which must give the same refusal.
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: pytest.fail("decoded"))
    with warnings.catch_warnings():
        warnings.simplefilter(pillow_warning, Image.DecompressionBombWarning)
        message = rejected(upload("big.png", one_colour_png(10_000, 10_000)), allowed=IMAGE_KINDS)
    assert message == "The image is too large (100 megapixels); the limit is 50 megapixels."


def test_pixel_limit_is_configurable() -> None:
    message = rejected(upload("logo.png", image_bytes("PNG", (200, 100))), allowed=IMAGE_KINDS, max_pixels=10_000)
    assert message == "The image is too large (0.02 megapixels); the limit is 0.01 megapixels."


# --- Contract ------------------------------------------------------------------------------


@pytest.mark.parametrize("content", [image_bytes("PNG"), b"<svg/>", b""], ids=["accepted", "refused", "empty"])
def test_file_is_left_at_position_zero(content: bytes) -> None:
    file = upload("x.png", content)
    file.read(3)
    with contextlib.suppress(UploadRejected):
        inspect_upload(file, allowed=IMAGE_KINDS, max_bytes=MB)
    assert file.tell() == 0


def test_upload_rejected_is_a_validation_error() -> None:
    error = UploadRejected("The file is empty.")
    assert isinstance(error, ValidationError)
    assert error.code == "upload_rejected"
    assert error.messages == ["The file is empty."]


def test_stored_name_never_comes_from_the_user() -> None:
    first, second = stored_name("ip-documents", PDF), stored_name("ip-documents", PDF)
    assert re.fullmatch(r"ip-documents/[0-9a-f]{32}\.pdf", first)
    assert first != second
    assert stored_name("listing-images", JPEG).endswith(".jpg")


@pytest.mark.parametrize(
    ("name", "kind", "expected"),
    [
        ("../../etc/passwd.pdf", PDF, "passwd.pdf"),
        ("C:\\Users\\me\\Scans\\deed.PDF", PDF, "deed.PDF"),
        ("my résumé (final)!.pdf", PDF, "my_résumé_final.pdf"),
        ("invoice\u202egnp.pdf", PDF, "invoicegnp.pdf"),  # right-to-left override hides the real extension
        ('<script>alert("x")</script>.png', PNG, "script.png"),  # "/" splits paths: only "script>.png" is left
        ("photo.jpeg", JPEG, "photo.jpeg"),
        ("photo.png", JPEG, "photo.jpg"),  # the extension follows the content
        ("report.v2", PDF, "report.v2.pdf"),
        (".htaccess", PDF, "htaccess.pdf"),
        ("..", PDF, "upload.pdf"),
        ("", PNG, "upload.png"),
        ("../ ?*", WEBP, "upload.webp"),
        ("Aurora logo.svg", SVG, "Aurora_logo.svg"),
        ("logo.png", SVG, "logo.svg"),
        (".pdf", PDF, "upload.pdf"),
    ],
)
def test_safe_original_name(name: str, kind: uploads.FileKind, expected: str) -> None:
    assert safe_original_name(name, kind) == expected


def test_safe_original_name_truncates_long_names_keeping_the_extension() -> None:
    name = safe_original_name("a" * 300 + ".pdf", PDF)
    assert len(name) == 150
    assert name == "a" * 146 + ".pdf"
