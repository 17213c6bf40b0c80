"""claimwatch_ingest: feeds -> pages -> text -> claims -> quality check -> DuckDB -> feed health.

Thin wiring only: each task runs the step module of its own id (``pipeline.steps.<task_id>``).  One mapped task
instance per topic file.  Tasks that open DuckDB run in the one-slot
``duckdb_writer`` pool, because DuckDB admits one writing process at a time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import Asset, Param, dag, get_current_context, task

from pipeline.orchestration.edge import CLAIMS_ASSET_NAME, INGEST_DAG_ID, default_args, plan_jobs, run_step, step_doc
from pipeline.orchestration.notifiers import RunFailureNotifier
from pipeline.settings import DUCKDB_POOL

CLAIMS = Asset(CLAIMS_ASSET_NAME)


@dag(
    dag_id=INGEST_DAG_ID,
    schedule="@hourly",
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    # Fetch stops starting pages after 20 minutes and every task has a 30-minute timeout: a run
    # still going after two hours is stuck, and failing it pages the ops route.
    dagrun_timeout=timedelta(hours=2),
    description="Feeds to pages to text to claims, checked and stored in DuckDB, every hour",
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
    @task(doc_md=step_doc("plan"))
    def plan() -> list[dict[str, Any]]:
        context = get_current_context()
        return plan_jobs(context["params"], context["run_id"])

    @task(pool=DUCKDB_POOL, doc_md=step_doc("discover"))
    def discover(job: dict[str, Any]) -> dict[str, Any]:
        return run_step(job)

    @task(doc_md=step_doc("fetch"))
    def fetch(job: dict[str, Any]) -> dict[str, Any]:
        return run_step(job)

    @task(doc_md=step_doc("extract"))
    def extract(job: dict[str, Any]) -> dict[str, Any]:
        return run_step(job)

    @task(doc_md=step_doc("validate"))
    def validate(job: dict[str, Any]) -> dict[str, Any]:
        return run_step(job)

    @task(pool=DUCKDB_POOL, outlets=[CLAIMS], doc_md=step_doc("load"))
    def load(job: dict[str, Any]) -> dict[str, int]:
        return run_step(job)

    @task(pool=DUCKDB_POOL, doc_md=step_doc("watch"))
    def watch(job: dict[str, Any]) -> dict[str, int]:
        return run_step(job)

    jobs = validate.expand(job=extract.expand(job=fetch.expand(job=discover.expand(job=plan()))))
    load.expand(job=jobs) >> watch.expand(job=jobs)


claimwatch_ingest()
