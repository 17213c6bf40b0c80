"""`claimwatch run` and `claimwatch demo` end to end: real Airflow (dag.test), real HTTP, real DuckDB."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.integration.helpers import run_cli, webhook_receiver, write_topic

pytestmark = pytest.mark.slow


def _count(db: Path, sql: str) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute(sql).fetchone()
        return int(row[0]) if row else 0
    finally:
        con.close()


def test_demo_runs_end_to_end_and_is_idempotent(tmp_path: Path) -> None:
    env = {"CLAIMWATCH_DATA_DIR": str(tmp_path / "data"), "AIRFLOW_HOME": str(tmp_path / "airflow")}
    first = run_cli(["demo", "--port", "0"], env)
    assert first.returncode == 0, first.stderr[-3000:]
    db = tmp_path / "data" / "claimwatch.duckdb"
    out = first.stdout
    assert "articles stored" in out and "contradictions found" in out and "alerts delivered" in out
    articles = _count(db, "SELECT count(*) FROM articles")
    contradictions = _count(db, "SELECT count(*) FROM contradictions")
    assert articles >= 4 and _count(db, "SELECT count(*) FROM claims") >= 10 and contradictions >= 1
    assert _count(db, "SELECT count(*) FROM seen_urls WHERE outcome = 'off_topic'") >= 1
    assert _count(db, "SELECT count(*) FROM seen_urls WHERE outcome = 'duplicate'") >= 1
    alerts = (tmp_path / "data" / "demo-alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(alerts) >= 1
    payload = json.loads(alerts[0])
    assert payload["metric"] and payload["new_claim"]["url"].startswith("http://127.0.0.1")

    second = run_cli(["demo"], env)
    assert second.returncode == 0, second.stderr[-3000:]
    assert _count(db, "SELECT count(*) FROM articles") == articles
    assert _count(db, "SELECT count(*) FROM contradictions") == contradictions
    assert (tmp_path / "data" / "demo-alerts.jsonl").read_text(encoding="utf-8").splitlines() == alerts


def test_bad_topic_file_fails_before_airflow_starts(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nfeeds: []\n", encoding="utf-8")
    result = run_cli(["run", "--topic", str(bad)], {"CLAIMWATCH_DATA_DIR": str(tmp_path / "data")}, timeout=120)
    assert result.returncode == 2
    assert str(bad) in result.stderr and "feeds" in result.stderr
    assert not (tmp_path / "data" / "airflow").exists()


def test_an_unknown_alert_route_scheme_fails_the_run_at_once(tmp_path: Path) -> None:
    """Not after a whole ingest with alerts queued that can never be sent: before Airflow starts."""
    import time

    from pipeline.app.sample_site import serve_site

    env = {"CLAIMWATCH_DATA_DIR": str(tmp_path / "data"), "AIRFLOW_HOME": str(tmp_path / "airflow")}
    db = tmp_path / "c.duckdb"
    with serve_site() as base:
        topic = write_topic(tmp_path / "t.yaml", f"{base}/feed.xml", ["file:alerts.jsonl", "bogus://s3cr3t@hooks/x"])
        started = time.monotonic()
        result = run_cli(["run", "--topic", str(topic), "--db", str(db)], env, timeout=120)
        took = time.monotonic() - started
    assert result.returncode == 2, result.stderr[-3000:]
    [line] = [x for x in result.stderr.splitlines() if x.strip()]
    assert line.startswith(f"claimwatch: error: {topic}: alerts.1.url") and "'bogus'" in line and "s3cr3t" not in line
    assert took < 30 and not db.exists() and not (tmp_path / "airflow").exists()


def test_alerts_survive_a_channel_outage_and_are_sent_once(tmp_path: Path) -> None:
    """The webhook is down on the first run: alerts stay queued, then go out once when it is back."""
    from pipeline.app.sample_site import serve_site

    env = {"CLAIMWATCH_DATA_DIR": str(tmp_path / "data"), "AIRFLOW_HOME": str(tmp_path / "airflow")}
    db = tmp_path / "c.duckdb"
    with serve_site() as base, webhook_receiver() as hook:
        topic = write_topic(tmp_path / "t.yaml", f"{base}/feed.xml", [hook.url])
        hook.status = 503
        down = run_cli(["run", "--topic", str(topic), "--db", str(db)], env)
        assert down.returncode == 1 and "claimwatch_alerts.deliver" in down.stderr, down.stderr[-3000:]
        queued = _count(db, "SELECT count(*) FROM alerts WHERE status = 'pending'")
        assert queued >= 1 and hook.bodies == []

        hook.status = 200
        up = run_cli(["run", "--topic", str(topic), "--db", str(db)], env)
        assert up.returncode == 0, up.stderr[-3000:]
        assert _count(db, "SELECT count(*) FROM alerts WHERE status = 'pending'") == 0
        assert len(hook.bodies) == queued

        again = run_cli(["run", "--topic", str(topic), "--db", str(db)], env)
        assert again.returncode == 0 and len(hook.bodies) == queued
