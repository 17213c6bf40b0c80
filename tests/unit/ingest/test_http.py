"""pipeline.ingest.http against a real HTTP server on 127.0.0.1 that plays a script of responses."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipeline.ingest.http import FetchError, check_url, fetch_bytes, fetch_page, read_feed
from pipeline.records import FeedEntry
from pipeline.topics import FetchSpec


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    content_length: bool = True
    drip: float = 0.0  # seconds between 10-byte pieces of the body
    head_drip: float = 0.0  # seconds between single bytes of the status line and headers


@dataclass
class Script:
    """Replies per path, played in order; the last one repeats."""

    base_url: str = ""
    replies: dict[str, list[Reply]] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)

    def on(self, path: str, *replies: Reply) -> str:
        self.replies[path] = list(replies)
        return self.base_url + path

    def next_reply(self, path: str) -> Reply | None:
        count = self.hits.get(path, 0)
        self.hits[path] = count + 1
        replies = self.replies.get(path)
        if not replies:
            return None
        return replies[min(count, len(replies) - 1)]


@pytest.fixture
def server() -> Iterator[Script]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            reply = script.next_reply(self.path) or Reply(404, b"missing")
            if reply.delay:
                time.sleep(reply.delay)
            if reply.head_drip:
                self._trickle_head(reply)
                return
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client may have given up
                self.send_response(reply.status)
                for name, value in reply.headers:
                    self.send_header(name, value)
                if reply.content_length:
                    self.send_header("Content-Length", str(len(reply.body)))
                else:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                if not reply.drip:
                    self.wfile.write(reply.body)
                for start in range(0, len(reply.body) if reply.drip else 0, 10):
                    self.wfile.write(reply.body[start : start + 10])
                    self.wfile.flush()
                    time.sleep(reply.drip)

        def _trickle_head(self, reply: Reply) -> None:
            """The status line and headers one byte at a time (at most 40 s of them), then the body."""
            head = f"HTTP/1.1 {reply.status} OK\r\nContent-Length: {len(reply.body)}\r\n"
            head += "".join(f"{name}: {value}\r\n" for name, value in reply.headers)
            head += "X-Padding: " + "p" * 60 + "\r\n\r\n"
            self.close_connection = True
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                for byte in head.encode("ascii")[: int(40 / reply.head_drip)]:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(reply.head_drip)
                self.wfile.write(reply.body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    script.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield script
    finally:
        httpd.shutdown()
        httpd.server_close()


def spec(**overrides: object) -> FetchSpec:
    values: dict[str, object] = {"timeout_seconds": 2.0, "retries": 3, "backoff_seconds": 0.5, "max_bytes": 10_000}
    values.update(overrides)
    return FetchSpec.model_validate(values)


# --- check_url -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "allow_private", "refused_because"),
    [
        ("file:///etc/passwd", False, "only http and https"),
        ("file:///etc/passwd", True, "only http and https"),
        ("ftp://ftp.example.com/file.txt", True, "only http and https"),
        ("javascript:alert(1)", True, "only http and https"),
        ("data:text/html,<b>x</b>", True, "only http and https"),
        ("/articles/relative.html", True, "only http and https"),
        ("http:///no-host", True, "no host"),
        ("http://127.0.0.1/", False, "non-public address 127.0.0.1"),
        ("http://localhost:8080/", False, "non-public address"),
        ("http://10.20.30.40/admin", False, "non-public address 10.20.30.40"),
        ("http://192.168.1.1/", False, "non-public address"),
        ("http://169.254.169.254/latest/meta-data/", False, "non-public address"),
        ("http://0.0.0.0/", False, "non-public address"),
        ("http://[::1]:8000/", False, "non-public address ::1"),
        ("http://[fd00::1]/", False, "non-public address"),
        ("http://[::ffff:127.0.0.1]/", False, "non-public address"),
        ("http://240.0.0.1/", False, "non-public address"),
        ("http://host.invalid/", False, "cannot resolve host"),
    ],
)
def test_check_url_refuses(url: str, allow_private: bool, refused_because: str) -> None:
    with pytest.raises(FetchError, match=refused_because) as info:
        check_url(url, allow_private_hosts=allow_private)
    assert info.value.url == url


@pytest.mark.parametrize(
    ("url", "allow_private"),
    [
        ("http://127.0.0.1/", True),
        ("http://10.20.30.40/admin", True),
        ("http://[::1]:8000/", True),
        ("HTTPS://127.0.0.1/upper-case-scheme", True),
        ("https://93.184.215.14/news", False),
        ("http://[2606:4700:4700::1111]/", False),
    ],
)
def test_check_url_accepts(url: str, allow_private: bool) -> None:
    check_url(url, allow_private_hosts=allow_private)


# --- fetch_bytes: retries, limits, redirects ------------------------------------------


def test_retries_503_with_exponential_backoff_then_succeeds(server: Script) -> None:
    url = server.on("/flaky", Reply(503), Reply(503), Reply(200, b"finally"))
    sleeps: list[float] = []
    final_url, status, body = fetch_bytes(url, spec(), allow_private_hosts=True, sleep=sleeps.append)
    assert (final_url, status, body) == (url, 200, b"finally")
    assert sleeps == [0.5, 1.0]
    assert server.hits["/flaky"] == 3


def test_gives_up_after_the_configured_retries_as_transient(server: Script) -> None:
    url = server.on("/down", Reply(502))
    sleeps: list[float] = []
    with pytest.raises(FetchError, match="HTTP 502 after 3 attempt") as info:
        fetch_bytes(url, spec(retries=2), allow_private_hosts=True, sleep=sleeps.append)
    assert info.value.transient
    assert sleeps == [0.5, 1.0]
    assert server.hits["/down"] == 3


@pytest.mark.parametrize(("retry_after", "expected_sleep"), [("7", 7.0), ("86400", 60.0), ("soon", 0.5)])
def test_429_waits_as_retry_after_asks_within_a_cap(server: Script, retry_after: str, expected_sleep: float) -> None:
    url = server.on("/busy", Reply(429, headers=(("Retry-After", retry_after),)), Reply(200, b"ok"))
    sleeps: list[float] = []
    assert fetch_bytes(url, spec(), allow_private_hosts=True, sleep=sleeps.append)[2] == b"ok"
    assert sleeps == [expected_sleep]


@pytest.mark.parametrize("status", [400, 403, 404, 410])
def test_client_errors_are_not_retried(server: Script, status: int) -> None:
    url = server.on("/gone", Reply(status))
    sleeps: list[float] = []
    with pytest.raises(FetchError, match=f"HTTP {status}") as info:
        fetch_bytes(url, spec(), allow_private_hosts=True, sleep=sleeps.append)
    assert not info.value.transient
    assert sleeps == []
    assert server.hits["/gone"] == 1


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
def test_oversized_body_is_refused(server: Script, declared: bool) -> None:
    url = server.on("/huge", Reply(200, b"x" * 50_000, content_length=declared))
    with pytest.raises(FetchError, match="exceeds the limit of 10000 bytes") as info:
        fetch_bytes(url, spec(), allow_private_hosts=True, sleep=lambda s: None)
    assert not info.value.transient


def test_body_at_the_limit_is_accepted(server: Script) -> None:
    url = server.on("/exact", Reply(200, b"y" * 10_000))
    assert len(fetch_bytes(url, spec(), allow_private_hosts=True)[2]) == 10_000


def test_slow_server_times_out(server: Script) -> None:
    url = server.on("/slow", Reply(200, b"late", delay=1.5))
    sleeps: list[float] = []
    started = time.monotonic()
    with pytest.raises(FetchError, match="timed out") as info:
        fetch_bytes(url, spec(timeout_seconds=0.3, retries=1), allow_private_hosts=True, sleep=sleeps.append)
    assert time.monotonic() - started < 1.4
    assert info.value.transient
    assert sleeps == [0.5]


def test_a_body_dripping_in_past_the_deadline_times_out(server: Script) -> None:
    """Each piece arrives within the read timeout; the whole body does not arrive within the time allowed."""
    url = server.on("/drip", Reply(200, b"z" * 200, drip=0.1))
    started = time.monotonic()
    with pytest.raises(FetchError, match="timed out") as info:
        fetch_bytes(url, spec(timeout_seconds=0.5, retries=0), allow_private_hosts=True)
    assert time.monotonic() - started < 1.5
    assert info.value.transient


def test_headers_trickled_a_byte_at_a_time_time_out_at_the_deadline(server: Script) -> None:
    """Every byte arrives well within the socket timeout; the headers do not arrive within the time allowed."""
    url = server.on("/trickle", Reply(200, b"late", head_drip=0.5))
    started = time.monotonic()
    with pytest.raises(FetchError, match="timed out after 2 s") as info:
        fetch_bytes(url, spec(timeout_seconds=2.0, retries=0), allow_private_hosts=True)
    assert time.monotonic() - started < 3.0
    assert info.value.transient


def test_each_hop_and_each_retry_has_its_own_deadline(server: Script) -> None:
    """A redirect to the same host is a second request (a new connection): it is bounded too."""
    server.on("/trickle", Reply(200, b"late", head_drip=0.2))
    url = server.on("/old", Reply(301, headers=(("Location", "/trickle"),)))
    sleeps: list[float] = []
    started = time.monotonic()
    with pytest.raises(FetchError, match="timed out") as info:
        fetch_bytes(url, spec(timeout_seconds=1.0, retries=1), allow_private_hosts=True, sleep=sleeps.append)
    assert time.monotonic() - started < 3.5  # two attempts at the trickling hop, 1 s each
    assert info.value.transient and sleeps == [0.5]
    assert server.hits["/trickle"] == 2


def test_a_body_cut_at_the_deadline_is_not_taken_for_the_whole_body(server: Script) -> None:
    """Without Content-Length the end of the connection ends the body: the cut must not pass for it."""
    url = server.on("/drip-close", Reply(200, b"z" * 200, drip=0.1, content_length=False))
    with pytest.raises(FetchError, match="timed out") as info:
        fetch_bytes(url, spec(timeout_seconds=0.5, retries=0), allow_private_hosts=True)
    assert info.value.transient


def test_connection_refused_is_retried_then_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sleeps: list[float] = []
    with pytest.raises(FetchError, match="connection failed") as info:
        fetch_bytes(f"http://127.0.0.1:{port}/", spec(retries=2), allow_private_hosts=True, sleep=sleeps.append)
    assert info.value.transient
    assert sleeps == [0.5, 1.0]


def test_redirects_are_followed(server: Script) -> None:
    target = server.on("/new", Reply(200, b"moved here"))
    url = server.on("/old", Reply(301, headers=(("Location", "/new"),)))
    assert fetch_bytes(url, spec(), allow_private_hosts=True) == (target, 200, b"moved here")


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1:6379/_INFO"])
def test_every_redirect_hop_is_checked(server: Script, location: str) -> None:
    url = server.on("/bounce", Reply(302, headers=(("Location", location),)))
    with pytest.raises(FetchError, match="only http and https") as info:
        fetch_bytes(url, spec(), allow_private_hosts=True)
    assert info.value.url == location


def test_redirect_to_a_private_host_is_refused_when_not_allowed() -> None:
    """The first hop is public; the hop it redirects to is checked and refused before any request."""
    import httpx

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "93.184.215.14", f"request sent to {request.url}"
        return httpx.Response(302, headers={"Location": "http://127.0.0.1:9/internal"})

    with (
        httpx.Client(transport=httpx.MockTransport(handler)) as client,
        pytest.raises(FetchError, match="non-public address 127.0.0.1"),
    ):
        fetch_bytes("http://93.184.215.14/story", spec(), allow_private_hosts=False, client=client)


def test_redirect_loop_is_cut(server: Script) -> None:
    url = server.on("/loop", Reply(302, headers=(("Location", "/loop"),)))
    with pytest.raises(FetchError, match="more than 5 redirects"):
        fetch_bytes(url, spec(), allow_private_hosts=True)
    assert server.hits["/loop"] == 6


def test_private_host_refused_before_any_request(server: Script) -> None:
    url = server.on("/secret", Reply(200, b"internal"))
    with pytest.raises(FetchError, match="private hosts not allowed"):
        fetch_bytes(url, spec(), allow_private_hosts=False)
    assert "/secret" not in server.hits


# --- read_feed -------------------------------------------------------------------------

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>T</title>
<item><title>One</title><link>https://news.example/one</link><guid>g1</guid>
<pubDate>Tue, 05 Nov 2024 11:30:00 +0200</pubDate></item>
<item><title>Relative</title><link>/articles/two.html</link></item>
<item><title>Script</title><link>javascript:alert(1)</link></item>
<item><title>No link</title></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
<entry><title>Atom one</title><link href="http://news.example/a1"/><id>urn:a1</id>
<updated>2025-06-18T11:20:00Z</updated></entry></feed>"""


