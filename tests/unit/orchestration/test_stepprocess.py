"""Task bodies in a fresh process: results and errors come back as if the body ran here."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.orchestration.stepprocess import StepProcessError, run_in_fresh_process
from pipeline.records import Batch
from pipeline.steps import step_module
from pipeline.steps.job import Job
from pipeline.steps.staging import save_batch, write_json
from tests.unit.factories import make_article, make_claim


def _job(tmp_path: Path, kursk_topic_file: Path, topic_file: Path | None = None) -> Job:
    return Job(str(topic_file or kursk_topic_file), str(tmp_path / "c.duckdb"), str(tmp_path), "manual__1")


def test_a_step_returns_its_job_from_a_fresh_process(tmp_path: Path, kursk_topic_file: Path) -> None:
    job = _job(tmp_path, kursk_topic_file)
    article = make_article()
    save_batch(job.stage_dir / "batch.json", Batch("kursk", [article], [make_claim(article)]))
    result = run_in_fresh_process("validate", vars_of(job))
    assert result == job


def test_a_failed_quality_check_comes_back_by_name_and_as_permanent(tmp_path: Path, kursk_topic_file: Path) -> None:
    job = _job(tmp_path, kursk_topic_file)
    article = make_article()
    bad = replace(make_claim(article), metric="not_in_the_catalogue")
    save_batch(job.stage_dir / "batch.json", Batch("kursk", [article], [bad]))
    write_json(job.stage_dir / "fetched.json", {"archived": []})
    assert run_in_fresh_process("validate", vars_of(job)) == job  # validate splits; load stores and fails
    with pytest.raises(StepProcessError) as caught:
        run_in_fresh_process("load", vars_of(job))
    assert type(caught.value).__name__ == "QualityError"
    assert "not_in_the_catalogue" in str(caught.value)
    failure = caught.value.failure  # type: ignore[attr-defined]
    assert failure.permanent and "Traceback" in failure.traceback


def test_an_ordinary_error_is_not_permanent(tmp_path: Path, kursk_topic_file: Path) -> None:
    job = _job(tmp_path, kursk_topic_file)  # nothing staged: the batch file is missing
    with pytest.raises(StepProcessError) as caught:
        run_in_fresh_process("validate", vars_of(job))
    assert type(caught.value).__name__ == "FileNotFoundError"
    assert not caught.value.failure.permanent  # type: ignore[attr-defined]


def test_only_steps_that_take_a_job_can_run_in_a_fresh_process() -> None:
    assert step_module("extract").__name__ == "pipeline.steps.extract"
    with pytest.raises(ValueError, match="takes no job"):
        run_in_fresh_process("plan", {})
    with pytest.raises(ValueError, match="no step module"):
        run_in_fresh_process("staging", {})


def test_the_driving_process_does_not_load_the_step_libraries() -> None:
    code = (
        "import sys; import pipeline.orchestration.edge, pipeline.orchestration.stepprocess, pipeline.steps; "
        "print(sorted(m for m in ('duckdb', 'trafilatura', 'pandas', 'great_expectations') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ)
    assert out.stdout.strip() == "[]"


def vars_of(job: Job) -> dict[str, str]:
    from pipeline.records import to_json

    return to_json(job)


def _running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie waiting to be reaped."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux only")
def test_a_step_process_dies_with_the_process_that_started_it(tmp_path: Path) -> None:
    """SIGKILL the driving process: its step process must not carry on alone."""
    import signal
    import time

    pid_file = tmp_path / "child.pid"
    child = tmp_path / "child.py"
    child.write_text(
        "import os, sys, time\n"
        "from pipeline.orchestration.stepprocess import _die_with_parent\n"
        "_die_with_parent(int(sys.argv[1]))\n"
        f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        "time.sleep(60)\n"
    )
    parent = tmp_path / "parent.py"
    parent.write_text(
        "import os, subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, {str(child)!r}, str(os.getpid())])\n"
        "time.sleep(60)\n"
    )
    driver = subprocess.Popen([sys.executable, str(parent)], env=os.environ)
    try:
        deadline = time.monotonic() + 60
        while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.1)
        step = int(pid_file.read_text())
        assert _running(step)
        driver.send_signal(signal.SIGKILL)
        driver.wait()
        deadline = time.monotonic() + 10
        while _running(step) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _running(step)
    finally:
        driver.kill()
        driver.wait()
