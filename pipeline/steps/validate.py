"""Task ``validate``: the batch's Great Expectations suites; a failing batch is kept and fails the run."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from pipeline.steps.job import Job
from pipeline.steps.staging import read_batch

log = logging.getLogger(__name__)


def run(job: Job) -> Job:
    """Check the batch with Great Expectations; a failing batch is quarantined whole."""
    from pipeline.quality import gate

    topic = job.topic()
    batch = read_batch(job.stage_dir / "batch.json")
    reports = [gate.validate_articles(batch.articles), gate.validate_claims(batch.claims, topic)]
    for report in reports:
        if not report.success:
            target = Path(job.data_dir) / "quarantine" / topic.name / f"{job.stage_dir.name}.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(job.stage_dir / "batch.json", target)
            log.error("batch failed %s; kept for inspection at %s", report.suite, target)
            gate.require(report)
    return job
