"""Opening the DuckDB file: a held lock fails within seconds, naming its holder and the snapshot."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.store.db import (
    LOCK_WAIT_SECONDS,
    DatabaseLockedError,
    connect,
    lock_message,
    snapshot_path,
)
from pipeline.store.session import open_store


def test_connect_fails_within_seconds_naming_the_lock_holder_and_the_snapshot(
    db_path: Path, lock_holder: subprocess.Popen[str]
) -> None:
    started = time.monotonic()
    with pytest.raises(DatabaseLockedError) as info, open_store(db_path):
        pass
    elapsed = time.monotonic() - started
    message = str(info.value)
    assert LOCK_WAIT_SECONDS <= elapsed < LOCK_WAIT_SECONDS + 3
    assert f"process {lock_holder.pid} " in message
    assert str(db_path) in message and str(snapshot_path(db_path)) in message


def test_connect_waits_with_backoff_and_gets_the_lock_once_it_is_free(db_path: Path) -> None:
    """A short-lived holder (another pipeline task closing) is waited for, not reported."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(db_path)!r}); print('ok', flush=True);"
            " time.sleep(1); c.close()",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        sleeps: list[float] = []
        con = connect(db_path, lock_timeout=10, sleep=lambda s: (sleeps.append(s), time.sleep(s)))
        con.close()
    finally:
        holder.kill()
        holder.wait()
    assert sleeps[:3] == [0.1, 0.2, 0.4] and max(sleeps) <= 2.0


def test_lock_message_without_a_pid_still_points_at_the_snapshot(db_path: Path) -> None:
    message = lock_message(db_path, "IO Error: Could not set lock on file", 5.0)
    assert "another process" in message and str(snapshot_path(db_path)) in message


def test_a_transaction_commits_at_the_end_of_its_block_and_rolls_back_on_error(db_path: Path) -> None:
    from pipeline.store.db import transaction

    con = connect(db_path)
    try:
        con.execute("CREATE TABLE t (x INTEGER)")
        with transaction(con):
            con.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(ZeroDivisionError), transaction(con):
            con.execute("INSERT INTO t VALUES (2)")
            _ = 1 / 0
        assert con.execute("SELECT list(x) FROM t").fetchone() == ([1],)
    finally:
        con.close()
