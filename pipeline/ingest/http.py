"""Feeds and article pages over HTTP, defensively.

Feed entries name URLs chosen by whoever writes the feed, so every URL (and
every redirect hop) is checked before it is requested: http(s) only, and no
private or loopback addresses unless the topic allows them.  The host is
resolved once and the request goes to the address that was checked (with the
Host header and TLS server name kept), so a second DNS answer cannot swap in
an internal address.  Bodies are capped while streaming so a huge or endless
response cannot exhaust memory, and each request has one wall-clock deadline
(``timeout_seconds``) covering connect, headers and body, so a server that
trickles its answer a byte at a time cannot hold a worker past it.

Whatever goes wrong with one URL (malformed, refused, undecodable, timing
out) surfaces as a ``FetchError`` naming that URL, so callers can record it
against the item and go on with the rest.
"""

from __future__ import annotations

import calendar
import codecs
import email.utils
import hashlib
import ipaddress
import re
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import tenacity

from pipeline.ingest.deadline import Deadline
from pipeline.records import FeedEntry, FetchedPage
from pipeline.topics import FetchSpec

MAX_REDIRECTS = 5
MAX_RETRY_AFTER_SECONDS = 60.0
HTML_TYPES = ("text/html", "application/xhtml+xml")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9A-Fa-f]{1,8})|([0-9]{1,10}));")
# Browsers decode pages labelled ISO-8859-1 or ASCII as windows-1252 (WHATWG Encoding), so do we:
# otherwise curly quotes and dashes sent in the 0x80-0x9F range become C1 control characters.
_BROWSER_ALIASES = {"iso8859-1": "cp1252", "ascii": "cp1252"}
# IPv6 ranges that carry (or translate to) an IPv4 address or tunnel elsewhere: a news site has no
# business there, and the embedded address could be internal.  Refused outright.
_ENCAPSULATING_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "2002::/16",  # 6to4
        "2001::/32",  # Teredo
        "64:ff9b::/96",  # NAT64, well-known prefix
        "64:ff9b:1::/48",  # NAT64, local use
        "::ffff:0:0:0/96",  # SIIT IPv4-translated
        "::/96",  # IPv4-compatible (deprecated)
    )
)

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


