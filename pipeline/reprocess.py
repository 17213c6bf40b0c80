"""Re-parse stored articles with the current extractor, without fetching.

Claims keep their ids where the new extractor finds the same figure, so their
contradiction-check state survives; new figures are checked (and alerted) by
the next alerts run like any new claim.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import TopicConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReprocessSummary:
    articles: int
    claims: int
    added: int
    removed: int
    extractor_version: str


def reprocess(topic: TopicConfig, db: Path, run_id: str = "reprocess") -> ReprocessSummary:
    from pipeline import store
    from pipeline.claims import EXTRACTOR_VERSION, Catalogue, extract_claims

    with store.open_store(db) as con:
        articles = store.stored_articles(con, topic.name)
        before = {r[0] for r in con.execute("SELECT claim_id FROM claims WHERE topic = ?", [topic.name]).fetchall()}
        claims_by_article = {}
        catalogue = Catalogue.of(topic)
        for i, article in enumerate(articles, 1):
            claims_by_article[article.article_id] = extract_claims(article, topic, catalogue)
            if i % 50 == 0:
                log.info("re-parsed %d/%d articles", i, len(articles))
        total = store.replace_claims(con, topic.name, claims_by_article, run_id)
        after = {c.claim_id for claims in claims_by_article.values() for c in claims}
    return ReprocessSummary(len(articles), total, len(after - before), len(before - after), EXTRACTOR_VERSION)
