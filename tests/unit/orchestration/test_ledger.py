"""The run's error ledger."""

from __future__ import annotations

import errno
import json
import logging
import os
from pathlib import Path

import pytest

from pipeline.orchestration.ledger import describe_error, errors_file, final_failures, record_error
from pipeline.steps.job import Job


def test_a_failing_error_ledger_never_hides_the_task_error(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data directory should be", encoding="utf-8")
    job = Job("t.yaml", str(tmp_path / "c.duckdb"), str(blocker), "run-1")
    with caplog.at_level(logging.ERROR):
        record_error(job, "fetch", 0, ValueError("the real error"))
    assert "could not record the failure of fetch" in caplog.text


def test_the_error_ledger_records_a_failure(tmp_path: Path) -> None:
    job = Job("t.yaml", str(tmp_path / "c.duckdb"), str(tmp_path / "data"), "run-1")
    record_error(job, "discover", 2, ValueError("every feed failed"))
    [line] = errors_file(job.data_dir, job.run_id).read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["error"] == "ValueError: every feed failed"


def test_only_final_failures_count_for_the_run(tmp_path: Path) -> None:
    job = Job("t.yaml", str(tmp_path / "c.duckdb"), str(tmp_path / "data"), "run-1")
    record_error(job, "fetch", 0, TimeoutError("try 1"), final=False)  # retried, then succeeded
    record_error(job, "discover", 1, ValueError("try 1"), final=False)
    record_error(job, "discover", 1, ValueError("try 2"))
    with errors_file(job.data_dir, job.run_id).open("a", encoding="utf-8") as fh:
        fh.write('{"task_id": "load", "map_in')  # a torn last line from a crash
    failures = final_failures(job.data_dir, job.run_id)
    assert [(f["task_id"], f["map_index"], f["error"]) for f in failures] == [("discover", 1, "ValueError: try 2")]
    assert final_failures(job.data_dir, "another-run") == []


def test_a_storage_error_says_what_it_means_and_names_its_file(tmp_path: Path) -> None:
    from pipeline.orchestration.stepprocess import StepFailure

    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/data/staging/t/run/entries.json.tmp")
    assert describe_error(full) == (
        "OSError: [Errno 28] No space left on device: '/data/staging/t/run/entries.json.tmp' (disk full)"
    )
    denied = PermissionError(errno.EACCES, os.strerror(errno.EACCES), "/data/archive/ab")
    assert describe_error(denied).endswith("'/data/archive/ab' (no permission)")
    duckdb_full = StepFailure(
        "TransactionException",
        'Failed to commit: Could not write file "/data/claimwatch.duckdb.wal": No space left on device',
        permanent=False,
        traceback="",
    ).exception()  # as it comes back from a step's own process
    assert describe_error(duckdb_full) == (
        'TransactionException: Failed to commit: Could not write file "/data/claimwatch.duckdb.wal": '
        "No space left on device (disk full)"
    )
    assert describe_error(ValueError("every feed failed")) == "ValueError: every feed failed"
    job = Job("t.yaml", str(tmp_path / "c.duckdb"), str(tmp_path / "data"), "run-1")
    record_error(job, "discover", 0, full)
    [line] = errors_file(job.data_dir, job.run_id).read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["error"].endswith("(disk full)")
