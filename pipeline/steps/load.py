"""Task ``load``: store the validated batch in one transaction, publish the snapshot, clear staging.

When ``validate`` held part of the batch back, that part is recorded in
``quarantine_batches`` in the same transaction as the rest, and the task then
fails (a ``QualityError``, no retries) naming the failed expectations, their
counts and the first held pages: the good rows are stored, and the run's
failure pages the topic's ``ops_alerts`` route.  ``claimwatch quarantine``
shows, releases or drops the held part.

The same transaction records the batch's measures (``batch_stats``); a sharp
change against the topic's recent runs (``pipeline.quality.drift``) is a warning
in the result and the log and one ops alert per measure, sent after the commit.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.records import (
    ArchivedPage,
    LoadResult,
    RetryPolicy,
)
from pipeline.steps.job import Job
from pipeline.steps.staging import read_batch, read_json, records_of
from pipeline.steps.validate import QUARANTINED_FILE, VALID_FILE
from pipeline.topics import AlertRoute, FetchSpec

if TYPE_CHECKING:
    from pipeline.quality.drift import Drift

log = logging.getLogger(__name__)


def run(job: Job) -> dict[str, int]:
    """Store the validated batch (and its held part) in one transaction, then clear the staging files."""
    from pipeline.quality.docs import docs_dir
    from pipeline.quality.drift import batch_stats
    from pipeline.quality.gate import QualityError
    from pipeline.quality.split import Held
    from pipeline.store.batches import load_batch
    from pipeline.store.batchstats import record_drift
    from pipeline.store.db import utcnow
    from pipeline.store.quarantine import batch_id_of, record_held
    from pipeline.store.session import open_store, publish_snapshot

    topic = job.topic()
    valid = job.stage_dir / VALID_FILE
    if not valid.exists():
        raise FileNotFoundError(f"{valid}: no validated batch; the validate task must run before load")
    batch = read_batch(valid)
    held_path = job.stage_dir / QUARANTINED_FILE
    held = Held.from_json(read_json(held_path)) if held_path.exists() else None
    warnings = read_json(job.stage_dir / "warnings.json") if (job.stage_dir / "warnings.json").exists() else []
    near_similarity = topic.dedup.near_duplicate_similarity
    fetched = read_json(job.stage_dir / "fetched.json")
    batch = dataclasses.replace(batch, archived=records_of(ArchivedPage, fetched.get("archived", [])))

    drifts: list[Drift] = []

    def record(con: Any) -> None:  # in the batch's own transaction: the held part is never lost
        if held is not None:
            record_held(con, topic.name, job.topic_file, job.run_id, held)
        drifts[:] = record_drift(con, job.run_id, batch_stats(topic.name, batch.articles, batch.claims), utcnow())

    with open_store(job.db) as con:
        result: LoadResult = load_batch(
            con,
            batch,
            job.run_id,
            policy=retry_policy(topic.fetch),
            near_similarity=near_similarity,
            first=record,
        )
    publish_snapshot(job.db)
    shutil.rmtree(job.stage_dir, ignore_errors=True)
    log.info("stored %s", result)
    paged = page_drift(job, drifts, topic.ops_alerts)
    if held is not None:
        batch_id = batch_id_of(topic.name, job.run_id)
        docs = docs_dir(job.db, job.run_id) / "index.html"
        raise QualityError(
            f"{held.summary()}\nstored the other {result.articles} articles ({result.claims} claims); "
            f"the held part is quarantined batch {batch_id}: 'claimwatch quarantine show {batch_id}'"
            + (f"\nData Docs of this validation: {docs}" if docs.exists() else "")
        )
    return {
        "articles": result.articles,
        "claims": result.claims,
        "duplicates": result.duplicates,
        "near_duplicates": result.near_duplicates,
        "skipped": result.skipped,
        "retrying": result.retrying,
        "given_up": result.given_up,
        "quality_warnings": len(warnings),
        "drift_warnings": len(drifts),
        "drift_alerts_sent": paged,
    }


def page_drift(job: Job, drifts: list[Drift], routes: list[AlertRoute]) -> int:
    """Log each drift as a warning and page the ops routes once per drift; a page that fails is logged,
    not raised: the batch is stored and its staging gone, so failing the task would only hide it."""
    from pipeline.alerting import operations
    from pipeline.alerting.routes import AlertDeliveryError

    for d in drifts:
        log.warning("drift warning: %s", d.describe())
    if not drifts or not routes:
        return 0
    try:
        return len(operations.send([operations.drift(d, job.run_id) for d in drifts], routes, Path(job.data_dir)))
    except AlertDeliveryError as exc:
        log.error("drift alerts not all sent: %s", exc)
        return 0


def retry_policy(spec: FetchSpec) -> RetryPolicy:
    return RetryPolicy(first_delay=timedelta(minutes=spec.url_retry_minutes), max_attempts=spec.max_url_attempts)
