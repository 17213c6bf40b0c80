"""Settings: every environment variable claimwatch reads for itself, read once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pipeline.orchestration.edge import default_args
from pipeline.settings import Settings, settings_from_env


def test_defaults_put_everything_under_the_data_directory(tmp_path: Path) -> None:
    s = settings_from_env({"CLAIMWATCH_DATA_DIR": str(tmp_path)})
    assert (s.data_dir, s.db_path) == (tmp_path, tmp_path / "claimwatch.duckdb")
    assert (s.fresh_step_process, s.task_retries, s.retry_delay_seconds) == (False, None, 30.0)


def test_task_process_and_retries_come_from_the_environment(tmp_path: Path) -> None:
    s = settings_from_env(
        {
            "CLAIMWATCH_DATA_DIR": str(tmp_path),
            "CLAIMWATCH_STEP_PROCESS": "fresh",
            "CLAIMWATCH_TASK_RETRIES": "1",
            "CLAIMWATCH_RETRY_DELAY_SECONDS": "2",
        }
    )
    assert (s.fresh_step_process, s.task_retries, s.retry_delay_seconds) == (True, 1, 2.0)


def test_a_dag_keeps_its_own_retries_unless_the_settings_override_them(tmp_path: Path) -> None:
    plain = Settings(tmp_path, tmp_path / "c.duckdb", tmp_path)
    assert default_args(retries=5, max_delay_minutes=15, settings=plain)["retries"] == 5
    quick = Settings(tmp_path, tmp_path / "c.duckdb", tmp_path, task_retries=1, retry_delay_seconds=2)
    args = default_args(retries=5, max_delay_minutes=15, settings=quick)
    assert (args["retries"], args["retry_delay"]) == (1, timedelta(seconds=2))
