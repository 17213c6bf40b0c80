"""Each page's extraction, recorded as it happens, so a page that stops the extract task is never read again.

``extract`` appends a line to ``ledger.jsonl`` in the run's staging folder before it reads a
page (``start``) and one as soon as the page's outcome is known (``done``).  A page started and
never done stopped a try of the task: a crash, the task's timeout, the machine out of memory.
A later try of the same run skips it, and so does the next run: ``discover`` reads the ledgers
earlier runs left in the topic's staging folder (before that staging is removed), keeps those
pages out of the fetch, records them as quarantined with the reason, and copies the records
into its own run's ledger, so they outlive the earlier folder until a load has stored them in
``seen_urls``.  Pages quarantined for their size or time budget are carried forward the same
way, in case the run that found them never reached its load.  The ledger is a staging file:
extract still never opens the database.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pipeline.records import Skipped, from_json, to_json
from pipeline.steps.job import Job

LEDGER = "ledger.jsonl"


def started(stage_dir: Path, url: str) -> None:
    """Before a page is read: if the task dies on it, this is what says so."""
    _append(stage_dir, {"url": url, "event": "start"})


def finished(stage_dir: Path, url: str, skipped: Skipped | None = None) -> None:
    """A page's outcome, once known: read (``None``) or skipped (only quarantines are read back)."""
    record: dict[str, Any] = {"url": url, "event": "done"}
    if skipped is not None and skipped.outcome == "quarantined":
        record["skipped"] = to_json(skipped)
    _append(stage_dir, record)


def carry(stage_dir: Path, skipped: Iterable[Skipped]) -> None:
    """Record pages known from an earlier run's ledger in this run's, so they outlive its folder."""
    for s in skipped:
        _append(stage_dir, {"url": s.url, "event": "done", "skipped": to_json(s)})


def poisoned(stage_dir: Path) -> dict[str, Skipped]:
    """The pages of one run's ledger never to be read again, each with why: quarantined, or started
    and never finished."""
    path = stage_dir / LEDGER
    if not path.is_file():
        return {}
    last: dict[str, dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line the crash itself cut short
        if isinstance(record, dict) and isinstance(record.get("url"), str):
            last[record["url"]] = record
    out: dict[str, Skipped] = {}
    for url, record in last.items():
        if record.get("event") == "start":
            reason = (
                f"extraction never finished: the extract task stopped while reading this page (run {stage_dir.name})"
            )
            out[url] = Skipped(url, "quarantined", reason, "extract")
        elif isinstance(record.get("skipped"), dict):
            try:
                out[url] = from_json(Skipped, record["skipped"])
            except (KeyError, TypeError, ValueError):
                continue
    return out


def earlier_runs(job: Job) -> dict[str, Skipped]:
    """The pages never to be read again that other runs of the job's topic left in their staging."""
    parent = job.stage_dir.parent
    out: dict[str, Skipped] = {}
    for folder in sorted(parent.iterdir()) if parent.is_dir() else ():
        if folder != job.stage_dir and folder.is_dir():
            out.update(poisoned(folder))
    return out


def _append(stage_dir: Path, record: dict[str, Any]) -> None:
    """One line, on disk before the caller goes on (a line cut short by a crash is ended first)."""
    stage_dir.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(stage_dir / LEDGER, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            line = b"\n" + line
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
