"""``claimwatch health``: is ingest fresh, and is the scheduler alive?  For an outside monitor.

The watchdog DAG pages a stale topic only while a scheduler runs it; a cron
job, a systemd timer or a container probe runs this instead, so a scheduler
that stopped is noticed too.  Exit status 0 when every topic is fresh (and,
with ``--scheduler``, the scheduler's heartbeat is recent), 1 otherwise, with
one operations alert per stale spell on each topic's ``ops_alerts`` route.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline.settings import Settings
from pipeline.topics import TopicConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SchedulerBeat:
    last_heartbeat: datetime | None
    max_age: timedelta
    judged_at: datetime

    @property
    def stale(self) -> bool:
        return self.last_heartbeat is None or self.judged_at - self.last_heartbeat > self.max_age


def scheduler_heartbeat(settings: Settings) -> datetime | None:
    """The latest heartbeat of a running scheduler job in Airflow's metadata database, or None."""
    import os

    from pipeline.orchestration.runner import airflow_environment

    os.environ.update({k: v for k, v in airflow_environment(settings, os.environ).items() if k not in os.environ})
    from airflow.jobs.job import most_recent_job
    from airflow.utils.session import create_session

    with create_session() as session:
        job = most_recent_job("SchedulerJob", session=session)
        if job is None or job.state != "running" or job.latest_heartbeat is None:
            return None
        beat: datetime = job.latest_heartbeat
    return beat if beat.tzinfo else beat.replace(tzinfo=UTC)


def check(
    topics: Sequence[TopicConfig],
    db: Path,
    settings: Settings,
    now: datetime,
    scheduler: SchedulerBeat | None = None,
) -> int:
    """Judge each topic (and the scheduler), print one line each, page what is stale; the exit status."""
    from pipeline.alerting import operations
    from pipeline.steps.health import check_freshness

    status = 0
    for topic in topics:
        verdict = check_freshness(topic, db, settings.data_dir, now)
        print(f"{topic.name}: {'STALE' if verdict.stale else 'fresh'}: {verdict.detail}")
        status |= int(verdict.stale)
        if scheduler is not None and scheduler.stale and topic.ops_alerts:
            operations.send(
                [operations.scheduler_stale(topic.name, scheduler.last_heartbeat, now)],
                topic.ops_alerts,
                settings.data_dir,
            )
    if scheduler is not None:
        last = scheduler.last_heartbeat.isoformat() if scheduler.last_heartbeat else "never"
        print(f"scheduler: {'STALE' if scheduler.stale else 'alive'}: last heartbeat {last}")
        status |= int(scheduler.stale)
    return status
