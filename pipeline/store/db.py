"""The DuckDB file: connect (waiting briefly on another process's lock, then naming it),
what a damaged or missing file says, one transaction, multi-row inserts.

Every function takes an open connection or a path: the database is a resource
passed in, never a constant.  Connections are short-lived because DuckDB lets
one process write at a time and blocks other processes while it does.  No SQL
text is built from a value that could come from outside: values are bound
parameters, and the only identifiers formatted in are constants.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pipeline.errors import PermanentError
from pipeline.ingest.archive import ARCHIVE_DIR

if TYPE_CHECKING:
    import duckdb


LOCK_MARKERS = ("Could not set lock", "Conflicting lock")

# What DuckDB says when the bytes of a file are not a whole database: cut short, overwritten, bit-rotted.
DAMAGE_MARKERS = ("not a valid DuckDB database file", "Could not read enough bytes", "Corrupt database file")

# A DuckDB file is its main header and two database headers (4 KiB each), then its blocks.
HEADER_BYTES = 3 * 4096


# Pipeline tasks hold the database for seconds and take turns (one-slot pool),
# so a lock that outlives this wait is someone else's session, not ours.
LOCK_WAIT_SECONDS = 5.0


T = TypeVar("T")


_LOCK_HOLDER = re.compile(r"lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)(?: by user (?P<user>\S+))?")


class StoreError(RuntimeError):
    """The database could not be opened or migrated."""


class DatabaseLockedError(StoreError):
    """Another process holds the database's lock; the message names it and the way out."""


class DatabaseDamagedError(StoreError, PermanentError):
    """The live file is truncated or not readable as a database; the message names the snapshot to restore."""

    what: str = ""  # the damage itself, without the way out


def damaged(path: Path, what: str) -> DatabaseDamagedError:
    error = DatabaseDamagedError(damaged_message(path, what))
    error.what = what
    return error


class DatabaseMissingError(StoreError, PermanentError):
    """The live file is gone while the files next to it show it existed: a new empty one would
    fetch every page and send every alert again, so it is not created."""


class SchemaTooNewError(StoreError, PermanentError):
    """The file was migrated by a newer claimwatch than this one; writing to it could break it."""


def utcnow() -> datetime:
    return datetime.now(UTC)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """One transaction: committed when the block ends, rolled back on any error (then re-raised)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


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


def restore_hint(path: Path) -> str:
    """Where the last good copy is and the command that puts it back."""
    snap = snapshot_path(path)
    if not snap.is_file():
        return f"There is no snapshot ({snap}) to restore from"
    taken = datetime.fromtimestamp(snap.stat().st_mtime, UTC).isoformat(timespec="seconds")
    return f"The last snapshot is {snap} (taken {taken}); put it back with 'claimwatch restore --db {path}'"


def damaged_message(path: Path, what: str) -> str:
    return f"{path} is damaged ({what}). {restore_hint(path)}."


def is_damage(exc: BaseException) -> bool:
    return any(m in str(exc) for m in DAMAGE_MARKERS)


def check_complete(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Raise DatabaseDamagedError when blocks the database uses lie past the end of its file.

    DuckDB opens a file cut short after its catalog without complaint, and a
    table whose blocks were cut off reads as empty or fails only when its
    column is read, so a truncated database would look current.
    """
    block_size, total = _block_counts(con)
    size = path.stat().st_size
    if size >= HEADER_BYTES + total * block_size:
        return  # every block the header counts is in the file: the quick answer
    need = data_end(con)
    if size < need:
        what = f"truncated: {size} bytes, but its data reaches byte {need}"
        raise damaged(path, what)


def _block_counts(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    row = con.execute(
        "SELECT block_size, total_blocks FROM pragma_database_size() WHERE database_name = current_database()"
    ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def data_end(con: duckdb.DuckDBPyConnection) -> int:
    """The size the file needs for every block the catalog or a table points to.

    Not the header's block count: free blocks at the end may never have been
    written, so a healthy file is often shorter than that count says.
    """
    block_size, _ = _block_counts(con)
    tables = [
        r[0]
        for r in con.execute(
            "SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchall()
    ]
    per_table = "SELECT max(greatest(block_id, list_max(additional_block_ids))) AS b FROM pragma_storage_info(?)"
    parts = [per_table] * len(tables) + ["SELECT max(block_id) AS b FROM pragma_metadata_info()"]
    row = con.execute(f"SELECT max(b) FROM ({' UNION ALL '.join(parts)})", tables).fetchone()  # constant SQL text
    last = int(row[0]) if row and row[0] is not None else -1
    return HEADER_BYTES + (last + 1) * block_size


def earlier_runs(path: Path) -> list[str]:
    """What next to a missing database shows that it existed: its snapshot, its write-ahead log and,
    for a database in the data directory, the raw archive (pages are archived only after the
    database was opened).  Ledgers are not evidence: a first run can fail before it creates one."""
    found = []
    snap = snapshot_path(path)
    if snap.exists():
        found.append(f"its snapshot {snap}")
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        found.append(f"its write-ahead log {wal}")
    archive = path.parent / ARCHIVE_DIR
    if archive.is_dir() and any(archive.iterdir()):
        found.append(f"the raw archive {archive}")
    return found


def refuse_if_missing(path: Path) -> None:
    """Raise DatabaseMissingError when ``path`` is gone but the files next to it show earlier runs."""
    if path.exists():
        return
    found = earlier_runs(path)
    if found:
        raise DatabaseMissingError(
            f"{path} does not exist, but earlier runs left {' and '.join(found)}: a new empty database would "
            f"fetch every page and send every alert again, so none is created. {restore_hint(path)}; "
            f"or, to start from nothing on purpose, run 'claimwatch migrate --db {path} --start-over'."
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
    return waiting_for_lock(lambda: duckdb.connect(str(path), read_only=read_only), path, lock_timeout, sleep)


def waiting_for_lock(
    open_it: Callable[[], T], path: Path, lock_timeout: float, sleep: Callable[[float], None] = time.sleep
) -> T:
    """Run ``open_it`` until it gets past DuckDB's file lock or ``lock_timeout`` seconds have gone."""
    import duckdb

    started = time.monotonic()
    delay = 0.1
    while True:
        try:
            return open_it()
        except duckdb.Error as exc:
            if is_damage(exc) and path.exists():
                raise damaged(path, str(exc)) from exc
            if not any(m in str(exc) for m in LOCK_MARKERS):
                raise StoreError(f"cannot open {path}: {exc}") from exc
            waited = time.monotonic() - started
            if waited >= lock_timeout:
                raise DatabaseLockedError(lock_message(path, str(exc), waited)) from exc
            sleep(min(delay, max(lock_timeout - waited, 0.01)))
            delay = min(delay * 2, 2.0)


def insert_many(con: duckdb.DuckDBPyConnection, sql: str, rows: Sequence[Sequence[Any]], chunk: int = 500) -> None:
    """One parameterised multi-row INSERT per chunk: a statement per row costs milliseconds each in DuckDB.

    ``sql`` holds ``{rows}`` where the VALUES tuples go; keys must be unique within ``rows``.
    """
    for at in range(0, len(rows), chunk):
        part = rows[at : at + chunk]
        one = "(" + ",".join("?" * len(part[0])) + ")"
        con.execute(sql.format(rows=",".join([one] * len(part))), [v for row in part for v in row])


def count_rows(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()  # table names are constants here
    return int(row[0]) if row else 0


def snapshot_path(db_path: str | Path) -> Path:
    path = Path(db_path)
    return path.with_name(f"{path.stem}.snapshot{path.suffix or '.duckdb'}")
