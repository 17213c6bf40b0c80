"""Claim rows: how a claim is written, and the claims the contradiction check and
reprocessing read back (with their article's URL, outlet and date).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pipeline.records import (
    Claim,
    SourcedClaim,
)

if TYPE_CHECKING:
    import duckdb


CLAIM_INSERT = (
    "INSERT INTO claims (claim_id, article_id, topic, metric, stated_low, stated_high, value_low, value_high,"
    " hedge, surface, sentence, char_start, char_end, attributed_to, relayed_by, refers_to, period_start,"
    " period_end, unverified, modality, role, extractor_version, run_id, loaded_at, population, event, scope,"
    " metric_rule, source_family, copy_of_article)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
    " (SELECT duplicate_of FROM articles WHERE article_id = ?))"
)


def insert_claims(con: duckdb.DuckDBPyConnection, claims: Sequence[Claim], run_id: str, now: datetime) -> None:
    for c in claims:
        con.execute(CLAIM_INSERT + " ON CONFLICT DO NOTHING", [*claim_row(c, run_id, now), c.article_id])


def claim_row(c: Claim, run_id: str, now: datetime) -> list[Any]:
    """Column values of one ``claims`` row, in ``CLAIM_INSERT`` order (``checked_at`` is set
    later, by ``record_check``)."""
    return [
        c.claim_id, c.article_id, c.topic, c.metric, c.stated_low, c.stated_high, c.value_low, c.value_high,
        c.hedge, c.surface, c.sentence, c.char_start, c.char_end, c.attributed_to, c.relayed_by, c.refers_to,
        c.period_start, c.period_end, c.unverified, c.modality, c.role, c.extractor_version, run_id, now,
        c.population, c.event, c.scope, c.metric_rule, c.source_family,
    ]  # fmt: skip


_CLAIM_COLUMNS = (
    "c.claim_id, c.article_id, c.topic, c.metric, c.stated_low, c.stated_high, c.value_low,"
    " c.value_high, c.hedge, c.surface, c.sentence, c.char_start, c.char_end, c.attributed_to,"
    " c.relayed_by, c.refers_to, c.period_start, c.period_end, c.unverified, c.modality, c.role,"
    " c.extractor_version, c.population, c.event, c.scope, c.metric_rule, c.source_family, a.url, a.outlet,"
    " a.published_at, c.copy_of_article, a.content_hash"
)


# The engine's order (``pipeline.detection.engine``): same-moment articles by text, never by the address id alone.
_PUBLICATION_ORDER = (
    " ORDER BY a.published_at NULLS FIRST, c.copy_of_article IS NOT NULL, a.content_hash, c.article_id, c.char_start"
)


def _sourced(row: tuple[Any, ...]) -> SourcedClaim:
    claim = Claim(*row[:27])
    return SourcedClaim(
        claim=claim, url=row[27], outlet=row[28], published_at=row[29], copy_of=row[30], content_hash=row[31]
    )


def topic_claims(con: duckdb.DuckDBPyConnection, topic: str) -> tuple[list[SourcedClaim], list[SourcedClaim]]:
    """(pending, checked) claims of a topic, oldest first, metric 'other' left out."""
    rows = con.execute(
        f"SELECT {_CLAIM_COLUMNS}, c.checked_at IS NULL AS pending FROM claims c"
        " JOIN articles a USING (article_id)"
        " WHERE c.topic = ? AND c.metric <> 'other'" + _PUBLICATION_ORDER,
        [topic],
    ).fetchall()
    pending = [_sourced(r[:-1]) for r in rows if r[-1]]
    checked = [_sourced(r[:-1]) for r in rows if not r[-1]]
    return pending, checked


def pending_claims(con: duckdb.DuckDBPyConnection, topic: str) -> list[SourcedClaim]:
    """Claims of a topic not yet checked (metric 'other' left out), oldest first."""
    rows = con.execute(
        f"SELECT {_CLAIM_COLUMNS} FROM claims c JOIN articles a USING (article_id)"
        " WHERE c.topic = ? AND c.checked_at IS NULL AND c.metric <> 'other'" + _PUBLICATION_ORDER,
        [topic],
    ).fetchall()
    return [_sourced(r) for r in rows]
