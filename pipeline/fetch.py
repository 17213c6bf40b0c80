"""Feeds and article pages over HTTP, defensively.

Feed entries name URLs chosen by whoever writes the feed, so every URL (and
every redirect hop) is checked before it is requested: http(s) only, and no
private or loopback addresses unless the topic allows them.  Bodies are
capped while streaming so a huge or endless response cannot exhaust memory.
"""

from __future__ import annotations

import calendar
import codecs
import email.utils
import ipaddress
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from pipeline.config import FetchSpec
from pipeline.records import FeedEntry, FetchedPage

MAX_REDIRECTS = 5
MAX_RETRY_AFTER_SECONDS = 60.0
HTML_TYPES = ("text/html", "application/xhtml+xml")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)

Sleep = Callable[[float], None]


class FetchError(Exception):
    """A URL that could not be fetched; ``transient`` when a later attempt may succeed.

    ``FetchError(message)`` alone is accepted too, for failures that concern no single URL.
    """

    def __init__(self, url: str, reason: str = "", *, transient: bool = False) -> None:
        super().__init__(f"{url}: {reason}" if reason else url)
        self.url = url
        self.reason = reason
        self.transient = transient


def check_url(url: str, *, allow_private_hosts: bool) -> None:
    """Refuse URLs that could reach local files or internal services (SSRF)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchError(url, f"malformed URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise FetchError(url, f"only http and https URLs are fetched, not {parts.scheme or 'a relative URL'!r}")
    host = parts.hostname
    if not host:
        raise FetchError(url, "URL has no host")
    if allow_private_hosts:
        return
    try:
        infos = socket.getaddrinfo(
            host, port or (443 if parts.scheme.lower() == "https" else 80), type=socket.SOCK_STREAM
        )
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(url, f"cannot resolve host {host!r} ({exc})", transient=True) from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if _is_internal(address):
            raise FetchError(url, f"host {host!r} resolves to non-public address {address} (private hosts not allowed)")


def _is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or not address.is_global
    )


@dataclass(frozen=True)
class _Response:
    final_url: str
    status: int
    headers: httpx.Headers
    body: bytes


def fetch_bytes(
    url: str,
    spec: FetchSpec,
    *,
    allow_private_hosts: bool,
    client: httpx.Client | None = None,
    sleep: Sleep = time.sleep,
) -> tuple[str, int, bytes]:
    """(final URL, status, body) of a successful GET; raises FetchError otherwise."""
    response = _get(url, spec, allow_private_hosts=allow_private_hosts, client=client, sleep=sleep)
    return response.final_url, response.status, response.body


def _get(
    url: str,
    spec: FetchSpec,
    *,
    allow_private_hosts: bool,
    client: httpx.Client | None = None,
    sleep: Sleep = time.sleep,
) -> _Response:
    own_client = client is None
    http = client or httpx.Client(headers={"User-Agent": spec.user_agent}, follow_redirects=False)
    try:
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            check_url(current, allow_private_hosts=allow_private_hosts)
            response = _get_with_retries(http, current, spec, sleep)
            if response.status in (301, 302, 303, 307, 308):
                location = response.headers.get("location")
                if not location:
                    raise FetchError(current, f"HTTP {response.status} redirect without a Location header")
                current = urljoin(current, location)
                continue
            if not 200 <= response.status < 300:
                raise FetchError(current, f"unexpected HTTP status {response.status}")
            return response
        raise FetchError(url, f"more than {MAX_REDIRECTS} redirects")
    finally:
        if own_client:
            http.close()


def _get_with_retries(http: httpx.Client, url: str, spec: FetchSpec, sleep: Sleep) -> _Response:
    """Retry what may heal by itself (network errors, 429, 5xx); a 4xx will not."""
    attempts = spec.retries + 1
    for attempt in range(attempts):
        last = attempt == attempts - 1
        backoff = spec.backoff_seconds * (2**attempt)
        try:
            response = _get_once(http, url, spec)
        except httpx.TimeoutException as exc:
            if last:
                raise FetchError(
                    url, f"timed out after {spec.timeout_seconds:g} s ({exc.__class__.__name__})", transient=True
                ) from None
            sleep(backoff)
            continue
        except httpx.TransportError as exc:
            if last:
                raise FetchError(url, f"connection failed ({exc.__class__.__name__}: {exc})", transient=True) from None
            sleep(backoff)
            continue
        status = response.status
        if status == 429 or status >= 500:
            if last:
                raise FetchError(url, f"HTTP {status} after {attempts} attempt(s)", transient=True)
            sleep(_retry_after(response.headers.get("retry-after"), default=backoff))
            continue
        if status >= 400:
            raise FetchError(url, f"HTTP {status}")
        return response
    raise AssertionError("unreachable: the last attempt returns or raises")


def _get_once(http: httpx.Client, url: str, spec: FetchSpec) -> _Response:
    deadline = time.monotonic() + spec.timeout_seconds
    with http.stream(
        "GET",
        url,
        headers={"User-Agent": spec.user_agent},
        timeout=httpx.Timeout(spec.timeout_seconds),
        follow_redirects=False,
    ) as response:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > spec.max_bytes:
            raise FetchError(url, f"body of {declared} bytes exceeds the limit of {spec.max_bytes} bytes")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > spec.max_bytes:
                raise FetchError(url, f"body exceeds the limit of {spec.max_bytes} bytes")
            if time.monotonic() > deadline:
                raise httpx.ReadTimeout("body still arriving at the deadline")
            chunks.append(chunk)
        return _Response(str(response.url), response.status_code, response.headers, b"".join(chunks))


def _retry_after(value: str | None, *, default: float) -> float:
    """Seconds to wait as the server asked (delta or HTTP date), capped so one server cannot stall a run."""
    if not value:
        return default
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_SECONDS)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, min((when - datetime.now(UTC)).total_seconds(), MAX_RETRY_AFTER_SECONDS))


def read_feed(feed_url: str, spec: FetchSpec, *, allow_private_hosts: bool) -> list[FeedEntry]:
    """Entries of an RSS/Atom feed that point at http(s) pages."""
    import feedparser

    final_url, _status, body = fetch_bytes(feed_url, spec, allow_private_hosts=allow_private_hosts)
    parsed = feedparser.parse(body)
    if not parsed.entries and (parsed.bozo or not parsed.get("version")):
        reason = parsed.get("bozo_exception") or "no feed format recognised"
        raise FetchError(feed_url, f"not a readable feed ({reason!s})")
    entries = []
    for item in parsed.entries:
        link = item.get("link")
        if not link:
            continue
        url = urljoin(final_url, str(link).strip())
        if urlsplit(url).scheme.lower() not in ("http", "https"):
            continue
        entries.append(
            FeedEntry(
                feed_url=feed_url,
                url=url,
                title=item.get("title") or None,
                published_at=_feed_time(item.get("published_parsed") or item.get("updated_parsed")),
                guid=item.get("id") or None,
            )
        )
    return entries


def _feed_time(parsed: Any) -> datetime | None:
    """feedparser normalises dates to UTC struct_time."""
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, ValueError, TypeError):
        return None


def fetch_page(
    entry: FeedEntry, spec: FetchSpec, *, allow_private_hosts: bool, now: Callable[[], datetime]
) -> FetchedPage:
    """The HTML of one feed entry's page, decoded to text."""
    response = _get(entry.url, spec, allow_private_hosts=allow_private_hosts)
    content_type = response.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type and media_type not in HTML_TYPES:
        raise FetchError(entry.url, f"not an HTML page (Content-Type {media_type!r})")
    html = response.body.decode(_charset(content_type, response.body), errors="replace")
    return FetchedPage(
        url=entry.url,
        final_url=response.final_url,
        status=response.status,
        html=html,
        fetched_at=now(),
        entry=entry,
    )


def _charset(content_type: str, body: bytes) -> str:
    """The header's charset, else a <meta charset> near the top, else UTF-8."""
    candidates = []
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            candidates.append(value.strip().strip("\"'"))
    match = _META_CHARSET.search(body[:4096])
    if match:
        candidates.append(match.group(1).decode("ascii", errors="ignore"))
    for candidate in candidates:
        try:
            return codecs.lookup(candidate).name
        except LookupError:
            continue
    return "utf-8"


__all__ = ["FetchError", "check_url", "fetch_bytes", "fetch_page", "read_feed"]
