"""The bundled sample news site: its data, its HTML and feed, and the loopback server."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

import feedparser
import httpx
import pytest

from pipeline.app.sample_site import SamplePage, load_sample_articles, page_url, render_feed, render_page, serve_site

PAGES = load_sample_articles()
HOSTILE = SamplePage(
    slug="hostile",
    title="<script>alert('x')</script> Tom & Jerry",
    published=datetime(2025, 1, 2, 3, 4, tzinfo=UTC),
    outlet='Outlet "<b>bold</b>"',
    author="<img src=x onerror=alert(1)>",
    paragraphs=["<iframe src='http://evil.example'></iframe> " + "word " * 50],
)


def test_bundled_articles_are_well_formed() -> None:
    slugs = [p.slug for p in PAGES]
    assert 6 <= len(PAGES) <= 10
    assert len(set(slugs)) == len(slugs)
    for page in PAGES:
        assert page.published.tzinfo is not None, page.slug
        assert datetime(2024, 10, 1, tzinfo=UTC) <= page.published < datetime(2025, 12, 1, tzinfo=UTC), page.slug
        long_enough = [p for p in page.paragraphs if len(p.split()) >= 40]
        assert len(long_enough) >= 3, page.slug


def test_bundle_has_one_republished_copy_and_one_off_topic_story() -> None:
    by_text: dict[tuple[str, ...], list[str]] = {}
    for page in PAGES:
        by_text.setdefault(tuple(page.paragraphs), []).append(page.slug)
    assert sorted(len(v) for v in by_text.values() if len(v) > 1) == [2]
    off_topic = [p.slug for p in PAGES if "north korea" not in " ".join(p.paragraphs).casefold()]
    assert off_topic == ["kursk-derby-snow"]


@pytest.mark.parametrize(
    "figure",
    [
        "about 11,000 North Korean troops",
        "up to 12,000 North Korean soldiers were sent",
        "roughly 14,000 troops had been sent",
        "more than 6,000 North Korean soldiers had been killed",
        "about 3,000 North Korean soldiers had been killed",
        "1,000 deminers and 5,000 military builders",
        "6,000 engineers",
        "about 6.5 million artillery shells",
        "some 4 million shells",
        "as many as 200,000 civilians",
        "Uran-6",
        "KN-23",
    ],
)
def test_bundle_states_the_figures_the_demo_relies_on(figure: str) -> None:
    assert any(figure in paragraph for page in PAGES for paragraph in page.paragraphs), figure


def test_render_page_escapes_all_text() -> None:
    html = render_page(HOSTILE, "http://127.0.0.1:1")
    for raw in ("<script>alert", "<b>bold</b>", "<img src=x", "<iframe", "Tom & Jerry"):
        assert raw not in html, raw
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Tom &amp; Jerry" in html
    assert "&lt;iframe src=&#x27;http://evil.example&#x27;&gt;" in html


def test_render_page_has_the_metadata_and_clutter_of_a_real_page() -> None:
    page = PAGES[0]
    html = render_page(page, "http://127.0.0.1:1/")
    url = "http://127.0.0.1:1/articles/north-korean-troops-reach-kursk.html"
    assert f'<link rel="canonical" href="{url}">' in html
    assert f'<meta property="article:published_time" content="{page.published.isoformat()}">' in html
    assert f'<time datetime="{page.published.isoformat()}">' in html
    for part in ("<nav", "weather-widget", "63 F", 'class="ad ', "related-links", 'id="comments"', "<footer", "<h1>"):
        assert part in html, part


def test_feed_parses_and_lists_every_page_in_order() -> None:
    base = "http://127.0.0.1:1"
    parsed = feedparser.parse(render_feed([*PAGES, HOSTILE], base, "News & <views>"))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.title == "News & <views>"
    assert [e.link for e in parsed.entries] == [page_url(p, base) for p in [*PAGES, HOSTILE]]
    assert parsed.entries[-1].title == HOSTILE.title
    for entry, page in zip(parsed.entries, PAGES, strict=False):
        published = datetime.fromtimestamp(calendar.timegm(entry.published_parsed), tz=UTC)
        assert published == page.published.astimezone(UTC), page.slug


def test_server_serves_the_feed_and_every_page_then_stops() -> None:
    with serve_site() as base, httpx.Client(base_url=base) as client:
        assert base.startswith("http://127.0.0.1:")
        feed = client.get("/feed.xml")
        assert feed.status_code == 200
        assert feed.headers["content-type"].startswith("application/rss+xml")
        assert len(feedparser.parse(feed.content).entries) == len(PAGES)
        for page in PAGES:
            response = client.get(f"/articles/{page.slug}.html")
            assert response.status_code == 200, page.slug
            assert response.headers["content-type"] == "text/html; charset=utf-8"
            assert page.paragraphs[0][:60].replace("'", "&#x27;") in response.text
        for missing in ("/", "/articles/", "/articles/nope.html", "/feed.xml/extra", "/articles/a/b.html"):
            assert client.get(missing).status_code == 404, missing
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base}/feed.xml", timeout=2)


def test_server_serves_the_pages_it_is_given() -> None:
    with serve_site([HOSTILE]) as base:
        assert httpx.get(f"{base}/articles/hostile.html").status_code == 200
        assert httpx.get(f"{base}/articles/{PAGES[0].slug}.html").status_code == 404
        assert len(feedparser.parse(httpx.get(f"{base}/feed.xml").content).entries) == 1
