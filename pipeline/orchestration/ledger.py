"""The run's error ledger: one JSON line per failed task try, so the command line and the
failure notifier can say which task failed and why without parsing task logs.

The ledger lives in the data directory, so a full disk there is also a ledger
that cannot be written: the failed try's error is therefore also kept in
Airflow, as the task instance's XCom ``ERROR_XCOM_KEY``, which is where
``claimwatch run``'s summary finds it then.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.steps.job import Job

log = logging.getLogger(__name__)

ERROR_XCOM_KEY = "claimwatch_error"

# Storage errors as the system or DuckDB words them, and what they mean to whoever reads the summary.
STORAGE_PROBLEMS = (
    ("No space left on device", "disk full"),
    ("Disk quota exceeded", "disk quota exceeded"),
    ("Permission denied", "no permission"),
    ("Read-only file system", "read-only file system"),
)


def describe_error(exc: BaseException) -> str:
    """The error as the summary and the operations alert show it: type and message (for a file
    error that names the file), and for a storage error what it means, e.g. ``(disk full)``."""
    text = f"{type(exc).__name__}: {exc}"
    meaning = next((m for marker, m in STORAGE_PROBLEMS if marker in text), None)
    return f"{text} ({meaning})" if meaning else text


def push_error(ti: Any, exc: BaseException) -> None:
    """Keep the failed try's error with the task instance in Airflow (its XCom), where a full data
    disk cannot lose it; Airflow clears it when the task is tried again.  Never raises."""
    try:
        ti.xcom_push(key=ERROR_XCOM_KEY, value=describe_error(exc))
    except Exception as xcom_exc:
        log.error("could not keep the failure of %s with its task instance: %s", ti.task_id, xcom_exc)


def errors_file(data_dir: str | Path, run_id: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id)
    return Path(data_dir) / "errors" / f"{safe}.jsonl"


def record_error(job: Job, task_id: str, map_index: int, exc: BaseException, *, final: bool = True) -> None:
    """Append a task failure to the run's error ledger (one JSON object per line).

    ``final`` is False for a try Airflow will retry: only final failures make
    an operations alert (a retry that then succeeds pages no one).

    Called while the task's own error propagates, so it never raises: a full
    disk or an unwritable ledger is logged, and the real error stays the one reported.
    """
    try:
        path = errors_file(job.data_dir, job.run_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        line = {
            "task_id": task_id,
            "map_index": map_index,
            "topic_file": job.topic_file,
            "error": describe_error(exc),
            "final": final,
            "at": datetime.now(UTC).isoformat(),
        }
        with path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(line) + "\n")
    except Exception as ledger_exc:
        log.error("could not record the failure of %s in the error ledger: %s", task_id, ledger_exc)


def final_failures(data_dir: str | Path, run_id: str) -> list[dict[str, Any]]:
    """The ledger's last final failure of each task instance of a run, oldest first."""
    path = errors_file(data_dir, run_id)
    if not path.exists():
        return []
    last: dict[tuple[str, int], dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue  # a torn line from a crash mid-write
        if isinstance(item, dict) and item.get("final", True):
            last[(item["task_id"], item["map_index"])] = item
    return sorted(last.values(), key=lambda i: str(i.get("at")))
