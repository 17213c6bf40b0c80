"""A migrated store to work in, the analysts' snapshot published after each write, and putting
that snapshot back.

Migrations are the SQL files under ``sql/migrations`` (each in its own
transaction, recorded in ``schema_migrations``), some followed by a Python
backfill; views are refreshed from ``sql/views`` on every open.  Before
anything is written, a writer's open refuses a file this version cannot
trust: a schema migrated by a newer version, a truncated or unreadable file,
or a missing one whose snapshot or archive shows it existed (a new empty
database would fetch and alert everything again).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.settings import SQL_DIR
from pipeline.store.articles import backfill_fingerprints
from pipeline.store.db import (
    LOCK_WAIT_SECONDS,
    DatabaseDamagedError,
    SchemaTooNewError,
    StoreError,
    check_complete,
    connect,
    count_rows,
    damaged,
    is_damage,
    refuse_if_missing,
    snapshot_path,
    transaction,
    utcnow,
    waiting_for_lock,
)

if TYPE_CHECKING:
    import duckdb


def _version_key(version: str) -> tuple[int, str]:
    return (int(version), version) if version.isdigit() else (-1, version)


def known_versions(sql_dir: Path = SQL_DIR) -> list[str]:
    """The migration versions this code knows, oldest first."""
    return sorted((p.name.split("_", 1)[0] for p in (sql_dir / "migrations").glob("*.sql")), key=_version_key)


def check_schema_known(con: duckdb.DuckDBPyConnection, sql_dir: Path = SQL_DIR) -> None:
    """Raise SchemaTooNewError when the file records a migration newer than the newest this code has."""
    tables = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND table_name = ?",
        ["schema_migrations"],
    ).fetchone()
    if not tables or not tables[0]:
        return
    ours = known_versions(sql_dir)
    newest = ours[-1] if ours else "none"
    recorded = [str(r[0]) for r in con.execute("SELECT version FROM schema_migrations").fetchall()]
    newer = sorted((v for v in recorded if not ours or _version_key(v) > _version_key(newest)), key=_version_key)
    if newer:
        row = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
        where = row[0] if row and row[0] else "the database"
        raise SchemaTooNewError(
            f"{where} has schema version {newer[-1]}, newer than this claimwatch knows (its newest migration is "
            f"{newest}): a later version wrote it. Nothing was written; run that version, or restore a snapshot "
            "this version made."
        )


def migrate(con: duckdb.DuckDBPyConnection, sql_dir: Path = SQL_DIR) -> list[str]:
    """Apply pending migrations in order, each in its own transaction; then refresh views.

    Returns the versions applied now (empty when the schema is current).  A
    file that records a migration newer than any this code has is refused
    before anything is written (SchemaTooNewError): its tables may mean what
    this version does not know.
    """
    check_schema_known(con, sql_dir)
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
        try:
            with transaction(con):
                con.execute(path.read_text(encoding="utf-8"))
                con.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", [version, path.stem, utcnow()])
        except Exception as exc:
            raise StoreError(f"migration {path.name} failed: {exc}") from exc
        applied.append(version)
        if version in BACKFILLS:
            BACKFILLS[version](con)
    for path in sorted((sql_dir / "views").glob("*.sql")):
        con.execute(path.read_text(encoding="utf-8"))
    return applied


@contextmanager
def open_store(
    db_path: str | Path,
    *,
    read_only: bool = False,
    sql_dir: Path = SQL_DIR,
    lock_timeout: float = LOCK_WAIT_SECONDS,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A migrated connection, closed on exit; refused with a StoreError that names the way out when
    the file cannot be trusted (see the module docstring)."""
    with _trusted(Path(db_path), read_only=read_only, lock_timeout=lock_timeout) as con:
        if not read_only:
            migrate(con, sql_dir)
        yield con


def migrate_store(db_path: str | Path, *, start_over: bool = False, sql_dir: Path = SQL_DIR) -> list[str]:
    """Create or upgrade the database (``claimwatch migrate``); the versions applied now.

    ``start_over`` creates a missing database even though its snapshot or the
    raw archive shows earlier runs (their pages are then fetched, and their
    alerts sent, again).
    """
    with _trusted(Path(db_path), start_over=start_over) as con:
        return migrate(con, sql_dir)


