"""A small news site on loopback: the demo's and the tests' stand-in for the web.

Pages carry the clutter real news pages have (menus, a weather widget, ads,
related links, reader comments with their own numbers) so that boilerplate
removal is exercised for real, and every figure a reader comment makes up
would show as a false claim if it leaked through.
"""

from __future__ import annotations

import html
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any, cast
from urllib.parse import urlsplit

import yaml

ARTICLES_FILE = "articles.yaml"
FEED_PATH = "/feed.xml"
ARTICLES_PREFIX = "/articles/"


@dataclass(frozen=True)
class SamplePage:
    slug: str
    title: str
    published: datetime
    outlet: str
    author: str
    paragraphs: list[str]


def load_sample_articles() -> list[SamplePage]:
    """The bundled articles, in publication order as listed in the data file."""
    raw = yaml.safe_load(resources.files(__package__).joinpath(ARTICLES_FILE).read_text(encoding="utf-8"))
    by_slug: dict[str, dict[str, Any]] = {item["slug"]: item for item in raw}
    pages = []
    for item in raw:
        source = by_slug[item["copy_of"]] if "copy_of" in item else item
        published = datetime.fromisoformat(item["published"])
        if published.tzinfo is None:
            raise ValueError(f"{ARTICLES_FILE}: {item['slug']}: published needs a UTC offset")
        pages.append(
            SamplePage(
                slug=item["slug"],
                title=source["title"],
                published=published,
                outlet=item["outlet"],
                author=item["author"],
                paragraphs=[" ".join(p.split()) for p in source["paragraphs"]],
            )
        )
    return pages


def page_url(page: SamplePage, base_url: str) -> str:
    return f"{base_url.rstrip('/')}{ARTICLES_PREFIX}{page.slug}.html"


_COMMENTS = (
    ("kursk_watcher", "My cousin says it was closer to 50,000 troops, and nobody counts the wounded."),
    ("RealistPete", "3 years of this war and still 0 accountability. 100% propaganda on both sides."),
    ("anna.k", "Read this at 6:45 on the train. Numbers change every week, who can keep up with 1,000 claims?"),
)

_MENU = ("World", "Europe", "Asia", "Business", "Opinion", "Sport", "Weather")


