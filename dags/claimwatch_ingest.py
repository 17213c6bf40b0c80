"""claimwatch_ingest: feeds -> pages -> text -> claims -> quality check -> DuckDB -> feed health.

Thin wiring only: every task body lives in ``pipeline.tasks``.  One mapped task
instance per topic file.  Tasks that open DuckDB run in the one-slot
``duckdb_writer`` pool, because DuckDB admits one writing process at a time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from airflow.sdk import Asset, Param, dag, get_current_context, task

from pipeline.notifiers import RunFailureNotifier
from pipeline.orchestration import CLAIMS_ASSET_NAME, INGEST_DAG_ID, default_args, job_dict, jobs_for_run, run_step
from pipeline.settings import DUCKDB_POOL

CLAIMS = Asset(CLAIMS_ASSET_NAME)


@dag(
    dag_id=INGEST_DAG_ID,
    schedule="@hourly",
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(retries=3, max_delay_minutes=10),
    tags=["claimwatch"],
    on_failure_callback=RunFailureNotifier(),
    params={
        "topic_file": Param(
            None, type=["null", "string"], description="One topic YAML; default: every file in CLAIMWATCH_TOPICS_DIR"
        ),
        "db": Param(
            None,
            type=["null", "string"],
            description="DuckDB file; default: connection claimwatch_duckdb or CLAIMWATCH_DB",
        ),
    },
    doc_md=__doc__,
)
def claimwatch_ingest() -> None:
    @task
    def plan() -> list[dict[str, Any]]:
        context = get_current_context()
        return jobs_for_run(context["params"], context["run_id"])

    @task(pool=DUCKDB_POOL)
    def discover(job: dict[str, Any]) -> dict[str, Any]:
        from pipeline import tasks

        return job_dict(run_step(tasks.discover, job))

    @task
    def fetch(job: dict[str, Any]) -> dict[str, Any]:
        from pipeline import tasks

        return job_dict(run_step(tasks.fetch_pages, job))

    @task
    def extract(job: dict[str, Any]) -> dict[str, Any]:
        from pipeline import tasks

        return job_dict(run_step(tasks.extract, job))

    @task
    def validate(job: dict[str, Any]) -> dict[str, Any]:
        from pipeline import tasks

        return job_dict(run_step(tasks.validate, job))

    @task(pool=DUCKDB_POOL, outlets=[CLAIMS])
    def load(job: dict[str, Any]) -> dict[str, int]:
        from pipeline import tasks

        return run_step(tasks.load, job)

    @task(pool=DUCKDB_POOL)
    def watch(job: dict[str, Any]) -> dict[str, int]:
        from pipeline import tasks

        return run_step(tasks.watch_feeds, job)

    jobs = validate.expand(job=extract.expand(job=fetch.expand(job=discover.expand(job=plan()))))
    load.expand(job=jobs) >> watch.expand(job=jobs)


claimwatch_ingest()