def test_read_feed_keeps_http_entries_with_utc_dates(server: Script) -> None:
    url = server.on("/rss.xml", Reply(200, RSS, headers=(("Content-Type", "application/rss+xml"),)))
    read = read_feed(url, spec(), allow_private_hosts=True)
    entries = read.entries
    assert [(e.title, e.url) for e in entries] == [
        ("One", "https://news.example/one"),
        ("Relative", server.base_url + "/articles/two.html"),
    ]
    assert read.items == 4
    assert [(r.url, r.reason) for r in read.rejected] == [
        ("javascript:alert(1)", "not an http(s) link (javascript)"),
        (f"{url}#item:No link", "feed item has no link"),
    ]
    first = entries[0]
    assert first.feed_url == url and first.guid == "g1"
    assert first.published_at == datetime(2024, 11, 5, 9, 30, tzinfo=UTC)
    assert entries[1].published_at is None


def test_read_feed_uses_updated_when_published_is_absent(server: Script) -> None:
    url = server.on("/atom.xml", Reply(200, ATOM))
    [entry] = read_feed(url, spec(), allow_private_hosts=True).entries
    assert (entry.url, entry.guid, entry.published_at) == (
        "http://news.example/a1",
        "urn:a1",
        datetime(2025, 6, 18, 11, 20, tzinfo=UTC),
    )


