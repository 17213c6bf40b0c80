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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pipeline.records import (
    Alert,
    Article,
    Claim,
    Contradiction,
    SourcedClaim,
    stable_id,
)

if TYPE_CHECKING:
    import duckdb

    from pipeline.health import FeedHealth, PollRecord

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
    outcome: str  # duplicate | off_topic | quarantined
    reason: str
    stage: str  # discover | fetch | extract | claims | dedup | relevance | quality
    article_id: str | None = None


@dataclass(frozen=True, slots=True)
class FeedPoll:
    feed_url: str
    status: str  # "ok[ (notes)]" or "error: ..."
    entries: int
    new_entries: int = 0  # items this topic had never seen: what tells a live feed from a silent one


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


@dataclass(frozen=True, slots=True)
class LoadResult:
    articles: int
    claims: int
    duplicates: int
    skipped: int
    retrying: int = 0
    given_up: int = 0


def seen_urls(con: duckdb.DuckDBPyConnection, topic: str) -> set[str]:
    rows = con.execute("SELECT url FROM seen_urls WHERE topic = ?", [topic]).fetchall()
    return {r[0] for r in rows}


def retry_schedule(con: duckdb.DuckDBPyConnection, topic: str) -> dict[str, datetime]:
    """URL -> when it may be tried again, for the topic's URLs waiting after a failure."""
    rows = con.execute("SELECT url, next_retry_at FROM url_failures WHERE topic = ?", [topic]).fetchall()
    return {r[0]: r[1] for r in rows}


def stored_keys(con: duckdb.DuckDBPyConnection) -> tuple[set[str], set[str]]:
    """(content hashes, article ids) already stored: the keys of exact duplicates."""
    rows = con.execute("SELECT content_hash, article_id FROM articles").fetchall()
    return {r[0] for r in rows}, {r[1] for r in rows}


