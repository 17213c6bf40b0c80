"""Real loopback peers for integration tests: a webhook receiver and the CLI as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from pipeline.app.sample_site import respond, serve_on_loopback

REPO_ROOT = Path(__file__).resolve().parents[2]
CLAIMWATCH = Path(sys.executable).with_name("claimwatch")


@dataclass(frozen=True)
class Received:
    """One request as it arrived, before the receiver answered (or the sender gave up)."""

    headers: dict[str, str]
    body: bytes
    method: str = "POST"
    path: str = ""  # with its query


@dataclass
class Webhook:
    url: str
    bodies: list[bytes] = field(default_factory=list)
    status: int = 200
    delay: float = 0.0  # seconds the receiver takes to answer
    received: list[Received] = field(default_factory=list)
    location: str | None = None  # a Location header to answer with (a redirect, with a 3xx status)

    @property
    def http_url(self) -> str:
        """The receiver's own address, as a redirect would name it."""
        return self.url.replace("json://", "http://", 1)

    def json_bodies(self) -> list[Any]:
        return [json.loads(b) for b in self.bodies]


@contextmanager
def webhook_receiver() -> Iterator[Webhook]:
    """An HTTP server on 127.0.0.1 that records every request on arrival, then answers after ``delay``.

    ``bodies`` holds the bodies it accepted (status 200), ``received`` every
    request (a GET too, as a followed redirect would send) with its headers,
    including those whose sender stopped waiting.
    """
    hook = Webhook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            hook.received.append(Received(dict(self.headers.items()), body, self.command, self.path))
            if hook.delay:
                time.sleep(hook.delay)
            if hook.status == 200:
                hook.bodies.append(body)
            try:
                self.send_response(hook.status)
                if hook.location is not None:
                    self.send_header("Location", hook.location)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:  # the sender gave up (timeout, or it was killed)
                pass

        do_GET = do_PUT = do_POST

        def log_message(self, *args: object) -> None:
            pass

    with serve_on_loopback(Handler, name="webhook") as base:
        hook.url = base.replace("http://", "json://", 1) + "/hook"
        yield hook


# Fetch settings for a topic whose feeds are loopback peers of the test: no politeness delay
# between pages and no backoff between HTTP retries.  Neither is what these tests prove
# (tests/integration/test_polite_fetch.py and tests/unit/test_fetch.py do, with their own values),
# and at the defaults each run waits a second per page and 7 s per dead feed.
LOOPBACK_FETCH: dict[str, Any] = {"per_host_delay_seconds": 0.0, "backoff_seconds": 0.0}


def write_topic(
    path: Path,
    feed_url: str,
    alert_urls: list[str],
    name: str = "kursk_test",
    fetch: dict[str, Any] | None = None,
    alert_timeout: float | None = None,
    ops_alert_urls: list[str] | None = None,
    extra_feed_urls: list[str] | None = None,
) -> Path:
    raw = yaml.safe_load((REPO_ROOT / "topics" / "kursk.yaml").read_text(encoding="utf-8"))
    timeout = {} if alert_timeout is None else {"timeout_seconds": alert_timeout}
    raw.update(
        name=name,
        feeds=[{"url": u} for u in [feed_url, *(extra_feed_urls or [])]],
        allow_private_hosts=True,
        alerts=[{"url": u, "min_severity": "low", **timeout} for u in alert_urls],
    )
    raw["fetch"] = {**LOOPBACK_FETCH, **(fetch or {})}
    # The shipped topic pages a file; a test topic has the ops routes it asks for, else none.
    raw["ops_alerts"] = [{"url": u, "min_severity": "low"} for u in ops_alert_urls or []]
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def run_cli(
    args: list[str], env: Mapping[str, str], timeout: float = 600, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **env}
    return subprocess.run(
        [str(CLAIMWATCH), *args], env=full_env, capture_output=True, text=True, timeout=timeout, cwd=cwd
    )


@dataclass
class HostileSite:
    """A news site on loopback whose feed mixes good articles with every kind of bad item."""

    base: str = ""
    feed_items: list[tuple[str, str]] = field(default_factory=list)  # (title, link) as written in the XML
    hits: dict[str, int] = field(default_factory=dict)
    hang_seconds: float = 3.0

    def good(self, slug: str) -> str:
        return f"{self.base}/articles/{slug}.html"


@contextmanager
def hostile_site() -> Iterator[HostileSite]:
    """Serves ``/feed.xml`` from ``site.feed_items``; ``/articles/<sample slug>.html`` are the sample
    site's pages, ``/hang/...`` answers after ``site.hang_seconds``, ``/gzip-lie/...`` claims gzip and is not."""
    from pipeline.app.sample_site import load_sample_articles, render_page

    site = HostileSite()
    pages = {p.slug: p for p in load_sample_articles()}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            site.hits[path] = site.hits.get(path, 0) + 1
            if path == "/feed.xml":
                items = "".join(f"<item><title>{t}</title><link>{link}</link></item>" for t, link in site.feed_items)
                body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>H</title>{items}</channel></rss>'
                respond(self, 200, "application/rss+xml", body.encode("utf-8"))
            elif path.startswith("/hang/"):
                time.sleep(site.hang_seconds)
                respond(self, 200, "text/html", b"<p>too late</p>")
            elif path.startswith("/gzip-lie/"):
                respond(
                    self,
                    200,
                    "text/html",
                    b"<html><body><p>not gzip at all</p></body></html>",
                    ("Content-Encoding", "gzip"),
                )
            elif path.startswith("/articles/") and path.removeprefix("/articles/").removesuffix(".html") in pages:
                page = pages[path.removeprefix("/articles/").removesuffix(".html")]
                respond(self, 200, "text/html; charset=utf-8", render_page(page, site.base).encode("utf-8"))
            else:
                respond(self, 404, "text/plain", b"not found")

        def log_message(self, *args: object) -> None:
            pass

    with serve_on_loopback(Handler) as base:
        site.base = base
        yield site


def query_rows(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Rows of one read-only query on a DuckDB file (the connection closed after)."""
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def ingest_once(topic: Path, db: Path, data_dir: Path, run_id: str) -> dict[str, int]:
    """The ingest DAG's task bodies in order, in this process, for one topic file."""
    from pipeline.steps import discover, extract, fetch, load, plan, validate

    [job] = plan.run([topic], db, data_dir, run_id)
    for step in (discover.run, fetch.run, extract.run, validate.run):
        step(job)
    result: dict[str, int] = load.run(job)
    return result
