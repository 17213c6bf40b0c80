"""Drift on the real validate and load steps and a real DuckDB file: a steady history of runs, then a
run whose pages suddenly yield no claims raises one warning and one ops alert on the topic's file route.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from pipeline.records import Article, Batch, Claim
from pipeline.steps import load, validate
from pipeline.steps.job import Job
from pipeline.steps.staging import save_batch, write_json
from pipeline.store.db import connect
from tests.unit.factories import make_article, make_claim

PAGES = 6


def _run(tmp_path: Path, topic_file: Path, run: int, *, claims: bool = True, gate: bool = True) -> dict[str, int]:
    """One run's validate and load; with ``gate=False`` the history's batch is staged as already
    validated (clean by construction), which spares the test a GX validation per run."""
    articles: list[Article] = [make_article(run * 100 + k) for k in range(PAGES)]
    found: list[Claim] = (
        [c for a in articles for c in (make_claim(a, 0), make_claim(a, 40, surface="14,000"))] if claims else []
    )
    job = Job(str(topic_file), str(tmp_path / "c.duckdb"), str(tmp_path / "data"), f"scheduled__{run:03d}")
    save_batch(job.stage_dir / ("batch.json" if gate else validate.VALID_FILE), Batch("kursk", articles, found))
    write_json(job.stage_dir / "fetched.json", {"archived": []})
    if gate:
        validate.run(job)
    return load.run(job)


def _ops_alerts(tmp_path: Path) -> list[dict[str, object]]:
    path = tmp_path / "data" / "ops-alerts.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_pages_that_suddenly_yield_no_claims_raise_one_drift_warning_and_one_ops_alert(
    tmp_path: Path, kursk_topic_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for run in range(1, 7):
        assert _run(tmp_path, kursk_topic_file, run, gate=run == 6)["drift_warnings"] == 0
    assert _ops_alerts(tmp_path) == []

    with caplog.at_level(logging.WARNING, logger="pipeline.steps.load"):
        result = _run(tmp_path, kursk_topic_file, 7, claims=False)
    assert (result["articles"], result["claims"], result["drift_warnings"], result["drift_alerts_sent"]) == (
        PAGES,
        0,
        1,
        1,
    )
    warnings = [r.getMessage() for r in caplog.records if r.getMessage().startswith("drift warning")]
    assert warnings == [
        "drift warning: topic kursk: no claim share is 1 in this run against a median of 0 over the last 6 runs"
    ]
    [alert] = _ops_alerts(tmp_path)
    assert (alert["condition"], alert["topic"], alert["measure"], alert["run_id"]) == (
        "drift",
        "kursk",
        "no_claim_share",
        "scheduled__007",
    )
    assert (alert["current"], alert["baseline"], alert["runs"]) == (1.0, 0.0, 6)

    con = connect(tmp_path / "c.duckdb", read_only=True)
    try:
        rows = con.execute(
            "SELECT run_id, outlet, no_claim_share, drift FROM batch_stats WHERE run_id = 'scheduled__007' "
            "ORDER BY outlet"
        ).fetchall()
        assert con.execute("SELECT count(DISTINCT run_id) FROM batch_stats").fetchone() == (7,)
    finally:
        con.close()
    assert [(r[1], r[2]) for r in rows] == [("", 1.0), ("Example News", 1.0)]
    assert [d["measure"] for d in json.loads(rows[0][3])] == ["no_claim_share"]
    assert json.loads(rows[1][3]) == []  # the outlet's drift is the topic's: said once


def test_a_steady_history_raises_no_drift(tmp_path: Path, kursk_topic_file: Path) -> None:
    results = [_run(tmp_path, kursk_topic_file, run, gate=run > 6) for run in range(1, 9)]
    assert [r["drift_warnings"] for r in results] == [0] * 8
    assert [r["claims"] for r in results] == [2 * PAGES] * 8
    assert _ops_alerts(tmp_path) == []


def test_too_short_a_history_is_not_judged(tmp_path: Path, kursk_topic_file: Path) -> None:
    for run in range(1, 4):
        _run(tmp_path, kursk_topic_file, run, gate=False)
    assert _run(tmp_path, kursk_topic_file, 4, claims=False)["drift_warnings"] == 0
    assert _ops_alerts(tmp_path) == []
