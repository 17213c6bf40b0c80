"""DuckDB storage: migrations, atomic batch loads, the contradiction check's reads
and the alert outbox.

Every function takes an open connection or a path: the database is a resource
passed in, never a constant.  Connections are short-lived because DuckDB lets
one process write at a time and blocks other processes while it does;
``connect`` waits for the lock with backoff instead of failing at once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

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

DEFAULT_SQL_DIR = Path(__file__).resolve().parents[1] / "sql"
LOCK_MARKERS = ("Could not set lock", "Conflicting lock")


class StoreError(RuntimeError):
    """The database could not be opened or migrated."""


def _now() -> datetime:
    return datetime.now(UTC)


def connect(
    db_path: str | Path,
    *,
    read_only: bool = False,
    lock_timeout: float = 120.0,
    sleep: Callable[[float], None] = time.sleep,
) -> duckdb.DuckDBPyConnection:
    """Open the database, waiting (with backoff) while another process holds its lock."""
    import duckdb

    path = Path(db_path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + lock_timeout
    delay = 0.1
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if not any(m in str(exc) for m in LOCK_MARKERS) or time.monotonic() >= deadline:
                raise StoreError(f"cannot open {path}: {exc}") from exc
            sleep(delay)
            delay = min(delay * 2, 5.0)


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
    db_path: str | Path, *, read_only: bool = False, sql_dir: Path = DEFAULT_SQL_DIR
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A migrated connection, closed on exit."""
    con = connect(db_path, read_only=read_only)
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
    stage: str  # fetch | extract | dedup | relevance | quality
    article_id: str | None = None


@dataclass(frozen=True, slots=True)
class FeedPoll:
    feed_url: str
    status: str
    entries: int


@dataclass(frozen=True, slots=True)
class Batch:
    """Everything one ingest run of one topic stores, loaded in one transaction."""

    topic: str
    articles: list[Article] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    polls: list[FeedPoll] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class LoadResult:
    articles: int
    claims: int
    duplicates: int
    skipped: int


def seen_urls(con: duckdb.DuckDBPyConnection, topic: str) -> set[str]:
    rows = con.execute("SELECT url FROM seen_urls WHERE topic = ?", [topic]).fetchall()
    return {r[0] for r in rows}


def stored_keys(con: duckdb.DuckDBPyConnection) -> tuple[set[str], set[str]]:
    """(content hashes, article ids) already stored: the keys of exact duplicates."""
    rows = con.execute("SELECT content_hash, article_id FROM articles").fetchall()
    return {r[0] for r in rows}, {r[1] for r in rows}


