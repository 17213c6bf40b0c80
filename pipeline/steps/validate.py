"""Task ``validate``: the batch's Great Expectations suites decide what loads and what is held back.

Writes ``valid.json`` (the batch to load; held pages among its skipped, so they
are not fetched again) and, when a critical expectation failed, ``quarantined.json``
(the held articles with their claims and the failed expectations).  The task itself
succeeds: ``load`` stores the good part and the held one, then fails the run naming
the expectations.  Warnings are logged and counted in ``load``'s result.  Every
validation result is rendered as Data Docs beside the database file
(``<db dir>/data_docs/<run>/index.html``, ``pipeline.quality.docs``).
"""

from __future__ import annotations

import logging

from pipeline.steps.job import Job
from pipeline.steps.staging import read_batch, save_batch, write_json

log = logging.getLogger(__name__)

VALID_FILE = "valid.json"
QUARANTINED_FILE = "quarantined.json"


def run(job: Job) -> Job:
    """Validate the staged batch and write its split."""
    from pipeline.quality.docs import write_docs
    from pipeline.quality.gate import Gate
    from pipeline.quality.split import split_batch

    topic = job.topic()
    batch = read_batch(job.stage_dir / "batch.json")
    gate = Gate()
    reports = [gate.validate_articles(batch.articles, batch.claims), gate.validate_claims(batch.claims, topic)]
    split = split_batch(batch, reports)
    try:
        log.info("data docs: %s", write_docs(job.db, job.run_id, reports))
    except Exception:  # the pages explain the verdict; failing to draw them must not change it
        log.exception("data docs of run %s not written", job.run_id)
    for line in split.warnings:
        log.warning("quality warning (rows load): %s", line)
    held_path = job.stage_dir / QUARANTINED_FILE
    if split.held is None:
        held_path.unlink(missing_ok=True)  # a retry after the data was fixed
    else:
        log.error("%s", split.held.summary())
        write_json(held_path, split.held.to_json())
    write_json(job.stage_dir / "warnings.json", split.warnings)
    save_batch(job.stage_dir / VALID_FILE, split.accepted)
    return job
