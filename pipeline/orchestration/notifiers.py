"""Airflow notifiers: how a failed run reaches the topic's operations route.

``RunFailureNotifier`` is the DAGs' ``on_failure_callback``.  Airflow calls a
DAG's failure callback once per failed run, after the failing task used up its
retries: the scheduler has the dag-processor run it, and ``dag.test()`` (so
``claimwatch run``) runs it in process when it marks the run failed.  It reads
the run's error ledger (written by ``edge.run_step``) to name each
failed task, its topic and its error, and sends one operations alert per
failed task instance of each topic, through ``pipeline.alerting.operations``.

Imported by the DAG files at parse time: only ``airflow.sdk`` at module level.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from airflow.sdk import BaseNotifier

UNKNOWN_ERROR = "failed (no error recorded; see the task log)"


class RunFailureNotifier(BaseNotifier):
    """Send an operations alert for each task instance whose failure failed the run."""

    template_fields = ()

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        """Nothing to render.  Skipping it also matters: under ``dag.test()`` the callback's
        ``dag`` is the serialized DAG, which has no Jinja environment, so rendering would fail."""
        if self.template_fields:
            super().render_template_fields(context, jinja_env)

    def notify(self, context: Any) -> None:
        from pipeline.alerting import operations
        from pipeline.alerting.routes import AlertDeliveryError
        from pipeline.settings import settings_from_env
        from pipeline.topics import TopicConfigError, load_topic

        settings = settings_from_env()
        failures = run_failures(context, settings.data_dir, settings.topics_dir)
        errors = []
        for topic_file, items in failures.items():
            try:
                topic = load_topic(topic_file)
            except TopicConfigError as exc:
                self.log.error("no operations alert for %s: %s", topic_file, exc)
                continue
            if not topic.ops_alerts:
                self.log.warning("topic %s failed but has no ops_alerts route: %s", topic.name, items)
                continue
            alerts = [operations.run_failed(topic=topic.name, **item) for item in items]
            try:
                operations.send(alerts, topic.ops_alerts, settings.data_dir)
            except AlertDeliveryError as exc:
                errors.append(str(exc))
        if errors:
            raise AlertDeliveryError("; ".join(errors))


def run_failures(context: Mapping[str, Any], data_dir: Path, topics_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """topic file -> the failed task instances of this run (dag_id, run_id, task_id, map_index, error, at).

    From the error ledger's final failures; when it holds none (a task that
    failed before it knew its topic, e.g. planning), the task in the callback's
    context is reported for the run's topic file, else for every topic file.
    """
    from pipeline.orchestration.ledger import final_failures
    from pipeline.steps.plan import topic_files_in

    dag = context.get("dag")
    dag_id = getattr(dag, "dag_id", None) or str(context.get("dag_id", "?"))
    dag_run = context.get("dag_run")
    run_id = str(context.get("run_id") or getattr(dag_run, "run_id", "?"))
    out: dict[str, list[dict[str, Any]]] = {}
    for item in final_failures(data_dir, run_id):
        out.setdefault(item["topic_file"], []).append(
            {
                "dag_id": dag_id,
                "run_id": run_id,
                "task_id": item["task_id"],
                "map_index": item["map_index"],
                "error": item["error"],
                "at": _parse_time(item.get("at")),
            }
        )
    if out:
        return out
    ti = context.get("ti")
    params = context.get("params") or getattr(dag_run, "conf", None) or {}
    topic_param = params.get("topic_file") if isinstance(params, Mapping) else None
    topic_files = [Path(topic_param)] if topic_param else topic_files_in(topics_dir)
    exception = context.get("exception")
    item = {
        "dag_id": dag_id,
        "run_id": run_id,
        "task_id": getattr(ti, "task_id", None) or "(unknown task)",
        "map_index": -1 if getattr(ti, "map_index", None) is None else ti.map_index,  # type: ignore[union-attr]
        "error": f"{type(exception).__name__}: {exception}" if exception else UNKNOWN_ERROR,
        "at": datetime.now(UTC),
    }
    return {str(Path(f).resolve()): [dict(item)] for f in topic_files}


def _parse_time(value: object) -> datetime:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return datetime.now(UTC)