def load_batch(con: duckdb.DuckDBPyConnection, batch: Batch, run_id: str) -> LoadResult:
    """Store a batch atomically: all of it or, on any error, none of it.

    Articles already stored (same id or same text) are skipped as duplicates
    here, inside the transaction, so two overlapping runs cannot both insert.
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
                f"INSERT INTO articles ({_ARTICLE_INSERT}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
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
                    a.published_precision or ("day" if a.published_at else "none"),
                ],
            )
            _mark_seen(con, batch.topic, a.url, "stored", a.article_id, now, run_id)
        for a in dropped:
            _mark_seen(con, batch.topic, a.url, "duplicate", a.article_id, now, run_id)
        for c in claims:
            con.execute(
                f"INSERT INTO claims ({_CLAIM_INSERT}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT DO NOTHING",
                _claim_row(c, run_id, now),
            )
        for s in batch.skipped:
            _mark_seen(con, batch.topic, s.url, s.outcome, s.article_id, now, run_id)
            if s.outcome == "quarantined":
                con.execute(
                    "INSERT INTO quarantine VALUES (?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                    [stable_id(batch.topic, s.url, s.stage), batch.topic, s.stage, s.url, s.reason, run_id, now],
                )
        for p in batch.polls:
            con.execute(
                "INSERT INTO feed_state VALUES (?,?,?,?,?) ON CONFLICT (topic, feed_url) DO UPDATE"
                " SET last_polled_at = excluded.last_polled_at, last_status = excluded.last_status,"
                " entries_seen = excluded.entries_seen",
                [batch.topic, p.feed_url, now, p.status, p.entries],
            )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return LoadResult(len(kept), len(claims), len(dropped), len(batch.skipped))


# Inserts name their columns: later migrations add columns at the end of a table.
_ARTICLE_INSERT = (
    "article_id, url, canonical_url, title, outlet, published_at, fetched_at, language, text, content_hash,"
    " run_id, loaded_at, published_precision"
)
_CLAIM_INSERT = (
    "claim_id, article_id, topic, metric, stated_low, stated_high, value_low, value_high, hedge, surface,"
    " sentence, char_start, char_end, attributed_to, relayed_by, refers_to, period_start, period_end,"
    " unverified, modality, role, extractor_version, run_id, loaded_at, source_family"
)


def _claim_row(c: Claim, run_id: str, now: datetime) -> list[Any]:
    """Column values of one ``claims`` row (``checked_at`` is set later, by ``record_check``)."""
    return [
        c.claim_id, c.article_id, c.topic, c.metric, c.stated_low, c.stated_high, c.value_low, c.value_high,
        c.hedge, c.surface, c.sentence, c.char_start, c.char_end, c.attributed_to, c.relayed_by, c.refers_to,
        c.period_start, c.period_end, c.unverified, c.modality, c.role, c.extractor_version, run_id, now,
        c.source_family,
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
    " c.extractor_version, a.url, a.outlet, a.published_at, c.source_family"
)


def _sourced(row: tuple[Any, ...]) -> SourcedClaim:
    claim = replace(Claim(*row[:22]), source_family=row[25])
    return SourcedClaim(claim=claim, url=row[22], outlet=row[23], published_at=row[24])


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
                "INSERT INTO alerts VALUES (?,?,?,?,?,?,?,'pending',0,NULL,?,NULL) ON CONFLICT DO NOTHING",
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
    rows = con.execute(
        "SELECT alert_id, contradiction_id, topic, metric, severity, route_url, payload"
        " FROM alerts WHERE status = 'pending' AND topic = ? ORDER BY created_at, alert_id",
        [topic],
    ).fetchall()
    return [Alert(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6])) for r in rows]


def mark_delivered(con: duckdb.DuckDBPyConnection, alert_id: str) -> None:
    con.execute(
        "UPDATE alerts SET status = 'delivered', delivered_at = ?, attempts = attempts + 1,"
        " last_error = NULL WHERE alert_id = ?",
        [_now(), alert_id],
    )


def mark_failed(con: duckdb.DuckDBPyConnection, alert_id: str, error: str) -> None:
    con.execute(
        "UPDATE alerts SET attempts = attempts + 1, last_error = ? WHERE alert_id = ?",
        [error[:2000], alert_id],
    )


def stored_articles(con: duckdb.DuckDBPyConnection, topic: str) -> list[Article]:
    """Articles that produced claims for a topic (or were stored under it): the input of reprocessing."""
    rows = con.execute(
        "SELECT a.article_id, a.url, a.canonical_url, a.title, a.outlet, a.published_at,"
        " a.fetched_at, a.language, a.text, a.content_hash, a.published_precision FROM articles a"
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
                    f"INSERT INTO claims ({_CLAIM_INSERT}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
                    " ON CONFLICT (claim_id) DO UPDATE SET stated_low = excluded.stated_low,"
                    " stated_high = excluded.stated_high, value_low = excluded.value_low,"
                    " value_high = excluded.value_high, hedge = excluded.hedge,"
                    " surface = excluded.surface, sentence = excluded.sentence,"
                    " attributed_to = excluded.attributed_to, relayed_by = excluded.relayed_by,"
                    " refers_to = excluded.refers_to, period_start = excluded.period_start,"
                    " period_end = excluded.period_end, unverified = excluded.unverified,"
                    " modality = excluded.modality, role = excluded.role,"
                    " extractor_version = excluded.extractor_version, run_id = excluded.run_id,"
                    " source_family = excluded.source_family",
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


def publish_snapshot(db_path: str | Path) -> Path:
    """Copy the database to a read-only snapshot for analysts, replacing the last one atomically.

    Analysts who query the snapshot never hold the lock the pipeline needs,
    and an analyst's open session keeps reading the copy it opened.
    """
    target = snapshot_path(db_path)
    tmp = target.with_name(target.name + ".tmp")
    tmp.unlink(missing_ok=True)
    with open_store(db_path) as con:
        catalog = con.execute("SELECT current_database()").fetchone()
        quoted = str(tmp).replace("'", "''")  # ATTACH takes no parameters; the path is ours, not input
        con.execute(f"ATTACH '{quoted}' AS claimwatch_snapshot")
        try:
            con.execute(f'COPY FROM DATABASE "{catalog[0] if catalog else "main"}" TO claimwatch_snapshot')
        finally:
            con.execute("DETACH claimwatch_snapshot")
    tmp.replace(target)
    return target


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {t: _count(con, t) for t in ("articles", "claims", "contradictions", "alerts", "quarantine")}
