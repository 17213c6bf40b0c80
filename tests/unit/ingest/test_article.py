"""pipeline.ingest.article on real trafilatura: sample-site pages and hand-made variants."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from pipeline.app.sample_site import SamplePage, load_sample_articles, page_url, render_page
from pipeline.ingest.article import ExtractionError, content_hash, extract_article, parse_date
from pipeline.records import FeedEntry, FetchedPage, stable_id

BASE = "http://127.0.0.1:8123"
FETCHED = datetime(2025, 12, 1, 8, 0, tzinfo=UTC)
FEED_TIME = datetime(2025, 3, 2, 12, 0, tzinfo=UTC)

PARAGRAPHS = [
    "The regional governor said on Monday that about 7,500 residents had returned to their homes in the "
    "border district after engineers finished clearing the main roads and the water supply was restored.",
    "Officials said the remaining villages would stay closed until the spring because of unexploded "
    "ammunition in the fields, and that families would receive temporary housing payments until then.",
    "Aid groups said the figures matched their own counts, but warned that many older residents had no "
    "transport and could not reach the distribution points that the authorities had set up in the towns.",
]

# Text of the weather widget, ads, related links, reader comments, menu, footer and byline.
CLUTTER = (
    *("63 F", "Humidity", "Advertisement", "winter tyres", "Flights to 25 cities", "Related stories", "1,000 days"),
    *("50,000 troops", "kursk_watcher", "Comments (3)", "All rights reserved", "Opinion", "A. Writer"),
)


def _page(html: str, url: str = f"{BASE}/articles/x.html", published: datetime | None = FEED_TIME) -> FetchedPage:
    entry = FeedEntry(feed_url=f"{BASE}/feed.xml", url=url, title="From the feed", published_at=published)
    return FetchedPage(url=url, final_url=url, status=200, html=html, fetched_at=FETCHED, entry=entry)


def _sample(**overrides: object) -> SamplePage:
    values: dict[str, object] = {
        "slug": "residents-return",
        "title": "Residents return to the border district",
        "published": datetime(2025, 2, 3, 10, 15, tzinfo=timezone(timedelta(hours=3))),
        "outlet": "Test Gazette",
        "author": "A. Writer",
        "paragraphs": PARAGRAPHS,
    }
    values.update(overrides)
    return SamplePage(**values)  # type: ignore[arg-type]


def _plain_html(body: str, head: str = "") -> str:
    return f"<html><head><title>Plain page</title>{head}</head><body><article>{body}</article></body></html>"


def test_sample_page_keeps_the_article_and_drops_the_clutter() -> None:
    sample = _sample()
    url = page_url(sample, BASE)
    article = extract_article(_page(render_page(sample, BASE), url=url))

    assert article.text == "\n\n".join(PARAGRAPHS)
    assert article.title == sample.title
    assert sample.title not in article.text
    for clutter in CLUTTER:
        assert clutter not in article.text, clutter
    assert article.published_at == sample.published
    assert article.published_at is not None and article.published_at.utcoffset() == timedelta(hours=3)
    assert article.canonical_url == url
    assert article.article_id == stable_id(url)
    assert article.url == url
    assert article.outlet == "Test Gazette"
    assert article.language == "en"
    assert article.fetched_at == FETCHED
    assert article.content_hash == content_hash(article.text)


@pytest.mark.parametrize("sample", load_sample_articles(), ids=lambda p: p.slug)
def test_every_bundled_page_extracts_to_its_paragraphs(sample: SamplePage) -> None:
    article = extract_article(_page(render_page(sample, BASE), url=page_url(sample, BASE)))
    assert article.text.split("\n\n") == sample.paragraphs
    assert (article.title, article.outlet, article.published_at) == (sample.title, sample.outlet, sample.published)


def test_canonical_link_wins_over_the_fetched_url_and_is_normalised() -> None:
    html = _plain_html(
        "".join(f"<p>{p}</p>" for p in PARAGRAPHS),
        head='<link rel="canonical" href="HTTPS://News.Example/story?id=3&utm_source=rss&utm_medium=feed#top">',
    )
    article = extract_article(_page(html, url="https://amp.news.example/amp/story/3"))
    assert article.canonical_url == "https://news.example/story?id=3"
    assert article.article_id == stable_id("https://news.example/story?id=3")
    assert article.url == "https://amp.news.example/amp/story/3"


def test_a_canonical_on_another_domain_is_followed_only_from_a_trusted_host() -> None:
    html = _plain_html(
        "".join(f"<p>{p}</p>" for p in PARAGRAPHS), head='<link rel="canonical" href="https://news.example/story">'
    )
    page = _page(html, url="https://wire.partner.example/copy/3")
    assert extract_article(page).canonical_url == "https://wire.partner.example/copy/3"
    assert extract_article(page, canonical_hosts=["partner.example"]).canonical_url == "https://news.example/story"


def test_without_page_metadata_the_fetched_url_and_feed_date_are_used() -> None:
    html = _plain_html("".join(f"<p>{p}</p>" for p in PARAGRAPHS))
    article = extract_article(_page(html, url=f"{BASE}/Story.html?utm_campaign=x#c"))
    assert article.canonical_url == f"{BASE}/Story.html"
    assert article.published_at == FEED_TIME
    assert article.outlet == "127.0.0.1"


def test_page_timestamp_wins_over_the_feed_date() -> None:
    head = '<meta property="article:published_time" content="2024-11-05T09:30:00Z">'
    article = extract_article(_page(_plain_html("".join(f"<p>{p}</p>" for p in PARAGRAPHS), head)))
    assert article.published_at == datetime(2024, 11, 5, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("head", "feed_time"),
    [
        ('<meta property="article:published_time" content="2099-01-01T00:00:00Z">', FEED_TIME),
        ("", datetime(2099, 1, 1, tzinfo=UTC)),
    ],
    ids=["page", "feed"],
)
def test_a_date_after_the_fetch_is_replaced_by_the_fetch_time_and_recorded(head: str, feed_time: datetime) -> None:
    page = _page(_plain_html("".join(f"<p>{p}</p>" for p in PARAGRAPHS), head), published=feed_time)
    article = extract_article(page)
    assert (article.published_at, article.published_precision) == (FETCHED, "day")
    assert article.published_corrected
    assert article.published_note is not None and "2099-01-01T00:00:00+00:00" in article.published_note


def test_a_date_within_a_day_of_the_fetch_and_an_old_date_stand() -> None:
    soon = FETCHED + timedelta(hours=23)  # clocks and time zones: not a correction
    old = datetime(1999, 5, 1, tzinfo=UTC)  # an old report is real
    for when in (soon, old):
        article = extract_article(_page(_plain_html("".join(f"<p>{p}</p>" for p in PARAGRAPHS)), published=when))
        assert (article.published_at, article.published_corrected, article.published_note) == (when, False, None)


def test_no_date_anywhere_gives_none() -> None:
    article = extract_article(_page(_plain_html("".join(f"<p>{p}</p>" for p in PARAGRAPHS)), published=None))
    assert article.published_at is None
    assert article.published_precision == "none"


@pytest.mark.parametrize(
    ("stamp", "expected", "precision"),
    [
        ("2024-11-05T09:30:00Z", datetime(2024, 11, 5, 9, 30, tzinfo=UTC), "day"),
        ("2025-06", datetime(2025, 6, 1, tzinfo=UTC), "month"),
        ("2025", datetime(2025, 1, 1, tzinfo=UTC), "year"),
    ],
)
def test_a_page_dated_to_the_month_or_year_is_kept_with_its_precision(
    stamp: str, expected: datetime, precision: str
) -> None:
    head = f'<meta property="article:published_time" content="{stamp}">'
    html = _plain_html("".join(f"<p>{p}</p>" for p in PARAGRAPHS), head)
    article = extract_article(_page(html, published=None))
    assert (article.published_at, article.published_precision) == (expected, precision)


def test_the_feed_date_is_day_precise() -> None:
    article = extract_article(_page(_plain_html("".join(f"<p>{p}</p>" for p in PARAGRAPHS))))
    assert (article.published_at, article.published_precision) == (FEED_TIME, "day")


@pytest.mark.parametrize("stamp", ["June 2025", "2025-13", "06/2025", ""])
def test_parse_date_refuses_what_it_cannot_read(stamp: str) -> None:
    assert parse_date(stamp) is None


@pytest.mark.parametrize(
    "html",
    [
        "",
        "<html><body></body></html>",
        _plain_html("<p>Too short to be an article: about 11,000 troops.</p>"),
        "<html><body><nav><a href='/a'>World</a> <a href='/b'>Sport</a></nav></body></html>",
    ],
    ids=["empty", "no-body", "short", "menu-only"],
)
def test_pages_without_enough_main_text_are_refused(html: str) -> None:
    with pytest.raises(ExtractionError, match=r"127\.0\.0\.1"):
        extract_article(_page(html))


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("About 11,000 troops.", "about   11,000\n\ntroops.", True),
        ("ABOUT 11,000 TROOPS.", "about 11,000 troops.", True),
        ("about 11,000 troops.", "about 12,000 troops.", False),
        ("about 11,000 troops.", "about 11,000 troops", False),
    ],
)
def test_content_hash_ignores_case_and_spacing_only(a: str, b: str, same: bool) -> None:
    assert (content_hash(a) == content_hash(b)) is same
    assert content_hash(a) == hashlib.sha256(" ".join(a.casefold().split()).encode()).hexdigest()
