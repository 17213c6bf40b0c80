"""The page ledger: what extract records of each page as it goes, read back after a crash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.records import Skipped
from pipeline.steps import pageledger


def test_the_ledger_says_which_page_was_being_read_when_the_task_died(tmp_path: Path) -> None:
    stage = tmp_path / "run-1"
    pageledger.started(stage, "http://a")
    pageledger.finished(stage, "http://a")
    pageledger.started(stage, "http://b")
    with (stage / pageledger.LEDGER).open("a", encoding="utf-8") as fh:
        fh.write('{"url": "http://c", "ev')  # the crash cut this line short
    pageledger.started(stage, "http://d")  # a later try goes on after it
    poisoned = pageledger.poisoned(stage)
    assert set(poisoned) == {"http://b", "http://d"}
    assert all(s.outcome == "quarantined" and s.stage == "extract" for s in poisoned.values())
    lines = (stage / pageledger.LEDGER).read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[-1]) == {"url": "http://d", "event": "start"}


@pytest.mark.parametrize("outcome", ["off_topic", "duplicate"])
def test_only_quarantines_are_read_back_from_the_ledger(tmp_path: Path, outcome: str) -> None:
    pageledger.finished(tmp_path, "http://a", Skipped("http://a", outcome, "why", "relevance"))
    pageledger.finished(tmp_path, "http://b", Skipped("http://b", "quarantined", "too long", "claims"))
    assert {url: s.reason for url, s in pageledger.poisoned(tmp_path).items()} == {"http://b": "too long"}


def test_the_next_run_finds_what_earlier_runs_left_and_keeps_it_as_its_own(tmp_path: Path) -> None:
    from pipeline.steps.job import Job

    topic = tmp_path / "kursk.yaml"
    earlier, now = (Job(str(topic), str(tmp_path / "c.duckdb"), str(tmp_path / "data"), r) for r in ("run-1", "run-2"))
    pageledger.started(earlier.stage_dir, "http://poison")
    pageledger.started(now.stage_dir, "http://in-flight")  # this run's own page is not an earlier run's
    found = pageledger.earlier_runs(now)
    assert list(found) == ["http://poison"] and "(run run-1)" in found["http://poison"].reason
    pageledger.carry(now.stage_dir, found.values())
    pageledger.finished(now.stage_dir, "http://in-flight")
    assert pageledger.poisoned(now.stage_dir) == found  # it outlives run-1's folder
