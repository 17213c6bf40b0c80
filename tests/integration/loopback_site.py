"""A small news site on 127.0.0.1 whose feed and pages a test sets and changes between runs."""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

from pipeline.app.sample_site import respond, serve_on_loopback


@dataclass
class Site:
    """``pages`` maps a path with its query ('/a.html?x=1') to (status, html); ``feed`` lists
    (path, title, published) items.  ``requests`` records every path asked for."""

    base: str = ""
    pages: dict[str, tuple[int, str]] = field(default_factory=dict)
    feed: list[tuple[str, str, datetime]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def rss(self) -> str:
        e = html.escape
        items = "".join(
            f"<item><title>{e(title)}</title><link>{e(self.url(path))}</link>"
            f"<pubDate>{e(format_datetime(published))}</pubDate></item>"
            for path, title, published in self.feed
        )
        return (
            f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
        )


@contextmanager
def serve(site: Site) -> Iterator[Site]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.requests.append(self.path)
            if self.path == "/feed.xml":
                respond(self, 200, "application/rss+xml; charset=utf-8", site.rss())
                return
            status, body = site.pages.get(self.path, (404, "not found"))
            respond(self, status, "text/html; charset=utf-8", body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serve_on_loopback(Handler) as base:
        site.base = base
        yield site


def article_html(
    title: str,
    paragraphs: list[str],
    *,
    published: datetime,
    lang: str = "en",
    outlet: str = "Loopback Times",
    head: str = "",
    body_extra: str = "",
) -> str:
    """An article page: navigation and footer around the paragraphs, metadata in the head."""
    e = html.escape
    body = "".join(f"<p>{e(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="{e(lang)}"><head><meta charset="utf-8"><title>{e(title)} | {e(outlet)}</title>
<meta property="og:site_name" content="{e(outlet)}">
<meta property="article:published_time" content="{published.isoformat()}">
{head}</head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world/">World</a></li></ul></nav>
<main><article><h1>{e(title)}</h1>{body}{body_extra}</article></main>
<footer><p>Copyright Loopback Times. All rights reserved.</p></footer>
</body></html>"""
