"""Task ``watch``: judge every feed's health and page the topic's operations route about broken
or silent ones.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pipeline.steps.job import Job
from pipeline.store.polls import judge_feeds

log = logging.getLogger(__name__)


def run(job: Job, now: Callable[[], datetime] | None = None) -> dict[str, int]:
    """Judge every feed of the topic, store the verdicts in ``feed_state``, and page the topic's
    operations route about feeds that are broken (failing N polls in a row) or silent (far past
    their usual interval between new items).  One alert per feed, condition and day."""
    from pipeline.alerting import operations
    from pipeline.store.polls import set_feed_health
    from pipeline.store.session import open_store

    topic = job.topic()
    at = (now or (lambda: datetime.now(UTC)))()
    with open_store(job.db) as con:
        verdicts = judge_feeds(con, topic, at)
        set_feed_health(con, topic.name, verdicts)
    for v in verdicts:
        log.info("topic %s: feed %s is %s: %s", topic.name, v.feed_url, v.state, v.detail)
    alerts = [operations.feed_condition(topic.name, v, at) for v in verdicts if v.alerting]
    sent = operations.send(alerts, topic.ops_alerts, Path(job.data_dir)) if alerts and topic.ops_alerts else []
    counts = {state: sum(1 for v in verdicts if v.state == state) for state in {v.state for v in verdicts}}
    return {**counts, "ops_alerts_sent": len(sent)}