@pytest.mark.parametrize("body", [b"<html><body>Not a feed at all", b"\x00\x01garbage", b""])
def test_unreadable_feed_is_an_error(server: Script, body: bytes) -> None:
    url = server.on("/bad.xml", Reply(200, body))
    with pytest.raises(FetchError, match="not a readable feed"):
        read_feed(url, spec(), allow_private_hosts=True)


def test_feed_fetch_errors_propagate(server: Script) -> None:
    url = server.on("/missing.xml", Reply(404))
    with pytest.raises(FetchError, match="HTTP 404"):
        read_feed(url, spec(), allow_private_hosts=True)


# --- fetch_page ------------------------------------------------------------------------

NOW = datetime(2025, 12, 1, 8, 0, tzinfo=UTC)


def test_links_of_a_feed_with_a_secret_in_its_url_keep_the_reference_never_the_value(server: Script) -> None:
    """Relative links are resolved against the feed's address as configured; a value a link carries is
    written back as its reference; a ``${...}`` a link writes itself is escaped, never a reference."""
    items = [
        ("Relative", "story.html"),
        ("Absolute", "{base}/private/k3y-9/abs.html?again=k3y-9"),
        ("Names a variable", "{base}/x/${AWS_SECRET}.html"),
    ]
    rss = "".join(
        f"<item><title>{t}</title><link>{link.replace('{base}', server.base_url)}</link></item>" for t, link in items
    )
    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{rss}</channel></rss>'.encode()
    url = server.on("/private/k3y-9/feed.xml", Reply(200, body, headers=(("Content-Type", "application/rss+xml"),)))
    template = f"{server.base_url}/private/${{FEED_KEY}}"
    read = read_feed(url, spec(), allow_private_hosts=True, label=f"{template}/feed.xml", secrets={"FEED_KEY": "k3y-9"})
    assert [e.url for e in read.entries] == [
        f"{template}/story.html",
        f"{template}/abs.html?again=${{FEED_KEY}}",
        f"{server.base_url}/x/$%7BAWS_SECRET}}.html",
    ]
    assert {e.feed_url for e in read.entries} == {f"{template}/feed.xml"}


