"""Freshness: ``claimwatch health`` for an outside monitor, and the watchdog DAG under ``dag.test()``.

Both read when the topic last loaded from the analysts' snapshot and page the
topic's ops route once per stale spell.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.records import Batch, FeedPoll
from pipeline.store.batches import load_batch
from pipeline.store.session import open_store, publish_snapshot
from tests.integration.helpers import REPO_ROOT, run_cli, write_topic
from tests.unit.factories import make_article, make_claim

TOPIC = "kursk_test"


def _loaded(db: Path, hours_ago: float) -> None:
    """A database whose last successful load of the topic was ``hours_ago`` hours ago."""
    article = make_article(1)
    with open_store(db) as con:
        load_batch(
            con, Batch(TOPIC, [article], [make_claim(article)], polls=[FeedPoll("https://f.example/x", "ok", 1)]), "r1"
        )
        at = datetime.now(UTC) - timedelta(hours=hours_ago)
        con.execute("UPDATE feed_polls SET polled_at = ? WHERE topic = ?", [at, TOPIC])
    publish_snapshot(db)


def _ops_lines(data: Path) -> list[dict[str, object]]:
    path = data / "ops.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


Setup = tuple[Path, Path, dict[str, str]]


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    topic = write_topic(tmp_path / "t.yaml", "http://127.0.0.1:9/feed.xml", [], ops_alert_urls=["file:ops.jsonl"])
    data = tmp_path / "data"
    env = {"CLAIMWATCH_DATA_DIR": str(data), "AIRFLOW_HOME": str(tmp_path / "airflow")}
    return topic, data, env


def test_a_fresh_ingest_is_healthy(setup: Setup, tmp_path: Path) -> None:
    topic, data, env = setup
    db = tmp_path / "c.duckdb"
    _loaded(db, hours_ago=1)
    done = run_cli(["health", "--topic", str(topic), "--db", str(db)], env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{TOPIC}: fresh: last successful ingest" in done.stdout
    assert _ops_lines(data) == []


def test_a_stale_ingest_fails_and_pages_once_per_spell(
    setup: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    topic, data, env = setup
    db = tmp_path / "c.duckdb"
    _loaded(db, hours_ago=7)  # the shipped freshness is 6 h
    for _ in range(2):
        done = run_cli(["health", "--topic", str(topic), "--db", str(db)], env)
        assert done.returncode == 1, done.stdout + done.stderr
        assert f"{TOPIC}: STALE: last successful ingest" in done.stdout
    alerts = _ops_lines(data)
    assert [(a["condition"], a["topic"]) for a in alerts] == [("ingest_stale", TOPIC)]
    assert alerts[0]["freshness_hours"] == 6


def test_a_database_never_loaded_is_stale(setup: Setup, tmp_path: Path) -> None:
    topic, data, env = setup
    done = run_cli(["health", "--topic", str(topic), "--db", str(tmp_path / "none.duckdb")], env)
    assert done.returncode == 1 and "no successful ingest recorded" in done.stdout
    assert [a["condition"] for a in _ops_lines(data)] == ["ingest_stale"]


def test_a_scheduler_that_never_ran_is_stale(setup: Setup, tmp_path: Path) -> None:
    topic, data, env = setup
    db = tmp_path / "c.duckdb"
    _loaded(db, hours_ago=1)
    metadata = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path / 'airflow' / 'airflow.db'}"}
    migrated = subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), "db", "migrate"],
        env={**os.environ, **env, **metadata},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    done = run_cli(
        ["health", "--topic", str(topic), "--db", str(db), "--scheduler", "120"],
        {**env, **metadata},
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{TOPIC}: fresh" in done.stdout and "scheduler: STALE: last heartbeat never" in done.stdout
    assert [a["condition"] for a in _ops_lines(data)] == ["scheduler_stale"]


@pytest.mark.slow
def test_the_watchdog_dag_pages_a_stale_topic_once(setup: Setup, tmp_path: Path) -> None:
    topic, data, env = setup
    db = tmp_path / "c.duckdb"
    _loaded(db, hours_ago=30)
    code = (
        "import sys; from pathlib import Path\n"
        "from pipeline.orchestration.edge import WATCHDOG_DAG_ID\n"
        "from pipeline.orchestration.runner import prepare_airflow, run_dag\n"
        "from pipeline.settings import settings_from_env\n"
        "prepare_airflow(settings_from_env())\n"
        "outcome = run_dag(WATCHDOG_DAG_ID, {'topic_file': sys.argv[1], 'db': sys.argv[2]})\n"
        "print('STATE', outcome.state, outcome.results.get('health'))\n"
    )
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", code, str(topic), str(db)],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=600,
            cwd=REPO_ROOT,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert "STATE success [{'stale': 1}]" in done.stdout, done.stdout[-2000:]
    assert [a["condition"] for a in _ops_lines(data)] == ["ingest_stale"]
