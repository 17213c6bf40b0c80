"""Run the DAGs once through Airflow's own ``dag.test()``.

The command line and the scheduler run the same DAG files and task bodies;
this module only prepares an Airflow home (SQLite metadata, migrated on first
use) and reports which task failed and why.  ``dag.test()`` schedules in this
process; each task body runs in a fresh one (``stepprocess``), so this
process never holds every step's libraries at once.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.orchestration.edge import ALERTS_DAG_ID, INGEST_DAG_ID
from pipeline.settings import DUCKDB_POOL, REPO_ROOT, RETRY_DELAY_ENV, STEP_PROCESS_ENV, TASK_RETRIES_ENV, Settings

DAGS_DIR = REPO_ROOT / "dags"
MIGRATED_MARKER = ".claimwatch-airflow-migrated"


@dataclass(frozen=True, slots=True)
class TaskFailure:
    task_id: str
    map_index: int
    error: str


@dataclass(frozen=True, slots=True)
class DagOutcome:
    dag_id: str
    run_id: str
    state: str
    failures: list[TaskFailure] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.state == "success"


def airflow_environment(settings: Settings, env: Mapping[str, str]) -> dict[str, str]:
    """Variables Airflow must see before it is first imported."""
    home = env.get("AIRFLOW_HOME") or str(settings.airflow_home)
    out = {
        "AIRFLOW_HOME": home,
        "CLAIMWATCH_DATA_DIR": str(settings.data_dir),
        "CLAIMWATCH_TOPICS_DIR": str(settings.topics_dir),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    defaults = {
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{Path(home) / 'airflow.db'}",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        # one quick task retry: HTTP fetches already retry with backoff inside the task
        TASK_RETRIES_ENV: "1",
        RETRY_DELAY_ENV: "2",
        # each task body in a fresh process, as under a worker: this process keeps only Airflow
        STEP_PROCESS_ENV: "fresh",
    }
    for key, value in defaults.items():
        out[key] = env.get(key, value)
    return out


def prepare_airflow(settings: Settings) -> None:
    """Point Airflow at our DAGs, migrate its metadata DB once, and create the DuckDB pool."""
    os.environ.update(airflow_environment(settings, os.environ))
    home = Path(os.environ["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    import airflow
    from airflow.models.pool import Pool
    from airflow.utils import db

    marker = home / MIGRATED_MARKER
    if not marker.exists() or marker.read_text().strip() != airflow.__version__:
        print(f"claimwatch: preparing Airflow metadata in {home} (first use, takes a minute)", file=sys.stderr)
        db.initdb()
        marker.write_text(airflow.__version__)
    Pool.create_or_update_pool(DUCKDB_POOL, 1, "serialise DuckDB access", include_deferred=False)


@contextmanager
def _quiet_third_party() -> Iterator[None]:
    noisy = ["great_expectations", "trafilatura", "htmldate", "urllib3", "httpx"]
    levels = {name: logging.getLogger(name).level for name in noisy}
    for name in noisy:
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        yield
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def run_dag(dag_id: str, conf: Mapping[str, Any]) -> DagOutcome:
    """Run one DAG to completion with ``dag.test()`` and collect its failures."""
    from airflow.dag_processing.dagbag import DagBag

    with _logs_to_stderr():
        bag = DagBag(dag_folder=str(Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])))
    if bag.import_errors:
        errors = "; ".join(f"{k}: {v.strip().splitlines()[-1]}" for k, v in bag.import_errors.items())
        raise RuntimeError(f"DAG files failed to import: {errors}")
    dag = bag.dags[dag_id]
    with _quiet_third_party(), _logs_to_stderr():
        run = dag.test(run_conf=dict(conf))
    return _outcome(dag_id, run)


@contextmanager
def _logs_to_stderr() -> Iterator[None]:
    """Task logs are progress, not output: send them to stderr so stdout stays the report."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _outcome(dag_id: str, run: Any) -> DagOutcome:
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    from pipeline.orchestration.ledger import ERROR_XCOM_KEY

    failures: list[TaskFailure] = []
    results: dict[str, Any] = {}
    errors = _error_ledger(run.run_id)
    with create_session() as session:
        xcoms = (
            session.query(XComModel)
            .filter(
                XComModel.dag_id == dag_id,
                XComModel.run_id == run.run_id,
                XComModel.key.in_(["return_value", ERROR_XCOM_KEY]),
            )
            .all()
        )
        kept = {(r.task_id, r.map_index): XComModel.deserialize_value(r) for r in xcoms if r.key == ERROR_XCOM_KEY}
        tis = session.query(TaskInstance).filter(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run.run_id).all()
        for ti in tis:
            if ti.state in ("failed", "upstream_failed"):
                # the ledger, else the error kept in Airflow (the ledger could not be written: a full disk)
                error = errors.get((ti.task_id, ti.map_index)) or kept.get((ti.task_id, ti.map_index))
                error = error or (
                    "an upstream task failed" if ti.state == "upstream_failed" else "failed (see the task log)"
                )
                failures.append(TaskFailure(ti.task_id, ti.map_index, str(error)))
        for row in xcoms:
            if row.key == "return_value":
                results.setdefault(row.task_id, []).append(XComModel.deserialize_value(row))
    return DagOutcome(dag_id, run.run_id, str(run.state), failures, results)


def _error_ledger(run_id: str) -> dict[tuple[str, int], str]:
    """The last recorded error of each failed task instance of a run."""
    from pipeline.orchestration.ledger import errors_file
    from pipeline.settings import settings_from_env

    path = errors_file(settings_from_env().data_dir, run_id)
    if not path.exists():
        return {}
    out: dict[tuple[str, int], str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        out[(item["task_id"], item["map_index"])] = item["error"]
    return out


def run_pipeline(topic_file: Path, db: Path, settings: Settings) -> list[DagOutcome]:
    """Ingest, then check for contradictions and alert: what one scheduled hour does."""
    with _logs_to_stderr():
        prepare_airflow(settings)
    conf = {"topic_file": str(topic_file.resolve()), "db": str(db.resolve())}
    outcomes = [run_dag(INGEST_DAG_ID, conf)]
    if outcomes[0].ok:
        outcomes.append(run_dag(ALERTS_DAG_ID, conf))
    return outcomes


def report_outcomes(outcomes: Sequence[DagOutcome]) -> int:
    """Print each DAG's state on stdout and each failed task on stderr; 1 if any DAG failed."""
    status = 0
    for outcome in outcomes:
        print(f"{outcome.dag_id}: {outcome.state} ({outcome.run_id})")
        for failure in outcome.failures:
            where = failure.task_id + (f"[{failure.map_index}]" if failure.map_index >= 0 else "")
            print(f"claimwatch: task {outcome.dag_id}.{where} failed: {failure.error}", file=sys.stderr)
        if not outcome.ok:
            status = 1
    return status
