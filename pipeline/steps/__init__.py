"""One module per DAG task, named as the task id: the I/O edge that binds the pure stages to staging files and DuckDB.

``plan`` -> ``discover`` -> ``fetch`` -> ``extract`` -> ``validate`` -> ``load``
-> ``watch`` (the ingest DAG), then ``detect`` -> ``deliver`` (the alerts
DAG).  Each module's ``run`` takes a ``Job`` and returns the same ``Job`` or a
dict of counts; the data itself travels through files under the job's staging
directory (``staging``), because article HTML is too large for XCom.  Any
step can be re-run on the same job: staging files are rewritten whole, and
the load and the contradiction check key every row by content, so a retry or
a repeated run stores nothing twice.

One bad item (feed, feed entry, page) never fails a run: its error is
recorded against its URL and the rest goes on.  A run fails when nothing of a
topic could be read, or on an error that is not about one item.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

_NOT_STEPS = frozenset({"job", "staging", "pageledger"})  # shared by the steps, run by no task
PLAN = "plan"  # makes the jobs every other step takes; it runs where the DAG runs


def step_module(task_id: str) -> ModuleType:
    """The module a task id runs on a job (``pipeline.steps.<task_id>``, which has ``run(job)``)."""
    names = {m.name for m in pkgutil.iter_modules(__path__)} - _NOT_STEPS - {PLAN}
    if task_id == PLAN:
        raise ValueError(f"task {PLAN!r} takes no job: it makes them (pipeline.orchestration.edge.plan_jobs)")
    if task_id not in names:
        raise ValueError(f"no step module for task {task_id!r} (steps: {', '.join(sorted(names))})")
    module = importlib.import_module(f"{__name__}.{task_id}")
    if not callable(getattr(module, "run", None)):
        raise ValueError(f"step module {module.__name__} has no run()")
    return module
