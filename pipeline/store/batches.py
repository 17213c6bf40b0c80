"""The two writes of whole extraction results, each in one transaction: an ingest
batch, and the re-extracted articles and claims of reprocessing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from pipeline.ingest.dedup import (
    DEFAULT_NEAR_SIMILARITY,
    precedence,
)
from pipeline.records import (
    Article,
    Batch,
    Claim,
    LoadResult,
    RetryPolicy,
    stable_id,
)
from pipeline.store.articles import load_article, original_of, update_article_text
from pipeline.store.claims import CLAIM_INSERT, claim_row
from pipeline.store.db import transaction, utcnow
from pipeline.store.polls import record_archived, record_poll_history, record_polls
from pipeline.store.seen import mark_seen, record_failures

if TYPE_CHECKING:
    import duckdb


def load_batch(
    con: duckdb.DuckDBPyConnection,
    batch: Batch,
    run_id: str,
    *,
    policy: RetryPolicy | None = None,
    near_similarity: float = DEFAULT_NEAR_SIMILARITY,
    first: Callable[[duckdb.DuckDBPyConnection], object] | None = None,
) -> LoadResult:
    """Store a batch atomically: all of it or, on any error, none of it.

    ``first`` runs at the start of the same transaction: writes that must commit or
    roll back with the batch (the record of its quarantined part, a release's claim).

    Copies are recognised here, inside the transaction, against the whole
    history and the batch itself, so two overlapping runs cannot both insert.
    Articles are taken in ``precedence`` order, so within a batch the original
    comes first; a stored article that turns out to be a later or tracked copy of
    a new one is demoted to a copy of it.
    """
    now = utcnow()
    claims_by_article: dict[str, list[Claim]] = {}
    for c in batch.claims:
        claims_by_article.setdefault(c.article_id, []).append(c)
    stored = near = exact = claims = 0
    in_batch_copies = sum(s.outcome == "duplicate" and s.article_id is not None for s in batch.skipped)
    with transaction(con):
        if first is not None:
            first(con)
        for a in sorted(batch.articles, key=precedence):
            outcome = load_article(con, batch.topic, a, claims_by_article.get(a.article_id, []), near_similarity,
                                    now, run_id)  # fmt: skip
            stored += outcome in ("stored", "near_duplicate")
            near += outcome == "near_duplicate"
            exact += outcome == "duplicate"
            if outcome in ("stored", "near_duplicate"):
                claims += len(claims_by_article.get(a.article_id, []))
        for s in batch.skipped:
            if s.outcome == "duplicate" and s.article_id is not None:  # an exact copy within the batch
                exact += 1
                mark_seen(con, batch.topic, s.url, "duplicate", s.article_id, now, run_id, kind="exact",
                           duplicate_of=original_of(con, s.article_id), similarity=1.0, reason=s.reason)  # fmt: skip
        given_up = record_failures(con, batch, policy or RetryPolicy(), now, run_id)
        for s in [*batch.skipped, *given_up]:
            if s.outcome == "duplicate" and s.article_id is not None:
                continue
            mark_seen(con, batch.topic, s.url, s.outcome, s.article_id, now, run_id, reason=s.reason)
            if s.outcome == "quarantined":
                con.execute(
                    "INSERT INTO quarantine VALUES (?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                    [stable_id(batch.topic, s.url, s.stage), batch.topic, s.stage, s.url, s.reason, run_id, now],
                )
        handled = [a.url for a in batch.articles] + [s.url for s in batch.skipped]
        if handled:
            con.execute("DELETE FROM url_failures WHERE topic = ? AND list_contains(?, url)", [batch.topic, handled])
        record_polls(con, batch.topic, batch.polls, now)
        record_poll_history(con, batch.topic, batch.polls, now, run_id)
        record_archived(con, batch.topic, batch.archived, run_id)
    return LoadResult(
        stored,
        claims,
        exact,
        len(batch.skipped) - in_batch_copies,
        near_duplicates=near,
        retrying=len(batch.failures) - len(given_up),
        given_up=len(given_up),
    )


def replace_claims(
    con: duckdb.DuckDBPyConnection, topic: str, claims_by_article: dict[str, list[Claim]], run_id: str
) -> int:
    """Swap the claims of the given articles for a new extraction, in one transaction.

    Claims whose id survives keep their check state, so reprocessing alerts
    only on figures that are new.
    """
    return replace_articles_and_claims(con, topic, [], claims_by_article, run_id)


def replace_articles_and_claims(
    con: duckdb.DuckDBPyConnection,
    topic: str,
    articles: Sequence[Article],
    claims_by_article: dict[str, list[Claim]],
    run_id: str,
) -> int:
    """Re-extracted articles (same ids, new text) and their claims, swapped in one transaction."""
    now = utcnow()
    with transaction(con):
        for article in articles:
            update_article_text(con, article)
        for article_id, claims in claims_by_article.items():
            keep = [c.claim_id for c in claims]
            con.execute(
                "DELETE FROM claims WHERE topic = ? AND article_id = ? AND NOT list_contains(?, claim_id)",
                [topic, article_id, keep],
            )
            for c in claims:
                con.execute(
                    CLAIM_INSERT + " ON CONFLICT (claim_id) DO UPDATE SET stated_low = excluded.stated_low,"
                    " stated_high = excluded.stated_high, value_low = excluded.value_low,"
                    " value_high = excluded.value_high, hedge = excluded.hedge,"
                    " surface = excluded.surface, sentence = excluded.sentence,"
                    " attributed_to = excluded.attributed_to, relayed_by = excluded.relayed_by,"
                    " refers_to = excluded.refers_to, period_start = excluded.period_start,"
                    " period_end = excluded.period_end, unverified = excluded.unverified,"
                    " modality = excluded.modality, role = excluded.role,"
                    " extractor_version = excluded.extractor_version, run_id = excluded.run_id,"
                    " copy_of_article = excluded.copy_of_article, source_family = excluded.source_family",
                    [*claim_row(c, run_id, now), c.article_id],
                )
    return sum(len(v) for v in claims_by_article.values())
