"""The SSRF-safe image fetcher against real HTTP(S) servers on 127.0.0.1; DNS answers come from fake resolvers,
so no test touches the real network."""

from __future__ import annotations

import datetime
import io
import socket
import ssl
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from core.uploads import JPEG, PNG
from listings import fetch
from listings.fetch import FetchedImage, FetchFailed, FetchPolicy, FetchRefused, check_url, fetch_image

MAX_BYTES = 256 * 1024
HOST = "images.example.test"


def policy(**overrides: Any) -> FetchPolicy:
    """Small limits and timeouts keep the suite fast; the allow-list lets it reach the local test server."""
    options: dict[str, Any] = {
        "max_bytes": MAX_BYTES,
        "timeout": 1.0,
        "total_timeout": 3.0,
        "allowed_networks": ("127.0.0.0/8",),
    }
    return FetchPolicy(**(options | overrides))


STRICT = FetchPolicy()  # production defaults: nothing private is allowed


# --- Fake DNS ----------------------------------------------------------------------------


@dataclass
class FakeResolver:
    """Answers getaddrinfo from a script: the n-th call gets the n-th answer (the last one repeats)."""

    answers: list[tuple[str, ...]]
    calls: list[str] = field(default_factory=list)

    def __call__(self, host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        self.calls.append(host)
        addresses = self.answers[min(len(self.calls), len(self.answers)) - 1]
        return [_addrinfo(address, port) for address in addresses]


def _addrinfo(address: str, port: int) -> tuple[Any, ...]:
    if ":" in address:
        return (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port, 0, 0))
    return (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))


def resolving_to(*addresses: str) -> FakeResolver:
    return FakeResolver([addresses])


