"""claimwatch_watchdog: page a topic's operations route when its ingest has gone stale.

Every 30 minutes, per topic: when no ``claimwatch_ingest`` run has loaded the
topic within its ``freshness_hours`` (a run that keeps failing, a paused DAG,
a feed outage), one operations alert per stale spell.  It needs a running
scheduler, like any DAG; ``claimwatch health`` is the same check for an outside
monitor (cron, a systemd timer, a container probe), and also checks the
scheduler's heartbeat.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import Param, dag, get_current_context, task

from pipeline.orchestration.edge import WATCHDOG_DAG_ID, default_args, plan_jobs, run_step, step_doc


@dag(
    dag_id=WATCHDOG_DAG_ID,
    schedule=timedelta(minutes=30),
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=20),
    description="Pages the ops route when a topic has had no successful ingest within freshness_hours",
    default_args=default_args(retries=2, max_delay_minutes=5),
    tags=["claimwatch"],
    params={
        "topic_file": Param(None, type=["null", "string"]),
        "db": Param(None, type=["null", "string"]),
    },
    doc_md=__doc__,
)
def claimwatch_watchdog() -> None:
    @task(doc_md=step_doc("plan"))
    def plan() -> list[dict[str, Any]]:
        context = get_current_context()
        return plan_jobs(context["params"], context["run_id"])

    @task(doc_md=step_doc("health"))
    def health(job: dict[str, Any]) -> dict[str, int]:
        return run_step(job)

    health.expand(job=plan())


claimwatch_watchdog()