def load_batch(
    con: duckdb.DuckDBPyConnection, batch: Batch, run_id: str, policy: RetryPolicy | None = None
) -> LoadResult:
    """Store a batch atomically: all of it or, on any error, none of it.

    Articles already stored (same id or same text) are skipped as duplicates
    here, inside the transaction, so two overlapping runs cannot both insert.
    Failures of this run schedule their URL's next attempt, or quarantine it
    once ``policy.max_attempts`` is reached.
    """
    from pipeline.dedup import drop_duplicates

    now = _now()
    con.execute("BEGIN TRANSACTION")
    try:
        hashes, ids = stored_keys(con)
        kept, dropped = drop_duplicates(batch.articles, hashes, ids)
        kept_ids = {a.article_id for a in kept}
        claims = [c for c in batch.claims if c.article_id in kept_ids]
        for a in kept:
            con.execute(
                "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                [
                    a.article_id,
                    a.url,
                    a.canonical_url,
                    a.title,
                    a.outlet,
                    a.published_at,
                    a.fetched_at,
                    a.language,
                    a.text,
                    a.content_hash,
                    run_id,
                    now,
                ],
            )
            _mark_seen(con, batch.topic, a.url, "stored", a.article_id, now, run_id)
        for a in dropped:
            _mark_seen(con, batch.topic, a.url, "duplicate", a.article_id, now, run_id)
        for c in claims:
            con.execute(
                f"INSERT INTO claims ({_CLAIM_INSERT_COLUMNS}) VALUES ({_CLAIM_PLACEHOLDERS}) ON CONFLICT DO NOTHING",
                _claim_row(c, run_id, now),
            )
        given_up = _record_failures(con, batch, policy or RetryPolicy(), now, run_id)
        for s in [*batch.skipped, *given_up]:
            _mark_seen(con, batch.topic, s.url, s.outcome, s.article_id, now, run_id)
            if s.outcome == "quarantined":
                con.execute(
                    "INSERT INTO quarantine VALUES (?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                    [stable_id(batch.topic, s.url, s.stage), batch.topic, s.stage, s.url, s.reason, run_id, now],
                )
        handled = [a.url for a in kept] + [a.url for a in dropped] + [s.url for s in batch.skipped]
        if handled:
            con.execute("DELETE FROM url_failures WHERE topic = ? AND list_contains(?, url)", [batch.topic, handled])
        record_poll_history(con, batch.topic, batch.polls, now, run_id)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return LoadResult(
        len(kept),
        len(claims),
        len(dropped),
        len(batch.skipped),
        retrying=len(batch.failures) - len(given_up),
        given_up=len(given_up),
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


_CLAIM_INSERT_COLUMNS = (
    "claim_id, article_id, topic, metric, stated_low, stated_high, value_low, value_high, hedge, surface,"
    " sentence, char_start, char_end, attributed_to, relayed_by, refers_to, period_start, period_end, unverified,"
    " modality, role, extractor_version, run_id, loaded_at, population, event, scope, metric_rule"
)
_CLAIM_PLACEHOLDERS = ",".join("?" * len(_CLAIM_INSERT_COLUMNS.split(",")))


def _claim_row(c: Claim, run_id: str, now: datetime) -> list[Any]:
    """Column values of one ``claims`` row, in ``_CLAIM_INSERT_COLUMNS`` order (``checked_at`` is set
    later, by ``record_check``)."""
    return [
        c.claim_id, c.article_id, c.topic, c.metric, c.stated_low, c.stated_high, c.value_low, c.value_high,
        c.hedge, c.surface, c.sentence, c.char_start, c.char_end, c.attributed_to, c.relayed_by, c.refers_to,
        c.period_start, c.period_end, c.unverified, c.modality, c.role, c.extractor_version, run_id, now,
        c.population, c.event, c.scope, c.metric_rule,
    ]  # fmt: skip


def _mark_seen(
    con: duckdb.DuckDBPyConnection,
    topic: str,
    url: str,
    outcome: str,
    article_id: str | None,
    now: datetime,
    run_id: str,
) -> None:
    con.execute(
        "INSERT INTO seen_urls VALUES (?,?,?,?,?,?) ON CONFLICT DO NOTHING",
        [topic, url, outcome, article_id, now, run_id],
    )


# --- claims as the contradiction check and reprocessing see them -------------------

_CLAIM_COLUMNS = (
    "c.claim_id, c.article_id, c.topic, c.metric, c.stated_low, c.stated_high, c.value_low,"
    " c.value_high, c.hedge, c.surface, c.sentence, c.char_start, c.char_end, c.attributed_to,"
    " c.relayed_by, c.refers_to, c.period_start, c.period_end, c.unverified, c.modality, c.role,"
    " c.extractor_version, c.population, c.event, c.scope, c.metric_rule, a.url, a.outlet, a.published_at"
)


def _sourced(row: tuple[Any, ...]) -> SourcedClaim:
    claim = Claim(*row[:26])
    return SourcedClaim(claim=claim, url=row[26], outlet=row[27], published_at=row[28])


def topic_claims(con: duckdb.DuckDBPyConnection, topic: str) -> tuple[list[SourcedClaim], list[SourcedClaim]]:
    """(pending, checked) claims of a topic, oldest first, metric 'other' left out."""
    rows = con.execute(
        f"SELECT {_CLAIM_COLUMNS}, c.checked_at IS NULL AS pending FROM claims c"
        " JOIN articles a USING (article_id)"
        " WHERE c.topic = ? AND c.metric <> 'other'"
        " ORDER BY a.published_at NULLS FIRST, c.article_id, c.char_start",
        [topic],
    ).fetchall()
    pending = [_sourced(r[:-1]) for r in rows if r[-1]]
    checked = [_sourced(r[:-1]) for r in rows if not r[-1]]
    return pending, checked


def record_check(
    con: duckdb.DuckDBPyConnection,
    topic: str,
    checked_claim_ids: Sequence[str],
    contradictions: Sequence[Contradiction],
    alerts: Sequence[Alert],
    run_id: str,
) -> tuple[int, int]:
    """Store contradictions, queue their alerts and mark claims checked, in one transaction.

    Returns (new contradictions, new alerts); a pair or alert already stored is
    left alone, so repeating a check queues nothing twice.
    """
    now = _now()
    con.execute("BEGIN TRANSACTION")
    try:
        before_x = _count(con, "contradictions")
        before_a = _count(con, "alerts")
        for x in contradictions:
            con.execute(
                "INSERT INTO contradictions VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                [
                    x.contradiction_id,
                    x.claim_id,
                    x.other_claim_id,
                    x.topic,
                    x.metric,
                    x.severity,
                    x.rule,
                    x.reason,
                    now,
                    run_id,
                ],
            )
        for al in alerts:
            con.execute(
                "INSERT INTO alerts (alert_id, contradiction_id, topic, metric, severity, route_url, payload,"
                " status, attempts, created_at) VALUES (?,?,?,?,?,?,?,'pending',0,?) ON CONFLICT DO NOTHING",
                [
                    al.alert_id,
                    al.contradiction_id,
                    al.topic,
                    al.metric,
                    al.severity,
                    al.route_url,
                    json.dumps(al.payload, sort_keys=True),
                    now,
                ],
            )
        if checked_claim_ids:
            con.execute(
                "UPDATE claims SET checked_at = ? WHERE topic = ? AND list_contains(?, claim_id)",
                [now, topic, list(checked_claim_ids)],
            )
        new_x = _count(con, "contradictions") - before_x
        new_a = _count(con, "alerts") - before_a
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return new_x, new_a


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()  # table names are constants here
    return int(row[0]) if row else 0


