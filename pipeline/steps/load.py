"""Task ``load``: store the batch in one transaction, publish the snapshot, clear staging."""

from __future__ import annotations

import dataclasses
import logging
import shutil
from datetime import timedelta

from pipeline.records import (
    ArchivedPage,
    LoadResult,
    RetryPolicy,
)
from pipeline.steps.job import Job
from pipeline.steps.staging import read_batch, read_json, records_of
from pipeline.topics import FetchSpec

log = logging.getLogger(__name__)


def run(job: Job) -> dict[str, int]:
    """Store the batch in one transaction, then clear the staging files."""
    from pipeline.store.batches import load_batch
    from pipeline.store.session import open_store, publish_snapshot

    topic = job.topic()
    batch = read_batch(job.stage_dir / "batch.json")
    near_similarity = job.topic().dedup.near_duplicate_similarity
    fetched = read_json(job.stage_dir / "fetched.json")
    batch = dataclasses.replace(batch, archived=records_of(ArchivedPage, fetched.get("archived", [])))
    with open_store(job.db) as con:
        result: LoadResult = load_batch(
            con, batch, job.run_id, policy=retry_policy(topic.fetch), near_similarity=near_similarity
        )
    publish_snapshot(job.db)
    shutil.rmtree(job.stage_dir, ignore_errors=True)
    log.info("stored %s", result)
    return {
        "articles": result.articles,
        "claims": result.claims,
        "duplicates": result.duplicates,
        "near_duplicates": result.near_duplicates,
        "skipped": result.skipped,
        "retrying": result.retrying,
        "given_up": result.given_up,
    }


def retry_policy(spec: FetchSpec) -> RetryPolicy:
    return RetryPolicy(first_delay=timedelta(minutes=spec.url_retry_minutes), max_attempts=spec.max_url_attempts)