def _entry(url: str) -> FeedEntry:
    return FeedEntry(feed_url="http://feed.example/rss", url=url, title="t")


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("text/html; charset=utf-8", "<p>café – Kursk</p>".encode(), "<p>café – Kursk</p>"),
        ("text/html; charset=ISO-8859-1", "<p>café</p>".encode("latin-1"), "<p>café</p>"),
        (
            "text/html; charset=ISO-8859-1",
            b"<p>Korea\x92s \x93troops\x94</p>",
            "<p>Korea\u2019s \u201ctroops\u201d</p>",
        ),
        ("text/html", b'<meta charset="latin1"><p>Korea\x92s</p>', "Korea\u2019s"),
        ("text/html; charset=us-ascii", b"<p>Korea\x92s</p>", "Korea\u2019s"),
        ("text/html; charset=rot13", b"<p>plain</p>", "<p>plain</p>"),
        ("text/html", '<meta charset="windows-1251"><p>Курск</p>'.encode("cp1251"), "Курск"),
        ("text/html", b"<p>broken \xff byte</p>", "<p>broken \ufffd byte</p>"),
        ("text/html; charset=no-such-codec", b"<p>plain</p>", "<p>plain</p>"),
        ("application/xhtml+xml", b"<p>xhtml</p>", "<p>xhtml</p>"),
        ("", b"<p>untyped</p>", "<p>untyped</p>"),
    ],
)
def test_fetch_page_decodes_html(server: Script, content_type: str, body: bytes, expected: str) -> None:
    headers = (("Content-Type", content_type),) if content_type else ()
    url = server.on("/page.html", Reply(200, body, headers=headers))
    page = fetch_page(_entry(url), spec(), allow_private_hosts=True, now=lambda: NOW)
    assert expected in page.html
    assert (page.url, page.final_url, page.status, page.fetched_at) == (url, url, 200, NOW)
    assert page.entry == _entry(url)