def pending_alerts(con: duckdb.DuckDBPyConnection, topic: str) -> list[Alert]:
    """Alerts not yet delivered: queued ones, and ones a crashed or running sender claimed."""
    rows = con.execute(
        "SELECT alert_id, contradiction_id, topic, metric, severity, route_url, payload"
        " FROM alerts WHERE status IN ('pending', 'sending') AND topic = ? ORDER BY created_at, alert_id",
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
        " RETURNING alert_id",
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


def stored_articles(con: duckdb.DuckDBPyConnection, topic: str) -> list[Article]:
    """Articles that produced claims for a topic (or were stored under it): the input of reprocessing."""
    rows = con.execute(
        "SELECT a.article_id, a.url, a.canonical_url, a.title, a.outlet, a.published_at,"
        " a.fetched_at, a.language, a.text, a.content_hash FROM articles a"
        " WHERE a.article_id IN (SELECT article_id FROM seen_urls WHERE topic = ? AND outcome = 'stored')"
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
    now = _now()
    con.execute("BEGIN TRANSACTION")
    try:
        for article_id, claims in claims_by_article.items():
            keep = [c.claim_id for c in claims]
            con.execute(
                "DELETE FROM claims WHERE topic = ? AND article_id = ? AND NOT list_contains(?, claim_id)",
                [topic, article_id, keep],
            )
            for c in claims:
                con.execute(
                    f"INSERT INTO claims ({_CLAIM_INSERT_COLUMNS}) VALUES ({_CLAIM_PLACEHOLDERS})"
                    " ON CONFLICT (claim_id) DO UPDATE SET stated_low = excluded.stated_low,"
                    " stated_high = excluded.stated_high, value_low = excluded.value_low,"
                    " value_high = excluded.value_high, hedge = excluded.hedge,"
                    " surface = excluded.surface, sentence = excluded.sentence,"
                    " attributed_to = excluded.attributed_to, relayed_by = excluded.relayed_by,"
                    " refers_to = excluded.refers_to, period_start = excluded.period_start,"
                    " period_end = excluded.period_end, unverified = excluded.unverified,"
                    " modality = excluded.modality, role = excluded.role,"
                    " extractor_version = excluded.extractor_version, run_id = excluded.run_id",
                    _claim_row(c, run_id, now),
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
