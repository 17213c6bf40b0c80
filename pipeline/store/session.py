"""A migrated store to work in, and the analysts' snapshot published after each write.

Migrations are the SQL files under ``sql/migrations`` (each in its own
transaction, recorded in ``schema_migrations``), some followed by a Python
backfill; views are refreshed from ``sql/views`` on every open.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.settings import SQL_DIR
from pipeline.store.articles import backfill_fingerprints
from pipeline.store.db import (
    LOCK_WAIT_SECONDS,
    StoreError,
    connect,
    count_rows,
    snapshot_path,
    transaction,
    utcnow,
    waiting_for_lock,
)

if TYPE_CHECKING:
    import duckdb


def migrate(con: duckdb.DuckDBPyConnection, sql_dir: Path = SQL_DIR) -> list[str]:
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
    """A migrated connection, closed on exit."""
    con = connect(db_path, read_only=read_only, lock_timeout=lock_timeout)
    try:
        if not read_only:
            migrate(con, sql_dir)
        yield con
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
