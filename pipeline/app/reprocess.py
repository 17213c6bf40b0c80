"""Re-parse stored articles with the current extractor, without fetching.

``reprocess`` re-parses the stored article text; ``reprocess_archive`` goes
further back, to the pages as they were fetched (the raw archive), so an
improved text extractor reaches history too.

Claims keep their ids where the new extractor finds the same figure, so their
contradiction-check state survives; new figures are checked (and alerted) by
the next alerts run like any new claim.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from pipeline.records import Article, Claim
from pipeline.topics import TopicConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReprocessSummary:
    articles: int
    claims: int
    added: int
    removed: int
    extractor_version: str


def reprocess(topic: TopicConfig, db: Path, run_id: str = "reprocess") -> ReprocessSummary:
    from pipeline.claims import EXTRACTOR_VERSION, Catalogue, extract_claims
    from pipeline.store.articles import stored_articles
    from pipeline.store.batches import replace_claims
    from pipeline.store.session import open_store

    with open_store(db) as con:
        articles = stored_articles(con, topic.name)
        before = {r[0] for r in con.execute("SELECT claim_id FROM claims WHERE topic = ?", [topic.name]).fetchall()}
        claims_by_article = {}
        catalogue = Catalogue.of(topic)
        for i, article in enumerate(articles, 1):
            claims_by_article[article.article_id] = extract_claims(article, topic, catalogue)
            if i % 50 == 0:
                log.info("re-parsed %d/%d articles", i, len(articles))
        total = replace_claims(con, topic.name, claims_by_article, run_id)
        after = {c.claim_id for claims in claims_by_article.values() for c in claims}
    return ReprocessSummary(len(articles), total, len(after - before), len(before - after), EXTRACTOR_VERSION)


@dataclass(frozen=True, slots=True)
class ArchiveReprocessSummary:
    """What re-extracting archived pages did: pages read, articles re-extracted, claims, and why others were not."""

    pages: int
    articles: int
    claims: int
    added: int
    removed: int
    not_stored: int  # pages whose URL stored no article (off topic, duplicate, stub): left as recorded
    failed: list[str]  # "url: reason" for pages missing from the archive or with no main text now
    extractor_version: str


def reprocess_archive(
    topic: TopicConfig, db: Path, data_dir: Path, since: datetime, run_id: str = "reprocess"
) -> ArchiveReprocessSummary:
    """Re-extract text and claims of the topic's articles from the raw archive: pages fetched at or
    after ``since``, read from ``data_dir``'s archive, never from the network.

    Each page goes through the same decoding and extraction as a fresh fetch;
    the article keeps its id (and so its links from ``seen_urls`` and other
    topics), its text and metadata are replaced, and its claims swapped as in
    ``reprocess``, all in one transaction.
    """
    from pipeline.claims import EXTRACTOR_VERSION, Catalogue, extract_claims
    from pipeline.ingest import archive
    from pipeline.ingest.article import ExtractionError, extract_article
    from pipeline.ingest.http import RawPage, decode_page
    from pipeline.store.batches import replace_articles_and_claims
    from pipeline.store.polls import archived_pages
    from pipeline.store.session import open_store

    catalogue = Catalogue.of(topic)
    with open_store(db) as con:
        pages = archived_pages(con, topic.name, since)
        articles: list[Article] = []
        claims_by_article: dict[str, list[Claim]] = {}
        not_stored, failed = 0, []
        for page, outcome, article_id in pages:
            if outcome != "stored" or article_id is None:
                not_stored += 1
                continue
            try:
                body = archive.get(data_dir, page.sha256)
                fetched = decode_page(
                    page.entry, RawPage(page.final_url, page.status, page.content_type, body), page.fetched_at
                )
                article = replace(extract_article(fetched), article_id=article_id)
            except (archive.ArchiveError, ExtractionError) as exc:
                log.warning("archived page %s not re-extracted: %s", page.url, exc)
                failed.append(f"{page.url}: {exc}")
                continue
            articles.append(article)
            claims_by_article[article_id] = extract_claims(article, topic, catalogue)
        ids = list(claims_by_article)
        before = {
            r[0]
            for r in con.execute(
                "SELECT claim_id FROM claims WHERE topic = ? AND list_contains(?, article_id)", [topic.name, ids]
            ).fetchall()
        }
        total = replace_articles_and_claims(con, topic.name, articles, claims_by_article, run_id)
        after = {c.claim_id for claims in claims_by_article.values() for c in claims}
    added, removed = len(after - before), len(before - after)
    return ArchiveReprocessSummary(
        len(pages), len(articles), total, added, removed, not_stored, failed, EXTRACTOR_VERSION
    )