def check_url(url: str, *, allow_private_hosts: bool) -> str | None:
    """Refuse URLs that could reach local files or internal services (SSRF).

    Returns the checked address to connect to (``None`` when private hosts are
    allowed and nothing was resolved): every address the host resolves to must
    be public, and the request is then pinned to the first of them.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL) as exc:
        raise FetchError(url, f"malformed URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise FetchError(url, f"only http and https URLs are fetched, not {parts.scheme or 'a relative URL'!r}")
    host = parts.hostname
    if not host:
        raise FetchError(url, "URL has no host")
    if allow_private_hosts:
        return None
    try:
        infos = socket.getaddrinfo(
            host, port or (443 if parts.scheme.lower() == "https" else 80), type=socket.SOCK_STREAM
        )
    except (OSError, UnicodeError) as exc:  # socket.gaierror is an OSError
        raise FetchError(url, f"cannot resolve host {host!r} ({exc})", transient=True) from None
    except ValueError as exc:
        raise FetchError(url, f"malformed host {host!r} ({exc})") from None
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if _is_internal(address):
            raise FetchError(url, f"host {host!r} resolves to non-public address {address} (private hosts not allowed)")
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # connect over IPv4: a mapped address needs a dual-stack socket
        addresses.append(address)
    if not addresses:
        raise FetchError(url, f"host {host!r} has no address", transient=True)
    return str(addresses[0])


def _is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return _is_internal(address.ipv4_mapped)
        if any(address in network for network in _ENCAPSULATING_NETWORKS):
            return True
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
class Response:
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
    response = get(url, spec, allow_private_hosts=allow_private_hosts, client=client, sleep=sleep)
    return response.final_url, response.status, response.body


def get(
    url: str,
    spec: FetchSpec,
    *,
    allow_private_hosts: bool,
    client: httpx.Client | None = None,
    sleep: Sleep = time.sleep,
    headers: Mapping[str, str] | None = None,
    stop_at_redirect: Callable[[str], bool] | None = None,
) -> Response:
    """GET following checked redirects.  ``headers`` are sent on every hop; with them a 304 is an
    answer, not an error.  ``stop_at_redirect(location)`` true returns the redirect itself."""
    own_client = client is None
    # No keep-alive: every request opens its own connection, so its deadline can always end it.
    http = client or httpx.Client(
        headers={"User-Agent": spec.user_agent},
        follow_redirects=False,
        limits=httpx.Limits(max_keepalive_connections=0),
    )
    current = url
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            pinned = check_url(current, allow_private_hosts=allow_private_hosts)
            response = _get_with_retries(http, current, pinned, spec, sleep, headers)
            if response.status in (301, 302, 303, 307, 308):
                location = response.headers.get("location")
                if not location:
                    raise FetchError(current, f"HTTP {response.status} redirect without a Location header")
                if stop_at_redirect is not None and stop_at_redirect(urljoin(current, location)):
                    return response
                current = urljoin(current, location)
                continue
            if response.status == 304 and headers:
                return response
            if not 200 <= response.status < 300:
                raise FetchError(current, f"unexpected HTTP status {response.status}")
            return response
        raise FetchError(url, f"more than {MAX_REDIRECTS} redirects")
    except httpx.DecodingError as exc:
        raise FetchError(current, f"body does not match its Content-Encoding ({exc})") from None
    except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError, UnicodeError) as exc:
        raise FetchError(current, f"malformed URL ({type(exc).__name__}: {exc})") from None
    except httpx.HTTPError as exc:
        raise FetchError(current, f"request failed ({type(exc).__name__}: {exc})") from None
    finally:
        if own_client:
            http.close()


class _MayHeal(Exception):
    """An attempt that failed in a way a later attempt may not: the error to raise if none is left,
    and the server's Retry-After, if it sent one."""

    def __init__(self, error: FetchError, retry_after: str | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


def _get_with_retries(
    http: httpx.Client,
    url: str,
    pinned: str | None,
    spec: FetchSpec,
    sleep: Sleep,
    extra_headers: Mapping[str, str] | None = None,
) -> Response:
    """Retry what may heal by itself (network errors, 429, 5xx) with exponential backoff, or as long as
    the server's Retry-After asks (capped); a 4xx will not heal and fails at once."""
    attempts = spec.retries + 1

    def attempt() -> Response:
        try:
            response = _get_once(http, url, pinned, spec, extra_headers)
        except httpx.TimeoutException as exc:
            reason = f"timed out after {spec.timeout_seconds:g} s ({exc.__class__.__name__})"
            raise _MayHeal(FetchError(url, reason, transient=True)) from None
        except httpx.TransportError as exc:
            reason = f"connection failed ({exc.__class__.__name__}: {exc})"
            raise _MayHeal(FetchError(url, reason, transient=True)) from None
        if response.status == 429 or response.status >= 500:
            error = FetchError(url, f"HTTP {response.status} after {attempts} attempt(s)", transient=True)
            raise _MayHeal(error, response.headers.get("retry-after"))
        if response.status >= 400:
            raise FetchError(url, f"HTTP {response.status}")
        return response

    def wait(state: tenacity.RetryCallState) -> float:
        backoff = spec.backoff_seconds * 2 ** (state.attempt_number - 1)
        failed = state.outcome.exception() if state.outcome is not None else None
        retry_after = failed.retry_after if isinstance(failed, _MayHeal) else None
        return _retry_after(retry_after, default=backoff)

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(attempts),
        wait=wait,
        retry=tenacity.retry_if_exception_type(_MayHeal),
        sleep=sleep,
        reraise=True,
    )
    try:
        return retrying(attempt)
    except _MayHeal as exc:
        raise exc.error from None


def _get_once(
    http: httpx.Client, url: str, pinned: str | None, spec: FetchSpec, extra_headers: Mapping[str, str] | None = None
) -> Response:
    """One GET, ended at ``spec.timeout_seconds`` whatever phase it is in; with ``pinned``, the
    connection goes to that checked address, not to a new lookup.

    httpx's timeouts bound each socket operation, so a server sending a byte
    every half second never trips them: the deadline is enforced by
    ``Deadline``, which shuts the connection's socket when it passes.
    """
    target = httpx.URL(url)
    headers = {**(extra_headers or {}), "User-Agent": spec.user_agent}
    deadline = Deadline(spec.timeout_seconds)
    extensions: dict[str, Any] = {"trace": deadline.trace}
    if pinned is not None:
        headers["Host"] = target.netloc.decode("ascii")
        if target.scheme == "https":
            extensions["sni_hostname"] = target.host  # certificate checked against the name, not the address
        target = target.copy_with(host=pinned)
    try:
        with (
            deadline,
            http.stream(
                "GET",
                target,
                headers=headers,
                timeout=httpx.Timeout(spec.timeout_seconds),
                follow_redirects=False,
                extensions=extensions,
            ) as response,
        ):
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > spec.max_bytes:
                raise FetchError(url, f"body of {declared} bytes exceeds the limit of {spec.max_bytes} bytes")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > spec.max_bytes:
                    raise FetchError(url, f"body exceeds the limit of {spec.max_bytes} bytes")
                chunks.append(chunk)
            if deadline.passed():  # a body cut at the deadline can look complete (no Content-Length)
                raise httpx.ReadTimeout("response still arriving at the deadline")
            return Response(url, response.status_code, response.headers, b"".join(chunks))
    except httpx.TransportError:
        if deadline.passed():  # the watchdog closed the connection: whatever broke, it is a timeout
            raise httpx.ReadTimeout("no complete response by the deadline") from None
        raise


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


