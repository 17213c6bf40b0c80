"""Task ``detect``: check the claims not yet checked against their metrics' state; record
incidents and queue their alerts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from pipeline.records import (
    SourcedClaim,
)
from pipeline.steps.job import Job
from pipeline.topics import TopicConfig

log = logging.getLogger(__name__)


def run(job: Job) -> dict[str, int]:
    """Check claims not yet checked against their metrics' state; record incidents and queue their alerts."""
    from pipeline.store.session import open_store, publish_snapshot

    topic = job.topic()
    with open_store(job.db) as con:
        result = check_topic(con, topic, job.run_id)
    publish_snapshot(job.db)
    log.info(
        "topic %s: %d claims checked, %d incidents touched, %d new contradictions, %d alerts queued",
        topic.name, result["checked"], result["incidents"], result["contradictions"], result["alerts_queued"],
    )  # fmt: skip
    return result


def check_topic(con: Any, topic: TopicConfig, run_id: str) -> dict[str, int]:
    """The check itself, on an open connection: read pending claims and the state they touch, record the outcome."""
    from pipeline.store.checks import has_histories
    from pipeline.store.claims import pending_claims, topic_claims

    pending = pending_claims(con, topic.name)
    # A database checked before figure histories existed: rebuild them once from what was checked.
    backlog = [] if has_histories(con, topic.name) else topic_claims(con, topic.name)[1]
    return check_claims(con, topic, pending, backlog, run_id)


def check_claims(
    con: Any, topic: TopicConfig, pending: Sequence[SourcedClaim], backlog: Sequence[SourcedClaim], run_id: str
) -> dict[str, int]:
    """Check these claims against the state of their metrics; store the outcome and its alerts in one transaction."""
    from pipeline.detection.engine import check_pending
    from pipeline.store.checks import detection_state, record_check
    from pipeline.store.db import utcnow

    found, alerts = check_pending(
        topic, pending, backlog, lambda metrics: detection_state(con, topic.name, metrics), now=utcnow()
    )
    new_x, new_a = record_check(
        con,
        topic.name,
        [s.claim.claim_id for s in pending],
        found.contradictions,
        alerts,
        run_id,
        figures=list(found.figures.values()),
        incidents=list(found.incidents.values()),
    )
    return {"checked": len(pending), "incidents": len(found.incidents), "contradictions": new_x, "alerts_queued": new_a}
