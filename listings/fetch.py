"""Download listing images from marketplace-supplied URLs without letting those URLs reach internal
services (SSRF): every hop is resolved, vetted and connected to by address, and the body is checked by content."""

from __future__ import annotations

import contextlib
import errno
import http.client
import io
import ipaddress
import re
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from core.uploads import IMAGE_KINDS, InspectedFile, UploadRejected, inspect_upload

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., Sequence[tuple[Any, ...]]]


class FetchRefused(Exception):
    """The URL or what it serves is not acceptable; retrying will not help. The message is a sentence."""


class FetchFailed(Exception):
    """A transient failure (network, timeout, 5xx, 429); the caller may retry."""


@dataclass(frozen=True)
class FetchPolicy:
    max_bytes: int = 20 * 1024 * 1024
    timeout: float = 10.0  # per connection attempt and per read, seconds
    total_timeout: float = 30.0  # the whole fetch, redirects included
    max_redirects: int = 3
    max_pixels: int = 50_000_000
    # CIDRs allowed although private or loopback: for tests and for a deliberately internal image host.
    allowed_networks: tuple[str, ...] = ()
    user_agent: str = "IPPC-image-fetcher/1.0"


@dataclass(frozen=True)
class FetchedImage:
    data: bytes
    inspected: InspectedFile
    final_url: str
    resolved_ip: str


_DEFAULT_POLICY = FetchPolicy()
_SCHEMES = {"http": http.client.HTTP_PORT, "https": http.client.HTTPS_PORT}
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK_SIZE = 64 * 1024
_ACCEPT = "image/png, image/jpeg, image/webp, */*;q=0.1"