@dataclass(frozen=True, slots=True)
class Rejected:
    """A feed item whose link will not be fetched, and why (kept so nothing is dropped silently)."""

    url: str
    reason: str


@dataclass(frozen=True, slots=True)
class Validators:
    """What a feed's last answer lets the next poll send back: its ETag and Last-Modified (for a
    304), and the hash of the body last parsed (for servers that ignore both)."""

    etag: str | None = None
    last_modified: str | None = None
    body_sha256: str | None = None

    def headers(self) -> dict[str, str]:
        sent = {}
        if self.etag:
            sent["If-None-Match"] = self.etag
        if self.last_modified:
            sent["If-Modified-Since"] = self.last_modified
        return sent


@dataclass(frozen=True, slots=True)
class FeedRead:
    """What one feed gave: entries to fetch, links refused, items seen, character references repaired.

    ``unchanged`` says why nothing was parsed ("304" or "same body"); ``validators`` are what to
    send next time (kept from the last poll when the server did not repeat them).
    """

    entries: list[FeedEntry]
    rejected: list[Rejected]
    items: int
    repaired: int = 0
    unchanged: str | None = None
    validators: Validators = Validators()


def read_feed(
    feed_url: str,
    spec: FetchSpec,
    *,
    allow_private_hosts: bool,
    label: str | None = None,
    validators: Validators | None = None,
    secrets: Mapping[str, str] | None = None,
) -> FeedRead:
    """Entries of an RSS/Atom feed that point at http(s) pages; every other item is rejected with a reason.

    ``label`` is how entries name their feed (the configured URL, secrets unexpanded).  With the
    ``validators`` of the last poll the request is conditional: a 304, or a body whose hash has not
    changed, is read as "unchanged" and not parsed.  ``secrets`` are the values of the ``${VAR}``
    references in the feed's URL: links are resolved against the feed's address with the
    references written back, and come out in that form, never with a value.
    """
    import feedparser

    from pipeline.envrefs import escape, redact

    before = validators or Validators()
    response = get(feed_url, spec, allow_private_hosts=allow_private_hosts, headers=before.headers())
    final_url, body = response.final_url, response.body
    digest = hashlib.sha256(body).hexdigest() if response.status != 304 else before.body_sha256
    after = Validators(
        etag=response.headers.get("etag") or before.etag,
        last_modified=response.headers.get("last-modified") or before.last_modified,
        body_sha256=digest,
    )
    if response.status == 304:
        return FeedRead([], [], 0, unchanged="304 not modified", validators=after)
    if before.body_sha256 is not None and digest == before.body_sha256:
        return FeedRead([], [], 0, unchanged="same body as the last poll", validators=after)
    body, repaired = repair_char_refs(body)
    try:
        parsed = feedparser.parse(body)
    except Exception as exc:  # feedparser has many failure modes on hostile input; all are about this feed
        raise FetchError(feed_url, f"not a readable feed ({type(exc).__name__}: {exc})") from None
    if not parsed.entries and (parsed.bozo or not parsed.get("version")):
        reason = parsed.get("bozo_exception") or "no feed format recognised"
        raise FetchError(feed_url, f"not a readable feed ({reason!s})")
    base = redact(escape(final_url), secrets or {})  # the feed's address as configured (after any redirect)
    entries, rejected = [], []
    for item in parsed.entries:
        title = item.get("title") or None
        link = item.get("link")
        if not link:
            rejected.append(Rejected(printable(f"{label or feed_url}#item:{title or ''}"), "feed item has no link"))
            continue
        try:
            url = redact(entry_url(base, str(link)), secrets or {})
        except FetchError as exc:
            rejected.append(Rejected(printable(exc.url), exc.reason))
            continue
        entries.append(
            FeedEntry(
                feed_url=label or feed_url,
                url=url,
                title=title,
                published_at=_feed_time(item.get("published_parsed") or item.get("updated_parsed")),
                guid=item.get("id") or None,
                outlet=_source_title(item),
            )
        )
    return FeedRead(entries, rejected, len(parsed.entries), repaired, validators=after)


