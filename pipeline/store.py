"""DuckDB storage: migrations, atomic batch loads, the contradiction check's reads
and the alert outbox.

Every function takes an open connection or a path: the database is a resource
passed in, never a constant.  Connections are short-lived because DuckDB lets
one process write at a time and blocks other processes while it does;
``connect`` waits a few seconds for the lock, then fails naming the process
that holds it (analysts belong on the snapshot, not the live file).

No SQL text is built from a value that could come from outside: values are
bound parameters, and the only identifiers formatted in are constants.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pipeline.dedup import (
    BANDS,
    DEFAULT_NEAR_SIMILARITY,
    Fingerprint,
    Match,
    best_match,
    fingerprint,
    outranks,
    precedence,
)
from pipeline.records import (
    Alert,
    Article,
    Claim,
    Contradiction,
    FeedEntry,
    SourcedClaim,
    from_json,
    stable_id,
    to_json,
)

if TYPE_CHECKING:
    import duckdb

    from pipeline.health import FeedHealth, PollRecord
    from pipeline.histories import Figure
    from pipeline.incidents import Incident

DEFAULT_SQL_DIR = Path(__file__).resolve().parents[1] / "sql"
LOCK_MARKERS = ("Could not set lock", "Conflicting lock")
# Pipeline tasks hold the database for seconds and take turns (one-slot pool),
# so a lock that outlives this wait is someone else's session, not ours.
LOCK_WAIT_SECONDS = 5.0
T = TypeVar("T")
_LOCK_HOLDER = re.compile(r"lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)(?: by user (?P<user>\S+))?")


class StoreError(RuntimeError):
    """The database could not be opened or migrated."""


class DatabaseLockedError(StoreError):
    """Another process holds the database's lock; the message names it and the way out."""


def _now() -> datetime:
    return datetime.now(UTC)


def lock_message(path: Path, error: str, waited: float) -> str:
    """Say who holds the lock and where analysts should read instead: the snapshot never blocks the pipeline."""
    found = _LOCK_HOLDER.search(error)
    if found:
        holder = f"process {found['pid']} ({found['program']}" + (f", user {found['user']}" if found["user"] else "")
        holder += ")"
    else:
        holder = "another process"
    return (
        f"{path} is locked by {holder}; gave up after {waited:.0f} s. "
        f"Only the pipeline should open the live database: analysts should query the snapshot "
        f"{snapshot_path(path)} (or 'claimwatch query'), which is refreshed after every run. "
        f"Close that session and run again."
    )


