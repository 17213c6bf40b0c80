"""The validate and load steps on a staged batch with a real DuckDB file: faults are held back, the rest loads.

Real Great Expectations, real suites from ``pipeline/quality/suites``, real store; the
quarantine command line runs in process through ``pipeline.app.cli.main``.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.app.cli import main
from pipeline.quality.gate import QualityError
from pipeline.records import Article, Batch, Claim
from pipeline.steps import load, validate
from pipeline.steps.job import Job
from pipeline.steps.staging import save_batch, write_json
from pipeline.store.db import connect
from tests.unit.factories import make_article, make_claim


def _topic(tmp_path: Path, kursk_topic_file: Path, extra_metric: str | None = None) -> Path:
    raw = yaml.safe_load(kursk_topic_file.read_text(encoding="utf-8"))
    if extra_metric:
        raw["metrics"][extra_metric] = {"description": "armour lost", "unit": "vehicles", "cumulative": True,
                                        "cues": ["tanks"]}  # fmt: skip
    path = tmp_path / "kursk.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def _stage(tmp_path: Path, topic_file: Path, articles: list[Article], claims: list[Claim], run: str) -> Job:
    job = Job(str(topic_file), str(tmp_path / "c.duckdb"), str(tmp_path / "data"), run)
    save_batch(job.stage_dir / "batch.json", Batch("kursk", articles, claims))
    write_json(job.stage_dir / "fetched.json", {"archived": []})
    return job


def _good(n: int) -> tuple[Article, list[Claim]]:
    a = make_article(n)
    return a, [make_claim(a, 0), make_claim(a, 40, surface="14,000")]


def _faulty_batch() -> tuple[list[Article], list[Claim], set[str]]:
    """16 articles; articles 1-7 carry one fault each (4 and 5 share a canonical URL): 7 held, 9 load."""
    articles, claims = [], []
    for n in range(1, 17):
        a, cs = _good(n)
        articles.append(a)
        claims += cs
    faults: dict[int, dict[str, Any]] = {
        0: {"value_low": -5.0},
        2: {"value_low": 20000.0, "value_high": 16800.0},
        4: {"metric": "tanks_lost"},
        12: {"surface": "about 99,000"},
    }
    for i, change in faults.items():
        claims[i] = replace(claims[i], **change)
    articles[4] = replace(articles[4], canonical_url=articles[3].canonical_url)
    short = "Too short to be an article."
    articles[5] = replace(articles[5], text=short, content_hash=hashlib.sha256(short.encode()).hexdigest())
    held = {articles[i].article_id for i in range(7)}
    return articles, claims, held


def _ids(db: Path, sql: str) -> list[str]:
    con = connect(db, read_only=True)
    try:
        return sorted(r[0] for r in con.execute(sql).fetchall())
    finally:
        con.close()


def _digest(ids: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()


def test_faults_are_held_back_the_rest_loads_and_the_step_fails_naming_them(
    tmp_path: Path, kursk_topic_file: Path
) -> None:
    articles, claims, held = _faulty_batch()
    job = _stage(tmp_path, _topic(tmp_path, kursk_topic_file), articles, claims, "manual__faults")
    validate.run(job)
    with pytest.raises(QualityError) as failed:
        load.run(job)
    message = str(failed.value)
    for expected in (
        "held back 7 of 16 articles (14 claims)",
        "expect_column_values_to_be_between on value_low: 1 of 32 rows unexpected",
        "expect_column_pair_values_a_to_be_greater_than_b on value_high >= value_low: 1 of 32",
        "expect_column_values_to_be_in_set on metric: 1 of 32 rows unexpected, e.g. 'tanks_lost'",
        "expect_column_values_to_be_unique on canonical_url: 2 of 16",
        "expect_column_value_lengths_to_be_between on text: 1 of 16",
        "expect_column_values_to_be_in_set on surface_in_sentence: 1 of 32",
        "first held: https://news.example/1",
    ):
        assert expected in message, message
    db = Path(job.db)
    good = sorted({a.article_id for a in articles} - held)
    assert _ids(db, "SELECT article_id FROM articles") == good
    stored_claims = _ids(db, "SELECT claim_id FROM claims")
    assert _digest(stored_claims) == _digest([c.claim_id for c in claims if c.article_id not in held])
    assert not set(_ids(db, "SELECT article_id FROM claims")) & held
    quarantined = _ids(db, "SELECT url FROM seen_urls WHERE outcome = 'quarantined'")
    assert quarantined == sorted(a.url for a in articles[:7])
    reasons = _ids(db, "SELECT reason FROM quarantine WHERE stage = 'quality' AND url = 'https://news.example/3'")
    assert reasons == ["failed claimwatch_claims: expect_column_values_to_be_in_set on metric"]
    [(batch_id, n_articles, n_claims, status)] = _rows(
        db, "SELECT batch_id, articles, claims, status FROM quarantine_batches"
    )
    assert (n_articles, n_claims, status) == (7, 14, "quarantined")
    assert batch_id in message
    assert not job.stage_dir.exists()


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    con = connect(db, read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_a_clean_batch_passes_and_loads_and_a_missing_date_is_only_a_warning(
    tmp_path: Path, kursk_topic_file: Path
) -> None:
    pairs = [_good(n) for n in range(1, 4)]
    articles = [a for a, _ in pairs]
    articles[1] = replace(articles[1], published_at=None)
    claims = [c for _, cs in pairs for c in cs]
    job = _stage(tmp_path, _topic(tmp_path, kursk_topic_file), articles, claims, "manual__clean")
    validate.run(job)
    assert not (job.stage_dir / validate.QUARANTINED_FILE).exists()
    result = load.run(job)
    assert (result["articles"], result["claims"], result["quality_warnings"]) == (3, 6, 1)
    assert _rows(Path(job.db), "SELECT count(*) FROM quarantine_batches") == [(0,)]


def test_release_loads_the_fixed_batch_exactly_once(
    tmp_path: Path, kursk_topic_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pairs = [_good(n) for n in range(1, 5)]
    articles = [a for a, _ in pairs]
    claims = [c for _, cs in pairs for c in cs]
    claims[0] = replace(claims[0], metric="tanks_lost")
    topic_file = _topic(tmp_path, kursk_topic_file)
    job = _stage(tmp_path, topic_file, articles, claims, "manual__release")
    validate.run(job)
    with pytest.raises(QualityError):
        load.run(job)
    db = Path(job.db)
    [(batch_id,)] = _rows(db, "SELECT batch_id FROM quarantine_batches")
    assert len(_ids(db, "SELECT article_id FROM articles")) == 3

    assert main(["quarantine", "show", batch_id, "--db", str(db)]) == 0
    shown = capsys.readouterr().out
    assert "expect_column_values_to_be_in_set on metric: 1 of 8 rows" in shown and "'tanks_lost'" in shown
    assert "https://news.example/1" in shown

    assert main(["quarantine", "release", batch_id, "--db", str(db)]) == 2  # the catalogue has no tanks_lost yet
    assert "still fails" in capsys.readouterr().err
    assert len(_ids(db, "SELECT article_id FROM articles")) == 3

    _topic(tmp_path, kursk_topic_file, extra_metric="tanks_lost")  # the fix: the metric joins the catalogue
    assert main(["quarantine", "release", batch_id, "--db", str(db)]) == 0
    assert "stored 1 articles (2 claims)" in capsys.readouterr().out
    assert _ids(db, "SELECT article_id FROM articles") == sorted(a.article_id for a in articles)
    assert len(_ids(db, "SELECT claim_id FROM claims")) == 8
    assert _rows(db, "SELECT outcome FROM seen_urls WHERE url = 'https://news.example/1'") == [("stored",)]
    assert _rows(db, "SELECT count(*) FROM quarantine WHERE stage = 'quality'") == [(0,)]

    assert main(["quarantine", "release", batch_id, "--db", str(db)]) == 2
    assert "already released" in capsys.readouterr().err
    assert len(_ids(db, "SELECT claim_id FROM claims")) == 8
    assert main(["quarantine", "list", "--db", str(db)]) == 0
    assert f"{batch_id}  released" in capsys.readouterr().out


def test_most_rows_failing_hold_the_whole_batch_and_drop_keeps_the_pages_quarantined(
    tmp_path: Path, kursk_topic_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pairs = [_good(n) for n in range(1, 4)]
    articles = [a for a, _ in pairs]
    claims = [
        replace(c, value_low=-1.0) if c.article_id != articles[2].article_id else c for _, cs in pairs for c in cs
    ]
    job = _stage(tmp_path, _topic(tmp_path, kursk_topic_file), articles, claims, "manual__whole")
    validate.run(job)
    with pytest.raises(QualityError, match="held back the whole batch: 3 of 3 articles"):
        load.run(job)
    db = Path(job.db)
    assert _ids(db, "SELECT article_id FROM articles") == []
    [(batch_id, whole)] = _rows(db, "SELECT batch_id, whole FROM quarantine_batches")
    assert whole
    assert main(["quarantine", "drop", batch_id, "--note", "negative tolls from a broken parser", "--db", str(db)]) == 0
    assert _rows(db, "SELECT status, note FROM quarantine_batches") == [
        ("dropped", "negative tolls from a broken parser")
    ]
    assert len(_ids(db, "SELECT url FROM seen_urls WHERE outcome = 'quarantined'")) == 3
    assert main(["quarantine", "release", batch_id, "--db", str(db)]) == 2
    assert "already dropped" in capsys.readouterr().err
