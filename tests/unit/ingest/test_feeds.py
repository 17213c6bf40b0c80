"""Feed kinds: query URLs built from the topic, title+outlet identity, and the topic file's checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import ValidationError

from pipeline.ingest.feeds import (
    GDELT_BASE_URL,
    GOOGLE_NEWS_BASE_URL,
    cap_note,
    choose_entries,
    drop_known_stories,
    feed_address,
    title_outlet_key,
)
from pipeline.records import FeedEntry
from pipeline.topics import FeedSpec


def test_gdelt_url_asks_for_an_rss_article_list_at_the_cap() -> None:
    url = feed_address(FeedSpec(kind="gdelt", query='"north korean" (kursk OR russia)', timespan="1d"))
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == GDELT_BASE_URL
    assert parse_qs(parts.query) == {
        "query": ['"north korean" (kursk OR russia)'],
        "mode": ["ArtList"],
        "format": ["rss"],
        "maxrecords": ["250"],
        "sort": ["DateDesc"],
        "timespan": ["1d"],
    }


def test_google_news_url_carries_language_and_country() -> None:
    url = feed_address(FeedSpec(kind="google_news", query="kursk troops", language="de", country="de"))
    assert url.startswith(GOOGLE_NEWS_BASE_URL + "?")
    assert parse_qs(urlsplit(url).query) == {"q": ["kursk troops"], "hl": ["de-DE"], "gl": ["DE"], "ceid": ["DE:de"]}


def test_a_configured_base_keeps_its_own_query_and_secret_reference() -> None:
    url = feed_address(FeedSpec(kind="gdelt", url="https://mirror.example/doc?key=${GDELT_KEY}", query="kursk"))
    assert url.startswith("https://mirror.example/doc?key=${GDELT_KEY}&query=kursk&mode=ArtList")


def test_an_rss_feed_is_its_url() -> None:
    assert feed_address(FeedSpec(url="https://news.example/feed.xml")) == "https://news.example/feed.xml"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"kind": "rss"}, "needs a url"),
        ({"kind": "gdelt"}, "needs a query"),
        ({"kind": "google_news", "query": "  "}, "needs a query"),
        ({"url": "https://a.example/feed", "query": "x"}, "query is for the gdelt and google_news kinds"),
        ({"kind": "bing", "query": "x"}, "Input should be"),
    ],
)
def test_feed_kinds_are_checked(raw: dict[str, str], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        FeedSpec.model_validate(raw)


def test_cap_note_only_when_gdelt_returns_its_maximum() -> None:
    gdelt = FeedSpec(kind="gdelt", query="kursk")
    assert cap_note(gdelt, 249) is None
    assert "250" in (cap_note(gdelt, 250) or "")
    assert cap_note(FeedSpec(url="https://a.example/feed"), 300) is None


def test_title_outlet_key_folds_case_accents_punctuation_and_the_outlet_suffix() -> None:
    a = title_outlet_key(
        "Seoul raises its estimate of North Korea's Kursk contingent - Eastern Dispatch", "Eastern Dispatch"
    )
    b = title_outlet_key("SEOUL raises its estimate of North Korea’s Kursk contingent", "eastern dispatch")
    assert a == b is not None
    assert title_outlet_key("Seoul raises its estimate", "Harbor Wire") != a
    assert title_outlet_key("Café news", "Outlet") == title_outlet_key("cafe news", "Outlet")
    assert title_outlet_key(None, "Outlet") is None and title_outlet_key("Title", None) is None


def _entry(url: str, title: str, outlet: str | None) -> FeedEntry:
    return FeedEntry(feed_url="f", url=url, title=title, outlet=outlet)


def test_unresolved_links_repeating_a_known_story_are_duplicates_and_the_rest_kept() -> None:
    stored = title_outlet_key("Old story", "Wire")
    assert stored is not None
    resolved = _entry("https://wire.example/a", "Story A - Wire", "Wire")
    unresolved = [
        _entry("https://agg.example/1", "Story A - Wire", "Wire"),  # the resolved one's story
        _entry("https://agg.example/2", "Story B - Wire", "Wire"),
        _entry("https://agg.example/3", "Story B - Wire", "Wire"),  # listed twice
        _entry("https://agg.example/4", "Old story - Wire", "Wire"),  # already stored
        _entry("https://agg.example/5", "Story B - Ledger", "Ledger"),  # another outlet's story
        _entry("https://agg.example/6", "No outlet", None),
    ]
    kept, duplicates = drop_known_stories(unresolved, [resolved], {stored})
    assert [e.url for e in kept] == ["https://agg.example/2", "https://agg.example/5", "https://agg.example/6"]
    assert [(e.url, why) for e, why in duplicates] == [
        ("https://agg.example/1", "same title and outlet as https://wire.example/a"),
        ("https://agg.example/3", "same title and outlet as https://agg.example/2"),
        ("https://agg.example/4", "same title and outlet as an article already stored"),
    ]


def test_only_new_links_are_resolved_and_a_resolved_one_keeps_its_link() -> None:
    from pipeline.ingest.feeds import Resolution, resolve_entries

    asked: list[str] = []

    def resolve(link: str) -> Resolution:
        asked.append(link)
        return Resolution(link, "https://wire.example/a" if link.endswith("/1") else None, "test")

    entries = [_entry(f"https://agg.example/{i}", f"T{i}", "Wire") for i in (1, 2, 3)]
    out, resolutions = resolve_entries(entries, resolve, skip=lambda link: link.endswith("/3"))
    assert asked == ["https://agg.example/1", "https://agg.example/2"]
    assert [(e.url, e.via) for e in out] == [
        ("https://wire.example/a", "https://agg.example/1"),
        ("https://agg.example/2", None),
        ("https://agg.example/3", None),
    ]
    assert [r.publisher_url for r in resolutions] == ["https://wire.example/a", None]


NOW = datetime(2025, 12, 1, 12, 0, tzinfo=UTC)


def _entries(*urls: str) -> list[FeedEntry]:
    return [FeedEntry(feed_url="https://news.example/feed", url=u) for u in urls]


def test_fresh_urls_come_before_retries_and_backing_off_urls_wait() -> None:
    schedule = {
        "https://n.example/late": NOW + timedelta(minutes=5),
        "https://n.example/due-recent": NOW - timedelta(minutes=1),
        "https://n.example/due-long-ago": NOW - timedelta(hours=3),
    }
    entries = _entries(
        "https://n.example/late",
        "https://n.example/due-recent",
        "https://n.example/seen",
        "https://n.example/due-long-ago",
        "https://n.example/new-1",
        "https://n.example/new-1",
        "https://n.example/new-2",
    )
    chosen = choose_entries(entries, {"https://n.example/seen"}, schedule, NOW, limit=10)
    assert [e.url for e in chosen] == [
        "https://n.example/new-1",
        "https://n.example/new-2",
        "https://n.example/due-long-ago",
        "https://n.example/due-recent",
    ]


def test_the_limit_counts_retries_too() -> None:
    schedule = {"https://n.example/r": NOW - timedelta(hours=1)}
    entries = _entries("https://n.example/r", "https://n.example/a", "https://n.example/b")
    assert [e.url for e in choose_entries(entries, set(), schedule, NOW, limit=2)] == [
        "https://n.example/a",
        "https://n.example/b",
    ]
    assert [e.url for e in choose_entries(entries, {"https://n.example/a"}, schedule, NOW, limit=2)] == [
        "https://n.example/b",
        "https://n.example/r",
    ]
