"""Run one task body in a fresh Python process, as a worker would.

``claimwatch run`` drives both DAGs from one process with ``dag.test()``,
which would otherwise run every task body in that process too: Airflow, its
in-process execution API, trafilatura, DuckDB, pandas and Great Expectations
would all be resident at once (about 470 MB for 40 large pages).  Under a
scheduler each task instance already has its own process; here each step gets
a freshly started interpreter (not a fork, which would inherit Airflow's
memory) that imports only what its step needs, and exits when it is done.

The protocol is small because task bodies already speak JSON: the request
(step name and job) goes in on stdin, the result or the error comes back in
a file, and the child's log lines are relayed to the task's log.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pipeline.errors import PermanentError
from pipeline.steps import step_module

log = logging.getLogger(__name__)

# Third-party loggers that are too chatty at INFO for a task log.
_QUIET = ("great_expectations", "trafilatura", "htmldate", "urllib3", "httpx", "httpcore")


class StepProcessError(Exception):
    """A step failed in its own process.  Subclassed at run time under the
    child's exception name, so logs and the error ledger read as in-process."""


@dataclass(frozen=True, slots=True)
class StepFailure:
    """What the child reports when its step raised."""

    error_type: str
    message: str
    permanent: bool
    traceback: str

    def exception(self) -> StepProcessError:
        bases: tuple[type, ...] = (StepProcessError, PermanentError) if self.permanent else (StepProcessError,)
        cls = type(self.error_type, bases, {"__module__": __name__})
        error: StepProcessError = cls(self.message)
        error.failure = self  # type: ignore[attr-defined]
        return error


def run_in_fresh_process(name: str, job: Mapping[str, Any], env: Mapping[str, str] | None = None) -> Any:
    """Run ``pipeline.steps.<name>.run(job)`` in a new interpreter and return its result.

    Raises the child's error as a ``StepProcessError`` (``.failure`` holds the
    details; a ``PermanentError`` too when the child's error was one); a child
    that dies without reporting (killed, out of memory) raises with its exit
    status.  If this process is interrupted (task timeout), the child is killed
    rather than left running.
    """
    step_module(name)  # a task id with no step module fails here, not in the child
    with tempfile.TemporaryDirectory(prefix="claimwatch-step-") as tmp:
        result_path = Path(tmp) / "result.json"
        request = json.dumps({"step": name, "job": dict(job), "result": str(result_path)})
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pipeline.orchestration.stepprocess",
                name,
                str(os.getpid()),
            ],  # the name shows in ps
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        relay = threading.Thread(target=_relay, args=(proc.stdout, name), daemon=True)
        relay.start()
        try:
            assert proc.stdin is not None
            proc.stdin.write(request)
            proc.stdin.close()
            code = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            relay.join(timeout=5)
        if not result_path.exists():
            how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
            raise StepProcessError(f"the {name} process {how} without reporting a result")
        outcome = json.loads(result_path.read_text(encoding="utf-8"))
    if outcome["ok"]:
        if outcome.get("job"):
            from pipeline.records import from_json
            from pipeline.steps.job import Job

            return from_json(Job, outcome["value"])
        return outcome["value"]
    raise StepFailure(**outcome["failure"]).exception()


def _relay(stream: IO[str] | None, name: str) -> None:
    """Copy the child's output line by line into this task's log."""
    if stream is None:
        return
    child_log = logging.getLogger(f"{__name__}.{name}")
    for line in stream:
        child_log.info("%s", line.rstrip("\n"))
    stream.close()


def _serve(request: Mapping[str, Any]) -> dict[str, Any]:
    """Child side: run the step and describe its outcome (never raises for the step's own errors)."""
    from pipeline.records import from_json, to_json
    from pipeline.steps.job import Job

    job = from_json(Job, dict(request["job"]))
    try:
        value = step_module(request["step"]).run(job)
    except Exception as exc:
        import traceback

        return {
            "ok": False,
            "failure": {
                "error_type": type(exc).__name__,
                "message": str(exc),
                "permanent": isinstance(exc, PermanentError),
                "traceback": traceback.format_exc(),
            },
        }
    if isinstance(value, Job):
        return {"ok": True, "job": True, "value": to_json(value)}
    return {"ok": True, "value": value}


def _die_with_parent(parent: int) -> None:
    """If the driving process is killed, stop too, as a task process does when its supervisor dies:
    a step left running alone would write to DuckDB or send alerts behind the next run's back."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the line above took effect
        os._exit(1)


def main() -> int:
    if len(sys.argv) > 2:
        _die_with_parent(int(sys.argv[2]))
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    request = json.loads(sys.stdin.read())
    outcome = _serve(request)
    if not outcome["ok"]:
        sys.stderr.write(outcome["failure"]["traceback"])
    target = Path(request["result"])
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(outcome), encoding="utf-8")
    os.replace(tmp, target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