def connect(
    db_path: str | Path,
    *,
    read_only: bool = False,
    lock_timeout: float = LOCK_WAIT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> duckdb.DuckDBPyConnection:
    """Open the database, waiting briefly (with backoff) while another process holds its lock.

    The wait is short because the pipeline's own connections are: a lock held
    longer than ``lock_timeout`` seconds raises DatabaseLockedError at once
    instead of stalling the task for minutes.
    """
    import duckdb

    path = Path(db_path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    return _waiting_for_lock(lambda: duckdb.connect(str(path), read_only=read_only), path, lock_timeout, sleep)


def _waiting_for_lock(
    open_it: Callable[[], T], path: Path, lock_timeout: float, sleep: Callable[[float], None] = time.sleep
) -> T:
    """Run ``open_it`` until it gets past DuckDB's file lock or ``lock_timeout`` seconds have gone."""
    import duckdb

    started = time.monotonic()
    delay = 0.1
    while True:
        try:
            return open_it()
        except duckdb.IOException as exc:
            if not any(m in str(exc) for m in LOCK_MARKERS):
                raise StoreError(f"cannot open {path}: {exc}") from exc
            waited = time.monotonic() - started
            if waited >= lock_timeout:
                raise DatabaseLockedError(lock_message(path, str(exc), waited)) from exc
            sleep(min(delay, max(lock_timeout - waited, 0.01)))
            delay = min(delay * 2, 2.0)


def migrate(con: duckdb.DuckDBPyConnection, sql_dir: Path = DEFAULT_SQL_DIR) -> list[str]:
    """Apply pending migrations in order, each in its own transaction; then refresh views.

    Returns the versions applied now (empty when the schema is current).
    """
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
    )
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied: list[str] = []
    for path in sorted((sql_dir / "migrations").glob("*.sql")):
        version = path.name.split("_", 1)[0]
        if version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(path.read_text(encoding="utf-8"))
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", [version, path.stem, _now()])
            con.execute("COMMIT")
        except Exception as exc:
            con.execute("ROLLBACK")
            raise StoreError(f"migration {path.name} failed: {exc}") from exc
        applied.append(version)
        if version in _BACKFILLS:
            _BACKFILLS[version](con)
    for path in sorted((sql_dir / "views").glob("*.sql")):
        con.execute(path.read_text(encoding="utf-8"))
    return applied


@contextmanager
def open_store(
    db_path: str | Path,
    *,
    read_only: bool = False,
    sql_dir: Path = DEFAULT_SQL_DIR,
    lock_timeout: float = LOCK_WAIT_SECONDS,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A migrated connection, closed on exit."""
    con = connect(db_path, read_only=read_only, lock_timeout=lock_timeout)
    try:
        if not read_only:
            migrate(con, sql_dir)
        yield con
    finally:
        con.close()


# --- ingestion --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Skipped:
    """A URL handled without storing an article: why, so it is never fetched again."""

    url: str
    outcome: str  # off_topic | quarantined | a pipeline.pages kind (paywall, gallery, ...)
    reason: str
    stage: str  # discover | fetch | extract | claims | dedup | relevance | quality
    article_id: str | None = None


@dataclass(frozen=True, slots=True)
class FeedPoll:
    """One poll of one feed.  ``entries`` None = not parsed (unchanged): the last count is kept.
    The validators are what the next poll sends back; an error poll keeps the stored ones."""

    feed_url: str
    status: str  # "ok[ (notes)]" or "error: ..."
    entries: int | None
    etag: str | None = None
    last_modified: str | None = None
    body_sha256: str | None = None
    new_entries: int = 0  # items this topic had never seen: what tells a live feed from a silent one


@dataclass(frozen=True, slots=True)
class ArchivedPage:
    """A fetched page's entry in the raw archive: the bytes are under ``archive/`` by ``sha256``."""

    url: str
    final_url: str
    sha256: str
    content_type: str
    status: int
    fetched_at: datetime
    entry: FeedEntry


@dataclass(frozen=True, slots=True)
class Failure:
    """A URL that failed for now (timeout, 5xx, refused connection): retried later, with backoff."""

    url: str
    stage: str  # discover | fetch
    reason: str


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often a failing URL is retried: after ``first_delay``, doubling, at most ``max_attempts`` attempts."""

    first_delay: timedelta = timedelta(hours=1)
    max_attempts: int = 5
    max_delay: timedelta = timedelta(days=2)

    def next_retry(self, attempts: int, now: datetime) -> datetime | None:
        """When to try again after ``attempts`` failed attempts; None = give up (quarantine)."""
        if attempts >= self.max_attempts:
            return None
        return now + min(self.first_delay * (2 ** (attempts - 1)), self.max_delay)


@dataclass(frozen=True, slots=True)
class Batch:
    """Everything one ingest run of one topic stores, loaded in one transaction."""

    topic: str
    articles: list[Article] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    polls: list[FeedPoll] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    archived: list[ArchivedPage] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class LoadResult:
    articles: int  # stored, near copies included
    claims: int
    duplicates: int  # exact copies, not stored again
    skipped: int
    retrying: int = 0
    given_up: int = 0
    near_duplicates: int = 0  # stored, linked to their original


def seen_urls(con: duckdb.DuckDBPyConnection, topic: str) -> set[str]:
    rows = con.execute("SELECT url FROM seen_urls WHERE topic = ?", [topic]).fetchall()
    return {r[0] for r in rows}


def retry_schedule(con: duckdb.DuckDBPyConnection, topic: str) -> dict[str, datetime]:
    """URL -> when it may be tried again, for the topic's URLs waiting after a failure."""
    rows = con.execute("SELECT url, next_retry_at FROM url_failures WHERE topic = ?", [topic]).fetchall()
    return {r[0]: r[1] for r in rows}


_ARTICLE_INSERT = (
    "INSERT INTO articles (article_id, url, canonical_url, title, outlet, published_at, fetched_at, language,"
    " text, content_hash, run_id, loaded_at, duplicate_of, duplicate_kind, similarity, published_precision)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING"
)
_CLAIM_INSERT = (
    "INSERT INTO claims (claim_id, article_id, topic, metric, stated_low, stated_high, value_low, value_high,"
    " hedge, surface, sentence, char_start, char_end, attributed_to, relayed_by, refers_to, period_start,"
    " period_end, unverified, modality, role, extractor_version, run_id, loaded_at, population, event, scope,"
    " metric_rule, source_family, copy_of_article)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
    " (SELECT duplicate_of FROM articles WHERE article_id = ?))"
)
# One statement for all bands; DuckDB answers an IN list on the indexed bucket key with
# index lookups (no row group is scanned), so the cost does not grow with the history
# (bench/bench_dedup.py measures it).
_BAND_LOOKUP = "SELECT DISTINCT article_id FROM fingerprint_bands WHERE band_key IN (" + ", ".join(["?"] * BANDS) + ")"


def store_fingerprint(con: duckdb.DuckDBPyConnection, article_id: str, print_: Fingerprint) -> None:
    """Index one article's text for near-duplicate lookups (idempotent)."""
    inserted = con.execute(
        "INSERT INTO article_fingerprints VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING article_id",
        [article_id, print_.signature],
    ).fetchall()
    if inserted:
        con.executemany("INSERT INTO fingerprint_bands VALUES (?, ?)", [[key, article_id] for key in print_.band_keys])


def find_copy_of(
    con: duckdb.DuckDBPyConnection, content_hash: str, print_: Fingerprint, near_similarity: float
) -> Match | None:
    """The stored article this text copies, exactly (same normalised text) or nearly, if any.

    Reads the articles with the same text hash (indexed) and those sharing an LSH
    bucket with the text, never the whole history.
    """
    same_text = con.execute("SELECT article_id FROM articles WHERE content_hash = ? LIMIT 1", [content_hash])
    exact = same_text.fetchone()
    if exact is not None:
        return Match(_original_of(con, str(exact[0])), 1.0, "exact")
    ids = sorted({str(r[0]) for r in con.execute(_BAND_LOOKUP, list(print_.band_keys)).fetchall()})
    rows = [
        (article_id, "", row[0])
        for article_id in ids
        if (
            row := con.execute(
                "SELECT signature FROM article_fingerprints WHERE article_id = ?", [article_id]
            ).fetchone()
        )
    ]
    found = best_match(content_hash, print_.signature, rows, near_similarity)
    return None if found is None else Match(_original_of(con, found.original_id), found.similarity, found.kind)


def _original_of(con: duckdb.DuckDBPyConnection, article_id: str) -> str:
    """The original an article id stands for: a stored article's own original (or itself), else the
    original recorded for that id when it was found to be an exact copy."""
    found = (
        con.execute(
            "SELECT coalesce(duplicate_of, article_id) FROM articles WHERE article_id = ?", [article_id]
        ).fetchone()
        or con.execute(
            "SELECT duplicate_of FROM seen_urls WHERE article_id = ? AND duplicate_of IS NOT NULL LIMIT 1", [article_id]
        ).fetchone()
    )
    return str(found[0]) if found else article_id


def _stored_article(con: duckdb.DuckDBPyConnection, article_id: str) -> Article | None:
    row = con.execute(
        "SELECT article_id, url, canonical_url, title, outlet, published_at, fetched_at, language, text,"
        " content_hash, published_precision FROM articles WHERE article_id = ?",
        [article_id],
    ).fetchone()
    return None if row is None else Article(*row)


def load_batch(
    con: duckdb.DuckDBPyConnection,
    batch: Batch,
    run_id: str,
    *,
    policy: RetryPolicy | None = None,
    near_similarity: float = DEFAULT_NEAR_SIMILARITY,
) -> LoadResult:
    """Store a batch atomically: all of it or, on any error, none of it.

    Copies are recognised here, inside the transaction, against the whole
    history and the batch itself, so two overlapping runs cannot both insert.
    Articles are taken in ``precedence`` order, so within a batch the original
    comes first; a stored article that turns out to be a later or tracked copy of
    a new one is demoted to a copy of it.
    """
    now = _now()
    claims_by_article: dict[str, list[Claim]] = {}
    for c in batch.claims:
        claims_by_article.setdefault(c.article_id, []).append(c)
    stored = near = exact = claims = 0
    in_batch_copies = sum(s.outcome == "duplicate" and s.article_id is not None for s in batch.skipped)
    con.execute("BEGIN TRANSACTION")
    try:
        for a in sorted(batch.articles, key=precedence):
            outcome = _load_article(con, batch.topic, a, claims_by_article.get(a.article_id, []), near_similarity,
                                    now, run_id)  # fmt: skip
            stored += outcome in ("stored", "near_duplicate")
            near += outcome == "near_duplicate"
            exact += outcome == "duplicate"
            if outcome in ("stored", "near_duplicate"):
                claims += len(claims_by_article.get(a.article_id, []))
        for s in batch.skipped:
            if s.outcome == "duplicate" and s.article_id is not None:  # an exact copy within the batch
                exact += 1
                _mark_seen(con, batch.topic, s.url, "duplicate", s.article_id, now, run_id, kind="exact",
                           duplicate_of=_original_of(con, s.article_id), similarity=1.0, reason=s.reason)  # fmt: skip
        given_up = _record_failures(con, batch, policy or RetryPolicy(), now, run_id)
        for s in [*batch.skipped, *given_up]:
            if s.outcome == "duplicate" and s.article_id is not None:
                continue
            _mark_seen(con, batch.topic, s.url, s.outcome, s.article_id, now, run_id, reason=s.reason)
            if s.outcome == "quarantined":
                con.execute(
                    "INSERT INTO quarantine VALUES (?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                    [stable_id(batch.topic, s.url, s.stage), batch.topic, s.stage, s.url, s.reason, run_id, now],
                )
        handled = [a.url for a in batch.articles] + [s.url for s in batch.skipped]
        if handled:
            con.execute("DELETE FROM url_failures WHERE topic = ? AND list_contains(?, url)", [batch.topic, handled])
        _record_polls(con, batch.topic, batch.polls, now)
        record_poll_history(con, batch.topic, batch.polls, now, run_id)
        _record_archived(con, batch.topic, batch.archived, run_id)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return LoadResult(
        stored,
        claims,
        exact,
        len(batch.skipped) - in_batch_copies,
        near_duplicates=near,
        retrying=len(batch.failures) - len(given_up),
        given_up=len(given_up),
    )


def _record_polls(con: duckdb.DuckDBPyConnection, topic: str, polls: Sequence[FeedPoll], now: datetime) -> None:
    """Upsert each poll; validators change only on a successful poll, the entry count only when parsed."""
    for p in polls:
        con.execute(
            "INSERT INTO feed_state (topic, feed_url, last_polled_at, last_status, entries_seen, etag,"
            " last_modified, body_sha256) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (topic, feed_url) DO UPDATE"
            " SET last_polled_at = excluded.last_polled_at, last_status = excluded.last_status,"
            " entries_seen = coalesce(excluded.entries_seen, feed_state.entries_seen),"
            " etag = CASE WHEN excluded.last_status LIKE 'ok%' THEN excluded.etag ELSE feed_state.etag END,"
            " last_modified = CASE WHEN excluded.last_status LIKE 'ok%'"
            " THEN excluded.last_modified ELSE feed_state.last_modified END,"
            " body_sha256 = CASE WHEN excluded.last_status LIKE 'ok%'"
            " THEN excluded.body_sha256 ELSE feed_state.body_sha256 END",
            [topic, p.feed_url, now, p.status, p.entries, p.etag, p.last_modified, p.body_sha256],
        )


def _record_archived(con: duckdb.DuckDBPyConnection, topic: str, pages: Sequence[ArchivedPage], run_id: str) -> None:
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


def stored_title_outlets(con: duckdb.DuckDBPyConnection, topic: str) -> list[tuple[str, str]]:
    """(title, outlet) of the topic's stored articles: the fallback identity of an unresolvable link."""
    rows = con.execute(
        "SELECT a.title, a.outlet FROM articles a JOIN seen_urls s ON s.article_id = a.article_id"
        " WHERE s.topic = ? AND s.outcome = 'stored' AND a.title IS NOT NULL AND a.outlet IS NOT NULL",
        [topic],
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


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


def _update_article_text(con: duckdb.DuckDBPyConnection, article: Article) -> None:
    """Replace a stored article's extracted fields (same id) with a new extraction of its archived page."""
    con.execute(
        "UPDATE articles SET title = ?, outlet = ?, published_at = coalesce(?, published_at), language = ?,"
        " text = ?, content_hash = ? WHERE article_id = ?",
        [
            article.title,
            article.outlet,
            article.published_at,
            article.language,
            article.text,
            article.content_hash,
            article.article_id,
        ],
    )


def record_poll_history(
    con: duckdb.DuckDBPyConnection, topic: str, polls: Sequence[FeedPoll], now: datetime, run_id: str
) -> None:
    """Append this run's polls to ``feed_polls`` and keep ``feed_state``'s running counts.

    Also called on its own when every feed failed (the run stops before its
    load), so failures in a row are counted even then.
    """
    for p in polls:
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
    from pipeline.health import PollRecord

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


def _record_failures(
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


def _load_article(
    con: duckdb.DuckDBPyConnection,
    topic: str,
    a: Article,
    claims: Sequence[Claim],
    near_similarity: float,
    now: datetime,
    run_id: str,
) -> str:
    """Store one article as an original, a near copy or not at all (exact copy); returns the outcome."""
    same_page = _stored_article(con, a.article_id)
    if same_page is not None:
        # Another spelling of a stored page (tracked, mobile, AMP): the cleaner address names the article.
        if outranks(a, same_page):
            if not _topic_has(con, topic, a.article_id):
                _insert_claims(con, claims, run_id, now)
            con.execute("UPDATE articles SET url = ? WHERE article_id = ?", [a.url, a.article_id])
            _relink_url(con, same_page.url, a.article_id, a.article_id)
            _mark_seen(con, topic, a.url, "stored", a.article_id, now, run_id)
            return "stored"
        if not _topic_has(con, topic, a.article_id):
            return _adopt(con, topic, a, claims, now, run_id)
        root = _original_of(con, a.article_id)
        _mark_seen(con, topic, a.url, "duplicate", a.article_id, now, run_id, duplicate_of=root, kind="exact",
                   similarity=1.0, reason="another address of a stored article")  # fmt: skip
        return "duplicate"
    print_ = fingerprint(a.text)
    match = find_copy_of(con, a.content_hash, print_, near_similarity)
    original = None if match is None else _stored_article(con, match.original_id)
    if match is not None and original is not None and outranks(a, original):
        # The new article is the earlier (or cleaner) one: it becomes the original.
        _insert_article(con, a, None, run_id, now)
        store_fingerprint(con, a.article_id, print_)
        _insert_claims(con, claims, run_id, now)
        _demote(con, original.article_id, a.article_id, match)
        _mark_seen(con, topic, a.url, "stored", a.article_id, now, run_id)
        return "stored"
    if match is not None and match.kind == "exact":
        _mark_seen(con, topic, a.url, "duplicate", a.article_id, now, run_id, duplicate_of=match.original_id,
                   kind="exact", similarity=1.0, reason="same text as a stored article")  # fmt: skip
        return "duplicate"
    _insert_article(con, a, match, run_id, now)
    store_fingerprint(con, a.article_id, print_)
    _insert_claims(con, claims, run_id, now)
    if match is None:
        _mark_seen(con, topic, a.url, "stored", a.article_id, now, run_id)
        return "stored"
    reason = f"near copy ({match.similarity:.2f}) of a stored article"
    _mark_seen(con, topic, a.url, "near_duplicate", a.article_id, now, run_id, duplicate_of=match.original_id,
               kind="near", similarity=match.similarity, reason=reason)  # fmt: skip
    return "near_duplicate"


def _topic_has(con: duckdb.DuckDBPyConnection, topic: str, article_id: str) -> bool:
    """Whether the topic already evaluated this stored article (under any of its addresses)."""
    return (
        con.execute(
            "SELECT 1 FROM seen_urls WHERE topic = ? AND article_id = ? AND outcome IN ('stored', 'near_duplicate')"
            " LIMIT 1",
            [topic, article_id],
        ).fetchone()
        is not None
    )


def _adopt(
    con: duckdb.DuckDBPyConnection, topic: str, a: Article, claims: Sequence[Claim], now: datetime, run_id: str
) -> str:
    """An article another topic stored: kept once, but this topic records it and gets its own claims.

    The article keeps its standing (original or near copy), so this topic's
    claims from a near copy are marked as relayed just as the first topic's are.
    """
    _insert_claims(con, claims, run_id, now)
    row = con.execute(
        "SELECT duplicate_of, duplicate_kind, similarity FROM articles WHERE article_id = ?", [a.article_id]
    ).fetchone()
    if row is None or row[0] is None:
        _mark_seen(con, topic, a.url, "stored", a.article_id, now, run_id)
        return "stored"
    outcome = "duplicate" if row[1] == "exact" else "near_duplicate"
    _mark_seen(con, topic, a.url, outcome, a.article_id, now, run_id, duplicate_of=str(row[0]), kind=row[1],
               similarity=row[2], reason=f"{row[1]} copy of a stored article")  # fmt: skip
    return outcome


def _insert_article(
    con: duckdb.DuckDBPyConnection, a: Article, match: Match | None, run_id: str, now: datetime
) -> None:
    con.execute(
        _ARTICLE_INSERT,
        [
            a.article_id, a.url, a.canonical_url, a.title, a.outlet, a.published_at, a.fetched_at, a.language,
            a.text, a.content_hash, run_id, now,
            None if match is None else match.original_id,
            None if match is None else match.kind,
            None if match is None else match.similarity,
            a.published_precision or ("day" if a.published_at else "none"),
        ],
    )  # fmt: skip


def _insert_claims(con: duckdb.DuckDBPyConnection, claims: Sequence[Claim], run_id: str, now: datetime) -> None:
    for c in claims:
        con.execute(_CLAIM_INSERT + " ON CONFLICT DO NOTHING", [*_claim_row(c, run_id, now), c.article_id])


def _demote(con: duckdb.DuckDBPyConnection, old: str, new: str, match: Match) -> None:
    """Make a stored original (and every copy of it) a copy of ``new``: articles, URLs and claims."""
    con.execute(
        "UPDATE articles SET duplicate_of = ?, duplicate_kind = ?, similarity = ? WHERE article_id = ?",
        [new, match.kind, match.similarity, old],
    )
    con.execute("UPDATE articles SET duplicate_of = ? WHERE duplicate_of = ?", [new, old])
    con.execute(
        "UPDATE seen_urls SET outcome = CASE WHEN outcome = 'stored' THEN ? ELSE outcome END,"
        " duplicate_of = ?, duplicate_kind = coalesce(duplicate_kind, ?), similarity = coalesce(similarity, ?)"
        " WHERE article_id = ? OR duplicate_of = ?",
        ["duplicate" if match.kind == "exact" else "near_duplicate", new, match.kind, match.similarity, old, old],
    )
    con.execute("UPDATE claims SET copy_of_article = ? WHERE article_id = ? OR copy_of_article = ?", [new, old, old])


def _relink_url(con: duckdb.DuckDBPyConnection, url: str, article_id: str, original: str) -> None:
    """A stored address that turned out to be a variant of the article's clean one: now a linked duplicate."""
    con.execute(
        "UPDATE seen_urls SET outcome = 'duplicate', article_id = ?, duplicate_of = ?, duplicate_kind = 'exact',"
        " similarity = 1.0, reason = 'another address of a stored article' WHERE url = ? AND outcome = 'stored'",
        [article_id, original, url],
    )


def _claim_row(c: Claim, run_id: str, now: datetime) -> list[Any]:
    """Column values of one ``claims`` row, in ``_CLAIM_INSERT`` order (``checked_at`` is set
    later, by ``record_check``)."""
    return [
        c.claim_id, c.article_id, c.topic, c.metric, c.stated_low, c.stated_high, c.value_low, c.value_high,
        c.hedge, c.surface, c.sentence, c.char_start, c.char_end, c.attributed_to, c.relayed_by, c.refers_to,
        c.period_start, c.period_end, c.unverified, c.modality, c.role, c.extractor_version, run_id, now,
        c.population, c.event, c.scope, c.metric_rule, c.source_family,
    ]  # fmt: skip


def _mark_seen(
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


def backfill_fingerprints(con: duckdb.DuckDBPyConnection) -> int:
    """Index the articles stored before near-duplicate detection existed (run once, by migration 0006)."""
    rows = con.execute(
        "SELECT article_id, text FROM articles WHERE article_id NOT IN (SELECT article_id FROM article_fingerprints)"
    ).fetchall()
    for article_id, text in rows:
        store_fingerprint(con, article_id, fingerprint(text))
    return len(rows)


_BACKFILLS: dict[str, Callable[[duckdb.DuckDBPyConnection], object]] = {"0006": backfill_fingerprints}


# --- claims as the contradiction check and reprocessing see them -------------------

_CLAIM_COLUMNS = (
    "c.claim_id, c.article_id, c.topic, c.metric, c.stated_low, c.stated_high, c.value_low,"
    " c.value_high, c.hedge, c.surface, c.sentence, c.char_start, c.char_end, c.attributed_to,"
    " c.relayed_by, c.refers_to, c.period_start, c.period_end, c.unverified, c.modality, c.role,"
    " c.extractor_version, c.population, c.event, c.scope, c.metric_rule, c.source_family, a.url, a.outlet,"
    " a.published_at, c.copy_of_article, a.content_hash"
)
# The engine's order (``pipeline.incidents``): same-moment articles by text, never by the address-derived id alone.
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


def has_histories(con: duckdb.DuckDBPyConnection, topic: str) -> bool:
    """Whether the topic's figure histories are there, or nothing was checked yet that would be in them.

    False on a database whose claims were checked before figure histories existed.
    """
    row = con.execute("SELECT EXISTS (SELECT 1 FROM figure_history WHERE topic = ?)", [topic]).fetchone()
    if row and row[0]:
        return True
    row = con.execute(
        "SELECT EXISTS (SELECT 1 FROM claims WHERE topic = ? AND checked_at IS NOT NULL AND metric <> 'other')",
        [topic],
    ).fetchone()
    return not (row and row[0])


def detection_state(
    con: duckdb.DuckDBPyConnection, topic: str, metrics: Sequence[str]
) -> tuple[list[Figure], list[Incident]]:
    """The figure histories of the given metrics and their incidents not resolved.

    All a check reads: its cost follows the state of the metrics it touches,
    not the number of claims stored.
    """
    from pipeline.histories import Figure, FigureKey
    from pipeline.incidents import Incident

    if not metrics:
        return [], []
    rows = con.execute(
        "SELECT figure_id, topic, family, metric, role, modality, scope, stated_low, stated_high, kind, vague_base,"
        " first_mention, first_seen, last_mention, last_seen, mentions, seq FROM figure_history"
        " WHERE topic = ? AND list_contains(?, metric) ORDER BY seq",
        [topic, list(metrics)],
    ).fetchall()
    figures = [
        Figure(
            figure_id=r[0],
            topic=r[1],
            family=r[2],
            key=FigureKey(r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10]),
            scope=r[6],
            first=from_json(SourcedClaim, json.loads(r[11])),
            first_seen=r[12],
            last=from_json(SourcedClaim, json.loads(r[13])),
            last_seen=r[14],
            mentions=r[15],
            seq=r[16],
        )
        for r in rows
    ]
    rows = con.execute(
        "SELECT incident_id, topic, metric, severity, status, opened_on, last_evidence_on, alerted_severity, edges"
        " FROM incidents WHERE topic = ? AND list_contains(?, metric) AND status <> 'resolved'"
        " ORDER BY opened_on, incident_id",
        [topic, list(metrics)],
    ).fetchall()
    incidents = [
        Incident(
            incident_id=r[0],
            topic=r[1],
            metric=r[2],
            severity=r[3],
            status=r[4],
            opened_on=r[5],
            last_evidence_on=r[6],
            alerted_severity=r[7],
            edges={(a, b) for a, b in json.loads(r[8])},
        )  # fmt: skip
        for r in rows
    ]
    return figures, incidents


def record_check(
    con: duckdb.DuckDBPyConnection,
    topic: str,
    checked_claim_ids: Sequence[str],
    contradictions: Sequence[Contradiction],
    alerts: Sequence[Alert],
    run_id: str,
    *,
    figures: Sequence[Figure] = (),
    incidents: Sequence[Incident] = (),
) -> tuple[int, int]:
    """Store figures, incidents and their evidence, queue alerts and mark claims checked, in one transaction.

    Returns (new contradictions, new alerts); evidence or an alert already
    stored is left alone, so repeating a check queues nothing twice.  The
    outbox rows commit with the incidents they page for, or not at all.
    """
    now = _now()
    con.execute("BEGIN TRANSACTION")
    try:
        before_x = _count(con, "contradictions")
        before_a = _count(con, "alerts")
        _insert_many(
            con,
            "INSERT INTO figure_history VALUES {rows} ON CONFLICT (figure_id) DO UPDATE SET"
            " first_seen = excluded.first_seen, last_seen = excluded.last_seen, mentions = excluded.mentions,"
            " first_mention = excluded.first_mention, last_mention = excluded.last_mention,"
            " updated_at = excluded.updated_at",
            [
                [
                    f.figure_id, f.topic, f.key.metric, f.family, f.node_id, f.key.role, f.key.modality,
                    f.key.scope, f.key.low, f.key.high, f.key.kind, f.key.vague_base, f.first_seen, f.last_seen,
                    f.mentions, f.seq, json.dumps(to_json(f.first)), json.dumps(to_json(f.last)), now,
                ]
                for f in {f.figure_id: f for f in figures}.values()
            ],
        )  # fmt: skip
        _insert_many(
            con,
            "INSERT INTO incidents VALUES {rows} ON CONFLICT (incident_id) DO UPDATE SET"
            " severity = excluded.severity, alerted_severity = excluded.alerted_severity,"
            " last_evidence_on = excluded.last_evidence_on, edges = excluded.edges, updated_at = excluded.updated_at",
            [
                [
                    i.incident_id, i.topic, i.metric, i.severity, i.alerted_severity, i.status, i.opened_on,
                    i.last_evidence_on, json.dumps(sorted(i.edges)), now, now,
                ]
                for i in {i.incident_id: i for i in incidents}.values()
            ],
        )  # fmt: skip
        _insert_many(
            con,
            "INSERT INTO contradictions (contradiction_id, claim_id, other_claim_id, topic, metric, severity,"
            " rule, reason, detected_at, run_id, incident_id) VALUES {rows} ON CONFLICT DO NOTHING",
            [
                [x.contradiction_id, x.claim_id, x.other_claim_id, x.topic, x.metric, x.severity, x.rule,
                 x.reason, now, run_id, x.incident_id]
                for x in {x.contradiction_id: x for x in reversed(contradictions)}.values()
            ],
        )  # fmt: skip
        _insert_many(
            con,
            "INSERT INTO alerts (alert_id, contradiction_id, topic, metric, severity, route_url, payload,"
            " status, attempts, last_error, created_at, delivered_at, incident_id)"
            " VALUES {rows} ON CONFLICT DO NOTHING",
            [
                [al.alert_id, al.contradiction_id, al.topic, al.metric, al.severity, al.route_url,
                 json.dumps(al.payload, sort_keys=True), "pending", 0, None, now, None, al.payload.get("incident_id")]
                for al in {al.alert_id: al for al in alerts}.values()
            ],
        )  # fmt: skip
        if checked_claim_ids:
            con.execute(
                "UPDATE claims SET checked_at = ? WHERE topic = ? AND claim_id IN (SELECT unnest(?::VARCHAR[]))",
                [now, topic, list(checked_claim_ids)],
            )
        new_x = _count(con, "contradictions") - before_x
        new_a = _count(con, "alerts") - before_a
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return new_x, new_a


def _insert_many(con: duckdb.DuckDBPyConnection, sql: str, rows: Sequence[Sequence[Any]], chunk: int = 500) -> None:
    """One parameterised multi-row INSERT per chunk: a statement per row costs milliseconds each in DuckDB.

    ``sql`` holds ``{rows}`` where the VALUES tuples go; keys must be unique within ``rows``.
    """
    for at in range(0, len(rows), chunk):
        part = rows[at : at + chunk]
        one = "(" + ",".join("?" * len(part[0])) + ")"
        con.execute(sql.format(rows=",".join([one] * len(part))), [v for row in part for v in row])


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()  # table names are constants here
    return int(row[0]) if row else 0


# An alert whose incident someone has acked or resolved is not sent: on-call already knows.
_INCIDENT_OPEN = (
    "NOT EXISTS (SELECT 1 FROM incidents i WHERE i.incident_id = alerts.incident_id AND i.status <> 'open')"
)


def pending_alerts(con: duckdb.DuckDBPyConnection, topic: str) -> list[Alert]:
    """Alerts not yet delivered: queued ones, and ones a crashed or running sender claimed."""
    rows = con.execute(
        "SELECT alert_id, contradiction_id, topic, metric, severity, route_url, payload"
        f" FROM alerts WHERE status IN ('pending', 'sending') AND topic = ? AND {_INCIDENT_OPEN}"
        " ORDER BY created_at, alert_id",
        [topic],
    ).fetchall()
    return [Alert(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6])) for r in rows]


def claim_alert(
    con: duckdb.DuckDBPyConnection, alert_id: str, lease_seconds: float, now: datetime | None = None
) -> bool:
    """Record an attempt before sending: True if this sender may send the alert now.

    The claim is committed before the send, so a crash leaves the alert in
    'sending' and the next run resends it (with the same id as idempotency
    key) once the lease has run out; while the lease runs, a second sender
    leaves it alone instead of sending it in parallel.
    """
    now = now or _now()
    row = con.execute(
        "UPDATE alerts SET status = 'sending', attempts = attempts + 1, last_attempt_at = ?, claimed_until = ?"
        " WHERE alert_id = ? AND (status = 'pending'"
        " OR (status = 'sending' AND (claimed_until IS NULL OR claimed_until <= ?)))"
        f" AND {_INCIDENT_OPEN} RETURNING alert_id",
        [now, now + timedelta(seconds=lease_seconds), alert_id, now],
    ).fetchone()
    return row is not None


def mark_delivered(con: duckdb.DuckDBPyConnection, alert_id: str) -> None:
    con.execute(
        "UPDATE alerts SET status = 'delivered', delivered_at = ?, claimed_until = NULL, last_error = NULL"
        " WHERE alert_id = ?",
        [_now(), alert_id],
    )


def mark_failed(con: duckdb.DuckDBPyConnection, alert_id: str, error: str) -> None:
    """Back to 'pending' with the reason: the channel said no, so nothing is in flight."""
    con.execute(
        "UPDATE alerts SET status = 'pending', claimed_until = NULL, last_error = ?"
        " WHERE alert_id = ? AND status <> 'delivered'",
        [error[:2000], alert_id],
    )


# --- the on-call workflow ---------------------------------------------------------------

INCIDENT_STATUSES = ("open", "acked", "resolved")


class UnknownIncidentError(StoreError):
    """An incident id that is not in the database."""


@dataclass(frozen=True, slots=True)
class IncidentRow:
    """One incident as on-call sees it: state, figures in conflict, how much evidence, last action."""

    incident_id: str
    topic: str
    metric: str
    severity: str
    status: str
    opened_on: date
    last_evidence_on: date
    evidence: int
    note: str | None


def list_incidents(con: duckdb.DuckDBPyConnection, status: str | None = None, limit: int = 500) -> list[IncidentRow]:
    """Incidents, most recent evidence first; ``status`` filters to one state."""
    if status is not None and status not in INCIDENT_STATUSES:
        raise ValueError(f"unknown incident status {status!r} (one of {', '.join(INCIDENT_STATUSES)})")
    rows = con.execute(
        "SELECT i.incident_id, i.topic, i.metric, i.severity, i.status, i.opened_on, i.last_evidence_on,"
        " (SELECT count(*) FROM contradictions x WHERE x.incident_id = i.incident_id),"
        " (SELECT a.note FROM incident_actions a WHERE a.incident_id = i.incident_id"
        "  ORDER BY a.acted_at DESC LIMIT 1)"
        " FROM incidents i WHERE (? IS NULL OR i.status = ?)"
        " ORDER BY i.last_evidence_on DESC, i.incident_id LIMIT ?",
        [status, status, limit],
    ).fetchall()
    return [IncidentRow(*r) for r in rows]


def set_incident_status(con: duckdb.DuckDBPyConnection, incident_id: str, action: str, note: str | None = None) -> str:
    """Ack or resolve an incident and log the action; returns the status it had before.

    Its alerts still waiting are set aside ('suppressed') in the same
    transaction, so nobody is paged about an incident someone already handles.
    """
    status = {"ack": "acked", "resolve": "resolved"}[action]
    now = _now()
    con.execute("BEGIN TRANSACTION")
    try:
        row = con.execute("SELECT status FROM incidents WHERE incident_id = ?", [incident_id]).fetchone()
        if row is None:
            raise UnknownIncidentError(f"no incident {incident_id!r} (see 'claimwatch alerts list')")
        if row[0] == "resolved" and status == "acked":
            raise StoreError(f"incident {incident_id!r} is already resolved")
        con.execute("UPDATE incidents SET status = ?, updated_at = ? WHERE incident_id = ?", [status, now, incident_id])
        con.execute(
            "UPDATE alerts SET status = 'suppressed', last_error = ? WHERE incident_id = ? AND status = 'pending'",
            [f"incident {status}", incident_id],
        )
        con.execute("INSERT INTO incident_actions VALUES (?, ?, ?, ?)", [incident_id, action, note, now])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return str(row[0])


def incident_evidence(con: duckdb.DuckDBPyConnection, incident_ids: Sequence[str]) -> dict[str, list[tuple[Any, ...]]]:
    """Per incident, its conflicting figures as the analyst view shows them (newest first)."""
    if not incident_ids:
        return {}
    rows = con.execute(
        "SELECT incident_id, severity, new_surface, new_source, new_outlet, new_published_at,"
        " other_surface, other_source, other_outlet, other_published_at, reason"
        " FROM disagreements WHERE list_contains(?, incident_id) ORDER BY detected_at DESC, contradiction_id",
        [list(incident_ids)],
    ).fetchall()
    out: dict[str, list[tuple[Any, ...]]] = {}
    for r in rows:
        out.setdefault(r[0], []).append(tuple(r[1:]))
    return out


def stored_articles(con: duckdb.DuckDBPyConnection, topic: str) -> list[Article]:
    """Articles that produced claims for a topic (or were stored under it): the input of reprocessing."""
    rows = con.execute(
        "SELECT a.article_id, a.url, a.canonical_url, a.title, a.outlet, a.published_at,"
        " a.fetched_at, a.language, a.text, a.content_hash, a.published_precision FROM articles a"
        " WHERE a.article_id IN (SELECT article_id FROM seen_urls WHERE topic = ?"
        " AND outcome IN ('stored', 'near_duplicate'))"
        " ORDER BY a.published_at NULLS FIRST, a.article_id",
        [topic],
    ).fetchall()
    return [Article(*r) for r in rows]


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
    now = _now()
    con.execute("BEGIN TRANSACTION")
    try:
        for article in articles:
            _update_article_text(con, article)
        for article_id, claims in claims_by_article.items():
            keep = [c.claim_id for c in claims]
            con.execute(
                "DELETE FROM claims WHERE topic = ? AND article_id = ? AND NOT list_contains(?, claim_id)",
                [topic, article_id, keep],
            )
            for c in claims:
                con.execute(
                    _CLAIM_INSERT + " ON CONFLICT (claim_id) DO UPDATE SET stated_low = excluded.stated_low,"
                    " stated_high = excluded.stated_high, value_low = excluded.value_low,"
                    " value_high = excluded.value_high, hedge = excluded.hedge,"
                    " surface = excluded.surface, sentence = excluded.sentence,"
                    " attributed_to = excluded.attributed_to, relayed_by = excluded.relayed_by,"
                    " refers_to = excluded.refers_to, period_start = excluded.period_start,"
                    " period_end = excluded.period_end, unverified = excluded.unverified,"
                    " modality = excluded.modality, role = excluded.role,"
                    " extractor_version = excluded.extractor_version, run_id = excluded.run_id,"
                    " copy_of_article = excluded.copy_of_article, source_family = excluded.source_family",
                    [*_claim_row(c, run_id, now), c.article_id],
                )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return sum(len(v) for v in claims_by_article.values())


def snapshot_path(db_path: str | Path) -> Path:
    path = Path(db_path)
    return path.with_name(f"{path.stem}.snapshot{path.suffix or '.duckdb'}")


def publish_snapshot(db_path: str | Path, *, lock_timeout: float = LOCK_WAIT_SECONDS) -> Path:
    """Copy the database to a read-only snapshot for analysts, replacing the last one atomically.

    Analysts who query the snapshot never hold the lock the pipeline needs,
    and an analyst's open session keeps reading the copy it opened.  Both files
    are attached to an in-memory session by bound parameter under fixed
    aliases, so no part of either path (it comes from a run parameter) is ever
    read as SQL.
    """
    import duckdb

    source = Path(db_path)
    target = snapshot_path(source)
    tmp = target.with_name(target.name + ".tmp")
    tmp.unlink(missing_ok=True)
    with open_store(source, lock_timeout=lock_timeout):
        pass  # migrated, and fails with the lock holder named if the file is busy
    con = duckdb.connect()
    try:
        _waiting_for_lock(
            lambda: con.execute("ATTACH ? AS claimwatch_live (READ_ONLY)", [str(source)]), source, lock_timeout
        )
        con.execute("ATTACH ? AS claimwatch_snapshot", [str(tmp)])
        con.execute("COPY FROM DATABASE claimwatch_live TO claimwatch_snapshot")
    finally:
        con.close()
    tmp.replace(target)
    return target


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {t: _count(con, t) for t in ("articles", "claims", "contradictions", "alerts", "quarantine")}
