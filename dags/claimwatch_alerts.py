"""claimwatch_alerts: new claims -> contradictions -> alert outbox -> delivery.

Runs whenever claimwatch_ingest updates the claims asset (and can be triggered
by hand).  It checks every claim not yet checked, so it needs nothing from the
triggering event, and a missed or repeated run loses or duplicates nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import Asset, Param, dag, get_current_context, task

from pipeline.orchestration.edge import (
    ALERTS_DAG_ID,
    CLAIMS_ASSET_NAME,
    default_args,
    plan_jobs,
    run_step,
    step_doc,
)
from pipeline.orchestration.notifiers import RunFailureNotifier
from pipeline.settings import DUCKDB_POOL


@dag(
    dag_id=ALERTS_DAG_ID,
    schedule=[Asset(CLAIMS_ASSET_NAME)],
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=1),
    description="New claims checked against their metrics' state; contradiction alerts queued and delivered",
    default_args=default_args(retries=5, max_delay_minutes=15),
    tags=["claimwatch"],
    on_failure_callback=RunFailureNotifier(),
    params={
        "topic_file": Param(None, type=["null", "string"]),
        "db": Param(None, type=["null", "string"]),
    },
    doc_md=__doc__,
)
def claimwatch_alerts() -> None:
    @task(doc_md=step_doc("plan"))
    def plan() -> list[dict[str, Any]]:
        context = get_current_context()
        return plan_jobs(context["params"], context["run_id"])

    @task(pool=DUCKDB_POOL, doc_md=step_doc("detect"))
    def detect(job: dict[str, Any]) -> dict[str, Any]:
        run_step(job)
        return job

    @task(pool=DUCKDB_POOL, doc_md=step_doc("deliver"))
    def deliver(job: dict[str, Any]) -> dict[str, int]:
        return run_step(job)

    deliver.expand(job=detect.expand(job=plan()))


claimwatch_alerts()
