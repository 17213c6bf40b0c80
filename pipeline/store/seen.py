"""What happened to every URL of a topic: ``seen_urls`` (never fetched again),
``url_failures`` (retried with backoff) and ``quarantine``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pipeline.records import (
    Batch,
    RetryPolicy,
    Skipped,
)

if TYPE_CHECKING:
    import duckdb


def seen_urls(con: duckdb.DuckDBPyConnection, topic: str) -> set[str]:
    rows = con.execute("SELECT url FROM seen_urls WHERE topic = ?", [topic]).fetchall()
    return {r[0] for r in rows}


def retry_schedule(con: duckdb.DuckDBPyConnection, topic: str) -> dict[str, datetime]:
    """URL -> when it may be tried again, for the topic's URLs waiting after a failure."""
    rows = con.execute("SELECT url, next_retry_at FROM url_failures WHERE topic = ?", [topic]).fetchall()
    return {r[0]: r[1] for r in rows}


def record_failures(
    con: duckdb.DuckDBPyConnection, batch: Batch, policy: RetryPolicy, now: datetime, run_id: str
) -> list[Skipped]:
    """Count one more failed attempt per URL; the URLs out of attempts come back as quarantined."""
    given_up: list[Skipped] = []
    for f in batch.failures:
        row = con.execute(
            "SELECT attempts FROM url_failures WHERE topic = ? AND url = ?", [batch.topic, f.url]
        ).fetchone()
        attempts = (int(row[0]) if row else 0) + 1
        retry_at = policy.next_retry(attempts, now)
        if retry_at is None:
            con.execute("DELETE FROM url_failures WHERE topic = ? AND url = ?", [batch.topic, f.url])
            given_up.append(Skipped(f.url, "quarantined", f"gave up after {attempts} attempts: {f.reason}", f.stage))
            continue
        con.execute(
            "INSERT INTO url_failures VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (topic, url) DO UPDATE"
            " SET stage = excluded.stage, attempts = excluded.attempts, last_reason = excluded.last_reason,"
            " last_failed_at = excluded.last_failed_at, next_retry_at = excluded.next_retry_at,"
            " run_id = excluded.run_id",
            [batch.topic, f.url, f.stage, attempts, f.reason, now, now, retry_at, run_id],
        )
    return given_up


def mark_seen(
    con: duckdb.DuckDBPyConnection,
    topic: str,
    url: str,
    outcome: str,
    article_id: str | None,
    now: datetime,
    run_id: str,
    *,
    duplicate_of: str | None = None,
    kind: str | None = None,
    similarity: float | None = None,
    reason: str | None = None,
) -> None:
    con.execute(
        "INSERT INTO seen_urls (topic, url, outcome, article_id, first_seen_at, run_id, duplicate_of,"
        " duplicate_kind, similarity, reason) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
        [topic, url, outcome, article_id, now, run_id, duplicate_of, kind, similarity, reason],
    )
