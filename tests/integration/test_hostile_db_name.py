"""A database file name that is also SQL, through the whole `claimwatch run`: only the database is written."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.integration.helpers import run_cli, write_topic

pytestmark = pytest.mark.slow

# DuckDB names the catalog after the file name up to its first dot; before the
# snapshot stopped formatting that name into SQL, this one wrote 'injected'.
HOSTILE = "system\" TO claimwatch_snapshot; COPY (SELECT 42) TO 'injected' (FORMAT csv); --.duckdb"


def test_claimwatch_run_with_a_hostile_db_name_writes_only_the_database_and_snapshot(tmp_path: Path) -> None:
    from pipeline.app.sample_site import serve_site

    work = tmp_path / "work"
    work.mkdir()
    env = {"CLAIMWATCH_DATA_DIR": str(tmp_path / "data"), "AIRFLOW_HOME": str(tmp_path / "airflow")}
    with serve_site() as base:
        topic = write_topic(tmp_path / "t.yaml", f"{base}/feed.xml", ["file:alerts.jsonl"])
        result = run_cli(["run", "--topic", str(topic), "--db", HOSTILE], env, cwd=work)
    assert result.returncode == 0, result.stderr[-3000:]
    snapshot = HOSTILE.removesuffix(".duckdb") + ".snapshot.duckdb"
    # The database, its snapshot and the Data Docs of the run's validation beside them: nothing else.
    assert sorted(p.name for p in work.iterdir()) == sorted([HOSTILE, snapshot, "data_docs"])
    assert not list(tmp_path.rglob("injected*"))
    con = duckdb.connect(str(work / snapshot), read_only=True)
    try:
        row = con.execute("SELECT count(*) FROM articles").fetchone()
    finally:
        con.close()
    assert row is not None and row[0] >= 1
