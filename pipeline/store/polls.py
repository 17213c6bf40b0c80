"""Feed polls and their history (``feed_state``, ``feed_polls``), feed health verdicts,
and the raw archive's index of fetched pages (``raw_pages``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pipeline.records import (
    ArchivedPage,
    FeedEntry,
    FeedPoll,
    from_json,
    to_json,
)
from pipeline.topics import TopicConfig

if TYPE_CHECKING:
    import duckdb

    from pipeline.ingest.health import FeedHealth, PollRecord


def record_polls(con: duckdb.DuckDBPyConnection, topic: str, polls: Sequence[FeedPoll], now: datetime) -> None:
    """Upsert each poll; validators change only on a successful poll, the entry count only when parsed.
    A feed left unpolled gets its status but keeps ``last_polled_at``, so it is polled first next run."""
    for p in polls:
        con.execute(
            "INSERT INTO feed_state (topic, feed_url, last_polled_at, last_status, entries_seen, etag,"
            " last_modified, body_sha256) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (topic, feed_url) DO UPDATE"
            " SET last_polled_at = coalesce(excluded.last_polled_at, feed_state.last_polled_at),"
            " last_status = excluded.last_status,"
            " entries_seen = coalesce(excluded.entries_seen, feed_state.entries_seen),"
            " etag = CASE WHEN excluded.last_status LIKE 'ok%' THEN excluded.etag ELSE feed_state.etag END,"
            " last_modified = CASE WHEN excluded.last_status LIKE 'ok%'"
            " THEN excluded.last_modified ELSE feed_state.last_modified END,"
            " body_sha256 = CASE WHEN excluded.last_status LIKE 'ok%'"
            " THEN excluded.body_sha256 ELSE feed_state.body_sha256 END",
            [topic, p.feed_url, now if p.polled else None, p.status, p.entries, p.etag, p.last_modified, p.body_sha256],
        )


def record_archived(con: duckdb.DuckDBPyConnection, topic: str, pages: Sequence[ArchivedPage], run_id: str) -> None:
    """Point each fetched URL at its archived bytes (the latest fetch wins)."""
    for page in pages:
        con.execute(
            "INSERT INTO raw_pages (topic, url, final_url, sha256, content_type, status, fetched_at, entry, run_id)"
            " VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (topic, url) DO UPDATE SET final_url = excluded.final_url,"
            " sha256 = excluded.sha256, content_type = excluded.content_type, status = excluded.status,"
            " fetched_at = excluded.fetched_at, entry = excluded.entry, run_id = excluded.run_id",
            [
                topic,
                page.url,
                page.final_url,
                page.sha256,
                page.content_type,
                page.status,
                page.fetched_at,
                json.dumps(to_json(page.entry)),
                run_id,
            ],
        )


def feed_validators(con: duckdb.DuckDBPyConnection, topic: str) -> dict[str, tuple[str | None, str | None, str | None]]:
    """feed URL (as configured) -> (etag, last_modified, body_sha256) saved by its last good poll."""
    rows = con.execute(
        "SELECT feed_url, etag, last_modified, body_sha256 FROM feed_state WHERE topic = ?", [topic]
    ).fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def feed_poll_times(con: duckdb.DuckDBPyConnection, topic: str) -> dict[str, datetime]:
    """feed URL (as configured) -> when it was last polled (feeds never polled are absent)."""
    rows = con.execute(
        "SELECT feed_url, last_polled_at FROM feed_state WHERE topic = ? AND last_polled_at IS NOT NULL", [topic]
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def archived_pages(
    con: duckdb.DuckDBPyConnection, topic: str, since: datetime
) -> list[tuple[ArchivedPage, str | None, str | None]]:
    """Pages of a topic fetched at or after ``since``, oldest first, each with the outcome and article id
    its URL has in ``seen_urls``."""
    rows = con.execute(
        "SELECT r.url, r.final_url, r.sha256, r.content_type, r.status, r.fetched_at, r.entry,"
        " s.outcome, s.article_id FROM raw_pages r"
        " LEFT JOIN seen_urls s ON s.topic = r.topic AND s.url = r.url"
        " WHERE r.topic = ? AND r.fetched_at >= ? ORDER BY r.fetched_at, r.url",
        [topic, since],
    ).fetchall()
    return [
        (ArchivedPage(r[0], r[1], r[2], r[3] or "", r[4], r[5], from_json(FeedEntry, json.loads(r[6]))), r[7], r[8])
        for r in rows
    ]


def record_poll_history(
    con: duckdb.DuckDBPyConnection, topic: str, polls: Sequence[FeedPoll], now: datetime, run_id: str
) -> None:
    """Append this run's polls to ``feed_polls`` and keep ``feed_state``'s running counts.

    Also called on its own when every feed failed (the run stops before its
    load), so failures in a row are counted even then.  A feed left unpolled was not a poll: it
    is neither an answer nor a failure.
    """
    for p in polls:
        if not p.polled:
            continue
        ok = p.status.startswith("ok")
        con.execute(
            "INSERT INTO feed_polls (topic, feed_url, polled_at, ok, entries, new_entries, status, run_id)"
            " VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
            [topic, p.feed_url, now, ok, p.entries, p.new_entries, p.status, run_id],
        )
        con.execute(
            "INSERT INTO feed_state (topic, feed_url, last_polled_at, last_status, entries_seen)"
            " VALUES (?,?,?,?,?) ON CONFLICT (topic, feed_url) DO UPDATE"
            " SET last_polled_at = excluded.last_polled_at, last_status = excluded.last_status,"
            " entries_seen = coalesce(excluded.entries_seen, feed_state.entries_seen)",
            [topic, p.feed_url, now, p.status, p.entries],
        )
        con.execute(
            "UPDATE feed_state SET"
            " consecutive_failures = CASE WHEN ? THEN 0 ELSE coalesce(consecutive_failures, 0) + 1 END,"
            " last_ok_at = CASE WHEN ? THEN ? ELSE last_ok_at END,"
            " last_new_at = CASE WHEN ? THEN ? ELSE last_new_at END"
            " WHERE topic = ? AND feed_url = ?",
            [ok, ok, now, ok and p.new_entries > 0, now, topic, p.feed_url],
        )


def recent_polls(con: duckdb.DuckDBPyConnection, topic: str, per_feed: int) -> dict[str, list[PollRecord]]:
    """The latest ``per_feed`` polls of each feed of a topic: all a health verdict reads."""
    from pipeline.ingest.health import PollRecord

    rows = con.execute(
        "SELECT feed_url, polled_at, ok, new_entries, status FROM ("
        " SELECT *, row_number() OVER (PARTITION BY feed_url ORDER BY polled_at DESC) AS n"
        " FROM feed_polls WHERE topic = ?) WHERE n <= ? ORDER BY feed_url, polled_at",
        [topic, per_feed],
    ).fetchall()
    out: dict[str, list[PollRecord]] = {}
    for feed_url, polled_at, ok, new_entries, status in rows:
        out.setdefault(feed_url, []).append(PollRecord(polled_at, ok, new_entries, status))
    return out


def set_feed_health(con: duckdb.DuckDBPyConnection, topic: str, verdicts: Sequence[FeedHealth]) -> None:
    for v in verdicts:
        con.execute(
            "UPDATE feed_state SET health = ?, health_detail = ? WHERE topic = ? AND feed_url = ?",
            [v.state, v.detail, topic, v.feed_url],
        )


def judge_feeds(con: Any, topic: TopicConfig, now: datetime) -> list[FeedHealth]:
    """The health verdict on each configured feed of a topic, from its recent polls."""
    from pipeline.ingest import feeds
    from pipeline.ingest.health import feed_health

    history = recent_polls(con, topic.name, topic.feed_health.history_polls)
    labels = [feeds.feed_address(f) for f in topic.feeds]  # the key polls are recorded under
    return [feed_health(label, history.get(label, []), now, topic.feed_health) for label in labels]


def last_good_ingest(con: duckdb.DuckDBPyConnection, topic: str) -> datetime | None:
    """When a load of the topic last committed: ok polls are written only in the load's transaction."""
    row = con.execute("SELECT max(polled_at) FROM feed_polls WHERE topic = ? AND ok", [topic]).fetchone()
    return None if row is None or row[0] is None else row[0]