def no_dns(host: str, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
    pytest.fail(f"{host!r} was looked up in DNS; a literal address must not be")


def failing_dns(code: int) -> Callable[..., list[tuple[Any, ...]]]:
    def resolver(host: str, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        raise socket.gaierror(code, "lookup failed")

    return resolver


# --- Test content ----------------------------------------------------------------------------


def image_bytes(fmt: str, size: tuple[int, int]) -> bytes:
    # Noise, so that a truncated JPEG really misses pixel data rather than trailing padding.
    image = Image.effect_noise(size, 80).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def png_bomb(width: int, height: int) -> bytes:
    """A valid one-bit PNG of one colour: a few dozen KB on the wire, gigabytes once decoded."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed pixels
    compressor = zlib.compressobj(9)
    rows_per_step = 1000
    data = b"".join(compressor.compress(row * rows_per_step) for _ in range(height // rows_per_step))
    data += compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


PNG_DATA = image_bytes("PNG", (64, 48))
JPEG_DATA = image_bytes("JPEG", (120, 90))
BOMB_DATA = png_bomb(20_000, 20_000)
SVG_DATA = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
HTML_DATA = b"<!DOCTYPE html><html><body><h1>Image not found</h1></body></html>"


# --- The test server ---------------------------------------------------------------------


@dataclass
class SeenRequest:
    path: str
    host: str | None
    user_agent: str | None


class ImageHandler(BaseHTTPRequestHandler):
    server: TestServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def do_GET(self) -> None:
        self.server.seen.append(SeenRequest(self.path, self.headers.get("Host"), self.headers.get("User-Agent")))
        path = self.path.split("?", 1)[0]
        try:
            if path.startswith("/chain/"):
                self._chain(int(path.removeprefix("/chain/")))
            else:
                getattr(self, "route_" + path.strip("/").replace("-", "_").replace(".", "_"), self.route_404)()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up on purpose: that is what several tests check

    def _send(self, body: bytes, content_type: str = "image/png", status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str, status: int = 302) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _chain(self, remaining: int) -> None:
        self._redirect(f"/chain/{remaining - 1}" if remaining > 0 else "/image.png", 301)

    def route_image_png(self) -> None:
        self._send(PNG_DATA)

    def route_image_jpg(self) -> None:
        self._send(JPEG_DATA, "image/jpeg")

    def route_redirect_to_png(self) -> None:
        self._redirect("/image.png")

    def route_redirect_to_private(self) -> None:
        self._redirect("http://10.0.0.1/x", 307)

    def route_redirect_to_metadata(self) -> None:
        self._redirect("http://169.254.169.254/latest/meta-data/")

    def route_redirect_to_name(self) -> None:
        self._redirect(f"http://{HOST}:{self.server.server_port}/image.png")

    def route_redirect_without_location(self) -> None:
        self._send(b"", status=302)

    def route_404(self) -> None:
        self._send(b"not found", "text/plain", 404)

    def route_gone(self) -> None:
        self._send(b"gone", "text/plain", 410)

    def route_forbidden(self) -> None:
        self._send(b"forbidden", "text/plain", 403)

    def route_error(self) -> None:
        self._send(b"oops", "text/plain", 500)

    def route_unavailable(self) -> None:
        self._send(b"later", "text/plain", 503)

    def route_busy(self) -> None:
        self._send(b"slow down", "text/plain", 429)

    def route_html_as_png(self) -> None:
        self._send(HTML_DATA, "image/png")

    def route_script_svg(self) -> None:
        self._send(SVG_DATA, "image/png")

    def route_truncated_jpg(self) -> None:
        self._send(JPEG_DATA[: len(JPEG_DATA) // 2], "image/jpeg")

    def route_bomb_png(self) -> None:
        self._send(BOMB_DATA)

    def route_declared_too_large(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(MAX_BYTES * 100))
        self.end_headers()
        self.wfile.write(PNG_DATA)

    def route_endless(self) -> None:
        # HTTP/1.0 without Content-Length: the body runs until the server closes the connection.
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        self.wfile.write(PNG_DATA)
        for _ in range(100):
            self.wfile.write(b"\x00" * 64 * 1024)

    def route_short_body(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(PNG_DATA) + 1000))
        self.end_headers()
        self.wfile.write(PNG_DATA)

    def route_trickle(self) -> None:
        # Each byte arrives well within the per-read timeout; together they take far longer than the total.
        self.send_response(200)
        self.send_header("Content-Length", str(len(PNG_DATA)))
        self.end_headers()
        for byte in PNG_DATA:
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(0.1)

    def route_trickle_headers(self) -> None:
        self.wfile.write(b"HTTP/1.0 200 OK\r\n")
        for _ in range(100):
            self.wfile.write(b"X-Padding: x\r\n")
            self.wfile.flush()
            time.sleep(0.1)

    def route_stall(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(PNG_DATA)))
        self.end_headers()
        self.wfile.flush()
        time.sleep(2)


class TestServer(ThreadingHTTPServer):
    __test__ = False  # not a test class, whatever pytest thinks of the name
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ImageHandler)
        self.seen: list[SeenRequest] = []

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture(scope="module")
def server() -> Iterator[TestServer]:
    httpd = TestServer()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


# --- check_url: schemes, credentials, addresses -------------------------------------------


def test_check_url_accepts_a_public_address_without_connecting() -> None:
    resolver = resolving_to("93.184.216.34")

    parts, address = check_url(f"https://{HOST}/img/a.png?w=800", STRICT, resolver=resolver)

    assert (parts.scheme, parts.hostname, parts.path, parts.query) == ("https", HOST, "/img/a.png", "w=800")
    assert address == "93.184.216.34"
    assert resolver.calls == [HOST]


@pytest.mark.parametrize(
    "addresses",
    [("2606:2800:220:1:248:1893:25c8:1946",), ("64:ff9b::5db8:d822",), ("93.184.216.34", "93.184.216.35")],
    ids=["ipv6", "nat64-of-public", "several-public"],
)
def test_check_url_accepts_other_public_answers(addresses: tuple[str, ...]) -> None:
    _, address = check_url(f"http://{HOST}/a.png", STRICT, resolver=resolving_to(*addresses))

    assert address == addresses[0]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/a.png", "Only http and https image URLs are accepted, not ftp URLs."),
        ("file:///etc/passwd", "Only http and https image URLs are accepted, not file URLs."),
        ("javascript:alert(1)", "Only http and https image URLs are accepted, not javascript URLs."),
        ("gopher://127.0.0.1:6379/_FLUSHALL", "Only http and https image URLs are accepted, not gopher URLs."),
        ("example.com/a.png", "The image URL must start with http:// or https://."),
        ("http:///a.png", "The image URL has no host name."),
        ("http://[::1/a.png", "The image URL is not a valid URL."),
        (f"http://{HOST}:99999/a.png", "The port in the image URL is not valid."),
        (f"http://{HOST}/a\r\nX-Injected: 1", "The image URL contains control characters."),
        (f"http://user:secret@{HOST}/a.png", "Image URLs with a user name or password are not accepted."),
        (f"http://{HOST}@127.0.0.1/a.png", "Image URLs with a user name or password are not accepted."),
        ("http://bad host.example/a.png", "The host name in the image URL is not valid."),
    ],
)
def test_check_url_refuses_what_is_not_a_plain_http_url(url: str, message: str) -> None:
    with pytest.raises(FetchRefused) as excinfo:
        check_url(url, STRICT, resolver=no_dns)

    assert str(excinfo.value) == message


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://127.0.0.1/", "127.0.0.1"),
        ("http://10.1.2.3/", "10.1.2.3"),
        ("http://172.16.0.1/", "172.16.0.1"),
        ("http://192.168.1.1/", "192.168.1.1"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://0.0.0.0/", "0.0.0.0"),  # noqa: S104 - an address under test; nothing binds to it
        ("http://100.64.0.1/", "100.64.0.1"),
        ("http://192.0.2.1/", "192.0.2.1"),
        ("http://224.0.0.1/", "224.0.0.1"),
        ("http://255.255.255.255/", "255.255.255.255"),
        ("http://[::1]/", "::1"),
        ("http://[::]/", "::"),
        ("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1"),
        ("http://[::ffff:a9fe:a9fe]/", "::ffff:169.254.169.254"),
        ("http://[fe80::1]/", "fe80::1"),
        ("http://[fec0::1]/", "fec0::1"),
        ("http://[fd00::1]/", "fd00::1"),
        ("http://[64:ff9b::a00:1]/", "64:ff9b::a00:1"),  # NAT64 of 10.0.0.1
        ("http://[2002:a00:1::1]/", "2002:a00:1::1"),  # 6to4 of 10.0.0.1
        # Spellings of 127.0.0.1 that resolvers and browsers accept.
        ("http://2130706433/", "127.0.0.1"),
        ("http://0177.0.0.1/", "127.0.0.1"),
        ("http://0x7f.1/", "127.0.0.1"),
        ("http://127.1:8080/", "127.0.0.1"),
    ],
)
def test_check_url_refuses_literal_non_public_addresses_without_dns(url: str, address: str) -> None:
    with pytest.raises(FetchRefused) as excinfo:
        check_url(url, STRICT, resolver=no_dns)

    assert str(excinfo.value) == f"The address {address} is private or reserved; only public addresses are allowed."


@pytest.mark.parametrize(
    "addresses",
    [
        ("127.0.0.1",),
        ("10.0.0.5",),
        ("172.31.255.1",),
        ("192.168.0.10",),
        ("169.254.169.254",),
        ("0.0.0.0",),  # noqa: S104 - an address under test; nothing binds to it
        ("100.64.0.1",),
        ("::1",),
        ("::ffff:127.0.0.1",),
        ("fe80::1",),
        ("93.184.216.34", "10.0.0.1"),  # one bad answer among good ones is enough
        ("2606:2800:220:1:248:1893:25c8:1946", "::1"),
    ],
)
def test_check_url_refuses_a_name_with_any_non_public_address(addresses: tuple[str, ...]) -> None:
    bad = next(address for address in addresses if not address.startswith(("93.", "2606:")))

    with pytest.raises(FetchRefused) as excinfo:
        check_url(f"https://{HOST}/a.png", STRICT, resolver=resolving_to(*addresses))

    assert str(excinfo.value) == (
        f"The host {HOST} resolves to {bad}, a private or reserved address; only public addresses are allowed."
    )


def test_allowed_networks_let_a_private_address_through() -> None:
    _, address = check_url(f"http://{HOST}/a.png", policy(), resolver=resolving_to("127.0.0.1"))

    assert address == "127.0.0.1"
    with pytest.raises(FetchRefused, match=r"resolves to 10\.0\.0\.1,"):
        check_url(f"http://{HOST}/a.png", policy(), resolver=resolving_to("10.0.0.1"))


def test_unknown_host_is_refused_and_a_dns_outage_may_be_retried() -> None:
    with pytest.raises(FetchRefused, match=f"^The host {HOST} could not be found.$"):
        check_url(f"http://{HOST}/a.png", STRICT, resolver=failing_dns(socket.EAI_NONAME))
    with pytest.raises(FetchRefused, match="could not be found"):
        check_url(f"http://{HOST}/a.png", STRICT, resolver=FakeResolver([()]))
    with pytest.raises(FetchFailed, match="could not be looked up just now"):
        check_url(f"http://{HOST}/a.png", STRICT, resolver=failing_dns(socket.EAI_AGAIN))


# --- fetch_image against the test server ---------------------------------------------------


@pytest.mark.parametrize(("path", "kind", "data"), [("/image.png", PNG, PNG_DATA), ("/image.jpg", JPEG, JPEG_DATA)])
def test_fetches_an_image(server: TestServer, path: str, kind: Any, data: bytes) -> None:
    image = fetch_image(server.url(path), policy(), resolver=no_dns)

    assert isinstance(image, FetchedImage)
    assert image.data == data
    assert image.inspected.kind is kind
    assert image.inspected.size == len(data)
    assert (image.final_url, image.resolved_ip) == (server.url(path), "127.0.0.1")


def test_the_local_server_is_refused_without_the_allow_list(server: TestServer) -> None:
    with pytest.raises(FetchRefused, match=r"^The address 127\.0\.0\.1 is private or reserved"):
        fetch_image(server.url("/image.png"), STRICT, resolver=no_dns)


def test_follows_a_redirect(server: TestServer) -> None:
    image = fetch_image(server.url("/redirect-to-png"), policy(), resolver=no_dns)

    assert image.data == PNG_DATA
    assert image.final_url == server.url("/image.png")


def test_follows_redirects_up_to_the_limit_and_no_further(server: TestServer) -> None:
    image = fetch_image(server.url("/chain/2"), policy(max_redirects=3), resolver=no_dns)  # three redirects
    assert image.final_url == server.url("/image.png")

    with pytest.raises(FetchRefused, match=r"^The image URL redirected more than 3 times\.$"):
        fetch_image(server.url("/chain/3"), policy(max_redirects=3), resolver=no_dns)
    with pytest.raises(FetchRefused, match="more than 0 times"):
        fetch_image(server.url("/redirect-to-png"), policy(max_redirects=0), resolver=no_dns)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            "/redirect-to-private",
            "The image URL redirected to http://10.0.0.1/x. "
            "The address 10.0.0.1 is private or reserved; only public addresses are allowed.",
        ),
        (
            "/redirect-to-metadata",
            "The image URL redirected to http://169.254.169.254/latest/meta-data/. "
            "The address 169.254.169.254 is private or reserved; only public addresses are allowed.",
        ),
    ],
)
def test_a_redirect_to_a_private_address_is_refused(server: TestServer, path: str, message: str) -> None:
    with pytest.raises(FetchRefused) as excinfo:
        fetch_image(server.url(path), policy(), resolver=no_dns)

    assert str(excinfo.value) == message


def test_each_redirect_is_resolved_and_checked_again(server: TestServer) -> None:
    # The name is fine for the first request, then points inside the network when the redirect leads back to it.
    resolver = FakeResolver([("127.0.0.1",), ("10.0.0.1",)])

    with pytest.raises(FetchRefused) as excinfo:
        fetch_image(f"http://{HOST}:{server.server_port}/redirect-to-name", policy(), resolver=resolver)

    assert str(excinfo.value) == (
        f"The image URL redirected to http://{HOST}:{server.server_port}/image.png. "
        f"The host {HOST} resolves to 10.0.0.1, a private or reserved address; only public addresses are allowed."
    )
    assert resolver.calls == [HOST, HOST]


def test_a_redirect_without_location_is_refused(server: TestServer) -> None:
    with pytest.raises(FetchRefused, match=r"redirect \(HTTP 302\) but no location"):
        fetch_image(server.url("/redirect-without-location"), policy(), resolver=no_dns)


def test_dns_rebinding_is_defeated(server: TestServer) -> None:
    # Vetted once as 127.0.0.1 (allow-listed); a second lookup would answer an address where nothing listens.
    resolver = FakeResolver([("127.0.0.1",), ("127.0.0.2",)])
    before = len(server.seen)

    image = fetch_image(f"http://{HOST}:{server.server_port}/image.png?rebind", policy(), resolver=resolver)

    assert image.data == PNG_DATA
    assert image.resolved_ip == "127.0.0.1"
    assert resolver.calls == [HOST]
    request = server.seen[before]
    assert request.path == "/image.png?rebind"
    assert request.host == f"{HOST}:{server.server_port}"
    assert request.user_agent == "IPPC-image-fetcher/1.0"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/404", "The image server answered HTTP 404 (Not Found) instead of the image."),
        ("/gone", "The image server answered HTTP 410 (Gone) instead of the image."),
        ("/forbidden", "The image server answered HTTP 403 (Forbidden) instead of the image."),
    ],
)
def test_client_errors_are_permanent(server: TestServer, path: str, message: str) -> None:
    with pytest.raises(FetchRefused) as excinfo:
        fetch_image(server.url(path), policy(), resolver=no_dns)

    assert str(excinfo.value) == message


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/error", "The image server answered HTTP 500 (Internal Server Error); try again later."),
        ("/unavailable", "The image server answered HTTP 503 (Service Unavailable); try again later."),
        ("/busy", "The image server answered HTTP 429 (Too Many Requests); try again later."),
    ],
)
def test_server_errors_and_rate_limits_may_be_retried(server: TestServer, path: str, message: str) -> None:
    with pytest.raises(FetchFailed) as excinfo:
        fetch_image(server.url(path), policy(), resolver=no_dns)

    assert str(excinfo.value) == message


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/html-as-png", "HTML files are not accepted."),
        (
            "/script.svg",
            "SVG images are not accepted because they can contain scripts; upload a PNG, JPEG or WebP instead.",
        ),
        ("/truncated.jpg", "The image is damaged or truncated and cannot be read."),
        ("/bomb.png", "The image is too large (400 megapixels); the limit is 50 megapixels."),
    ],
)
def test_content_is_checked_whatever_the_content_type(server: TestServer, path: str, message: str) -> None:
    with pytest.raises(FetchRefused) as excinfo:
        fetch_image(server.url(path), policy(), resolver=no_dns)

    assert str(excinfo.value) == message


def test_a_declared_oversized_body_is_refused_before_reading(server: TestServer) -> None:
    with pytest.raises(FetchRefused) as excinfo:
        fetch_image(server.url("/declared-too-large"), policy(), resolver=no_dns)

    assert str(excinfo.value) == "The image is too large (25 MB); the limit is 256 KB."


def test_an_endless_body_is_cut_off_at_the_limit(server: TestServer) -> None:
    with pytest.raises(FetchRefused) as excinfo:
        fetch_image(server.url("/endless"), policy(), resolver=no_dns)

    assert str(excinfo.value) == "The image is larger than the limit of 256 KB."


def test_a_body_shorter_than_declared_may_be_retried(server: TestServer) -> None:
    with pytest.raises(FetchFailed, match="the connection closed before the whole image arrived"):
        fetch_image(server.url("/short-body"), policy(), resolver=no_dns)


@pytest.mark.parametrize("path", ["/trickle", "/trickle-headers"])
def test_a_slow_server_cannot_exceed_the_total_timeout(server: TestServer, path: str) -> None:
    started = time.monotonic()

    with pytest.raises(FetchFailed) as excinfo:
        fetch_image(server.url(path), policy(timeout=1.0, total_timeout=1.0), resolver=no_dns)

    assert str(excinfo.value) == "The image download took longer than the 1-second limit."
    assert time.monotonic() - started < 2.0


def test_a_stalled_read_times_out(server: TestServer) -> None:
    with pytest.raises(FetchFailed, match=r"failed \(timed out\); try again later"):
        fetch_image(server.url("/stall"), policy(timeout=0.3, total_timeout=5.0), resolver=no_dns)


def test_a_refused_connection_may_be_retried() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket is closed

    with pytest.raises(FetchFailed, match=r"failed \(Connection refused\); try again later"):
        fetch_image(f"http://127.0.0.1:{port}/image.png", policy(), resolver=no_dns)


def test_a_tls_failure_other_than_the_certificate_may_be_retried(server: TestServer) -> None:
    # https to a plain-HTTP port: the handshake fails, which a later attempt might not.
    with pytest.raises(FetchFailed, match=rf"^The image download from {HOST} failed \(.*\); try again later\.$"):
        fetch_image(f"https://{HOST}:{server.server_port}/image.png", policy(), resolver=resolving_to("127.0.0.1"))


# --- HTTPS: connect to the vetted address, verify the certificate against the name --------------


@dataclass
class TlsServer:
    httpd: TestServer
    ca_file: Path
    server_names: list[str | None]

    @property
    def port(self) -> int:
        return self.httpd.server_port


def _make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def build(subject: str, key: Any, issuer: str, issuer_key: Any, *, ca: bool) -> Any:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
        )
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
            )
        else:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = build("IPPC test CA", ca_key, "IPPC test CA", ca_key, ca=True)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf_cert = build(HOST, leaf_key, "IPPC test CA", ca_key, ca=False)

    ca_file, cert_file, key_file = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(leaf_cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return ca_file, cert_file, key_file


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    ca_file, cert_file, key_file = _make_certificates(tmp_path_factory.mktemp("tls"))
    server_names: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    context.sni_callback = lambda _sock, name, _context: server_names.append(name)
    httpd = TestServer()
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield TlsServer(httpd, ca_file, server_names)
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def trust_test_ca(monkeypatch: pytest.MonkeyPatch, tls_server: TlsServer) -> None:
    monkeypatch.setattr(fetch, "_tls_context", lambda: ssl.create_default_context(cafile=str(tls_server.ca_file)))


@pytest.mark.usefixtures("trust_test_ca")
def test_https_connects_to_the_vetted_address_and_verifies_the_name(tls_server: TlsServer) -> None:
    resolver = FakeResolver([("127.0.0.1",), ("127.0.0.2",)])
    tls_server.server_names.clear()

    image = fetch_image(f"https://{HOST}:{tls_server.port}/image.png", policy(), resolver=resolver)

    assert image.data == PNG_DATA
    assert resolver.calls == [HOST]
    assert tls_server.server_names == [HOST]  # SNI carries the name, not the address
    assert tls_server.httpd.seen[-1].host == f"{HOST}:{tls_server.port}"


@pytest.mark.usefixtures("trust_test_ca")
def test_https_refuses_a_certificate_for_another_name(tls_server: TlsServer) -> None:
    with pytest.raises(FetchRefused) as excinfo:
        fetch_image(
            f"https://other.example.test:{tls_server.port}/image.png", policy(), resolver=resolving_to("127.0.0.1")
        )

    assert str(excinfo.value) == (
        "The TLS certificate of other.example.test could not be verified "
        "(Hostname mismatch, certificate is not valid for 'other.example.test')."
    )


def test_https_refuses_a_certificate_from_an_unknown_authority(tls_server: TlsServer) -> None:
    with pytest.raises(FetchRefused) as excinfo:
        fetch_image(f"https://{HOST}:{tls_server.port}/image.png", policy(), resolver=resolving_to("127.0.0.1"))

    assert str(excinfo.value) == (
        f"The TLS certificate of {HOST} could not be verified (unable to get local issuer certificate)."
    )