def _source_title(item: Any) -> str | None:
    """The outlet an aggregator names for an item (RSS <source>), if any."""
    source = item.get("source")
    title = source.get("title") if hasattr(source, "get") else None
    return printable(str(title)).strip() or None if title else None


def entry_url(base: str, link: str) -> str:
    """The absolute http(s) URL of a feed link; FetchError (naming the link) when it cannot be fetched.
    A ``${`` in the link is escaped: only the configuration writes references."""
    from pipeline.envrefs import escape

    link = escape(link.strip())
    try:
        url = urljoin(base, link)
        scheme = urlsplit(url).scheme.lower()
    except ValueError as exc:
        raise FetchError(link, f"malformed URL ({exc})") from None
    if scheme not in ("http", "https"):
        raise FetchError(url, f"not an http(s) link ({scheme or 'no scheme'})")
    try:
        httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise FetchError(url, f"malformed URL ({exc})") from None
    return url


def repair_char_refs(body: bytes) -> tuple[bytes, int]:
    """Replace character references no text can hold (lone surrogates, beyond U+10FFFF) with U+FFFD.

    feedparser turns ``&#xD800;`` into a character and then fails encoding it,
    losing the whole feed for one broken title.
    """
    count = 0

    def fix(m: re.Match[bytes]) -> bytes:
        nonlocal count
        code = int(m.group(1), 16) if m.group(1) else int(m.group(2))
        if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF or code == 0:
            count += 1
            return b"&#xFFFD;"
        return m.group(0)

    return _CHAR_REF.sub(fix, body), count


def printable(text: str) -> str:
    """Text that can be stored and logged: lone surrogates escaped instead of failing every encoder."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _feed_time(parsed: Any) -> datetime | None:
    """feedparser normalises dates to UTC struct_time."""
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, ValueError, TypeError):
        return None


@dataclass(frozen=True, slots=True)
class RawPage:
    """A page's bytes as the server sent them, with what is needed to decode them again later."""

    final_url: str
    status: int
    content_type: str
    body: bytes


def fetch_raw_page(entry: FeedEntry, spec: FetchSpec, *, allow_private_hosts: bool) -> RawPage:
    """The bytes of one feed entry's page, refused unless HTML (FetchError for anything wrong with it)."""
    response = get(entry.url, spec, allow_private_hosts=allow_private_hosts)
    content_type = response.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type and media_type not in HTML_TYPES:
        raise FetchError(entry.url, f"not an HTML page (Content-Type {media_type!r})")
    return RawPage(response.final_url, response.status, content_type, response.body)


def decode_page(entry: FeedEntry, raw: RawPage, fetched_at: datetime) -> FetchedPage:
    """Text of a page's bytes: the same decoding whether the bytes were just fetched or come from the archive."""
    try:
        html = raw.body.decode(_charset(raw.content_type, raw.body), errors="replace")
    except LookupError:  # a codec that is not a text encoding (rot13, zlib, ...)
        html = raw.body.decode("utf-8", errors="replace")
    return FetchedPage(
        url=entry.url, final_url=raw.final_url, status=raw.status, html=html, fetched_at=fetched_at, entry=entry
    )


def fetch_page(
    entry: FeedEntry, spec: FetchSpec, *, allow_private_hosts: bool, now: Callable[[], datetime]
) -> FetchedPage:
    """The HTML of one feed entry's page, decoded to text (FetchError for anything wrong with this page)."""
    raw = fetch_raw_page(entry, spec, allow_private_hosts=allow_private_hosts)
    return decode_page(entry, raw, now())


def _charset(content_type: str, body: bytes) -> str:
    """The header's charset, else a <meta charset> near the top, else UTF-8 (latin-1 read as browsers read it)."""
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
            name = codecs.lookup(candidate).name
        except LookupError:
            continue
        return _BROWSER_ALIASES.get(name, name)
    return "utf-8"


__all__ = [
    "FeedRead",
    "FetchError",
    "RawPage",
    "Response",
    "Rejected",
    "Validators",
    "check_url",
    "decode_page",
    "entry_url",
    "fetch_bytes",
    "fetch_page",
    "fetch_raw_page",
    "get",
    "printable",
    "read_feed",
    "repair_char_refs",
]
