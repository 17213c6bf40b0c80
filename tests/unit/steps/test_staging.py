"""Staging files between tasks, and which run's staging may be removed."""

from __future__ import annotations

import errno
import json
import os
import time
from pathlib import Path

import pytest

from pipeline.steps.job import Job
from pipeline.steps.staging import (
    RUN_MARKER,
    STALE_AFTER_SECONDS,
    RunInProgressError,
    mark_run_over,
    remove_stale_staging,
    run_heartbeat,
    write_json,
)


def test_staging_files_are_replaced_whole_and_leave_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "stage" / "pages" / "000001.json"
    write_json(target, {"html": "é" * 10})
    write_json(target, {"html": "second"})
    assert json.loads(target.read_text(encoding="utf-8")) == {"html": "second"}
    assert [p.name for p in target.parent.iterdir()] == ["000001.json"]


def _job(data: Path, run_id: str) -> Job:
    return Job(str(data / "kursk.yaml"), str(data / "c.duckdb"), str(data), run_id)


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_live_run_of_the_topic_stops_another_before_it_removes_anything(tmp_path: Path) -> None:
    first, second = _job(tmp_path, "manual__first"), _job(tmp_path, "manual__second")
    remove_stale_staging(first)
    write_json(first.stage_dir / "entries.json", {"entries": []})
    write_json(first.stage_dir / "pages" / "000001.json", {"html": "a page"})
    with pytest.raises(RunInProgressError) as refused:
        remove_stale_staging(second)
    message = str(refused.value)
    assert "run manual__first is in progress" in message and str(first.stage_dir) in message
    assert sorted(p.name for p in first.stage_dir.rglob("*")) == ["000001.json", "entries.json", "pages", RUN_MARKER]
    assert not second.stage_dir.exists()


def test_the_staging_of_runs_that_are_over_is_removed(tmp_path: Path) -> None:
    failed, silent, crashed_before_markers = (_job(tmp_path, r) for r in ("failed", "silent", "old"))
    remove_stale_staging(failed)
    mark_run_over(failed)  # a step failed for good
    assert [p.name for p in remove_stale_staging(silent)] == ["failed"]
    with pytest.raises(RunInProgressError, match="run silent is in progress"):
        remove_stale_staging(_job(tmp_path, "next"))  # silent is live until it has been quiet long enough
    _age(silent.stage_dir / RUN_MARKER, STALE_AFTER_SECONDS + 60)
    (crashed_before_markers.stage_dir / "pages").mkdir(parents=True)
    _age(crashed_before_markers.stage_dir, STALE_AFTER_SECONDS + 60)
    following = _job(tmp_path, "following")
    assert sorted(p.name for p in remove_stale_staging(following)) == ["old", "silent"]
    assert [p.name for p in following.stage_dir.parent.iterdir()] == ["following"]


def test_a_run_shows_life_while_its_step_runs_and_a_missing_folder_is_not_created(tmp_path: Path) -> None:
    job = _job(tmp_path, "manual__1")
    remove_stale_staging(job)
    marker = job.stage_dir / RUN_MARKER
    _age(marker, STALE_AFTER_SECONDS + 60)
    with run_heartbeat(job, interval=0.05):
        _age(marker, STALE_AFTER_SECONDS + 60)  # a long step: the beat keeps coming
        time.sleep(0.3)
        assert time.time() - marker.stat().st_mtime < 5
    gone = _job(tmp_path, "cleared-by-its-load")
    with run_heartbeat(gone, interval=0.05):
        time.sleep(0.1)
    mark_run_over(gone)
    assert not gone.stage_dir.exists()


def test_a_failed_write_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk: the error goes on, the half-written temporary file does not stay to fill it further."""
    target = tmp_path / "stage" / "entries.json"
    write_json(target, {"entries": ["before"]})

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # as a failed write says it: no file named

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left on device: '.*entries.json.tmp'") as failed:
        write_json(target, {"entries": ["after"] * 1000})
    assert failed.value.errno == errno.ENOSPC
    assert [p.name for p in target.parent.iterdir()] == ["entries.json"]
    assert json.loads(target.read_text(encoding="utf-8")) == {"entries": ["before"]}


def test_a_claim_that_cannot_be_written_leaves_nothing_that_looks_live(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _job(tmp_path, "on-a-full-disk")

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as patched:
        patched.setattr(os, "fsync", disk_full)
        with pytest.raises(OSError, match="No space left"):
            remove_stale_staging(first)
    assert not first.stage_dir.exists()
    write_json(first.stage_dir / "entries.json", {})  # a folder some step made without the claim
    mark_run_over(first)  # its step failed for good
    assert remove_stale_staging(_job(tmp_path, "next")) == [first.stage_dir]
