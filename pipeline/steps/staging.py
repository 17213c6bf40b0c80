"""Staging files between tasks: written atomically and durably, one file per page,
read back one at a time so memory holds one page, not the batch.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterator, Sequence
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
    """Write atomically and durably: a crash leaves the previous file or none, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
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


def remove_stale_staging(job: Job) -> list[Path]:
    """Delete staging left by earlier runs of this topic that crashed before their load.

    Runs of one DAG never overlap (``max_active_runs=1``), so any other run's
    folder here is left over; nothing of its batch was stored (a held part is
    recorded by ``load``), so its pages are fetched again.
    """
    removed = []
    parent = job.stage_dir.parent
    for folder in parent.iterdir() if parent.is_dir() else ():
        if folder != job.stage_dir and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    if removed:
        log.info("removed stale staging from %d earlier run(s): %s", len(removed), ", ".join(p.name for p in removed))
    return removed