def render_page(page: SamplePage, base_url: str) -> str:
    """One article page, every piece of text escaped."""
    e = html.escape
    url = page_url(page, base_url)
    iso = page.published.isoformat()
    human = f"{page.published.day} {page.published:%B %Y, %H:%M} UTC"
    menu = "".join(f'<li><a href="/{e(item.lower())}/">{e(item)}</a></li>' for item in _MENU)
    middle = max(1, len(page.paragraphs) // 2)
    body: list[str] = []
    for i, paragraph in enumerate(page.paragraphs):
        if i == middle:
            body.append(
                '<div class="ad ad-inline" aria-label="Advertisement"><span>Advertisement</span>'
                "<p>Save 40% on winter tyres this week only. Free fitting at 120 partner garages.</p></div>"
            )
        body.append(f"<p>{e(paragraph)}</p>")
    comments = "".join(
        f'<div class="comment"><p class="comment-author">{e(who)}</p><p class="comment-body">{e(text)}</p></div>'
        for who, text in _COMMENTS
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{e(page.title)} | {e(page.outlet)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="author" content="{e(page.author)}">
<meta name="description" content="{e(page.paragraphs[0][:150] if page.paragraphs else page.title)}">
<meta property="og:type" content="article">
<meta property="og:title" content="{e(page.title)}">
<meta property="og:site_name" content="{e(page.outlet)}">
<meta property="og:url" content="{e(url)}">
<meta property="article:published_time" content="{e(iso)}">
<link rel="canonical" href="{e(url)}">
<link rel="alternate" type="application/rss+xml" href="{e(base_url.rstrip("/"))}{FEED_PATH}">
</head>
<body>
<header class="site-header">
<a class="logo" href="/">{e(page.outlet)}</a>
<div class="weather-widget" id="weather">Kursk 63 F, partly cloudy. Wind 12 mph. Humidity 71%.</div>
<nav class="main-menu" id="menu"><ul>{menu}</ul></nav>
</header>
<div class="ad ad-banner" id="top-ad"><span>Advertisement</span>
 <a href="/ads/1">Flights to 25 cities from 49 EUR</a></div>
<main id="content">
<article class="story">
<h1>{e(page.title)}</h1>
<p class="byline">By <span class="author">{e(page.author)}</span>, {e(page.outlet)}
 <time datetime="{e(iso)}">{e(human)}</time></p>
{"".join(body)}
</article>
<aside class="related-links" id="related"><h2>Related stories</h2><ul>
<li><a href="/articles/archive-1.html">Five things to know about 2,000 km of front line</a></li>
<li><a href="/articles/archive-2.html">Markets close 1.5% higher as oil price climbs to 88 dollars</a></li>
<li><a href="/articles/archive-3.html">Opinion: 10 lessons from 1,000 days of war</a></li>
</ul></aside>
<section class="comments" id="comments"><h2>Comments (3)</h2>{comments}</section>
</main>
<footer class="site-footer"><p>&copy; 2025 {e(page.outlet)}. All rights reserved.
 <a href="/privacy">Privacy</a> <a href="/terms">Terms</a> <a href="{FEED_PATH}">RSS</a></p></footer>
</body>
</html>
"""


def render_feed(pages: Sequence[SamplePage], base_url: str, title: str) -> str:
    """RSS 2.0, items in the order given (the pipeline handles them in that order)."""
    e = html.escape
    base = base_url.rstrip("/")
    items = []
    for page in pages:
        url = page_url(page, base)
        summary = page.paragraphs[0][:200] if page.paragraphs else ""
        items.append(
            "<item>"
            f"<title>{e(page.title)}</title>"
            f"<link>{e(url)}</link>"
            f'<guid isPermaLink="true">{e(url)}</guid>'
            f"<pubDate>{e(format_datetime(page.published))}</pubDate>"
            f"<author>{e(page.author)}</author>"
            f"<description>{e(summary)}</description>"
            "</item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0"><channel>'
        f"<title>{e(title)}</title><link>{e(base)}/</link>"
        f"<description>{e(title)}: latest articles</description>"
        f"{''.join(items)}"
        "</channel></rss>\n"
    )


class _IPv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def respond(handler: BaseHTTPRequestHandler, status: int, content_type: str, body: bytes | str,
            *extra: tuple[str, str]) -> None:  # fmt: skip
    """Write one whole response; a client that already hung up is not the server's error."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    with suppress(BrokenPipeError, ConnectionResetError):
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        for name, value in extra:
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


@contextmanager
def serve_on_loopback(
    handler: type[BaseHTTPRequestHandler], *, host: str = "127.0.0.1", port: int = 0, name: str = "loopback"
) -> Iterator[str]:
    """Serve ``handler`` in a daemon thread for the duration of the block; yields the base URL."""
    server_class = _IPv6Server if ":" in host else ThreadingHTTPServer
    server = server_class((host, port), handler)
    server.daemon_threads = True
    host_for_url = f"[{host}]" if ":" in host else host
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://{host_for_url}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def serve_site(pages: Sequence[SamplePage] | None = None, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve the site in a daemon thread for the duration of the block; yields its base URL."""
    chosen = list(load_sample_articles() if pages is None else pages)
    by_slug = {p.slug: p for p in chosen}
    host_for_url = f"[{host}]" if ":" in host else host

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            base = f"http://{host_for_url}:{cast(ThreadingHTTPServer, self.server).server_port}"
            if path == FEED_PATH:
                respond(self, 200, "application/rss+xml; charset=utf-8", render_feed(chosen, base, "Sample news"))
                return
            if path.startswith(ARTICLES_PREFIX) and path.endswith(".html"):
                page = by_slug.get(path[len(ARTICLES_PREFIX) : -len(".html")])
                if page is not None:
                    respond(self, 200, "text/html; charset=utf-8", render_page(page, base))
                    return
            respond(self, 404, "text/plain; charset=utf-8", "not found\n")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serve_on_loopback(Handler, host=host, port=port, name="sample-site") as base:
        yield base


__all__ = [
    "SamplePage",
    "load_sample_articles",
    "page_url",
    "render_feed",
    "render_page",
    "respond",
    "serve_on_loopback",
    "serve_site",
]
