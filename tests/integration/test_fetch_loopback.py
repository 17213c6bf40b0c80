"""Ingestion end to end over real loopback HTTP: feed, pages, extraction, relevance, dedup."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.app.sample_site import load_sample_articles, page_url, serve_site
from pipeline.ingest.article import extract_article
from pipeline.ingest.dedup import drop_duplicates
from pipeline.ingest.http import FetchError, fetch_page, read_feed
from pipeline.ingest.relevance import is_relevant
from pipeline.records import Article, FeedEntry
from pipeline.topics import FetchSpec, TopicConfig

NOW = datetime(2025, 12, 1, 9, 0, tzinfo=UTC)
SPEC = FetchSpec(timeout_seconds=5, retries=0)


def _ingest(base: str, topic: TopicConfig) -> tuple[list[FeedEntry], list[Article], list[Article], list[Article]]:
    entries = read_feed(f"{base}/feed.xml", SPEC, allow_private_hosts=True).entries
    articles = [extract_article(fetch_page(e, SPEC, allow_private_hosts=True, now=lambda: NOW)) for e in entries]
    relevant = [a for a in articles if is_relevant(a, topic.relevance)]
    kept, dropped = drop_duplicates(relevant, (), ())
    return entries, relevant, kept, dropped


def test_sample_site_through_ingestion(kursk_topic: TopicConfig) -> None:
    pages = load_sample_articles()
    with serve_site() as base:
        entries, relevant, kept, dropped = _ingest(base, kursk_topic)

    assert [e.url for e in entries] == [page_url(p, base) for p in pages]
    assert [e.published_at for e in entries] == [p.published for p in pages]
    by_slug = {p.slug: p for p in pages}

    off_topic = {p.slug for p in pages} - {a.canonical_url.rsplit("/", 1)[1].removesuffix(".html") for a in relevant}
    assert off_topic == {"kursk-derby-snow"}
    assert [a.url for a in dropped] == [page_url(by_slug["north-korean-troops-reach-kursk-syndicated"], base)]
    assert len(kept) == len(pages) - 2

    for article in kept:
        slug = article.canonical_url.rsplit("/", 1)[1].removesuffix(".html")
        page = by_slug[slug]
        assert article.text == "\n\n".join(page.paragraphs)
        assert (article.title, article.outlet, article.published_at) == (page.title, page.outlet, page.published)
        assert article.fetched_at == NOW
        assert "63 F" not in article.text and "50,000" not in article.text


def test_second_run_against_stored_keys_drops_everything(kursk_topic: TopicConfig) -> None:
    with serve_site() as base:
        _, _, first, _ = _ingest(base, kursk_topic)
        _, relevant, _, _ = _ingest(base, kursk_topic)
    kept, dropped = drop_duplicates(relevant, {a.content_hash for a in first}, {a.article_id for a in first})
    assert kept == [] and len(dropped) == len(relevant)


def test_loopback_site_is_refused_unless_the_topic_allows_private_hosts() -> None:
    with serve_site() as base, pytest.raises(FetchError, match="private hosts not allowed"):
        read_feed(f"{base}/feed.xml", SPEC, allow_private_hosts=False)
