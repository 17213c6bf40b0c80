"""Task-body helpers: which entries a run takes, durable staging files, the error ledger."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline import tasks
from pipeline.records import FeedEntry

NOW = datetime(2025, 12, 1, 12, 0, tzinfo=UTC)


def _entries(*urls: str) -> list[FeedEntry]:
    return [FeedEntry(feed_url="https://news.example/feed", url=u) for u in urls]


def test_fresh_urls_come_before_retries_and_backing_off_urls_wait() -> None:
    schedule = {
        "https://n.example/late": NOW + timedelta(minutes=5),
        "https://n.example/due-recent": NOW - timedelta(minutes=1),
        "https://n.example/due-long-ago": NOW - timedelta(hours=3),
    }
    entries = _entries(
        "https://n.example/late",
        "https://n.example/due-recent",
        "https://n.example/seen",
        "https://n.example/due-long-ago",
        "https://n.example/new-1",
        "https://n.example/new-1",
        "https://n.example/new-2",
    )
    chosen = tasks.choose_entries(entries, {"https://n.example/seen"}, schedule, NOW, limit=10)
    assert [e.url for e in chosen] == [
        "https://n.example/new-1",
        "https://n.example/new-2",
        "https://n.example/due-long-ago",
        "https://n.example/due-recent",
    ]


def test_the_limit_counts_retries_too() -> None:
    schedule = {"https://n.example/r": NOW - timedelta(hours=1)}
    entries = _entries("https://n.example/r", "https://n.example/a", "https://n.example/b")
    assert [e.url for e in tasks.choose_entries(entries, set(), schedule, NOW, limit=2)] == [
        "https://n.example/a",
        "https://n.example/b",
    ]
    assert [e.url for e in tasks.choose_entries(entries, {"https://n.example/a"}, schedule, NOW, limit=2)] == [
        "https://n.example/b",
        "https://n.example/r",
    ]


def test_staging_files_are_replaced_whole_and_leave_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "stage" / "pages" / "000001.json"
    tasks._write_json(target, {"html": "é" * 10})
    tasks._write_json(target, {"html": "second"})
    assert json.loads(target.read_text(encoding="utf-8")) == {"html": "second"}
    assert [p.name for p in target.parent.iterdir()] == ["000001.json"]


def test_a_failing_error_ledger_never_hides_the_task_error(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data directory should be", encoding="utf-8")
    job = tasks.Job("t.yaml", str(tmp_path / "c.duckdb"), str(blocker), "run-1")
    with caplog.at_level(logging.ERROR):
        tasks.record_error(job, "fetch", 0, ValueError("the real error"))
    assert "could not record the failure of fetch" in caplog.text


def test_the_error_ledger_records_a_failure(tmp_path: Path) -> None:
    job = tasks.Job("t.yaml", str(tmp_path / "c.duckdb"), str(tmp_path / "data"), "run-1")
    tasks.record_error(job, "discover", 2, ValueError("every feed failed"))
    [line] = tasks.errors_file(job.data_dir, job.run_id).read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["error"] == "ValueError: every feed failed"


def test_only_final_failures_count_for_the_run(tmp_path: Path) -> None:
    job = tasks.Job("t.yaml", str(tmp_path / "c.duckdb"), str(tmp_path / "data"), "run-1")
    tasks.record_error(job, "fetch", 0, TimeoutError("try 1"), final=False)  # retried, then succeeded
    tasks.record_error(job, "discover", 1, ValueError("try 1"), final=False)
    tasks.record_error(job, "discover", 1, ValueError("try 2"))
    with tasks.errors_file(job.data_dir, job.run_id).open("a", encoding="utf-8") as fh:
        fh.write('{"task_id": "load", "map_in')  # a torn last line from a crash
    failures = tasks.final_failures(job.data_dir, job.run_id)
    assert [(f["task_id"], f["map_index"], f["error"]) for f in failures] == [("discover", 1, "ValueError: try 2")]
    assert tasks.final_failures(job.data_dir, "another-run") == []