# Ranges that are never a public web server. ipaddress's own flags cover most of them, but what they
# cover changes between Python versions (3.11 calls 224.0.0.1 and fec0::1 "global"), so these are explicit.
_BLOCKED_NETWORKS = tuple(
    ipaddress.ip_network(cidr)
    for cidr in (
        "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches the local host on Linux
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT, often the provider's internal services
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, including cloud metadata at 169.254.169.254
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",  # documentation
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and 255.255.255.255
        "::/128",
        "::1/128",
        "::/96",  # IPv4-compatible (deprecated)
        "100::/64",  # discard-only
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
# NAT64 translates these to the IPv4 address in their last 32 bits; judge them by that address.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# After IDNA encoding a host name is letters, digits, hyphens and dots (underscores occur in the wild).
_HOST_NAME = re.compile(r"[a-z0-9_]([a-z0-9_.-]*[a-z0-9_.])?")
# Shapes inet_aton accepts as an IPv4 address: 2130706433, 0177.0.0.1, 0x7f.1 ...
_LEGACY_IPV4 = re.compile(r"[0-9a-fx.]+")


def check_url(
    url: str, policy: FetchPolicy, *, resolver: Resolver = socket.getaddrinfo
) -> tuple[urllib.parse.SplitResult, str]:
    """Parse and vet `url`; return it parsed with the one address to connect to.

    Raises FetchRefused when the URL is not an http(s) URL to a public host (or to `policy.allowed_networks`),
    and FetchFailed only when DNS is temporarily unavailable.
    """
    url = url.strip()
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in url):
        # urlsplit silently drops tabs and newlines; a URL that needs them is not one we want to guess at.
        raise FetchRefused("The image URL contains control characters.")
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError as exc:  # e.g. an unclosed "[" around an IPv6 address
        raise FetchRefused("The image URL is not a valid URL.") from exc
    if parts.scheme not in _SCHEMES:
        if not parts.scheme:
            raise FetchRefused("The image URL must start with http:// or https://.")
        raise FetchRefused(f"Only http and https image URLs are accepted, not {parts.scheme} URLs.")
    if "@" in parts.netloc:
        # Credentials would be sent to whoever the URL names, and "trusted.example@evil.example" misleads readers.
        raise FetchRefused("Image URLs with a user name or password are not accepted.")
    if not parts.hostname:
        raise FetchRefused("The image URL has no host name.")
    try:
        port = parts.port or _SCHEMES[parts.scheme]
    except ValueError as exc:
        raise FetchRefused("The port in the image URL is not valid.") from exc

    literal = _literal_ip(parts.hostname)
    if literal is not None:
        # No DNS query for a literal: nothing to rebind, and the address checked is the address used.
        if not _is_allowed(literal, policy):
            raise FetchRefused(
                f"The address {_show(literal)} is private or reserved; only public addresses are allowed."
            )
        return parts, str(literal)

    host = _ascii_host(parts.hostname)
    addresses = _resolve(host, port, resolver)
    # Every address must pass, not just the first: a client may pick any of them, and a name that mixes
    # public and private addresses is either misconfigured or an attack.
    for address in addresses:
        if not _is_allowed(address, policy):
            raise FetchRefused(
                f"The host {host} resolves to {_show(address)}, a private or reserved address; "
                "only public addresses are allowed."
            )
    return parts, str(addresses[0])


def fetch_image(
    url: str, policy: FetchPolicy = _DEFAULT_POLICY, *, resolver: Resolver = socket.getaddrinfo
) -> FetchedImage:
    """Download the image at `url`, following redirects, and check it by content.

    Raises FetchRefused for a permanent refusal (bad URL or address, 4xx, not an acceptable image, too large)
    and FetchFailed for what may succeed later (network errors, timeouts, 5xx, 429).
    """
    deadline = _Deadline(policy.total_timeout)
    current = url
    for hop in range(policy.max_redirects + 1):
        try:
            parts, address = check_url(current, policy, resolver=resolver)
        except FetchRefused as exc:
            if hop == 0:
                raise
            raise FetchRefused(f"The image URL redirected to {current}. {exc}") from exc
        status, location, data = _get(parts, address, policy, deadline)
        if status in _REDIRECT_STATUSES:
            if not location:
                raise FetchRefused(f"The server answered with a redirect (HTTP {status}) but no location.")
            current = urllib.parse.urljoin(current, location)
            continue
        return FetchedImage(data=data, inspected=_inspect(data, policy), final_url=current, resolved_ip=address)
    raise FetchRefused(f"The image URL redirected more than {policy.max_redirects} times.")


def post_json(
    url: str,
    body: bytes,
    *,
    headers: dict[str, str],
    policy: FetchPolicy = _DEFAULT_POLICY,
    resolver: Resolver = socket.getaddrinfo,
) -> tuple[int, bytes]:
    """POST `body` (JSON) to `url` under the same address rules as image downloads; no redirects followed.

    Returns the status and the first 2 KiB of the answer. Raises FetchRefused for a URL that may not be
    reached, FetchFailed for network errors and timeouts (the status is the caller's to judge).
    """
    deadline = _Deadline(policy.total_timeout)
    try:
        parts, address = check_url(url, policy, resolver=resolver)
    except FetchRefused as exc:
        raise FetchRefused(str(exc).replace("image URL", "URL")) from exc
    host = _host_name(parts)
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(
        host,
        parts.port or _SCHEMES[parts.scheme],
        address=address,
        deadline=deadline,
        timeout=min(policy.timeout, deadline.remaining()),
    )
    response: http.client.HTTPResponse | None = None
    try:
        connection.request(
            "POST",
            _request_target(parts),
            body=body,
            headers={
                "User-Agent": policy.user_agent,
                "Content-Type": "application/json",
                "Connection": "close",
                **headers,
            },
        )
        response = connection.getresponse()
        return response.status, response.read(2048)
    except ssl.SSLCertVerificationError as exc:
        reason = (exc.verify_message or exc.reason or "unknown reason").rstrip(".")
        raise FetchRefused(f"The TLS certificate of {host} could not be verified ({reason}).") from exc
    except (OSError, http.client.HTTPException) as exc:
        if deadline.expired:
            raise FetchFailed(f"The POST to {host} took longer than {deadline.seconds:g} seconds.") from exc
        raise FetchFailed(f"The POST to {host} failed ({_describe(exc)}).") from exc
    finally:
        connection.stop_watchdog()
        if response is not None:
            response.close()
        connection.close()


# --- Vetting addresses -----------------------------------------------------------------


def _literal_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _LEGACY_IPV4.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _host_name(parts: urllib.parse.SplitResult) -> str:
    """The host as it goes into the Host header and SNI: an IP literal as written, a name IDNA-encoded."""
    hostname = parts.hostname or ""
    return hostname if _literal_ip(hostname) is not None else _ascii_host(hostname)


def _ascii_host(hostname: str) -> str:
    try:
        host = hostname.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise FetchRefused("The host name in the image URL is not valid.") from exc
    if not _HOST_NAME.fullmatch(host):
        raise FetchRefused("The host name in the image URL is not valid.")
    return host


def _resolve(host: str, port: int, resolver: Resolver) -> list[IPAddress]:
    try:
        infos = resolver(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        if exc.errno == socket.EAI_AGAIN:
            raise FetchFailed(f"The host {host} could not be looked up just now; try again later.") from exc
        raise FetchRefused(f"The host {host} could not be found.") from exc
    except UnicodeError as exc:
        raise FetchRefused("The host name in the image URL is not valid.") from exc
    addresses = [
        ipaddress.ip_address(sockaddr[0])
        for family, _type, _proto, _canonname, sockaddr in infos
        if family in (socket.AF_INET, socket.AF_INET6)
    ]
    if not addresses:
        raise FetchRefused(f"The host {host} could not be found.")
    return addresses


def _is_allowed(address: IPAddress, policy: FetchPolicy) -> bool:
    networks = [ipaddress.ip_network(cidr, strict=False) for cidr in policy.allowed_networks]
    candidates = [address]
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        candidates.append(embedded)
    if any(candidate in network for candidate in candidates for network in networks):
        return True
    return _is_public(address)


def _show(address: IPAddress) -> str:
    # Python 3.11 prints ::ffff:127.0.0.1 as ::ffff:7f00:1, which hides what it is.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return f"::ffff:{address.ipv4_mapped}"
    return str(address)


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (::ffff:a.b.c.d, NAT64), whose packets reach it."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _is_public(address: IPAddress) -> bool:
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return _is_public(embedded)
    sixtofour = address.sixtofour if isinstance(address, ipaddress.IPv6Address) else None
    if sixtofour is not None and not _is_public(sixtofour):  # 6to4 is relayed to the IPv4 address inside it
        return False
    if any(address in network for network in _BLOCKED_NETWORKS):
        return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
    )


# --- The request -----------------------------------------------------------------------


class _Deadline:
    """The end of the whole fetch. A watchdog shuts the connection down when it passes, so a server that
    trickles bytes (each read within `timeout`) cannot hold a worker past `total_timeout`."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._expires = time.monotonic() + seconds

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self._expires

    def remaining(self) -> float:
        left = self._expires - time.monotonic()
        if left <= 0:
            raise self.failure()
        return left

    def failure(self) -> FetchFailed:
        return FetchFailed(f"The image download took longer than the {self.seconds:g}-second limit.")

    def watch(self, sock: socket.socket) -> _Watchdog:
        return _Watchdog(sock, self.remaining())


class _Watchdog:
    def __init__(self, sock: socket.socket, seconds: float) -> None:
        # A duplicate of the descriptor: shutting it down ends the connection for every descriptor, even once
        # TLS has taken over the original, and it stays valid until we close it ourselves.
        self._sock = sock.dup()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        self._timer.cancel()
        self._timer.join()  # so the duplicate is never closed while _fire uses it
        self._sock.close()


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the vetted address, never to whatever the host name resolves to by now (DNS rebinding);
    the Host header still carries the name."""

    def __init__(self, host: str, port: int, *, address: str, deadline: _Deadline, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address
        self._deadline = deadline
        self._watchdog: _Watchdog | None = None

    def connect(self) -> None:
        self.sock = self._connect_tcp()

    def _connect_tcp(self) -> socket.socket:
        sock = socket.create_connection(
            (self._address, self.port), timeout=min(self.timeout, self._deadline.remaining())
        )
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as exc:
            if exc.errno != errno.ENOPROTOOPT:
                sock.close()
                raise
        try:
            self._watchdog = self._deadline.watch(sock)
        except FetchFailed:  # the deadline passed while connecting
            sock.close()
            raise
        return sock

    def stop_watchdog(self) -> None:
        # Not part of close(): http.client closes the connection as soon as the headers of a
        # "Connection: close" response are in, handing the socket to the response, whose body still has to come.
        if self._watchdog is not None:
            self._watchdog.stop()
            self._watchdog = None


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = http.client.HTTPS_PORT

    def connect(self) -> None:
        # SNI and certificate checks use the host name from the URL, not the address we connect to.
        self.sock = _tls_context().wrap_socket(self._connect_tcp(), server_hostname=self.host)


def _tls_context() -> ssl.SSLContext:
    # Verifies the chain against the system's trust store and the certificate against the host name.
    return ssl.create_default_context()


def _get(
    parts: urllib.parse.SplitResult, address: str, policy: FetchPolicy, deadline: _Deadline
) -> tuple[int, str | None, bytes]:
    """One GET: the status, the Location of a redirect, and for a 200 the body."""
    host = _host_name(parts)
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(
        host,
        parts.port or _SCHEMES[parts.scheme],
        address=address,
        deadline=deadline,
        timeout=min(policy.timeout, deadline.remaining()),
    )
    response: http.client.HTTPResponse | None = None
    try:
        connection.request(
            "GET",
            _request_target(parts),
            headers={"User-Agent": policy.user_agent, "Accept": _ACCEPT, "Connection": "close"},
        )
        response = connection.getresponse()
        status = response.status
        if status in _REDIRECT_STATUSES:
            return status, response.getheader("Location"), b""
        _check_status(response)
        data = _read_body(response, policy)
    except (FetchRefused, FetchFailed):
        raise
    except ssl.SSLCertVerificationError as exc:
        reason = (exc.verify_message or exc.reason or "unknown reason").rstrip(".")
        raise FetchRefused(f"The TLS certificate of {host} could not be verified ({reason}).") from exc
    except (OSError, http.client.HTTPException) as exc:  # ssl.SSLError and timeouts are OSErrors
        if deadline.expired:
            raise deadline.failure() from exc
        raise FetchFailed(f"The image download from {host} failed ({_describe(exc)}); try again later.") from exc
    finally:
        connection.stop_watchdog()
        if response is not None:
            response.close()
        connection.close()
    # The watchdog ends a slow body with what looks like a normal end of stream; do not mistake it for one.
    if deadline.expired:
        raise deadline.failure()
    return status, None, data


def _request_target(parts: urllib.parse.SplitResult) -> str:
    # Percent-encode what may not appear on a request line (spaces, non-ASCII); keep existing escapes.
    path = urllib.parse.quote(parts.path or "/", safe="/%:@!$&'()*+,;=~")
    if parts.query:
        return f"{path}?{urllib.parse.quote(parts.query, safe='/?%:@!$&()*+,;=~')}"
    return path


def _check_status(response: http.client.HTTPResponse) -> None:
    if response.status == 200:
        return
    answer = f"HTTP {response.status}" + (f" ({response.reason})" if response.reason else "")
    if response.status == 429 or response.status >= 500:
        raise FetchFailed(f"The image server answered {answer}; try again later.")
    raise FetchRefused(f"The image server answered {answer} instead of the image.")


def _read_body(response: http.client.HTTPResponse, policy: FetchPolicy) -> bytes:
    declared = _content_length(response)
    if declared is not None and declared > policy.max_bytes:
        raise FetchRefused(f"The image is too large ({_size(declared)}); the limit is {_size(policy.max_bytes)}.")
    chunks: list[bytes] = []
    received = 0
    # read1 makes one system call at most, so the deadline is looked at between small steps; reading one
    # byte past the limit tells "exactly the limit" from "more".
    while chunk := response.read1(min(_CHUNK_SIZE, policy.max_bytes + 1 - received)):
        received += len(chunk)
        if received > policy.max_bytes:
            raise FetchRefused(f"The image is larger than the limit of {_size(policy.max_bytes)}.")
        chunks.append(chunk)
    if declared is not None and received < declared:
        raise http.client.IncompleteRead(b"".join(chunks), declared - received)
    return b"".join(chunks)


def _content_length(response: http.client.HTTPResponse) -> int | None:
    value = response.getheader("Content-Length")
    if value is None or response.chunked:
        return None
    try:
        length = int(value)
    except ValueError:
        return None  # http.client reads such a body to the end of the stream; the byte limit still holds
    return length if length >= 0 else None


def _inspect(data: bytes, policy: FetchPolicy) -> InspectedFile:
    try:
        return inspect_upload(
            io.BytesIO(data), allowed=IMAGE_KINDS, max_bytes=policy.max_bytes, max_pixels=policy.max_pixels
        )
    except UploadRejected as exc:
        raise FetchRefused(" ".join(exc.messages)) from exc


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if isinstance(exc, http.client.IncompleteRead):
        return "the connection closed before the whole image arrived"
    return str(exc) or type(exc).__name__


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + " MB"
