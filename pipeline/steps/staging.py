"""Staging files between tasks: written atomically and durably, one file per page,
read back one at a time so memory holds one page, not the batch.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

from pipeline.records import (
    Article,
    Batch,
    Claim,
    Failure,
    FeedPoll,
    FetchedPage,
    Skipped,
    from_json,
    to_json,
)
from pipeline.steps.job import Job

T = TypeVar("T")


log = logging.getLogger(__name__)


def write_json(path: Path, data: Any) -> None:
    """Write atomically and durably: a crash leaves the previous file or none, never half of one.

    A write that fails (a full disk, no permission) removes its temporary file
    before the error goes on, so the space it took is given back, and the
    error names the file (a failed write or flush names none by itself).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError) and exc.filename is None and exc.errno is not None:
            raise OSError(exc.errno, exc.strerror, str(tmp)) from exc  # the same errno, so the same OSError subclass
        raise
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    """Make a rename durable (the directory entry is what a crash would lose)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def records_of(cls: type[T], items: Sequence[dict[str, Any]]) -> list[T]:
    return [from_json(cls, item) for item in items]


def save_batch(path: Path, batch: Batch) -> None:
    write_json(
        path,
        {
            "topic": batch.topic,
            "articles": [to_json(a) for a in batch.articles],
            "claims": [to_json(c) for c in batch.claims],
            "skipped": [to_json(s) for s in batch.skipped],
            "polls": [to_json(p) for p in batch.polls],
            "failures": [to_json(f) for f in batch.failures],
        },
    )


def read_batch(path: Path) -> Batch:
    raw = read_json(path)
    return Batch(
        topic=raw["topic"],
        articles=records_of(Article, raw["articles"]),
        claims=records_of(Claim, raw["claims"]),
        skipped=records_of(Skipped, raw["skipped"]),
        polls=records_of(FeedPoll, raw["polls"]),
        failures=records_of(Failure, raw.get("failures", [])),
    )


PAGES_DIR = "pages"


def page_files(stage_dir: Path) -> list[Path]:
    return sorted((stage_dir / PAGES_DIR).glob("*.json"))


def iter_pages(stage_dir: Path) -> Iterator[FetchedPage]:
    """The staged pages, read one at a time."""
    for path in page_files(stage_dir):
        yield from_json(FetchedPage, read_json(path))


# Each run's staging folder holds this marker: its state, and by its modification time the run's
# last sign of life (written when discover claims the topic, touched while each of the run's steps
# runs).  A run is over when it says so (its load cleared the folder, or a step failed for good) or
# has been silent for STALE_AFTER_SECONDS: longer than the longest retry delay of a task, so a
# live run waiting for its retry is never taken for a dead one.
RUN_MARKER = "run.json"
STALE_AFTER_SECONDS = 3600.0
HEARTBEAT_SECONDS = 60.0


class RunInProgressError(RuntimeError):
    """Another run of the topic is live: runs of one topic never overlap (retried: it will end)."""


def remove_stale_staging(
    job: Job,
    *,
    now: Callable[[], float] = time.time,
    stale_after: float = STALE_AFTER_SECONDS,
    owner_pid: int | None = None,
) -> list[Path]:
    """Claim the topic for this run: delete the staging of its runs that are over, and stop
    (``RunInProgressError``) while another one is live, so a run never removes another's files.

    Runs of one DAG do not overlap under a scheduler (``max_active_runs=1``),
    but two ``claimwatch run`` commands, or one beside the scheduler, can.  The
    look and the claim happen under an exclusive lock on the topic's staging
    folder, so of two runs starting at once exactly one goes on.  ``owner_pid``
    is the process that drives the whole run when there is one (``claimwatch
    run``): once it is gone from this host, its run is over at once, so a run
    killed with ``kill -9`` does not hold the topic for an hour.  Nothing of a
    removed run's batch was stored (a part held by the quality gate is recorded
    by ``load``), so its pages are fetched again.
    """
    parent = job.stage_dir.parent
    parent.mkdir(parents=True, exist_ok=True)
    with _topic_lock(parent):
        others = [f for f in sorted(parent.iterdir()) if f.is_dir() and f != job.stage_dir]
        live = [f for f in others if not _is_over(f, now(), stale_after)]
        removed = [f for f in others if f not in live]
        for folder in removed:
            shutil.rmtree(folder, ignore_errors=True)
        if removed:
            log.info("removed the staging of %d earlier run(s) that are over: %s", len(removed), _names(removed))
        if live:
            raise RunInProgressError(_in_progress(parent.name, live[0], now(), stale_after))
        try:
            owner = None if owner_pid is None else {"host": socket.gethostname(), "pid": owner_pid}
            write_json(job.stage_dir / RUN_MARKER, {"run_id": job.run_id, "state": "live", "owner": owner})
        except OSError:  # a full disk: leave no folder that would look like a live run
            shutil.rmtree(job.stage_dir, ignore_errors=True)
            raise
    return removed


def mark_run_over(job: Job) -> None:
    """Say that this run will do no more (a step failed for good): the next run may remove its staging.

    Called while the step's own error propagates, so it never raises: when the
    marker cannot be written (a full disk), the run counts as over once silent.
    """
    if not job.stage_dir.is_dir():
        return
    try:
        write_json(job.stage_dir / RUN_MARKER, {"run_id": job.run_id, "state": "over"})
    except OSError as exc:
        log.warning("could not mark run %s over in its staging: %s", job.run_id, exc)


@contextmanager
def run_heartbeat(job: Job, interval: float = HEARTBEAT_SECONDS) -> Iterator[None]:
    """Touch this run's marker now, every ``interval`` seconds while the block runs, and at its end,
    so a long step never looks like a dead run; a folder that does not exist is not created."""
    stop = threading.Event()

    def beat() -> None:
        while True:
            with suppress(OSError):
                os.utime(job.stage_dir / RUN_MARKER)
            if stop.wait(interval):
                return

    thread = threading.Thread(target=beat, name="staging-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        with suppress(OSError):
            os.utime(job.stage_dir / RUN_MARKER)


@contextmanager
def _topic_lock(parent: Path) -> Iterator[None]:
    """An exclusive lock on the topic's staging folder itself (no lock file left behind)."""
    import fcntl

    fd = os.open(parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _is_over(folder: Path, at: float, stale_after: float) -> bool:
    marker = folder / RUN_MARKER
    try:
        state = read_json(marker)
        if state.get("state") == "over" or _owner_gone(state.get("owner")):
            return True
        last = marker.stat().st_mtime
    except (OSError, ValueError, AttributeError):  # no marker (or a torn one): the folder's own time
        last = folder.stat().st_mtime
    return at - last > stale_after


def _owner_gone(owner: Any) -> bool:
    """Whether the process that drove a run (same host) no longer exists."""
    if (
        not isinstance(owner, dict)
        or owner.get("host") != socket.gethostname()
        or not isinstance(owner.get("pid"), int)
    ):
        return False
    try:
        os.kill(owner["pid"], 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def _in_progress(topic: str, folder: Path, at: float, stale_after: float) -> str:
    try:
        run_id = str(read_json(folder / RUN_MARKER).get("run_id") or folder.name)
        last = (folder / RUN_MARKER).stat().st_mtime
    except (OSError, ValueError, AttributeError):
        run_id, last = folder.name, folder.stat().st_mtime
    return (
        f"topic {topic!r}: run {run_id} is in progress (last sign of life {max(at - last, 0):.0f} s ago, "
        f"staging {folder}); runs of one topic never overlap, so this one stops before it reads anything. "
        f"Run again once that run is over; a run that has been killed counts as over after "
        f"{stale_after / 60:.0f} minutes of silence, or when its folder is removed."
    )


def _names(folders: Sequence[Path]) -> str:
    return ", ".join(p.name for p in folders)
