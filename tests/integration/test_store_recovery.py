"""`claimwatch run` on a database it must not trust: a newer schema, a deleted file after earlier runs.

Real Airflow (dag.test), the sample site and a webhook receiver on loopback, real DuckDB files.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from pipeline.app.sample_site import serve_site
from pipeline.settings import SQL_DIR
from pipeline.store.db import snapshot_path
from pipeline.store.session import open_store
from tests.integration.helpers import run_cli, webhook_receiver, write_topic

pytestmark = pytest.mark.slow


def _newest_migration() -> str:
    return max(p.name.split("_", 1)[0] for p in (SQL_DIR / "migrations").glob("*.sql"))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_claimwatch_run_refuses_a_newer_schema_and_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    with open_store(db) as con:
        con.execute("INSERT INTO schema_migrations VALUES ('9999', '9999_from_a_later_version', now())")
    before = _digest(db)
    env = {"CLAIMWATCH_DATA_DIR": str(tmp_path / "data"), "AIRFLOW_HOME": str(tmp_path / "airflow")}
    with serve_site() as base:
        topic = write_topic(tmp_path / "t.yaml", f"{base}/feed.xml", ["file:alerts.jsonl"])
        result = run_cli(["run", "--topic", str(topic), "--db", str(db)], env)
    assert result.returncode == 1, result.stderr[-3000:]
    [failed] = [line for line in result.stderr.splitlines() if "task claimwatch_ingest.discover" in line]
    assert "SchemaTooNewError" in failed and "9999" in failed and f"newest migration is {_newest_migration()}" in failed
    assert _digest(db) == before and not db.with_name(db.name + ".wal").exists()
    assert not (tmp_path / "data" / "alerts.jsonl").exists()


def test_a_deleted_database_is_refused_then_restored_and_no_alert_is_sent_twice(tmp_path: Path) -> None:
    data = tmp_path / "data"
    db = data / "claimwatch.duckdb"  # the default place, next to the archive
    env = {"CLAIMWATCH_DATA_DIR": str(data), "AIRFLOW_HOME": str(tmp_path / "airflow")}
    with serve_site() as base, webhook_receiver() as hook:
        topic = write_topic(tmp_path / "t.yaml", f"{base}/feed.xml", [hook.url, "file:alerts.jsonl"])
        first = run_cli(["run", "--topic", str(topic)], env)  # a fresh data directory starts from nothing
        assert first.returncode == 0, first.stderr[-3000:]
        sent = len(hook.bodies)
        lines = (data / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
        assert sent >= 1 and len(lines) == sent

        db.unlink()
        refused = run_cli(["run", "--topic", str(topic)], env)
        assert refused.returncode == 1, refused.stderr[-3000:]
        [failed] = [line for line in refused.stderr.splitlines() if "task claimwatch_ingest.discover" in line]
        assert "does not exist" in failed and str(snapshot_path(db)) in failed
        assert f"claimwatch restore --db {db}" in failed
        assert not db.exists()
        assert len(hook.bodies) == sent

        restored = run_cli(["restore"], env, timeout=120)
        assert restored.returncode == 0, restored.stderr[-3000:]
        again = run_cli(["run", "--topic", str(topic)], env)
        assert again.returncode == 0, again.stderr[-3000:]
    assert len(hook.bodies) == sent
    assert (data / "alerts.jsonl").read_text(encoding="utf-8").splitlines() == lines
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM alerts WHERE status <> 'delivered'").fetchone() == (0,)