@pytest.mark.parametrize("content_type", ["application/pdf", "image/png", "application/json", "text/plain"])
def test_fetch_page_refuses_non_html(server: Script, content_type: str) -> None:
    url = server.on("/file", Reply(200, b"%PDF-1.7", headers=(("Content-Type", content_type),)))
    with pytest.raises(FetchError, match="not an HTML page") as info:
        fetch_page(_entry(url), spec(), allow_private_hosts=True, now=lambda: NOW)
    assert not info.value.transient


def test_fetch_page_records_the_final_url_after_redirects(server: Script) -> None:
    target = server.on("/story.html", Reply(200, b"<p>x</p>", headers=(("Content-Type", "text/html"),)))
    url = server.on("/s/123", Reply(308, headers=(("Location", "/story.html"),)))
    page = fetch_page(_entry(url), spec(), allow_private_hosts=True, now=lambda: NOW)
    assert (page.url, page.final_url) == (url, target)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("http://a.example/x", "HTTP 404"), "http://a.example/x: HTTP 404"),
        (("every feed failed",), "every feed failed"),
    ],
)
def test_fetch_error_message(args: tuple[str, ...], message: str) -> None:
    assert str(FetchError(*args)) == message
    assert not FetchError(*args).transient


# --- SSRF: encapsulated addresses and the pinned connection ---------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://[2002:7f00:1::1]/",  # 6to4 around 127.0.0.1
        "http://[2002:5db8:d70e::1]/",  # 6to4 around a public address: the relay is still not a news site
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",  # Teredo
        "http://[64:ff9b::7f00:1]/",  # NAT64 well-known prefix
        "http://[64:ff9b:1::a00:1]/",  # NAT64 local-use prefix
        "http://[::7f00:1]/",  # IPv4-compatible
        "http://[::ffff:0:7f00:1]/",  # SIIT IPv4-translated
        "http://[::ffff:a9fe:a9fe]/",  # IPv4-mapped 169.254.169.254, written in hex
        "http://2130706433/",  # 127.0.0.1 as one decimal number
        "http://0x7f.1/",
    ],
)
def test_check_url_refuses_encapsulated_internal_addresses(url: str) -> None:
    with pytest.raises(FetchError, match="non-public address"):
        check_url(url, allow_private_hosts=False)


