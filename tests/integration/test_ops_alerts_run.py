"""A failed run tells someone: `claimwatch run` (Airflow's dag.test) with every feed down pages the ops route."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import duckdb
import pytest

from tests.integration.helpers import run_cli, webhook_receiver, write_topic

pytestmark = pytest.mark.slow


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_every_feed_down_fails_the_run_and_sends_one_operations_alert(tmp_path: Path) -> None:
    feeds = [f"http://127.0.0.1:{_closed_port()}/feed.xml", f"http://127.0.0.1:{_closed_port()}/other.xml"]
    data = tmp_path / "data"
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
        result = run_cli(["run", "--topic", str(topic), "--db", str(tmp_path / "c.duckdb")], env)

    assert result.returncode == 1, result.stderr[-3000:]
    assert len(hook.received) == 1, [r.body for r in hook.received]
    (received,) = hook.received
    alert = json.loads(json.loads(received.body)["message"])
    assert alert["kind"] == "operations" and alert["condition"] == "run_failed"
    assert alert["topic"] == "ops_probe" and alert["dag_id"] == "claimwatch_ingest"
    assert alert["task_id"] == "discover"
    assert "every feed of topic 'ops_probe' failed" in alert["error"] and all(f in alert["error"] for f in feeds)
    assert received.headers["Idempotency-Key"] == alert["alert_id"]
    assert not (data / "contradictions.jsonl").exists()  # never through the contradiction route

    con = duckdb.connect(str(tmp_path / "c.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "SELECT feed_url, health, consecutive_failures, last_status FROM feed_state ORDER BY feed_url"
        ).fetchall()
    finally:
        con.close()
    # "source broken", not "no news": each feed's failures are counted although the run stopped before its load
    assert sorted(r[0] for r in rows) == sorted(feeds)
    assert all(r[1] == "failing" and r[2] >= 1 and r[3].startswith("error") for r in rows), rows
