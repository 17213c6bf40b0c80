"""`claimwatch run`'s summary names the real error of a failed task, also when the data directory
cannot take the error ledger (a full disk takes the ledger down with the step)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.app.sample_site import serve_site
from tests.integration.helpers import run_cli, write_topic

pytestmark = pytest.mark.slow


def test_the_summary_names_the_error_when_the_error_ledger_cannot_be_written(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "errors").write_text("a file where the ledger's folder goes", encoding="utf-8")
    (data / "staging").write_text("a file where the staging folder goes", encoding="utf-8")
    env = {"CLAIMWATCH_DATA_DIR": str(data), "AIRFLOW_HOME": str(tmp_path / "airflow")}
    with serve_site() as base:
        topic = write_topic(tmp_path / "t.yaml", f"{base}/feed.xml", ["file:alerts.jsonl"])
        result = run_cli(["run", "--topic", str(topic), "--db", str(tmp_path / "c.duckdb")], env)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "could not record the failure of discover in the error ledger" in result.stderr
    [failed] = [line for line in result.stderr.splitlines() if line.startswith("claimwatch: task")][:1]
    assert "claimwatch_ingest.discover" in failed and "see the task log" not in failed
    assert "Not a directory" in failed and str(data / "staging") in failed