def test_check_url_pins_the_mapped_ipv4_address() -> None:
    assert check_url("http://[::ffff:93.184.215.14]/", allow_private_hosts=False) == "93.184.215.14"
    assert check_url("http://[2606:4700:4700::1111]/", allow_private_hosts=False) == "2606:4700:4700::1111"


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_the_request_goes_to_the_checked_address_with_the_name_kept(
    scheme: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The host is resolved once; a second answer (DNS rebinding) is never asked for."""
    import httpx

    answers = [("93.184.215.14", 0), ("127.0.0.1", 0)]
    lookups: list[str] = []

    def resolve(host: str, port: object, *args: object, **kwargs: object) -> list[tuple[object, ...]]:
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", answers[min(len(lookups), 2) - 1])]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"ok")

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        final_url, _, body = fetch_bytes(
            f"{scheme}://rebind.example:8443/story", spec(), allow_private_hosts=False, client=client
        )
    [request] = seen
    assert lookups == ["rebind.example"]
    assert (request.url.host, request.url.port) == ("93.184.215.14", 8443)
    assert request.headers["host"] == "rebind.example:8443"
    assert request.extensions.get("sni_hostname") == ("rebind.example" if scheme == "https" else None)
    assert (final_url, body) == (f"{scheme}://rebind.example:8443/story", b"ok")


def test_a_pinned_request_reaches_the_server_under_its_host_name(server: Script) -> None:
    """Over a real socket: the name does not resolve, so only the pinned address can have been used."""
    from pipeline.ingest.http import _get_once

    server.on("/pinned", Reply(200, b"reached"))
    port = server.base_url.rsplit(":", 1)[1]
    import httpx

    with httpx.Client() as client:
        response = _get_once(client, f"http://unresolvable.invalid:{port}/pinned", "127.0.0.1", spec())
    assert (response.status, response.body) == (200, b"reached")
    assert response.final_url == f"http://unresolvable.invalid:{port}/pinned"


# --- one bad item is one FetchError naming it --------------------------------------


def test_a_gzip_lie_is_a_permanent_fetch_error(server: Script) -> None:
    url = server.on("/lie", Reply(200, b"<p>plain text</p>", headers=(("Content-Encoding", "gzip"),)))
    with pytest.raises(FetchError, match="does not match its Content-Encoding") as info:
        fetch_page(_entry(url), spec(), allow_private_hosts=True, now=lambda: NOW)
    assert info.value.url == url and not info.value.transient


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://[::1", "malformed URL"),
        ("http://127.0.0.1:1/x\x7fy", "malformed URL"),
        ("http://127.0.0.1:99999/", "malformed URL"),
        ("http://127.0.0.1:1/\ud800", "malformed URL"),
    ],
)
def test_malformed_urls_are_permanent_fetch_errors(url: str, reason: str) -> None:
    with pytest.raises(FetchError, match=reason) as info:
        fetch_page(_entry(url), spec(), allow_private_hosts=True, now=lambda: NOW)
    assert info.value.url == url and not info.value.transient


HOSTILE_RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>T</title>
<item><title>Good</title><link>https://news.example/good</link></item>
<item><title>Surrogate &#xD800; and &#55296; and &#x110000;</title><link>https://news.example/sur</link></item>
<item><title>IPv6</title><link>http://[::1</link></item>
<item><title>Control</title><link>https://news.example/a&#x7f;b</link></item>
<item><title>Mail</title><link>mailto:desk@news.example</link></item>
</channel></rss>"""


def test_read_feed_keeps_good_items_and_rejects_bad_ones_with_reasons(server: Script) -> None:
    url = server.on("/hostile.xml", Reply(200, HOSTILE_RSS))
    read = read_feed(url, spec(), allow_private_hosts=True, label="configured-label")
    assert [(e.url, e.feed_url) for e in read.entries] == [
        ("https://news.example/good", "configured-label"),
        ("https://news.example/sur", "configured-label"),
    ]
    assert read.entries[1].title == "Surrogate \ufffd and \ufffd and \ufffd"
    assert (read.items, read.repaired) == (5, 3)
    reasons = {r.url: r.reason for r in read.rejected}
    assert reasons.keys() == {"http://[::1", "https://news.example/a\x7fb", "mailto:desk@news.example"}
    assert "malformed URL" in reasons["http://[::1"] and "non-printable" in reasons["https://news.example/a\x7fb"]
    assert reasons["mailto:desk@news.example"] == "not an http(s) link (mailto)"


@pytest.mark.parametrize(
    ("body", "fixed", "count"),
    [
        (b"a &#xD800; b", b"a &#xFFFD; b", 1),
        (b"&#xdfff;&#57343;&#0;", b"&#xFFFD;&#xFFFD;&#xFFFD;", 3),
        (b"&#x2019; &#8217; &amp;", b"&#x2019; &#8217; &amp;", 0),
    ],
)
def test_repair_char_refs(body: bytes, fixed: bytes, count: int) -> None:
    from pipeline.ingest.http import repair_char_refs

    assert repair_char_refs(body) == (fixed, count)
