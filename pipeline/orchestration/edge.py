"""What the DAG files call: jobs from run parameters, retry defaults, and ``run_step``.

Imported by the DAG files at parse time, so it imports nothing heavy at module
level; Airflow itself is imported inside the functions, which run in tasks.
A task runs the step module named as its task id (``pipeline.steps.<task_id>``),
so the DAG files name no step bodies and a task id cannot drift from the code it runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from pipeline.errors import PermanentError
from pipeline.records import from_json, to_json
from pipeline.settings import DB_CONN_ID, Settings, settings_from_env

INGEST_DAG_ID = "claimwatch_ingest"
ALERTS_DAG_ID = "claimwatch_alerts"
WATCHDOG_DAG_ID = "claimwatch_watchdog"
OWNER = "claimwatch"
CLAIMS_ASSET_NAME = "claimwatch_claims"


def resolve_db(param: str | None, settings: Settings) -> Path:
    """Run parameter, else the Airflow Connection ``claimwatch_duckdb``, else the environment.

    The one rule for where the database is: the tasks and the UI plugin both call it.
    """
    if param:
        return Path(param)
    try:
        from airflow.sdk import Connection

        conn = Connection.get(DB_CONN_ID)
    except Exception:  # no such connection: the environment decides
        return settings.db_path
    return Path(conn.host) if conn.host else settings.db_path


def plan_jobs(params: Mapping[str, Any], run_id: str) -> list[dict[str, Any]]:
    """Plan one job per topic: the given ``topic_file``, else every file in the topics directory."""
    from pipeline.steps import plan

    settings = settings_from_env()
    topic_param = params.get("topic_file")
    topic_files = [Path(topic_param)] if topic_param else plan.topic_files_in(settings.topics_dir)
    db = resolve_db(params.get("db"), settings)
    return [to_json(j) for j in plan.run(topic_files, db, settings.data_dir, run_id)]


def default_args(retries: int, max_delay_minutes: int, settings: Settings | None = None) -> dict[str, Any]:
    """Retry with exponential backoff; ``Settings.task_retries`` and ``retry_delay_seconds`` tune it
    (the command line uses short delays)."""
    settings = settings or settings_from_env()
    return {
        "owner": OWNER,
        "retries": retries if settings.task_retries is None else settings.task_retries,
        "retry_delay": timedelta(seconds=settings.retry_delay_seconds),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=max_delay_minutes),
        "execution_timeout": timedelta(minutes=30),
    }


def step_doc(task_id: str) -> str:
    """The docstring of the step module a task runs, for the task's ``doc_md``: read, not imported,
    so parsing a DAG file stays cheap and the task's documentation cannot drift from its code."""
    import ast

    path = Path(__file__).resolve().parents[1] / "steps" / f"{task_id}.py"
    return ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""


def run_step(job: Mapping[str, Any]) -> Any:
    """Run the step named by the current task's id on a job; a Job result comes back as JSON.

    Bad configuration or data (a ``PermanentError``) fails at once, without
    retries.  Every failure is also appended to the run's error ledger, so
    ``claimwatch run`` can say which task failed and why without parsing logs.
    While the step runs, the run's staging marker is kept fresh (a live run's
    files are never taken for a dead run's), and a final failure marks the run
    over (see ``pipeline.steps.staging.remove_stale_staging``).
    With ``Settings.fresh_step_process`` the body runs in a new interpreter
    (``pipeline.orchestration.stepprocess``), so the process driving the DAG
    never holds the libraries of every step at once.
    """
    from airflow.sdk import get_current_context
    from airflow.sdk.exceptions import AirflowFailException

    from pipeline.orchestration.ledger import push_error, record_error
    from pipeline.orchestration.stepprocess import run_in_fresh_process
    from pipeline.steps import step_module
    from pipeline.steps.job import Job
    from pipeline.steps.staging import mark_run_over, run_heartbeat

    ti = get_current_context()["ti"]
    parsed = from_json(Job, dict(job))
    try:
        with run_heartbeat(parsed):  # the run shows life while any of its steps runs
            if settings_from_env().fresh_step_process:
                result = run_in_fresh_process(ti.task_id, to_json(parsed))
            else:
                result = step_module(ti.task_id).run(parsed)
    except Exception as exc:
        fail_now = isinstance(exc, PermanentError)
        final = fail_now or (ti.try_number or 1) > (ti.max_tries or 0)
        record_error(parsed, ti.task_id, -1 if ti.map_index is None else ti.map_index, exc, final=final)
        push_error(ti, exc)
        if final:
            mark_run_over(parsed)  # its staging may go: the next run of the topic need not wait for it
        if fail_now:
            raise AirflowFailException(str(exc)) from exc
        raise
    return to_json(result) if isinstance(result, Job) else result
