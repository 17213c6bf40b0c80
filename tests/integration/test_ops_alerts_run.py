"""Every feed of a topic down, through `claimwatch run` (Airflow's dag.test): the run fails, names the
failed task on stderr with a non-zero exit, and pages the ops route once.

One run serves every test here: each reads what that run left (exit status, stderr, the webhook's
requests, the DuckDB file).
"""

from __future__ import annotations

import json
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tests.integration.helpers import Received, run_cli, webhook_receiver, write_topic

pytestmark = pytest.mark.slow


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class FeedsDownRun:
    result: subprocess.CompletedProcess[str]
    feeds: list[str]
    received: list[Received]
    data: Path
    db: Path


@pytest.fixture(scope="module")
def feeds_down(tmp_path_factory: pytest.TempPathFactory) -> FeedsDownRun:
    tmp_path = tmp_path_factory.mktemp("feeds_down")
    feeds = [f"http://127.0.0.1:{_closed_port()}/feed.xml", f"http://127.0.0.1:{_closed_port()}/other.xml"]
    data, db = tmp_path / "data", tmp_path / "c.duckdb"
    with webhook_receiver() as hook:
        topic = write_topic(
            tmp_path / "t.yaml",
            feeds[0],
            ["file:contradictions.jsonl"],
            name="ops_probe",
            ops_alert_urls=[hook.url],
            extra_feed_urls=feeds[1:],
        )
        env = {"CLAIMWATCH_DATA_DIR": str(data), "AIRFLOW_HOME": str(tmp_path / "airflow")}
        result = run_cli(["run", "--topic", str(topic), "--db", str(db)], env)
    return FeedsDownRun(result, feeds, list(hook.received), data, db)


def test_a_failing_task_is_named_on_stderr_with_a_non_zero_exit(feeds_down: FeedsDownRun) -> None:
    result = feeds_down.result
    assert result.returncode == 1, result.stderr[-3000:]
    assert "task claimwatch_ingest.discover" in result.stderr
    assert "every feed" in result.stderr and "127.0.0.1" in result.stderr


def test_every_feed_down_fails_the_run_and_sends_one_operations_alert(feeds_down: FeedsDownRun) -> None:
    result, feeds = feeds_down.result, feeds_down.feeds
    assert result.returncode == 1, result.stderr[-3000:]
    assert len(feeds_down.received) == 1, [r.body for r in feeds_down.received]
    (received,) = feeds_down.received
    alert = json.loads(json.loads(received.body)["message"])
    assert alert["kind"] == "operations" and alert["condition"] == "run_failed"
    assert alert["topic"] == "ops_probe" and alert["dag_id"] == "claimwatch_ingest"
    assert alert["task_id"] == "discover"
    assert "every feed of topic 'ops_probe' failed" in alert["error"] and all(f in alert["error"] for f in feeds)
    assert received.headers["Idempotency-Key"] == alert["alert_id"]
    assert not (feeds_down.data / "contradictions.jsonl").exists()  # never through the contradiction route

    con = duckdb.connect(str(feeds_down.db), read_only=True)
    try:
        rows = con.execute(
            "SELECT feed_url, health, consecutive_failures, last_status FROM feed_state ORDER BY feed_url"
        ).fetchall()
    finally:
        con.close()
    # "source broken", not "no news": each feed's failures are counted although the run stopped before its load
    assert sorted(r[0] for r in rows) == sorted(feeds)
    assert all(r[1] == "failing" and r[2] >= 1 and r[3].startswith("error") for r in rows), rows
