"""The Airflow-facing side of the task bodies: jobs from run parameters, and
errors Airflow should not retry.

Imported by the DAG files at parse time, so it imports nothing heavy at module
level; Airflow itself is imported inside the functions, which run in tasks.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from pipeline.records import from_json, to_json
from pipeline.settings import DB_CONN_ID, Settings, settings_from_env

R = TypeVar("R")

# Set (by ``claimwatch run``) to run each task body in a fresh process; see pipeline.stepprocess.
STEP_PROCESS_ENV = "CLAIMWATCH_STEP_PROCESS"

INGEST_DAG_ID = "claimwatch_ingest"
ALERTS_DAG_ID = "claimwatch_alerts"
CLAIMS_ASSET_NAME = "claimwatch_claims"


def resolve_db(param: str | None, settings: Settings) -> Path:
    """Run parameter, else the Airflow Connection ``claimwatch_duckdb``, else the environment."""
    if param:
        return Path(param)
    try:
        from airflow.sdk import Connection

        conn = Connection.get(DB_CONN_ID)
    except Exception:  # no such connection: the environment decides
        return settings.db_path
    return Path(conn.host) if conn.host else settings.db_path


def jobs_for_run(params: Mapping[str, Any], run_id: str) -> list[dict[str, Any]]:
    """Plan one job per topic: the given ``topic_file``, else every file in the topics directory."""
    from pipeline import tasks

    settings = settings_from_env()
    topic_param = params.get("topic_file")
    topic_files = [Path(topic_param)] if topic_param else tasks.topic_files_in(settings.topics_dir)
    db = resolve_db(params.get("db"), settings)
    return [to_json(j) for j in tasks.plan(topic_files, db, settings.data_dir, run_id)]


def default_args(retries: int, max_delay_minutes: int) -> dict[str, Any]:
    """Retry with exponential backoff; CLAIMWATCH_TASK_RETRIES and
    CLAIMWATCH_RETRY_DELAY_SECONDS tune it (the command line uses short delays)."""
    return {
        "retries": int(os.environ.get("CLAIMWATCH_TASK_RETRIES", retries)),
        "retry_delay": timedelta(seconds=float(os.environ.get("CLAIMWATCH_RETRY_DELAY_SECONDS", 30))),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=max_delay_minutes),
        "execution_timeout": timedelta(minutes=30),
    }


def run_step(step: Callable[[Any], R], job: Mapping[str, Any]) -> R:
    """Run one task body on a job.

    Bad configuration or data fails at once, without retries.  Every failure is
    also appended to the run's error ledger, so ``claimwatch run`` can say which
    task failed and why without parsing logs.  With ``CLAIMWATCH_STEP_PROCESS=fresh``
    the body runs in a new interpreter (``pipeline.stepprocess``), so the process
    driving the DAG never holds the libraries of every step at once.
    """
    from airflow.sdk import get_current_context
    from airflow.sdk.exceptions import AirflowFailException

    from pipeline.config import TopicConfigError
    from pipeline.quality import QualityError
    from pipeline.stepprocess import StepProcessError, run_in_fresh_process, step_name
    from pipeline.tasks import Job, record_error

    parsed = from_json(Job, dict(job))
    name = step_name(step) if os.environ.get(STEP_PROCESS_ENV) == "fresh" else None
    try:
        if name is not None:
            result: R = run_in_fresh_process(name, to_json(parsed))
            return result
        return step(parsed)
    except Exception as exc:
        ti = get_current_context()["ti"]
        failure = getattr(exc, "failure", None) if isinstance(exc, StepProcessError) else None
        fail_now = isinstance(exc, (TopicConfigError, QualityError)) or (failure is not None and failure.permanent)
        final = fail_now or (ti.try_number or 1) > (ti.max_tries or 0)
        record_error(parsed, ti.task_id, -1 if ti.map_index is None else ti.map_index, exc, final=final)
        if fail_now:
            raise AirflowFailException(str(exc)) from exc
        raise


def job_dict(job: Any) -> dict[str, Any]:
    return to_json(job)
