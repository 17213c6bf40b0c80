"""The five seed articles, served as HTML behind an RSS feed on loopback, through `claimwatch run`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.integration.helpers import query_rows as _rows
from tests.integration.helpers import run_cli, webhook_receiver, write_topic

pytestmark = pytest.mark.slow


def seed_pages(seeds_dir: Path, eval_seeds_dir: Path) -> list:  # type: ignore[type-arg]
    """Seed texts from ../shared/seeds with the outlet and date their labelled records give."""
    from pipeline.app.sample_site import SamplePage

    meta = {}
    for path in eval_seeds_dir.glob("0*.json"):
        record = json.loads(path.read_text(encoding="utf-8"))
        meta[record["source_file"]] = record
    pages = []
    for path in sorted(seeds_dir.glob("*.txt")):
        record = meta[path.name]
        paragraphs = [p.strip() for p in path.read_text(encoding="utf-8").splitlines() if p.strip()]
        pages.append(
            SamplePage(
                slug=path.stem,
                title=paragraphs[0][:150],
                outlet=record["outlet"],
                author="Staff",
                published=datetime.fromisoformat(record["published"]).replace(tzinfo=UTC),
                paragraphs=paragraphs[1:],
            )
        )
    return pages


def _counts(db: Path) -> dict[str, int]:
    return {t: _rows(db, f"SELECT count(*) FROM {t}")[0][0] for t in ("articles", "claims", "contradictions", "alerts")}


def test_seed_articles_through_claimwatch_run(tmp_path: Path, seeds_dir: Path, eval_seeds_dir: Path) -> None:
    from pipeline.app.sample_site import serve_site

    db = tmp_path / "claims.duckdb"
    alerts_file = tmp_path / "data" / "alerts.jsonl"
    env = {"CLAIMWATCH_DATA_DIR": str(tmp_path / "data"), "AIRFLOW_HOME": str(tmp_path / "airflow")}
    with serve_site(seed_pages(seeds_dir, eval_seeds_dir)) as base, webhook_receiver() as hook:
        topic = write_topic(tmp_path / "seeds.yaml", f"{base}/feed.xml", ["file:alerts.jsonl", hook.url])
        first = run_cli(["run", "--topic", str(topic), "--db", str(db)], env)
        assert first.returncode == 0, first.stderr[-3000:]

        deployed = _rows(db, "SELECT stated_low, hedge, claim_id FROM claims WHERE metric = 'troops_deployed'")
        by_figure = {(low, hedge): cid for low, hedge, cid in deployed}
        assert (14000, "about") in by_figure, deployed
        assert (12000, "up_to") in by_figure, deployed
        about_14k = {cid for low, hedge, cid in deployed if (low, hedge) == (14000, "about")}  # any mention
        pairs = _rows(db, "SELECT claim_id, other_claim_id, severity, reason FROM contradictions")
        linked = [p for p in pairs if by_figure[(12000, "up_to")] in p[:2] and (set(p[:2]) & about_14k)]
        assert linked, pairs
        assert _rows(db, "SELECT count(*) FROM alerts WHERE status <> 'delivered'") == [(0,)]
        delivered_lines = alerts_file.read_text(encoding="utf-8").splitlines()
        assert 1 <= len(delivered_lines) <= 3 and len(hook.bodies) == len(delivered_lines)
        assert any("12,000" in line and "14,000" in line for line in delivered_lines)

        before = _counts(db)
        second = run_cli(["run", "--topic", str(topic), "--db", str(db)], env)
        assert second.returncode == 0, second.stderr[-3000:]
        assert _counts(db) == before
        assert alerts_file.read_text(encoding="utf-8").splitlines() == delivered_lines
        assert len(hook.bodies) == len(delivered_lines)
