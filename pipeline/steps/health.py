"""Task ``health`` (the watchdog DAG): page the topic's operations route when no ingest has
succeeded within its ``freshness_hours``.

It reads the analysts' snapshot (published after every load), never the live
database, so it needs no DuckDB slot and cannot block the pipeline; a missing
snapshot means nothing was ever loaded.  ``claimwatch health`` runs the same
check from outside Airflow, for when the scheduler itself is down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pipeline.ingest.health import IngestFreshness, ingest_freshness
from pipeline.steps.job import Job
from pipeline.topics import TopicConfig

log = logging.getLogger(__name__)


def run(job: Job, now: Callable[[], datetime] | None = None) -> dict[str, int]:
    topic = job.topic()
    verdict = check_freshness(topic, Path(job.db), Path(job.data_dir), (now or (lambda: datetime.now(UTC)))())
    return {"stale": int(verdict.stale)}


def check_freshness(topic: TopicConfig, db: Path, data_dir: Path, now: datetime) -> IngestFreshness:
    """Judge the topic's freshness and send one ops alert per stale spell; returns the verdict."""
    from pipeline.alerting import operations

    verdict = ingest_freshness(topic.name, last_good_ingest_of(topic.name, db), now, topic.freshness_hours)
    log.info("topic %s: %s (%s)", topic.name, "stale" if verdict.stale else "fresh", verdict.detail)
    if verdict.stale and topic.ops_alerts:
        operations.send([operations.ingest_stale(verdict)], topic.ops_alerts, data_dir)
    elif verdict.stale:
        log.warning("topic %s is stale but has no ops_alerts route", topic.name)
    return verdict


def last_good_ingest_of(topic: str, db: Path) -> datetime | None:
    """From the snapshot, so a live writer's lock never delays or fails the check."""
    from pipeline.store.db import connect, snapshot_path
    from pipeline.store.polls import last_good_ingest

    snapshot = snapshot_path(db)
    if not snapshot.exists():
        return None
    con = connect(snapshot, read_only=True)
    try:
        return last_good_ingest(con, topic)
    finally:
        con.close()
