"""Another process holds the live database: the pipeline fails within seconds, naming it and the snapshot."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.store.db import LOCK_WAIT_SECONDS, snapshot_path
from pipeline.store.session import open_store
from tests.integration.helpers import run_cli, write_topic


@pytest.fixture
def held_db(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A migrated database that an analyst's Python session keeps open for writing."""
    db = tmp_path / "c.duckdb"
    with open_store(db):
        pass
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(db)!r}); print('ok', flush=True); "
         "time.sleep(600)"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        yield db, holder.pid
    finally:
        holder.kill()
        holder.wait()


def test_a_command_on_the_held_database_fails_fast_with_the_holder(tmp_path: Path, held_db: tuple[Path, int]) -> None:
    db, pid = held_db
    started = time.monotonic()
    result = run_cli(["migrate", "--db", str(db)], {"CLAIMWATCH_DATA_DIR": str(tmp_path / "data")}, timeout=120)
    elapsed = time.monotonic() - started
    assert result.returncode == 2
    assert f"locked by process {pid} " in result.stderr
    assert str(snapshot_path(db)) in result.stderr
    assert elapsed < LOCK_WAIT_SECONDS + 15  # interpreter start included; it was minutes


@pytest.mark.slow
def test_claimwatch_run_on_the_held_database_fails_in_seconds_naming_the_holder(
    tmp_path: Path, held_db: tuple[Path, int]
) -> None:
    from pipeline.app.sample_site import serve_site

    db, pid = held_db
    env = {
        "CLAIMWATCH_DATA_DIR": str(tmp_path / "data"),
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "CLAIMWATCH_TASK_RETRIES": "0",
    }
    with serve_site() as base:
        topic = write_topic(tmp_path / "t.yaml", f"{base}/feed.xml", ["file:alerts.jsonl"])
        result = run_cli(["run", "--topic", str(topic), "--db", str(db)], env, timeout=300)
    assert result.returncode == 1
    assert "task claimwatch_ingest.discover" in result.stderr
    assert f"locked by process {pid} " in result.stderr and "snapshot" in result.stderr
