"""A run that quarantines, through `claimwatch run` (Airflow's dag.test) on a loopback site: a page
whose figure is above its metric's ``plausible_max`` is held back, the other pages load, the run fails
naming the expectation and its Data Docs, and the topic's ops route (a file) gets exactly one
``run_failed`` alert.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from tests.integration.helpers import query_rows, run_cli, write_topic
from tests.integration.loopback_site import Site, article_html, serve

pytestmark = pytest.mark.slow

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
STORY = [
    "The National Intelligence Service said the troops travelled in several groups by sea and by air "
    "between October and December.",
    "Ukrainian commanders in Kursk reported that the North Korean units were first used in infantry assaults "
    "across open fields.",
    "Moscow and Pyongyang have not confirmed the numbers, and a Kremlin spokesman declined to comment.",
]
GOOD = "SEOUL - North Korea has sent roughly 11,000 soldiers to Russia, South Korea's spy agency said on Tuesday."
LOSSES = (
    "SEOUL - About 4,000 North Korean soldiers have been killed or wounded in Russia's Kursk region, "
    "South Korea's intelligence service estimated on Thursday."
)
IMPLAUSIBLE = "KYIV - North Korea has sent 900,000 soldiers to Russia, a blogger claimed on Wednesday."


def _topic(tmp_path: Path, feed_url: str) -> Path:
    path = write_topic(tmp_path / "t.yaml", feed_url, ["file:contradictions.jsonl"], ops_alert_urls=["file:ops.jsonl"])
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["metrics"]["troops_deployed"]["plausible_max"] = 100000
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def test_a_run_that_quarantines_fails_naming_the_expectation_and_pages_the_ops_route_once(tmp_path: Path) -> None:
    site = Site()
    pages = {
        "/world/troops.html": ("Seoul: 11,000 troops sent", [GOOD, *STORY], T0),
        "/world/losses.html": ("Seoul: 4,000 casualties", [LOSSES, *STORY[1:]], T0 + timedelta(hours=5)),
        "/blog/900k.html": ("Blogger: 900,000 sent", [IMPLAUSIBLE, *STORY], T0 + timedelta(hours=9)),
    }
    site.pages = {path: (200, article_html(title, text, published=at)) for path, (title, text, at) in pages.items()}
    site.feed = [(path, title, at) for path, (title, _, at) in pages.items()]
    data, db = tmp_path / "data", tmp_path / "c.duckdb"
    env = {"CLAIMWATCH_DATA_DIR": str(data), "AIRFLOW_HOME": str(tmp_path / "airflow")}
    with serve(site):
        topic = _topic(tmp_path, site.url("/feed.xml"))
        result = run_cli(["run", "--topic", str(topic), "--db", str(db)], env)

    assert result.returncode == 1, result.stderr[-3000:]
    assert "task claimwatch_ingest.load" in result.stderr, result.stderr[-3000:]
    expectation = "expect_column_pair_values_a_to_be_greater_than_b on plausible_max >= value_top"
    assert expectation in result.stderr, result.stderr[-3000:]
    blog = site.url("/blog/900k.html")
    assert query_rows(db, "SELECT url FROM seen_urls WHERE outcome = 'quarantined'") == [(blog,)]
    assert sorted(r[0] for r in query_rows(db, "SELECT url FROM articles")) == sorted(
        site.url(p) for p in pages if p != "/blog/900k.html"
    )
    [(status, held)] = query_rows(db, "SELECT status, articles FROM quarantine_batches")
    assert (status, held) == ("quarantined", 1)

    [docs] = list((tmp_path / "data_docs").glob("*/index.html"))
    assert f"Data Docs of this validation: {docs}" in result.stderr
    assert html.escape(expectation) in docs.read_text(encoding="utf-8")

    lines = (data / "ops.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1, lines
    alert = json.loads(lines[0])
    assert (alert["kind"], alert["condition"], alert["topic"]) == ("operations", "run_failed", "kursk_test")
    assert (alert["dag_id"], alert["task_id"]) == ("claimwatch_ingest", "load")
    assert expectation in alert["error"] and blog in alert["error"]
    assert not (data / "contradictions.jsonl").exists()
