"""A scriptable loopback HTTP server that records what it is asked, for the feed and politeness tests.

Every request is logged with its path, query, headers, arrival time and how
many requests were in flight at that moment, so tests assert on the server's
side: what the client sent, how often, how many at once.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from pipeline.app.sample_site import serve_on_loopback

FEED_FIXTURES = Path(__file__).resolve().parents[1] / "data" / "feeds"


@dataclass(frozen=True)
class Request:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    at: float  # time.monotonic() on arrival
    in_flight: int  # requests being served at arrival, this one included


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0  # seconds to wait before answering


Route = Callable[[Request], Reply]


@dataclass
class RecordingServer:
    base: str = ""
    requests: list[Request] = field(default_factory=list)
    route: Route = lambda request: Reply(404, b"not found", "text/plain")

    def hits(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def max_in_flight(self, prefix: str = "/") -> int:
        return max((r.in_flight for r in self.requests if r.path.startswith(prefix)), default=0)


@contextmanager
def recording_server() -> Iterator[RecordingServer]:
    server_state = RecordingServer()
    lock = threading.Lock()
    in_flight = 0

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            nonlocal in_flight
            parts = urlsplit(self.path)
            with lock:
                in_flight += 1
                request = Request(
                    parts.path,
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    time.monotonic(),
                    in_flight,
                )
                server_state.requests.append(request)
            try:
                reply = server_state.route(request)
                if reply.delay:
                    time.sleep(reply.delay)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    for name, value in reply.headers:
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
            finally:
                with lock:
                    in_flight -= 1

        def log_message(self, *args: object) -> None:
            pass

    with serve_on_loopback(Handler) as base:
        server_state.base = base
        yield server_state


def fixture_feed(name: str, **bases: str) -> bytes:
    """A recorded feed with its ``{placeholders}`` pointed at the loopback servers of the test."""
    text = (FEED_FIXTURES / name).read_text(encoding="utf-8")
    for key, value in bases.items():
        text = text.replace("{" + key + "}", value)
    return text.encode("utf-8")


def rss(items: list[tuple[str, str]]) -> bytes:
    body = "".join(f"<item><title>{t}</title><link>{link}</link></item>" for t, link in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{body}</channel></rss>'.encode()
