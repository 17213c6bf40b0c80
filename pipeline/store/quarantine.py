"""Batches the quality gate held back (``quarantine_batches``): recorded, inspected, released or dropped.

A held batch keeps its validation result and its articles and claims as JSON.
Releasing re-validates them with the current suites and loads them in the same
transaction that marks the batch released, so a batch loads at most once; a
second release, or one of a dropped batch, is refused.  Dropping keeps the
pages recorded as quarantined, so they are not fetched again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pipeline.errors import PermanentError
from pipeline.quality.gate import Gate, QualityError
from pipeline.quality.split import Held
from pipeline.records import Article, Batch, Claim, LoadResult, from_json, stable_id, to_json
from pipeline.store.batches import load_batch
from pipeline.store.db import utcnow

if TYPE_CHECKING:
    import duckdb

    from pipeline.topics import TopicConfig

QUARANTINED, RELEASED, DROPPED = "quarantined", "released", "dropped"
_COLUMNS = "batch_id, topic, topic_file, run_id, status, whole, articles, claims, result, created_at, resolved_at, note"


class QuarantineError(PermanentError, ValueError):
    """A quarantined batch that does not exist, or is no longer quarantined."""


@dataclass(frozen=True)
class QuarantinedBatch:
    """One held batch as listed and shown: what failed (``result``) and how far it has been handled."""

    batch_id: str
    topic: str
    topic_file: str | None
    run_id: str
    status: str
    whole: bool
    articles: int
    claims: int
    result: dict[str, Any]
    created_at: datetime
    resolved_at: datetime | None
    note: str | None


def batch_id_of(topic: str, run_id: str) -> str:
    """One held batch per topic and run: a retried load records it once."""
    return stable_id(topic, run_id, "quality")


def record_held(con: duckdb.DuckDBPyConnection, topic: str, topic_file: str | None, run_id: str, held: Held) -> str:
    """Store a held batch (inside the caller's transaction); recording it again changes nothing."""
    batch_id = batch_id_of(topic, run_id)
    records = {"articles": [to_json(a) for a in held.articles], "claims": [to_json(c) for c in held.claims]}
    con.execute(
        f"INSERT INTO quarantine_batches ({_COLUMNS}, records) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT (batch_id) DO NOTHING",
        [
            batch_id,
            topic,
            topic_file,
            run_id,
            QUARANTINED,
            held.whole,
            len(held.articles),
            len(held.claims),
            json.dumps(held.to_dict()),
            utcnow(),
            None,
            None,
            json.dumps(records),
        ],  # fmt: skip
    )
    return batch_id


def list_quarantine(con: duckdb.DuckDBPyConnection, status: str | None = None) -> list[QuarantinedBatch]:
    """Held batches, newest first; only those in ``status`` when given."""
    sql = f"SELECT {_COLUMNS} FROM quarantine_batches"
    params: list[Any] = []
    if status:
        sql += " WHERE status = ?"
        params.append(status)
    rows = con.execute(sql + " ORDER BY created_at DESC, batch_id", params).fetchall()
    return [_entry(r) for r in rows]


def get_quarantined(con: duckdb.DuckDBPyConnection, batch_id: str) -> QuarantinedBatch:
    row = con.execute(f"SELECT {_COLUMNS} FROM quarantine_batches WHERE batch_id = ?", [batch_id]).fetchone()
    if row is None:
        raise QuarantineError(f"no quarantined batch {batch_id!r} (see 'claimwatch quarantine list')")
    return _entry(row)


def held_records(con: duckdb.DuckDBPyConnection, batch_id: str) -> tuple[list[Article], list[Claim]]:
    """The held articles and claims, as they were when the gate stopped them."""
    row = con.execute("SELECT records FROM quarantine_batches WHERE batch_id = ?", [batch_id]).fetchone()
    if row is None:
        raise QuarantineError(f"no quarantined batch {batch_id!r} (see 'claimwatch quarantine list')")
    raw = json.loads(row[0])
    return [from_json(Article, a) for a in raw["articles"]], [from_json(Claim, c) for c in raw["claims"]]


def release(
    con: duckdb.DuckDBPyConnection, batch_id: str, topic: TopicConfig, gate: Gate, near_similarity: float
) -> LoadResult:
    """Re-validate a held batch with the current suites and load it once; refused if it still fails."""
    entry = _require_quarantined(get_quarantined(con, batch_id))
    articles, claims = held_records(con, batch_id)
    reports = [gate.validate_articles(articles, claims), gate.validate_claims(claims, topic)]
    failed = [f"  - [{r.suite}] {line}" for r in reports for line in r.failures]
    if failed:
        raise QualityError(f"batch {batch_id} still fails the current suites; not released:\n" + "\n".join(failed))
    run_id = f"release:{batch_id}"
    return load_batch(
        con,
        Batch(entry.topic, articles, claims),
        run_id,
        near_similarity=near_similarity,
        first=lambda c: _claim_release(c, entry, [a.url for a in articles], run_id),
    )


def drop(con: duckdb.DuckDBPyConnection, batch_id: str, note: str) -> None:
    """Give up on a held batch, saying why; its pages stay quarantined and are not fetched again."""
    if not note.strip():
        raise QuarantineError("dropping a quarantined batch needs a note saying why")
    _require_quarantined(get_quarantined(con, batch_id))
    con.execute(
        "UPDATE quarantine_batches SET status = ?, resolved_at = ?, note = ? WHERE batch_id = ? AND status = ?",
        [DROPPED, utcnow(), note, batch_id, QUARANTINED],
    )


def _claim_release(con: duckdb.DuckDBPyConnection, entry: QuarantinedBatch, urls: list[str], run_id: str) -> None:
    """Inside the release's transaction: mark it released (exactly once) and forget the pages' quarantine,
    so the load records them as stored."""
    row = con.execute(
        "UPDATE quarantine_batches SET status = ?, resolved_at = ?, release_run_id = ?"
        " WHERE batch_id = ? AND status = ? RETURNING batch_id",
        [RELEASED, utcnow(), run_id, entry.batch_id, QUARANTINED],
    ).fetchone()
    if row is None:
        raise QuarantineError(f"batch {entry.batch_id} was released or dropped meanwhile")
    if urls:
        con.execute(
            "DELETE FROM seen_urls WHERE topic = ? AND outcome = 'quarantined' AND list_contains(?, url)",
            [entry.topic, urls],
        )
        con.execute(
            "DELETE FROM quarantine WHERE topic = ? AND stage = 'quality' AND list_contains(?, url)",
            [entry.topic, urls],
        )


def _require_quarantined(entry: QuarantinedBatch) -> QuarantinedBatch:
    if entry.status != QUARANTINED:
        when = f" at {entry.resolved_at.isoformat()}" if entry.resolved_at else ""
        raise QuarantineError(f"batch {entry.batch_id} is already {entry.status}{when}; nothing to do")
    return entry


def _entry(row: tuple[Any, ...]) -> QuarantinedBatch:
    result = row[8] if isinstance(row[8], dict) else json.loads(row[8])
    return QuarantinedBatch(
        batch_id=row[0], topic=row[1], topic_file=row[2], run_id=row[3], status=row[4], whole=bool(row[5]),
        articles=int(row[6]), claims=int(row[7]), result=result, created_at=row[9], resolved_at=row[10], note=row[11],
    )  # fmt: skip