@contextmanager
def _trusted(
    path: Path, *, read_only: bool = False, lock_timeout: float = LOCK_WAIT_SECONDS, start_over: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to a file that is whole (and, for a writer, not missing after earlier runs)."""
    import duckdb

    if not read_only and not start_over:
        refuse_if_missing(path)
    con = connect(path, read_only=read_only, lock_timeout=lock_timeout)
    try:
        check_complete(con, path)
        yield con
    except duckdb.Error as exc:
        if is_damage(exc):  # a damaged block met while reading
            raise damaged(path, str(exc)) from exc
        raise
    finally:
        con.close()


BACKFILLS: dict[str, Callable[[duckdb.DuckDBPyConnection], object]] = {"0006": backfill_fingerprints}


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
        waiting_for_lock(
            lambda: con.execute("ATTACH ? AS claimwatch_live (READ_ONLY)", [str(source)]), source, lock_timeout
        )
        con.execute("ATTACH ? AS claimwatch_snapshot", [str(tmp)])
        con.execute("COPY FROM DATABASE claimwatch_live TO claimwatch_snapshot")
    finally:
        con.close()
    tmp.replace(target)
    return target


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {t: count_rows(con, t) for t in ("articles", "claims", "contradictions", "alerts", "quarantine")}


@dataclass(frozen=True, slots=True)
class Restored:
    """What ``restore_snapshot`` did: the copy put in place, and where the file it replaced was kept."""

    db: Path
    snapshot: Path
    taken: datetime
    kept: Path | None
    counts: dict[str, int]


def restore_snapshot(
    db_path: str | Path, *, force: bool = False, sql_dir: Path = SQL_DIR, lock_timeout: float = LOCK_WAIT_SECONDS
) -> Restored:
    """Put the analysts' snapshot back as the live database (``claimwatch restore``).

    Refused when the snapshot is missing, damaged or of a newer schema; when
    another process holds the live file; and when the live file is healthy,
    unless ``force`` (what was written after the snapshot would be lost).  The
    copy is written next to the live file, fsynced and renamed into place, so a
    crash leaves a whole file; a file it replaces is kept beside it as
    ``<name>.replaced-<time>``, with its write-ahead log, which must never be
    replayed onto the copy.
    """
    path = Path(db_path)
    snap = snapshot_path(path)
    if not snap.is_file():
        raise StoreError(f"no snapshot at {snap} to restore {path} from")
    taken = datetime.fromtimestamp(snap.stat().st_mtime, UTC)
    _check_snapshot(snap, sql_dir)
    wal = path.with_name(path.name + ".wal")
    # a lock another process holds is raised here, with --force too: a file in use is never replaced
    if path.exists() and _is_healthy(path, lock_timeout) and not force:
        raise StoreError(
            f"{path} is healthy: restoring {snap} (taken {taken.isoformat(timespec='seconds')}) would lose what "
            "was written after it; pass --force to replace it anyway"
        )
    tmp = path.with_name(path.name + ".restore.tmp")
    shutil.copyfile(snap, tmp)
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    aside = path.with_name(f"{path.name}.replaced-{utcnow().strftime('%Y%m%dT%H%M%SZ')}")
    kept = None
    if wal.exists():
        kept = aside.with_name(aside.name + ".wal")
        os.replace(wal, kept)
    if path.exists():
        kept = aside
        os.replace(path, aside)
    os.replace(tmp, path)
    _fsync_dir(path.parent)
    with open_store(path, sql_dir=sql_dir) as con:
        counts = table_counts(con)
    return Restored(path, snap, taken, kept, counts)


def _check_snapshot(snap: Path, sql_dir: Path) -> None:
    try:
        with _trusted(snap, read_only=True) as con:
            check_schema_known(con, sql_dir)
    except DatabaseDamagedError as exc:
        raise StoreError(f"the snapshot {snap} cannot be restored: it is damaged too ({exc.what})") from exc


def _is_healthy(path: Path, lock_timeout: float) -> bool:
    """Whether the live file opens whole; a lock held by another process is raised, never overridden."""
    try:
        with _trusted(path, read_only=True, lock_timeout=lock_timeout):
            return True
    except DatabaseDamagedError:
        return False


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
