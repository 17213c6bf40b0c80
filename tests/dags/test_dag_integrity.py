"""DAG integrity: every DAG file imports cleanly, quickly, and is wired as intended."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DAG_FILES = sorted((REPO_ROOT / "dags").glob("*.py"))
DAG_IDS = ["claimwatch_ingest", "claimwatch_alerts", "claimwatch_watchdog"]
HEAVY_MODULES = [
    "duckdb",
    "great_expectations",
    "trafilatura",
    "pandas",
    "feedparser",
    "apprise",
    "httpx",
    "datasketch",
]


@pytest.fixture(scope="module")
def dagbag():  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO_ROOT / "dags"))


def test_no_import_errors(dagbag) -> None:  # type: ignore[no-untyped-def]
    assert dagbag.import_errors == {}
    assert set(dagbag.dags) == set(DAG_IDS)


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_imports_nothing_heavy(dag_file: Path) -> None:
    """Parsing runs every few seconds in the scheduler: heavy imports belong inside tasks."""
    code = (
        "import sys, airflow.sdk; before = set(sys.modules);"
        "import runpy; runpy.run_path(sys.argv[1]);"
        f"heavy = [m for m in {HEAVY_MODULES!r} if m in sys.modules and m not in before]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(dag_file)], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1:] in ([], [""]), f"{dag_file.name} imports {out.stdout.strip()}"


def test_ingest_wiring(dagbag) -> None:  # type: ignore[no-untyped-def]
    dag = dagbag.dags["claimwatch_ingest"]
    order = ["plan", "discover", "fetch", "extract", "validate", "load"]
    for upstream, downstream in zip(order, order[1:], strict=False):
        assert downstream in dag.get_task(upstream).downstream_task_ids
    assert dag.get_task("load").outlets, "load must update the claims asset"
    assert dag.max_active_runs == 1


def test_alerts_dag_is_scheduled_on_the_claims_asset(dagbag) -> None:  # type: ignore[no-untyped-def]
    ingest, alerts = dagbag.dags["claimwatch_ingest"], dagbag.dags["claimwatch_alerts"]
    produced = {a.name for a in ingest.get_task("load").outlets}
    consumed = {a.name for a in alerts.timetable.asset_condition.objects}
    assert produced and produced <= consumed


@pytest.mark.parametrize("dag_id", ["claimwatch_ingest", "claimwatch_alerts"])
def test_duckdb_tasks_use_the_single_slot_pool(dagbag, dag_id: str) -> None:  # type: ignore[no-untyped-def]
    dag = dagbag.dags[dag_id]
    duckdb_tasks = {"discover", "load", "detect", "deliver"} & set(dag.task_ids)
    assert duckdb_tasks
    for task_id in duckdb_tasks:
        assert dag.get_task(task_id).pool == "duckdb_writer"


@pytest.mark.parametrize("dag_id", DAG_IDS)
def test_tasks_retry_with_backoff(dagbag, dag_id: str) -> None:  # type: ignore[no-untyped-def]
    for task in dagbag.dags[dag_id].tasks:
        assert task.retries >= 1
        assert task.retry_exponential_backoff


@pytest.mark.parametrize("dag_id", DAG_IDS)
def test_every_task_id_names_the_step_module_it_runs(dagbag, dag_id: str) -> None:  # type: ignore[no-untyped-def]
    from pipeline.steps import PLAN, step_module

    steps = REPO_ROOT / "pipeline" / "steps"
    for task_id in dagbag.dags[dag_id].task_ids:
        assert (steps / f"{task_id}.py").is_file(), f"task {task_id} has no module pipeline/steps/{task_id}.py"
        if task_id != PLAN:
            assert callable(step_module(task_id).run)


def test_a_task_id_without_a_step_module_is_refused() -> None:
    from pipeline.steps import step_module

    with pytest.raises(ValueError, match="no step module for task 'fetch_pages'"):
        step_module("fetch_pages")
    with pytest.raises(ValueError, match="takes no job"):
        step_module("plan")


@pytest.mark.parametrize("dag_id", DAG_IDS)
def test_every_dag_has_an_owner_a_description_docs_and_a_run_timeout(dagbag, dag_id: str) -> None:  # type: ignore[no-untyped-def]
    dag = dagbag.dags[dag_id]
    assert dag.description and dag.doc_md and dag.dagrun_timeout is not None
    for task in dag.tasks:
        assert task.owner == "claimwatch", task.task_id
        assert task.doc_md and len(task.doc_md.split()) >= 5, f"{dag_id}.{task.task_id} has no documentation"
